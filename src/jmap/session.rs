//! The JMAP Session resource (RFC 8620 §2): where it is, and what it says.

use std::collections::BTreeMap;

use crate::net::url::Url;
use serde::Deserialize;
use serde_json::Value;

use super::error::status_error;
use super::{capability, JmapError};
use crate::net::HttpResponse;

/// Sessions larger than this are refused: a real one is a few kilobytes.
pub const SESSION_BODY_LIMIT: usize = 1024 * 1024;

/// Turns what a user typed into the URL of a JMAP session resource.
///
/// Accepts a session URL (`https://host/jmap/session`), a server origin (`https://host`, becomes
/// `/.well-known/jmap`), a bare host (`mail.example.com`, https assumed except on loopback) or an
/// email address (its domain, RFC 8620 §2.2 autodiscovery).
pub fn session_url_for(input: &str) -> Result<Url, JmapError> {
    let input = input.trim();
    if input.is_empty() {
        return Err(JmapError::not_jmap(input, "enter the server address"));
    }
    // Browsers differ here (Chromium escapes a space in a host name, Firefox refuses it): refused
    // before parsing, the same everywhere.
    if input.contains(char::is_whitespace) {
        return Err(JmapError::not_jmap(input, "the address cannot contain spaces"));
    }
    let with_scheme = if input.contains("://") {
        input.to_owned()
    } else {
        let host = match input.rsplit_once('@') {
            Some((_, domain)) if !input.contains('/') => domain,
            _ => input,
        };
        let host_only = host.split(['/', ':']).next().unwrap_or("");
        let loopback = host_only == "localhost" || host_only.starts_with("127.") || host_only == "[::1]";
        format!("{}://{host}", if loopback { "http" } else { "https" })
    };
    let mut url =
        Url::parse(&with_scheme).map_err(|e| JmapError::not_jmap(input, &format!("not a valid address ({e})")))?;
    if !matches!(url.scheme().as_str(), "http" | "https") {
        return Err(JmapError::not_jmap(input, "the address must start with http:// or https://"));
    }
    if url.host_name().is_empty() {
        return Err(JmapError::not_jmap(input, "the address has no host name"));
    }
    if url.path() == "/" || url.path().is_empty() {
        url.set_path("/.well-known/jmap");
    }
    url.clear_fragment();
    Ok(url)
}

/// The server's core limits (RFC 8620 §2, `urn:ietf:params:jmap:core`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CoreLimits {
    pub max_size_upload: u64,
    pub max_concurrent_upload: u32,
    pub max_size_request: u64,
    pub max_concurrent_requests: u32,
    pub max_calls_in_request: u32,
    pub max_objects_in_get: u32,
    pub max_objects_in_set: u32,
    #[serde(default)]
    pub collation_algorithms: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Account {
    pub name: String,
    #[serde(default)]
    pub is_personal: bool,
    #[serde(default)]
    pub is_read_only: bool,
    #[serde(default)]
    pub account_capabilities: BTreeMap<String, Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawSession {
    capabilities: BTreeMap<String, Value>,
    accounts: BTreeMap<String, Account>,
    primary_accounts: BTreeMap<String, String>,
    username: String,
    api_url: String,
    download_url: String,
    upload_url: String,
    event_source_url: Option<String>,
    state: String,
}

/// A parsed session with every URL made absolute.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    /// Where the session was read from, after redirects; other URLs are resolved against it.
    pub url: Url,
    pub username: String,
    pub api_url: Url,
    /// URL templates (RFC 6570 level 1), absolute but not yet expanded.
    pub download_url: String,
    pub upload_url: String,
    pub event_source_url: Option<String>,
    pub state: String,
    pub capabilities: BTreeMap<String, Value>,
    pub core: CoreLimits,
    pub accounts: BTreeMap<String, Account>,
    pub primary_accounts: BTreeMap<String, String>,
}

impl Session {
    /// Parses a session body fetched from `url` (the final URL, after redirects).
    pub fn parse(url: &Url, body: &[u8]) -> Result<Session, JmapError> {
        let raw: RawSession = serde_json::from_slice(body)
            .map_err(|e| JmapError::not_jmap(url.as_str(), &format!("the answer is not a JMAP session ({e})")))?;
        let core_value = raw
            .capabilities
            .get(capability::CORE)
            .ok_or_else(|| JmapError::not_jmap(url.as_str(), "the session lacks the core capability"))?;
        let core: CoreLimits = serde_json::from_value(core_value.clone())
            .map_err(|e| JmapError::Protocol(format!("core capability limits are malformed ({e})")))?;
        let api_url = url
            .join(&raw.api_url)
            .map_err(|e| JmapError::Protocol(format!("apiUrl {:?} is not a URL ({e})", raw.api_url)))?;
        Ok(Session {
            url: url.clone(),
            username: raw.username,
            api_url,
            download_url: resolve_template(url, &raw.download_url),
            upload_url: resolve_template(url, &raw.upload_url),
            event_source_url: raw.event_source_url.map(|t| resolve_template(url, &t)),
            state: raw.state,
            capabilities: raw.capabilities,
            core,
            accounts: raw.accounts,
            primary_accounts: raw.primary_accounts,
        })
    }

    /// The account to use for `capability`: the primary one, else the only one that has it.
    pub fn primary_account(&self, capability: &str) -> Result<&str, JmapError> {
        if let Some(id) = self.primary_accounts.get(capability) {
            return Ok(id);
        }
        let mut with = self.accounts.iter().filter(|(_, a)| a.account_capabilities.contains_key(capability));
        match (with.next(), with.next()) {
            (Some((id, _)), None) => Ok(id),
            _ => Err(JmapError::MissingCapability(capability.to_owned())),
        }
    }

    pub fn has_capability(&self, capability: &str) -> bool {
        self.capabilities.contains_key(capability)
    }

    pub fn download_url(&self, account_id: &str, blob_id: &str, name: &str, content_type: &str) -> String {
        expand_template(
            &self.download_url,
            &[("accountId", account_id), ("blobId", blob_id), ("name", name), ("type", content_type)],
        )
    }

    pub fn upload_url(&self, account_id: &str) -> String {
        expand_template(&self.upload_url, &[("accountId", account_id)])
    }

    /// The push stream URL for these data types (`*` for all), closing after a state event or not,
    /// with a ping every `ping_secs` (0: none).
    pub fn event_source_url(&self, types: &[&str], close_after_state: bool, ping_secs: u32) -> Option<String> {
        let template = self.event_source_url.as_deref()?;
        let types = if types.is_empty() { "*".to_owned() } else { types.join(",") };
        let ping = ping_secs.to_string();
        let close = if close_after_state { "state" } else { "no" };
        Some(expand_template(template, &[("types", &types), ("closeafter", close), ("ping", &ping)]))
    }
}

/// Expands an RFC 6570 level 1 template: each `{name}` becomes its value, percent-encoded except
/// for unreserved characters; unknown names expand to nothing, as the RFC says.
pub fn expand_template(template: &str, vars: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 32);
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}') else {
            out.push_str(&rest[open..]);
            return out;
        };
        let name = &rest[open + 1..open + close];
        if let Some((_, value)) = vars.iter().find(|(n, _)| *n == name) {
            for byte in value.bytes() {
                if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
                    out.push(byte as char);
                } else {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

/// Makes a URL template absolute without touching its `{variables}` (a URL parser would escape them).
fn resolve_template(base: &Url, template: &str) -> String {
    let lower = template.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") || lower.starts_with("ws") {
        return template.to_owned();
    }
    let origin = base.origin();
    if template.starts_with("//") {
        format!("{}:{template}", base.scheme())
    } else if template.starts_with('/') {
        format!("{origin}{template}")
    } else {
        let path = base.path();
        let dir = &path[..path.rfind('/').map(|i| i + 1).unwrap_or(0)];
        format!("{origin}{dir}{template}")
    }
}

/// Interprets the response to a session request.
pub fn interpret_session_response(response: &HttpResponse) -> Result<Session, JmapError> {
    if let Some(err) = status_error(response) {
        return Err(err);
    }
    if !response.is_json() {
        return Err(JmapError::not_jmap(&response.url, "the server answered with something other than JSON"));
    }
    let url = Url::parse(&response.url).map_err(|e| JmapError::Protocol(format!("bad response URL ({e})")))?;
    Session::parse(&url, &response.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    const CYRUS_SESSION: &str = r#"{
        "username": "demo@example.org", "apiUrl": "/jmap/",
        "downloadUrl": "/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
        "uploadUrl": "/jmap/upload/{accountId}/",
        "eventSourceUrl": "/jmap/eventsource/?types={types}&closeafter={closeafter}&ping={ping}",
        "state": "0",
        "capabilities": {
            "urn:ietf:params:jmap:core": {"maxSizeUpload": 1073741824, "maxConcurrentUpload": 5,
                "maxSizeRequest": 10485760, "maxConcurrentRequests": 5, "maxCallsInRequest": 50,
                "maxObjectsInGet": 4096, "maxObjectsInSet": 4096, "collationAlgorithms": []},
            "urn:ietf:params:jmap:mail": {}
        },
        "accounts": {"demo@example.org": {"name": "demo@example.org", "isPersonal": true, "isReadOnly": false,
            "accountCapabilities": {"urn:ietf:params:jmap:mail": {}}}},
        "primaryAccounts": {"urn:ietf:params:jmap:mail": "demo@example.org"}
    }"#;

    fn response(status: u16, ct: &str, body: &str) -> HttpResponse {
        HttpResponse {
            status,
            url: "http://127.0.0.1:8080/jmap".into(),
            content_type: Some(ct.into()),
            retry_after_secs: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn session_urls_from_user_input() {
        let cases = [
            ("https://mail.example.com", "https://mail.example.com/.well-known/jmap"),
            ("https://mail.example.com/", "https://mail.example.com/.well-known/jmap"),
            ("mail.example.com", "https://mail.example.com/.well-known/jmap"),
            ("alice@example.com", "https://example.com/.well-known/jmap"),
            ("127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/jmap"),
            ("localhost:8080", "http://localhost:8080/.well-known/jmap"),
            ("https://api.fastmail.com/jmap/session", "https://api.fastmail.com/jmap/session"),
            ("  http://127.0.0.1:9/jmap/  ", "http://127.0.0.1:9/jmap/"),
        ];
        for (input, want) in cases {
            assert_eq!(session_url_for(input).unwrap().as_str(), want, "input {input:?}");
        }
    }

    #[test]
    fn bad_addresses_are_refused_with_reasons() {
        for input in ["", "   ", "ftp://example.com", "http://", "https://exa mple.com"] {
            let err = session_url_for(input).unwrap_err();
            assert!(matches!(err, JmapError::NotJmap { .. }), "{input:?} gave {err:?}");
        }
    }

    #[test]
    fn parses_cyrus_session_with_relative_urls() {
        let s = interpret_session_response(&response(200, "application/json", CYRUS_SESSION)).unwrap();
        assert_eq!(s.api_url.as_str(), "http://127.0.0.1:8080/jmap/");
        assert_eq!(s.download_url, "http://127.0.0.1:8080/jmap/download/{accountId}/{blobId}/{name}?accept={type}");
        assert_eq!(s.upload_url, "http://127.0.0.1:8080/jmap/upload/{accountId}/");
        assert_eq!(s.core.max_calls_in_request, 50);
        assert_eq!(s.core.max_objects_in_get, 4096);
        assert_eq!(s.primary_account(capability::MAIL).unwrap(), "demo@example.org");
        assert!(matches!(s.primary_account(capability::SUBMISSION), Err(JmapError::MissingCapability(_))));
    }

    #[test]
    fn keeps_absolute_urls_and_resolves_relative_paths() {
        let base = Url::parse("https://mail.example.com/jmap/session").unwrap();
        assert_eq!(resolve_template(&base, "https://cdn.example.com/d/{blobId}"), "https://cdn.example.com/d/{blobId}");
        assert_eq!(resolve_template(&base, "/up/{accountId}"), "https://mail.example.com/up/{accountId}");
        assert_eq!(resolve_template(&base, "up/{accountId}"), "https://mail.example.com/jmap/up/{accountId}");
        assert_eq!(resolve_template(&base, "//other.example/x"), "https://other.example/x");
    }

    #[test]
    fn url_templates_expand_with_escaping() {
        let s = interpret_session_response(&response(200, "application/json", CYRUS_SESSION)).unwrap();
        assert_eq!(
            s.download_url("demo@example.org", "G1a2", "Invoice 2026/11 ☕.pdf", "application/pdf"),
            "http://127.0.0.1:8080/jmap/download/demo%40example.org/G1a2/Invoice%202026%2F11%20%E2%98%95.pdf?accept=application%2Fpdf"
        );
        assert_eq!(s.upload_url("a b"), "http://127.0.0.1:8080/jmap/upload/a%20b/");
        assert_eq!(
            s.event_source_url(&["Email", "Mailbox"], false, 30).unwrap(),
            "http://127.0.0.1:8080/jmap/eventsource/?types=Email%2CMailbox&closeafter=no&ping=30"
        );
        assert_eq!(expand_template("/x/{unknown}/{a}", &[("a", "~ok-._")]), "/x//~ok-._");
        assert_eq!(expand_template("/broken/{a", &[("a", "1")]), "/broken/{a");
    }

    #[test]
    fn errors_a_user_can_act_on() {
        assert_eq!(interpret_session_response(&response(401, "text/html", "no")), Err(JmapError::Unauthorized));
        assert!(matches!(interpret_session_response(&response(404, "text/html", "")), Err(JmapError::NotJmap { .. })));
        assert!(matches!(
            interpret_session_response(&response(200, "text/html", "<html>welcome</html>")),
            Err(JmapError::NotJmap { .. })
        ));
        assert!(matches!(
            interpret_session_response(&response(200, "application/json", r#"{"hello": 1}"#)),
            Err(JmapError::NotJmap { .. })
        ));
        let mut busy = response(503, "text/plain", "");
        busy.retry_after_secs = Some(120);
        assert_eq!(
            interpret_session_response(&busy),
            Err(JmapError::Unavailable { status: 503, retry_after_secs: Some(120) })
        );
    }

    #[test]
    fn truncated_or_garbage_json_is_a_typed_error_not_a_panic() {
        let truncated = &CYRUS_SESSION[..CYRUS_SESSION.len() / 2];
        assert!(interpret_session_response(&response(200, "application/json", truncated)).is_err());
        for junk in ["", "null", "[]", "\u{0}\u{1}", "{\"capabilities\": 5}"] {
            assert!(interpret_session_response(&response(200, "application/json", junk)).is_err(), "{junk:?}");
        }
    }
}
