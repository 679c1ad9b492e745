//! The Leptos app. Components render state and turn user actions into calls on the core.
//! [`selection`] and [`shortcuts`] are plain logic: they build and are tested natively too.

#[cfg(target_arch = "wasm32")]
mod account;
#[cfg(target_arch = "wasm32")]
pub mod address_field;
#[cfg(target_arch = "wasm32")]
mod alert;
#[cfg(target_arch = "wasm32")]
mod announcer;
#[cfg(target_arch = "wasm32")]
mod app;
#[cfg(target_arch = "wasm32")]
mod background_send;
#[cfg(target_arch = "wasm32")]
mod boot;
#[cfg(target_arch = "wasm32")]
mod browser_support;
#[cfg(target_arch = "wasm32")]
pub mod compose;
#[cfg(target_arch = "wasm32")]
mod context;
#[cfg(target_arch = "wasm32")]
mod filters;
#[cfg(target_arch = "wasm32")]
mod focus;
#[cfg(target_arch = "wasm32")]
mod format;
#[cfg(target_arch = "wasm32")]
mod icons;
#[cfg(target_arch = "wasm32")]
mod labels;
#[cfg(target_arch = "wasm32")]
pub mod mail_actions;
#[cfg(target_arch = "wasm32")]
mod mailbox_tree;
#[cfg(target_arch = "wasm32")]
pub mod message_list;
#[cfg(target_arch = "wasm32")]
mod notify;
#[cfg(target_arch = "wasm32")]
mod outbox_view;
#[cfg(target_arch = "wasm32")]
mod panics;
#[cfg(target_arch = "wasm32")]
mod prefs;
#[cfg(target_arch = "wasm32")]
mod print_view;
#[cfg(target_arch = "wasm32")]
pub mod pwa;
#[cfg(target_arch = "wasm32")]
mod quota_meter;
#[cfg(target_arch = "wasm32")]
mod reader;
#[cfg(target_arch = "wasm32")]
mod receipt_bar;
#[cfg(target_arch = "wasm32")]
mod remembered;
#[cfg(target_arch = "wasm32")]
mod safe_dom;
#[cfg(target_arch = "wasm32")]
pub mod sanitize;
pub mod selection;
#[cfg(target_arch = "wasm32")]
mod settings;
#[cfg(target_arch = "wasm32")]
mod shell;
pub mod shortcuts;
#[cfg(target_arch = "wasm32")]
mod sign_in;
#[cfg(target_arch = "wasm32")]
mod snooze;
#[cfg(target_arch = "wasm32")]
mod unsubscribe_bar;

#[cfg(target_arch = "wasm32")]
pub use account::{sign_in, SignInAttempt, SignedIn};
#[cfg(target_arch = "wasm32")]
pub use app::App;

#[cfg(target_arch = "wasm32")]
use leptos::prelude::*;

/// Entry point of the browser app: mounts the sign-in form of the first module (`boot`), which
/// hands over to [`App`] (in demo mode if the server offers it) once that has loaded.
#[cfg(target_arch = "wasm32")]
pub fn start() {
    panics::install();
    leptos::mount::mount_to_body(|| view! { <boot::Boot /> });
}
