//! Sends the outbox's jobs: highest priority first, at most `concurrency` at a time, each attempt
//! under a timeout, every state change written to IndexedDB (and announced to other tabs) before
//! the next step, and a check with the server before any retry whose previous attempt may have
//! gone out. Only the context holding the dispatch Web Lock sends; the others follow along.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_channel::oneshot;
use futures_util::future::{select, Either, LocalBoxFuture};
use futures_util::stream::{FuturesUnordered, StreamExt};
use futures_util::FutureExt;
use js_sys::Reflect;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

use super::classify;
use super::queue::{Failure, Job, JobState, OutboxError, Policy, Priority, Queue, Stats, Undo};
use super::store::JobStore;
use super::tabs::{self, JobChannel, DISPATCH_LOCK};
use crate::cache::OfflineCache;
use crate::mail::backend::{MailBackend, SendMailboxes};
use crate::mail::{Draft, MailError};
use crate::net::{now_ms, sleep};

/// A server to send an account's mail through.
#[derive(Clone)]
pub struct Sender {
    pub backend: Rc<dyn MailBackend>,
    pub mailboxes: SendMailboxes,
}

/// The dispatch loop's doorbell: [`Bell::arm`] before waiting, [`Bell::ring`] from anywhere.
#[derive(Clone, Default)]
struct Bell(Rc<RefCell<Option<oneshot::Sender<()>>>>);

impl Bell {
    fn arm(&self) -> oneshot::Receiver<()> {
        let (tx, rx) = oneshot::channel();
        *self.0.borrow_mut() = Some(tx);
        rx
    }

    fn ring(&self) {
        if let Some(tx) = self.0.borrow_mut().take() {
            let _ = tx.send(());
        }
    }
}

type Listener = Box<dyn Fn()>;
type Listeners = Rc<RefCell<Vec<(u64, Listener)>>>;

/// Keeps a listener registered with [`Outbox::subscribe`]; dropping it unregisters.
pub struct Subscription {
    id: u64,
    listeners: std::rc::Weak<RefCell<Vec<(u64, Listener)>>>,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        if let Some(listeners) = self.listeners.upgrade() {
            listeners.borrow_mut().retain(|(id, _)| *id != self.id);
        }
    }
}

pub struct Outbox {
    queue: Rc<RefCell<Queue>>,
    policy: Policy,
    store: Option<Rc<dyn JobStore>>,
    senders: RefCell<HashMap<String, Sender>>,
    running: Cell<bool>,
    channel: Option<JobChannel>,
    listeners: Listeners,
    next_listener: Cell<u64>,
    bell: Bell,
    stopped: Cell<bool>,
}

impl Outbox {
    /// The outbox as persisted in the offline cache, following other tabs' changes from now on.
    pub async fn open(cache: Option<Rc<OfflineCache>>, policy: Policy) -> Outbox {
        Outbox::open_on(cache.map(|c| c as Rc<dyn JobStore>), policy).await
    }

    /// The outbox as persisted in `store` (an edge runtime's storage, where there is no IndexedDB).
    pub async fn open_on(store: Option<Rc<dyn JobStore>>, policy: Policy) -> Outbox {
        let queue = Rc::new(RefCell::new(Queue::default()));
        let listeners: Listeners = Rc::default();
        let bell = Bell::default();
        let channel = {
            let (queue, listeners, bell) = (queue.clone(), listeners.clone(), bell.clone());
            JobChannel::open(move |text| {
                let Ok(job) = serde_json::from_str::<Job>(&text) else { return };
                if queue.borrow_mut().merge(job) {
                    notify(&listeners);
                    // A job another tab queued may be due: the dispatcher looks (and waits its turn).
                    bell.ring();
                }
            })
        };
        let outbox = Outbox {
            queue,
            policy,
            store,
            senders: RefCell::default(),
            running: Cell::new(false),
            channel,
            listeners,
            next_listener: Cell::new(0),
            bell,
            stopped: Cell::new(false),
        };
        outbox.reload().await;
        outbox
    }

    /// Takes in what IndexedDB holds (other tabs may have written while this one was away).
    async fn reload(&self) {
        let Some(store) = &self.store else { return };
        let texts = store.load_jobs().await.unwrap_or_default();
        let mut changed = false;
        {
            let mut queue = self.queue.borrow_mut();
            for text in texts {
                if let Ok(job) = serde_json::from_str::<Job>(&text) {
                    changed |= queue.merge(job);
                }
            }
        }
        if changed {
            notify(&self.listeners);
        }
    }

    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// The server for an account's mail; sending resumes for it.
    pub fn set_sender(&self, account: &str, sender: Sender) {
        self.senders.borrow_mut().insert(account.to_owned(), sender);
        self.wake();
    }

    /// Calls `listener` after every change of any job, here or in another tab, for as long as
    /// the returned subscription is kept.
    #[must_use]
    pub fn subscribe(&self, listener: impl Fn() + 'static) -> Subscription {
        let id = self.next_listener.get() + 1;
        self.next_listener.set(id);
        self.listeners.borrow_mut().push((id, Box::new(listener)));
        Subscription { id, listeners: Rc::downgrade(&self.listeners) }
    }

    pub fn stats(&self) -> Stats {
        self.queue.borrow().stats()
    }

    pub fn jobs(&self) -> Vec<Job> {
        self.queue.borrow().jobs.clone()
    }

    pub fn job(&self, id: &str) -> Option<Job> {
        self.queue.borrow().get(id).cloned()
    }

    /// When the next waiting job is due (`None` when nothing waits).
    pub fn next_wake_ms(&self) -> Option<f64> {
        self.queue.borrow().next_wake_ms()
    }

    pub fn state_of(&self, id: &str) -> Option<JobState> {
        self.queue.borrow().get(id).map(|j| j.state)
    }

    /// Queues a message that must not leave for `delay_ms` (undo window, scheduled send).
    /// Persisted before it returns.
    pub async fn enqueue(
        &self,
        account: &str,
        mut draft: Draft,
        priority: Priority,
        replaces_draft: Option<String>,
        delay_ms: u64,
    ) -> Result<String, OutboxError> {
        if draft.message_id.is_none() {
            // Stable across attempts: how the server is asked whether an attempt went out.
            draft.message_id = Some(format!("{}.{}@petrel.invalid", now_ms() as u64, random_u64()));
        }
        if draft.sent_at.is_none() {
            // When it is meant to leave (after the undo window, or at its scheduled time), in
            // whole seconds: "2026-11-21T10:00:00Z".
            let iso = String::from(js_sys::Date::new(&(now_ms() + delay_ms as f64).into()).to_iso_string());
            draft.sent_at = Some(format!("{}Z", iso.split('.').next().unwrap_or(&iso).trim_end_matches('Z')));
        }
        let server_holds = delay_ms > 0
            && self.policy.server_hold
            && self
                .senders
                .borrow()
                .get(account)
                .is_some_and(|s| s.backend.max_hold_secs().saturating_mul(1000) >= delay_ms);
        let now = now_ms();
        let id = self
            .queue
            .borrow_mut()
            .enqueue(
                &self.policy,
                account,
                draft,
                priority,
                replaces_draft,
                now,
                now + delay_ms as f64,
                server_holds,
                random_u64(),
            )?
            .id
            .clone();
        self.persist(&id).await;
        self.wake();
        Ok(id)
    }

    /// Sends a failed job again from scratch (after the user fixed what was wrong).
    pub async fn retry(&self, id: &str) {
        self.queue.borrow_mut().retry(id, now_ms());
        self.persist(id).await;
        self.wake();
    }

    /// Undo: takes the message back, from the server if it holds it. Waits for any attempt under
    /// way (in any tab) to finish first, so its outcome is known.
    pub async fn cancel(&self, id: &str) -> Result<(), OutboxError> {
        let _turn = self.take_turn().await;
        let undo = self.queue.borrow_mut().cancel(id, now_ms());
        match undo? {
            Undo::Done => {}
            Undo::OnServer { submission_id, email_id } => {
                let sender = self.sender_for(id).ok_or(OutboxError::NoServer)?;
                self.take_back(id, &sender, &submission_id, &email_id).await?;
            }
            Undo::AskServer => {
                let sender = self.sender_for(id).ok_or(OutboxError::NoServer)?;
                let message_id = self.job(id).and_then(|j| j.draft.message_id).unwrap_or_default();
                let found = sender
                    .backend
                    .find_by_message_id(&message_id)
                    .await
                    .map_err(|e| OutboxError::Server(e.to_string()))?;
                match found {
                    Some(f) if !f.still_draft => match f.held_submission {
                        Some(submission) => self.take_back(id, &sender, &submission, &f.email_id).await?,
                        None => {
                            self.queue.borrow_mut().sent(id, now_ms(), Some(f.email_id), None, None);
                            self.persist(id).await;
                            return Err(OutboxError::NotCancellable);
                        }
                    },
                    // Never submitted (a leftover draft stays in Drafts).
                    _ => self.queue.borrow_mut().cancelled(id),
                }
            }
        }
        self.persist(id).await;
        Ok(())
    }

    /// Cancels a submission the server holds. Too late (it left a moment ago, the server's clock
    /// being ahead of ours): the job is marked sent.
    async fn take_back(
        &self,
        id: &str,
        sender: &Sender,
        submission_id: &str,
        email_id: &str,
    ) -> Result<(), OutboxError> {
        match sender.backend.cancel_send(submission_id, email_id, &sender.mailboxes).await {
            Ok(()) => {
                self.queue.borrow_mut().cancelled(id);
                Ok(())
            }
            Err(MailError::AlreadySent) => {
                self.queue.borrow_mut().sent(id, now_ms(), None, None, None);
                self.persist(id).await;
                Err(OutboxError::NotCancellable)
            }
            Err(e) => Err(OutboxError::Server(e.to_string())),
        }
    }

    fn sender_for(&self, id: &str) -> Option<Sender> {
        let account = self.queue.borrow().get(id)?.account.clone();
        self.senders.borrow().get(&account).cloned()
    }

    async fn persist(&self, id: &str) {
        let Some(json) = self.queue.borrow().get(id).and_then(|j| serde_json::to_string(j).ok()) else { return };
        if let Some(store) = &self.store {
            // A write that fails leaves the job in memory; it is written with its next change.
            let _ = store.save_job(id, &json).await;
        }
        if let Some(channel) = &self.channel {
            channel.post(&json);
        }
        notify(&self.listeners);
    }

    /// Waits for the dispatch lock, then takes in what other tabs wrote. Under the lock nobody
    /// else is sending: a job still marked `Sending` was left so by a context that died
    /// mid-attempt, and its outcome is unknown.
    async fn take_turn(&self) -> Option<tabs::HeldLock> {
        let lock = tabs::lock(DISPATCH_LOCK).await;
        self.reload().await;
        let ids = self.queue.borrow_mut().recover_interrupted();
        for id in ids {
            self.persist(&id).await;
        }
        lock
    }

    /// Sends every job that is due now, until none is left (or their servers are not set).
    /// Returns how many went out. Waits while another tab or worker dispatches.
    pub async fn run(&self) -> usize {
        let nothing_to_do = {
            let queue = self.queue.borrow();
            queue.next_due(now_ms()).is_none() && !queue.jobs.iter().any(|j| j.state == JobState::Sending)
        };
        if nothing_to_do || self.running.replace(true) {
            return 0;
        }
        let lock = self.take_turn().await;
        let mut sent = 0;
        let mut in_flight: FuturesUnordered<LocalBoxFuture<'_, bool>> = FuturesUnordered::new();
        let mut busy: Vec<String> = Vec::new();
        loop {
            while in_flight.len() < self.policy.concurrency.max(1) && is_online() {
                let next = {
                    let senders = self.senders.borrow();
                    self.queue
                        .borrow()
                        .next_due_where(now_ms(), |j| !busy.contains(&j.id) && senders.contains_key(&j.account))
                        .cloned()
                };
                let Some(job) = next else { break };
                let Some(sender) = self.senders.borrow().get(&job.account).cloned() else { break };
                busy.push(job.id.clone());
                in_flight.push(self.attempt(job, sender).boxed_local());
            }
            match in_flight.next().await {
                Some(ok) => sent += ok as usize,
                None => break,
            }
            busy.retain(|id| self.state_of(id) == Some(JobState::Sending));
        }
        drop(lock);
        self.running.set(false);
        sent
    }

    /// Runs until no job is waiting (sent, failed or cancelled), sleeping through backoff delays.
    pub async fn run_until_idle(&self) -> usize {
        let mut sent = 0;
        loop {
            sent += self.run().await;
            let wake = self.queue.borrow().next_wake_ms();
            match wake {
                None => return sent,
                Some(at) => sleep((at - now_ms()).clamp(0.0, 600_000.0) as u32).await,
            }
        }
    }

    /// The dispatcher's life in a page or worker: runs whenever something is due, and is woken
    /// early by a new job, a sender set, another tab's change or the network coming back.
    /// Going offline pauses it (no attempt is spent on a network that is not there).
    pub async fn serve(&self) {
        let bell = self.bell.clone();
        let on_online = Closure::<dyn FnMut()>::new(move || bell.ring());
        let global = js_sys::global();
        let add: Option<js_sys::Function> =
            Reflect::get(&global, &"addEventListener".into()).ok().and_then(|f| f.dyn_into().ok());
        if let Some(add) = &add {
            let _ = add.call2(&global, &"online".into(), on_online.as_ref());
        }
        while !self.stopped.get() {
            let rx = self.bell.arm();
            self.run().await;
            let wait =
                self.queue.borrow().next_wake_ms().map(|at| (at - now_ms()).clamp(0.0, 60_000.0)).unwrap_or(60_000.0);
            let _ = select(rx, sleep(wait as u32).boxed_local()).await;
        }
        if let Ok(remove) =
            Reflect::get(&global, &"removeEventListener".into()).and_then(|f| f.dyn_into::<js_sys::Function>())
        {
            let _ = remove.call2(&global, &"online".into(), on_online.as_ref());
        }
    }

    /// Ends [`Outbox::serve`].
    pub fn stop(&self) {
        self.stopped.set(true);
        self.wake();
    }

    /// Makes a waiting [`Outbox::serve`] look at the queue now (a push event, a new job).
    pub fn wake(&self) {
        self.bell.ring();
    }

    /// One attempt at `job`; true when it is (now known to be) sent.
    async fn attempt(&self, job: Job, sender: Sender) -> bool {
        let now = now_ms();
        if job.is_held(now) {
            let wait_ms = job.send_at_ms.unwrap_or(now) - now;
            if !self.policy.server_hold || (sender.backend.max_hold_secs() as f64) * 1000.0 < wait_ms {
                // This server cannot hold it that long: it waits here until its time.
                self.queue.borrow_mut().hold_locally(&job.id);
                self.persist(&job.id).await;
                return false;
            }
        }
        self.queue.borrow_mut().start_attempt(&job.id);
        self.persist(&job.id).await;
        let timeout = self.policy.timeout_ms(job.attempts);
        let mut replaces = job.replaces_draft.clone();
        if job.outcome_unknown {
            // An earlier attempt may have gone out with no answer: ask before sending again.
            let message_id = job.draft.message_id.clone().unwrap_or_default();
            match with_timeout(sender.backend.find_by_message_id(&message_id), timeout).await {
                Ok(Some(found)) if !found.still_draft => {
                    let held = found.held_submission.is_some().then_some(job.send_at_ms).flatten();
                    self.queue.borrow_mut().sent(&job.id, now_ms(), Some(found.email_id), found.held_submission, held);
                    self.persist(&job.id).await;
                    return true;
                }
                // Created but not submitted: send anew in its place.
                Ok(Some(found)) => replaces = Some(found.email_id),
                Ok(None) => {}
                Err(e) => {
                    self.fail(&job.id, classify(&e)).await;
                    return false;
                }
            }
        }
        let hold_until = job.send_at_ms.filter(|t| *t > now_ms());
        let result =
            with_timeout(sender.backend.send(&job.draft, &sender.mailboxes, replaces.as_deref(), hold_until), timeout)
                .await;
        match result {
            Ok(receipt) => {
                self.queue.borrow_mut().sent(
                    &job.id,
                    now_ms(),
                    Some(receipt.email_id),
                    receipt.submission_id,
                    receipt.held_until_ms,
                );
                self.persist(&job.id).await;
                true
            }
            Err(e) => {
                self.fail(&job.id, classify(&e)).await;
                false
            }
        }
    }

    async fn fail(&self, id: &str, failure: Failure) {
        self.queue.borrow_mut().failed(id, failure, &self.policy, now_ms(), js_sys::Math::random());
        self.persist(id).await;
    }
}

fn notify(listeners: &Listeners) {
    for (_, listener) in listeners.borrow().iter() {
        listener();
    }
}

fn random_u64() -> u64 {
    (js_sys::Math::random() * 9.0e15) as u64
}

/// `navigator.onLine`; true when the browser cannot tell.
fn is_online() -> bool {
    let global = js_sys::global();
    Reflect::get(&global, &"navigator".into())
        .and_then(|n| Reflect::get(&n, &"onLine".into()))
        .ok()
        .and_then(|v| v.as_bool())
        .unwrap_or(true)
}

/// The outcome of `future`, or an ambiguous network error after `ms` (the request may have left).
async fn with_timeout<T>(future: crate::mail::backend::BackendFuture<'_, T>, ms: u64) -> Result<T, MailError> {
    match select(future, sleep(ms.min(u32::MAX as u64) as u32).boxed_local()).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => {
            Err(crate::jmap::JmapError::Network(crate::net::NetError::Interrupted(format!("no answer within {ms} ms")))
                .into())
        }
    }
}
