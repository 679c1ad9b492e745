//! Errors of the mail engine, whatever protocol is underneath.

/// Whether repeating what failed can help, and when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The same thing will fail the same way.
    Never,
    /// The server was out of reach, busy or failed inside: later it may work.
    Later,
    /// It was conditional on a state that moved on: read the state again, then repeat.
    AfterRereading,
}

/// After a write failed, what the server may have done all the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteOutcome {
    /// Nothing was changed.
    NotDone,
    /// Some or all of it may have happened: look before writing again.
    MaybeDone,
}

/// What went wrong, in terms the engine, the outbox and the UI act on, whatever the protocol:
/// `jmap` and `rustmailer` each say how their errors read here. The text of a server failure is
/// the protocol's own, which is what the user reads.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MailError {
    /// No answer at all: the server was not reached, so nothing was done.
    #[error("{0}")]
    Unreachable(String),
    /// The server refused the credentials or the access.
    #[error("{0}")]
    Unauthorized(String),
    /// An answer came that Petrel cannot read: the server may have done the work.
    #[error("{0}")]
    Unreadable(String),
    /// The server, or the way to it, failed: whether and when to try again, and whether a write
    /// may have been done, are the protocol's reading of the failure.
    #[error("{reason}")]
    Server { reason: String, retry: Retry, outcome: WriteOutcome, retry_after_secs: Option<u64> },
    /// The server refused an action; `what` is how the action reads ("move 3 messages").
    #[error("the server refused to {what}: {reason}")]
    Refused { what: String, reason: String },
    #[error("the message or folder is gone from the server ({0})")]
    NotFound(String),
    #[error("this account's server does not offer {0}")]
    Unsupported(&'static str),
    #[error("the offline copy could not be used: {0}")]
    Cache(String),
    /// The server already holds this message (same Message-ID): an earlier attempt got there.
    #[error("the server already has this message; an earlier attempt reached it ({0})")]
    AlreadyThere(String),
    /// An undo came too late: the server has let the message go.
    #[error("it has already been sent")]
    AlreadySent,
    /// A part of Petrel loaded on demand (a wasm chunk) could not be fetched.
    #[error("{0} could not be loaded (offline, or Petrel was updated meanwhile): try again, or reload the page")]
    Unloaded(&'static str),
}

#[cfg(feature = "split")]
impl From<wasm_split_helpers::SplitLoaderError> for MailError {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> MailError {
        MailError::Unloaded("Petrel's RustMailer support")
    }
}

impl MailError {
    /// A server failure that trying again cannot mend and that changed nothing.
    pub fn failed(reason: impl Into<String>) -> MailError {
        MailError::Server {
            reason: reason.into(),
            retry: Retry::Never,
            outcome: WriteOutcome::NotDone,
            retry_after_secs: None,
        }
    }

    pub fn retry(&self) -> Retry {
        match self {
            MailError::Unreachable(_) | MailError::Unloaded(_) => Retry::Later,
            MailError::Server { retry, .. } => *retry,
            _ => Retry::Never,
        }
    }

    pub fn write_outcome(&self) -> WriteOutcome {
        match self {
            MailError::Server { outcome, .. } => *outcome,
            // Another attempt (a dead tab's, still arriving) created it.
            MailError::Unreadable(_) | MailError::AlreadyThere(_) => WriteOutcome::MaybeDone,
            _ => WriteOutcome::NotDone,
        }
    }

    /// How long the server asked to wait, when it said.
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            MailError::Server { retry_after_secs, .. } => *retry_after_secs,
            _ => None,
        }
    }

    /// Whether the same thing may work later, so an action is kept and tried again.
    pub fn is_transient(&self) -> bool {
        self.retry() == Retry::Later
    }

    /// The server could not be reached at all (no answer), as opposed to one that said no.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, MailError::Unreachable(_))
    }
}

/// Error texts start lower-case so they compose; on their own they read as a sentence.
pub fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => format!("{}{}.", first.to_uppercase(), chars.as_str().trim_end_matches('.')),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_is_no_answer_not_a_refusal() {
        let unreachable = MailError::Unreachable("Failed to fetch".into());
        assert!(unreachable.is_unreachable() && unreachable.is_transient());
        assert!(!MailError::Unauthorized("no".into()).is_unreachable());
        assert!(!MailError::failed("too large").is_unreachable());
    }

    #[test]
    fn a_server_failure_says_whether_and_when_to_retry() {
        let busy = MailError::Server {
            reason: "busy".into(),
            retry: Retry::Later,
            outcome: WriteOutcome::NotDone,
            retry_after_secs: Some(7),
        };
        assert!(busy.is_transient());
        assert_eq!(busy.retry_after_secs(), Some(7));
        assert_eq!(busy.to_string(), "busy", "the protocol's own words");
        assert!(!MailError::failed("no").is_transient());
        assert_eq!(MailError::Unreadable("garbled".into()).write_outcome(), WriteOutcome::MaybeDone);
        assert_eq!(MailError::NotFound("x".into()).write_outcome(), WriteOutcome::NotDone);
    }
}
