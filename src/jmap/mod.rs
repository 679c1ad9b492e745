//! JMAP (RFC 8620) for the browser: session discovery, method calls and their errors.
//!
//! Parsing and interpretation are plain functions over bytes, tested natively; [`client`] (wasm only)
//! moves the bytes through [`crate::net`].

pub mod batch;
pub mod blob;
pub mod error;
pub mod mail;
pub mod method_error;
pub mod push;
pub mod quota;
pub mod request;
pub mod session;
pub mod set;
pub mod sieve;

#[cfg(target_arch = "wasm32")]
pub mod blob_io;
#[cfg(target_arch = "wasm32")]
pub mod client;
#[cfg(target_arch = "wasm32")]
pub mod sieve_io;

pub use error::JmapError;
pub use method_error::{MethodErrorKind, Retry, WriteOutcome};
pub use request::{Call, Invocation, Request, Response};
pub use session::Session;

/// Capability URIs this client knows.
pub mod capability {
    pub const CORE: &str = "urn:ietf:params:jmap:core";
    pub const MAIL: &str = "urn:ietf:params:jmap:mail";
    pub const SUBMISSION: &str = "urn:ietf:params:jmap:submission";
    pub const WEBSOCKET: &str = "urn:ietf:params:jmap:websocket";
    pub const BLOB: &str = "urn:ietf:params:jmap:blob";
    pub const VACATION: &str = "urn:ietf:params:jmap:vacationresponse";
    /// RFC 9425.
    pub const QUOTA: &str = "urn:ietf:params:jmap:quota";
    /// Cyrus's own Quota/get, before RFC 9425.
    pub const CYRUS_QUOTA: &str = "https://cyrusimap.org/ns/jmap/quota";
    /// RFC 9007: read receipts.
    pub const MDN: &str = "urn:ietf:params:jmap:mdn";
    /// Cyrus's own Email properties, `snoozed` among them.
    pub const CYRUS_MAIL: &str = "https://cyrusimap.org/ns/jmap/mail";
    /// RFC 9661: filters as Sieve scripts.
    pub const SIEVE: &str = "urn:ietf:params:jmap:sieve";
    /// Cyrus's SieveScript methods, before RFC 9661.
    pub const CYRUS_SIEVE: &str = "https://cyrusimap.org/ns/jmap/sieve";
}
