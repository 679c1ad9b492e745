// The part of the suite that must also pass outside a window. Included (not a module) by
// tests/worker.rs and tests/service_worker.rs, which choose where it runs.

use petrel::jmap::blob::MemoryDigests;
use petrel::jmap::blob_io;
use petrel::jmap::push::live::Transport;
use petrel::mail::Role;
use wasm_bindgen_test::*;

fn global_has(name: &str) -> bool {
    js_sys::Reflect::has(&js_sys::global(), &name.into()).unwrap_or(false)
}

#[wasm_bindgen_test]
async fn no_window_here_and_the_jmap_core_still_works() {
    assert!(!global_has("document") && !global_has("window"), "this suite must run outside a window");
    let client = common::client().await;
    let boxes = petrel::jmap::mail::mailbox::fetch_all(&client).await.expect("Mailbox/get from a worker");
    assert!(boxes.iter().any(|m| m.role == Role::Inbox && m.unread_emails > 0));
}

#[wasm_bindgen_test]
async fn event_source_push_in_a_worker() {
    common::push_delivers_a_state_change_over(Transport::EventSource).await;
}

#[wasm_bindgen_test]
async fn websocket_push_in_a_worker() {
    common::push_delivers_a_state_change_over(Transport::WebSocket).await;
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

#[wasm_bindgen_test]
async fn the_mail_engine_and_its_indexeddb_cache_work_in_a_worker() {
    use petrel::cache::OfflineCache;
    use petrel::jmap::mail::JmapMail;
    use petrel::mail::engine::MailEngine;
    use petrel::mail::MailQuery;
    use std::rc::Rc;
    let client = common::client().await;
    let cache = Rc::new(OfflineCache::open(&common::unique("petrel-worker")).await.expect("IndexedDB in a worker"));
    let engine = MailEngine::open("worker-account", Some(cache.clone())).await;
    engine.attach(Rc::new(JmapMail::new(client).expect("mail")));
    engine.sync().await.expect("sync from a worker");
    let inbox = engine.read(|s| s.mailbox_with_role(Role::Inbox).map(|m| m.id.clone())).expect("inbox");
    let query = MailQuery::mailbox(&inbox);
    engine.show(&query, 0, 20).await.expect("inbox window");
    drop(engine);
    let again = MailEngine::open("worker-account", Some(cache)).await;
    assert!(again.read(|s| s.has_rows(&query, 0, 5)), "the worker's cache brings the inbox back");
}

#[wasm_bindgen_test]
async fn the_outbox_dispatches_from_a_worker_exactly_once() {
    use petrel::cache::OfflineCache;
    use petrel::jmap::mail::JmapMail;
    use petrel::mail::backend::SendMailboxes;
    use petrel::mail::engine::MailEngine;
    use petrel::mail::{Address, Draft};
    use petrel::outbox::dispatcher::{Outbox, Sender};
    use petrel::outbox::{JobState, Policy, Priority};
    use std::rc::Rc;
    let client = common::client().await;
    let backend = JmapMail::new(client).expect("mail");
    let engine = MailEngine::open("worker-outbox", None).await;
    engine.attach(Rc::new(backend.clone()));
    engine.sync().await.expect("sync");
    let drafts = engine.read(|s| s.mailbox_with_role(Role::Drafts).map(|m| m.id.clone())).expect("Drafts");
    let sent = engine.read(|s| s.mailbox_with_role(Role::Sent).map(|m| m.id.clone()));
    // The Web Lock and the BroadcastChannel exist here too: the worker is one more "tab".
    let cache = Rc::new(OfflineCache::open(&common::unique("petrel-worker-outbox")).await.expect("IndexedDB"));
    let outbox = Outbox::open(Some(cache), Policy::default()).await;
    outbox.set_sender("demo", Sender { backend: Rc::new(backend), mailboxes: SendMailboxes { drafts, sent } });
    let subject = common::unique("from-a-worker");
    let draft = Draft { to: vec![Address { name: None, email: "friend@example.net".into() }], subject: subject.clone(), text_body: "sent by a worker\n".into(), ..Draft::default() };
    let id = outbox.enqueue("demo", draft, Priority::Normal, None, 0).await.expect("queued");
    outbox.run_until_idle().await;
    assert_eq!(outbox.state_of(&id), Some(JobState::Sent), "{:?}", outbox.job(&id).and_then(|j| j.last_error));
    let list = common::sink_once_arrived(&subject, 1).await;
    assert_eq!(list.iter().filter(|m| m["subject"].as_str() == Some(subject.as_str())).count(), 1, "delivered exactly once");
}
