//! A bounded load generator on 127.0.0.1 for the gateway benchmark (scripts/bench): the same
//! unary gRPC call (AccountService/ListMinimalAccounts) made directly to the stand-in over HTTP/2
//! and as gRPC-web through the gateway over HTTP/1.1, and the same JMAP session GET straight to
//! the mail server and through the gateway's proxy. Rounds alternate between the two paths so both
//! see the same machine; each round is bounded in requests and time. Prints one `BENCH {json}`
//! line per figure.

use std::time::{Duration, Instant};

use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;

#[derive(Parser)]
struct Args {
    /// The stand-in's HTTP/2 address (http://127.0.0.1:PORT).
    #[arg(long)]
    direct: String,
    /// The gateway (http://127.0.0.1:PORT).
    #[arg(long)]
    gateway: String,
    /// The mail server's JMAP session resource (…/jmap/), straight (not through the gateway).
    #[arg(long)]
    jmap_direct: String,
    #[arg(long)]
    token: String,
    /// Basic credentials for the JMAP server, user:password.
    #[arg(long)]
    jmap_login: String,
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    #[arg(long, default_value_t = 5)]
    rounds: usize,
    /// A round stops after this many seconds even if its requests are not all made.
    #[arg(long, default_value_t = 20)]
    max_secs: u64,
}

const RPC: &str = "/rustmailer.grpc.AccountService/ListMinimalAccounts";

/// One measured round: requests per second and latencies in ms.
struct Round {
    rps: f64,
    p50: f64,
    p95: f64,
    max: f64,
    failed: usize,
}

type Body = Full<Bytes>;

async fn round<F>(requests: usize, concurrency: usize, max: Duration, make: F) -> Round
where
    F: Fn() -> Call + Send + Sync + 'static + Clone,
{
    let start = Instant::now();
    let mut workers = Vec::new();
    for w in 0..concurrency {
        let make = make.clone();
        let share = requests / concurrency + usize::from(w < requests % concurrency);
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(share);
            let mut failed = 0;
            for _ in 0..share {
                if start.elapsed() > max {
                    break;
                }
                let t = Instant::now();
                if make().await {
                    latencies.push(t.elapsed().as_secs_f64() * 1000.0);
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let mut all = Vec::new();
    let mut failed = 0;
    for w in workers {
        if let Ok((l, f)) = w.await {
            all.extend(l);
            failed += f;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    all.sort_by(|a, b| a.total_cmp(b));
    let pick = |q: f64| {
        all.get(((all.len() as f64 * q) as usize).min(all.len().saturating_sub(1))).copied().unwrap_or(f64::NAN)
    };
    Round {
        rps: all.len() as f64 / secs,
        p50: pick(0.5),
        p95: pick(0.95),
        max: all.last().copied().unwrap_or(f64::NAN),
        failed,
    }
}

fn bench(group: &str, name: &str, unit: &str, samples: &[f64], note: &str) {
    println!(
        "BENCH {}",
        serde_json::json!({ "group": group, "name": name, "unit": unit, "samples": samples, "note": note })
    );
}

type Call = std::pin::Pin<Box<dyn std::future::Future<Output = bool> + Send>>;
type Http = Client<hyper_util::client::legacy::connect::HttpConnector, Body>;

/// One unary call, as gRPC (HTTP/2, status in the trailers) or gRPC-web (HTTP/1.1, the trailers
/// in the body's last frame); true when it succeeded.
fn grpc(client: Http, url: String, auth: String, web: bool) -> impl Fn() -> Call + Clone + Send + Sync + 'static {
    move || {
        let (client, url, auth) = (client.clone(), url.clone(), auth.clone());
        Box::pin(async move {
            let request = if web {
                http::Request::post(url).header("content-type", "application/grpc-web+proto").header("x-grpc-web", "1")
            } else {
                http::Request::post(url).header("content-type", "application/grpc").header("te", "trailers")
            };
            let Ok(request) = request.header("authorization", auth).body(Full::new(Bytes::from_static(&EMPTY_FRAME)))
            else {
                return false;
            };
            let Ok(response) = client.request(request).await else { return false };
            if response.status() != 200 {
                return false;
            }
            let Ok(body) = response.into_body().collect().await else { return false };
            if web {
                let bytes = body.to_bytes();
                bytes.windows(13).any(|w| w == b"grpc-status:0") || bytes.windows(14).any(|w| w == b"grpc-status: 0")
            } else {
                body.trailers().and_then(|t| t.get("grpc-status")).is_some_and(|s| s == "0")
            }
        }) as Call
    }
}

/// An empty protobuf message in a gRPC frame (no compression flag, length 0).
const EMPTY_FRAME: [u8; 5] = [0, 0, 0, 0, 0];

#[tokio::main]
async fn main() {
    let args = Args::parse();
    let max = Duration::from_secs(args.max_secs);
    // No Nagle: a request's HEADERS and DATA written apart would otherwise wait for a delayed ACK.
    let mut connector = hyper_util::client::legacy::connect::HttpConnector::new();
    connector.set_nodelay(true);
    let h2: Http = Client::builder(TokioExecutor::new()).http2_only(true).build(connector.clone());
    let h1: Http = Client::builder(TokioExecutor::new()).build(connector);
    let bearer = format!("Bearer {}", args.token);
    let basic = {
        use base64::Engine as _;
        format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(&args.jmap_login))
    };

    let grpc_direct = grpc(h2.clone(), format!("{}{RPC}", args.direct), bearer.clone(), false);
    let grpc_web = grpc(h1.clone(), format!("{}{RPC}", args.gateway), bearer.clone(), true);
    let jmap = |url: String| {
        let (client, auth) = (h1.clone(), basic.clone());
        move || {
            let (client, url, auth) = (client.clone(), url.clone(), auth.clone());
            Box::pin(async move {
                let request = http::Request::get(url)
                    .header("authorization", auth)
                    .body(Full::new(Bytes::new()))
                    .expect("request");
                match client.request(request).await {
                    Ok(response) if response.status() == 200 => response.into_body().collect().await.is_ok(),
                    _ => false,
                }
            }) as Call
        }
    };
    let jmap_direct = jmap(args.jmap_direct.clone());
    let jmap_gateway = jmap(format!("{}/jmap/", args.gateway));

    let g = format!("8 gateway ({} requests x {} rounds, {} at a time)", args.requests, args.rounds, args.concurrency);
    for (what, direct, via) in [("gRPC", 0, 1), ("JMAP", 2, 3)] {
        let (mut d, mut v) = (Vec::new(), Vec::new());
        // A warm-up round each: connections, the servers' caches.
        for round_no in 0..=args.rounds {
            for which in [direct, via] {
                let r = match which {
                    0 => round(args.requests, args.concurrency, max, grpc_direct.clone()).await,
                    1 => round(args.requests, args.concurrency, max, grpc_web.clone()).await,
                    2 => round(args.requests, args.concurrency, max, jmap_direct.clone()).await,
                    _ => round(args.requests, args.concurrency, max, jmap_gateway.clone()).await,
                };
                if r.failed > 0 {
                    eprintln!("loadgen: {what} path {which}: {} of {} requests failed", r.failed, args.requests);
                    std::process::exit(1);
                }
                if round_no > 0 {
                    if which == direct {
                        d.push(r)
                    } else {
                        v.push(r)
                    }
                }
            }
        }
        let (direct_name, via_name) = if what == "gRPC" {
            ("gRPC, HTTP/2 straight to the stand-in", "gRPC-web through the gateway")
        } else {
            ("JMAP session, straight to Cyrus", "JMAP session through the gateway")
        };
        bench(&g, &format!("{direct_name}: throughput"), "req/s", &d.iter().map(|r| r.rps).collect::<Vec<_>>(), "");
        bench(&g, &format!("{via_name}: throughput"), "req/s", &v.iter().map(|r| r.rps).collect::<Vec<_>>(), "");
        bench(&g, &format!("{direct_name}: latency p50"), "ms", &d.iter().map(|r| r.p50).collect::<Vec<_>>(), "");
        bench(&g, &format!("{via_name}: latency p50"), "ms", &v.iter().map(|r| r.p50).collect::<Vec<_>>(), "");
        bench(&g, &format!("{direct_name}: latency p95"), "ms", &d.iter().map(|r| r.p95).collect::<Vec<_>>(), "");
        bench(&g, &format!("{via_name}: latency p95"), "ms", &v.iter().map(|r| r.p95).collect::<Vec<_>>(), "");
        bench(&g, &format!("{direct_name}: slowest"), "ms", &d.iter().map(|r| r.max).collect::<Vec<_>>(), "");
        bench(&g, &format!("{via_name}: slowest"), "ms", &v.iter().map(|r| r.max).collect::<Vec<_>>(), "");
        let added: Vec<f64> = d.iter().zip(&v).map(|(d, v)| v.p50 - d.p50).collect();
        bench(&g, &format!("{what}: latency the gateway adds, p50 (same round)"), "ms", &added, "");
    }
}
