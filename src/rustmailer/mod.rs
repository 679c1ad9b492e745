//! RustMailer (mail middleware with a gRPC API) from the browser, over gRPC-web through Petrel's
//! gateway. DOM-free like the JMAP layer: it runs in a page or a worker.
//!
//! - [`proto`]: the messages generated from `protos/rustmailer.proto`.
//! - [`wire`]: which of RustMailer's wires (1.6.0, or the later revision) a server speaks, told by
//!   the shape of its answers, and 1.6.0's envelopes read as the revision's.
//! - [`error`]: one error type from gRPC statuses, RustMailer's codes and fetch failures.
//! - [`convert`]: RustMailer's shapes onto the mail model (ids, flags, folders, searches).
//! - `client`: the calls, with token and deadline (the gateway inflates RustMailer's gzip); `backend`: the mail engine's trait;
//!   `push`: event hooks relayed by the gateway as SSE, with polling when there are none;
//!   `session`: the one door the rest of the app uses (a chunk of its own in a split build).

#[cfg(target_arch = "wasm32")]
pub mod backend;
#[cfg(target_arch = "wasm32")]
pub mod client;
pub mod convert;
pub mod error;
pub mod proto;
#[cfg(target_arch = "wasm32")]
pub mod push;
#[cfg(target_arch = "wasm32")]
pub mod session;
pub mod wire;

pub use error::RustMailerError;
