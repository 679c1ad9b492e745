//! The real gateway binary on 127.0.0.1, in front of a small upstream server written here.

use std::convert::Infallible;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::net::TcpListener;
use tokio::process::{Child, Command};
use tokio::sync::{mpsc, Notify};

type TestBody = http_body_util::combinators::BoxBody<Bytes, Infallible>;

/// A stand-in JMAP server: records what it receives and answers a few fixed routes.
struct Upstream {
    url: String,
    options_seen: Arc<AtomicUsize>,
    last_headers: Arc<std::sync::Mutex<Option<hyper::HeaderMap>>>,
    release_stream: Arc<Notify>,
}

async fn start_upstream() -> Upstream {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind upstream");
    let addr = listener.local_addr().expect("upstream address");
    let url = format!("http://{addr}");
    let options_seen = Arc::new(AtomicUsize::new(0));
    let last_headers = Arc::new(std::sync::Mutex::new(None));
    let release_stream = Arc::new(Notify::new());
    let (seen, headers, release, self_url) =
        (options_seen.clone(), last_headers.clone(), release_stream.clone(), url.clone());
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { return };
            let (seen, headers, release, self_url) = (seen.clone(), headers.clone(), release.clone(), self_url.clone());
            let service = hyper::service::service_fn(move |req: Request<Incoming>| {
                let (seen, headers, release, self_url) =
                    (seen.clone(), headers.clone(), release.clone(), self_url.clone());
                async move {
                    *headers.lock().expect("lock") = Some(req.headers().clone());
                    let response: Response<TestBody> = match (req.method().as_str(), req.uri().path()) {
                        ("OPTIONS", _) => {
                            seen.fetch_add(1, Ordering::SeqCst);
                            Response::builder().status(401).body(full("auth first")).expect("response")
                        }
                        (_, "/.well-known/jmap") => Response::builder()
                            .status(301)
                            .header("location", format!("{self_url}/jmap"))
                            .header("access-control-allow-origin", "*")
                            .body(full(""))
                            .expect("response"),
                        (_, "/jmap/eventsource/") => {
                            // First event now, the rest only when the test says so: a buffering proxy
                            // would deliver nothing until the end.
                            let (tx, rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(4);
                            tokio::spawn(async move {
                                let _ = tx.send(Ok(Frame::data(Bytes::from("event: state\ndata: 1\n\n")))).await;
                                release.notified().await;
                                let _ = tx.send(Ok(Frame::data(Bytes::from("event: state\ndata: 2\n\n")))).await;
                            });
                            let stream = tokio_stream_from(rx);
                            Response::builder()
                                .header("content-type", "text/event-stream")
                                .body(StreamBody::new(stream).boxed())
                                .expect("response")
                        }
                        (_, path) => {
                            let body = format!("upstream saw {path}");
                            Response::builder()
                                .header("content-type", "application/json")
                                .body(full(&body))
                                .expect("response")
                        }
                    };
                    Ok::<_, Infallible>(response)
                }
            });
            tokio::spawn(async move {
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    Upstream { url, options_seen, last_headers, release_stream }
}

fn tokio_stream_from(
    mut rx: mpsc::Receiver<Result<Frame<Bytes>, Infallible>>,
) -> impl futures_util::Stream<Item = Result<Frame<Bytes>, Infallible>> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

fn full(text: &str) -> TestBody {
    Full::new(Bytes::from(text.to_owned())).boxed()
}

struct Gateway {
    child: Child,
    url: String,
    _app_dir: TempDir,
}

struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn app_dir() -> TempDir {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "petrel-gw-test-{}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::SeqCst)
    ));
    let app = dir.join("app");
    std::fs::create_dir_all(&app).expect("app dir");
    std::fs::write(app.join("index.html"), "<html><script type=\"module\">start()</script></html>").expect("index");
    std::fs::write(app.join("petrel-0123456789abcdef_bg.wasm"), b"\0asm\x01\0\0\0").expect("wasm");
    std::fs::write(app.join("notes.txt"), "hello").expect("txt");
    // What scripts/build writes beside each file (the bytes stand in for real brotli and gzip).
    std::fs::write(app.join("petrel-0123456789abcdef_bg.wasm.br"), b"brotli copy").expect("wasm.br");
    std::fs::write(app.join("petrel-0123456789abcdef_bg.wasm.gz"), b"gzip copy, longer").expect("wasm.gz");
    std::fs::write(app.join("index.html.br"), b"brotli page").expect("index.br");
    std::fs::write(dir.join("secret.txt"), "outside the app folder").expect("secret");
    TempDir(dir)
}

/// Starts the gateway on a kernel-chosen port and reads the address it reports.
async fn start_gateway(extra: &[&str]) -> Gateway {
    let dir = app_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_petrel-gateway"))
        .arg("--listen")
        .arg("127.0.0.1:0")
        .arg("--app-dir")
        .arg(dir.0.join("app"))
        .args(extra)
        .env_clear()
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("gateway starts");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let url = tokio::time::timeout(Duration::from_secs(20), async {
        while let Ok(Some(line)) = lines.next_line().await {
            if let Some(rest) = line.split(" on http://").nth(1) {
                return format!("http://{}", rest.split([',', ' ']).next().unwrap_or(""));
            }
        }
        panic!("gateway exited before listening")
    })
    .await
    .expect("gateway reports its address");
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Gateway { child, url, _app_dir: dir }
}

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build(HttpConnector::new())
}

async fn send(request: Request<Full<Bytes>>) -> (StatusCode, hyper::HeaderMap, String) {
    let response = client().request(request).await.expect("gateway answers");
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.expect("body").to_bytes();
    (parts.status, parts.headers, String::from_utf8_lossy(&bytes).into_owned())
}

async fn get(url: &str) -> (StatusCode, hyper::HeaderMap, String) {
    send(Request::get(url).body(Full::default()).expect("request")).await
}

#[tokio::test]
async fn serves_the_app_with_types_fallback_and_csp() {
    let gw = start_gateway(&[]).await;
    let (status, headers, _) = get(&format!("{}/petrel-0123456789abcdef_bg.wasm", gw.url)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");

    // A client-side route gets the app page, with the inline loader's hash in its CSP.
    let (status, headers, body) = get(&format!("{}/mail/inbox/42", gw.url)).await;
    assert_eq!(status, 200);
    assert!(body.contains("start()"));
    let csp = headers["content-security-policy"].to_str().expect("csp");
    assert!(csp.contains("'sha256-") && csp.contains("default-src 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");

    let (status, _, _) = get(&format!("{}/missing.js", gw.url)).await;
    assert_eq!(status, 404);
    for escape in ["/%2e%2e/secret.txt", "/..%2fsecret.txt", "/a/../../secret.txt"] {
        let (status, _, body) = get(&format!("{}{escape}", gw.url)).await;
        assert!(!body.contains("outside the app folder"), "{escape} escaped the app folder");
        assert_ne!(status, 200, "{escape}");
    }
}

async fn get_with(url: &str, headers: &[(&str, &str)]) -> (StatusCode, hyper::HeaderMap, String) {
    let mut request = Request::get(url);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    send(request.body(Full::default()).expect("request")).await
}

#[tokio::test]
async fn serves_the_best_precompressed_copy_the_request_accepts() {
    let gw = start_gateway(&[]).await;
    let wasm = format!("{}/petrel-0123456789abcdef_bg.wasm", gw.url);

    let (status, headers, body) = get_with(&wasm, &[("accept-encoding", "gzip, deflate, br")]).await;
    assert_eq!(status, 200);
    assert_eq!(body, "brotli copy");
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(headers["content-length"], "11");
    assert_eq!(headers["content-type"], "application/wasm");
    assert_eq!(headers["vary"], "accept-encoding");
    assert_eq!(headers["cache-control"], "public, max-age=31536000, immutable");
    let br_tag = headers["etag"].to_str().expect("etag").to_owned();

    let (_, headers, body) = get_with(&wasm, &[("accept-encoding", "gzip")]).await;
    assert_eq!((body.as_str(), headers["content-encoding"].to_str().expect("coding")), ("gzip copy, longer", "gzip"));
    assert_eq!(headers["content-length"], "17");
    let gzip_tag = headers["etag"].to_str().expect("etag").to_owned();
    assert_ne!(br_tag, gzip_tag, "each encoding has its own ETag");

    // No Accept-Encoding, or br refused: identity (or the next best), still with Vary.
    let (_, headers, body) = get(&wasm).await;
    assert_eq!(body.as_bytes(), b"\0asm\x01\0\0\0");
    assert!(headers.get("content-encoding").is_none());
    assert_eq!(headers["content-length"], "8");
    assert_eq!(headers["vary"], "accept-encoding");
    let (_, headers, _) = get_with(&wasm, &[("accept-encoding", "br;q=0, gzip;q=0.5")]).await;
    assert_eq!(headers["content-encoding"], "gzip");

    // Revalidation answers 304 only for the tag of the encoding asked for.
    let (status, headers, body) = get_with(&wasm, &[("accept-encoding", "br"), ("if-none-match", &br_tag)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::NOT_MODIFIED, ""));
    assert_eq!(headers["etag"].to_str().expect("etag"), br_tag);
    let (status, _, body) = get_with(&wasm, &[("accept-encoding", "gzip"), ("if-none-match", &br_tag)]).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, "gzip copy, longer"));

    // HEAD: the headers of the copy GET would send, no body.
    let head = Request::head(&wasm).header("accept-encoding", "br").body(Full::default()).expect("request");
    let (status, headers, body) = send(head).await;
    assert_eq!((status, body.as_str()), (StatusCode::OK, ""));
    assert_eq!(
        (headers["content-encoding"].to_str().expect("c"), headers["content-length"].to_str().expect("l")),
        ("br", "11")
    );

    // The page is compressed too, and keeps its CSP and no-cache.
    let (_, headers, body) = get_with(&format!("{}/mail/inbox", gw.url), &[("accept-encoding", "br")]).await;
    assert_eq!(body, "brotli page");
    assert_eq!(headers["content-encoding"], "br");
    assert_eq!(headers["cache-control"], "no-cache");
    assert!(headers["content-security-policy"].to_str().expect("csp").contains("'sha256-"));

    // A file without copies has no Vary and no encoding.
    let (_, headers, body) = get_with(&format!("{}/notes.txt", gw.url), &[("accept-encoding", "br")]).await;
    assert_eq!(body, "hello");
    assert!(headers.get("content-encoding").is_none() && headers.get("vary").is_none());
}

#[tokio::test]
async fn a_compressed_copy_older_than_its_file_is_not_served() {
    let gw = start_gateway(&[]).await;
    let app = gw._app_dir.0.join("app");
    // A rebuilt file whose copies were not rewritten: the copies are stale.
    let rebuilt = std::time::SystemTime::now() + Duration::from_secs(5);
    let file = std::fs::File::options().write(true).open(app.join("petrel-0123456789abcdef_bg.wasm")).expect("open");
    file.set_modified(rebuilt).expect("set mtime");
    let (_, headers, body) =
        get_with(&format!("{}/petrel-0123456789abcdef_bg.wasm", gw.url), &[("accept-encoding", "br, gzip")]).await;
    assert_eq!(body.as_bytes(), b"\0asm\x01\0\0\0");
    assert!(headers.get("content-encoding").is_none());
}

#[tokio::test]
async fn proxies_jmap_and_keeps_redirects_on_the_gateway() {
    let upstream = start_upstream().await;
    let gw = start_gateway(&["--jmap-upstream", &upstream.url]).await;
    let (status, headers, _) = get(&format!("{}/.well-known/jmap", gw.url)).await;
    assert_eq!(status, 301);
    assert_eq!(headers["location"], "/jmap", "the upstream's own address must not reach the browser");
    assert!(!headers.contains_key("access-control-allow-origin"), "upstream CORS headers are not passed on");

    let request = Request::post(format!("{}/jmap/api/?x=1", gw.url))
        .header("authorization", "Basic ZGVtbzpwdw==")
        .body(Full::new(Bytes::from("{}")))
        .expect("request");
    let (status, _, body) = send(request).await;
    assert_eq!(status, 200);
    assert_eq!(body, "upstream saw /jmap/api/");
    let seen = upstream.last_headers.lock().expect("lock").clone().expect("headers reached upstream");
    assert_eq!(seen["authorization"], "Basic ZGVtbzpwdw==");
    assert_eq!(seen["host"], upstream.url.trim_start_matches("http://"));
    assert_eq!(seen["x-forwarded-host"], gw.url.trim_start_matches("http://"));
}

#[tokio::test]
async fn event_streams_are_passed_on_as_they_arrive() {
    let upstream = start_upstream().await;
    let gw = start_gateway(&["--jmap-upstream", &upstream.url]).await;
    let request = Request::get(format!("{}/jmap/eventsource/", gw.url))
        .header("accept", "text/event-stream")
        .header("accept-encoding", "gzip, br")
        .body(Full::default())
        .expect("request");
    let response = client().request(request).await.expect("stream opens");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let seen = upstream.last_headers.lock().expect("lock").clone().expect("headers reached upstream");
    assert_eq!(seen["accept-encoding"], "identity", "event streams must not be compressed upstream");
    let mut body = response.into_body();
    let mut next = async || {
        tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .expect("a frame arrives while the upstream still holds the rest")
            .expect("a frame")
            .expect("no error")
            .into_data()
            .expect("data")
    };
    // A comment first, so that a browser sees the stream open before the server's first event.
    assert_eq!(next().await, ": opened by petrel-gateway\n\n");
    assert_eq!(next().await, "event: state\ndata: 1\n\n");
    upstream.release_stream.notify_one();
    let rest = body.collect().await.expect("rest of stream").to_bytes();
    assert_eq!(rest, "event: state\ndata: 2\n\n");
}

#[tokio::test]
async fn preflights_are_answered_here_and_cors_is_only_for_allowed_origins() {
    let upstream = start_upstream().await;
    let gw = start_gateway(&["--jmap-upstream", &upstream.url, "--cors-origin", "http://app.test"]).await;
    let preflight = |origin: &str| {
        Request::options(format!("{}/jmap/", gw.url))
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .header("access-control-request-headers", "authorization, content-type")
            .body(Full::default())
            .expect("request")
    };
    let (status, headers, _) = send(preflight("http://app.test")).await;
    assert_eq!(status, 204);
    assert_eq!(headers["access-control-allow-origin"], "http://app.test");
    assert_eq!(headers["access-control-allow-headers"], "authorization, content-type");
    let (status, headers, _) = send(preflight("http://evil.test")).await;
    assert_eq!(status, 204);
    assert!(!headers.contains_key("access-control-allow-origin"));
    assert_eq!(upstream.options_seen.load(Ordering::SeqCst), 0, "preflights must not reach the upstream");

    let request = Request::get(format!("{}/jmap/x", gw.url))
        .header("origin", "http://app.test")
        .body(Full::default())
        .expect("request");
    let (_, headers, _) = send(request).await;
    assert_eq!(headers["access-control-allow-origin"], "http://app.test");
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_clear_502() {
    let closed = TcpListener::bind("127.0.0.1:0").await.expect("bind").local_addr().expect("addr");
    let gw = start_gateway(&["--jmap-upstream", &format!("http://{closed}")]).await;
    let (status, _, body) = get(&format!("{}/jmap/", gw.url)).await;
    assert_eq!(status, 502);
    assert!(body.contains("is not reachable"), "{body}");
}

#[tokio::test]
async fn sigterm_stops_the_gateway_cleanly() {
    let mut gw = start_gateway(&[]).await;
    let pid = gw.child.id().expect("pid");
    let killed = std::process::Command::new("kill").arg("-TERM").arg(pid.to_string()).status().expect("kill runs");
    assert!(killed.success());
    let status =
        tokio::time::timeout(Duration::from_secs(10), gw.child.wait()).await.expect("exits in time").expect("status");
    assert!(status.success(), "{status:?}");
}

#[tokio::test]
async fn bad_flags_are_refused_with_a_reason_and_help_lists_env_vars() {
    let bin = env!("CARGO_BIN_EXE_petrel-gateway");
    let out = Command::new(bin).args(["--jmap-upstream", "ftp://mail.example"]).output().await.expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("must be an http:// URL"));
    let out = Command::new(bin).args(["--listen", "not-an-address"]).output().await.expect("runs");
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(bin).arg("--help").output().await.expect("runs");
    assert!(out.status.success());
    let help = String::from_utf8_lossy(&out.stdout);
    for needle in ["PETREL_JMAP_UPSTREAM", "PETREL_LISTEN", "--cors-origin"] {
        assert!(help.contains(needle), "--help lacks {needle}");
    }
}
