//! Reverse proxy for the JMAP paths, streaming both ways (so server push flows through).

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::header::{self, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};

use crate::config::Config;
use crate::{text_response, Body};

pub type UpstreamClient = Client<HttpConnector, Incoming>;

pub fn client() -> UpstreamClient {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(std::time::Duration::from_secs(5)));
    Client::builder(hyper_util::rt::TokioExecutor::new()).build(connector)
}

/// Whether `path` belongs to JMAP (RFC 8620 §2.2 discovery and the server's own `/jmap/` tree).
pub fn is_jmap_path(path: &str) -> bool {
    path == "/.well-known/jmap" || path == "/jmap" || path.starts_with("/jmap/")
}

/// Headers that describe one hop, not the message (RFC 9110 §7.6.1).
const HOP_BY_HOP: [&str; 8] = [
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

fn strip_hop_by_hop(headers: &mut hyper::HeaderMap) {
    let listed: Vec<HeaderName> = headers
        .get_all(header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|name| HeaderName::from_bytes(name.trim().as_bytes()).ok())
        .collect();
    for name in listed {
        headers.remove(name);
    }
    for name in HOP_BY_HOP {
        headers.remove(name);
    }
}

/// Browsers cannot put headers on a WebSocket: a Bearer token arrives as `access_token` in the query
/// and goes upstream as an Authorization header, never in the URL.
fn move_token_to_header(parts: &mut hyper::http::request::Parts) {
    let Some(query) = parts.uri.query() else { return };
    let mut token = None;
    let kept: Vec<&str> = query
        .split('&')
        .filter(|pair| match pair.strip_prefix("access_token=") {
            Some(t) => {
                token = Some(t.to_owned());
                false
            }
            None => true,
        })
        .collect();
    let Some(token) = token else { return };
    // Query encoding: '+' is a space, then %XX escapes.
    let decoded = crate::static_files::percent_decode(&token.replace('+', " ")).unwrap_or(token);
    if !parts.headers.contains_key(header::AUTHORIZATION) {
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {decoded}")) {
            parts.headers.insert(header::AUTHORIZATION, v);
        }
    }
    let path = parts.uri.path();
    let new = if kept.is_empty() { path.to_owned() } else { format!("{path}?{}", kept.join("&")) };
    if let Ok(uri) = new.parse() {
        parts.uri = uri;
    }
}

/// A browser sends the credentials of a WebSocket URL (`user:password@host`) only when a 401 asks
/// for Basic, and Chromium does not when the server names another scheme first (Stalwart: Bearer,
/// then Basic). The browser is offered the Basic challenges alone (when there are any).
fn basic_challenge_only(headers: &mut hyper::HeaderMap) {
    let challenges: Vec<String> = headers
        .get_all(header::WWW_AUTHENTICATE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(split_challenges)
        .collect();
    let basic: Vec<&String> =
        challenges.iter().filter(|c| c.get(..6).is_some_and(|s| s.eq_ignore_ascii_case("basic "))).collect();
    if basic.is_empty() {
        return;
    }
    headers.remove(header::WWW_AUTHENTICATE);
    for challenge in basic {
        if let Ok(v) = HeaderValue::from_str(challenge) {
            headers.append(header::WWW_AUTHENTICATE, v);
        }
    }
}

/// One header value's challenges: a comma starts a new one where a scheme name and a space follow
/// (`Bearer realm="a", Basic realm="b"`); commas between a challenge's parameters do not.
fn split_challenges(value: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut rest = value;
    while let Some(comma) = rest.find(',') {
        let (head, tail) = rest.split_at(comma);
        let after = tail[1..].trim_start();
        let token_len = after.find(|c: char| !c.is_ascii_alphanumeric() && c != '-').unwrap_or(after.len());
        current.push_str(head);
        if token_len > 0 && after[token_len..].starts_with(' ') {
            out.push(std::mem::take(&mut current));
            rest = after;
        } else {
            current.push(',');
            rest = &tail[1..];
        }
    }
    current.push_str(rest);
    out.push(current);
    out.into_iter().map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect()
}

/// A request with no Origin (not from a page), from this gateway's own origin (the Origin's host
/// is the Host asked for), or from an origin `--cors-origin` allows.
fn same_site_or_allowed(headers: &hyper::HeaderMap, allowed_origin: Option<&str>) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return true };
    if allowed_origin.is_some() {
        return true;
    }
    let origin_host = origin.split_once("://").map(|(_, rest)| rest.trim_end_matches('/'));
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    matches!((origin_host, host), (Some(o), Some(h)) if o.eq_ignore_ascii_case(h))
}

fn is_websocket_upgrade(headers: &hyper::HeaderMap) -> bool {
    headers.get(header::UPGRADE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

pub async fn forward(config: &Config, client: &UpstreamClient, request: Request<Incoming>) -> Response<Body> {
    let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
    let allowed_origin = origin.filter(|o| config.allows_origin(o));

    // Preflights are answered here: some servers (Cyrus before 3.13) demand auth on OPTIONS.
    if is_preflight(&request) {
        return preflight(&request, allowed_origin.as_deref(), "GET, POST, OPTIONS");
    }

    let Some(upstream) = &config.jmap_upstream else {
        return text_response(StatusCode::BAD_GATEWAY, "this gateway has no JMAP server configured (--jmap-upstream)");
    };
    let mut request = request;
    let websocket = is_websocket_upgrade(request.headers());
    if websocket && !same_site_or_allowed(request.headers(), allowed_origin.as_deref()) {
        // Another site's page must not open a socket with credentials the browser keeps for this one.
        return text_response(StatusCode::FORBIDDEN, "WebSocket from another site refused: not an allowed origin");
    }
    let client_upgrade = websocket.then(|| hyper::upgrade::on(&mut request));
    let (mut parts, body) = request.into_parts();
    if websocket {
        move_token_to_header(&mut parts);
    }
    let path_and_query = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/");
    let target = format!(
        "{}://{}{}",
        upstream.scheme_str().unwrap_or("http"),
        upstream.authority().map(|a| a.as_str()).unwrap_or(""),
        path_and_query
    );
    let Ok(target) = target.parse::<Uri>() else {
        return text_response(StatusCode::BAD_REQUEST, "bad request path");
    };
    let session_request = parts.method == Method::GET && is_session_path(parts.uri.path());
    let public_host = parts.headers.get(header::HOST).cloned();
    strip_hop_by_hop(&mut parts.headers);
    parts.headers.remove(header::ORIGIN);
    if let Some(host) = public_host {
        parts.headers.insert("x-forwarded-host", host);
    }
    parts.headers.insert("x-forwarded-proto", HeaderValue::from_static("http"));
    if let Some(authority) = upstream.authority() {
        if let Ok(v) = HeaderValue::from_str(authority.as_str()) {
            parts.headers.insert(header::HOST, v);
        }
    }
    parts.uri = target;
    parts.version = hyper::Version::HTTP_11;
    let wants_event_stream = parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("text/event-stream"));
    if wants_event_stream || session_request {
        // Compression holds events back until a buffer fills, and Cyrus 3.6 even labels its event
        // stream `Content-Encoding: br` while sending it plain, which browsers cannot read. A
        // session comes plain so its URLs can be rewritten.
        parts.headers.insert(header::ACCEPT_ENCODING, HeaderValue::from_static("identity"));
    }
    if websocket {
        // Stalwart takes only this exact spelling (RFC 9110 makes tokens case-insensitive; Firefox
        // sends "keep-alive, Upgrade").
        parts.headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        parts.headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    }

    let upstream_response = match client.request(Request::from_parts(parts, body)).await {
        Ok(r) => r,
        Err(e) => {
            let reason = if e.is_connect() { "is not reachable" } else { "broke off the exchange" };
            return text_response(StatusCode::BAD_GATEWAY, &format!("the mail server at {upstream} {reason}"));
        }
    };
    let mut upstream_response = upstream_response;
    if websocket && upstream_response.status() == StatusCode::UNAUTHORIZED {
        basic_challenge_only(upstream_response.headers_mut());
    }
    if let (Some(client_upgrade), StatusCode::SWITCHING_PROTOCOLS) = (client_upgrade, upstream_response.status()) {
        let upstream_upgrade = hyper::upgrade::on(&mut upstream_response);
        tokio::spawn(async move {
            // Bytes flow both ways untouched until either side closes.
            if let (Ok(browser), Ok(server)) = (client_upgrade.await, upstream_upgrade.await) {
                let (mut browser, mut server) =
                    (hyper_util::rt::TokioIo::new(browser), hyper_util::rt::TokioIo::new(server));
                let _ = tokio::io::copy_bidirectional(&mut browser, &mut server).await;
            }
        });
        let (parts, _) = upstream_response.into_parts();
        return Response::from_parts(parts, crate::empty_body());
    }
    let (mut parts, body) = upstream_response.into_parts();
    strip_hop_by_hop(&mut parts.headers);
    let cors_names: Vec<HeaderName> =
        parts.headers.keys().filter(|k| k.as_str().starts_with("access-control-")).cloned().collect();
    for name in cors_names {
        parts.headers.remove(name);
    }
    parts.headers.remove("alt-svc");
    rewrite_location(&mut parts.headers, upstream);
    if let Some(origin) = &allowed_origin {
        add_cors(&mut parts.headers, origin);
        parts.headers.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("retry-after, location"));
    }
    if session_request && parts.status == StatusCode::OK {
        return session_response(parts, body, upstream).await;
    }
    let is_event_stream = parts.status == StatusCode::OK
        && parts
            .headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/event-stream"));
    // No buffering: each upstream frame is passed on as it arrives (event streams depend on it).
    let body = body.map_err(|e| Box::new(e) as crate::BoxError);
    if is_event_stream {
        // Firefox resolves fetch() only once a body byte arrives, and servers send their first
        // ping only after its interval (Cyrus and Stalwart: up to 30 s or more): a comment now
        // tells every browser at once that the stream is open. SSE readers skip comments.
        return Response::from_parts(
            parts,
            Opened { comment: Some(Bytes::from_static(STREAM_OPENED)), inner: body }.boxed_unsync(),
        );
    }
    Response::from_parts(parts, body.boxed_unsync())
}

/// The comment an event stream starts with through the gateway.
const STREAM_OPENED: &[u8] = b": opened by petrel-gateway\n\n";

/// A body that sends `comment` before what `inner` sends.
struct Opened<B> {
    comment: Option<Bytes>,
    inner: B,
}

impl<B: hyper::body::Body<Data = Bytes> + Unpin> hyper::body::Body for Opened<B> {
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<hyper::body::Frame<Bytes>, B::Error>>> {
        if let Some(comment) = self.comment.take() {
            return std::task::Poll::Ready(Some(Ok(hyper::body::Frame::data(comment))));
        }
        std::pin::Pin::new(&mut self.inner).poll_frame(cx)
    }
}

pub fn is_preflight<B>(request: &Request<B>) -> bool {
    request.method() == Method::OPTIONS && request.headers().contains_key(header::ACCESS_CONTROL_REQUEST_METHOD)
}

/// Answers a CORS preflight: allowed origins may use `methods` and the headers they ask for.
pub fn preflight<B>(request: &Request<B>, allowed_origin: Option<&str>, methods: &'static str) -> Response<Body> {
    let mut response = Response::new(crate::empty_body());
    *response.status_mut() = StatusCode::NO_CONTENT;
    if let Some(origin) = allowed_origin {
        let requested = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
        let h = response.headers_mut();
        add_cors(h, origin);
        h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static(methods));
        if let Some(requested) = requested {
            h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested);
        }
        h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("600"));
    }
    response
}

pub fn add_cors(headers: &mut hyper::HeaderMap, origin: &str) {
    if let Ok(v) = HeaderValue::from_str(origin) {
        headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        headers.append(header::VARY, HeaderValue::from_static("Origin"));
    }
}

/// The paths a JMAP session is fetched from: discovery, Cyrus's `/jmap/`, Stalwart's `/jmap/session`.
fn is_session_path(path: &str) -> bool {
    matches!(path, "/.well-known/jmap" | "/jmap" | "/jmap/" | "/jmap/session")
}

/// A session bigger than this is not a session.
const MAX_SESSION_BYTES: usize = 1 << 20;

/// Passes a session on with the URLs that name the upstream rewritten to the gateway's paths.
async fn session_response(mut parts: hyper::http::response::Parts, body: Incoming, upstream: &Uri) -> Response<Body> {
    let bytes = match http_body_util::Limited::new(body, MAX_SESSION_BYTES).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(_) => {
            return text_response(StatusCode::BAD_GATEWAY, "the mail server's session was cut off or larger than 1 MiB")
        }
    };
    let bytes = match serde_json::from_slice::<serde_json::Value>(&bytes) {
        Ok(mut session) => {
            if rewrite_session_urls(&mut session, upstream) {
                parts.headers.remove(header::CONTENT_LENGTH);
                parts.headers.remove(header::ETAG);
                Bytes::from(session.to_string())
            } else {
                bytes
            }
        }
        // Not JSON (an error page, say): the app reports it as it is.
        Err(_) => bytes,
    };
    Response::from_parts(parts, http_body_util::Full::new(bytes).map_err(|never| match never {}).boxed_unsync())
}

/// Servers build their session's URLs from their own address (Stalwart from its `http.url`),
/// which the browser cannot reach and the page's CSP would refuse: those that name the upstream
/// become paths on the gateway, as redirects do. Returns whether anything changed.
fn rewrite_session_urls(session: &mut serde_json::Value, upstream: &Uri) -> bool {
    let mut changed = false;
    let mut rewrite = |value: &mut serde_json::Value| {
        let Some(url) = value.as_str() else { return };
        if let Some(path) = upstream_path(url, upstream) {
            *value = serde_json::Value::String(path);
            changed = true;
        }
    };
    for key in ["apiUrl", "downloadUrl", "uploadUrl", "eventSourceUrl"] {
        if let Some(value) = session.get_mut(key) {
            rewrite(value);
        }
    }
    if let Some(ws) = session.pointer_mut("/capabilities/urn:ietf:params:jmap:websocket/url") {
        rewrite(ws);
    }
    changed
}

/// The path (with query) of `url` when it names the upstream, over http or WebSocket. URL
/// templates keep their braces, so this does not parse them as URIs.
fn upstream_path(url: &str, upstream: &Uri) -> Option<String> {
    let authority = upstream.authority()?.as_str();
    let rest = ["http://", "https://", "ws://", "wss://"].iter().find_map(|scheme| url.strip_prefix(scheme))?;
    let rest = rest.strip_prefix(authority)?;
    match rest.chars().next() {
        None => Some("/".to_owned()),
        Some('/') => Some(rest.to_owned()),
        Some('?') => Some(format!("/{rest}")),
        _ => None, // another host that merely starts alike (127.0.0.1:50001 for :5000)
    }
}

/// Upstream redirects name the upstream's own address, which the browser cannot reach: keep the
/// path so the redirect stays on the gateway.
fn rewrite_location(headers: &mut hyper::HeaderMap, upstream: &Uri) {
    let Some(location) = headers.get(header::LOCATION).and_then(|l| l.to_str().ok()) else { return };
    let Ok(uri) = location.parse::<Uri>() else { return };
    if uri.authority().is_some() && uri.authority() == upstream.authority() {
        let path = uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_owned();
        if let Ok(v) = HeaderValue::from_str(&path) {
            headers.insert(header::LOCATION, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jmap_paths() {
        for p in ["/.well-known/jmap", "/jmap", "/jmap/", "/jmap/download/a/b/c"] {
            assert!(is_jmap_path(p), "{p}");
        }
        for p in ["/", "/jmapx", "/.well-known/jmapx", "/index.html"] {
            assert!(!is_jmap_path(p), "{p}");
        }
    }

    #[test]
    fn redirects_to_the_upstream_stay_on_the_gateway() {
        let upstream: Uri = "http://127.0.0.1:5000".parse().unwrap();
        let mut h = hyper::HeaderMap::new();
        h.insert(header::LOCATION, HeaderValue::from_static("http://127.0.0.1:5000/jmap?x=1"));
        rewrite_location(&mut h, &upstream);
        assert_eq!(h[header::LOCATION], "/jmap?x=1");
        h.insert(header::LOCATION, HeaderValue::from_static("https://elsewhere.example/jmap"));
        rewrite_location(&mut h, &upstream);
        assert_eq!(h[header::LOCATION], "https://elsewhere.example/jmap");
    }

    #[test]
    fn session_urls_naming_the_upstream_become_gateway_paths() {
        let upstream: Uri = "http://127.0.0.1:5000".parse().unwrap();
        let mut session = serde_json::json!({
            "apiUrl": "http://127.0.0.1:5000/jmap/",
            "downloadUrl": "http://127.0.0.1:5000/jmap/download/{accountId}/{blobId}/{name}?accept={type}",
            "uploadUrl": "http://127.0.0.1:50001/jmap/upload/{accountId}/",
            "eventSourceUrl": "https://push.example.com/jmap/eventsource/?types={types}",
            "capabilities": { "urn:ietf:params:jmap:websocket": { "url": "ws://127.0.0.1:5000/jmap/ws" } },
        });
        assert!(rewrite_session_urls(&mut session, &upstream));
        assert_eq!(session["apiUrl"], "/jmap/");
        assert_eq!(session["downloadUrl"], "/jmap/download/{accountId}/{blobId}/{name}?accept={type}");
        assert_eq!(
            session["uploadUrl"], "http://127.0.0.1:50001/jmap/upload/{accountId}/",
            "another port is another server"
        );
        assert_eq!(session["eventSourceUrl"], "https://push.example.com/jmap/eventsource/?types={types}");
        assert_eq!(session["capabilities"]["urn:ietf:params:jmap:websocket"]["url"], "/jmap/ws");
        let mut relative =
            serde_json::json!({ "apiUrl": "/jmap/", "downloadUrl": "/jmap/download/{accountId}/{blobId}/{name}" });
        assert!(!rewrite_session_urls(&mut relative, &upstream), "Cyrus's paths stay as they are");
    }

    #[test]
    fn websocket_tokens_move_from_the_query_to_the_header() {
        let (mut parts, _) = Request::get("/jmap/ws/?a=1&access_token=t%2Bk%3D&b=2").body(()).unwrap().into_parts();
        move_token_to_header(&mut parts);
        assert_eq!(parts.headers[header::AUTHORIZATION], "Bearer t+k=");
        assert_eq!(parts.uri, "/jmap/ws/?a=1&b=2");
        let (mut parts, _) = Request::get("/jmap/ws/?access_token=x").body(()).unwrap().into_parts();
        parts.headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        move_token_to_header(&mut parts);
        assert_eq!(parts.headers[header::AUTHORIZATION], "Basic abc", "explicit credentials win");
        assert_eq!(parts.uri, "/jmap/ws/");
    }

    #[test]
    fn websockets_only_from_this_site_or_allowed_origins() {
        let mut h = hyper::HeaderMap::new();
        h.insert(header::HOST, HeaderValue::from_static("mail.example.com"));
        assert!(same_site_or_allowed(&h, None), "no Origin: not from a page");
        h.insert(header::ORIGIN, HeaderValue::from_static("https://mail.example.com"));
        assert!(same_site_or_allowed(&h, None));
        h.insert(header::ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(!same_site_or_allowed(&h, None));
        assert!(same_site_or_allowed(&h, Some("https://evil.example")), "allowed by --cors-origin");
    }

    #[test]
    fn a_websocket_401_offers_the_browser_basic_alone() {
        let mut h = hyper::HeaderMap::new();
        h.append(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"Stalwart Server\""));
        h.append(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Stalwart Server\", charset=\"UTF-8\""),
        );
        basic_challenge_only(&mut h);
        let left: Vec<_> = h.get_all(header::WWW_AUTHENTICATE).iter().collect();
        assert_eq!(left, ["Basic realm=\"Stalwart Server\", charset=\"UTF-8\""]);
        let mut one_line = hyper::HeaderMap::new();
        one_line.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"a\", Basic realm=\"b\""));
        basic_challenge_only(&mut one_line);
        assert_eq!(one_line[header::WWW_AUTHENTICATE], "Basic realm=\"b\"");
        let mut bearer_only = hyper::HeaderMap::new();
        bearer_only.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"a\""));
        basic_challenge_only(&mut bearer_only);
        assert_eq!(bearer_only[header::WWW_AUTHENTICATE], "Bearer realm=\"a\"", "nothing else to offer: left alone");
    }

    #[test]
    fn hop_by_hop_headers_are_dropped() {
        let mut h = hyper::HeaderMap::new();
        h.insert(header::CONNECTION, HeaderValue::from_static("Upgrade, X-Secret-Hop"));
        h.insert(header::UPGRADE, HeaderValue::from_static("h2c"));
        h.insert("x-secret-hop", HeaderValue::from_static("1"));
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        strip_hop_by_hop(&mut h);
        assert_eq!(h.len(), 1);
        assert!(h.contains_key(header::CONTENT_TYPE));
    }
}
