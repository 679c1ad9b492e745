// The part of the suite that must also pass outside a window. Included (not a module) by
// tests/worker.rs and tests/service_worker.rs, which choose where it runs.

use petrel::jmap::blob::MemoryDigests;
use petrel::jmap::blob_io;
use petrel::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use petrel::mail::{mailbox, Role};
use petrel::net::queue::LocalQueue;
use wasm_bindgen_test::*;

fn global_has(name: &str) -> bool {
    js_sys::Reflect::has(&js_sys::global(), &name.into()).unwrap_or(false)
}

#[wasm_bindgen_test]
async fn no_window_here_and_the_jmap_core_still_works() {
    assert!(!global_has("document") && !global_has("window"), "this suite must run outside a window");
    let client = common::client().await;
    let boxes = mailbox::fetch_all(&client).await.expect("Mailbox/get from a worker");
    assert!(boxes.iter().any(|m| m.role == Role::Inbox && m.unread_emails > 0));
}

async fn push_works_over(transport: Transport) {
    let client = common::client().await;
    let events = LocalQueue::new();
    let sink = events.clone();
    let options = PushOptions { transports: vec![transport], ping_secs: 2, ..PushOptions::default() };
    let _push = live::start(client.clone(), options, move |e| sink.push(e));
    common::next_event(&events, 10_000, "the connection", |e| *e == PushEvent::Connected(transport)).await;
    common::change_a_mailbox(&client, &format!("worker-{transport:?}-{}", (js_sys::Math::random() * 1e9) as u64)).await;
    common::next_event(&events, 15_000, "a StateChange", |e| matches!(e, PushEvent::StateChange(c) if c.touches("Mailbox"))).await;
}

#[wasm_bindgen_test]
async fn event_source_push_in_a_worker() {
    push_works_over(Transport::EventSource).await;
}

#[wasm_bindgen_test]
async fn websocket_push_in_a_worker() {
    push_works_over(Transport::WebSocket).await;
}

#[wasm_bindgen_test]
async fn blobs_round_trip_in_a_worker() {
    let client = common::client().await;
    let account = common::account(&client);
    let bytes = common::random_js_bytes(2 * 1024 * 1024 + 3);
    let digests = MemoryDigests::default();
    let uploaded = blob_io::upload(&client, &account, &common::blob_of(&bytes, "application/octet-stream"), "application/octet-stream", &digests, &|_| {})
        .await
        .expect("upload from a worker");
    let blob = blob_io::download(&client, &account, &uploaded.blob_id, "w.bin", "application/octet-stream", &digests, u64::MAX)
        .await
        .expect("verified download in a worker");
    assert_eq!(blob.size() as u32, bytes.length());
}
