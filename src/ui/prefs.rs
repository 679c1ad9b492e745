//! Display preferences kept on this device (localStorage): theme, remote images, list shape.
//! Nothing secret lives here; signatures and vacation replies live on the server.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

const KEY: &str = "petrel.prefs";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Theme {
    #[default]
    System,
    Light,
    Dark,
}

impl Theme {
    pub fn as_str(self) -> &'static str {
        match self {
            Theme::System => "system",
            Theme::Light => "light",
            Theme::Dark => "dark",
        }
    }

    pub fn parse(value: &str) -> Theme {
        match value {
            "light" => Theme::Light,
            "dark" => Theme::Dark,
            _ => Theme::System,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Prefs {
    pub theme: Theme,
    /// Load remote images in every mail (off: only for senders allowed one by one).
    pub remote_images_always: bool,
    /// Senders whose remote images load without asking (lower-case addresses).
    pub remote_image_senders: BTreeSet<String>,
    /// One row per conversation.
    pub threaded: bool,
    /// Signatures written here, by identity address: used instead of the server's (many servers,
    /// Cyrus among them, cannot store one: no Identity/set).
    pub signatures: std::collections::BTreeMap<String, String>,
    /// Notify of new mail while Petrel is in the background (the browser's permission is asked
    /// when this is switched on).
    pub notify_new_mail: bool,
}

impl Default for Prefs {
    fn default() -> Prefs {
        Prefs { theme: Theme::System, remote_images_always: false, remote_image_senders: BTreeSet::new(), threaded: true, signatures: Default::default(), notify_new_mail: false }
    }
}

impl Prefs {
    /// The signature to add when writing as `identity`: this device's, else the server's.
    pub fn signature_for(&self, identity: &crate::mail::Identity) -> String {
        self.signatures.get(&identity.email.to_lowercase()).cloned().unwrap_or_else(|| identity.text_signature.clone())
    }

    pub fn allows_remote_from(&self, sender: &str) -> bool {
        self.remote_images_always || self.remote_image_senders.contains(&sender.to_lowercase())
    }
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

pub fn load() -> Prefs {
    storage().and_then(|s| s.get_item(KEY).ok().flatten()).and_then(|raw| serde_json::from_str(&raw).ok()).unwrap_or_default()
}

pub fn save(prefs: &Prefs) {
    if let (Some(storage), Ok(raw)) = (storage(), serde_json::to_string(prefs)) {
        // Full or disabled storage: the preference holds for this visit only.
        let _ = storage.set_item(KEY, &raw);
    }
}

/// Applies the theme to the page (`data-theme` on `<html>`; CSS picks the colours).
pub fn apply_theme(theme: Theme) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
}
