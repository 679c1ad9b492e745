//! Push against the real Cyrus (built with WebSocket and EventSource) through the gateway.

#![cfg(target_arch = "wasm32")]

use futures_util::future::{select, Either, FutureExt};
use petrel::jmap::push::live::{self, JmapWebSocket, PushEvent, PushOptions, Transport};
use petrel::jmap::{capability, Request};
use petrel::net::queue::LocalQueue;
use serde_json::json;
use wasm_bindgen_test::*;

mod common;

use common::{client, next_event, push_delivers_a_state_change_over};

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
async fn event_source_push_delivers_state_changes() {
    push_delivers_a_state_change_over(Transport::EventSource).await;
}

#[wasm_bindgen_test]
async fn websocket_push_delivers_state_changes() {
    push_delivers_a_state_change_over(Transport::WebSocket).await;
}

#[wasm_bindgen_test]
async fn polling_notices_state_changes() {
    push_delivers_a_state_change_over(Transport::Polling).await;
}

#[wasm_bindgen_test]
async fn the_best_transport_is_chosen_and_a_broken_one_gives_way() {
    let client = client().await;
    let events = LocalQueue::new();
    let sink = events.clone();
    let _push = live::start(client.clone(), PushOptions::default(), move |e| sink.push(e));
    next_event(&events, 10_000, "WebSocket first", |e| *e == PushEvent::Connected(Transport::WebSocket)).await;

    // A WebSocket that cannot connect: after two failed attempts push moves on to EventSource.
    let events = LocalQueue::new();
    let sink = events.clone();
    let options = PushOptions {
        websocket_url: Some("ws://127.0.0.1:9/jmap/ws/".into()),
        backoff: petrel::net::backoff::Backoff::new(50, 200),
        ..PushOptions::default()
    };
    let _fallback = live::start(client, options, move |e| sink.push(e));
    let failures = next_event(&events, 15_000, "a WebSocket failure", |e| {
        matches!(e, PushEvent::Disconnected { transport: Transport::WebSocket, .. })
    })
    .await;
    let PushEvent::Disconnected { retry_in_ms, .. } = failures else { unreachable!() };
    assert!(retry_in_ms <= 200, "backoff stays under its cap: {retry_in_ms}");
    next_event(&events, 15_000, "EventSource after the WebSocket failed", |e| {
        *e == PushEvent::Connected(Transport::EventSource)
    })
    .await;
}

#[wasm_bindgen_test]
async fn websocket_requests_are_answered_by_id() {
    let client = client().await;
    let ws = JmapWebSocket::connect(&client, None, 1 << 20).await.expect("WebSocket opens");
    let account = client.session().primary_account(capability::MAIL).expect("account").to_owned();
    let mut first = Request::new().using(capability::MAIL);
    let get = first.call("Mailbox/get", json!({ "accountId": account, "properties": ["name"] }));
    let mut second = Request::new();
    let echo = second.call("Core/echo", json!({ "hello": "websocket" }));
    let (a, b) = (ws.call(&first).expect("send"), ws.call(&second).expect("send"));
    let reader = ws.run(&|_| {}).boxed_local();
    let answers = async {
        let mut echo_answer = b.next().await.expect("echo answered").expect("echo ok");
        let mut get_answer = a.next().await.expect("get answered").expect("get ok");
        (echo_answer.take(&echo).expect("echo"), get_answer.take(&get).expect("Mailbox/get"))
    }
    .boxed_local();
    let (echo_args, get_args) = match select(answers, reader).await {
        Either::Left((answers, _)) => answers,
        Either::Right((reason, _)) => panic!("the WebSocket ended: {reason}"),
    };
    assert_eq!(echo_args, json!({ "hello": "websocket" }));
    assert!(get_args["list"].as_array().is_some_and(|l| l.len() >= 6));
}
