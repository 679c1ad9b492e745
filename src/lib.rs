//! Petrel: a webmail client in Rust and WebAssembly.
//!
//! The crate is split so that the mail core can run in a page, a dedicated worker or a service worker:
//!
//! - [`auth`], [`net`], [`jmap`], [`rustmailer`], [`mail`], [`outbox`]: the DOM-free core. They use only the global scope's
//!   `fetch` (a window's or a worker's), never `window` or `document`, and know nothing of Leptos.
//!   `tests/architecture.rs` fails the build of the tests if that ever changes.
//! - [`ui`]: the Leptos app. Components render state and send intents to the core.

pub mod auth;
pub mod cache;
pub mod jmap;
pub mod mail;
pub mod net;
pub mod outbox;
pub mod rustmailer;

pub mod ui;
