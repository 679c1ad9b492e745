//! rustmailer-standin: a test double for RustMailer's gRPC API (RustMailer itself cannot be installed
//! on the test machines). It answers the services Petrel uses from in-memory accounts, and behaves on
//! the wire the way `../shared/specs/rustmailer-grpc.md` documents RustMailer: see `wire`.

mod mail;
mod raw;
mod services;
mod tasks;
mod v1_6;
mod wire;
mod world;

#[allow(clippy::all)]
mod pb {
    tonic::include_proto!("rustmailer.grpc");
}

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use clap::Parser;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use tokio::net::TcpListener;

#[derive(Parser)]
#[command(name = "rustmailer-standin")]
struct Args {
    /// gRPC port (HTTP/2 only, like RustMailer's 16630).
    #[arg(long, default_value = "127.0.0.1:16630")]
    listen: SocketAddr,
    /// Control port for tests (HTTP/1.1): /deliver, /fault, /clear, /sent, /tasks.
    #[arg(long)]
    control: Option<SocketAddr>,
    /// Access token accepted as `authorization: Bearer` (repeatable); none: auth off.
    #[arg(long = "token")]
    tokens: Vec<String>,
    /// A token answered with HTTP 403 (as RustMailer does for an expired licence).
    #[arg(long = "refused-token")]
    refused_tokens: Vec<String>,
    /// Where event hooks are posted (the gateway's webhook endpoint).
    #[arg(long)]
    webhook_url: Option<String>,
    /// Bearer token the event hooks carry.
    #[arg(long, default_value = "")]
    webhook_token: String,
    /// The RustMailer wire to speak: `revision` (protos/rustmailer.proto, 2026-03) or `1.6.0` (the
    /// release of 2025-11-25: see v1_6.rs).
    #[arg(long, default_value = "revision", value_parser = ["revision", "1.6.0"])]
    wire: String,
    /// Messages in alice's `Bulk` folder (for paging).
    #[arg(long, default_value_t = 250)]
    bulk: u32,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let shared = world::Shared::new(mail::seed(args.bulk));
    if let Some(url) = args.webhook_url {
        let _ = tasks::HOOKS.set(tasks::Hooks { url, token: args.webhook_token });
    }
    tokio::spawn(tasks::run(shared.clone()));
    if let Some(addr) = args.control {
        let listener = TcpListener::bind(addr).await.unwrap_or_else(|e| panic!("cannot listen on {addr}: {e}"));
        let shared = shared.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { continue };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |r| {
                        let shared = shared.clone();
                        async move { Ok::<_, Infallible>(wire::control(shared, r).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
    }
    let auth = Arc::new(wire::Auth {
        tokens: args.tokens,
        refused_tokens: args.refused_tokens,
        speaks_1_6: args.wire == "1.6.0",
    });
    let listener =
        TcpListener::bind(args.listen).await.unwrap_or_else(|e| panic!("cannot listen on {}: {e}", args.listen));
    eprintln!("rustmailer-standin: gRPC (HTTP/2 only, {} wire) on {}", args.wire, args.listen);
    let builder = auto::Builder::new(TokioExecutor::new());
    loop {
        let Ok((stream, _)) = listener.accept().await else { continue };
        let _ = stream.set_nodelay(true);
        let (shared, auth, builder) = (shared.clone(), auth.clone(), builder.clone());
        tokio::spawn(async move {
            let service = service_fn(move |r| {
                let (shared, auth) = (shared.clone(), auth.clone());
                async move { Ok::<_, Infallible>(wire::handle(shared, &auth, r).await) }
            });
            let _ = builder.serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
