//! Display preferences kept on this device (localStorage, through `remembered`): theme, remote
//! images, list shape, notifications, background sending, signatures, label names and colours.
//! Nothing secret lives here; vacation replies and identities live on the server.

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
    /// Let the service worker finish sending mail after every Petrel tab closed. That needs this
    /// account's credentials stored while mail waits; off, they never leave memory.
    pub send_after_close: bool,
    /// Never send read receipts, and do not ask (off: ask for each mail that requests one).
    pub never_send_receipts: bool,
    /// The user's labels: names and colours here, keywords on the server.
    pub labels: Vec<crate::mail::labels::Label>,
}

impl Default for Prefs {
    fn default() -> Prefs {
        Prefs {
            theme: Theme::System,
            remote_images_always: false,
            remote_image_senders: BTreeSet::new(),
            threaded: true,
            signatures: Default::default(),
            notify_new_mail: false,
            send_after_close: true,
            never_send_receipts: false,
            labels: Vec::new(),
        }
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

pub fn load() -> Prefs {
    super::remembered::load_json(KEY).unwrap_or_default()
}

pub fn save(prefs: &Prefs) {
    super::remembered::save_json(KEY, prefs);
}

/// Changes the prefs everyone reads and keeps them on this device.
pub fn change(prefs: leptos::prelude::RwSignal<Prefs>, f: impl FnOnce(&mut Prefs)) {
    use leptos::prelude::{GetUntracked, Update};
    prefs.update(f);
    save(&prefs.get_untracked());
}

/// Applies the theme to the page (`data-theme` on `<html>`; CSS picks the colours).
pub fn apply_theme(theme: Theme) {
    if let Some(root) = web_sys::window().and_then(|w| w.document()).and_then(|d| d.document_element()) {
        let _ = root.set_attribute("data-theme", theme.as_str());
    }
}
