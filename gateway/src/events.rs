//! Push for RustMailer accounts. RustMailer has no channel a browser can hold open; it posts event
//! hooks (webhooks). The gateway takes them on `/rustmailer/webhook` (Bearer token) and relays
//! them to browsers as Server-Sent Events on `/rustmailer/events?account=N`, each stream checked
//! against RustMailer itself: the browser's token must be allowed to read that account.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use tokio::sync::broadcast;

use crate::config::Config;
use crate::grpc_web::H2Client;
use crate::{text_response, Body, BoxError};

pub const WEBHOOK_PATH: &str = "/rustmailer/webhook";
pub const EVENTS_PATH: &str = "/rustmailer/events";
/// Event hooks are small JSON documents; refuse anything that is not.
const MAX_HOOK_BYTES: usize = 256 * 1024;
const KEEPALIVE: Duration = Duration::from_secs(20);
/// The event types Petrel acts on; others are accepted and dropped.
const RELAYED: [&str; 6] = [
    "EMAIL_ADDED_TO_FOLDER",
    "EMAIL_FLAGS_CHANGED",
    "MAILBOX_CREATION",
    "MAILBOX_DELETION",
    "EMAIL_SENT_SUCCESS",
    "EMAIL_SENDING_ERROR",
];

struct Event {
    account_id: u64,
    kind: String,
    json: String,
}

enum Access {
    Allowed,
    BadToken,
    Denied,
}

pub struct Events {
    sender: broadcast::Sender<Arc<Event>>,
    client: H2Client,
}

fn bearer<B>(request: &Request<B>) -> Option<&str> {
    request.headers().get(header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

fn query_value<'a>(uri: &'a Uri, name: &str) -> Option<&'a str> {
    uri.query()?.split('&').find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
}

/// Constant-time comparison: the webhook token is a shared secret.
fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len() && a.bytes().zip(b.bytes()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Events {
    pub fn new() -> Events {
        // A slow browser misses old events (and is told to resync) rather than holding memory.
        let (sender, _) = broadcast::channel(256);
        Events { sender, client: crate::grpc_web::client() }
    }

    pub async fn webhook(&self, config: &Config, request: Request<Incoming>) -> Response<Body> {
        let Some(expected) = &config.rustmailer_webhook_token else {
            return text_response(StatusCode::NOT_FOUND, "the webhook endpoint is off (no --rustmailer-webhook-token)");
        };
        if request.method() != Method::POST {
            return text_response(StatusCode::METHOD_NOT_ALLOWED, "event hooks are POSTed");
        }
        if !bearer(&request).is_some_and(|t| same_secret(t, expected)) {
            return text_response(StatusCode::UNAUTHORIZED, "wrong or missing webhook token");
        }
        let bytes = match Limited::new(request.into_body(), MAX_HOOK_BYTES).collect().await {
            Ok(b) => b.to_bytes(),
            Err(_) => return text_response(StatusCode::PAYLOAD_TOO_LARGE, "event hook too large or cut off"),
        };
        let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return text_response(StatusCode::BAD_REQUEST, "event hook is not JSON");
        };
        let (Some(kind), Some(account_id)) =
            (value.get("event_type").and_then(|v| v.as_str()), value.get("account_id").and_then(|v| v.as_u64()))
        else {
            return text_response(StatusCode::BAD_REQUEST, "event hook lacks event_type or account_id");
        };
        if RELAYED.contains(&kind) {
            // No receivers is fine: nobody is signed in to that account right now.
            let _ = self.sender.send(Arc::new(Event { account_id, kind: kind.to_owned(), json: value.to_string() }));
        }
        text_response(StatusCode::OK, "ok")
    }

    /// Asks RustMailer whether `token` may read account `account_id` (GetAccount).
    async fn may_read(&self, upstream: &Uri, token: &str, account_id: u64) -> Result<Access, String> {
        // AccountId { account_id = 1 (varint) } in one uncompressed gRPC frame.
        let mut message = vec![0x08];
        let mut n = account_id;
        loop {
            let byte = (n & 0x7f) as u8;
            n >>= 7;
            if n == 0 {
                message.push(byte);
                break;
            }
            message.push(byte | 0x80);
        }
        let mut frame = vec![0u8];
        frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
        frame.extend_from_slice(&message);
        let uri = format!(
            "http://{}/rustmailer.grpc.AccountService/GetAccount",
            upstream.authority().map(|a| a.as_str()).unwrap_or("")
        );
        let request = Request::post(uri)
            .version(hyper::Version::HTTP_2)
            .header(header::CONTENT_TYPE, "application/grpc")
            .header("te", "trailers")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(tonic::body::Body::new(Full::new(Bytes::from(frame))))
            .map_err(|e| e.to_string())?;
        let response = tokio::time::timeout(Duration::from_secs(10), self.client.request(request))
            .await
            .map_err(|_| "RustMailer did not answer in time".to_owned())?
            .map_err(|e| format!("RustMailer is not reachable ({e})"))?;
        match response.status() {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => return Ok(Access::BadToken),
            _ => return Ok(Access::Denied),
        }
        let granted = |status: &HeaderValue| if status == "0" { Access::Allowed } else { Access::Denied };
        if let Some(status) = response.headers().get("grpc-status") {
            return Ok(granted(status));
        }
        let collected = Limited::new(response.into_body(), 1024 * 1024).collect().await.map_err(|e| e.to_string())?;
        Ok(collected.trailers().and_then(|t| t.get("grpc-status")).map_or(Access::Denied, granted))
    }

    pub async fn stream(&self, config: &Config, request: Request<Incoming>) -> Response<Body> {
        let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
        let allowed_origin = origin.filter(|o| config.allows_origin(o));
        if crate::proxy::is_preflight(&request) {
            return crate::proxy::preflight(&request, allowed_origin.as_deref(), "GET, OPTIONS");
        }
        let mut response = self.open_stream(config, &request).await;
        if let Some(origin) = &allowed_origin {
            crate::proxy::add_cors(response.headers_mut(), origin);
        }
        response
    }

    async fn open_stream(&self, config: &Config, request: &Request<Incoming>) -> Response<Body> {
        let Some(upstream) = &config.rustmailer_upstream else {
            return text_response(StatusCode::NOT_FOUND, "this gateway has no RustMailer server configured");
        };
        // Without event hooks the stream would stay silent: a 404 tells the app to poll instead.
        if config.rustmailer_webhook_token.is_none() {
            return text_response(
                StatusCode::NOT_FOUND,
                "this gateway receives no RustMailer event hooks (no --rustmailer-webhook-token)",
            );
        }
        let Some(account_id) = query_value(request.uri(), "account").and_then(|a| a.parse::<u64>().ok()) else {
            return text_response(StatusCode::BAD_REQUEST, "name the account: /rustmailer/events?account=N");
        };
        let Some(token) = bearer(request) else {
            return text_response(
                StatusCode::UNAUTHORIZED,
                "send the RustMailer access token as Authorization: Bearer",
            );
        };
        match self.may_read(upstream, token, account_id).await {
            Ok(Access::Allowed) => {}
            Ok(Access::BadToken) => {
                return text_response(StatusCode::UNAUTHORIZED, "RustMailer does not know this access token")
            }
            Ok(Access::Denied) => {
                return text_response(StatusCode::FORBIDDEN, "RustMailer refused this token for that account")
            }
            Err(e) => return text_response(StatusCode::BAD_GATEWAY, &e),
        }
        let receiver = self.sender.subscribe();
        let first = Bytes::from_static(b"retry: 3000\nevent: ready\ndata: {}\n\n");
        let stream = futures_util::stream::unfold((receiver, Some(first)), move |(mut receiver, first)| async move {
            if let Some(first) = first {
                return Some((Ok::<_, BoxError>(Frame::data(first)), (receiver, None)));
            }
            loop {
                let chunk = match tokio::time::timeout(KEEPALIVE, receiver.recv()).await {
                    Err(_) => Bytes::from_static(b": keepalive\n\n"),
                    Ok(Ok(event)) if event.account_id == account_id => {
                        Bytes::from(format!("event: {}\ndata: {}\n\n", event.kind, event.json))
                    }
                    Ok(Ok(_)) => continue,
                    // Events were dropped for this slow reader: it must refetch.
                    Ok(Err(broadcast::error::RecvError::Lagged(_))) => {
                        Bytes::from_static(b"event: resync\ndata: {}\n\n")
                    }
                    Ok(Err(broadcast::error::RecvError::Closed)) => return None,
                };
                return Some((Ok(Frame::data(chunk)), (receiver, None)));
            }
        });
        let mut response = Response::new(StreamBody::new(stream).boxed_unsync());
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abc", "abd"));
        assert!(!same_secret("abc", "abcd"));
    }

    #[test]
    fn account_comes_from_the_query() {
        let uri: Uri = "/rustmailer/events?x=1&account=42".parse().unwrap();
        assert_eq!(query_value(&uri, "account"), Some("42"));
        assert_eq!(query_value(&uri, "acc"), None);
    }
}
