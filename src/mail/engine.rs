//! The mail engine of one account: keeps its [`MailStore`] in step with the server by deltas and
//! with the offline cache, carries out the user's actions optimistically, and replays the ones
//! made offline, in order, once the server answers again.
//!
//! It starts from the cache alone ([`MailEngine::open`]) so the UI can show mail before any
//! network answer; [`MailEngine::attach`] connects it to a backend when one is signed in.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;

use super::action::Action;
use super::backend::{ListSince, MailBackend, SyncRequest, WindowAt};
use super::error::{sentence, MailError, Retry, WriteOutcome};
use super::local_copy::{LocalCopy, LocalCopyError};
use super::mailbox::Role;
use super::model::{EmailSummary, Message, Snippet};
use super::query::{Filter, MailQuery};
use super::store::{MailStore, PendingState};

/// Rows fetched per window of a list.
pub const PAGE: u64 = 50;
/// Lists kept current by sync (the most recently shown).
const OPEN_LISTS: usize = 4;
/// Bodies are cut here by the server; the reader offers the rest as a download.
pub const MAX_BODY_BYTES: u64 = 2 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq)]
pub enum EngineEvent {
    /// The store changed: re-read what is shown.
    Changed,
    /// The server refused an action, which was undone on screen: tell the user.
    Refused(String),
    /// The server answered (`true`) or could not be reached (`false`).
    Reachable(bool),
    /// The offline copy could not be written; mail still works, but not offline.
    CacheTrouble(String),
}

/// What became of an action.
#[derive(Debug, Clone, PartialEq)]
pub enum ActOutcome {
    Done,
    /// Kept, to be sent when the server is back.
    Queued,
    Refused(MailError),
}

type Listener = Rc<dyn Fn(&EngineEvent)>;

struct Inner {
    account: String,
    store: RefCell<MailStore>,
    backend: RefCell<Option<Rc<dyn MailBackend>>>,
    cache: Option<Rc<dyn LocalCopy>>,
    listeners: RefCell<Vec<(u64, Listener)>>,
    next_listener: Cell<u64>,
    open_lists: RefCell<Vec<MailQuery>>,
    syncing: Cell<bool>,
    sync_again: Cell<bool>,
    flushing: Cell<bool>,
    reachable: Cell<Option<bool>>,
    cache_unreadable: Cell<usize>,
    last_refusal: RefCell<Option<(u64, MailError)>>,
    /// Set by [`MailEngine::wipe`]: an answer still on its way is not written to the device.
    wiped: Cell<bool>,
}

/// Cheap to clone; clones share the account's state.
#[derive(Clone)]
pub struct MailEngine {
    inner: Rc<Inner>,
}

/// Keeps a listener registered while it lives.
pub struct Subscription {
    engine: std::rc::Weak<Inner>,
    id: u64,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(inner) = self.engine.upgrade() {
            inner.listeners.borrow_mut().retain(|(id, _)| *id != self.id);
        }
    }
}

impl MailEngine {
    /// The engine of `account`, filled from `cache` when there is one. Never touches the network.
    pub async fn open(account: &str, cache: Option<Rc<dyn LocalCopy>>) -> MailEngine {
        let (store, unreadable) = match &cache {
            Some(c) => match c.load(account).await {
                Ok((saved, unreadable)) => {
                    let (store, forgotten) = MailStore::restore(saved);
                    if !forgotten.is_empty() {
                        let _ = c.forget(account, forgotten).await;
                    }
                    (store, unreadable)
                }
                Err(_) => (MailStore::new(), 0),
            },
            None => (MailStore::new(), 0),
        };
        // Seeded lists never shown are not kept current: showing one asks the server first.
        let open_lists = store.lists().filter(|l| !l.provisional).map(|l| l.query.clone()).take(OPEN_LISTS).collect();
        MailEngine {
            inner: Rc::new(Inner {
                account: account.to_owned(),
                store: RefCell::new(store),
                backend: RefCell::new(None),
                cache,
                listeners: RefCell::default(),
                next_listener: Cell::new(0),
                open_lists: RefCell::new(open_lists),
                syncing: Cell::new(false),
                sync_again: Cell::new(false),
                flushing: Cell::new(false),
                reachable: Cell::new(None),
                cache_unreadable: Cell::new(unreadable),
                last_refusal: RefCell::new(None),
                wiped: Cell::new(false),
            }),
        }
    }

    pub fn account(&self) -> &str {
        &self.inner.account
    }

    /// Connects the engine to its server. Call [`MailEngine::sync`] next.
    pub fn attach(&self, backend: Rc<dyn MailBackend>) {
        *self.inner.backend.borrow_mut() = Some(backend);
    }

    pub fn is_attached(&self) -> bool {
        self.inner.backend.borrow().is_some()
    }

    /// Whether the last exchange with the server worked (`None` before the first).
    pub fn reachable(&self) -> Option<bool> {
        self.inner.reachable.get()
    }

    /// Records from the cache that could not be read at start (and were left to the next sync).
    pub fn cache_records_skipped(&self) -> usize {
        self.inner.cache_unreadable.get()
    }

    pub fn subscribe(&self, listener: impl Fn(&EngineEvent) + 'static) -> Subscription {
        let id = self.inner.next_listener.get() + 1;
        self.inner.next_listener.set(id);
        self.inner.listeners.borrow_mut().push((id, Rc::new(listener)));
        Subscription { engine: Rc::downgrade(&self.inner), id }
    }

    fn emit(&self, event: EngineEvent) {
        // Listeners may subscribe or read the store: call them with nothing borrowed.
        let listeners: Vec<Listener> = self.inner.listeners.borrow().iter().map(|(_, l)| l.clone()).collect();
        for l in listeners {
            l(&event);
        }
    }

    /// Reads the store (with pending actions applied).
    pub fn read<R>(&self, f: impl FnOnce(&MailStore) -> R) -> R {
        f(&self.inner.store.borrow())
    }

    /// The server connection, for what the engine does not keep (identities, drafts, vacation).
    pub fn backend(&self) -> Option<Rc<dyn MailBackend>> {
        self.inner.backend.borrow().clone()
    }

    fn set_reachable(&self, ok: bool) {
        if self.inner.reachable.replace(Some(ok)) != Some(ok) {
            self.emit(EngineEvent::Reachable(ok));
        }
    }

    /// Notes how a server call went: transient failures mean "unreachable", not a broken app.
    fn observe<T>(&self, result: &Result<T, MailError>) {
        match result {
            Ok(_) => self.set_reachable(true),
            Err(e) if e.is_transient() => self.set_reachable(false),
            Err(_) => {}
        }
    }

    /// Writes what changed to the offline cache.
    async fn persist(&self) {
        let Some(cache) = self.inner.cache.as_ref().filter(|_| !self.inner.wiped.get()) else {
            self.inner.store.borrow_mut().take_changes();
            return;
        };
        let saved = {
            let mut store = self.inner.store.borrow_mut();
            let changes = store.take_changes();
            if changes.is_empty() {
                return;
            }
            cache.save(&self.inner.account, &store, changes)
        };
        if let Err(e) = saved.await {
            let message = match e {
                LocalCopyError::Full => {
                    "the browser's storage is full: recent mail is not kept for offline use".to_owned()
                }
                other => other.to_string(),
            };
            self.emit(EngineEvent::CacheTrouble(message));
        }
    }

    fn changed(&self) {
        self.emit(EngineEvent::Changed);
    }

    /// Brings mailboxes, messages and the open lists up to date with the server by deltas, then
    /// sends queued actions. Calls made while one runs are folded into one more round.
    pub fn sync(&self) -> LocalBoxFuture<'static, Result<(), MailError>> {
        let engine = self.clone();
        async move {
            if engine.inner.syncing.replace(true) {
                engine.inner.sync_again.set(true);
                return Ok(());
            }
            let result = loop {
                engine.inner.sync_again.set(false);
                let result = engine.sync_once().await;
                if result.is_err() || !engine.inner.sync_again.get() {
                    break result;
                }
            };
            engine.inner.syncing.set(false);
            if result.is_ok() {
                engine.flush().await;
            }
            result
        }
        .boxed_local()
    }

    async fn sync_once(&self) -> Result<(), MailError> {
        let backend = self.backend().ok_or(MailError::Unsupported("sync before signing in"))?;
        let (round, request) = {
            let mut store = self.inner.store.borrow_mut();
            let round = store.begin_sync();
            let lists = self
                .inner
                .open_lists
                .borrow()
                .iter()
                .filter_map(|q| {
                    let list = store.list(q)?;
                    Some(ListSince {
                        query: q.clone(),
                        query_state: list.query_state.clone()?,
                        up_to_id: list.head.last().cloned(),
                    })
                })
                .collect();
            // Knowing no message yet, the first screen's messages come with the folders.
            let newest = store.states.email.is_none().then_some(PAGE as u32);
            let request = SyncRequest {
                mailbox_state: store.states.mailbox.clone(),
                email_state: store.states.email.clone(),
                lists,
                newest,
            };
            (round, request)
        };
        let asked: Vec<(MailQuery, String)> =
            request.lists.iter().map(|l| (l.query.clone(), l.query_state.clone())).collect();
        let result = backend.sync(request).await;
        self.observe(&result);
        let result = result?;
        let refetch: Vec<MailQuery> = {
            let mut store = self.inner.store.borrow_mut();
            store.apply_mailboxes(result.mailboxes);
            if let Some(emails) = result.emails {
                store.apply_emails(emails);
            }
            for ((query, since), delta) in asked.iter().zip(result.lists) {
                store.apply_list(query, since, delta);
            }
            let inbox = store.mailbox_with_role(Role::Inbox).map(|m| m.id.clone());
            if let (Some(newest), Some(inbox)) = (result.newest, inbox) {
                store.seed_from_newest(&inbox, newest);
            }
            // Open lists without a version are fetched whole: never loaded, reset by the server
            // (no version any more), or dropped with every list by a message resync.
            let open = self.inner.open_lists.borrow();
            open.iter().filter(|q| store.list(q).is_none_or(|l| l.query_state.is_none())).cloned().collect()
        };
        for query in refetch {
            let rows = self.read(|s| s.list(&query).map_or(0, |l| l.head.len() as u64)).max(PAGE);
            self.refetch_window(&*backend, &query, rows).await?;
        }
        self.fill_missing_summaries(&*backend).await?;
        self.inner.store.borrow_mut().finish_sync(round);
        self.persist().await;
        self.changed();
        Ok(())
    }

    /// Fetches a list's first `rows` again, as ids, and only the summaries not already known:
    /// with a server that cannot say how a list changed (Cyrus), every sync refetches the open
    /// lists, and their messages are almost all known (a message's summary never changes but
    /// for its keywords and folders, which the sync's own `Email/changes` brought).
    async fn refetch_window(&self, backend: &dyn MailBackend, query: &MailQuery, rows: u64) -> Result<(), MailError> {
        if self.read(|s| s.states.email.is_none()) {
            // After a resync nothing is known, and the summaries bring the message state.
            return self.fetch_window(backend, query, 0, rows).await;
        }
        for _ in 0..WINDOW_ATTEMPTS {
            let asked_at = self.read(|s| s.list_revision(query));
            let result = backend.window_ids(query, WindowAt::Position(0), rows.min(u32::MAX as u64) as u32).await;
            self.observe(&result);
            let window = result?;
            let missing: Vec<String> =
                self.read(|s| window.ids.iter().filter(|id| !s.has_email(id)).cloned().collect());
            if self.inner.store.borrow_mut().apply_window_asked_at(query, window, asked_at) {
                return self.fetch_summaries(backend, missing).await;
            }
        }
        Err(list_kept_changing())
    }

    /// Fetches and stores the summaries of `ids` (the JMAP client splits the `Email/get` by the
    /// server's `maxObjectsInGet`).
    async fn fetch_summaries(&self, backend: &dyn MailBackend, ids: Vec<String>) -> Result<(), MailError> {
        if ids.is_empty() {
            return Ok(());
        }
        let result = backend.summaries(ids).await;
        self.observe(&result);
        let mut store = self.inner.store.borrow_mut();
        for s in result? {
            store.put_email(s);
        }
        Ok(())
    }

    /// Fetches the summaries of list rows that arrived as ids only (moved in from elsewhere).
    async fn fill_missing_summaries(&self, backend: &dyn MailBackend) -> Result<(), MailError> {
        let missing: Vec<String> = self.read(|store| {
            let open = self.inner.open_lists.borrow();
            let mut ids: Vec<String> = open
                .iter()
                .filter_map(|q| store.list(q))
                .flat_map(|l| l.head.iter().take(CACHED_WINDOW))
                .filter(|id| !store.has_email(id))
                .cloned()
                .collect();
            ids.sort();
            ids.dedup();
            ids
        });
        self.fetch_summaries(backend, missing).await
    }

    /// Fetches rows `position..position + limit` of `query`. An answer that the list has moved
    /// past while it was on its way (a sync, or another window, brought another version) is
    /// dropped and the window asked again, so an older answer never replaces a newer one.
    async fn fetch_window(
        &self,
        backend: &dyn MailBackend,
        query: &MailQuery,
        position: u64,
        limit: u64,
    ) -> Result<(), MailError> {
        for _ in 0..WINDOW_ATTEMPTS {
            let asked_at = self.read(|s| s.list_revision(query));
            let result = backend.window(query, WindowAt::Position(position), limit.min(u32::MAX as u64) as u32).await;
            self.observe(&result);
            if self.inner.store.borrow_mut().apply_window_asked_at(query, result?, asked_at) {
                return Ok(());
            }
        }
        Err(list_kept_changing())
    }

    /// Makes rows `start..end` of `query` available, from the store when it has them, else by
    /// fetching the window around them. The list stays current through later syncs.
    pub async fn show(&self, query: &MailQuery, start: u64, end: u64) -> Result<(), MailError> {
        {
            let mut open = self.inner.open_lists.borrow_mut();
            open.retain(|q| q != query);
            open.insert(0, query.clone());
            open.truncate(OPEN_LISTS);
        }
        if self.read(|s| s.has_rows(query, start, end)) {
            return Ok(());
        }
        let backend = self.backend().ok_or(MailError::Unsupported("loading mail before signing in"))?;
        let first = start / PAGE * PAGE;
        let last = end.div_ceil(PAGE) * PAGE;
        if self.read(|s| s.list(query).is_some_and(|l| l.provisional)) {
            // Seeded rows are on screen already, their messages known: the list's ids suffice.
            self.refetch_window(&*backend, query, last.max(PAGE)).await?;
        } else {
            self.fetch_window(&*backend, query, first, (last - first).max(PAGE)).await?;
        }
        self.persist().await;
        self.changed();
        Ok(())
    }

    /// A whole message, from the cache or the server (then cached).
    pub async fn message(&self, id: &str) -> Result<Message, MailError> {
        if let Some(m) = self.read(|s| s.body(id)) {
            return Ok(m);
        }
        let backend = self.backend().ok_or(MailError::Unsupported("opening mail that was not kept offline"))?;
        let result = backend.message(id, MAX_BODY_BYTES).await;
        self.observe(&result);
        let message = result?;
        self.inner.store.borrow_mut().put_body(message);
        self.persist().await;
        self.changed();
        self.read(|s| s.body(id)).ok_or_else(|| MailError::NotFound(id.to_owned()))
    }

    /// The messages of a conversation, oldest first; their summaries join the store.
    pub async fn thread(&self, thread_id: &str) -> Result<Vec<EmailSummary>, MailError> {
        let backend = self.backend().ok_or(MailError::Unsupported("opening conversations before signing in"))?;
        let result = backend.thread(thread_id).await;
        self.observe(&result);
        let summaries = result?;
        {
            let mut store = self.inner.store.borrow_mut();
            for s in &summaries {
                store.put_email(s.clone());
            }
        }
        // Pending actions (a move just made) show on top of what the server said.
        Ok(summaries.iter().filter_map(|s| self.read(|st| st.email(&s.id))).collect())
    }

    /// Search hits with the matching words marked, for the rows of a search.
    pub async fn snippets(&self, filter: &Filter, ids: &[String]) -> Result<Vec<Snippet>, MailError> {
        let backend = self.backend().ok_or(MailError::Unsupported("searching before signing in"))?;
        let result = backend.snippets(filter, ids).await;
        self.observe(&result);
        result
    }

    /// "Delete": to Trash, or for good when already there (or when there is no Trash).
    pub fn delete_action(&self, ids: Vec<String>, from: Option<String>) -> Action {
        let trash = self.read(|s| s.mailbox_with_role(Role::Trash).map(|m| m.id.clone()));
        match trash {
            Some(trash) if from.as_deref() != Some(trash.as_str()) => Action::Move { ids, from, to: trash },
            _ => Action::Destroy { ids },
        }
    }

    /// A new folder: shown at once under a local id usable by later actions.
    pub async fn create_mailbox(&self, name: &str, parent_id: Option<String>) -> (String, ActOutcome) {
        let local_id = self.inner.store.borrow_mut().new_local_mailbox_id();
        let outcome =
            self.act(Action::CreateMailbox { local_id: local_id.clone(), name: name.to_owned(), parent_id }).await;
        (local_id, outcome)
    }

    /// Applies `action` on screen at once, keeps it in the cache, and sends it (after any
    /// earlier queued ones). A refusal undoes it on screen and is reported.
    pub async fn act(&self, action: Action) -> ActOutcome {
        let seq = self.inner.store.borrow_mut().push_action(action);
        self.changed();
        // Kept before it is sent: a reload or a crash now does not lose it.
        self.persist().await;
        self.flush().await;
        self.outcome(seq)
    }

    fn outcome(&self, seq: u64) -> ActOutcome {
        let pending = self.read(|s| s.pending().iter().find(|p| p.seq == seq).map(|p| p.state));
        match pending {
            Some(PendingState::Queued) => ActOutcome::Queued,
            Some(PendingState::Done { .. }) => ActOutcome::Done,
            None => match self.inner.last_refusal.borrow().as_ref() {
                Some((s, e)) if *s == seq => ActOutcome::Refused(e.clone()),
                _ => ActOutcome::Done,
            },
        }
    }

    /// Sends queued actions in order; stops at the first that cannot reach the server (the rest
    /// wait behind it, so order is kept).
    pub fn flush(&self) -> LocalBoxFuture<'static, ()> {
        let engine = self.clone();
        async move {
            if engine.inner.flushing.replace(true) {
                return;
            }
            let mut done_any = false;
            while let Some(backend) = engine.backend() {
                let next = engine.read(|s| s.queued().next().cloned());
                let Some(pending) = next else { break };
                let resolved = engine.read(|s| pending.action.resolved(|id| Some(s.server_id(id).to_owned())));
                if let (Action::CreateMailbox { name, parent_id, .. }, true) = (&resolved, pending.attempts > 0) {
                    // An earlier attempt may have created it before the answer was lost.
                    let existing = engine.read(|s| {
                        s.mailbox_list()
                            .into_iter()
                            .find(|m| m.name == *name && m.parent_id == *parent_id)
                            .map(|m| m.id.clone())
                    });
                    if let Some(id) = existing {
                        engine.inner.store.borrow_mut().action_done(pending.seq, Some(id));
                        done_any = true;
                        continue;
                    }
                }
                engine.inner.store.borrow_mut().mark_attempt(pending.seq);
                engine.persist().await;
                let result = backend.perform(&resolved).await;
                engine.observe(&result);
                match result {
                    Ok(done) => {
                        engine.inner.store.borrow_mut().action_done(pending.seq, done.created_mailbox_id);
                        done_any = true;
                    }
                    Err(e) if e.is_transient() => break,
                    Err(e) => {
                        engine.inner.store.borrow_mut().drop_action(pending.seq);
                        *engine.inner.last_refusal.borrow_mut() = Some((pending.seq, e.clone()));
                        engine.emit(EngineEvent::Refused(sentence(&e.to_string())));
                        done_any = true;
                    }
                }
                engine.persist().await;
                engine.changed();
            }
            engine.inner.flushing.set(false);
            if done_any {
                // Bring the server's own copy of what was done (and settle the actions).
                let _ = engine.sync().await;
            }
        }
        .boxed_local()
    }

    /// Forgets this account on this device: its cached mail and pending actions.
    pub async fn wipe(&self) -> Result<(), LocalCopyError> {
        self.inner.wiped.set(true);
        *self.inner.backend.borrow_mut() = None;
        *self.inner.store.borrow_mut() = MailStore::new();
        self.changed();
        match &self.inner.cache {
            Some(cache) => cache.wipe(&self.inner.account).await,
            None => Ok(()),
        }
    }
}

/// How many rows from the top of each open list must have their summaries at hand.
const CACHED_WINDOW: usize = 200;

/// How often a window is asked for while the list keeps changing under it.
const WINDOW_ATTEMPTS: usize = 3;

fn list_kept_changing() -> MailError {
    MailError::Server {
        reason: "the list kept changing while it loaded".into(),
        retry: Retry::AfterRereading,
        outcome: WriteOutcome::NotDone,
        retry_after_secs: None,
    }
}

/// The engine alone, natively: a scripted server behind [`MailBackend`] and a local copy in
/// memory behind [`LocalCopy`].
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use std::cell::{Cell, RefCell};
    use std::collections::VecDeque;
    use std::future::poll_fn;
    use std::rc::Rc;
    use std::task::{Poll, Waker};

    use futures_executor::block_on;
    use futures_util::future::join;
    use futures_util::FutureExt;

    use super::*;
    use crate::mail::backend::ListDelta;
    use crate::mail::backend::{ActionDone, BackendFuture, Delta, Found, SendMailboxes, Sent, SyncResult, Window};
    use crate::mail::local_copy::LocalCopyFuture;
    use crate::mail::model::{Draft, Identity, Vacation};
    use crate::mail::store::{Changes, Saved};
    use crate::mail::{Action, Mailbox};

    /// A server that is reachable or not, and that accepts or refuses actions. Its list windows
    /// and list changes are scripted; the next window asked for can be held back until the test
    /// lets it go, to answer late.
    #[derive(Default)]
    struct ScriptedServer {
        unreachable: Cell<bool>,
        refuses: Cell<bool>,
        performed: RefCell<Vec<Action>>,
        windows: RefCell<VecDeque<Window>>,
        windows_asked: Cell<usize>,
        hold_next_window: Cell<bool>,
        held: Rc<Held>,
        list_changes: RefCell<Vec<ListDelta>>,
    }

    /// A late answer's gate.
    #[derive(Default)]
    struct Held {
        released: Cell<bool>,
        waker: RefCell<Option<Waker>>,
    }

    impl Held {
        fn release(&self) {
            self.released.set(true);
            if let Some(waker) = self.waker.borrow_mut().take() {
                waker.wake();
            }
        }

        async fn wait(&self) {
            poll_fn(|cx| {
                if self.released.get() {
                    Poll::Ready(())
                } else {
                    *self.waker.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                }
            })
            .await
        }
    }

    fn inbox() -> Mailbox {
        serde_json::from_value(serde_json::json!({ "id": "in", "name": "Inbox", "role": "inbox" })).expect("a mailbox")
    }

    impl ScriptedServer {
        fn answer<T>(&self, value: T) -> Result<T, MailError> {
            if self.unreachable.get() {
                Err(MailError::Unreachable("Failed to fetch".into()))
            } else {
                Ok(value)
            }
        }
    }

    fn not_scripted<'a, T: 'a>() -> BackendFuture<'a, T> {
        async { Err(MailError::Unsupported("this call in the scripted server")) }.boxed_local()
    }

    impl MailBackend for ScriptedServer {
        fn sync(&self, _: SyncRequest) -> BackendFuture<'_, SyncResult> {
            let result = SyncResult {
                mailboxes: Delta::Reset { all: vec![inbox()], new_state: Some("m1".into()) },
                emails: None,
                lists: self.list_changes.take(),
                newest: None,
            };
            let answer = self.answer(result);
            async move { answer }.boxed_local()
        }
        fn window<'a>(&'a self, _: &'a MailQuery, _: WindowAt, _: u32) -> BackendFuture<'a, Window> {
            self.windows_asked.set(self.windows_asked.get() + 1);
            let held = self.hold_next_window.replace(false).then(|| self.held.clone());
            let window = self.windows.borrow_mut().pop_front();
            async move {
                if let Some(held) = held {
                    held.wait().await;
                }
                window.ok_or(MailError::Unsupported("more windows than scripted"))
            }
            .boxed_local()
        }
        fn summaries(&self, ids: Vec<String>) -> BackendFuture<'_, Vec<EmailSummary>> {
            let known = ids.into_iter().map(|id| EmailSummary { id, ..Default::default() }).collect();
            async move { Ok(known) }.boxed_local()
        }
        fn message<'a>(&'a self, _: &'a str, _: u64) -> BackendFuture<'a, Message> {
            not_scripted()
        }
        fn thread<'a>(&'a self, _: &'a str) -> BackendFuture<'a, Vec<EmailSummary>> {
            not_scripted()
        }
        fn perform<'a>(&'a self, action: &'a Action) -> BackendFuture<'a, ActionDone> {
            async move {
                self.answer(())?;
                if self.refuses.get() {
                    return Err(MailError::Server {
                        reason: "no such keyword".into(),
                        retry: Retry::Never,
                        outcome: WriteOutcome::NotDone,
                        retry_after_secs: None,
                    });
                }
                self.performed.borrow_mut().push(action.clone());
                Ok(ActionDone::default())
            }
            .boxed_local()
        }
        fn snippets<'a>(&'a self, _: &'a Filter, _: &'a [String]) -> BackendFuture<'a, Vec<Snippet>> {
            not_scripted()
        }
        fn identities(&self) -> BackendFuture<'_, Vec<Identity>> {
            not_scripted()
        }
        fn save_draft<'a>(&'a self, _: &'a Draft, _: &'a str, _: Option<&'a str>) -> BackendFuture<'a, String> {
            not_scripted()
        }
        fn send<'a>(
            &'a self,
            _: &'a Draft,
            _: &'a SendMailboxes,
            _: Option<&'a str>,
            _: Option<f64>,
        ) -> BackendFuture<'a, Sent> {
            not_scripted()
        }
        fn max_hold_secs(&self) -> u64 {
            0
        }
        fn cancel_send<'a>(&'a self, _: &'a str, _: &'a str, _: &'a SendMailboxes) -> BackendFuture<'a, ()> {
            not_scripted()
        }
        fn find_by_message_id<'a>(&'a self, _: &'a str) -> BackendFuture<'a, Option<Found>> {
            not_scripted()
        }
        fn vacation(&self) -> BackendFuture<'_, Vacation> {
            not_scripted()
        }
        fn set_vacation<'a>(&'a self, _: &'a Vacation) -> BackendFuture<'a, ()> {
            not_scripted()
        }
    }

    /// A local copy in memory that counts its writes, or one whose storage is full.
    #[derive(Default)]
    struct MemoryCopy {
        full: bool,
        writes: Cell<usize>,
        pending_kept: Cell<bool>,
        wiped: Cell<bool>,
        writes_after_wipe: Cell<usize>,
    }

    impl LocalCopy for MemoryCopy {
        fn load<'a>(&'a self, _: &'a str) -> LocalCopyFuture<'a, (Saved, usize)> {
            async { Ok((Saved::default(), 0)) }.boxed_local()
        }
        fn save<'a>(&'a self, _: &'a str, store: &MailStore, changes: Changes) -> LocalCopyFuture<'a, ()> {
            let pending = changes.pending.then(|| !store.pending().is_empty());
            async move {
                if self.full {
                    return Err(LocalCopyError::Full);
                }
                self.writes.set(self.writes.get() + 1);
                if self.wiped.get() {
                    self.writes_after_wipe.set(self.writes_after_wipe.get() + 1);
                }
                if let Some(kept) = pending {
                    self.pending_kept.set(kept);
                }
                Ok(())
            }
            .boxed_local()
        }
        fn forget<'a>(&'a self, _: &'a str, _: Vec<String>) -> LocalCopyFuture<'a, ()> {
            async { Ok(()) }.boxed_local()
        }
        fn wipe<'a>(&'a self, _: &'a str) -> LocalCopyFuture<'a, ()> {
            self.wiped.set(true);
            async { Ok(()) }.boxed_local()
        }
    }

    fn flag(id: &str) -> Action {
        Action::SetKeyword { ids: vec![id.into()], keyword: "$flagged".into(), on: true }
    }

    fn engine_with(
        copy: Rc<MemoryCopy>,
        server: Rc<ScriptedServer>,
    ) -> (MailEngine, Rc<RefCell<Vec<EngineEvent>>>, Subscription) {
        let engine = block_on(MailEngine::open("acc", Some(copy)));
        engine.attach(server);
        let events = Rc::new(RefCell::new(Vec::new()));
        let seen = events.clone();
        let subscription = engine.subscribe(move |e| seen.borrow_mut().push(e.clone()));
        (engine, events, subscription)
    }

    #[test]
    fn an_action_is_kept_through_an_outage_and_sent_once_when_the_server_is_back() {
        let (copy, server) = (Rc::new(MemoryCopy::default()), Rc::new(ScriptedServer::default()));
        let (engine, events, _subscription) = engine_with(copy.clone(), server.clone());
        server.unreachable.set(true);
        assert_eq!(block_on(engine.act(flag("m1"))), ActOutcome::Queued);
        assert!(server.performed.borrow().is_empty());
        assert!(copy.pending_kept.get(), "the waiting action was written to the local copy before it was sent");
        assert_eq!(engine.reachable(), Some(false));
        assert!(events.borrow().contains(&EngineEvent::Reachable(false)));

        server.unreachable.set(false);
        block_on(engine.flush());
        block_on(engine.flush());
        assert_eq!(*server.performed.borrow(), [flag("m1")], "sent once, however often the queue is flushed");
        assert!(engine.read(|s| s.pending().is_empty()));
        assert!(!copy.pending_kept.get(), "and no longer kept as waiting");
        assert_eq!(engine.reachable(), Some(true));
    }

    #[test]
    fn a_refused_action_is_dropped_and_reported() {
        let (copy, server) = (Rc::new(MemoryCopy::default()), Rc::new(ScriptedServer::default()));
        let (engine, events, _subscription) = engine_with(copy, server.clone());
        server.refuses.set(true);
        let outcome = block_on(engine.act(flag("m1")));
        assert!(matches!(outcome, ActOutcome::Refused(ref e) if e.to_string() == "no such keyword"), "{outcome:?}");
        assert!(engine.read(|s| s.pending().is_empty()), "undone on screen");
        assert!(
            events.borrow().iter().any(|e| matches!(e, EngineEvent::Refused(text) if text == "No such keyword.")),
            "{:?}",
            events.borrow()
        );
    }

    #[test]
    fn a_full_local_copy_is_reported_and_mail_still_goes() {
        let (copy, server) =
            (Rc::new(MemoryCopy { full: true, ..Default::default() }), Rc::new(ScriptedServer::default()));
        let (engine, events, _subscription) = engine_with(copy, server.clone());
        assert_eq!(block_on(engine.act(flag("m1"))), ActOutcome::Done);
        assert_eq!(server.performed.borrow().len(), 1);
        assert!(
            events
                .borrow()
                .iter()
                .any(|e| matches!(e, EngineEvent::CacheTrouble(text) if text.contains("storage is full"))),
            "{:?}",
            events.borrow()
        );
    }

    fn window_of(position: u64, ids: &[&str], query_state: &str) -> Window {
        Window {
            position,
            ids: ids.iter().map(|id| id.to_string()).collect(),
            total: Some(2000),
            query_state: Some(query_state.into()),
            summaries: ids.iter().map(|id| EmailSummary { id: id.to_string(), ..Default::default() }).collect(),
            email_state: Some("e1".into()),
        }
    }

    #[test]
    fn a_window_answered_after_the_list_moved_on_is_asked_again_not_shown() {
        let (copy, server) = (Rc::new(MemoryCopy::default()), Rc::new(ScriptedServer::default()));
        let (engine, _events, _subscription) = engine_with(copy, server.clone());
        let inbox = MailQuery::mailbox("in");
        server.windows.borrow_mut().push_back(window_of(0, &["a", "b"], "q1"));
        block_on(engine.show(&inbox, 0, 2)).expect("the first rows");

        // Far down the list, a window of version q1 is on its way, slowly; meanwhile a sync
        // learns that n arrived on top (q2), and every row below moved down by one.
        server.hold_next_window.set(true);
        server.windows.borrow_mut().push_back(window_of(1000, &["stale1000"], "q1"));
        server.windows.borrow_mut().push_back(window_of(1000, &["fresh1000"], "q2"));
        server.list_changes.borrow_mut().push(ListDelta::Changes {
            removed: vec![],
            added: vec![(0, "n".into())],
            total: Some(2001),
            new_state: "q2".into(),
        });
        let (shown, synced) = block_on(join(engine.show(&inbox, 1000, 1001), async {
            let synced = engine.sync().await;
            server.held.release();
            synced
        }));
        synced.expect("the sync");
        shown.expect("the far rows");

        assert_eq!(server.windows_asked.get(), 3, "the late window was asked for again");
        let (head, state, far) = engine.read(|s| {
            let list = s.list(&inbox).expect("the inbox list");
            (list.head.clone(), list.query_state.clone(), list.pages.get(&1000).cloned())
        });
        assert_eq!(head, ["n", "a", "b"]);
        assert_eq!(state.as_deref(), Some("q2"), "the list stays at the newer version");
        assert_eq!(far, Some(vec!["fresh1000".to_string()]), "the far rows are the newer version's");
    }

    #[test]
    fn a_window_answered_after_sign_out_is_not_kept_on_the_device() {
        let (copy, server) = (Rc::new(MemoryCopy::default()), Rc::new(ScriptedServer::default()));
        let (engine, _events, _subscription) = engine_with(copy.clone(), server.clone());
        let inbox = MailQuery::mailbox("in");
        server.windows.borrow_mut().push_back(window_of(0, &["a", "b"], "q1"));
        block_on(engine.show(&inbox, 0, 2)).expect("the first rows");
        // Rows far down are on their way when the user signs out.
        server.hold_next_window.set(true);
        server.windows.borrow_mut().push_back(window_of(1000, &["late"], "q1"));
        let (_, wiped) = block_on(join(engine.show(&inbox, 1000, 1001), async {
            let wiped = engine.wipe().await;
            server.held.release();
            wiped
        }));
        wiped.expect("the wipe");
        assert!(copy.wiped.get());
        assert_eq!(copy.writes_after_wipe.get(), 0, "nothing of the account is written after sign-out");
    }
}
