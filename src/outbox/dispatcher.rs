//! Sends the outbox's jobs: one job at a time per run, highest priority first, each attempt under
//! a timeout, every state change written to IndexedDB before the next step, and a check with the
//! server before any retry whose previous attempt may have gone out.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use futures_util::future::{select, Either};
use futures_util::FutureExt;

use super::queue::{Failure, Job, JobState, OutboxError, Policy, Priority, Queue, Stats};
use super::classify;
use crate::cache::{kind, OfflineCache, Op, OUTBOX};
use crate::mail::backend::{MailBackend, SendMailboxes};
use crate::mail::{Draft, MailError};
use crate::net::{now_ms, sleep};

/// A server to send an account's mail through.
#[derive(Clone)]
pub struct Sender {
    pub backend: Rc<dyn MailBackend>,
    pub mailboxes: SendMailboxes,
}

pub struct Outbox {
    queue: RefCell<Queue>,
    policy: Policy,
    cache: Option<Rc<OfflineCache>>,
    senders: RefCell<HashMap<String, Sender>>,
    running: Cell<bool>,
}

impl Outbox {
    /// The outbox as persisted; jobs a closed tab left mid-send come back with an unknown outcome.
    pub async fn open(cache: Option<Rc<OfflineCache>>, policy: Policy) -> Outbox {
        let mut queue = Queue::default();
        if let Some(c) = &cache {
            for text in c.load_kind(OUTBOX, kind::JOB).await.unwrap_or_default() {
                if let Ok(job) = serde_json::from_str::<Job>(&text) {
                    queue.next_seq = queue.next_seq.max(job.seq);
                    queue.jobs.push(job);
                }
            }
            queue.jobs.sort_by_key(|j| j.seq);
        }
        let recovered = queue.recover_interrupted();
        let outbox = Outbox { queue: RefCell::new(queue), policy, cache, senders: RefCell::default(), running: Cell::new(false) };
        for id in recovered {
            outbox.persist(&id).await;
        }
        outbox
    }

    pub fn set_sender(&self, account: &str, sender: Sender) {
        self.senders.borrow_mut().insert(account.to_owned(), sender);
    }

    pub fn stats(&self) -> Stats {
        self.queue.borrow().stats()
    }

    pub fn jobs(&self) -> Vec<Job> {
        self.queue.borrow().jobs.clone()
    }

    /// Queues a message; `delay_ms` holds it (undo window, scheduled send). Persisted before it returns.
    pub async fn enqueue(&self, account: &str, mut draft: Draft, priority: Priority, replaces_draft: Option<String>, delay_ms: u64) -> Result<String, OutboxError> {
        if draft.message_id.is_none() {
            // Stable across attempts: how the server is asked whether an attempt went out.
            draft.message_id = Some(format!("{}.{}@petrel.invalid", now_ms() as u64, (js_sys::Math::random() * 1e12) as u64));
        }
        let now = now_ms();
        let job = self.queue.borrow_mut().enqueue(&self.policy, account, draft, priority, replaces_draft, now, now + delay_ms as f64)?.clone();
        self.persist(&job.id).await;
        Ok(job.id)
    }

    /// Undo: the job stays unsent.
    pub async fn cancel(&self, id: &str) -> Result<(), OutboxError> {
        self.queue.borrow_mut().cancel(id)?;
        self.persist(id).await;
        Ok(())
    }

    async fn persist(&self, id: &str) {
        let Some(cache) = &self.cache else { return };
        let op = self.queue.borrow().get(id).and_then(|j| serde_json::to_string(j).ok()).map(|json| Op::Put { kind: kind::JOB, id: id.to_owned(), json });
        if let Some(op) = op {
            // A write that fails leaves the job in memory; it is written with its next change.
            let _ = cache.save(OUTBOX, vec![op]).await;
        }
    }

    /// Sends every job that is due now, in order, until none is left (or their servers are not
    /// set). Returns how many went out. Concurrent calls leave the work to the one running.
    pub async fn run(&self) -> usize {
        if self.running.replace(true) {
            return 0;
        }
        let mut sent = 0;
        loop {
            let next = self.queue.borrow().next_due(now_ms()).cloned();
            let Some(job) = next else { break };
            let Some(sender) = self.senders.borrow().get(&job.account).cloned() else { break };
            if self.attempt(&job, &sender).await {
                sent += 1;
            }
        }
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

    /// One attempt at `job`; true when it is (now known to be) sent.
    async fn attempt(&self, job: &Job, sender: &Sender) -> bool {
        let retry = job.attempts > 0;
        self.queue.borrow_mut().start_attempt(&job.id);
        self.persist(&job.id).await;
        let timeout = self.policy.timeout_ms(job.attempts);
        let mut replaces = job.replaces_draft.clone();
        if retry {
            // An earlier attempt may have gone out with no answer: ask before sending again.
            let message_id = job.draft.message_id.clone().unwrap_or_default();
            match with_timeout(sender.backend.find_by_message_id(&message_id), timeout).await {
                Ok(Some(found)) if !found.still_draft => {
                    self.queue.borrow_mut().sent(&job.id, now_ms());
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
        let result = with_timeout(sender.backend.send(&job.draft, &sender.mailboxes, replaces.as_deref()), timeout).await;
        match result {
            Ok(_) => {
                self.queue.borrow_mut().sent(&job.id, now_ms());
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

    pub fn state_of(&self, id: &str) -> Option<JobState> {
        self.queue.borrow().get(id).map(|j| j.state)
    }
}

/// The outcome of `future`, or an ambiguous network error after `ms` (the request may have left).
async fn with_timeout<T>(future: crate::mail::backend::BackendFuture<'_, T>, ms: u64) -> Result<T, MailError> {
    match select(future, sleep(ms.min(u32::MAX as u64) as u32).boxed_local()).await {
        Either::Left((result, _)) => result,
        Either::Right(_) => Err(MailError::Jmap(crate::jmap::JmapError::Network(crate::net::NetError::Interrupted(format!("no answer within {ms} ms"))))),
    }
}
