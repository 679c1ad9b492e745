//! Hostile and broken servers (tests/support/hostile_server.py): each failure is a typed error and
//! nothing panics.

#![cfg(target_arch = "wasm32")]

use futures_util::future::{select, Either, FutureExt};
use petrel::auth::Credentials;
use petrel::jmap::blob::{DigestStore, MemoryDigests};
use petrel::jmap::blob_io;
use petrel::jmap::client::JmapClient;
use petrel::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use petrel::jmap::{JmapError, Request};
use petrel::net::queue::LocalQueue;
use petrel::net::{fetch, sleep, HttpRequest, NetError};
use serde_json::json;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

fn hostile() -> &'static str {
    match option_env!("PETREL_TEST_HOSTILE") {
        Some(url) => url,
        None => panic!("PETREL_TEST_HOSTILE must be set at build time (run scripts/test)"),
    }
}

fn unique(mode: &str) -> String {
    format!("{mode}~{}", (js_sys::Math::random() * 1e12) as u64)
}

async fn connect(mode: &str) -> Result<JmapClient, JmapError> {
    JmapClient::connect(&format!("{}/s/{mode}/session", hostile()), Credentials::bearer("t")).await
}

async fn echo(mode: &str) -> Result<serde_json::Value, JmapError> {
    let client = connect(mode).await.expect("the session itself is fine");
    let mut request = Request::new();
    let call = request.call("Core/echo", json!({}));
    client.send(&request).await?.take(&call)
}

async fn read_json(url: String) -> serde_json::Value {
    let response = fetch(HttpRequest::get(url)).await.expect("fixture answers");
    serde_json::from_slice(&response.body).expect("json")
}

#[wasm_bindgen_test]
async fn oversized_responses_are_refused_while_streaming_and_when_declared() {
    assert_eq!(
        echo(&unique("oversized")).await,
        Err(JmapError::Network(NetError::TooLarge { limit: 8 * 1024 * 1024 }))
    );
    assert_eq!(
        echo(&unique("oversized-declared")).await,
        Err(JmapError::Network(NetError::TooLarge { limit: 8 * 1024 * 1024 }))
    );
    let huge = connect(&unique("huge-session")).await.unwrap_err();
    assert_eq!(huge, JmapError::Network(NetError::TooLarge { limit: 1024 * 1024 }));
}

#[wasm_bindgen_test]
async fn truncated_and_non_json_bodies_are_protocol_errors() {
    assert!(matches!(echo(&unique("truncated")).await, Err(JmapError::Protocol(_))));
    assert!(matches!(echo(&unique("html")).await, Err(JmapError::Protocol(_))));
}

#[wasm_bindgen_test]
async fn a_server_that_closes_mid_body_is_an_interrupted_read() {
    let err = echo(&unique("closes")).await.unwrap_err();
    assert!(matches!(err, JmapError::Network(NetError::Interrupted(_) | NetError::Unreachable(_))), "{err:?}");
}

#[wasm_bindgen_test]
async fn request_level_errors_keep_their_type_and_limit() {
    let err = echo(&unique("notjson")).await.unwrap_err();
    assert!(matches!(err, JmapError::Request { ref kind, .. } if kind == "notJSON"), "{err:?}");
    let err = echo(&unique("limit")).await.unwrap_err();
    assert!(
        matches!(err, JmapError::Request { ref kind, limit: Some(ref l), .. } if kind == "limit" && l == "maxSizeRequest"),
        "{err:?}"
    );
}

#[wasm_bindgen_test]
async fn retry_after_is_honoured_for_reads_and_long_waits_go_to_the_caller() {
    let mode = unique("ratelimit");
    let started = petrel::net::now_ms();
    assert_eq!(echo(&mode).await, Ok(json!({ "ok": true })));
    let waited = petrel::net::now_ms() - started;
    assert!(waited >= 1000.0, "the retry came before Retry-After allowed: {waited} ms");
    assert_eq!(read_json(format!("{}/s/{mode}/count", hostile())).await, json!(2));
    assert_eq!(
        echo(&unique("unavailable")).await,
        Err(JmapError::Unavailable { status: 503, retry_after_secs: Some(120) })
    );
}

#[wasm_bindgen_test]
async fn a_new_session_state_makes_the_client_fetch_the_session_again() {
    let mode = unique("stale-session");
    assert_eq!(echo(&mode).await, Ok(json!({ "ok": true })));
    assert_eq!(read_json(format!("{}/s/{mode}/session-count", hostile())).await, json!(2), "sign-in, then one refresh");
    assert_eq!(echo(&unique("fine")).await, Ok(json!({ "ok": true })));
}

#[wasm_bindgen_test]
async fn a_server_stated_digest_is_checked_and_recorded_for_later_fetches() {
    let digests = MemoryDigests::default();
    let honest = connect(&unique("blob9404")).await.expect("session");
    let stated = blob_io::server_digest(&honest, "démo-☕", "B1").await.expect("Blob/get");
    assert!(stated.is_some(), "the blob capability must be used");
    let blob = blob_io::download(&honest, "démo-☕", "B1", "b.bin", "application/octet-stream", &digests, u64::MAX)
        .await
        .expect("bytes matching the stated digest");
    assert_eq!(blob.size(), 300_000.0);
    assert_eq!(digests.get("démo-☕", "B1"), stated, "the first fetch records the digest it checked");

    let liar = connect(&unique("blob9404-lies")).await.expect("session");
    let err = blob_io::download(&liar, "démo-☕", "B1", "b.bin", "application/octet-stream", &digests, u64::MAX)
        .await
        .unwrap_err();
    assert!(matches!(err, JmapError::BlobDigestMismatch { .. }), "{err:?}");
}

#[wasm_bindgen_test]
async fn dropping_a_call_aborts_its_fetch() {
    let mode = unique("slow");
    let client = connect(&mode).await.expect("session");
    let mut request = Request::new();
    request.call("Core/echo", json!({}));
    match select(client.send(&request).boxed_local(), sleep(300).boxed_local()).await {
        Either::Left(_) => panic!("the slow server answered early"),
        Either::Right(_) => {} // the send future is dropped here
    }
    let deadline = petrel::net::now_ms() + 5000.0;
    while read_json(format!("{}/s/{mode}/aborted", hostile())).await != json!(true) {
        assert!(petrel::net::now_ms() < deadline, "the server never saw the request go away");
        sleep(100).await;
    }
}

async fn first_disconnect_reason(mode: &str, max_frame: usize) -> (Vec<PushEvent>, String) {
    let client = connect(mode).await.expect("session");
    let events = LocalQueue::new();
    let sink = events.clone();
    let options = PushOptions { transports: vec![Transport::EventSource], max_frame, ..PushOptions::default() };
    let _push = live::start(client, options, move |e| sink.push(e));
    let mut seen = Vec::new();
    let deadline = petrel::net::now_ms() + 15_000.0;
    loop {
        let left = deadline - petrel::net::now_ms();
        assert!(left > 0.0, "no disconnect; saw {seen:?}");
        match select(events.next().boxed_local(), sleep(left as u32).boxed_local()).await {
            Either::Left((Some(PushEvent::Disconnected { reason, .. }), _)) => return (seen, reason),
            Either::Left((Some(other), _)) => seen.push(other),
            _ => panic!("no disconnect; saw {seen:?}"),
        }
    }
}

#[wasm_bindgen_test]
async fn event_streams_with_split_characters_parse_and_bad_ones_fail_cleanly() {
    let (seen, _) = first_disconnect_reason(&unique("sse-split-utf8"), 1 << 20).await;
    let change = seen.iter().find_map(|e| match e {
        PushEvent::StateChange(c) => Some(c.clone()),
        _ => None,
    });
    assert_eq!(change.expect("a StateChange").changed["démo-☕"]["Email"], "s2");

    let (_, reason) = first_disconnect_reason(&unique("sse-invalid-utf8"), 1 << 20).await;
    assert!(reason.contains("UTF-8"), "{reason}");
    let (_, reason) = first_disconnect_reason(&unique("sse-endless"), 64 * 1024).await;
    assert!(reason.contains("exceeded 65536 bytes"), "{reason}");
}
