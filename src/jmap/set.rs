//! `Foo/set` responses (RFC 8620 §5.3) with their per-object errors.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::JmapError;

/// Why the server refused to create, update or destroy one object.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, thiserror::Error)]
#[error("{kind}{}", description.as_deref().map(|d| format!(": {d}")).unwrap_or_default())]
pub struct SetError {
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub description: Option<String>,
    /// The properties at fault, for `invalidProperties`.
    #[serde(default)]
    pub properties: Option<Vec<String>>,
}

/// Some servers (Cyrus) send `null` for an empty map: read it as empty.
fn map_or_null<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
where
    D: Deserializer<'de>,
    V: Deserialize<'de>,
{
    Ok(Option::<BTreeMap<String, V>>::deserialize(d)?.unwrap_or_default())
}

fn vec_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetResponse {
    #[serde(default)]
    pub old_state: Option<String>,
    #[serde(default)]
    pub new_state: Option<String>,
    #[serde(default, deserialize_with = "map_or_null")]
    pub created: BTreeMap<String, Value>,
    /// Updated ids, each with the server-set properties that changed (or null).
    #[serde(default, deserialize_with = "map_or_null")]
    pub updated: BTreeMap<String, Value>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub destroyed: Vec<String>,
    #[serde(default, deserialize_with = "map_or_null")]
    pub not_created: BTreeMap<String, SetError>,
    #[serde(default, deserialize_with = "map_or_null")]
    pub not_updated: BTreeMap<String, SetError>,
    #[serde(default, deserialize_with = "map_or_null")]
    pub not_destroyed: BTreeMap<String, SetError>,
}

impl SetResponse {
    pub fn parse(arguments: Value) -> Result<SetResponse, JmapError> {
        serde_json::from_value(arguments)
            .map_err(|e| JmapError::Protocol(format!("a /set response is malformed ({e})")))
    }

    /// The server id of the object created under `creation_id`.
    pub fn created_id(&self, creation_id: &str) -> Option<&str> {
        self.created.get(creation_id)?.get("id")?.as_str()
    }

    /// Whether every create, update and destroy succeeded.
    pub fn all_succeeded(&self) -> bool {
        self.not_created.is_empty() && self.not_updated.is_empty() && self.not_destroyed.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cyrus_nulls_are_empty_maps() {
        let r = SetResponse::parse(json!({"accountId": "a", "oldState": "1", "newState": "2",
            "created": {"k1": {"id": "M9"}}, "updated": null, "destroyed": null,
            "notCreated": null, "notUpdated": null, "notDestroyed": null}))
        .unwrap();
        assert_eq!(r.created_id("k1"), Some("M9"));
        assert!(r.updated.is_empty() && r.destroyed.is_empty() && r.all_succeeded());
    }

    #[test]
    fn per_object_errors_are_kept_with_their_ids() {
        let r = SetResponse::parse(json!({"notCreated": {"k2": {"type": "invalidProperties",
            "properties": ["name"], "description": "name is empty"}},
            "notDestroyed": {"M1": {"type": "mailboxHasEmail"}}}))
        .unwrap();
        assert!(!r.all_succeeded());
        assert_eq!(r.not_created["k2"].properties.as_deref(), Some(&["name".to_owned()][..]));
        assert_eq!(r.not_created["k2"].to_string(), "invalidProperties: name is empty");
        assert_eq!(r.not_destroyed["M1"].to_string(), "mailboxHasEmail");
        assert!(SetResponse::parse(json!({"notCreated": {"k": {"no-type": 1}}})).is_err());
    }
}
