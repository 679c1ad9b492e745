//! Errors of the mail engine, whatever protocol is underneath.

use crate::jmap::JmapError;
use crate::rustmailer::RustMailerError;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum MailError {
    #[error("{0}")]
    Jmap(#[from] JmapError),
    #[error("{0}")]
    RustMailer(#[from] RustMailerError),
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
}

impl MailError {
    /// Whether the same thing may work later, so an action is kept and tried again.
    pub fn is_transient(&self) -> bool {
        match self {
            MailError::Jmap(e) => e.is_transient(),
            MailError::RustMailer(e) => e.is_transient(),
            _ => false,
        }
    }

    /// The server could not be reached at all (no answer), as opposed to one that said no.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, MailError::Jmap(JmapError::Network(crate::net::NetError::Unreachable(_))) | MailError::RustMailer(RustMailerError::Network(_)))
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
        assert!(MailError::Jmap(JmapError::Network(crate::net::NetError::Unreachable("Failed to fetch".into()))).is_unreachable());
        assert!(!MailError::Jmap(JmapError::Unauthorized).is_unreachable());
        assert!(!MailError::Jmap(JmapError::Network(crate::net::NetError::TooLarge { limit: 1 })).is_unreachable());
    }
}
