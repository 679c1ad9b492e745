//! petrel-gateway: serves the Petrel app and proxies JMAP to it from one origin.
//!
//! Browsers need that: Cyrus answers CORS preflights with 401, and push streams must carry an
//! Authorization header that EventSource cannot send. See `--help` for the flags.

mod config;
mod edge_manifest;
mod events;
mod grpc_frames;
mod grpc_web;
mod proxy;
mod static_files;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use clap::Parser;
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full};
use hyper::body::Incoming;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

use config::Config;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;
pub type Body = UnsyncBoxBody<Bytes, BoxError>;

pub fn empty_body() -> Body {
    Empty::new().map_err(|e| match e {}).boxed_unsync()
}

pub fn text_response(status: StatusCode, text: &str) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(text.to_owned())).map_err(|e| match e {}).boxed_unsync());
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
    response
}

struct Gateway {
    config: Config,
    upstream: proxy::UpstreamClient,
    grpc_web: Option<grpc_web::GrpcWeb>,
    events: events::Events,
}

impl Gateway {
    async fn handle(&self, request: Request<Incoming>) -> Response<Body> {
        let path = request.uri().path();
        if proxy::is_jmap_path(path) {
            return proxy::forward(&self.config, &self.upstream, request).await;
        }
        if grpc_web::is_grpc_path(path) {
            return match &self.grpc_web {
                Some(g) => g.handle(&self.config, request).await,
                None => grpc_web::not_configured(),
            };
        }
        if path == events::WEBHOOK_PATH {
            return self.events.webhook(&self.config, request).await;
        }
        if path == events::EVENTS_PATH {
            return self.events.stream(&self.config, request).await;
        }
        if path == "/petrel-demo.json" {
            return self.demo_login();
        }
        static_files::serve(&self.config.app_dir, &request).await
    }

    /// In demo mode the app asks here for the account to sign in to by itself.
    fn demo_login(&self) -> Response<Body> {
        let Some((login, password)) = &self.config.demo_login else {
            return text_response(StatusCode::NOT_FOUND, "not in demo mode");
        };
        let body = format!(r#"{{"server":"","login":{},"password":{}}}"#, json_string(login), json_string(password));
        let mut response = text_response(StatusCode::OK, &body);
        response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response.headers_mut().insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

fn json_string(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Registers for Ctrl-C and SIGTERM at once (a signal sent right after the port opens must not
/// kill the process before a handler exists) and resolves when either comes.
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
    async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let Some(mut term) = term else { return std::future::pending().await };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    }
}

#[tokio::main]
async fn main() {
    let config = Config::parse();
    if let Some(out) = &config.write_edge_manifest {
        let written = edge_manifest::manifest(&config.app_dir)
            .and_then(|m| std::fs::write(out, serde_json::to_vec_pretty(&m).unwrap_or_default()));
        if let Err(e) = written {
            eprintln!("petrel-gateway: cannot write the edge manifest of {}: {e}", config.app_dir.display());
            std::process::exit(1);
        }
        return;
    }
    if !config.app_dir.is_dir() {
        eprintln!(
            "petrel-gateway: warning: app folder {} does not exist yet; build the app with `trunk build --release`",
            config.app_dir.display()
        );
    }
    if config.demo_login.is_some() {
        eprintln!("petrel-gateway: DEMO MODE: the app signs in by itself with the configured account");
    }
    let shutdown = shutdown_signal();
    let listener = match TcpListener::bind(config.listen).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("petrel-gateway: cannot listen on {}: {e}", config.listen);
            std::process::exit(1);
        }
    };
    let local = listener.local_addr().map(|a| a.to_string()).unwrap_or_default();
    eprintln!(
        "petrel-gateway: serving {} on http://{local}{}",
        config.app_dir.display(),
        config.jmap_upstream.as_ref().map(|u| format!(", JMAP from {u}")).unwrap_or_default()
    );
    if let Some(u) = &config.rustmailer_upstream {
        eprintln!(
            "petrel-gateway: gRPC-web for RustMailer at {u}{}",
            if config.rustmailer_webhook_token.is_some() { ", event hooks on /rustmailer/webhook" } else { "" }
        );
    }
    let grpc_web = grpc_web::GrpcWeb::new(&config);
    let gateway = Arc::new(Gateway { config, upstream: proxy::client(), grpc_web, events: events::Events::new() });
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let builder = auto::Builder::new(TokioExecutor::new());
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let _ = stream.set_nodelay(true);
                let gateway = gateway.clone();
                let service = service_fn(move |request| {
                    let gateway = gateway.clone();
                    async move { Ok::<_, Infallible>(gateway.handle(request).await) }
                });
                let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service).into_owned();
                let connection = graceful.watch(connection);
                tokio::spawn(async move { let _ = connection.await; });
            }
            _ = &mut shutdown => break,
        }
    }
    drop(listener);
    eprintln!("petrel-gateway: shutting down");
    // Open event streams never end by themselves: give requests in flight a bounded grace period.
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(Duration::from_secs(5)) => {}
    }
}
