//! The outbox: every send goes through a persistent priority queue with backoff, so no mail is lost
//! or sent twice across reloads, outages and server faults.
//!
//! - [`queue`]: the jobs and the rules (order, backoff, limits, states), plain data tested natively.
//! - [`classify`]: what a failed attempt means for the next one.
//! - `dispatcher`: sends the jobs; `tabs`: one dispatcher at a time across tabs and workers.
//! - `background`: sends waiting mail from a service worker with no page open, under a [`grant`].

#[cfg(target_arch = "wasm32")]
pub mod background;
#[cfg(target_arch = "wasm32")]
pub mod dispatcher;
pub mod grant;
pub mod queue;
#[cfg(target_arch = "wasm32")]
pub mod tabs;

pub use queue::{Failure, Job, JobState, OutboxError, Policy, Priority, Queue, Stats, Undo};

use crate::jmap::{JmapError, Retry, WriteOutcome};
use crate::mail::MailError;
use crate::net::NetError;
use crate::rustmailer::RustMailerError;

/// Sorts a failed send. A browser cannot tell "never connected" from "connection cut after the
/// request left" (both are one TypeError), so every network failure is ambiguous: the dispatcher
/// asks the server whether the message went out before trying again.
pub fn classify(error: &MailError) -> Failure {
    let reason = error.to_string();
    match error {
        e if e.is_unreachable() => Failure::Unreachable { reason },
        MailError::Jmap(JmapError::Network(NetError::Interrupted(_) | NetError::Aborted)) => {
            Failure::Ambiguous { reason }
        }
        MailError::Jmap(JmapError::RateLimited { retry_after_secs } | JmapError::Unavailable { retry_after_secs, .. }) => {
            Failure::Transient { reason, retry_after_ms: retry_after_secs.map(|s| s * 1000) }
        }
        // A 500 may come after the server did the work.
        MailError::Jmap(JmapError::Http { status, .. }) if *status >= 500 => Failure::Ambiguous { reason },
        // A method error, read where every caller reads it (jmap::method_error).
        MailError::Jmap(JmapError::Method { kind, .. }) => match (kind.write_outcome(), kind.retry()) {
            // The server may have sent it (serverFail, serverPartialFail): look before again.
            (WriteOutcome::MaybeDone, _) => Failure::Ambiguous { reason },
            (WriteOutcome::NotDone, Retry::Later) => Failure::Transient { reason, retry_after_ms: None },
            // The account kept changing under a conditional send (ifInState): nothing was created
            // by it, but an earlier attempt may have been. Look, then try again.
            (WriteOutcome::NotDone, Retry::AfterRereading) => Failure::Ambiguous { reason },
            (WriteOutcome::NotDone, Retry::Never) => Failure::Permanent { reason },
        },
        // RustMailer refused before doing anything (TooManyRequest).
        MailError::RustMailer(RustMailerError::Busy(_)) => Failure::Transient { reason, retry_after_ms: None },
        // Any other failure may come after RustMailer queued the task (a cut, a timeout, an error
        // page from a proxy on the way back): its task list says, and costs one call to read.
        MailError::RustMailer(e) if e.is_transient() => Failure::Ambiguous { reason },
        // The server answered, in a form Petrel cannot read: it may have done the work. Look
        // before trying again; never drop the mail over it.
        MailError::RustMailer(RustMailerError::Undecodable { .. }) | MailError::Jmap(JmapError::Protocol(_)) => Failure::Ambiguous { reason },
        // Another attempt (a dead tab's, still arriving) created it: look before going on.
        MailError::AlreadyThere(_) => Failure::Ambiguous { reason },
        _ => Failure::Permanent { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_are_sorted_by_what_a_retry_can_do() {
        let net = MailError::Jmap(JmapError::Network(NetError::Unreachable("TypeError".into())));
        assert!(matches!(classify(&net), Failure::Unreachable { .. }));
        let cut = MailError::Jmap(JmapError::Network(NetError::Interrupted("reset".into())));
        assert!(matches!(classify(&cut), Failure::Ambiguous { .. }));
        let busy = MailError::Jmap(JmapError::RateLimited { retry_after_secs: Some(7) });
        assert_eq!(classify(&busy), Failure::Transient { reason: busy.to_string(), retry_after_ms: Some(7_000) });
        let e500 = MailError::Jmap(JmapError::Http { status: 500, detail: "x".into() });
        assert!(matches!(classify(&e500), Failure::Ambiguous { .. }));
        let refused = MailError::Refused { what: "send".into(), reason: "invalid recipient".into() };
        assert!(matches!(classify(&refused), Failure::Permanent { .. }));
        assert!(matches!(classify(&MailError::Jmap(JmapError::Unauthorized)), Failure::Permanent { .. }));
        assert!(matches!(classify(&MailError::AlreadyThere("m@x".into())), Failure::Ambiguous { .. }));
        let method_error = |kind: &str| MailError::Jmap(JmapError::Method { method: "Email/set".into(), kind: kind.into(), description: None });
        assert!(matches!(classify(&method_error("serverUnavailable")), Failure::Transient { .. }));
        assert!(matches!(classify(&method_error("rateLimit")), Failure::Transient { .. }));
        assert!(matches!(classify(&method_error("serverFail")), Failure::Ambiguous { .. }), "a serverFail may follow the work");
        assert!(matches!(classify(&method_error("serverPartialFail")), Failure::Ambiguous { .. }));
        assert!(matches!(classify(&method_error("invalidArguments")), Failure::Permanent { .. }));
        let moved = JmapError::Method { method: "Email/set".into(), kind: "stateMismatch".into(), description: None };
        assert!(matches!(classify(&MailError::Jmap(moved)), Failure::Ambiguous { .. }), "a send refused for a moved state is tried again, never dropped");
        let cut = MailError::RustMailer(RustMailerError::Network("Failed to fetch".into()));
        assert!(matches!(classify(&cut), Failure::Unreachable { .. }));
        let busy = MailError::RustMailer(RustMailerError::Busy("slow down".into()));
        assert!(matches!(classify(&busy), Failure::Transient { .. }));
        assert!(matches!(classify(&MailError::RustMailer(RustMailerError::BadToken("x".into()))), Failure::Permanent { .. }));
        let unreadable = MailError::RustMailer(RustMailerError::Undecodable { rpc: "SendNewMail".into(), detail: "x".into() });
        assert!(matches!(classify(&unreadable), Failure::Ambiguous { .. }), "an answer that cannot be read may follow a send");
        assert!(matches!(classify(&MailError::Jmap(JmapError::Protocol("bad JSON".into()))), Failure::Ambiguous { .. }));
    }
}
