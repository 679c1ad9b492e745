//! The one error type of the JMAP layer, with messages a user can act on.

use super::method_error::{MethodErrorKind, Retry, WriteOutcome};
use crate::mail::MailError;
use crate::net::{HttpResponse, NetError};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum JmapError {
    #[error("{0}")]
    Network(#[from] NetError),
    #[error("the server refused these credentials: check the username and password (or token)")]
    Unauthorized,
    #[error("this account may not use the server (access forbidden)")]
    Forbidden,
    #[error("no JMAP server answers at {url}: {reason}")]
    NotJmap { url: String, reason: String },
    #[error("the server is rate limiting requests; try again{}", retry_hint(*.retry_after_secs))]
    RateLimited { retry_after_secs: Option<u64> },
    #[error("the server is temporarily unavailable (HTTP {status}); try again{}", retry_hint(*.retry_after_secs))]
    Unavailable { status: u16, retry_after_secs: Option<u64> },
    #[error("the server answered with HTTP {status}: {detail}")]
    Http { status: u16, detail: String },
    /// A request-level error (RFC 8620 §3.6.1), e.g. `urn:ietf:params:jmap:error:limit`.
    #[error("the server rejected the request ({kind}{}): {detail}", limit.as_deref().map(|l| format!(", limit {l}")).unwrap_or_default())]
    Request { kind: String, limit: Option<String>, detail: String },
    /// A method-level error (RFC 8620 §3.6.2).
    #[error("the server could not do {method} ({kind}){}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
    Method { method: String, kind: MethodErrorKind, description: Option<String> },
    #[error("the server's answer broke the JMAP protocol: {0}")]
    Protocol(String),
    #[error("the account has no {0} capability on this server")]
    MissingCapability(String),
    /// The runtime lacks what this needs (an edge runtime without WebSocket, say).
    #[error("{0}")]
    Runtime(#[from] crate::net::runtime::Missing),
    #[error("the file {blob_id} is not what the server said it was (SHA-256 {actual}, expected {expected}); it was not opened")]
    BlobDigestMismatch { blob_id: String, expected: String, actual: String },
    #[error("the file is larger than the {limit}-byte limit")]
    BlobTooLarge { limit: u64 },
}

fn retry_hint(secs: Option<u64>) -> String {
    match secs {
        Some(s) => format!(" in {s} s"),
        None => " later".to_owned(),
    }
}

impl JmapError {
    pub(crate) fn not_jmap(url: &str, reason: &str) -> JmapError {
        JmapError::NotJmap { url: url.to_owned(), reason: reason.to_owned() }
    }

    /// Whether repeating the same request later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            JmapError::Network(NetError::Unreachable(_) | NetError::Interrupted(_)) => true,
            JmapError::RateLimited { .. } | JmapError::Unavailable { .. } => true,
            JmapError::Method { kind, .. } => kind.retry() == Retry::Later,
            _ => false,
        }
    }

    /// Answering a `/changes` or `/queryChanges` call: the sync must start over from a fresh read
    /// (see [`MethodErrorKind::means_resync`]).
    pub fn means_resync(&self) -> bool {
        matches!(self, JmapError::Method { kind, .. } if kind.means_resync())
    }
}

/// How a JMAP failure reads for the mail engine and the outbox: whether to try again, and whether
/// a write may have been done.
impl From<JmapError> for MailError {
    fn from(error: JmapError) -> MailError {
        let reason = error.to_string();
        let server = |retry, outcome, retry_after_secs| MailError::Server {
            reason: reason.clone(),
            retry,
            outcome,
            retry_after_secs,
        };
        match &error {
            JmapError::Network(NetError::Unreachable(_)) => MailError::Unreachable(reason),
            // The request left: a browser cannot tell how far it got.
            JmapError::Network(NetError::Interrupted(_)) => server(Retry::Later, WriteOutcome::MaybeDone, None),
            JmapError::Network(NetError::Aborted) => server(Retry::Never, WriteOutcome::MaybeDone, None),
            JmapError::RateLimited { retry_after_secs } | JmapError::Unavailable { retry_after_secs, .. } => {
                server(Retry::Later, WriteOutcome::NotDone, *retry_after_secs)
            }
            JmapError::Unauthorized | JmapError::Forbidden => MailError::Unauthorized(reason),
            // A 500 may come after the server did the work.
            JmapError::Http { status, .. } if *status >= 500 => server(Retry::Never, WriteOutcome::MaybeDone, None),
            JmapError::Method { kind, .. } => server(kind.retry(), kind.write_outcome(), None),
            JmapError::Protocol(_) => MailError::Unreadable(reason),
            _ => MailError::failed(reason),
        }
    }
}

/// Maps an HTTP status that is not success to the error a user should see.
pub(crate) fn status_error(response: &HttpResponse) -> Option<JmapError> {
    let retry_after_secs = response.retry_after_secs;
    match response.status {
        200..=299 => None,
        401 => Some(JmapError::Unauthorized),
        403 => Some(JmapError::Forbidden),
        404 | 405 => Some(JmapError::not_jmap(&response.url, &format!("HTTP {} (no JMAP here)", response.status))),
        429 => Some(JmapError::RateLimited { retry_after_secs }),
        502..=504 => Some(JmapError::Unavailable { status: response.status, retry_after_secs }),
        status => Some(JmapError::Http { status, detail: body_excerpt(&response.body) }),
    }
}

/// A short, printable piece of a body for error messages.
pub(crate) fn body_excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(&body[..body.len().min(200)]);
    let flat: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    if flat.trim().is_empty() {
        "(empty body)".to_owned()
    } else {
        flat.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_read_as_advice() {
        assert_eq!(
            JmapError::RateLimited { retry_after_secs: Some(30) }.to_string(),
            "the server is rate limiting requests; try again in 30 s"
        );
        let e = JmapError::Request {
            kind: "limit".into(),
            limit: Some("maxCallsInRequest".into()),
            detail: "too many".into(),
        };
        assert_eq!(e.to_string(), "the server rejected the request (limit, limit maxCallsInRequest): too many");
        let e = JmapError::Method {
            method: "Mailbox/get".into(),
            kind: MethodErrorKind::AccountNotFound,
            description: None,
        };
        assert_eq!(e.to_string(), "the server could not do Mailbox/get (accountNotFound)");
    }

    #[test]
    fn transient_classification() {
        assert!(JmapError::Unavailable { status: 503, retry_after_secs: None }.is_transient());
        assert!(JmapError::Network(NetError::Unreachable("x".into())).is_transient());
        assert!(!JmapError::Unauthorized.is_transient());
        assert!(!JmapError::Network(NetError::TooLarge { limit: 1 }).is_transient());
    }
}
