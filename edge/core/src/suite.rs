//! The edge suite: each check drives the real core against the rig's real servers and answers
//! what it showed, or what went wrong. No check panics (a panic in wasm ends the instance): every
//! failure is an `Err` with a message.

use std::rc::Rc;

use futures_util::future::{select, Either, FutureExt, LocalBoxFuture};
use petrel::cache::{CacheError, OfflineCache};
use petrel::jmap::blob::{DigestStore, MemoryDigests, Sha256Digest};
use petrel::jmap::blob_io;
use petrel::jmap::client::JmapClient;
use petrel::jmap::mail::JmapMail;
use petrel::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use petrel::jmap::{capability, JmapError, Request};
use petrel::mail::backend::SendMailboxes;
use petrel::mail::{Address, Draft, Role};
use petrel::net::queue::LocalQueue;
use petrel::net::runtime::{self, Feature};
use petrel::net::{now_ms, sleep};
use petrel::outbox::dispatcher::{Outbox, Sender};
use petrel::outbox::store::{HostStorage, JobStore};
use petrel::outbox::{JobState, Policy, Priority};
use serde_json::json;
use wasm_bindgen::{JsCast, JsValue};

use crate::rig::{unique, Rig};

type Outcome = Result<String, String>;
type Check = fn(Rig, JsValue) -> LocalBoxFuture<'static, Outcome>;

pub const CHECKS: [(&str, Check); 9] = [
    ("runtime gaps are typed errors", |_, _| runtime_gaps().boxed_local()),
    ("session", |rig, _| session(rig).boxed_local()),
    ("calls and batching", |rig, _| calls_and_batching(rig).boxed_local()),
    ("blob round trip through the streaming SHA-256", |rig, _| blob_round_trip(rig).boxed_local()),
    ("a blob that is not what was recorded is refused", |rig, _| blob_mismatch(rig).boxed_local()),
    ("push over EventSource through fetch", |rig, _| push(rig, Transport::EventSource).boxed_local()),
    ("push over WebSocket", |rig, _| push(rig, Transport::WebSocket).boxed_local()),
    ("outbox sends exactly once from the host's storage", |rig, storage| outbox_sends(rig, storage).boxed_local()),
    ("an outbox job is found by the next instance over the storage", |rig, storage| {
        outbox_restart(rig, storage).boxed_local()
    }),
];

fn account(client: &JmapClient) -> Result<String, String> {
    client.session().primary_account(capability::MAIL).map(str::to_owned).map_err(|e| e.to_string())
}

fn failed(what: &str) -> impl Fn(JmapError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// What an edge runtime lacks is said by name, with what follows; the browser-only parts of the
/// core (IndexedDB) refuse with their typed error instead of a TypeError.
async fn runtime_gaps() -> Outcome {
    let missing: Vec<Feature> = Feature::ALL.into_iter().filter(|f| !runtime::has(*f)).collect();
    for needed in [Feature::Fetch, Feature::Streams, Feature::Timers] {
        runtime::require(needed).map_err(|e| format!("the core cannot run here: {e}"))?;
    }
    if runtime::has(Feature::IndexedDb) {
        return Err("this runtime has IndexedDB: not the edge runtime the suite is for".into());
    }
    match OfflineCache::open(&unique("petrel-edge")).await {
        Err(CacheError::Unavailable) => {}
        Err(other) => return Err(format!("the offline cache failed otherwise than unavailable: {other}")),
        Ok(_) => return Err("the offline cache opened without IndexedDB".into()),
    }
    let said = runtime::require(Feature::IndexedDb).err().map(|e| e.to_string()).unwrap_or_default();
    Ok(format!("missing here: {missing:?}; said as: {said}"))
}

async fn session(rig: Rig) -> Outcome {
    let client = rig.client().await?;
    let session = client.session();
    let account = account(&client)?;
    if !session.has_capability(capability::MAIL) || !session.has_capability(capability::SUBMISSION) {
        return Err(format!("the session lacks mail or submission: {:?}", session.capabilities.keys()));
    }
    Ok(format!(
        "{} as {} (account {account}, {} capabilities)",
        session.api_url,
        session.username,
        session.capabilities.len()
    ))
}

/// A request of linked calls (result references), and one larger than the server takes in one
/// HTTP request, which the client splits and merges back.
async fn calls_and_batching(rig: Rig) -> Outcome {
    let client = rig.client().await?;
    let account = account(&client)?;
    let mut linked = Request::new().using(capability::MAIL);
    let query = linked.call("Mailbox/query", json!({ "accountId": account }));
    let get = linked.call(
        "Mailbox/get",
        json!({ "accountId": account, "#ids": query.result("/ids"), "properties": ["name", "role"] }),
    );
    let mut answer = client.send(&linked).await.map_err(failed("Mailbox/query + Mailbox/get"))?;
    let ids = answer.take(&query).map_err(failed("Mailbox/query"))?["ids"].as_array().map(Vec::len).unwrap_or(0);
    let got = answer.take(&get).map_err(failed("Mailbox/get"))?["list"].as_array().map(Vec::len).unwrap_or(0);
    if ids == 0 || ids != got {
        return Err(format!("the back-reference did not carry: {ids} ids, {got} emails"));
    }
    let max_calls = client.session().core.max_calls_in_request as usize;
    let many = max_calls + 3;
    let mut big = Request::new();
    let echoes: Vec<_> = (0..many).map(|i| big.call("Core/echo", json!({ "n": i }))).collect();
    let mut answer = client.send(&big).await.map_err(failed("many Core/echo"))?;
    for (i, call) in echoes.iter().enumerate() {
        let echoed = answer.take(call).map_err(failed("Core/echo"))?;
        if echoed["n"] != json!(i) {
            return Err(format!("call {i} came back as {echoed}"));
        }
    }
    Ok(format!("{ids} folder ids fed Mailbox/get in one request; {many} calls split under maxCallsInRequest {max_calls} and merged"))
}

fn random_bytes(len: u32) -> Result<js_sys::Uint8Array, String> {
    let bytes = js_sys::Uint8Array::new_with_length(len);
    let crypto: web_sys::Crypto =
        js_sys::Reflect::get(&js_sys::global(), &"crypto".into()).map_err(|_| "no crypto".to_owned())?.unchecked_into();
    let mut offset = 0;
    while offset < len {
        let end = (offset + 65_536).min(len);
        crypto.get_random_values_with_array_buffer_view(&bytes.subarray(offset, end)).map_err(|_| "random bytes")?;
        offset = end;
    }
    Ok(bytes)
}

fn blob_of(bytes: &js_sys::Uint8Array) -> Result<web_sys::Blob, String> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    web_sys::Blob::new_with_u8_array_sequence_and_options(&js_sys::Array::of1(bytes), &options)
        .map_err(|_| "this runtime has no Blob".to_owned())
}

async fn upload(client: &JmapClient, account: &str, len: u32, digests: &dyn DigestStore) -> Result<String, String> {
    let bytes = random_bytes(len)?;
    let blob = blob_of(&bytes)?;
    let uploaded = blob_io::upload(client, account, &blob, "application/octet-stream", digests, &|_| {})
        .await
        .map_err(failed("upload"))?;
    Ok(uploaded.blob_id)
}

async fn blob_round_trip(rig: Rig) -> Outcome {
    let client = rig.client().await?;
    let account = account(&client)?;
    let len = 3 * 1024 * 1024 + 7;
    let digests = MemoryDigests::default();
    let blob_id = upload(&client, &account, len, &digests).await?;
    let blob = blob_io::download(&client, &account, &blob_id, "e.bin", "application/octet-stream", &digests, u64::MAX)
        .await
        .map_err(failed("verified download"))?;
    if blob.size() as u32 != len {
        return Err(format!("{} bytes came back of {len}", blob.size()));
    }
    Ok(format!("{len} bytes up and down, checked against the SHA-256 recorded at upload"))
}

/// The check is real: bytes that do not match what was recorded at upload are refused.
async fn blob_mismatch(rig: Rig) -> Outcome {
    let client = rig.client().await?;
    let account = account(&client)?;
    let digests = MemoryDigests::default();
    let blob_id = upload(&client, &account, 70_000, &digests).await?;
    let other = MemoryDigests::default();
    other.put(&account, &blob_id, Sha256Digest::of(b"other bytes"));
    match blob_io::download(&client, &account, &blob_id, "e.bin", "application/octet-stream", &other, u64::MAX).await {
        Err(JmapError::BlobDigestMismatch { .. }) => Ok("refused with BlobDigestMismatch".into()),
        Err(other) => Err(format!("refused, but not for the digest: {other}")),
        Ok(_) => Err("bytes that do not match the recorded SHA-256 were handed out".into()),
    }
}

/// The next push event `want` accepts, within `ms`.
async fn next_event(
    events: &LocalQueue<PushEvent>,
    ms: u32,
    want: impl Fn(&PushEvent) -> bool,
) -> Result<PushEvent, String> {
    let deadline = now_ms() + ms as f64;
    let mut instead = Vec::new();
    loop {
        let left = deadline - now_ms();
        if left <= 0.0 {
            return Err(format!("timed out; instead: {instead:?}"));
        }
        match select(events.next().boxed_local(), sleep(left as u32).boxed_local()).await {
            Either::Left((Some(event), _)) if want(&event) => return Ok(event),
            Either::Left((Some(other), _)) => instead.push(format!("{other:?}")),
            Either::Left((None, _)) => return Err(format!("push ended; instead: {instead:?}")),
            Either::Right(_) => return Err(format!("timed out; instead: {instead:?}")),
        }
    }
}

async fn push(rig: Rig, transport: Transport) -> Outcome {
    let client = rig.client().await?;
    let account = account(&client)?;
    let events = LocalQueue::new();
    let sink = events.clone();
    let options =
        PushOptions { transports: vec![transport], ping_secs: 2, poll_interval_ms: 300, ..PushOptions::default() };
    let _push = live::start(client.clone(), options, move |e| sink.push(e));
    next_event(&events, 10_000, |e| *e == PushEvent::Connected(transport))
        .await
        .map_err(|e| format!("connecting over {transport:?}: {e}"))?;
    let started = now_ms();
    let mut create = Request::new().using(capability::MAIL);
    let call =
        create.call("Mailbox/set", json!({ "accountId": account, "create": { "k": { "name": unique("edge-push") } } }));
    let mut answer = client.send(&create).await.map_err(failed("Mailbox/set"))?;
    let id = answer.take(&call).map_err(failed("Mailbox/set"))?["created"]["k"]["id"].as_str().map(str::to_owned);
    let change = next_event(&events, 15_000, |e| matches!(e, PushEvent::StateChange(c) if c.touches("Mailbox"))).await;
    if let Some(id) = id {
        let mut destroy = Request::new().using(capability::MAIL);
        destroy.call("Mailbox/set", json!({ "accountId": account, "destroy": [id] }));
        let _ = client.send(&destroy).await;
    }
    change.map_err(|e| format!("awaiting the Mailbox change over {transport:?}: {e}"))?;
    Ok(format!("connected, and a Mailbox change arrived {:.0} ms after it was made", now_ms() - started))
}

async fn sender(client: &JmapClient) -> Result<Sender, String> {
    let boxes = petrel::jmap::mail::mailbox::fetch_all(client).await.map_err(failed("Mailbox/get"))?;
    let role = |r: Role| boxes.iter().find(|m| m.role == r).map(|m| m.id.clone());
    let drafts = role(Role::Drafts).ok_or("the account has no Drafts folder")?;
    let backend = JmapMail::new(client.clone()).map_err(failed("the mail account"))?;
    Ok(Sender { backend: Rc::new(backend), mailboxes: SendMailboxes { drafts, sent: role(Role::Sent) } })
}

fn draft(rig: &Rig, subject: &str) -> Draft {
    Draft {
        from: vec![Address { name: None, email: rig.user.clone() }],
        to: vec![Address { name: None, email: "friend@example.net".into() }],
        subject: subject.into(),
        text_body: "sent from an edge runtime\n".into(),
        ..Draft::default()
    }
}

fn store(storage: &JsValue) -> Result<Rc<dyn JobStore>, String> {
    Ok(Rc::new(HostStorage::new(storage.clone()).map_err(|e| e.to_string())?))
}

async fn outbox_sends(rig: Rig, storage: JsValue) -> Outcome {
    let client = rig.client().await?;
    let outbox = Outbox::open_on(Some(store(&storage)?), Policy::default()).await;
    outbox.set_sender("edge", sender(&client).await?);
    let subject = unique("edge-outbox");
    let id =
        outbox.enqueue("edge", draft(&rig, &subject), Priority::Normal, None, 0).await.map_err(|e| e.to_string())?;
    outbox.run_until_idle().await;
    let job = outbox.job(&id).ok_or("the job is gone")?;
    if job.state != JobState::Sent {
        return Err(format!("the job is {:?}: {:?}", job.state, job.last_error));
    }
    let arrived = rig.arrived(&subject, 1, 20_000).await?;
    // A second copy, were the job sent twice, would arrive in the next moments: wait for one.
    let arrived_later = rig.arrived(&subject, 2, 2_000).await?;
    if arrived != 1 || arrived_later != 1 {
        return Err(format!("{arrived_later} copies arrived at the sink"));
    }
    let reopened = Outbox::open_on(Some(store(&storage)?), Policy::default()).await;
    match reopened.state_of(&id) {
        Some(JobState::Sent) => Ok(format!("sent once in {} attempt(s); the storage says Sent", job.attempts)),
        other => Err(format!("the storage holds the job as {other:?}")),
    }
}

/// A job queued by one outbox (no server set yet, as when an isolate is evicted before sending) is
/// read back from the storage, not from memory, and sent by the next outbox over it. (In workerd
/// the suite's Durable Object storage is in memory for the process; in Deno it is files.)
async fn outbox_restart(rig: Rig, storage: JsValue) -> Outcome {
    let subject = unique("edge-restart");
    let id = {
        let first = Outbox::open_on(Some(store(&storage)?), Policy::default()).await;
        first.enqueue("edge", draft(&rig, &subject), Priority::High, None, 0).await.map_err(|e| e.to_string())?
    };
    let client = rig.client().await?;
    let second = Outbox::open_on(Some(store(&storage)?), Policy::default()).await;
    match second.state_of(&id) {
        Some(JobState::Queued) => {}
        other => return Err(format!("the next instance found the job as {other:?}")),
    }
    second.set_sender("edge", sender(&client).await?);
    second.run_until_idle().await;
    rig.arrived(&subject, 1, 20_000).await?;
    let arrived = rig.arrived(&subject, 2, 2_000).await?;
    match (second.state_of(&id), arrived) {
        (Some(JobState::Sent), 1) => Ok("queued by one instance, sent once by the next".into()),
        (state, n) => Err(format!("the job is {state:?}, {n} copies arrived")),
    }
}
