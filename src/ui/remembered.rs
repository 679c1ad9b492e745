//! What the app remembers between visits: the server and username of the last sign-in, never a
//! password or token (those stay in memory only).

use serde::{Deserialize, Serialize};

const KEY: &str = "petrel.lastSignIn";

#[derive(Serialize, Deserialize, Default, Clone)]
pub struct LastSignIn {
    pub server: String,
    pub username: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// A value kept in localStorage as JSON under `key` (never anything secret).
pub fn load_json<T: for<'de> Deserialize<'de>>(key: &str) -> Option<T> {
    let raw = storage()?.get_item(key).ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

/// Keeps `value` under `key`. A full or disabled storage only loses it at the next visit.
pub fn save_json<T: Serialize>(key: &str, value: &T) {
    if let (Some(storage), Ok(raw)) = (storage(), serde_json::to_string(value)) {
        let _ = storage.set_item(key, &raw);
    }
}

pub fn load() -> Option<LastSignIn> {
    load_json(KEY)
}

pub fn save(last: &LastSignIn) {
    save_json(KEY, last);
}

/// The page's own origin: the default server when Petrel is served beside the mail server.
pub fn page_origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}
