//! The Leptos app. Components render state and turn user actions into calls on the core.

mod account;
pub mod address_field;
mod app;
mod background_send;
mod browser_support;
pub mod compose;
mod context;
mod focus;
mod icons;
pub mod mail_actions;
mod mailbox_tree;
pub mod message_list;
mod notify;
mod outbox_view;
mod panics;
mod prefs;
pub mod pwa;
mod reader;
mod remembered;
mod safe_dom;
pub mod sanitize;
pub mod selection;
mod settings;
mod shell;
pub mod shortcuts;
mod sign_in;

pub use account::{sign_in, SignInAttempt, SignedIn};
pub use app::App;

use leptos::prelude::*;

/// Entry point of the browser app: mounts [`App`] on `<body>`, in demo mode if the server offers it.
pub fn start() {
    panics::install();
    leptos::mount::mount_to_body(|| view! { <App demo_sign_in=true offline_start=true /> });
}
