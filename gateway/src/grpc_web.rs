//! gRPC-web for RustMailer: browsers speak gRPC-web over HTTP/1.1 (binary or text); RustMailer
//! speaks HTTP/2 gRPC only. tonic-web's layer translates the framing; behind it a proxying HTTP/2
//! client forwards each call. RustMailer's gzipped messages are inflated here and the answer is
//! gzipped for HTTP instead (`grpc_frames`), so the browser needs no gzip code. RustMailer's own auth, licence and
//! timeout failures are plain HTTP errors with a JSON body, which a gRPC-web client cannot read:
//! they become gRPC statuses here.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use tower::{Layer, Service, ServiceExt};

use crate::config::Config;
use crate::{Body, BoxError};

pub type H2Client = Client<HttpConnector, tonic::body::Body>;

pub fn client() -> H2Client {
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    connector.set_connect_timeout(Some(std::time::Duration::from_secs(5)));
    Client::builder(hyper_util::rt::TokioExecutor::new()).http2_only(true).build(connector)
}

/// Calls are `POST /rustmailer.grpc.<Service>/<Method>`.
pub fn is_grpc_path(path: &str) -> bool {
    path.starts_with("/rustmailer.grpc.")
}

/// Response headers a browser on another origin may read (CORS).
const EXPOSED_HEADERS: &str = "grpc-status, grpc-message, grpc-encoding, rustmailer-error-code";

/// The gRPC status for an HTTP answer that is not gRPC at all (RFC: gRPC over HTTP/2, "HTTP to gRPC
/// status code mapping", plus RustMailer's 401/403/408).
fn status_for_http(status: StatusCode) -> tonic::Code {
    use tonic::Code;
    match status.as_u16() {
        400 => Code::Internal,
        401 => Code::Unauthenticated,
        403 => Code::PermissionDenied,
        404 => Code::Unimplemented,
        408 => Code::DeadlineExceeded,
        429 | 502 | 503 | 504 | 505 => Code::Unavailable,
        _ => Code::Unknown,
    }
}

/// A trailers-only gRPC response carrying `status`, and RustMailer's error code when known.
fn grpc_status_response(code: tonic::Code, message: &str, rustmailer_code: Option<u64>) -> Response<Body> {
    let mut response = tonic::Status::new(code, message).into_http::<Body>();
    *response.body_mut() = crate::empty_body();
    if let Some(c) = rustmailer_code {
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            response.headers_mut().insert("rustmailer-error-code", v);
        }
    }
    response
}

/// Turns RustMailer's `{"code": n, "message": "..."}` HTTP errors (and any other non-gRPC answer)
/// into a gRPC status.
async fn translate_http_error(status: StatusCode, body: Incoming) -> Response<Body> {
    let code = status_for_http(status);
    // Error bodies are small; anything bigger is not RustMailer's JSON and is not read whole.
    let bytes = Limited::new(body, 64 * 1024).collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let parsed: Option<serde_json::Value> = serde_json::from_slice(&bytes).ok();
    let rustmailer_code = parsed.as_ref().and_then(|v| v.get("code")).and_then(|c| c.as_u64());
    let message = parsed.as_ref().and_then(|v| v.get("message")).and_then(|m| m.as_str()).map(str::to_owned);
    let message = match (status, message) {
        (StatusCode::HTTP_VERSION_NOT_SUPPORTED, _) => {
            "the RustMailer upstream refused the call's HTTP version (it speaks HTTP/2 gRPC only; check the gateway's --rustmailer-upstream)".to_owned()
        }
        (_, Some(m)) => format!("RustMailer: {m}"),
        (s, None) => format!("the RustMailer upstream answered HTTP {s} instead of gRPC"),
    };
    grpc_status_response(code, &message, rustmailer_code)
}

/// The inner service of tonic-web's layer: one gRPC call forwarded over HTTP/2.
#[derive(Clone)]
struct Upstream {
    client: H2Client,
    base: Uri,
}

impl Service<Request<tonic::body::Body>> for Upstream {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request<tonic::body::Body>) -> Self::Future {
        let this = self.clone();
        Box::pin(async move { Ok(this.forward(request).await) })
    }
}

impl Upstream {
    async fn forward(&self, request: Request<tonic::body::Body>) -> Response<Body> {
        let (mut parts, body) = request.into_parts();
        let path = parts.uri.path_and_query().map(|p| p.as_str()).unwrap_or("/").to_owned();
        let target = format!("http://{}{}", self.base.authority().map(|a| a.as_str()).unwrap_or(""), path);
        let Ok(target) = target.parse::<Uri>() else {
            return grpc_status_response(tonic::Code::InvalidArgument, "bad request path", None);
        };
        for name in [
            "connection",
            "keep-alive",
            "transfer-encoding",
            "upgrade",
            "host",
            "origin",
            "referer",
            "cookie",
            "accept-encoding",
            "x-grpc-web",
        ] {
            parts.headers.remove(name);
        }
        parts.uri = target;
        parts.version = hyper::Version::HTTP_2;
        let response = match self.client.request(Request::from_parts(parts, body)).await {
            Ok(r) => r,
            Err(e) => {
                let what = if e.is_connect() { "is not reachable" } else { "broke off the call" };
                return grpc_status_response(tonic::Code::Unavailable, &format!("the RustMailer server {what}"), None);
            }
        };
        let is_grpc = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc"));
        if !is_grpc {
            let (parts, body) = response.into_parts();
            return translate_http_error(parts.status, body).await;
        }
        let (mut parts, body) = response.into_parts();
        let body = body.map_err(|e| Box::new(e) as BoxError).boxed_unsync();
        let gzip = parts.headers.get("grpc-encoding").is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
        if gzip {
            parts.headers.remove("grpc-encoding");
            parts.headers.remove(header::CONTENT_LENGTH);
            return Response::from_parts(parts, crate::grpc_frames::inflated(body));
        }
        Response::from_parts(parts, body)
    }
}

pub struct GrpcWeb {
    service: tonic_web::GrpcWebService<Upstream>,
}

impl GrpcWeb {
    pub fn new(config: &Config) -> Option<GrpcWeb> {
        let base = config.rustmailer_upstream.clone()?;
        Some(GrpcWeb { service: tonic_web::GrpcWebLayer::new().layer(Upstream { client: client(), base }) })
    }

    pub async fn handle(&self, config: &Config, request: Request<Incoming>) -> Response<Body> {
        let origin = request.headers().get(header::ORIGIN).and_then(|o| o.to_str().ok()).map(str::to_owned);
        let allowed_origin = origin.filter(|o| config.allows_origin(o));
        if crate::proxy::is_preflight(&request) {
            return crate::proxy::preflight(&request, allowed_origin.as_deref(), "POST, OPTIONS");
        }
        let gzip_ok = request
            .headers()
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(crate::grpc_frames::accepts_gzip);
        let response = match self.service.clone().oneshot(request).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let mut response = response.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed_unsync());
        // Only gRPC-web answers: plain gRPC keeps its HTTP/2 trailers, which a gzipped body drops.
        let grpc_web = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/grpc-web"));
        if gzip_ok && grpc_web && !response.headers().contains_key(header::CONTENT_ENCODING) {
            let headers = response.headers_mut();
            headers.remove(header::CONTENT_LENGTH);
            headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            headers.append(header::VARY, HeaderValue::from_static("accept-encoding"));
            response = response.map(crate::grpc_frames::gzipped);
        }
        if let Some(origin) = &allowed_origin {
            crate::proxy::add_cors(response.headers_mut(), origin);
            response
                .headers_mut()
                .insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static(EXPOSED_HEADERS));
        }
        response
    }
}

/// Without `--rustmailer-upstream` a call gets a status saying so, readable by gRPC-web clients.
pub fn not_configured() -> Response<Body> {
    let mut response = grpc_status_response(
        tonic::Code::Unavailable,
        "this gateway has no RustMailer server configured (--rustmailer-upstream)",
        None,
    );
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/grpc-web+proto"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rustmailer_http_errors_map_to_grpc_codes() {
        assert_eq!(status_for_http(StatusCode::UNAUTHORIZED), tonic::Code::Unauthenticated);
        assert_eq!(status_for_http(StatusCode::FORBIDDEN), tonic::Code::PermissionDenied);
        assert_eq!(status_for_http(StatusCode::REQUEST_TIMEOUT), tonic::Code::DeadlineExceeded);
        assert_eq!(status_for_http(StatusCode::HTTP_VERSION_NOT_SUPPORTED), tonic::Code::Unavailable);
        assert_eq!(status_for_http(StatusCode::IM_A_TEAPOT), tonic::Code::Unknown);
    }

    #[test]
    fn grpc_paths() {
        assert!(is_grpc_path("/rustmailer.grpc.MessageService/ListMessages"));
        assert!(!is_grpc_path("/jmap/"));
        assert!(!is_grpc_path("/rustmailer/events"));
    }

    #[test]
    fn status_responses_are_trailers_only_grpc() {
        let r = grpc_status_response(tonic::Code::Unauthenticated, "RustMailer: Invalid access token", Some(20000));
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["grpc-status"], "16");
        assert_eq!(r.headers()["rustmailer-error-code"], "20000");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("application/grpc"));
    }
}
