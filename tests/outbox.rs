//! The outbox against the real Cyrus and the SMTP sink, in headless Chromium. Every test counts
//! what the sink received: each mail exactly once.

#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use petrel::cache::{kind, OfflineCache, Op, OUTBOX};
use petrel::jmap::client::JmapClient;
use petrel::jmap::mail::JmapMail;
use petrel::mail::backend::{MailBackend, SendMailboxes};
use petrel::mail::engine::MailEngine;
use petrel::mail::{Address, Draft, Role};
use petrel::net::{fetch, HttpRequest};
use petrel::outbox::dispatcher::{Outbox, Sender};
use petrel::outbox::{Job, JobState, Policy, Priority};
use serde_json::Value;
use wasm_bindgen_test::*;

mod common;

use common::{client_for, gateway, other_credentials, unique};

wasm_bindgen_test_configure!(run_in_browser);

/// What the SMTP sink holds: (subject, Message-ID), in arrival order.
async fn sink() -> Vec<(String, String)> {
    let url = option_env!("PETREL_TEST_SINK").expect("PETREL_TEST_SINK (run scripts/test)");
    let response = fetch(HttpRequest::get(format!("{url}/messages"))).await.expect("sink listing");
    let list: Vec<Value> = serde_json::from_slice(&response.body).expect("JSON");
    list.iter().map(|m| (m["subject"].as_str().unwrap_or("").to_owned(), m["message_id"].as_str().unwrap_or("").to_owned())).collect()
}

async fn sink_subjects_with(token: &str) -> Vec<String> {
    sink().await.into_iter().filter(|(s, _)| s.contains(token)).map(|(s, _)| s).collect()
}

fn draft(subject: &str) -> Draft {
    Draft {
        from: vec![Address { name: Some("Bob".into()), email: "bob@example.org".into() }],
        to: vec![Address { name: None, email: "friend@example.net".into() }],
        subject: subject.into(),
        text_body: format!("{subject}\n"),
        ..Draft::default()
    }
}

async fn sender(client: &JmapClient) -> Sender {
    let backend = JmapMail::new(client.clone()).expect("mail");
    let engine = MailEngine::open("outbox-test", None).await;
    engine.attach(Rc::new(backend.clone()));
    engine.sync().await.expect("sync");
    let drafts = engine.read(|s| s.mailbox_with_role(Role::Drafts).map(|m| m.id.clone())).expect("Drafts");
    let sent = engine.read(|s| s.mailbox_with_role(Role::Sent).map(|m| m.id.clone()));
    Sender { backend: Rc::new(backend), mailboxes: SendMailboxes { drafts, sent } }
}

async fn cache() -> Rc<OfflineCache> {
    Rc::new(OfflineCache::open(&unique("petrel-outbox")).await.expect("IndexedDB"))
}

#[wasm_bindgen_test]
async fn jobs_queued_while_paused_go_out_by_priority_then_fifo_exactly_once() {
    let client = client_for(gateway(), other_credentials()).await;
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    let token = unique("prio");
    let order = [("low-1", Priority::Low), ("normal-1", Priority::Normal), ("critical-1", Priority::Critical), ("high-1", Priority::High), ("normal-2", Priority::Normal), ("critical-2", Priority::Critical)];
    for (name, priority) in order {
        outbox.enqueue("bob", draft(&format!("{token} {name}")), priority, None, 0).await.expect("queued");
    }
    // No sender yet: paused. Then the server is set and the queue runs.
    assert_eq!(outbox.run().await, 0);
    outbox.set_sender("bob", sender(&client).await);
    assert_eq!(outbox.run().await, 6);
    let got = sink_subjects_with(&token).await;
    let expected: Vec<String> = ["critical-1", "critical-2", "high-1", "normal-1", "normal-2", "low-1"].iter().map(|n| format!("{token} {n}")).collect();
    assert_eq!(got, expected, "each exactly once, in priority order");
    let stats = outbox.stats();
    assert_eq!((stats.sent, stats.queued, stats.retries), (6, 0, 0));
    assert!(stats.average_latency_ms.is_some());
}

#[wasm_bindgen_test]
async fn a_tab_killed_after_the_send_left_does_not_send_twice() {
    let client = client_for(gateway(), other_credentials()).await;
    let cache = cache().await;
    let token = unique("killed");
    let sender = sender(&client).await;
    // The first tab queued the mail, started the attempt, the request went out... and the tab died.
    let first = Outbox::open(Some(cache.clone()), Policy::default()).await;
    let id = first.enqueue("bob", draft(&format!("{token} once")), Priority::Normal, None, 0).await.expect("queued");
    let mut job: Job = first.jobs().into_iter().find(|j| j.id == id).expect("job");
    sender.backend.send(&job.draft, &sender.mailboxes, None).await.expect("the request that went out");
    job.state = JobState::Sending;
    job.attempts = 1;
    job.outcome_unknown = true;
    cache.save(OUTBOX, vec![Op::Put { kind: kind::JOB, id: id.clone(), json: serde_json::to_string(&job).expect("json") }]).await.expect("as the dead tab left it");
    drop(first);

    // The next tab resumes: it asks the server first and finds the mail already sent.
    let second = Outbox::open(Some(cache), Policy::default()).await;
    second.set_sender("bob", sender);
    second.run().await;
    assert_eq!(second.state_of(&id), Some(JobState::Sent));
    assert_eq!(sink_subjects_with(&token).await.len(), 1, "delivered exactly once");
}

#[wasm_bindgen_test]
async fn a_permanent_error_stops_retries_and_is_shown() {
    let client = client_for(gateway(), other_credentials()).await;
    let outbox = Outbox::open(None, Policy::default()).await;
    let token = unique("refused");
    let mut bad = draft(&format!("{token} never"));
    bad.identity_id = Some("no-such-identity".into());
    let id = outbox.enqueue("bob", bad, Priority::High, None, 0).await.expect("queued");
    outbox.set_sender("bob", sender(&client).await);
    outbox.run_until_idle().await;
    let job = outbox.jobs().into_iter().find(|j| j.id == id).expect("job");
    assert_eq!(job.state, JobState::Failed);
    assert_eq!(job.attempts, 1, "no retry of a permanent error");
    let error = job.last_error.unwrap_or_default();
    assert!(error.contains("refused"), "{error}");
    assert!(sink_subjects_with(&token).await.is_empty());
}

#[wasm_bindgen_test]
async fn undo_within_the_window_cancels_delivery() {
    let client = client_for(gateway(), other_credentials()).await;
    let outbox = Outbox::open(None, Policy::default()).await;
    outbox.set_sender("bob", sender(&client).await);
    let token = unique("undo");
    let kept = outbox.enqueue("bob", draft(&format!("{token} undone")), Priority::Normal, None, 10_000).await.expect("held 10 s");
    assert_eq!(outbox.run().await, 0, "held for the undo window");
    outbox.cancel(&kept).await.expect("undo");
    let sent = outbox.enqueue("bob", draft(&format!("{token} sent")), Priority::Normal, None, 300).await.expect("held briefly");
    outbox.run_until_idle().await;
    assert_eq!(outbox.state_of(&sent), Some(JobState::Sent));
    assert_eq!(outbox.state_of(&kept), Some(JobState::Cancelled));
    assert_eq!(sink_subjects_with(&token).await, [format!("{token} sent")]);
}
