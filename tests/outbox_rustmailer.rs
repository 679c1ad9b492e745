//! The outbox on the RustMailer backend, in headless Chromium: gateway -> RustMailer stand-in, with
//! the fault proxy in front of the gateway. Every test counts what the stand-in "sent" (its SMTP
//! side): each mail exactly once. The JMAP counterpart is tests/outbox.rs.

#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use futures_util::future::join;
use petrel::cache::{kind, OfflineCache, Op, OUTBOX};
use petrel::mail::backend::SendMailboxes;
use petrel::mail::{Address, Draft};
use petrel::net::{fetch, now_ms, sleep, HttpRequest};
use petrel::outbox::dispatcher::{Outbox, Sender};
use petrel::outbox::{Job, JobState, Policy, Priority};
use petrel::rustmailer::backend::RustMailerBackend;
use petrel::rustmailer::client::RustMailer;
use petrel::rustmailer::proto as pb;
use serde_json::Value;
use wasm_bindgen_test::*;

mod common;

use common::{gateway, unique};

wasm_bindgen_test_configure!(run_in_browser);

/// bob's RustMailer account: the outbox tests' sender.
const BOB: u64 = 2;
const KEY: &str = "rustmailer-bob";

fn token() -> String {
    crate::rig_setting!("PETREL_TEST_RUSTMAILER_TOKEN").to_owned()
}

async fn post(url: String) -> Value {
    let response = fetch(HttpRequest::post(url, vec![])).await.expect("control port");
    assert_eq!(response.status, 200, "{}", String::from_utf8_lossy(&response.body));
    serde_json::from_slice(&response.body).expect("JSON")
}

async fn standin(path: &str) -> Value {
    post(format!("{}{path}", crate::rig_setting!("PETREL_TEST_RUSTMAILER_CONTROL"))).await
}

async fn proxy(path: &str) -> Value {
    let control = crate::rig_setting!("PETREL_TEST_PROXY_CONTROL");
    let response = fetch(HttpRequest::get(format!("{control}{path}"))).await.expect("fault proxy control");
    assert_eq!(response.status, 200);
    serde_json::from_slice(&response.body).expect("JSON")
}

/// Subjects the stand-in sent that carry `token`, in the order their tasks were created.
async fn sent_with(token: &str) -> Vec<String> {
    let sent = standin("/sent").await;
    let mut hits: Vec<(u64, String)> = sent
        .as_array()
        .expect("list")
        .iter()
        .filter(|m| m["subject"].as_str().unwrap_or("").contains(token))
        .map(|m| (m["task_id"].as_u64().unwrap_or(0), m["subject"].as_str().unwrap_or("").to_owned()))
        .collect();
    hits.sort();
    hits.into_iter().map(|(_, s)| s).collect()
}

/// Waits until RustMailer has run every task carrying `token` (sending is asynchronous there).
async fn settled(token: &str, expected: usize) -> Vec<String> {
    let deadline = now_ms() + 20_000.0;
    loop {
        let tasks = standin("/tasks").await;
        let mine: Vec<&Value> = tasks
            .as_array()
            .expect("list")
            .iter()
            .filter(|t| t["subject"].as_str().unwrap_or("").contains(token))
            .collect();
        let pending = mine.iter().any(|t| t["status"] == "SCHEDULED" || t["status"] == "RUNNING");
        if mine.len() >= expected && !pending {
            return sent_with(token).await;
        }
        assert!(now_ms() < deadline, "RustMailer's tasks for {token} did not finish: {mine:?}");
        sleep(100).await;
    }
}

fn draft(token: &str, name: &str) -> Draft {
    Draft {
        to: vec![Address { name: None, email: "carol@example.org".into() }],
        subject: format!("{token} {name}"),
        text_body: format!("{token} {name}\n"),
        // The proxy picks out every request about this mail by its Message-ID.
        message_id: Some(format!("{token}-{name}@petrel.test")),
        ..Draft::default()
    }
}

async fn sender(base: &str) -> Sender {
    let client = RustMailer::new(base, Some(token()));
    let backend = RustMailerBackend::connect(client.clone(), BOB).await.expect("bob's RustMailer account");
    let folders = client
        .list_mailboxes(pb::ListMailboxesRequest { account_id: BOB, remote: false })
        .await
        .expect("folders")
        .mailboxes;
    let id = |name: &str| folders.iter().find(|f| f.name == name).map(|f| f.mailbox_id.to_string());
    Sender {
        backend: Rc::new(backend),
        mailboxes: SendMailboxes { drafts: id("Drafts").expect("Drafts"), sent: id("Sent") },
    }
}

fn through_proxy() -> &'static str {
    crate::rig_setting!("PETREL_TEST_PROXY")
}

async fn cache() -> Rc<OfflineCache> {
    Rc::new(OfflineCache::open(&unique("petrel-rm-outbox")).await.expect("IndexedDB"))
}

#[wasm_bindgen_test]
async fn jobs_queued_while_paused_go_out_by_priority_then_fifo_exactly_once() {
    let outbox = Outbox::open(Some(cache().await), Policy { concurrency: 1, ..Policy::default() }).await;
    let token = unique("rm-prio");
    let order = [
        ("low-1", Priority::Low),
        ("normal-1", Priority::Normal),
        ("critical-1", Priority::Critical),
        ("high-1", Priority::High),
        ("normal-2", Priority::Normal),
        ("critical-2", Priority::Critical),
    ];
    for (name, priority) in order {
        outbox.enqueue(KEY, draft(&token, name), priority, None, 0).await.expect("queued");
    }
    assert_eq!(outbox.run().await, 0, "no sender yet: paused");
    outbox.set_sender(KEY, sender(gateway()).await);
    assert_eq!(outbox.run().await, 6);
    let expected: Vec<String> = ["critical-1", "critical-2", "high-1", "normal-1", "normal-2", "low-1"]
        .iter()
        .map(|n| format!("{token} {n}"))
        .collect();
    assert_eq!(settled(&token, 6).await, expected, "each exactly once, in priority order");
}

/// Sends one mail through the fault proxy with `fault` on its first `count` requests.
async fn send_through_fault(token: &str, fault: &str, count: u32) -> Job {
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    outbox.set_sender(KEY, sender(through_proxy()).await);
    proxy(&format!("/fault?match={token}&count={count}&{fault}")).await;
    let id = outbox.enqueue(KEY, draft(token, "faulted"), Priority::Normal, None, 0).await.expect("queued");
    outbox.run_until_idle().await;
    outbox.job(&id).expect("job")
}

#[wasm_bindgen_test]
async fn a_connection_cut_after_the_request_left_does_not_send_twice() {
    let token = unique("rm-cut");
    let job = send_through_fault(&token, "action=cut", 1).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert_eq!(settled(&token, 1).await.len(), 1, "sent exactly once: the check found RustMailer's task");
}

#[wasm_bindgen_test]
async fn an_error_page_after_the_work_was_done_does_not_send_twice() {
    let token = unique("rm-500");
    let job = send_through_fault(&token, "action=status-after&status=502", 1).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert_eq!(settled(&token, 1).await.len(), 1);
}

#[wasm_bindgen_test]
async fn an_answer_slower_than_the_timeout_does_not_send_twice() {
    let token = unique("rm-slow");
    let job = send_through_fault(&token, "action=delay&ms=2500", 1).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert!(job.attempts >= 2, "the first attempt gave up at its 1 s timeout");
    assert_eq!(settled(&token, 1).await.len(), 1);
}

#[wasm_bindgen_test]
async fn a_gateway_that_is_down_then_back_gets_the_mail_once() {
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    outbox.set_sender(KEY, sender(through_proxy()).await);
    let token = unique("rm-down");
    proxy("/down").await;
    let id = outbox.enqueue(KEY, draft(&token, "down"), Priority::Normal, None, 0).await.expect("queued");
    let bring_back = async {
        while outbox.job(&id).map(|j| j.attempts).unwrap_or(0) < 2 || outbox.state_of(&id) != Some(JobState::Queued) {
            sleep(20).await;
        }
        proxy("/up").await;
    };
    join(outbox.run_until_idle(), bring_back).await;
    let job = outbox.job(&id).expect("job");
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert!(job.attempts >= 3);
    assert_eq!(settled(&token, 1).await.len(), 1);
}

#[wasm_bindgen_test]
async fn rustmailer_busy_is_retried_and_sent_once() {
    // RESOURCE_EXHAUSTED (RustMailer's TooManyRequest): refused before any work, retried.
    standin("/fault?method=SendNewMail&status=resource_exhausted&count=2").await;
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    outbox.set_sender(KEY, sender(gateway()).await);
    let token = unique("rm-busy");
    let id = outbox.enqueue(KEY, draft(&token, "busy"), Priority::Normal, None, 0).await.expect("queued");
    outbox.run_until_idle().await;
    let job = outbox.job(&id).expect("job");
    assert_eq!((job.state, job.attempts), (JobState::Sent, 3), "{:?}", job.last_error);
    assert_eq!(settled(&token, 1).await.len(), 1);
}

#[wasm_bindgen_test]
async fn a_refused_recipient_stops_retries_and_is_shown() {
    let outbox = Outbox::open(None, Policy::default()).await;
    outbox.set_sender(KEY, sender(gateway()).await);
    let token = unique("rm-refused");
    let mut bad = draft(&token, "never");
    bad.to = vec![Address { name: None, email: "not an address".into() }];
    let id = outbox.enqueue(KEY, bad, Priority::High, None, 0).await.expect("queued");
    outbox.run_until_idle().await;
    let job = outbox.job(&id).expect("job");
    assert_eq!((job.state, job.attempts), (JobState::Failed, 1));
    assert!(job.last_error.unwrap_or_default().contains("invalid recipient"));
    assert!(sent_with(&token).await.is_empty());
}

#[wasm_bindgen_test]
async fn undo_takes_a_held_mail_back_from_rustmailer() {
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    outbox.set_sender(KEY, sender(gateway()).await);
    let token = unique("rm-undo");
    let undone = outbox.enqueue(KEY, draft(&token, "undone"), Priority::Normal, None, 8_000).await.expect("queued");
    outbox.run_until_idle().await;
    let job = outbox.job(&undone).expect("job");
    assert!(job.held_until_ms.is_some() && job.submission_id.is_some(), "held by RustMailer (send_at): {job:?}");
    outbox.cancel(&undone).await.expect("undo");
    assert_eq!(outbox.state_of(&undone), Some(JobState::Cancelled));
    let kept = outbox.enqueue(KEY, draft(&token, "kept"), Priority::Normal, None, 500).await.expect("queued");
    outbox.run_until_idle().await;
    assert_eq!(outbox.state_of(&kept), Some(JobState::Sent));
    assert_eq!(settled(&token, 2).await, [format!("{token} kept")], "the undone one never left");
}

#[wasm_bindgen_test]
async fn a_scheduled_mail_leaves_at_its_time_not_before() {
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    outbox.set_sender(KEY, sender(gateway()).await);
    let token = unique("rm-later");
    let queued_at = now_ms();
    outbox.enqueue(KEY, draft(&token, "later"), Priority::Normal, None, 4_000).await.expect("queued");
    outbox.run_until_idle().await;
    drop(outbox);
    // Every tab closed: RustMailer holds it and sends it at send_at.
    let sent = standin("/sent").await;
    assert!(
        !sent.as_array().unwrap().iter().any(|m| m["subject"].as_str().unwrap_or("").contains(&token)),
        "not before its time"
    );
    assert_eq!(settled(&token, 1).await.len(), 1);
    let at = standin("/sent")
        .await
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["subject"].as_str().unwrap_or("").contains(&token))
        .unwrap()["at_ms"]
        .as_f64()
        .unwrap();
    // send_at is in whole seconds from enqueue.
    assert!(at >= queued_at + 3_000.0, "sent {} ms after queueing", at - queued_at);
    web_sys::console::log_1(
        &format!("FIGURE rustmailer scheduled: sent {} ms after queueing (4,000 asked)", (at - queued_at).round())
            .into(),
    );
}

#[wasm_bindgen_test]
async fn a_tab_killed_after_the_send_left_does_not_send_twice() {
    let cache = cache().await;
    let token = unique("rm-killed");
    let sender = sender(gateway()).await;
    let first = Outbox::open(Some(cache.clone()), Policy::default()).await;
    let id = first.enqueue(KEY, draft(&token, "once"), Priority::Normal, None, 0).await.expect("queued");
    let mut job: Job = first.job(&id).expect("job");
    sender.backend.send(&job.draft, &sender.mailboxes, None, None).await.expect("the request that went out");
    job.state = JobState::Sending;
    job.attempts = 1;
    job.outcome_unknown = true;
    cache
        .save(
            OUTBOX,
            vec![Op::Put { kind: kind::JOB, id: id.clone(), json: serde_json::to_string(&job).expect("json") }],
        )
        .await
        .expect("as the dead tab left it");
    drop(first);
    let second = Outbox::open(Some(cache), Policy::default()).await;
    second.set_sender(KEY, sender);
    second.run().await;
    assert_eq!(second.state_of(&id), Some(JobState::Sent));
    assert_eq!(settled(&token, 1).await.len(), 1, "sent exactly once");
}

/// Sends one mail straight to the gateway with the stand-in's `garble` fault on SendNewMail.
async fn send_with_garbled_answer(token: &str, when: &str) -> Job {
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    outbox.set_sender(KEY, sender(gateway()).await);
    standin(&format!("/fault?method=SendNewMail&garble={when}")).await;
    let id = outbox.enqueue(KEY, draft(token, "garbled"), Priority::Normal, None, 0).await.expect("queued");
    outbox.run_until_idle().await;
    outbox.job(&id).expect("job")
}

/// RustMailer did the work, then its answer could not be read: the outbox looks at RustMailer's
/// tasks instead of sending again, and the account's mail is neither lost nor doubled.
#[wasm_bindgen_test]
async fn an_answer_that_cannot_be_read_after_the_send_does_not_send_twice() {
    let token = unique("rm-garbled");
    let job = send_with_garbled_answer(&token, "after").await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert_eq!(settled(&token, 1).await.len(), 1, "sent exactly once: the check found RustMailer's task");
}

/// The answer could not be read and RustMailer had not done the work: the mail still goes, once.
#[wasm_bindgen_test]
async fn an_answer_that_cannot_be_read_before_the_send_loses_nothing() {
    let token = unique("rm-garbled-first");
    let job = send_with_garbled_answer(&token, "before").await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert_eq!(settled(&token, 1).await.len(), 1, "sent once after the check found no task");
}
