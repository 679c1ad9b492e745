//! The local copy of one account's mail that the UI reads.
//!
//! It holds what the server confirmed (mailboxes, message summaries, bodies, open lists, sync
//! states) and, apart from it, the user's pending actions. Reads show the confirmed state with the
//! pending actions applied on top, so an action shows at once, a refused one disappears by being
//! dropped (nothing to undo by hand), and server changes arriving meanwhile are never overwritten.
//! Every change is recorded so the engine writes only what changed to the offline cache.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

use super::action::Action;
use super::backend::{Delta, EmailChange, ListDelta, Window};
use super::mailbox::{Mailbox, MailboxRights, Role};
use super::model::{Address, EmailSummary, Message};
use super::query::MailQuery;

/// How many ids from the top of each list are kept in the offline cache.
pub const CACHED_LIST_HEAD: usize = 1000;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SyncStates {
    pub mailbox: Option<String>,
    pub email: Option<String>,
}

/// A list (a mailbox or a search) as far as it has been loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QueryList {
    pub query: MailQuery,
    pub query_state: Option<String>,
    pub total: Option<u64>,
    /// Ids from position 0 on, without gaps: kept current by `queryChanges`.
    pub head: Vec<String>,
    /// Windows further down (a jump in a long list), by start position: refetched after a change.
    #[serde(skip)]
    pub pages: BTreeMap<u64, Vec<String>>,
    /// Rows picked out of another list (see [`MailStore::seed_from_newest`]), right as far as they
    /// go but not the server's own answer to this query: shown, and replaced by it at once.
    #[serde(default)]
    pub provisional: bool,
    /// When this session last rewrote the list (a store-wide count): an answer asked for before
    /// a rewrite may be older than what the list now holds.
    #[serde(skip)]
    pub revision: u64,
}

impl QueryList {
    fn new(query: MailQuery) -> QueryList {
        QueryList {
            query,
            query_state: None,
            total: None,
            head: Vec::new(),
            pages: BTreeMap::new(),
            provisional: false,
            revision: 0,
        }
    }

    fn id_at(&self, position: u64) -> Option<&String> {
        if let Some(id) = self.head.get(position as usize) {
            return Some(id);
        }
        let (start, ids) = self.pages.range(..=position).next_back()?;
        ids.get((position - start) as usize)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum PendingState {
    /// Not yet accepted by the server (offline, or waiting its turn).
    Queued,
    /// Accepted; kept on screen until a sync has brought the server's own copy of the change.
    Done { at_sync: u64 },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pending {
    pub seq: u64,
    pub action: Action,
    pub state: PendingState,
    /// Attempts started; after one, the server may have done it already (creations check first).
    pub attempts: u32,
}

/// A row of a list: the message, or a placeholder while it loads. Rows live only while a window
/// is drawn (a few dozen at a time), so the placeholder's unused bytes cost nothing worth a box.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Row {
    Loaded(EmailSummary),
    Loading { position: u64 },
}

/// What changed since the engine last saved: the offline cache's to-do list.
#[derive(Debug, Default)]
pub struct Changes {
    pub mailboxes: bool,
    pub states: bool,
    pub pending: bool,
    pub emails: BTreeSet<String>,
    pub bodies: BTreeSet<String>,
    pub lists: BTreeSet<String>,
    /// Everything about messages was dropped (a clean resync): clear their cached records first.
    pub emails_reset: bool,
}

impl Changes {
    pub fn is_empty(&self) -> bool {
        !self.mailboxes
            && !self.states
            && !self.pending
            && !self.emails_reset
            && self.emails.is_empty()
            && self.bodies.is_empty()
            && self.lists.is_empty()
    }
}

#[derive(Debug, Default)]
pub struct MailStore {
    mailboxes: BTreeMap<String, Mailbox>,
    emails: HashMap<String, EmailSummary>,
    bodies: HashMap<String, Message>,
    lists: HashMap<String, QueryList>,
    pub states: SyncStates,
    pending: Vec<Pending>,
    /// Local mailbox ids of created folders, once the server named them.
    local_ids: BTreeMap<String, String>,
    next_seq: u64,
    sync_round: u64,
    /// The last [`QueryList::revision`] given.
    list_revisions: u64,
    changes: Changes,
}

impl MailStore {
    pub fn new() -> MailStore {
        MailStore::default()
    }

    // ----- reads: confirmed state with pending actions applied -----

    pub fn has_mailboxes(&self) -> bool {
        !self.mailboxes.is_empty()
    }

    /// The mailboxes as the user should see them now.
    pub fn mailboxes(&self) -> Vec<Mailbox> {
        let mut boxes = self.mailboxes.clone();
        for p in &self.pending {
            match &p.action {
                Action::CreateMailbox { local_id, name, parent_id } if !self.local_ids.contains_key(local_id) => {
                    boxes.insert(
                        local_id.clone(),
                        Mailbox {
                            id: local_id.clone(),
                            name: name.clone(),
                            parent_id: parent_id.clone(),
                            role: Role::Other,
                            sort_order: 0,
                            total_emails: 0,
                            unread_emails: 0,
                            my_rights: MailboxRights::default(),
                        },
                    );
                }
                Action::RenameMailbox { id, name } => {
                    if let Some(m) = boxes.get_mut(self.server_id(id)) {
                        m.name = name.clone();
                    }
                }
                Action::DestroyMailbox { id } => {
                    boxes.remove(self.server_id(id));
                }
                _ => {}
            }
        }
        for (mailbox, (total, unread)) in self.count_adjustments() {
            if let Some(m) = boxes.get_mut(&mailbox) {
                m.total_emails = m.total_emails.saturating_add_signed(total);
                m.unread_emails = m.unread_emails.saturating_add_signed(unread);
            }
        }
        boxes.into_values().collect()
    }

    pub fn mailbox_with_role(&self, role: Role) -> Option<&Mailbox> {
        self.mailboxes.values().find(|m| m.role == role)
    }

    /// A message as the user should see it, if it is known and not deleted.
    pub fn email(&self, id: &str) -> Option<EmailSummary> {
        let confirmed = self.emails.get(id)?;
        self.pending.iter().try_fold(confirmed.clone(), |e, p| p.action.applied_to(&e))
    }

    /// What a batch action on these rows of a conversation list acts on: each row's known
    /// conversation members in `mailbox`, or the row itself when none are known; each id once.
    pub fn with_conversations(&self, ids: &[String], mailbox: Option<&str>) -> Vec<String> {
        let mut all = Vec::new();
        for id in ids {
            let thread = self.email(id).map(|m| m.thread_id).unwrap_or_default();
            let members = if thread.is_empty() { vec![] } else { self.thread_members(&thread, mailbox) };
            for m in if members.is_empty() { vec![id.clone()] } else { members } {
                if !all.contains(&m) {
                    all.push(m);
                }
            }
        }
        all
    }

    /// The known messages of a conversation that are in `mailbox` (all of them when `None`):
    /// what acting on a conversation row acts on.
    pub fn thread_members(&self, thread_id: &str, mailbox: Option<&str>) -> Vec<String> {
        let mut found: Vec<EmailSummary> = self
            .emails
            .keys()
            .filter_map(|id| self.email(id))
            .filter(|e| e.thread_id == thread_id && mailbox.is_none_or(|m| e.in_mailbox(m)))
            .collect();
        found.sort_by(|a, b| a.received_at.cmp(&b.received_at));
        found.into_iter().map(|e| e.id).collect()
    }

    /// Unread messages in `mailbox` received at or after `since` (RFC 3339), newest first: what a
    /// new-mail notification is about.
    pub fn unread_since(&self, mailbox: &str, since: &str) -> Vec<EmailSummary> {
        let mut found: Vec<EmailSummary> = self
            .emails
            .keys()
            .filter_map(|id| self.email(id))
            .filter(|e| e.in_mailbox(mailbox) && e.is_unread() && e.received_at.as_str() >= since)
            .collect();
        found.sort_by(|a, b| b.received_at.cmp(&a.received_at));
        found
    }

    /// People seen on known mail (senders and recipients), most frequent first: address
    /// completion in the composer.
    pub fn known_addresses(&self, limit: usize) -> Vec<Address> {
        let mut seen: HashMap<String, (usize, Address)> = HashMap::new();
        for e in self.emails.values() {
            for a in e.from.iter().chain(&e.to) {
                if a.email.is_empty() {
                    continue;
                }
                let entry = seen.entry(a.email.to_lowercase()).or_insert_with(|| (0, a.clone()));
                entry.0 += 1;
                if entry.1.name.is_none() && a.name.is_some() {
                    entry.1.name = a.name.clone();
                }
            }
        }
        let mut people: Vec<(usize, Address)> = seen.into_values().collect();
        people.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.email.cmp(&b.1.email)));
        people.into_iter().take(limit).map(|(_, a)| a).collect()
    }

    pub fn has_email(&self, id: &str) -> bool {
        self.emails.contains_key(id)
    }

    pub fn body(&self, id: &str) -> Option<Message> {
        let mut message = self.bodies.get(id)?.clone();
        if let Some(summary) = self.email(id) {
            message.summary = summary;
        }
        Some(message)
    }

    pub fn list(&self, query: &MailQuery) -> Option<&QueryList> {
        self.lists.get(&query.key())
    }

    pub fn lists(&self) -> impl Iterator<Item = &QueryList> {
        self.lists.values()
    }

    /// Rows `start..end` of a list (as far as it exists): messages a pending action took out of
    /// the list are left out, unknown rows come back as `Loading`.
    pub fn rows(&self, query: &MailQuery, start: u64, end: u64) -> Vec<Row> {
        let Some(list) = self.lists.get(&query.key()) else { return Vec::new() };
        let end = list.total.map_or(end, |t| end.min(t));
        (start..end)
            .filter_map(|position| match list.id_at(position).and_then(|id| Some((id, self.emails.get(id)?))) {
                None => Some(Row::Loading { position }),
                Some((id, _)) => {
                    let email = self.email(id)?;
                    (query.filter.admits(&email) != Some(false)).then_some(Row::Loaded(email))
                }
            })
            .collect()
    }

    /// Whether rows `start..end` are all known (no fetch needed to show them).
    pub fn has_rows(&self, query: &MailQuery, start: u64, end: u64) -> bool {
        let Some(list) = self.lists.get(&query.key()) else { return false };
        if list.provisional || (list.query_state.is_none() && list.head.is_empty()) {
            return false;
        }
        let end = list.total.map_or(end, |t| end.min(t));
        (start..end).all(|p| list.id_at(p).is_some_and(|id| self.emails.contains_key(id)))
    }

    pub fn pending(&self) -> &[Pending] {
        &self.pending
    }

    pub fn queued(&self) -> impl Iterator<Item = &Pending> {
        self.pending.iter().filter(|p| p.state == PendingState::Queued)
    }

    /// The server id of a mailbox the user may know by a local id.
    pub fn server_id<'a>(&'a self, id: &'a str) -> &'a str {
        self.local_ids.get(id).map_or(id, String::as_str)
    }

    /// Message count changes the pending actions make to each mailbox: (total, unread).
    fn count_adjustments(&self) -> HashMap<String, (i64, i64)> {
        let mut out: HashMap<String, (i64, i64)> = HashMap::new();
        let mut current: HashMap<&str, Option<EmailSummary>> = HashMap::new();
        for p in &self.pending {
            for id in p.action.email_ids() {
                let Some(confirmed) = self.emails.get(id) else { continue };
                let before = current.entry(id).or_insert_with(|| Some(confirmed.clone())).clone();
                let Some(before) = before else { continue };
                let after = p.action.applied_to(&before);
                for m in before.mailbox_ids.keys() {
                    let e = out.entry(m.clone()).or_default();
                    e.0 -= 1;
                    e.1 -= before.is_unread() as i64;
                }
                if let Some(after) = &after {
                    for m in after.mailbox_ids.keys() {
                        let e = out.entry(self.server_id(m).to_owned()).or_default();
                        e.0 += 1;
                        e.1 += after.is_unread() as i64;
                    }
                }
                current.insert(id, after);
            }
        }
        out
    }

    // ----- writes from the server -----

    /// Starts a sync round; actions done before it are settled by [`MailStore::finish_sync`].
    pub fn begin_sync(&mut self) -> u64 {
        self.sync_round += 1;
        self.sync_round
    }

    /// The sync round `round` brought the server's copy of everything done before it.
    pub fn finish_sync(&mut self, round: u64) {
        let before = self.pending.len();
        self.pending.retain(|p| !matches!(p.state, PendingState::Done { at_sync } if at_sync < round));
        if self.pending.len() != before {
            self.changes.pending = true;
        }
    }

    pub fn apply_mailboxes(&mut self, delta: Delta<Mailbox>) {
        match delta {
            Delta::Reset { all, new_state } => {
                self.mailboxes = all.into_iter().map(|m| (m.id.clone(), m)).collect();
                self.states.mailbox = new_state;
            }
            Delta::Changes { changed, destroyed, new_state } => {
                for m in changed {
                    self.mailboxes.insert(m.id.clone(), m);
                }
                for id in destroyed {
                    self.mailboxes.remove(&id);
                }
                self.states.mailbox = Some(new_state);
            }
        }
        self.changes.mailboxes = true;
        self.changes.states = true;
    }

    pub fn apply_emails(&mut self, delta: Delta<EmailChange>) {
        match delta {
            Delta::Reset { new_state, .. } => {
                // Message contents never change: bodies stay; summaries and lists are refetched.
                self.emails.clear();
                self.lists.clear();
                self.states.email = new_state;
                self.changes.emails_reset = true;
            }
            Delta::Changes { changed, destroyed, new_state } => {
                for change in changed {
                    match change {
                        EmailChange::New(summary) => self.put_email(summary),
                        EmailChange::Updated { id, keywords, mailbox_ids } => {
                            if let Some(e) = self.emails.get_mut(&id) {
                                e.keywords = keywords;
                                e.mailbox_ids = mailbox_ids;
                                self.changes.emails.insert(id);
                            }
                        }
                    }
                }
                for id in destroyed {
                    self.remove_email(&id);
                }
                self.states.email = Some(new_state);
            }
        }
        self.changes.states = true;
    }

    /// Applies what changed in a list since version `since`. A list that has moved on from
    /// `since` meanwhile (a window brought a newer version) is left alone: the delta does not fit
    /// it, and the next sync asks from where it is.
    pub fn apply_list(&mut self, query: &MailQuery, since: &str, delta: ListDelta) {
        let key = query.key();
        self.list_revisions += 1;
        let revision = self.list_revisions;
        let Some(list) = self.lists.get_mut(&key) else { return };
        if list.query_state.as_deref() != Some(since) {
            return;
        }
        list.revision = revision;
        match delta {
            ListDelta::Reset => {
                list.query_state = None;
                list.pages.clear();
            }
            ListDelta::Changes { removed, added, total, new_state } => {
                // Every row new to the list is among the added, and a removed row we held is gone
                // (RFC 8620 §5.6): the list cannot be longer than that, and a larger total is not
                // this list's count. Stalwart's counts messages even when threads are collapsed,
                // which showed as rows loading for ever at the list's end.
                let gone =
                    removed.iter().filter(|id| list.head.contains(id) && !added.iter().any(|(_, a)| a == *id)).count();
                let total = match (total, list.total) {
                    (Some(total), Some(before)) => {
                        Some(total.min((before + added.len() as u64).saturating_sub(gone as u64)))
                    }
                    (total, _) => total,
                };
                // RFC 8620 §5.6: drop the removed, then insert the added in index order.
                let removed: BTreeSet<String> = removed.into_iter().collect();
                list.head.retain(|id| !removed.contains(id));
                let mut added = added;
                added.sort_by_key(|(index, _)| *index);
                for (index, id) in added {
                    let index = index as usize;
                    if index <= list.head.len() {
                        list.head.insert(index, id);
                    }
                }
                if let Some(total) = total {
                    list.head.truncate(total as usize);
                }
                list.total = total.or(list.total);
                list.query_state = Some(new_state);
                // Rows further down moved by an unknown amount.
                list.pages.clear();
            }
        }
        self.changes.lists.insert(key);
    }

    /// The list's [`QueryList::revision`] now, to hand to [`MailStore::apply_window_asked_at`]
    /// with the answer.
    pub fn list_revision(&self, query: &MailQuery) -> u64 {
        self.list(query).map_or(0, |l| l.revision)
    }

    /// Adds a window asked for when the list was at `revision`, unless the list was rewritten
    /// since to another version than the window's: then the window may be the older of the two
    /// and is not applied (`false`), to be asked again. Provisional rows give way to any answer.
    pub fn apply_window_asked_at(&mut self, query: &MailQuery, window: Window, revision: u64) -> bool {
        // Without versions (servers that cannot calculate changes, Cyrus), any rewrite since may
        // be newer.
        let moved = self.list(query).is_some_and(|l| {
            l.revision != revision
                && !l.provisional
                && (l.query_state != window.query_state || l.query_state.is_none() || window.query_state.is_none())
        });
        if moved {
            return false;
        }
        self.apply_window(query, window);
        true
    }

    /// Adds a window the server sent: rows at `window.position` and their summaries.
    pub fn apply_window(&mut self, query: &MailQuery, window: Window) {
        let key = query.key();
        self.list_revisions += 1;
        let revision = self.list_revisions;
        // Summaries of another message state than the store's may be older than what a sync
        // brought (keywords, folders): they only fill in messages not known yet, and the next
        // Email/changes brings the rest.
        let same_state =
            window.email_state.is_none() || self.states.email.is_none() || window.email_state == self.states.email;
        for s in window.summaries {
            if same_state || !self.emails.contains_key(&s.id) {
                self.put_email(s);
            }
        }
        self.adopt_email_state(window.email_state.clone());
        let list = self.lists.entry(key.clone()).or_insert_with(|| QueryList::new(query.clone()));
        if window.query_state != list.query_state {
            // A different version of the list: what was loaded before may have moved.
            list.pages.clear();
            if window.position > 0 {
                list.head.clear();
            }
        }
        let start = window.position as usize;
        if start <= list.head.len() {
            list.head.truncate(start);
            list.head.extend(window.ids);
        } else {
            list.pages.insert(window.position, window.ids);
        }
        list.total = window.total.or(list.total);
        list.query_state = window.query_state;
        list.provisional = false;
        list.revision = revision;
        self.changes.lists.insert(key);
    }

    /// Takes in the account's newest messages (all folders, newest first, as
    /// [`SyncRequest::newest`](super::backend::SyncRequest::newest) brought them) and picks the
    /// first rows of `mailbox`'s default lists (newest first, with and without threads) out of
    /// them, so a first start shows that folder from the round trip that brought the folders.
    /// Every message of the folder newer than the oldest one brought is among them, so the rows
    /// are exactly the list's first ones; they are marked provisional until the folder's own
    /// query answers. Lists already loaded are left alone.
    pub fn seed_from_newest(&mut self, mailbox: &str, newest: Window) {
        let complete = newest.total.is_some_and(|t| t <= newest.position + newest.ids.len() as u64);
        let mut by_id: BTreeMap<String, EmailSummary> =
            newest.summaries.into_iter().map(|s| (s.id.clone(), s)).collect();
        let ordered: Vec<EmailSummary> = newest.ids.iter().filter_map(|id| by_id.remove(id)).collect();
        let mut known = ordered.len();
        if !complete {
            // Messages received at the same instant as the last one may continue beyond it, in
            // an order the folder's query need not share: stop before them.
            let boundary = ordered.last().map(|s| s.received_at.as_str());
            while known > 0 && Some(ordered[known - 1].received_at.as_str()) == boundary {
                known -= 1;
            }
        }
        for threads in [true, false] {
            let query = MailQuery { threads, ..MailQuery::mailbox(mailbox) };
            if self.lists.contains_key(&query.key()) {
                continue;
            }
            let mut threads_seen = BTreeSet::new();
            let head: Vec<String> = ordered[..known]
                .iter()
                .filter(|s| s.in_mailbox(mailbox))
                .filter(|s| !threads || threads_seen.insert(s.thread_id.clone()))
                .map(|s| s.id.clone())
                .collect();
            if head.is_empty() && !complete {
                continue;
            }
            let total = complete.then_some(head.len() as u64);
            self.list_revisions += 1;
            let list =
                QueryList { head, total, provisional: true, revision: self.list_revisions, ..QueryList::new(query) };
            let key = list.query.key();
            self.lists.insert(key.clone(), list);
            self.changes.lists.insert(key);
        }
        self.adopt_email_state(newest.email_state);
        for s in ordered.into_iter().chain(by_id.into_values()) {
            self.put_email(s);
        }
    }

    /// The message state summaries fetched outside a sync belong to, when none is known yet
    /// (the next sync asks for changes since it).
    fn adopt_email_state(&mut self, state: Option<String>) {
        if self.states.email.is_none() {
            self.states.email = state;
            self.changes.states = true;
        }
    }

    pub fn put_email(&mut self, summary: EmailSummary) {
        self.changes.emails.insert(summary.id.clone());
        self.emails.insert(summary.id.clone(), summary);
    }

    pub fn put_body(&mut self, message: Message) {
        let id = message.summary.id.clone();
        self.put_email(message.summary.clone());
        self.bodies.insert(id.clone(), message);
        self.changes.bodies.insert(id);
    }

    fn remove_email(&mut self, id: &str) {
        self.emails.remove(id);
        self.bodies.remove(id);
        self.changes.emails.insert(id.to_owned());
        self.changes.bodies.insert(id.to_owned());
        for (key, list) in &mut self.lists {
            let before = list.head.len();
            list.head.retain(|x| x != id);
            if list.head.len() != before {
                list.total = list.total.map(|t| t.saturating_sub(1));
                self.changes.lists.insert(key.clone());
            }
        }
    }

    // ----- pending actions -----

    /// Records an action; it shows at once. Returns its sequence number.
    pub fn push_action(&mut self, action: Action) -> u64 {
        self.next_seq += 1;
        self.pending.push(Pending { seq: self.next_seq, action, state: PendingState::Queued, attempts: 0 });
        self.changes.pending = true;
        self.next_seq
    }

    /// A fresh local id for a mailbox being created.
    pub fn new_local_mailbox_id(&mut self) -> String {
        self.next_seq += 1;
        format!("local-{}", self.next_seq)
    }

    pub fn mark_attempt(&mut self, seq: u64) {
        if let Some(p) = self.pending.iter_mut().find(|p| p.seq == seq) {
            p.attempts += 1;
            self.changes.pending = true;
        }
    }

    /// The server did it: keep showing it until the next sync brings the server's copy.
    pub fn action_done(&mut self, seq: u64, created_mailbox_id: Option<String>) {
        let round = self.sync_round;
        if let Some(p) = self.pending.iter_mut().find(|p| p.seq == seq) {
            p.state = PendingState::Done { at_sync: round };
            if let (Action::CreateMailbox { local_id, .. }, Some(server)) = (&p.action, created_mailbox_id) {
                self.local_ids.insert(local_id.clone(), server);
            }
            self.changes.pending = true;
        }
    }

    /// The server refused it: drop it, and the screen shows the server's state again.
    pub fn drop_action(&mut self, seq: u64) -> Option<Action> {
        let position = self.pending.iter().position(|p| p.seq == seq)?;
        self.changes.pending = true;
        Some(self.pending.remove(position).action)
    }

    // ----- the offline cache -----

    /// What changed since the last call.
    pub fn take_changes(&mut self) -> Changes {
        std::mem::take(&mut self.changes)
    }

    pub fn mailbox_list(&self) -> Vec<&Mailbox> {
        self.mailboxes.values().collect()
    }

    pub fn confirmed_email(&self, id: &str) -> Option<&EmailSummary> {
        self.emails.get(id)
    }

    pub fn confirmed_body(&self, id: &str) -> Option<&Message> {
        self.bodies.get(id)
    }

    pub fn list_by_key(&self, key: &str) -> Option<&QueryList> {
        self.lists.get(key)
    }

    pub fn pending_record(&self) -> PendingRecord {
        PendingRecord { pending: self.pending.clone(), local_ids: self.local_ids.clone(), next_seq: self.next_seq }
    }

    /// Rebuilds a store from the offline cache. Messages no cached list or action refers to are
    /// left out (and reported, so the cache can forget them).
    pub fn restore(saved: Saved) -> (MailStore, Vec<String>) {
        let mut store = MailStore { states: saved.states, ..MailStore::default() };
        store.mailboxes = saved.mailboxes.into_iter().map(|m| (m.id.clone(), m)).collect();
        if let Some(p) = saved.pending {
            store.pending = p.pending;
            store.local_ids = p.local_ids;
            store.next_seq = p.next_seq;
        }
        // A Done action whose sync never came is settled by the first sync of this run.
        for p in &mut store.pending {
            if let PendingState::Done { at_sync } = &mut p.state {
                *at_sync = 0;
            }
        }
        let mut wanted: BTreeSet<&str> = BTreeSet::new();
        for list in &saved.lists {
            wanted.extend(list.head.iter().map(String::as_str));
        }
        for p in &store.pending {
            wanted.extend(p.action.email_ids().iter().map(String::as_str));
        }
        wanted.extend(saved.bodies.iter().map(|b| b.summary.id.as_str()));
        let mut forgotten = Vec::new();
        for e in saved.emails {
            if wanted.contains(e.id.as_str()) {
                store.emails.insert(e.id.clone(), e);
            } else {
                forgotten.push(e.id);
            }
        }
        store.lists = saved.lists.into_iter().map(|l| (l.query.key(), l)).collect();
        store.bodies = saved.bodies.into_iter().map(|b| (b.summary.id.clone(), b)).collect();
        (store, forgotten)
    }
}

/// The pending actions as cached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PendingRecord {
    pub pending: Vec<Pending>,
    pub local_ids: BTreeMap<String, String>,
    pub next_seq: u64,
}

/// Everything the offline cache gives back for one account.
#[derive(Debug, Default)]
pub struct Saved {
    pub mailboxes: Vec<Mailbox>,
    pub emails: Vec<EmailSummary>,
    pub bodies: Vec<Message>,
    pub lists: Vec<QueryList>,
    pub states: SyncStates,
    pub pending: Option<PendingRecord>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::keyword;

    fn summary(id: &str, mailbox: &str, unread: bool) -> EmailSummary {
        let mut e = EmailSummary { id: id.into(), ..Default::default() };
        e.mailbox_ids.insert(mailbox.into(), true);
        e.set_keyword(keyword::SEEN, !unread);
        e
    }

    #[test]
    fn unread_since_and_thread_members_and_people() {
        let mut store = MailStore::new();
        let at = |id: &str, mailbox: &str, unread: bool, when: &str, thread: &str| {
            let mut e = summary(id, mailbox, unread);
            e.received_at = when.into();
            e.thread_id = thread.into();
            e.from = vec![Address { name: Some(format!("N{id}")), email: format!("{id}@example.org") }];
            e
        };
        store.put_email(at("old", "in", true, "2026-11-21T08:00:00Z", "t1"));
        store.put_email(at("new1", "in", true, "2026-11-21T09:00:01Z", "t1"));
        store.put_email(at("new2", "in", true, "2026-11-21T09:00:05Z", "t2"));
        store.put_email(at("read", "in", false, "2026-11-21T09:00:06Z", "t2"));
        store.put_email(at("other", "x", true, "2026-11-21T09:00:07Z", "t1"));
        let ids = |v: Vec<EmailSummary>| v.into_iter().map(|e| e.id).collect::<Vec<_>>();
        assert_eq!(ids(store.unread_since("in", "2026-11-21T09:00:00Z")), ["new2", "new1"]);
        assert_eq!(store.thread_members("t1", Some("in")), ["old", "new1"]);
        assert_eq!(store.thread_members("t1", None), ["old", "new1", "other"]);
        let rows = ["new1".to_owned(), "old".to_owned(), "unknown".to_owned()];
        assert_eq!(
            store.with_conversations(&rows, Some("in")),
            ["old", "new1", "unknown"],
            "each once; unknown rows stand for themselves"
        );
        assert_eq!(store.known_addresses(2).len(), 2);
    }

    fn mailbox(id: &str, role: Role, total: u64, unread: u64) -> Mailbox {
        Mailbox {
            id: id.into(),
            name: id.into(),
            parent_id: None,
            role,
            sort_order: 0,
            total_emails: total,
            unread_emails: unread,
            my_rights: MailboxRights::default(),
        }
    }

    /// An inbox of three messages (two unread) and an empty archive.
    fn store() -> (MailStore, MailQuery) {
        let mut s = MailStore::new();
        s.apply_mailboxes(Delta::Reset {
            all: vec![mailbox("in", Role::Inbox, 3, 2), mailbox("ar", Role::Archive, 0, 0)],
            new_state: Some("m1".into()),
        });
        let q = MailQuery::mailbox("in");
        s.apply_window(
            &q,
            Window {
                position: 0,
                ids: vec!["a".into(), "b".into(), "c".into()],
                total: Some(3),
                query_state: Some("q1".into()),
                summaries: vec![summary("a", "in", true), summary("b", "in", true), summary("c", "in", false)],
                email_state: Some("e1".into()),
            },
        );
        (s, q)
    }

    fn ids(rows: &[Row]) -> Vec<String> {
        rows.iter()
            .map(|r| match r {
                Row::Loaded(e) => e.id.clone(),
                Row::Loading { position } => format!("?{position}"),
            })
            .collect()
    }

    fn counts(s: &MailStore, id: &str) -> (u64, u64) {
        let m = s.mailboxes().into_iter().find(|m| m.id == id).unwrap();
        (m.total_emails, m.unread_emails)
    }

    /// The account's newest messages as a first sync brings them: ids newest first, `total` of
    /// the whole account.
    fn newest(messages: &[(&str, &str, &str, &str)], total: u64) -> Window {
        let summaries = messages
            .iter()
            .map(|(id, mailbox, when, thread)| EmailSummary {
                received_at: (*when).into(),
                thread_id: (*thread).into(),
                ..summary(id, mailbox, true)
            })
            .collect();
        Window {
            position: 0,
            ids: messages.iter().map(|m| m.0.to_owned()).collect(),
            total: Some(total),
            query_state: None,
            summaries,
            email_state: Some("e7".into()),
        }
    }

    #[test]
    fn the_inbox_is_seeded_from_the_newest_mail_exactly_as_far_as_it_reaches() {
        let mut s = MailStore::new();
        let mail = [
            ("n1", "in", "2026-11-21T10:00:00Z", "t1"),
            ("s1", "sent", "2026-11-21T09:30:00Z", "t1"),
            ("n2", "in", "2026-11-21T09:00:00Z", "t1"),
            ("n3", "in", "2026-11-21T08:00:00Z", "t2"),
            ("x1", "lists", "2026-11-21T07:00:00Z", "t3"),
            // Same instant as the oldest brought: the Inbox may hold more of that instant.
            ("n4", "in", "2026-11-21T07:00:00Z", "t4"),
        ];
        s.seed_from_newest("in", newest(&mail, 900));
        let threads = MailQuery::mailbox("in");
        let flat = MailQuery { threads: false, ..threads.clone() };
        assert_eq!(s.list(&threads).unwrap().head, ["n1", "n3"], "one row per conversation, its newest in the Inbox");
        assert_eq!(ids(&s.rows(&threads, 0, 3)), ["n1", "n3", "?2"], "shown at once, the rest loading");
        assert_eq!(s.list(&flat).unwrap().head, ["n1", "n2", "n3"]);
        assert_eq!(s.list(&threads).unwrap().total, None, "the Inbox goes on beyond what came");
        assert!(!s.has_rows(&threads, 0, 2), "provisional rows still ask the server for the list");
        assert!(s.email("x1").is_some() && s.email("n4").is_some(), "every message brought is kept");
        assert_eq!(s.states.email.as_deref(), Some("e7"));

        // The folder's own answer replaces the rows.
        s.apply_window(
            &threads,
            Window { ids: vec!["n1".into(), "n3".into(), "n4".into()], total: Some(3), ..Window::default() },
        );
        assert_eq!(ids(&s.rows(&threads, 0, 50)), ["n1", "n3", "n4"]);
        assert!(s.has_rows(&threads, 0, 3));
    }

    #[test]
    fn a_small_account_seeds_the_whole_inbox_and_loaded_lists_stay() {
        let mut s = MailStore::new();
        let flat = MailQuery { threads: false, ..MailQuery::mailbox("in") };
        s.apply_window(&flat, Window { ids: vec!["kept".into()], total: Some(1), ..Window::default() });
        s.seed_from_newest(
            "in",
            newest(&[("n1", "in", "2026-11-21T10:00:00Z", "t1"), ("a1", "ar", "2026-11-21T10:00:00Z", "t2")], 2),
        );
        let threads = MailQuery::mailbox("in");
        assert_eq!(ids(&s.rows(&threads, 0, 50)), ["n1"], "all mail came: nothing cut at the last instant");
        assert_eq!(s.list(&threads).unwrap().total, Some(1));
        assert_eq!(s.list(&flat).unwrap().head, ["kept"], "a list the server answered is not replaced");
        s.seed_from_newest("empty", newest(&[], 0));
        assert_eq!(
            s.list(&MailQuery::mailbox("empty")).unwrap().total,
            Some(0),
            "an empty account shows an empty Inbox at once"
        );
    }

    #[test]
    fn an_action_shows_at_once_and_a_refusal_restores_the_server_state() {
        let (mut s, q) = store();
        let seq = s.push_action(Action::Move { ids: vec!["a".into()], from: Some("in".into()), to: "ar".into() });
        assert_eq!(ids(&s.rows(&q, 0, 50)), ["b", "c"]);
        assert_eq!(counts(&s, "in"), (2, 1));
        assert_eq!(counts(&s, "ar"), (1, 1));
        s.drop_action(seq);
        assert_eq!(ids(&s.rows(&q, 0, 50)), ["a", "b", "c"]);
        assert_eq!(counts(&s, "in"), (3, 2));
    }

    #[test]
    fn server_changes_under_a_pending_action_are_kept() {
        let (mut s, q) = store();
        s.push_action(Action::SetKeyword { ids: vec!["b".into()], keyword: keyword::SEEN.into(), on: true });
        // Meanwhile another client flags b and deletes c.
        let mut flagged = summary("b", "in", true).keywords;
        flagged.insert(keyword::FLAGGED.into(), true);
        s.apply_emails(Delta::Changes {
            changed: vec![EmailChange::Updated {
                id: "b".into(),
                keywords: flagged,
                mailbox_ids: summary("b", "in", true).mailbox_ids,
            }],
            destroyed: vec!["c".into()],
            new_state: "e2".into(),
        });
        let b = s.email("b").unwrap();
        assert!(b.is_flagged() && !b.is_unread(), "both the server's flag and the local read show");
        assert_eq!(ids(&s.rows(&q, 0, 50)), ["a", "b"]);
        assert_eq!(s.states.email.as_deref(), Some("e2"));
    }

    #[test]
    fn done_actions_settle_after_the_next_sync() {
        let (mut s, _) = store();
        let round = s.begin_sync();
        let seq = s.push_action(Action::SetKeyword { ids: vec!["a".into()], keyword: keyword::SEEN.into(), on: true });
        s.action_done(seq, None);
        s.finish_sync(round);
        assert_eq!(s.pending().len(), 1, "the sync that was running may not have seen it");
        let next = s.begin_sync();
        s.finish_sync(next);
        assert!(s.pending().is_empty());
    }

    /// A list's changes: `removed` ids, `added` (index, id) pairs, the server's total.
    fn changes(removed: &[&str], added: &[(u64, &str)], total: Option<u64>, new_state: &str) -> ListDelta {
        ListDelta::Changes {
            removed: removed.iter().map(|id| id.to_string()).collect(),
            added: added.iter().map(|(index, id)| (*index, id.to_string())).collect(),
            total,
            new_state: new_state.into(),
        }
    }

    #[test]
    fn query_changes_keep_the_head_in_order() {
        let (mut s, q) = store();
        s.put_email(summary("n", "in", true));
        s.apply_list(&q, "q1", changes(&["b"], &[(0, "n")], Some(3), "q2"));
        assert_eq!(ids(&s.rows(&q, 0, 50)), ["n", "a", "c"]);
        assert_eq!(s.list(&q).unwrap().query_state.as_deref(), Some("q2"));
    }

    fn added_on_top(added: &str, new_state: &str) -> ListDelta {
        changes(&[], &[(0, added)], None, new_state)
    }

    #[test]
    fn a_total_beyond_what_was_added_is_not_the_lists_length() {
        let (mut s, q) = store();
        s.put_email(summary("n", "in", true));
        // Three conversations and one new: a total of 9 counts messages, not rows.
        s.apply_list(&q, "q1", changes(&[], &[(0, "n")], Some(9), "q2"));
        assert_eq!(s.list(&q).unwrap().total, Some(4));
        assert_eq!(ids(&s.rows(&q, 0, 10)), ["n", "a", "b", "c"], "no rows left loading at the end");
        // A row it held removed: one fewer, whatever the total says.
        s.apply_list(&q, "q2", changes(&["a"], &[], Some(9), "q3"));
        assert_eq!(s.list(&q).unwrap().total, Some(3));
        // A total within what the changes allow is taken as it is.
        s.apply_list(&q, "q3", changes(&["x"], &[], Some(2), "q4"));
        assert_eq!(s.list(&q).unwrap().total, Some(2));
    }

    #[test]
    fn a_delta_from_a_version_the_list_has_left_is_not_applied() {
        let (mut s, q) = store();
        s.put_email(summary("n", "in", true));
        // A window brought version q2 while a sync asked what changed since q1.
        let head = s.list(&q).unwrap().head.clone();
        s.apply_window(
            &q,
            Window {
                position: 0,
                ids: [vec!["n".to_string()], head.clone()].concat(),
                total: None,
                query_state: Some("q2".into()),
                summaries: vec![],
                email_state: None,
            },
        );
        s.apply_list(&q, "q1", added_on_top("n", "q2"));
        assert_eq!(s.list(&q).unwrap().head, [vec!["n".to_string()], head].concat(), "n is not added twice");
    }

    #[test]
    fn a_window_asked_before_the_list_moved_on_is_refused() {
        let (mut s, q) = store();
        s.put_email(summary("n", "in", true));
        let asked_at = s.list_revision(&q);
        let old = Window {
            position: 0,
            ids: s.list(&q).unwrap().head.clone(),
            total: None,
            query_state: Some("q1".into()),
            summaries: vec![],
            email_state: None,
        };
        // The sync brings q2 (n arrived) while the window of q1 is on its way.
        s.apply_list(&q, "q1", added_on_top("n", "q2"));
        assert!(!s.apply_window_asked_at(&q, old.clone(), asked_at), "the older answer is dropped");
        assert_eq!(ids(&s.rows(&q, 0, 1)), ["n"]);
        assert_eq!(s.list(&q).unwrap().query_state.as_deref(), Some("q2"));
        // Asked again now, the same version applies.
        let now = s.list_revision(&q);
        let current = Window { query_state: Some("q2".into()), ids: s.list(&q).unwrap().head.clone(), ..old };
        assert!(s.apply_window_asked_at(&q, current, now));
    }

    #[test]
    fn without_versions_any_rewrite_since_the_ask_refuses_the_window() {
        // Cyrus cannot calculate query changes: no queryState, and every sync refetches the list.
        let mut s = MailStore::new();
        let q = MailQuery::mailbox("in");
        let window = |ids: &[&str], email_state: &str| Window {
            position: 0,
            ids: ids.iter().map(|i| i.to_string()).collect(),
            total: None,
            query_state: None,
            summaries: ids.iter().map(|i| summary(i, "in", true)).collect(),
            email_state: Some(email_state.into()),
        };
        s.apply_window(&q, window(&["a"], "e1"));
        let asked_at = s.list_revision(&q);
        s.apply_window(&q, window(&["n", "a"], "e1"));
        assert!(!s.apply_window_asked_at(&q, window(&["a"], "e1"), asked_at), "the older answer is dropped");
        assert_eq!(ids(&s.rows(&q, 0, 2)), ["n", "a"]);
        let now = s.list_revision(&q);
        assert!(s.apply_window_asked_at(&q, window(&["n", "a"], "e1"), now));
    }

    #[test]
    fn summaries_of_another_message_state_only_fill_in_unknown_messages() {
        let (mut s, q) = store();
        s.states.email = Some("e2".into());
        let mut read_elsewhere = summary("a", "in", false);
        read_elsewhere.subject = "known".into();
        s.put_email(read_elsewhere);
        let old = Window {
            position: 0,
            ids: vec!["a".into(), "z".into()],
            total: None,
            query_state: Some("q1".into()),
            summaries: vec![summary("a", "in", true), summary("z", "in", true)],
            email_state: Some("e1".into()),
        };
        s.apply_window(&q, old);
        assert!(!s.email("a").unwrap().is_unread(), "the newer keywords stay");
        assert!(s.email("z").is_some(), "an unknown message is filled in");
    }

    #[test]
    fn far_windows_are_pages_and_unknown_rows_are_loading() {
        let mut s = MailStore::new();
        let q = MailQuery::mailbox("big");
        let window = |position: u64, n: u64| Window {
            position,
            ids: (position..position + n).map(|i| format!("m{i}")).collect(),
            total: Some(2000),
            query_state: Some("q".into()),
            summaries: (position..position + n).map(|i| summary(&format!("m{i}"), "big", false)).collect(),
            email_state: Some("e".into()),
        };
        s.apply_window(&q, window(0, 50));
        s.apply_window(&q, window(1000, 50));
        assert!(s.has_rows(&q, 0, 50) && s.has_rows(&q, 1000, 1050) && !s.has_rows(&q, 50, 60));
        let rows = s.rows(&q, 998, 1002);
        assert_eq!(ids(&rows), ["?998", "?999", "m1000", "m1001"]);
        // Loading the next window after the head extends the head.
        s.apply_window(&q, window(50, 50));
        assert_eq!(s.list(&q).unwrap().head.len(), 100);
    }

    #[test]
    fn created_folders_use_their_local_id_until_the_server_names_them() {
        let (mut s, _) = store();
        let local = s.new_local_mailbox_id();
        let create =
            s.push_action(Action::CreateMailbox { local_id: local.clone(), name: "Trips".into(), parent_id: None });
        s.push_action(Action::Move { ids: vec!["a".into()], from: Some("in".into()), to: local.clone() });
        assert_eq!(counts(&s, &local), (1, 1));
        s.action_done(create, Some("srv-trips".into()));
        assert_eq!(s.server_id(&local), "srv-trips");
    }

    #[test]
    fn restore_forgets_messages_nothing_refers_to() {
        let saved = Saved {
            emails: vec![summary("kept", "in", false), summary("stray", "in", false)],
            lists: vec![QueryList { head: vec!["kept".into()], ..QueryList::new(MailQuery::mailbox("in")) }],
            ..Saved::default()
        };
        let (s, forgotten) = MailStore::restore(saved);
        assert!(s.has_email("kept") && !s.has_email("stray"));
        assert_eq!(forgotten, ["stray"]);
    }
}
