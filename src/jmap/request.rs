//! The request and response envelopes of the JMAP API (RFC 8620 §3.3-3.4).

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::error::{body_excerpt, status_error};
use super::{capability, JmapError, MethodErrorKind};
use crate::net::HttpResponse;

/// One method call or response: `[name, arguments, callId]` on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Invocation(pub String, pub Value, pub String);

/// A batch of method calls sent in one HTTP request.
#[derive(Debug, Clone, Default)]
pub struct Request {
    using: BTreeSet<String>,
    calls: Vec<Invocation>,
    /// Creation ids from earlier requests (RFC 8620 §3.3), so `#k1` still resolves after a split.
    created_ids: Option<BTreeMap<String, String>>,
}

impl Request {
    pub fn new() -> Self {
        let mut request = Request::default();
        request.using.insert(capability::CORE.to_owned());
        request
    }

    /// Declares a capability the calls need.
    pub fn using(mut self, capability: &str) -> Self {
        self.using.insert(capability.to_owned());
        self
    }

    /// Adds a method call; the handle takes its response and builds references to its result.
    pub fn call(&mut self, method: &str, arguments: Value) -> Call {
        let id = format!("c{}", self.calls.len());
        self.calls.push(Invocation(method.to_owned(), arguments, id.clone()));
        Call { id, method: method.to_owned() }
    }

    pub fn calls(&self) -> &[Invocation] {
        &self.calls
    }

    pub(crate) fn using_list(&self) -> BTreeSet<String> {
        self.using.clone()
    }

    pub(crate) fn from_parts(using: BTreeSet<String>, calls: Vec<Invocation>) -> Request {
        Request { using, calls, created_ids: None }
    }

    /// Sends these creation ids along (RFC 8620 `createdIds`).
    pub fn with_created_ids(mut self, ids: BTreeMap<String, String>) -> Self {
        self.created_ids = Some(ids);
        self
    }

    pub fn len(&self) -> usize {
        self.calls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
    }

    /// Whether every call only reads: such requests may be repeated and shared.
    pub fn is_read_only(&self) -> bool {
        self.calls.iter().all(|Invocation(name, _, _)| {
            name == "Core/echo" || ["/get", "/query", "/changes", "/queryChanges"].iter().any(|s| name.ends_with(s))
        })
    }

    pub fn to_json(&self) -> Vec<u8> {
        let mut body = json!({ "using": self.using, "methodCalls": self.calls });
        if let Some(ids) = &self.created_ids {
            body["createdIds"] = json!(ids);
        }
        body.to_string().into_bytes()
    }
}

/// A method call in a [`Request`]: its id and method name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call {
    pub id: String,
    pub method: String,
}

impl Call {
    /// A result reference (RFC 8620 §3.7) to `path` in this call's response, for use as the value
    /// of a `#`-prefixed argument of a later call, e.g. `"#ids": query.result("/ids")`.
    pub fn result(&self, path: &str) -> Value {
        json!({ "resultOf": self.id, "name": self.method, "path": path })
    }
}

/// The arguments of any `Foo/get` answer (RFC 8620 §5.1), its objects typed.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetResponse<T> {
    /// The objects' state; servers that cannot say leave it out.
    #[serde(default)]
    pub state: Option<String>,
    pub list: Vec<T>,
    #[serde(default, deserialize_with = "crate::mail::model::null_as_default")]
    pub not_found: Vec<String>,
}

impl<T: for<'de> Deserialize<'de>> GetResponse<T> {
    /// Reads a `method` answer; one that is not a get response is a protocol error naming it.
    pub fn parse(method: &str, arguments: Value) -> Result<GetResponse<T>, JmapError> {
        serde_json::from_value(arguments)
            .map_err(|e| JmapError::Protocol(format!("{method} response is malformed ({e})")))
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Response {
    pub(crate) method_responses: Vec<Invocation>,
    pub session_state: String,
    /// Creation ids the server resolved, when the request sent `createdIds`.
    #[serde(default)]
    pub created_ids: Option<BTreeMap<String, String>>,
}

impl Response {
    /// The arguments answering `call`. An `error` invocation for the same id wins over any success
    /// (RFC 8620 §3.6.2).
    pub fn take(&mut self, call: &Call) -> Result<Value, JmapError> {
        self.take_by_id(&call.id, &call.method)
    }

    /// Like [`Response::take`] for a call id and method given apart.
    pub fn take_by_id(&mut self, call_id: &str, method: &str) -> Result<Value, JmapError> {
        if let Some(err) = self.method_responses.iter().find(|i| i.2 == call_id && i.0 == "error") {
            return Err(JmapError::Method {
                method: method.to_owned(),
                kind: MethodErrorKind::parse(err.1.get("type").and_then(Value::as_str).unwrap_or("unknown")),
                description: err.1.get("description").and_then(Value::as_str).map(str::to_owned),
            });
        }
        let position = self
            .method_responses
            .iter()
            .position(|i| i.2 == call_id && i.0 == method)
            .ok_or_else(|| JmapError::Protocol(format!("no {method} response for call {call_id}")))?;
        Ok(self.method_responses.swap_remove(position).1)
    }
}

/// A problem-details body (RFC 7807) of a request-level error.
#[derive(Deserialize)]
pub(crate) struct Problem {
    #[serde(rename = "type")]
    kind: String,
    limit: Option<String>,
    detail: Option<String>,
}

impl Problem {
    pub(crate) fn into_error(self, body: &[u8]) -> JmapError {
        let kind = self.kind.trim_start_matches("urn:ietf:params:jmap:error:").to_owned();
        let detail = self.detail.unwrap_or_else(|| body_excerpt(body));
        JmapError::Request { kind, limit: self.limit, detail }
    }
}

/// Interprets the HTTP response to an API request.
pub fn interpret_api_response(response: &HttpResponse) -> Result<Response, JmapError> {
    if response.status == 400 {
        if let Ok(problem) = serde_json::from_slice::<Problem>(&response.body) {
            return Err(problem.into_error(&response.body));
        }
    }
    if let Some(err) = status_error(response) {
        return Err(err);
    }
    serde_json::from_slice(&response.body)
        .map_err(|e| JmapError::Protocol(format!("the API response is not a JMAP Response ({e})")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(body: &str) -> HttpResponse {
        HttpResponse {
            status: 200,
            url: "http://x/jmap/".into(),
            content_type: Some("application/json".into()),
            retry_after_secs: None,
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn request_envelope() {
        let mut request = Request::new().using(capability::MAIL);
        let call = request.call("Mailbox/get", json!({"accountId": "a"}));
        assert_eq!(call.id, "c0");
        let v: Value = serde_json::from_slice(&request.to_json()).unwrap();
        assert_eq!(v["using"], json!(["urn:ietf:params:jmap:core", "urn:ietf:params:jmap:mail"]));
        assert_eq!(v["methodCalls"], json!([["Mailbox/get", {"accountId": "a"}, "c0"]]));
    }

    #[test]
    fn takes_responses_by_call_id() {
        let mut r = interpret_api_response(&ok(
            r#"{"methodResponses": [["Mailbox/get", {"list": []}, "c0"]], "sessionState": "7"}"#,
        ))
        .unwrap();
        assert_eq!(r.session_state, "7");
        assert_eq!(r.take_by_id("c0", "Mailbox/get").unwrap(), json!({"list": []}));
        assert!(matches!(r.take_by_id("c0", "Mailbox/get"), Err(JmapError::Protocol(_))));
    }

    #[test]
    fn a_get_response_reads_typed_with_its_state() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Thing {
            id: String,
        }
        let got: GetResponse<Thing> = GetResponse::parse(
            "Thing/get",
            serde_json::json!({ "state": "s9", "list": [{ "id": "a" }], "notFound": null }),
        )
        .unwrap();
        assert_eq!(
            (got.state.as_deref(), got.list, got.not_found),
            (Some("s9"), vec![Thing { id: "a".into() }], vec![])
        );
        let bad = GetResponse::<Thing>::parse("Thing/get", serde_json::json!({ "list": [{ "id": 5 }] }));
        assert!(
            matches!(bad, Err(JmapError::Protocol(ref m)) if m.starts_with("Thing/get response is malformed")),
            "{bad:?}"
        );
    }

    #[test]
    fn error_invocation_wins_over_success() {
        let mut r = interpret_api_response(&ok(r#"{"methodResponses": [
            ["Mailbox/get", {"list": []}, "c0"],
            ["error", {"type": "accountNotFound", "description": "no such account"}, "c0"]
        ], "sessionState": "0"}"#))
        .unwrap();
        assert_eq!(
            r.take_by_id("c0", "Mailbox/get"),
            Err(JmapError::Method {
                method: "Mailbox/get".into(),
                kind: MethodErrorKind::AccountNotFound,
                description: Some("no such account".into())
            })
        );
    }

    #[test]
    fn created_ids_travel_in_the_envelope() {
        let mut r = Request::new();
        r.call("Core/echo", json!({}));
        let plain: Value = serde_json::from_slice(&r.to_json()).unwrap();
        assert!(plain.get("createdIds").is_none());
        let ids = BTreeMap::from([("k1".to_owned(), "M9".to_owned())]);
        let with: Value = serde_json::from_slice(&r.with_created_ids(ids).to_json()).unwrap();
        assert_eq!(with["createdIds"], json!({"k1": "M9"}));
        let resp =
            interpret_api_response(&ok(r#"{"methodResponses": [], "sessionState": "1", "createdIds": {"k1": "M9"}}"#))
                .unwrap();
        assert_eq!(resp.created_ids.unwrap()["k1"], "M9");
    }

    #[test]
    fn read_only_requests() {
        let mut reads = Request::new();
        reads.call("Email/query", json!({}));
        reads.call("Mailbox/changes", json!({}));
        assert!(reads.is_read_only());
        let mut writes = reads.clone();
        writes.call("Email/set", json!({}));
        assert!(!writes.is_read_only());
    }

    #[test]
    fn result_references_name_the_call_and_path() {
        let mut request = Request::new().using(capability::MAIL);
        let query = request.call("Email/query", json!({"accountId": "a"}));
        request.call("Email/get", json!({"accountId": "a", "#ids": query.result("/ids")}));
        let v: Value = serde_json::from_slice(&request.to_json()).unwrap();
        assert_eq!(v["methodCalls"][1][1]["#ids"], json!({"resultOf": "c0", "name": "Email/query", "path": "/ids"}));
    }

    #[test]
    fn request_level_errors_carry_the_limit() {
        let mut resp = ok(r#"{"type": "urn:ietf:params:jmap:error:limit", "limit": "maxCallsInRequest",
            "status": 400, "detail": "Too many calls"}"#);
        resp.status = 400;
        assert_eq!(
            interpret_api_response(&resp).unwrap_err(),
            JmapError::Request {
                kind: "limit".into(),
                limit: Some("maxCallsInRequest".into()),
                detail: "Too many calls".into()
            }
        );
    }

    #[test]
    fn malformed_responses_are_protocol_errors() {
        for body in ["", "{}", "[1,2]", r#"{"methodResponses": [["x"]], "sessionState": "0"}"#] {
            assert!(matches!(interpret_api_response(&ok(body)), Err(JmapError::Protocol(_))), "{body:?}");
        }
    }
}
