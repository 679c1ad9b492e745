//! Server push (RFC 8620 §7, RFC 8887): the events, and the parsers for each transport.

pub mod sse;
pub mod websocket;

#[cfg(target_arch = "wasm32")]
pub mod live;

use std::collections::BTreeMap;

use serde::Deserialize;

use super::JmapError;

/// What changed on the server: for each account, the new state string of each data type.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StateChange {
    pub changed: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub push_state: Option<String>,
}

impl StateChange {
    /// Parses a StateChange object (the `data` of an SSE `state` event, or a WebSocket frame).
    pub fn parse(json: &str) -> Result<StateChange, JmapError> {
        #[derive(Deserialize)]
        struct Typed {
            #[serde(rename = "@type")]
            kind: String,
        }
        let typed: Typed = serde_json::from_str(json)
            .map_err(|e| JmapError::Protocol(format!("a push event is not a JMAP object ({e})")))?;
        if typed.kind != "StateChange" {
            return Err(JmapError::Protocol(format!("expected a StateChange, got {}", typed.kind)));
        }
        serde_json::from_str(json).map_err(|e| JmapError::Protocol(format!("a StateChange is malformed ({e})")))
    }

    /// Whether any account's `data_type` changed.
    pub fn touches(&self, data_type: &str) -> bool {
        self.changed.values().any(|types| types.contains_key(data_type))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_state_changes() {
        let sc =
            StateChange::parse(r#"{"@type":"StateChange","changed":{"a1":{"Email":"s9","Mailbox":"m2"}}}"#).unwrap();
        assert_eq!(sc.changed["a1"]["Email"], "s9");
        assert!(sc.touches("Mailbox") && !sc.touches("Thread"));
        assert!(StateChange::parse(r#"{"@type":"Response"}"#).is_err());
        assert!(StateChange::parse(r#"{"@type":"StateChange","changed":{"a":5}}"#).is_err());
        assert!(StateChange::parse("{").is_err());
    }
}
