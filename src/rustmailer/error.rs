//! The one error type of the RustMailer layer. Three sources feed it: gRPC status codes, RustMailer's
//! own error codes (`rustmailer-error-code`, or the `code` of its HTTP JSON errors, which the
//! gateway turns into statuses) and failures of the browser's fetch underneath.

use crate::mail::{MailError, Retry, WriteOutcome};

/// RustMailer's error code ranges (its `code` numbers), as documented for 1.6.
fn from_rustmailer_code(code: u32, message: &str) -> Option<RustMailerError> {
    let m = message.to_owned();
    Some(match code {
        10080 => RustMailerError::Timeout,
        10070 => RustMailerError::TooLarge(m),
        10000..=10099 => RustMailerError::Invalid(m),
        20000 => RustMailerError::BadToken(m),
        20001..=20099 => RustMailerError::Forbidden(m),
        30000 => RustMailerError::NotFound(m),
        30010 => RustMailerError::AlreadyExists(m),
        30020 => RustMailerError::Busy(m),
        40000..=40099 => RustMailerError::Unavailable(m),
        50000..=50099 => RustMailerError::MailServer(m),
        70000 => RustMailerError::Server(m),
        _ => return None,
    })
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RustMailerError {
    #[error("RustMailer refused the access token ({0}): sign in again with a valid token")]
    BadToken(String),
    #[error("RustMailer does not allow this ({0})")]
    Forbidden(String),
    #[error("not found on the RustMailer server ({0})")]
    NotFound(String),
    #[error("RustMailer rejected the request: {0}")]
    Invalid(String),
    #[error("the message is too large for RustMailer ({0})")]
    TooLarge(String),
    #[error("RustMailer did not answer in time; try again")]
    Timeout,
    #[error("the RustMailer server is unavailable ({0}); try again later")]
    Unavailable(String),
    #[error("RustMailer is busy ({0}); try again in a moment")]
    Busy(String),
    #[error("this RustMailer server does not offer {0}")]
    Unimplemented(String),
    #[error("it already exists on the RustMailer server ({0})")]
    AlreadyExists(String),
    #[error("RustMailer could not reach the mail server behind it ({0}); try again later")]
    MailServer(String),
    #[error("the RustMailer server failed ({0})")]
    Server(String),
    #[error("the gateway could not be reached ({0}); check the connection")]
    Network(String),
    /// What came back was not gRPC-web at all (a proxy's page, a cut-off frame).
    #[error("RustMailer's answer could not be read ({0})")]
    Malformed(String),
    /// A gRPC answer arrived but its message is not in a form Petrel reads: a RustMailer wire
    /// it does not know. The server is up, so this is never taken for an outage.
    #[error("this RustMailer answers {rpc} in a form Petrel does not read ({detail}); the server is up, and Petrel checks before sending anything again; tell whoever runs it which RustMailer version it is")]
    Undecodable { rpc: String, detail: String },
    /// An id kept from another RustMailer wire (the offline copy of a server since changed).
    #[error("this conversation ({0}) was listed by another RustMailer version; open its folder again")]
    ForeignId(String),
    /// An attachment's bytes differ from those fetched before (SHA-256, hex): not shown.
    #[error("the attachment is not what it was when first opened (SHA-256 {actual}, expected {expected}); it was not opened")]
    AttachmentChanged { expected: String, actual: String },
}

impl RustMailerError {
    /// From a gRPC status code (numbers of `google.rpc.Code`), its message and RustMailer's error
    /// code when the response carried one.
    pub fn from_status(code: i32, message: &str, rustmailer_code: Option<u32>) -> RustMailerError {
        if let Some(e) = rustmailer_code.and_then(|c| from_rustmailer_code(c, message)) {
            return e;
        }
        let m = message.to_owned();
        match code {
            1 => RustMailerError::Network(format!("cancelled: {m}")),
            3 | 9 | 11 => RustMailerError::Invalid(m),
            4 => RustMailerError::Timeout,
            5 => RustMailerError::NotFound(m),
            6 => RustMailerError::AlreadyExists(m),
            7 => RustMailerError::Forbidden(m),
            8 => RustMailerError::Busy(m),
            10 | 14 => RustMailerError::Unavailable(m),
            12 => RustMailerError::Unimplemented(m),
            13 | 15 => RustMailerError::Server(m),
            16 => RustMailerError::BadToken(m),
            // Unknown: what tonic reports for failures below gRPC, i.e. in the browser's fetch.
            _ => Self::from_transport(&m),
        }
    }

    /// The browser's fetch failed (network down, CORS, aborted) or the answer was not gRPC-web
    /// (an HTML error page from a proxy).
    fn from_transport(message: &str) -> RustMailerError {
        if message.contains("timed out") || message.contains("TimedOut") {
            RustMailerError::Timeout
        } else if message.contains("invalid content type") || message.contains("missing content-type") {
            RustMailerError::Unavailable(format!("the gateway answered without gRPC-web ({message})"))
        } else if message.contains("JS API error")
            || message.contains("Failed to fetch")
            || message.contains("NetworkError")
        {
            RustMailerError::Network(message.trim_start_matches("JS API error: ").to_owned())
        } else {
            RustMailerError::Malformed(message.to_owned())
        }
    }

    /// Whether the same call may work later.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            RustMailerError::Timeout
                | RustMailerError::Unavailable(_)
                | RustMailerError::Busy(_)
                | RustMailerError::MailServer(_)
                | RustMailerError::Server(_)
                | RustMailerError::Network(_)
        )
    }
}

/// How a RustMailer failure reads for the mail engine and the outbox.
impl From<RustMailerError> for MailError {
    fn from(error: RustMailerError) -> MailError {
        let reason = error.to_string();
        let server =
            |retry, outcome| MailError::Server { reason: reason.clone(), retry, outcome, retry_after_secs: None };
        match &error {
            RustMailerError::Network(_) => MailError::Unreachable(reason),
            RustMailerError::BadToken(_) | RustMailerError::Forbidden(_) => MailError::Unauthorized(reason),
            // Refused before anything was done (TooManyRequest).
            RustMailerError::Busy(_) => server(Retry::Later, WriteOutcome::NotDone),
            // Any other failure may come after RustMailer did the work (a cut, a timeout, an
            // error page from a proxy on the way back): its task list says.
            e if e.is_transient() => server(Retry::Later, WriteOutcome::MaybeDone),
            RustMailerError::Undecodable { .. } => MailError::Unreadable(reason),
            _ => MailError::failed(reason),
        }
    }
}

impl From<tonic::Status> for RustMailerError {
    fn from(status: tonic::Status) -> RustMailerError {
        let rustmailer_code = status
            .metadata()
            .get("rustmailer-error-code")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse().ok());
        RustMailerError::from_status(status.code() as i32, status.message(), rustmailer_code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustmailer_codes_win_over_grpc_codes() {
        assert_eq!(
            RustMailerError::from_status(16, "Invalid access token", Some(20000)),
            RustMailerError::BadToken("Invalid access token".into())
        );
        assert_eq!(
            RustMailerError::from_status(7, "licence", Some(20030)),
            RustMailerError::Forbidden("licence".into())
        );
        assert_eq!(RustMailerError::from_status(4, "slow", Some(10080)), RustMailerError::Timeout);
        assert!(matches!(RustMailerError::from_status(2, "x", Some(50010)), RustMailerError::MailServer(_)));
        // An unknown RustMailer code falls back to the gRPC code.
        assert!(matches!(RustMailerError::from_status(5, "gone", Some(99999)), RustMailerError::NotFound(_)));
    }

    #[test]
    fn grpc_codes_map_to_what_the_user_can_do() {
        assert!(matches!(RustMailerError::from_status(16, "x", None), RustMailerError::BadToken(_)));
        assert!(matches!(RustMailerError::from_status(5, "x", None), RustMailerError::NotFound(_)));
        assert!(matches!(RustMailerError::from_status(3, "page_size", None), RustMailerError::Invalid(_)));
        assert!(RustMailerError::from_status(14, "down", None).is_transient());
        assert!(RustMailerError::from_status(8, "slow down", None).is_transient());
        assert!(!RustMailerError::from_status(3, "bad", None).is_transient());
        assert!(!RustMailerError::from_status(16, "who", None).is_transient());
    }

    #[test]
    fn browser_transport_failures_are_told_apart() {
        assert!(matches!(
            RustMailerError::from_status(2, "JS API error: TypeError: Failed to fetch", None),
            RustMailerError::Network(_)
        ));
        assert!(matches!(
            RustMailerError::from_status(2, "invalid content type: text/html", None),
            RustMailerError::Unavailable(_)
        ));
        assert_eq!(RustMailerError::from_status(2, "Request timed out", None), RustMailerError::Timeout);
        assert!(matches!(RustMailerError::from_status(2, "garbage", None), RustMailerError::Malformed(_)));
    }

    #[test]
    fn an_answer_that_cannot_be_read_is_not_an_outage() {
        let e = RustMailerError::Undecodable {
            rpc: "ListMessages".into(),
            detail: "EmailEnvelope.thread_id: invalid wire type".into(),
        };
        assert!(!e.is_transient());
        assert!(e.to_string().contains("ListMessages"), "names the call: {e}");
        assert!(e.to_string().contains("does not read"), "{e}");
    }
}
