//! The JMAP client against the real Cyrus server through the gateway, in headless Chromium:
//! limits, splitting, coalescing, result references and errors.

#![cfg(target_arch = "wasm32")]

use futures_util::future::join_all;
use petrel::jmap::set::SetResponse;
use petrel::jmap::{capability, JmapError, Request};
use serde_json::{json, Value};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;

mod common;

use common::{account, client};
use petrel::jmap::client::JmapClient;

wasm_bindgen_test_configure!(run_in_browser);

fn performance() -> web_sys::Performance {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"performance".into()).expect("performance").unchecked_into()
}

/// How many fetches went to `url` since the last `performance.clearResourceTimings()`.
fn fetches_to(url: &str) -> usize {
    let entries = performance().get_entries_by_type("resource");
    (0..entries.length())
        .filter_map(|i| entries.get(i).dyn_into::<web_sys::PerformanceEntry>().ok())
        .filter(|e| e.name() == url)
        .count()
}

#[wasm_bindgen_test]
async fn more_calls_than_the_server_allows_are_split_and_answered_in_order() {
    let client = client().await;
    let max = client.session().core.max_calls_in_request as usize;
    let mut request = Request::new();
    let calls: Vec<_> = (0..max + 7).map(|i| request.call("Core/echo", json!({ "n": i }))).collect();
    performance().clear_resource_timings();
    let mut response = client.send(&request).await.expect("split request succeeds");
    assert_eq!(fetches_to(client.session().api_url.as_str()), 2, "{} calls need two HTTP requests", max + 7);
    for (i, call) in calls.iter().enumerate() {
        assert_eq!(response.take(call).expect("each call answered")["n"], i);
    }
}

#[wasm_bindgen_test]
async fn identical_reads_in_flight_share_one_fetch() {
    let client = client().await;
    let account = account(&client);
    let mut mailboxes = Request::new().using(capability::MAIL);
    let call = mailboxes.call("Mailbox/get", json!({ "accountId": account, "properties": ["name"] }));
    let mut other = Request::new().using(capability::MAIL);
    other.call("Mailbox/get", json!({ "accountId": account, "properties": ["role"] }));
    performance().clear_resource_timings();
    let results =
        join_all([client.send(&mailboxes), client.send(&mailboxes), client.send(&mailboxes), client.send(&other)])
            .await;
    assert_eq!(fetches_to(client.session().api_url.as_str()), 2, "three identical reads, one other");
    for r in results {
        r.expect("shared answer").take_by_id(&call.id, &call.method).expect("Mailbox/get answered");
    }
    // Writes are never shared.
    let mut echo_write = Request::new().using(capability::MAIL);
    echo_write.call("Mailbox/set", json!({ "accountId": account }));
    performance().clear_resource_timings();
    let _ = join_all([client.send(&echo_write), client.send(&echo_write)]).await;
    assert_eq!(fetches_to(client.session().api_url.as_str()), 2);
}

#[wasm_bindgen_test]
async fn no_more_than_max_concurrent_requests_are_in_flight() {
    let client = client().await;
    let limit = client.session().core.max_concurrent_requests as usize;
    let account = account(&client);
    let requests: Vec<Request> = (0..limit + 4)
        .map(|i| {
            let mut r = Request::new().using(capability::MAIL);
            r.call("Email/query", json!({ "accountId": account, "limit": i + 1 }));
            r
        })
        .collect();
    let sends = join_all(requests.iter().map(|r| client.send(r)));
    // join! polls the sends first: by the time the watcher runs, every send has been polled once
    // and holds a permit or a place in the queue. (Waiting for a timer instead let WebKit's
    // loopback answers arrive first and empty the queue.)
    let watcher = async { client.requests_waiting() };
    let (results, waiting) = futures_util::join!(sends, watcher);
    assert_eq!(waiting, 4, "{} sends with a limit of {limit}", limit + 4);
    assert!(results.into_iter().all(|r| r.is_ok()));
    assert_eq!(client.requests_waiting(), 0);
}

#[wasm_bindgen_test]
async fn result_references_and_set_errors_against_the_server() {
    let client = client().await;
    let account = account(&client);
    let mut request = Request::new().using(capability::MAIL);
    let query = request.call("Email/query", json!({ "accountId": account, "filter": { "text": "Weißwurst" } }));
    let get = request
        .call("Email/get", json!({ "accountId": account, "#ids": query.result("/ids"), "properties": ["subject"] }));
    let set = request.call("Mailbox/set", json!({ "accountId": account, "create": { "bad": { "name": "" } } }));
    let mut response = client.send(&request).await.expect("request");
    let list = response.take(&get).expect("Email/get")["list"].clone();
    assert_eq!(list[0]["subject"], Value::from("Grüße aus München"));
    let set = SetResponse::parse(response.take(&set).expect("Mailbox/set")).expect("set response");
    assert!(set.not_created.contains_key("bad"), "an empty name must be refused: {set:?}");
}

#[wasm_bindgen_test]
async fn method_errors_are_typed() {
    let client = client().await;
    let mut request = Request::new().using(capability::MAIL);
    let call = request.call("Mailbox/get", json!({ "accountId": "no-such-account" }));
    let err = client.send(&request).await.expect("request").take(&call).unwrap_err();
    assert!(
        matches!(err, JmapError::Method { ref kind, .. } if kind == "accountNotFound" || kind == "forbidden" || kind == "invalidArguments"),
        "{err:?}"
    );
    let mut unknown = Request::new();
    unknown.call("Nothing/here", json!({}));
    let mut response = client.send(&unknown).await.expect("request");
    let err = response.take_by_id("c0", "Nothing/here").unwrap_err();
    assert!(matches!(err, JmapError::Method { ref kind, .. } if kind == "unknownMethod"), "{err:?}");
}

#[wasm_bindgen_test]
async fn a_split_set_carries_creation_ids_to_the_next_request() {
    use petrel::jmap::batch::Limits;
    use petrel::jmap::client::ClientOptions;
    let cap = Limits { max_calls: 1, max_objects_in_get: 500, max_objects_in_set: 1, max_size_request: 1 << 20 };
    let options = ClientOptions { limits_cap: Some(cap), ..ClientOptions::default() };
    let client =
        JmapClient::connect_with(common::gateway(), common::demo_credentials(), options).await.expect("sign in");
    let account = account(&client);
    let tag = (js_sys::Math::random() * 1e9) as u64;
    let mut request = Request::new().using(capability::MAIL);
    let set = request.call(
        "Mailbox/set",
        json!({ "accountId": account, "create": {
            "parent": { "name": format!("Split parent {tag}") },
            "child": { "name": "Split child", "parentId": "#parent" },
        }}),
    );
    performance().clear_resource_timings();
    let created = SetResponse::parse(client.send(&request).await.expect("split set").take(&set).expect("Mailbox/set"))
        .expect("set");
    assert_eq!(fetches_to(client.session().api_url.as_str()), 2, "one object per request");
    assert!(created.all_succeeded(), "{created:?}");
    let (parent, child) = (created.created_id("parent").expect("parent"), created.created_id("child").expect("child"));
    let mut check = Request::new().using(capability::MAIL);
    let get = check.call("Mailbox/get", json!({ "accountId": account, "ids": [child], "properties": ["parentId"] }));
    let args = client.send(&check).await.expect("get").take(&get).expect("Mailbox/get");
    assert_eq!(args["list"][0]["parentId"], parent, "the child found its parent through createdIds");
    let mut cleanup = Request::new().using(capability::MAIL);
    cleanup.call("Mailbox/set", json!({ "accountId": account, "destroy": [child] }));
    cleanup.call("Mailbox/set", json!({ "accountId": account, "destroy": [parent] }));
    client.send(&cleanup).await.expect("cleanup");
}

/// In wasm, URLs are the browser's (src/net/url.rs): what users type, what servers advertise and
/// what WebSocket URLs carry read as they do natively with the url crate (the same cases).
#[wasm_bindgen_test]
fn urls_read_in_the_browser_as_natively() {
    use petrel::auth::Credentials;
    use petrel::jmap::push::websocket::websocket_url;
    use petrel::jmap::session::session_url_for;
    use petrel::net::url::Url;

    for (input, want) in [
        ("mail.example.com", "https://mail.example.com/.well-known/jmap"),
        ("alice@example.com", "https://example.com/.well-known/jmap"),
        ("127.0.0.1:8080", "http://127.0.0.1:8080/.well-known/jmap"),
        ("  http://127.0.0.1:9/jmap/#x  ", "http://127.0.0.1:9/jmap/"),
    ] {
        assert_eq!(session_url_for(input).expect("a session URL").as_str(), want, "input {input:?}");
    }
    for input in ["", "ftp://example.com", "http://", "https://exa mple.com"] {
        assert!(matches!(session_url_for(input), Err(JmapError::NotJmap { .. })), "{input:?} is refused");
    }
    let mut u = Url::parse("https://mail.example.com:8443/jmap/session").expect("a URL");
    assert_eq!(
        (u.scheme(), u.host_name(), u.path()),
        ("https".into(), "mail.example.com".into(), "/jmap/session".into())
    );
    assert_eq!(u.origin(), "https://mail.example.com:8443");
    assert_eq!(u.join("up").expect("joined").as_str(), "https://mail.example.com:8443/jmap/up");
    u.set_scheme("wss").expect("wss");
    u.set_credentials("a@b", "p w");
    u.append_query_pair("access_token", "t&1");
    assert_eq!(u.as_str(), "wss://a%40b:p%20w@mail.example.com:8443/jmap/session?access_token=t%261");

    let http = Url::parse("http://127.0.0.1:8080/jmap").expect("a URL");
    let basic = Credentials::basic("demo@example.org", "p@ss:w/rd");
    assert_eq!(
        websocket_url(&http, "wss:/jmap/ws/", &basic).expect("a ws URL"),
        "ws://demo%40example.org:p%40ss%3Aw%2Frd@127.0.0.1:8080/jmap/ws/"
    );
    assert_eq!(
        websocket_url(&http, "wss://push.example.com/ws", &Credentials::bearer("t k")).expect("a ws URL"),
        "wss://push.example.com/ws?access_token=t+k"
    );
    assert!(websocket_url(&http, "wss://", &basic).is_err());
}
