//! HTTP for the core: a small, typed layer over the global scope's `fetch`.
//!
//! [`HttpResponse`] and [`NetError`] are plain data so the protocol code that interprets them can be
//! tested natively; [`fetch`] (wasm only) performs requests in a window or a worker alike.

pub mod backoff;
pub mod gate;
pub mod queue;
pub mod retry_after;
pub mod runtime;
pub mod url;

#[cfg(target_arch = "wasm32")]
mod fetch;
#[cfg(target_arch = "wasm32")]
pub(crate) use fetch::js_message as fetch_js_message;
#[cfg(target_arch = "wasm32")]
pub use fetch::{fetch, fetch_stream, now_ms, retry_after_secs, sleep, HttpRequest, StreamingResponse};

/// Upper bound on response bodies unless a caller asks for another: a hostile or broken server must
/// not be able to make the client buffer without limit.
pub const DEFAULT_BODY_LIMIT: usize = 8 * 1024 * 1024;

/// A complete response whose body was read within a size limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    pub status: u16,
    /// The URL the response came from, after redirects: relative URLs in it resolve against this.
    pub url: String,
    pub content_type: Option<String>,
    /// `Retry-After`, in seconds from when the response arrived.
    pub retry_after_secs: Option<u64>,
    pub body: Vec<u8>,
}

impl HttpResponse {
    pub fn is_json(&self) -> bool {
        self.content_type
            .as_deref()
            .map(|ct| {
                let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
                essence == "application/json" || essence.ends_with("+json")
            })
            .unwrap_or(false)
    }
}

/// Why an HTTP exchange did not produce a response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NetError {
    #[error("could not reach the server ({0}); check the address and your connection (a server on another address must also allow Petrel's address, CORS)")]
    Unreachable(String),
    #[error("the server's response was larger than {limit} bytes and was not read")]
    TooLarge { limit: usize },
    #[error("the request was cancelled")]
    Aborted,
    #[error("the connection broke while reading the response ({0})")]
    Interrupted(String),
    #[error("this environment cannot make HTTP requests ({0})")]
    NoFetch(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(ct: Option<&str>) -> HttpResponse {
        HttpResponse {
            status: 200,
            url: "http://x/".into(),
            content_type: ct.map(str::to_owned),
            retry_after_secs: None,
            body: vec![],
        }
    }

    #[test]
    fn json_content_types() {
        assert!(with_type(Some("application/json")).is_json());
        assert!(with_type(Some("application/json; charset=utf-8")).is_json());
        assert!(with_type(Some("Application/Problem+JSON")).is_json());
        assert!(!with_type(Some("text/html")).is_json());
        assert!(!with_type(None).is_json());
    }
}
