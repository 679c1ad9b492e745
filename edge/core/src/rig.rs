//! The servers the suite runs against, handed in by the host as JSON (scripts/test starts them).

use petrel::auth::Credentials;
use petrel::jmap::client::JmapClient;
use petrel::net::{fetch, now_ms, sleep, HttpRequest};
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize)]
pub struct Rig {
    /// The JMAP server itself (an edge runtime needs no same-origin gateway).
    pub jmap: String,
    pub user: String,
    pub password: String,
    /// The SMTP sink's HTTP listing, where sent mail arrives.
    pub sink: String,
}

impl Rig {
    pub async fn client(&self) -> Result<JmapClient, String> {
        JmapClient::connect(&self.jmap, Credentials::basic(&self.user, &self.password))
            .await
            .map_err(|e| format!("signing in to {}: {e}", self.jmap))
    }

    /// How many mails at the sink have `token` in their subject, once `count` are there (or
    /// `within_ms` have passed).
    pub async fn arrived(&self, token: &str, count: usize, within_ms: u32) -> Result<usize, String> {
        let deadline = now_ms() + within_ms as f64;
        loop {
            let response = fetch(HttpRequest::get(format!("{}/messages", self.sink)))
                .await
                .map_err(|e| format!("the sink's listing: {e}"))?;
            let listing: Vec<serde_json::Value> =
                serde_json::from_slice(&response.body).map_err(|e| format!("the sink's listing: {e}"))?;
            let found = listing.iter().filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(token))).count();
            if found >= count || now_ms() > deadline {
                return Ok(found);
            }
            sleep(100).await;
        }
    }
}

/// A name no other run uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}
