//! What a JMAP method error (RFC 8620 §3.6.2, RFC 8621) means, read in one place for every
//! caller: may the call be repeated, might a write have been done anyway, must a sync start
//! over. The client, the mail engine and the outbox each ask here rather than keep lists of
//! their own that would drift apart.

use std::fmt;

pub use crate::mail::{Retry, WriteOutcome};

/// The `type` of a method-level error. Kinds Petrel has no special reading for keep their name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MethodErrorKind {
    ServerUnavailable,
    ServerFail,
    ServerPartialFail,
    UnknownMethod,
    InvalidArguments,
    InvalidResultReference,
    Forbidden,
    AccountNotFound,
    AccountNotSupportedByMethod,
    AccountReadOnly,
    RequestTooLarge,
    CannotCalculateChanges,
    TooManyChanges,
    StateMismatch,
    AnchorNotFound,
    UnsupportedSort,
    UnsupportedFilter,
    /// Not in RFC 8620's list, but sent by servers that throttle a method (and RFC 8621's name
    /// for a refused submission).
    RateLimit,
    Other(String),
}

impl MethodErrorKind {
    pub fn parse(kind: &str) -> Self {
        use MethodErrorKind::*;
        match kind {
            "serverUnavailable" => ServerUnavailable,
            "serverFail" => ServerFail,
            "serverPartialFail" => ServerPartialFail,
            "unknownMethod" => UnknownMethod,
            "invalidArguments" => InvalidArguments,
            "invalidResultReference" => InvalidResultReference,
            "forbidden" => Forbidden,
            "accountNotFound" => AccountNotFound,
            "accountNotSupportedByMethod" => AccountNotSupportedByMethod,
            "accountReadOnly" => AccountReadOnly,
            "requestTooLarge" => RequestTooLarge,
            "cannotCalculateChanges" => CannotCalculateChanges,
            "tooManyChanges" => TooManyChanges,
            "stateMismatch" => StateMismatch,
            "anchorNotFound" => AnchorNotFound,
            "unsupportedSort" => UnsupportedSort,
            "unsupportedFilter" => UnsupportedFilter,
            "rateLimit" => RateLimit,
            other => Other(other.to_owned()),
        }
    }

    /// The name on the wire.
    pub fn as_str(&self) -> &str {
        use MethodErrorKind::*;
        match self {
            ServerUnavailable => "serverUnavailable",
            ServerFail => "serverFail",
            ServerPartialFail => "serverPartialFail",
            UnknownMethod => "unknownMethod",
            InvalidArguments => "invalidArguments",
            InvalidResultReference => "invalidResultReference",
            Forbidden => "forbidden",
            AccountNotFound => "accountNotFound",
            AccountNotSupportedByMethod => "accountNotSupportedByMethod",
            AccountReadOnly => "accountReadOnly",
            RequestTooLarge => "requestTooLarge",
            CannotCalculateChanges => "cannotCalculateChanges",
            TooManyChanges => "tooManyChanges",
            StateMismatch => "stateMismatch",
            AnchorNotFound => "anchorNotFound",
            UnsupportedSort => "unsupportedSort",
            UnsupportedFilter => "unsupportedFilter",
            RateLimit => "rateLimit",
            Other(name) => name,
        }
    }

    pub fn retry(&self) -> Retry {
        use MethodErrorKind::*;
        match self {
            // RFC 8620 says a serverFail changed nothing and will fail again; servers in the
            // field also answer it for a passing fault (a lock, a full disk), so it is tried
            // again later, with backoff, like serverUnavailable.
            ServerUnavailable | ServerFail | RateLimit => Retry::Later,
            StateMismatch => Retry::AfterRereading,
            _ => Retry::Never,
        }
    }

    pub fn write_outcome(&self) -> WriteOutcome {
        match self {
            // A partial failure did some of it; a serverFail may come after the work was done
            // (a failure while answering), whatever RFC 8620 promises.
            MethodErrorKind::ServerPartialFail | MethodErrorKind::ServerFail => WriteOutcome::MaybeDone,
            _ => WriteOutcome::NotDone,
        }
    }

    /// Answering a `/changes` or `/queryChanges` call: the state asked from is of no use any more
    /// (too old, unknown to the server, or the query cannot be followed), so the sync starts over
    /// from a fresh read.
    pub fn means_resync(&self) -> bool {
        use MethodErrorKind::*;
        matches!(self, CannotCalculateChanges | TooManyChanges | InvalidArguments | UnsupportedFilter | UnsupportedSort)
    }
}

impl fmt::Display for MethodErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<str> for MethodErrorKind {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for MethodErrorKind {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl From<&str> for MethodErrorKind {
    fn from(kind: &str) -> Self {
        MethodErrorKind::parse(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use MethodErrorKind::*;

    /// Every kind with its three answers: (kind, retry, write outcome, resync).
    const TABLE: &[(&str, Retry, WriteOutcome, bool)] = &[
        ("serverUnavailable", Retry::Later, WriteOutcome::NotDone, false),
        ("serverFail", Retry::Later, WriteOutcome::MaybeDone, false),
        ("serverPartialFail", Retry::Never, WriteOutcome::MaybeDone, false),
        ("unknownMethod", Retry::Never, WriteOutcome::NotDone, false),
        ("invalidArguments", Retry::Never, WriteOutcome::NotDone, true),
        ("invalidResultReference", Retry::Never, WriteOutcome::NotDone, false),
        ("forbidden", Retry::Never, WriteOutcome::NotDone, false),
        ("accountNotFound", Retry::Never, WriteOutcome::NotDone, false),
        ("accountNotSupportedByMethod", Retry::Never, WriteOutcome::NotDone, false),
        ("accountReadOnly", Retry::Never, WriteOutcome::NotDone, false),
        ("requestTooLarge", Retry::Never, WriteOutcome::NotDone, false),
        ("cannotCalculateChanges", Retry::Never, WriteOutcome::NotDone, true),
        ("tooManyChanges", Retry::Never, WriteOutcome::NotDone, true),
        ("stateMismatch", Retry::AfterRereading, WriteOutcome::NotDone, false),
        ("anchorNotFound", Retry::Never, WriteOutcome::NotDone, false),
        ("unsupportedSort", Retry::Never, WriteOutcome::NotDone, true),
        ("unsupportedFilter", Retry::Never, WriteOutcome::NotDone, true),
        ("rateLimit", Retry::Later, WriteOutcome::NotDone, false),
        ("somethingNew", Retry::Never, WriteOutcome::NotDone, false),
    ];

    #[test]
    fn every_kind_answers_every_question() {
        for &(name, retry, outcome, resync) in TABLE {
            let kind = MethodErrorKind::parse(name);
            assert_eq!(kind.as_str(), name, "the name on the wire survives");
            assert_eq!(kind.retry(), retry, "{name}: retry");
            assert_eq!(kind.write_outcome(), outcome, "{name}: write outcome");
            assert_eq!(kind.means_resync(), resync, "{name}: resync");
        }
    }

    #[test]
    fn unknown_kinds_keep_their_name() {
        assert_eq!(MethodErrorKind::parse("somethingNew"), Other("somethingNew".into()));
        assert_eq!(Other("x".into()).to_string(), "x");
        assert_eq!(StateMismatch.to_string(), "stateMismatch");
    }
}
