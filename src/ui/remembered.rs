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

pub fn load() -> Option<LastSignIn> {
    let raw = storage()?.get_item(KEY).ok().flatten()?;
    serde_json::from_str(&raw).ok()
}

pub fn save(last: &LastSignIn) {
    if let (Some(storage), Ok(raw)) = (storage(), serde_json::to_string(last)) {
        // A full or disabled storage only costs the convenience of a prefilled form.
        let _ = storage.set_item(KEY, &raw);
    }
}

/// The page's own origin: the default server when Petrel is served beside the mail server.
pub fn page_origin() -> String {
    web_sys::window().and_then(|w| w.location().origin().ok()).unwrap_or_default()
}
