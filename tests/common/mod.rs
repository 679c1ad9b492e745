//! Helpers shared by the browser and worker test binaries.
#![allow(dead_code)] // each test binary uses a different subset

use futures_util::future::{select, Either, FutureExt};
use petrel::auth::Credentials;
use petrel::jmap::client::JmapClient;
use petrel::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use petrel::jmap::{capability, Request};
use petrel::net::queue::LocalQueue;
use petrel::net::{now_ms, sleep};
use serde_json::json;
use std::rc::Rc;

use petrel::cache::OfflineCache;
use petrel::jmap::mail::JmapMail;
use petrel::mail::engine::MailEngine;
use petrel::mail::{Address, Draft};

/// A setting scripts/test passes at build time (the rig's addresses and tokens): a build without
/// it says what to run instead.
#[macro_export]
macro_rules! rig_setting {
    ($name:literal) => {
        match option_env!($name) {
            Some(value) => value,
            None => panic!(concat!($name, " must be set at build time (run scripts/test)")),
        }
    };
}

/// The gateway in front of the real Cyrus, set by scripts/test at build time.
pub fn gateway() -> &'static str {
    crate::rig_setting!("PETREL_TEST_GATEWAY")
}

pub fn demo_credentials() -> Credentials {
    Credentials::basic(
        option_env!("PETREL_TEST_USER").unwrap_or("demo@example.org"),
        option_env!("PETREL_TEST_PASSWORD").unwrap_or("demo-password"),
    )
}

pub async fn client() -> JmapClient {
    JmapClient::connect(gateway(), demo_credentials()).await.expect("sign in to the demo account")
}

pub fn account(client: &JmapClient) -> String {
    client.session().primary_account(capability::MAIL).expect("a mail account").to_owned()
}

/// The next event matching `want`, failing after `ms` milliseconds.
pub async fn next_event<T: std::fmt::Debug>(
    events: &LocalQueue<T>,
    ms: u32,
    what: &str,
    want: impl Fn(&T) -> bool,
) -> T {
    let start = now_ms();
    let deadline = start + ms as f64;
    // What went by instead, with when: the failure message says what did happen.
    let mut skipped = Vec::new();
    loop {
        let left = deadline - now_ms();
        assert!(left > 0.0, "timed out waiting for {what}; instead: {skipped:?}");
        match select(events.next().boxed_local(), sleep(left as u32).boxed_local()).await {
            Either::Left((Some(event), _)) if want(&event) => return event,
            Either::Left((Some(other), _)) => skipped.push(format!("{:.0} ms: {other:?}", now_ms() - start)),
            Either::Left((None, _)) => panic!("push events ended while waiting for {what}; instead: {skipped:?}"),
            Either::Right(_) => panic!("timed out waiting for {what}; instead: {skipped:?}"),
        }
    }
}

/// Makes a Mailbox change on the server: creates a folder and destroys it again.
pub async fn change_a_mailbox(client: &JmapClient, name: &str) {
    let account = account(client);
    let mut create = Request::new().using(capability::MAIL);
    let call = create.call("Mailbox/set", json!({ "accountId": account, "create": { "k": { "name": name } } }));
    let mut response = client.send(&create).await.expect("Mailbox/set");
    let id = response.take(&call).expect("created")["created"]["k"]["id"].as_str().expect("new id").to_owned();
    let mut destroy = Request::new().using(capability::MAIL);
    destroy.call("Mailbox/set", json!({ "accountId": account, "destroy": [id] }));
    client.send(&destroy).await.expect("Mailbox/set destroy");
}

/// `len` random bytes, made and kept in JS memory.
pub fn random_js_bytes(len: u32) -> js_sys::Uint8Array {
    use wasm_bindgen::JsCast;
    let bytes = js_sys::Uint8Array::new_with_length(len);
    let crypto: web_sys::Crypto =
        js_sys::Reflect::get(&js_sys::global(), &"crypto".into()).expect("crypto").unchecked_into();
    let mut offset = 0;
    while offset < len {
        let end = (offset + 65_536).min(len);
        crypto.get_random_values_with_array_buffer_view(&bytes.subarray(offset, end)).expect("random bytes");
        offset = end;
    }
    bytes
}

pub fn blob_of(bytes: &js_sys::Uint8Array, content_type: &str) -> web_sys::Blob {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(bytes), &options).expect("blob")
}

/// Starts push on `transport` alone, makes a Mailbox change and awaits its StateChange.
pub async fn push_delivers_a_state_change_over(transport: Transport) {
    let client = client().await;
    let events = LocalQueue::new();
    let sink = events.clone();
    let options =
        PushOptions { transports: vec![transport], ping_secs: 2, poll_interval_ms: 300, ..PushOptions::default() };
    let _push = live::start(client.clone(), options, move |e| sink.push(e));
    next_event(&events, 10_000, "the connection", |e| *e == PushEvent::Connected(transport)).await;
    change_a_mailbox(&client, &format!("push-{transport:?}-{}", (js_sys::Math::random() * 1e9) as u64)).await;
    let change = next_event(
        &events,
        15_000,
        "a Mailbox StateChange",
        |e| matches!(e, PushEvent::StateChange(c) if c.touches("Mailbox")),
    )
    .await;
    let PushEvent::StateChange(change) = change else { unreachable!() };
    assert!(change.changed.contains_key(&account(&client)), "{change:?}");
}

/// A second account on the same server, for tests that change mail (the demo account stays as seeded).
pub fn other_credentials() -> Credentials {
    Credentials::basic(
        option_env!("PETREL_TEST_OTHER_USER").unwrap_or("bob@example.org"),
        option_env!("PETREL_TEST_OTHER_PASSWORD").unwrap_or("bob-password"),
    )
}

/// The account whose Bulk folder holds thousands of generated messages.
pub fn bulk_credentials() -> Credentials {
    Credentials::basic(
        option_env!("PETREL_TEST_BULK_USER").unwrap_or("bulk@example.org"),
        option_env!("PETREL_TEST_BULK_PASSWORD").unwrap_or("bulk-password"),
    )
}

pub async fn client_for(server: &str, credentials: Credentials) -> JmapClient {
    JmapClient::connect(server, credentials).await.expect("sign in")
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", (js_sys::Math::random() * 1e12) as u64)
}

/// Creates a folder holding `subjects.len()` messages (newest last) and returns its id and the
/// message ids in the order given.
pub async fn folder_with_messages(client: &JmapClient, name: &str, subjects: &[&str]) -> (String, Vec<String>) {
    let account = account(client);
    let mut create = Request::new().using(capability::MAIL);
    let call = create.call("Mailbox/set", json!({ "accountId": account, "create": { "f": { "name": name } } }));
    let mut response = client.send(&create).await.expect("Mailbox/set");
    let folder = response.take(&call).expect("created")["created"]["f"]["id"].as_str().expect("folder id").to_owned();
    let mut ids = Vec::new();
    for (i, subject) in subjects.iter().enumerate() {
        ids.push(add_message(client, &folder, subject, &format!("2026-11-{:02}T10:00:00Z", 1 + i)).await);
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    await_sorted(client, &folder, &newest_first).await;
    (folder, ids)
}

/// Waits (up to 10 s) until the server lists `folder` newest first as `expected`. Stalwart sorts
/// from an index it updates a moment after a write; until then a query lists new mail unsorted.
pub async fn await_sorted(client: &JmapClient, folder: &str, expected: &[String]) {
    let account = account(client);
    let deadline = now_ms() + 10_000.0;
    loop {
        let mut request = Request::new().using(capability::MAIL);
        let call = request.call(
            "Email/query",
            json!({ "accountId": account, "filter": { "inMailbox": folder },
            "sort": [{ "property": "receivedAt", "isAscending": false }] }),
        );
        let got = client.send(&request).await.expect("Email/query").take(&call).expect("answered")["ids"].clone();
        let got: Vec<String> = serde_json::from_value(got).unwrap_or_default();
        if got == expected {
            return;
        }
        assert!(now_ms() < deadline, "the server never listed {folder} as {expected:?}; it lists {got:?}");
        sleep(100).await;
    }
}

/// Creates one unread message in `folder`, received at `received_at`.
pub async fn add_message(client: &JmapClient, folder: &str, subject: &str, received_at: &str) -> String {
    let account = account(client);
    let mut request = Request::new().using(capability::MAIL);
    let call = request.call(
        "Email/set",
        json!({ "accountId": account, "create": { "m": {
        "mailboxIds": { folder: true },
        "from": [{ "name": "Tester", "email": "tester@example.com" }],
        "to": [{ "email": "bob@example.org" }],
        "subject": subject,
        "receivedAt": received_at,
        "bodyValues": { "b": { "value": format!("Body of {subject}.") } },
        "textBody": [{ "partId": "b", "type": "text/plain" }],
    } } }),
    );
    let mut response = client.send(&request).await.expect("Email/set");
    let created = response.take(&call).expect("Email/set answered");
    created["created"]["m"]["id"].as_str().unwrap_or_else(|| panic!("message created: {created}")).to_owned()
}

/// Runs one `Email/set` update patch on `id` from `client` (another session than the engine's).
pub async fn patch_message(client: &JmapClient, id: &str, patch: serde_json::Value) {
    let mut request = Request::new().using(capability::MAIL);
    let call = request.call("Email/set", json!({ "accountId": account(client), "update": { id: patch } }));
    let mut response = client.send(&request).await.expect("Email/set");
    let set = response.take(&call).expect("answered");
    assert!(set["notUpdated"].is_null() || set["notUpdated"].as_object().is_some_and(|m| m.is_empty()), "{set}");
}

/// A plain message from Bob to a friend (the outbox tests and benchmarks send these).
pub fn draft(subject: &str) -> Draft {
    Draft {
        from: vec![Address { name: Some("Bob".into()), email: "bob@example.org".into() }],
        to: vec![Address { name: None, email: "friend@example.net".into() }],
        subject: subject.into(),
        text_body: format!("{subject}\n"),
        ..Draft::default()
    }
}

/// The offline cache's name for `client`'s account.
pub fn account_key(client: &JmapClient) -> String {
    JmapMail::new(client.clone()).expect("mail account").cache_key()
}

/// An engine for `client`'s account, from `cache`, attached and synced.
pub async fn synced_engine(client: &JmapClient, cache: Option<Rc<OfflineCache>>) -> MailEngine {
    let engine =
        MailEngine::open(&account_key(client), cache.map(|c| c as Rc<dyn petrel::mail::local_copy::LocalCopy>)).await;
    engine.attach(Rc::new(JmapMail::new(client.clone()).expect("mail account")));
    engine.sync().await.expect("first sync");
    engine
}

/// The wasm linear memory's size in bytes (it only grows: after a step, its peak).
pub fn wasm_memory_bytes() -> f64 {
    use wasm_bindgen::JsCast;
    let memory: js_sys::WebAssembly::Memory = wasm_bindgen::memory().unchecked_into();
    memory.buffer().unchecked_into::<js_sys::ArrayBuffer>().byte_length() as f64
}

/// One figure for tests/bench/bench.py (scripts/bench), which reads these lines into its table.
pub fn bench_line(group: &str, name: &str, unit: &str, samples: &[f64]) {
    wasm_bindgen_test::console_log!(
        "BENCH {}",
        json!({ "group": group, "name": name, "unit": unit, "samples": samples })
    );
}

/// What the SMTP sink received, newest last, as JSON objects.
pub async fn sink_listing() -> Vec<serde_json::Value> {
    let url = crate::rig_setting!("PETREL_TEST_SINK");
    let response =
        petrel::net::fetch(petrel::net::HttpRequest::get(format!("{url}/messages"))).await.expect("sink listing");
    serde_json::from_slice(&response.body).expect("the sink lists JSON")
}

/// The mails at the sink whose subject contains `token`, once `count` of them are there (or 20 s
/// have passed). Cyrus relays while it answers EmailSubmission/set; Stalwart queues the mail and
/// relays it a moment later, so arrival is awaited, never assumed.
pub async fn sink_once_arrived(token: &str, count: usize) -> Vec<serde_json::Value> {
    let deadline = now_ms() + 20_000.0;
    loop {
        let got: Vec<serde_json::Value> = sink_listing()
            .await
            .into_iter()
            .filter(|m| m["subject"].as_str().is_some_and(|s| s.contains(token)))
            .collect();
        if got.len() >= count || now_ms() > deadline {
            return got;
        }
        sleep(100).await;
    }
}
