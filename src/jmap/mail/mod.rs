//! JMAP Mail (RFC 8621): the mail engine's backend trait over a [`JmapClient`].
//!
//! Builders and parsers are plain functions (tested natively); [`JmapMail`] (wasm only) sends
//! them. A sync is one HTTP request: mailbox, message and open-list changes together, with the
//! changed objects fetched in the same round trip by result references.
//!
//! By object and method, as the modules say: [`email`], [`sync`], [`actions`], [`submission`],
//! [`snippets`], [`mdn`] (read receipts); [`backend`] (wasm only) is the account itself.

use serde::Deserialize;
use serde_json::Value;

use super::request::GetResponse;
use super::JmapError;

pub mod actions;
#[cfg(target_arch = "wasm32")]
pub mod backend;
pub mod email;
pub mod mailbox;
pub mod mdn;
pub mod snippets;
pub mod submission;
pub mod sync;

pub use actions::*;
#[cfg(target_arch = "wasm32")]
pub use backend::JmapMail;
pub use email::*;
pub use snippets::*;
pub use submission::*;
pub use sync::*;

fn malformed(what: &str, e: impl std::fmt::Display) -> JmapError {
    JmapError::Protocol(format!("{what} response is malformed ({e})"))
}

/// The objects of a `Foo/get` answer (see [`GetResponse`]).
pub fn parse_list<T: for<'de> Deserialize<'de>>(what: &str, value: Value) -> Result<Vec<T>, JmapError> {
    Ok(GetResponse::parse(what, value)?.list)
}
