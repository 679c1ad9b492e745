//! What RustMailer does on the wire before a handler runs: HTTP/2 only (HTTP/1.1 gets 505), Bearer
//! auth failing as a plain HTTP 401/403 JSON body, a per-request timeout (default 30 s, raised by
//! `X-RustMailer-Timeout-Seconds` up to 600) failing as HTTP 408 JSON, and gzip on every response
//! whatever the client asked for.

use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response, StatusCode, Version};
use http_body_util::Full;
use hyper::body::Incoming;
use tonic::body::Body;
use tower::ServiceExt;

use crate::pb;
use crate::services::Services;
use crate::world::{Garble, Shared};

pub struct Auth {
    /// Tokens that may call everything; empty: auth off (RustMailer's default).
    pub tokens: Vec<String>,
    /// Tokens RustMailer knows but refuses (an expired licence, a disabled account): HTTP 403.
    pub refused_tokens: Vec<String>,
    /// Speak RustMailer 1.6.0's wire instead of the revision's.
    pub speaks_1_6: bool,
}

fn json_error(status: StatusCode, code: u32, message: &str) -> Response<Body> {
    let body = serde_json::json!({ "code": code, "message": message }).to_string();
    let mut response = Response::new(Body::new(Full::new(Bytes::from(body))));
    *response.status_mut() = status;
    response.headers_mut().insert("content-type", HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

fn grpc_error(status: tonic::Status) -> Response<Body> {
    status.into_http()
}

fn token_of(request: &Request<Incoming>) -> Option<String> {
    if let Some(value) = request.headers().get("authorization").and_then(|v| v.to_str().ok()) {
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    request.uri().query()?.split('&').find_map(|pair| pair.strip_prefix("access_token=").map(str::to_owned))
}

fn timeout_of(request: &Request<Incoming>) -> Duration {
    let seconds = request
        .headers()
        .get("x-rustmailer-timeout-seconds")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(30);
    Duration::from_secs(seconds.clamp(1, 600))
}

pub async fn handle(shared: Shared, auth: &Auth, mut request: Request<Incoming>) -> Response<Body> {
    if request.version() != Version::HTTP_2 {
        let mut response = Response::new(Body::new(Full::new(Bytes::from_static(b"HTTP Version Not Supported"))));
        *response.status_mut() = StatusCode::HTTP_VERSION_NOT_SUPPORTED;
        return response;
    }
    if !auth.tokens.is_empty() || !auth.refused_tokens.is_empty() {
        match token_of(&request) {
            Some(t) if auth.tokens.contains(&t) => {}
            Some(t) if auth.refused_tokens.contains(&t) => {
                return json_error(StatusCode::FORBIDDEN, 20030, "Access denied: the license has expired")
            }
            Some(_) => return json_error(StatusCode::UNAUTHORIZED, 20000, "Invalid access token"),
            None => return json_error(StatusCode::UNAUTHORIZED, 20000, "Missing access token"),
        }
    }
    let limit = timeout_of(&request);
    let path = request.uri().path().to_owned();
    let method = path.rsplit('/').next().unwrap_or_default().to_owned();
    // RustMailer compresses every response; tonic only does when asked, so always ask.
    request.headers_mut().insert("grpc-accept-encoding", HeaderValue::from_static("gzip"));
    let call = async {
        if let Some(fault) = shared.take_fault(&method) {
            tokio::time::sleep(Duration::from_millis(fault.delay_ms)).await;
            if let Some(code) = fault.status {
                return grpc_error(tonic::Status::new(code, format!("injected fault on {method}")));
            }
            match fault.garble {
                Some(Garble::Before) => return crate::raw::garbled(),
                Some(Garble::After) => {
                    route(shared.clone(), &path, request, auth.speaks_1_6).await;
                    return crate::raw::garbled();
                }
                None => {}
            }
        }
        route(shared.clone(), &path, request, auth.speaks_1_6).await
    };
    match tokio::time::timeout(limit, call).await {
        Ok(response) => response,
        Err(_) => json_error(StatusCode::REQUEST_TIMEOUT, 10080, "Request timeout"),
    }
}

async fn route(shared: Shared, path: &str, request: Request<Incoming>, speaks_1_6: bool) -> Response<Body> {
    use tonic::codec::CompressionEncoding::Gzip;
    let services = Services(shared);
    let (service, method) = path.trim_start_matches('/').split_once('/').unwrap_or_default();
    let request = match service {
        "rustmailer.grpc.MessageService" if speaks_1_6 => match crate::v1_6::wants(method) {
            true => return crate::v1_6::route(services, method, request).await,
            false => request,
        },
        _ => request,
    };
    macro_rules! serve {
        ($server:ty) => {{
            let server = <$server>::new(services).send_compressed(Gzip).accept_compressed(Gzip);
            match server.oneshot(request).await {
                Ok(response) => response,
                Err(never) => match never {},
            }
        }};
    }
    match service {
        "rustmailer.grpc.AccountService" => serve!(pb::account_service_server::AccountServiceServer<Services>),
        "rustmailer.grpc.AutoConfigService" => {
            serve!(pb::auto_config_service_server::AutoConfigServiceServer<Services>)
        }
        "rustmailer.grpc.MailboxService" => serve!(pb::mailbox_service_server::MailboxServiceServer<Services>),
        "rustmailer.grpc.MessageService" => serve!(pb::message_service_server::MessageServiceServer<Services>),
        "rustmailer.grpc.TemplatesService" => serve!(pb::templates_service_server::TemplatesServiceServer<Services>),
        "rustmailer.grpc.StatusService" => serve!(pb::status_service_server::StatusServiceServer<Services>),
        "rustmailer.grpc.SendMailService" => serve!(pb::send_mail_service_server::SendMailServiceServer<Services>),
        _ => grpc_error(tonic::Status::unimplemented(format!("no service at {path}"))),
    }
}

// A control port (HTTP/1.1) for tests: inject mail and faults, read what was "sent".

fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn code_named(name: &str) -> Option<tonic::Code> {
    use tonic::Code::*;
    Some(match name {
        "unavailable" => Unavailable,
        "deadline_exceeded" => DeadlineExceeded,
        "resource_exhausted" => ResourceExhausted,
        "internal" => Internal,
        "invalid_argument" => InvalidArgument,
        "permission_denied" => PermissionDenied,
        "not_found" => NotFound,
        _ => return None,
    })
}

pub async fn control(shared: Shared, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let query = request.uri().query().unwrap_or_default().to_owned();
    let q = |name: &str| query_param(&query, name);
    let json = |value: serde_json::Value| {
        let mut r = Response::new(Full::new(Bytes::from(value.to_string())));
        r.headers_mut().insert("content-type", HeaderValue::from_static("application/json"));
        r.headers_mut().insert("access-control-allow-origin", HeaderValue::from_static("*"));
        r
    };
    let bad = |text: String| {
        let mut r = Response::new(Full::new(Bytes::from(text)));
        *r.status_mut() = StatusCode::BAD_REQUEST;
        r.headers_mut().insert("access-control-allow-origin", HeaderValue::from_static("*"));
        r
    };
    match request.uri().path() {
        "/sent" => {
            let world = shared.lock();
            let sent: Vec<_> = world
                .delivered
                .iter()
                .map(|d| serde_json::json!({"task_id": d.task_id, "message_id": d.message_id, "from": d.from, "recipients": d.recipients, "subject": d.subject, "at_ms": d.at_ms}))
                .collect();
            json(serde_json::json!(sent))
        }
        "/tasks" => {
            let world = shared.lock();
            let tasks: Vec<_> = world
                .tasks
                .values()
                .map(|t| serde_json::json!({"id": t.id, "message_id": t.message_id, "status": pb::TaskStatus::try_from(t.status).map(|s| s.as_str_name()).unwrap_or("?"), "scheduled_at": t.scheduled_at, "subject": t.subject}))
                .collect();
            json(serde_json::json!(tasks))
        }
        "/deliver" => {
            let account: u64 = q("account").and_then(|a| a.parse().ok()).unwrap_or(1);
            let mailbox = q("mailbox").unwrap_or_else(|| "INBOX".into());
            let from = q("from").unwrap_or_else(|| "sender@example.net".into());
            let subject = q("subject").unwrap_or_else(|| "New mail".into());
            let text = q("text").unwrap_or_else(|| "Hello.".into());
            let mut world = shared.lock();
            let Ok(a) = world.account_mut(account) else { return bad(format!("no account {account}")) };
            let email = a.email.clone();
            let mail = crate::mail::new_mail(("Sender", &from), &email, &subject, &text, crate::world::now_ms());
            let Some(m) = a.mailbox_mut(&mailbox) else { return bad(format!("no mailbox {mailbox}")) };
            let uid = m.append(mail);
            drop(world);
            crate::tasks::webhook(
                "EMAIL_ADDED_TO_FOLDER",
                account,
                &email,
                serde_json::json!({"mailbox_name": mailbox, "uids": [uid]}),
            );
            json(serde_json::json!({"uid": uid}))
        }
        "/fault" => {
            let status = match q("status") {
                Some(name) => match code_named(&name) {
                    Some(code) => Some(code),
                    None => return bad(format!("unknown status '{name}'")),
                },
                None => None,
            };
            let fault = crate::world::Fault {
                method: q("method").unwrap_or_else(|| "*".into()),
                count: q("count").and_then(|c| c.parse().ok()).unwrap_or(1),
                delay_ms: q("delay_ms").and_then(|d| d.parse().ok()).unwrap_or(0),
                status,
                garble: match q("garble").as_deref() {
                    None => None,
                    Some("before") => Some(Garble::Before),
                    Some("after") => Some(Garble::After),
                    Some(other) => return bad(format!("garble is 'before' or 'after', not '{other}'")),
                },
            };
            shared.lock().faults.push(fault);
            json(serde_json::json!({"ok": true}))
        }
        "/clear" => {
            shared.lock().faults.clear();
            json(serde_json::json!({"ok": true}))
        }
        other => bad(format!("unknown control path {other}")),
    }
}
