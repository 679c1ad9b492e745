//! The mail model and engine the UI reads, independent of the protocol that fills it.
//!
//! - [`model`], [`mailbox`], [`query`], [`action`], [`quota`]: the data; [`address`]: address lists as typed;
//!   [`receipts`]: read receipts that came back; [`filters`]: rules as a Sieve script; [`labels`]:
//!   label names as keywords; [`time`]: instants as RFC 3339 text.
//! - [`backend`]: the trait a protocol implements (JMAP in `jmap::mail`).
//! - [`store`]: one account's local copy, with pending actions shown on top.
//! - [`engine`]: keeps a store in step with the server and with its [`local_copy`] (a port the
//!   offline cache implements), tested natively with fakes behind both ports.
//! - [`error`]: what failed, in the engine's terms; each protocol converts its errors into it.
//!
//! A leaf: nothing here imports a protocol, the network or the cache (`tests/architecture.rs`).

pub mod action;
pub mod address;
pub mod backend;
pub mod engine;
pub mod error;
pub mod filters;
pub mod html_policy;
pub mod labels;
pub mod local_copy;
pub mod mailbox;
pub mod mailto;
pub mod model;
pub mod query;
pub mod quota;
pub mod quoting;
pub mod receipts;
pub mod snooze;
pub mod store;
pub mod time;
pub mod unsubscribe;

pub use action::Action;
pub use error::{MailError, Retry, WriteOutcome};
pub use mailbox::{Mailbox, MailboxNode, MailboxRights, Role};
pub use model::{keyword, Address, BodyPart, Draft, EmailSummary, Identity, Message, Snippet, Thread, Vacation};
pub use query::{Filter, MailQuery, SortBy};
