//! The outbox's queue as plain data and rules: which job goes next, what a failure does to it,
//! when it is tried again. No I/O here: the dispatcher persists the queue and talks to servers.

use serde::{Deserialize, Serialize};

use crate::mail::Draft;
use crate::net::backoff::Backoff;

/// Sending order: every CRITICAL job before any HIGH one, and so on; FIFO within one priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Priority {
    Critical,
    High,
    Normal,
    Low,
}

impl Priority {
    /// A reply to mail marked urgent goes out first among the user's own sends.
    pub fn for_reply(original_is_urgent: bool) -> Priority {
        if original_is_urgent {
            Priority::High
        } else {
            Priority::Normal
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum JobState {
    Queued,
    /// An attempt is under way (or was, when the tab died: then its outcome is unknown).
    Sending,
    Sent,
    /// Gave up: a permanent error, or out of attempts. The user may edit and resend.
    Failed,
    Cancelled,
}

/// One message to send, with everything needed to send it after a restart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    pub id: String,
    pub account: String,
    pub priority: Priority,
    /// Enqueue order, for FIFO within a priority.
    pub seq: u64,
    /// The whole message; its `message_id` is stable across attempts (how a resend is recognised).
    pub draft: Draft,
    /// The saved draft this message replaces (removed when it is sent).
    pub replaces_draft: Option<String>,
    pub state: JobState,
    pub attempts: u32,
    /// Epoch milliseconds: not before this (backoff, undo window or scheduled send).
    pub not_before_ms: f64,
    pub last_error: Option<String>,
    /// The last attempt ended without an answer: ask the server before sending again.
    pub outcome_unknown: bool,
    pub enqueued_ms: f64,
    pub sent_ms: Option<f64>,
    /// Serialized size, counted against the queue's byte limit.
    pub bytes: u64,
    /// Bumped by every change: of two copies (another tab's broadcast, IndexedDB), the higher wins.
    #[serde(default)]
    pub revision: u64,
    /// Of `attempts`, those that never reached the server: they do not count towards the limit.
    #[serde(default)]
    pub unreached: u32,
    /// Epoch milliseconds the message must not leave before (undo window, scheduled send): held
    /// by the server when it can, else here.
    #[serde(default)]
    pub send_at_ms: Option<f64>,
    /// What the server made of it: the message and its submission (to undo a held send).
    #[serde(default)]
    pub email_id: Option<String>,
    #[serde(default)]
    pub submission_id: Option<String>,
    /// The server holds the submission until then; undo can still take it back.
    #[serde(default)]
    pub held_until_ms: Option<f64>,
}

impl Job {
    /// Still inside its undo window or before its scheduled time.
    pub fn is_held(&self, now_ms: f64) -> bool {
        self.send_at_ms.is_some_and(|t| t > now_ms)
    }
}

/// How to take back a job (see [`Queue::cancel`]).
#[derive(Debug, Clone, PartialEq)]
pub enum Undo {
    /// It never left: cancelled here.
    Done,
    /// The server holds it: cancel the submission there.
    OnServer { submission_id: String, email_id: String },
    /// An attempt got no answer: ask the server what became of it first.
    AskServer,
}

/// How an attempt failed, which decides what happens next.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// Worth trying again (network, timeout, 429/5xx, server busy); the server's wait wins.
    Transient { reason: String, retry_after_ms: Option<u64> },
    /// The request may have reached the server: check before any retry.
    Ambiguous { reason: String },
    /// Trying again cannot help (bad recipient, refused sender, too large, credentials refused).
    Permanent { reason: String },
    /// The server could not be reached at all (offline, server down): checked before a retry
    /// like an ambiguous one, but not counted against `max_attempts`: an outage of an hour must
    /// not fail the mail, it waits (backing off to the cap) until the server is back.
    Unreachable { reason: String },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    pub backoff: Backoff,
    /// Attempts before a job is marked failed.
    pub max_attempts: u32,
    /// The first attempt's timeout; it doubles with each attempt (up to `backoff.cap_ms`).
    pub attempt_timeout_ms: u64,
    pub max_jobs: usize,
    pub max_bytes: u64,
    /// Jobs sent at the same time.
    pub concurrency: usize,
    /// Let the server hold undo windows and scheduled sends when it can (they then leave even
    /// with every tab closed); off, they wait in this queue.
    pub server_hold: bool,
    /// The undo window offered after "Send".
    pub undo_window_ms: u64,
}

impl Default for Policy {
    /// After Stalwart's RPC defaults: first retry ~1 s, ceiling 180 s, 5 attempts, 1 s timeout doubling.
    fn default() -> Self {
        Policy {
            backoff: Backoff::new(1_000, 180_000),
            max_attempts: 5,
            attempt_timeout_ms: 1_000,
            max_jobs: 10_000,
            max_bytes: 200 * 1024 * 1024,
            concurrency: 2,
            server_hold: true,
            undo_window_ms: 10_000,
        }
    }
}

impl Policy {
    pub fn timeout_ms(&self, attempt: u32) -> u64 {
        Backoff::new(self.attempt_timeout_ms, self.backoff.cap_ms.max(self.attempt_timeout_ms)).ceiling_ms(attempt)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutboxError {
    #[error("the outbox is full ({jobs} messages waiting); wait for them to go out or cancel some")]
    TooManyJobs { jobs: usize },
    #[error("the outbox has no room for {bytes} more bytes (limit {limit}); remove large attachments or wait")]
    TooLarge { bytes: u64, limit: u64 },
    #[error("this message has already left or was cancelled")]
    NotCancellable,
    #[error("this message is unknown to the outbox")]
    UnknownJob,
    #[error("the server is out of reach, so the message cannot be taken back now; try again when online")]
    NoServer,
    #[error("the server could not take the message back: {0}")]
    Server(String),
    #[error("the message has no recipient")]
    NoRecipient,
}

/// Counts for the outbox view and the stats API.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Stats {
    pub queued: usize,
    pub sending: usize,
    pub sent: usize,
    pub failed: usize,
    pub cancelled: usize,
    /// Attempts beyond the first, over all jobs.
    pub retries: u64,
    /// Mean time from enqueue to sent, over sent jobs.
    pub average_latency_ms: Option<f64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Queue {
    pub jobs: Vec<Job>,
    pub next_seq: u64,
}

impl Queue {
    /// Adds a message that must not leave before `send_at_ms` (the undo window's end or a scheduled
    /// time). With `server_holds` it is handed to the server at once, which holds it; otherwise it
    /// waits here. `nonce` makes the id unique across tabs enqueueing in the same millisecond.
    #[allow(clippy::too_many_arguments)]
    pub fn enqueue(
        &mut self,
        policy: &Policy,
        account: &str,
        draft: Draft,
        priority: Priority,
        replaces_draft: Option<String>,
        now_ms: f64,
        send_at_ms: f64,
        server_holds: bool,
        nonce: u64,
    ) -> Result<&Job, OutboxError> {
        if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
            return Err(OutboxError::NoRecipient);
        }
        let waiting: Vec<&Job> =
            self.jobs.iter().filter(|j| matches!(j.state, JobState::Queued | JobState::Sending)).collect();
        if waiting.len() >= policy.max_jobs {
            return Err(OutboxError::TooManyJobs { jobs: waiting.len() });
        }
        let bytes = serde_json::to_vec(&draft).map(|v| v.len() as u64).unwrap_or(0);
        let used: u64 = waiting.iter().map(|j| j.bytes).sum();
        if used + bytes > policy.max_bytes {
            return Err(OutboxError::TooLarge { bytes, limit: policy.max_bytes });
        }
        self.next_seq += 1;
        self.jobs.push(Job {
            id: format!("job-{}-{nonce:x}", now_ms as u64),
            account: account.to_owned(),
            priority,
            seq: self.next_seq,
            draft,
            replaces_draft,
            state: JobState::Queued,
            attempts: 0,
            not_before_ms: if server_holds { now_ms } else { send_at_ms },
            last_error: None,
            outcome_unknown: false,
            enqueued_ms: now_ms,
            sent_ms: None,
            bytes,
            revision: 1,
            unreached: 0,
            send_at_ms: (send_at_ms > now_ms).then_some(send_at_ms),
            email_id: None,
            submission_id: None,
            held_until_ms: None,
        });
        Ok(self.jobs.last().expect("just pushed"))
    }

    pub fn get(&self, id: &str) -> Option<&Job> {
        self.jobs.iter().find(|j| j.id == id)
    }

    /// For a change: the job's revision goes up, so other copies of the queue take this one.
    fn get_mut(&mut self, id: &str) -> Option<&mut Job> {
        let job = self.jobs.iter_mut().find(|j| j.id == id)?;
        job.revision += 1;
        Some(job)
    }

    /// Takes another copy of a job (from another tab, or IndexedDB) if it is newer than ours.
    /// True when it changed something.
    pub fn merge(&mut self, job: Job) -> bool {
        match self.jobs.iter_mut().find(|j| j.id == job.id) {
            Some(mine) if mine.revision >= job.revision => false,
            Some(mine) => {
                *mine = job;
                true
            }
            None => {
                self.next_seq = self.next_seq.max(job.seq);
                self.jobs.push(job);
                true
            }
        }
    }

    /// The job to send next at `now_ms`: due, highest priority, oldest.
    pub fn next_due(&self, now_ms: f64) -> Option<&Job> {
        self.next_due_where(now_ms, |_| true)
    }

    /// Like [`Queue::next_due`], among the jobs `eligible` accepts (not already in flight, with a server).
    pub fn next_due_where(&self, now_ms: f64, eligible: impl Fn(&Job) -> bool) -> Option<&Job> {
        self.jobs.iter().filter(|j| j.state == JobState::Queued && j.not_before_ms <= now_ms && eligible(j)).min_by(
            |a, b| a.priority.cmp(&b.priority).then(a.enqueued_ms.total_cmp(&b.enqueued_ms)).then(a.seq.cmp(&b.seq)),
        )
    }

    /// The server cannot hold this job until its time: it waits here instead.
    pub fn hold_locally(&mut self, id: &str) {
        if let Some(j) = self.get_mut(id) {
            j.not_before_ms = j.send_at_ms.unwrap_or(j.not_before_ms);
        }
    }

    /// When the next job becomes due (for the dispatcher's timer).
    pub fn next_wake_ms(&self) -> Option<f64> {
        self.jobs.iter().filter(|j| j.state == JobState::Queued).map(|j| j.not_before_ms).min_by(|a, b| a.total_cmp(b))
    }

    /// An attempt starts: if the tab dies now, the next run treats the outcome as unknown.
    pub fn start_attempt(&mut self, id: &str) {
        if let Some(j) = self.get_mut(id) {
            j.state = JobState::Sending;
            j.attempts += 1;
            j.outcome_unknown = true;
        }
    }

    /// The server took the message (and may hold it until `held_until_ms`).
    pub fn sent(
        &mut self,
        id: &str,
        now_ms: f64,
        email_id: Option<String>,
        submission_id: Option<String>,
        held_until_ms: Option<f64>,
    ) {
        if let Some(j) = self.get_mut(id) {
            j.state = JobState::Sent;
            j.outcome_unknown = false;
            j.last_error = None;
            j.sent_ms = Some(now_ms);
            j.email_id = email_id.or(j.email_id.take());
            j.submission_id = submission_id.or(j.submission_id.take());
            j.held_until_ms = held_until_ms;
        }
    }

    /// Applies a failed attempt: retry later (backoff with full jitter, or the server's wait), or give up.
    pub fn failed(&mut self, id: &str, failure: Failure, policy: &Policy, now_ms: f64, unit_random: f64) {
        let Some(j) = self.get_mut(id) else { return };
        let (reason, retry_after, permanent, ambiguous) = match failure {
            Failure::Transient { reason, retry_after_ms } => (reason, retry_after_ms, false, false),
            Failure::Ambiguous { reason } => (reason, None, false, true),
            Failure::Permanent { reason } => (reason, None, true, false),
            Failure::Unreachable { reason } => {
                j.unreached += 1;
                (reason, None, false, true)
            }
        };
        j.last_error = Some(reason);
        j.outcome_unknown = ambiguous;
        if permanent || j.attempts.saturating_sub(j.unreached) >= policy.max_attempts {
            j.state = JobState::Failed;
            return;
        }
        let delay = retry_after.unwrap_or_else(|| policy.backoff.delay_ms(j.attempts.saturating_sub(1), unit_random));
        j.state = JobState::Queued;
        j.not_before_ms = now_ms + delay as f64;
    }

    /// Jobs found `Sending` (their tab died mid-attempt) are queued again, outcome unknown.
    /// Returns their ids.
    pub fn recover_interrupted(&mut self) -> Vec<String> {
        let mut ids = Vec::new();
        for j in self.jobs.iter_mut().filter(|j| j.state == JobState::Sending) {
            j.state = JobState::Queued;
            j.outcome_unknown = true;
            ids.push(j.id.clone());
        }
        ids
    }

    /// Takes back a job that has not left (undo, or the user's choice): at once when it never
    /// reached the server, else says what to ask of the server.
    pub fn cancel(&mut self, id: &str, now_ms: f64) -> Result<Undo, OutboxError> {
        let job = self.get(id).ok_or(OutboxError::UnknownJob)?;
        match job.state {
            JobState::Queued if job.outcome_unknown => Ok(Undo::AskServer),
            JobState::Queued | JobState::Failed => {
                self.cancelled(id);
                Ok(Undo::Done)
            }
            JobState::Sent if job.held_until_ms.is_some_and(|t| t > now_ms) => {
                match (&job.submission_id, &job.email_id) {
                    (Some(s), Some(e)) => Ok(Undo::OnServer { submission_id: s.clone(), email_id: e.clone() }),
                    _ => Err(OutboxError::NotCancellable),
                }
            }
            _ => Err(OutboxError::NotCancellable),
        }
    }

    pub fn cancelled(&mut self, id: &str) {
        if let Some(j) = self.get_mut(id) {
            j.state = JobState::Cancelled;
            j.held_until_ms = None;
        }
    }

    /// Sends a failed job again from scratch (after the user fixed what was wrong).
    pub fn retry(&mut self, id: &str, now_ms: f64) {
        if let Some(j) = self.get_mut(id).filter(|j| j.state == JobState::Failed) {
            j.state = JobState::Queued;
            j.attempts = 0;
            j.unreached = 0;
            j.not_before_ms = now_ms;
        }
    }

    pub fn stats(&self) -> Stats {
        let mut s = Stats::default();
        let mut latency = Vec::new();
        for j in &self.jobs {
            match j.state {
                JobState::Queued => s.queued += 1,
                JobState::Sending => s.sending += 1,
                JobState::Sent => s.sent += 1,
                JobState::Failed => s.failed += 1,
                JobState::Cancelled => s.cancelled += 1,
            }
            s.retries += j.attempts.saturating_sub(1) as u64;
            if let Some(sent) = j.sent_ms {
                latency.push(sent - j.enqueued_ms);
            }
        }
        if !latency.is_empty() {
            s.average_latency_ms = Some(latency.iter().sum::<f64>() / latency.len() as f64);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::Address;

    fn draft(subject: &str) -> Draft {
        Draft {
            to: vec![Address { name: None, email: "a@example.org".into() }],
            subject: subject.into(),
            ..Draft::default()
        }
    }

    fn queue_of(list: &[(&str, Priority)]) -> Queue {
        let mut q = Queue::default();
        for (s, p) in list {
            q.enqueue(&Policy::default(), "acc", draft(s), *p, None, 0.0, 0.0, false, q.next_seq).unwrap();
        }
        q
    }

    fn drain(q: &mut Queue) -> Vec<String> {
        let mut out = Vec::new();
        while let Some(j) = q.next_due(0.0) {
            let (id, subject) = (j.id.clone(), j.draft.subject.clone());
            q.start_attempt(&id);
            q.sent(&id, 1.0, None, None, None);
            out.push(subject);
        }
        out
    }

    #[test]
    fn priorities_first_then_fifo() {
        let mut q = queue_of(&[
            ("n1", Priority::Normal),
            ("l1", Priority::Low),
            ("c1", Priority::Critical),
            ("h1", Priority::High),
            ("n2", Priority::Normal),
            ("c2", Priority::Critical),
        ]);
        assert_eq!(drain(&mut q), ["c1", "c2", "h1", "n1", "n2", "l1"]);
    }

    #[test]
    fn transient_failures_back_off_and_retry_after_wins() {
        let policy = Policy::default();
        let mut q = queue_of(&[("m", Priority::Normal)]);
        let id = q.jobs[0].id.clone();
        let mut delays = Vec::new();
        for _ in 0..4 {
            q.start_attempt(&id);
            q.failed(&id, Failure::Transient { reason: "HTTP 503".into(), retry_after_ms: None }, &policy, 0.0, 1.0);
            delays.push(q.jobs[0].not_before_ms.round() as u64);
        }
        // Full jitter at its top: the ceilings 1 s, 2 s, 4 s, 8 s.
        assert_eq!(delays, [1_000, 2_000, 4_000, 8_000]);
        q.start_attempt(&id);
        q.failed(
            &id,
            Failure::Transient { reason: "HTTP 429".into(), retry_after_ms: Some(30_000) },
            &policy,
            0.0,
            0.5,
        );
        assert_eq!(q.jobs[0].state, JobState::Failed, "5 attempts used up");
        let mut q = queue_of(&[("m", Priority::Normal)]);
        q.start_attempt(&q.jobs[0].id.clone());
        let id = q.jobs[0].id.clone();
        q.failed(
            &id,
            Failure::Transient { reason: "HTTP 429".into(), retry_after_ms: Some(30_000) },
            &policy,
            5.0,
            0.1,
        );
        assert_eq!(q.jobs[0].not_before_ms, 30_005.0, "Retry-After wins over the backoff");
        assert_eq!(policy.timeout_ms(0), 1_000);
        assert_eq!(policy.timeout_ms(3), 8_000);
    }

    #[test]
    fn permanent_errors_stop_at_once_and_ambiguous_ones_are_marked() {
        let policy = Policy::default();
        let mut q = queue_of(&[("bad", Priority::Normal), ("cut", Priority::Normal)]);
        let (bad, cut) = (q.jobs[0].id.clone(), q.jobs[1].id.clone());
        q.start_attempt(&bad);
        q.failed(&bad, Failure::Permanent { reason: "invalid recipient".into() }, &policy, 0.0, 0.5);
        assert_eq!(q.get(&bad).unwrap().state, JobState::Failed);
        q.start_attempt(&cut);
        q.failed(&cut, Failure::Ambiguous { reason: "connection cut".into() }, &policy, 0.0, 0.5);
        assert!(q.get(&cut).unwrap().outcome_unknown);
        assert_eq!(q.get(&cut).unwrap().state, JobState::Queued);
    }

    #[test]
    fn an_unreachable_server_never_fails_the_mail_but_a_failing_one_does() {
        let policy = Policy::default();
        let mut q = queue_of(&[("down", Priority::Normal), ("broken", Priority::Normal)]);
        let (down, broken) = (q.jobs[0].id.clone(), q.jobs[1].id.clone());
        for _ in 0..policy.max_attempts * 3 {
            q.start_attempt(&down);
            q.failed(&down, Failure::Unreachable { reason: "Failed to fetch".into() }, &policy, 0.0, 1.0);
        }
        let job = q.get(&down).unwrap();
        assert_eq!(job.state, JobState::Queued);
        assert!(job.outcome_unknown, "checked with the server before the next attempt");
        assert_eq!(job.not_before_ms, policy.backoff.cap_ms as f64, "backs off to the cap");
        for _ in 0..policy.max_attempts {
            q.start_attempt(&broken);
            q.failed(&broken, Failure::Ambiguous { reason: "HTTP 500".into() }, &policy, 0.0, 1.0);
        }
        assert_eq!(q.get(&broken).unwrap().state, JobState::Failed);
        // Once the server answers, the earlier outage is not held against the mail either.
        q.start_attempt(&down);
        q.failed(&down, Failure::Ambiguous { reason: "HTTP 500".into() }, &policy, 0.0, 1.0);
        assert_eq!(q.get(&down).unwrap().state, JobState::Queued);
    }

    #[test]
    fn a_send_interrupted_by_a_dead_tab_resumes_as_unknown() {
        let mut q = queue_of(&[("m", Priority::Normal)]);
        let id = q.jobs[0].id.clone();
        q.start_attempt(&id);
        let restored: Queue = serde_json::from_str(&serde_json::to_string(&q).unwrap()).unwrap();
        let mut restored = restored;
        assert_eq!(restored.recover_interrupted(), std::slice::from_ref(&id));
        let job = restored.get(&id).unwrap();
        assert!(job.outcome_unknown && job.state == JobState::Queued);
    }

    #[test]
    fn limits_and_cancellation() {
        let policy = Policy { max_jobs: 1, ..Policy::default() };
        let mut q = Queue::default();
        let id =
            q.enqueue(&policy, "acc", draft("one"), Priority::Low, None, 0.0, 10_000.0, false, 1).unwrap().id.clone();
        assert_eq!(
            q.enqueue(&policy, "acc", draft("two"), Priority::Low, None, 0.0, 0.0, false, 2).unwrap_err(),
            OutboxError::TooManyJobs { jobs: 1 }
        );
        assert!(q.next_due(5_000.0).is_none(), "held for the undo window");
        assert_eq!(q.cancel(&id, 5_000.0), Ok(Undo::Done));
        assert_eq!(q.cancel(&id, 5_000.0), Err(OutboxError::NotCancellable));
        assert_eq!(
            q.enqueue(&policy, "acc", Draft::default(), Priority::Low, None, 0.0, 0.0, false, 3).unwrap_err(),
            OutboxError::NoRecipient
        );
        let small = Policy { max_bytes: 10, ..Policy::default() };
        assert!(matches!(
            Queue::default().enqueue(&small, "acc", draft("x"), Priority::Low, None, 0.0, 0.0, false, 4),
            Err(OutboxError::TooLarge { .. })
        ));
        let stats = q.stats();
        assert_eq!((stats.queued, stats.cancelled), (0, 1));
    }

    #[test]
    fn a_held_send_goes_to_the_server_at_once_and_is_undone_there() {
        let policy = Policy::default();
        let mut q = Queue::default();
        let id = q
            .enqueue(&policy, "acc", draft("held"), Priority::Normal, None, 0.0, 10_000.0, true, 1)
            .unwrap()
            .id
            .clone();
        assert!(q.next_due(0.0).is_some(), "handed to the server now, which holds it");
        assert!(q.get(&id).unwrap().is_held(0.0));
        q.start_attempt(&id);
        q.sent(&id, 50.0, Some("M1".into()), Some("S1".into()), Some(10_000.0));
        assert_eq!(q.cancel(&id, 9_000.0), Ok(Undo::OnServer { submission_id: "S1".into(), email_id: "M1".into() }));
        assert_eq!(q.cancel(&id, 11_000.0), Err(OutboxError::NotCancellable), "too late: it has left");
        // A server that cannot hold it: the job waits here until its time.
        let other = q
            .enqueue(&policy, "acc", draft("later"), Priority::Normal, None, 0.0, 10_000.0, true, 2)
            .unwrap()
            .id
            .clone();
        q.hold_locally(&other);
        let job = q.get(&other).unwrap();
        assert_eq!((job.state, job.attempts, job.not_before_ms), (JobState::Queued, 0, 10_000.0));
    }

    #[test]
    fn copies_from_other_tabs_merge_by_revision() {
        let mut mine = queue_of(&[("m", Priority::Normal)]);
        let mut theirs = mine.clone();
        let id = mine.jobs[0].id.clone();
        theirs.start_attempt(&id);
        theirs.sent(&id, 9.0, None, None, None);
        let newer = theirs.get(&id).unwrap().clone();
        assert!(mine.merge(newer.clone()));
        assert_eq!(mine.get(&id).unwrap().revision, newer.revision);
        assert_eq!(mine.get(&id).unwrap().state, JobState::Sent);
        let older = Job { state: JobState::Queued, revision: 1, ..newer };
        assert!(!mine.merge(older), "an older copy loses");
        assert_eq!(mine.get(&id).unwrap().state, JobState::Sent);
        let mut other_tab = Queue::default();
        let unknown_before = other_tab
            .enqueue(&Policy::default(), "acc", draft("x"), Priority::Low, None, 0.0, 0.0, false, 99)
            .unwrap()
            .clone();
        assert!(mine.merge(unknown_before), "a job another tab queued is taken in");
        assert_eq!(mine.jobs.len(), 2);
    }
}
