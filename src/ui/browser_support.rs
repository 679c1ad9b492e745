//! What this browser offers of the APIs Petrel would like but can do without, found at run time
//! (never by the browser's name): where one is missing, Petrel keeps its promise another way and
//! the UI says which way.
//!
//! - Background Sync (Chromium only): without it, mail left waiting when the last tab closes is
//!   sent when Petrel is next opened (the service worker still tries once as the page goes).
//! - Notification: without it, new mail shows only in the title and the list.

fn global_has(name: &str) -> bool {
    js_sys::Reflect::has(&js_sys::global(), &name.into()).unwrap_or(false)
}

/// The browser can wake the service worker to send once it is online, with every tab closed.
pub fn background_sync() -> bool {
    global_has("SyncManager")
}

pub fn notifications() -> bool {
    global_has("Notification")
}
