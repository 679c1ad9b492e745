//! JMAP over WebSocket (RFC 8887): the frames, as text, in both directions.

use serde::Deserialize;
use serde_json::{json, Value};

use super::StateChange;
use crate::auth::Credentials;
use crate::jmap::request::{Problem, Response};
use crate::jmap::{JmapError, Request};
use crate::net::url::Url;

/// The subprotocol a JMAP WebSocket must negotiate.
pub const SUBPROTOCOL: &str = "jmap";

/// Where to open the WebSocket: the advertised URL made absolute against the session URL.
///
/// Browsers cannot set headers on a WebSocket, so Basic credentials go in the URL (the one place
/// Petrel puts them there) and a Bearer token goes in `access_token`, which the gateway moves into
/// the Authorization header. Cyrus advertises a host-less `wss:/jmap/ws/`: the host and, for a plain
/// http session, the scheme come from the session URL.
pub fn websocket_url(session_url: &Url, advertised: &str, credentials: &Credentials) -> Result<String, JmapError> {
    let mut url = resolve(session_url, advertised)?;
    match credentials {
        Credentials::Basic { username, password } => url.set_credentials(username, password),
        Credentials::Bearer { token } => url.append_query_pair("access_token", token),
    }
    Ok(url.to_string())
}

/// The same address as an http(s) URL without credentials, for runtimes that open a WebSocket
/// through `fetch` with an Upgrade header (workerd), where the credentials go in the
/// Authorization header as on any other request.
pub fn handshake_url(session_url: &Url, advertised: &str) -> Result<String, JmapError> {
    let mut url = resolve(session_url, advertised)?;
    let scheme = if url.scheme() == "wss" { "https" } else { "http" };
    url.set_scheme(scheme).map_err(|e| JmapError::Protocol(format!("the WebSocket URL {advertised:?} {e}")))?;
    Ok(url.to_string())
}

fn resolve(session_url: &Url, advertised: &str) -> Result<Url, JmapError> {
    let bad = |why: &str| JmapError::Protocol(format!("the WebSocket URL {advertised:?} {why}"));
    let secure_session = session_url.scheme() == "https";
    let (scheme, rest) = match advertised.split_once(':') {
        Some((s, rest)) if s.eq_ignore_ascii_case("ws") || s.eq_ignore_ascii_case("wss") => {
            (Some(s.to_ascii_lowercase()), rest)
        }
        _ => (None, advertised),
    };
    let url = if let Some(after) = rest.strip_prefix("//") {
        Url::parse(&format!("{}://{after}", scheme.as_deref().unwrap_or("wss"))).map_err(|e| bad(&e.to_string()))?
    } else {
        let mut base = session_url.clone();
        let scheme = if secure_session { "wss" } else { "ws" };
        base.set_scheme(scheme).map_err(|e| bad(&e.to_string()))?;
        base.join(rest).map_err(|e| bad(&e.to_string()))?
    };
    Ok(url)
}

/// A request frame: the usual request object with `@type` and an `id` to match the response by.
pub fn request_frame(id: &str, request: &Request) -> String {
    let mut body: Value = serde_json::from_slice(&request.to_json()).unwrap_or_else(|_| json!({}));
    body["@type"] = json!("Request");
    body["id"] = json!(id);
    body.to_string()
}

/// Asks the server to push changes of these data types (an explicit list: some servers read
/// `null` as "none").
pub fn push_enable_frame(data_types: &[&str], push_state: Option<&str>) -> String {
    json!({ "@type": "WebSocketPushEnable", "dataTypes": data_types, "pushState": push_state }).to_string()
}

pub fn push_disable_frame() -> String {
    json!({ "@type": "WebSocketPushDisable" }).to_string()
}

/// A frame from the server.
#[derive(Debug, Clone)]
pub enum Inbound {
    Response {
        request_id: Option<String>,
        response: Response,
    },
    RequestError {
        request_id: Option<String>,
        error: JmapError,
    },
    StateChange(StateChange),
    /// Frames of types this client does not know are ignored, as the RFC asks.
    Unknown(String),
}

pub fn parse_frame(text: &str, limit: usize) -> Result<Inbound, JmapError> {
    if text.len() > limit {
        return Err(JmapError::Protocol(format!("a WebSocket message exceeded {limit} bytes")));
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Head {
        #[serde(rename = "@type")]
        kind: Option<String>,
        request_id: Option<String>,
    }
    let head: Head = serde_json::from_str(text)
        .map_err(|e| JmapError::Protocol(format!("a WebSocket message is not a JMAP object ({e})")))?;
    match head.kind.as_deref() {
        Some("Response") => {
            let response: Response = serde_json::from_str(text)
                .map_err(|e| JmapError::Protocol(format!("a WebSocket Response is malformed ({e})")))?;
            Ok(Inbound::Response { request_id: head.request_id, response })
        }
        Some("RequestError") => {
            let problem: Problem = serde_json::from_str(text)
                .map_err(|e| JmapError::Protocol(format!("a WebSocket RequestError is malformed ({e})")))?;
            Ok(Inbound::RequestError { request_id: head.request_id, error: problem.into_error(text.as_bytes()) })
        }
        Some("StateChange") => Ok(Inbound::StateChange(StateChange::parse(text)?)),
        other => Ok(Inbound::Unknown(other.unwrap_or("(none)").to_owned())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jmap::capability;

    #[test]
    fn request_frames_carry_type_and_id() {
        let mut request = Request::new().using(capability::MAIL);
        request.call("Mailbox/get", json!({"accountId": "a"}));
        let frame: Value = serde_json::from_str(&request_frame("r7", &request)).unwrap();
        assert_eq!(frame["@type"], "Request");
        assert_eq!(frame["id"], "r7");
        assert_eq!(frame["methodCalls"][0][0], "Mailbox/get");
        let enable: Value = serde_json::from_str(&push_enable_frame(&["Email", "Mailbox"], None)).unwrap();
        assert_eq!(
            enable,
            json!({"@type": "WebSocketPushEnable", "dataTypes": ["Email", "Mailbox"], "pushState": null})
        );
    }

    #[test]
    fn websocket_urls_from_what_servers_advertise() {
        let http = Url::parse("http://127.0.0.1:8080/jmap").unwrap();
        let https = Url::parse("https://mail.example.com/jmap/session").unwrap();
        let basic = Credentials::basic("demo@example.org", "p@ss:w/rd");
        assert_eq!(
            websocket_url(&http, "wss:/jmap/ws/", &basic).unwrap(),
            "ws://demo%40example.org:p%40ss%3Aw%2Frd@127.0.0.1:8080/jmap/ws/"
        );
        let secure = websocket_url(&https, "wss:/jmap/ws/", &basic).unwrap();
        assert!(secure.starts_with("wss://") && secure.ends_with("@mail.example.com/jmap/ws/"), "{secure}");
        assert_eq!(
            websocket_url(&https, "wss://push.example.com/ws", &Credentials::bearer("t k")).unwrap(),
            "wss://push.example.com/ws?access_token=t+k"
        );
        assert_eq!(
            websocket_url(&http, "/jmap/ws/", &Credentials::bearer("t")).unwrap(),
            "ws://127.0.0.1:8080/jmap/ws/?access_token=t"
        );
        assert!(websocket_url(&http, "wss://", &basic).is_err());
        assert_eq!(handshake_url(&http, "wss:/jmap/ws/").unwrap(), "http://127.0.0.1:8080/jmap/ws/");
        assert_eq!(handshake_url(&https, "wss://push.example.com/ws").unwrap(), "https://push.example.com/ws");
    }

    #[test]
    fn parses_each_inbound_kind() {
        let r = parse_frame(r#"{"@type":"Response","requestId":"r1","methodResponses":[["Mailbox/get",{"list":[]},"c0"]],"sessionState":"0"}"#, 1 << 20).unwrap();
        assert!(matches!(r, Inbound::Response { request_id: Some(ref id), .. } if id == "r1"));
        let e = parse_frame(r#"{"@type":"RequestError","requestId":"r2","type":"urn:ietf:params:jmap:error:notRequest","status":400,"detail":"bad"}"#, 1 << 20).unwrap();
        match e {
            Inbound::RequestError { request_id, error } => {
                assert_eq!(request_id.as_deref(), Some("r2"));
                assert_eq!(error, JmapError::Request { kind: "notRequest".into(), limit: None, detail: "bad".into() });
            }
            other => panic!("{other:?}"),
        }
        let s = parse_frame(r#"{"@type":"StateChange","changed":{"a":{"Email":"1"}}}"#, 1 << 20).unwrap();
        assert!(matches!(s, Inbound::StateChange(_)));
        assert!(matches!(parse_frame(r#"{"@type":"Novel","x":1}"#, 1 << 20).unwrap(), Inbound::Unknown(_)));
    }

    #[test]
    fn oversized_and_malformed_frames_are_errors() {
        assert!(parse_frame(&format!("{{\"@type\":\"StateChange\",\"pad\":\"{}\"}}", "x".repeat(100)), 64).is_err());
        assert!(parse_frame("not json", 1 << 20).is_err());
        assert!(parse_frame(r#"{"@type":"Response","requestId":"r"}"#, 1 << 20).is_err());
    }
}
