//! The outbox: every send goes through a persistent priority queue with backoff, so no mail is lost
//! or sent twice across reloads, outages and server faults.
//!
//! - [`queue`]: the jobs and the rules (order, backoff, limits, states), plain data tested natively.
//! - [`classify`]: what a failed attempt means for the next one.
//! - `dispatcher`: sends the jobs; `tabs`: one dispatcher at a time across tabs and workers.
//! - `background`: sends waiting mail from a service worker with no page open, under a [`grant`].
//! - `store`: where jobs are kept: IndexedDB in a browser, the host's storage in an edge runtime.

#[cfg(target_arch = "wasm32")]
pub mod background;
#[cfg(target_arch = "wasm32")]
pub mod dispatcher;
pub mod grant;
pub mod queue;
#[cfg(target_arch = "wasm32")]
pub mod store;
#[cfg(target_arch = "wasm32")]
pub mod tabs;

pub use queue::{Failure, Job, JobState, OutboxError, Policy, Priority, Queue, Stats, Undo};

use crate::mail::{MailError, Retry, WriteOutcome};

/// Sorts a failed send. A browser cannot tell "never connected" from "connection cut after the
/// request left" (both are one TypeError), so every network failure is ambiguous: the dispatcher
/// asks the server whether the message went out before trying again.
pub fn classify(error: &MailError) -> Failure {
    let reason = error.to_string();
    if error.is_unreachable() {
        return Failure::Unreachable { reason };
    }
    // Read from what the protocol layer said of the failure (jmap::method_error, the From
    // impls in jmap/error.rs and rustmailer/error.rs): whether to try again, whether it may be done.
    match (error.write_outcome(), error.retry()) {
        // The server may have sent it (a cut after the request left, a 500, an answer that cannot
        // be read, another attempt that got there): look before sending again; never drop it.
        (WriteOutcome::MaybeDone, _) => Failure::Ambiguous { reason },
        (WriteOutcome::NotDone, Retry::Later) => {
            Failure::Transient { reason, retry_after_ms: error.retry_after_secs().map(|s| s * 1000) }
        }
        // The account kept changing under a conditional send (ifInState): nothing was created by
        // it, but an earlier attempt may have been. Look, then try again.
        (WriteOutcome::NotDone, Retry::AfterRereading) => Failure::Ambiguous { reason },
        (WriteOutcome::NotDone, Retry::Never) => Failure::Permanent { reason },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jmap::JmapError;
    use crate::net::NetError;
    use crate::rustmailer::RustMailerError;

    #[test]
    fn failures_are_sorted_by_what_a_retry_can_do() {
        let net = MailError::from(JmapError::Network(NetError::Unreachable("TypeError".into())));
        assert!(matches!(classify(&net), Failure::Unreachable { .. }));
        let cut = MailError::from(JmapError::Network(NetError::Interrupted("reset".into())));
        assert!(matches!(classify(&cut), Failure::Ambiguous { .. }));
        let busy = MailError::from(JmapError::RateLimited { retry_after_secs: Some(7) });
        assert_eq!(classify(&busy), Failure::Transient { reason: busy.to_string(), retry_after_ms: Some(7_000) });
        let e500 = MailError::from(JmapError::Http { status: 500, detail: "x".into() });
        assert!(matches!(classify(&e500), Failure::Ambiguous { .. }));
        let refused = MailError::Refused { what: "send".into(), reason: "invalid recipient".into() };
        assert!(matches!(classify(&refused), Failure::Permanent { .. }));
        assert!(matches!(classify(&MailError::from(JmapError::Unauthorized)), Failure::Permanent { .. }));
        assert!(matches!(classify(&MailError::AlreadyThere("m@x".into())), Failure::Ambiguous { .. }));
        let method_error = |kind: &str| {
            MailError::from(JmapError::Method { method: "Email/set".into(), kind: kind.into(), description: None })
        };
        assert!(matches!(classify(&method_error("serverUnavailable")), Failure::Transient { .. }));
        assert!(matches!(classify(&method_error("rateLimit")), Failure::Transient { .. }));
        assert!(
            matches!(classify(&method_error("serverFail")), Failure::Ambiguous { .. }),
            "a serverFail may follow the work"
        );
        assert!(matches!(classify(&method_error("serverPartialFail")), Failure::Ambiguous { .. }));
        assert!(matches!(classify(&method_error("invalidArguments")), Failure::Permanent { .. }));
        let moved = JmapError::Method { method: "Email/set".into(), kind: "stateMismatch".into(), description: None };
        assert!(
            matches!(classify(&MailError::from(moved)), Failure::Ambiguous { .. }),
            "a send refused for a moved state is tried again, never dropped"
        );
        let cut = MailError::from(RustMailerError::Network("Failed to fetch".into()));
        assert!(matches!(classify(&cut), Failure::Unreachable { .. }));
        let busy = MailError::from(RustMailerError::Busy("slow down".into()));
        assert!(matches!(classify(&busy), Failure::Transient { .. }));
        assert!(matches!(classify(&MailError::from(RustMailerError::BadToken("x".into()))), Failure::Permanent { .. }));
        let unreadable =
            MailError::from(RustMailerError::Undecodable { rpc: "SendNewMail".into(), detail: "x".into() });
        assert!(
            matches!(classify(&unreadable), Failure::Ambiguous { .. }),
            "an answer that cannot be read may follow a send"
        );
        assert!(matches!(
            classify(&MailError::from(JmapError::Protocol("bad JSON".into()))),
            Failure::Ambiguous { .. }
        ));
    }
}
