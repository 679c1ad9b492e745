//! The outbox against the real Cyrus and the SMTP sink, in headless Chromium. Every test counts
//! what the sink received: each mail exactly once. Faults come from the fault proxy in front of
//! the gateway (tests/support/fault_proxy.py), which also logs when each attempt reached it.

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::rc::Rc;

use futures_util::future::join;
use petrel::cache::{kind, OfflineCache, Op, OUTBOX};
use petrel::jmap::client::JmapClient;
use petrel::jmap::mail::JmapMail;
use petrel::mail::backend::SendMailboxes;
use petrel::mail::engine::MailEngine;
use petrel::mail::{Address, Draft, Role};
use petrel::net::{fetch, now_ms, sleep, HttpRequest};
use petrel::outbox::dispatcher::{Outbox, Sender, Subscription};
use petrel::outbox::{Job, JobState, OutboxError, Policy, Priority};
use serde_json::Value;
use wasm_bindgen_test::*;

mod common;

use common::{client_for, draft, gateway, other_credentials, unique};

wasm_bindgen_test_configure!(run_in_browser);

/// One mail at the SMTP sink.
struct Arrived {
    subject: String,
    received_ms: f64,
}

async fn sink() -> Vec<Arrived> {
    common::sink_listing()
        .await
        .iter()
        .map(|m| Arrived {
            subject: m["subject"].as_str().unwrap_or("").to_owned(),
            received_ms: m["received_ms"].as_f64().unwrap_or(0.0),
        })
        .collect()
}

async fn sink_subjects_with(token: &str) -> Vec<String> {
    sink().await.into_iter().filter(|m| m.subject.contains(token)).map(|m| m.subject).collect()
}

/// The subjects with `token` at the sink once `count` have arrived (see [`common::sink_once_arrived`]).
async fn delivered(token: &str, count: usize) -> Vec<String> {
    common::sink_once_arrived(token, count)
        .await
        .iter()
        .filter_map(|m| m["subject"].as_str().map(str::to_owned))
        .collect()
}

/// Waits (up to `ms`) until the sink holds a mail whose subject contains `token`.
async fn arrival_of(token: &str, ms: f64) -> Option<Arrived> {
    let deadline = now_ms() + ms;
    while now_ms() < deadline {
        if let Some(m) = sink().await.into_iter().find(|m| m.subject.contains(token)) {
            return Some(m);
        }
        sleep(200).await;
    }
    None
}

/// A check that finds a mail sent is one request, and at most one more where the server can hold
/// mail (`maxDelayedSend`): whether the server still holds it, to undo it there.
async fn requests_of_a_check_that_finds_it_sent() -> usize {
    let client = client_for(gateway(), other_credentials()).await;
    1 + usize::from(sender(&client).await.backend.max_hold_secs() > 0)
}

/// A GET on the fault proxy's control port.
async fn proxy(path: &str) -> Value {
    let control = crate::rig_setting!("PETREL_TEST_PROXY_CONTROL");
    let response = fetch(HttpRequest::get(format!("{control}{path}"))).await.expect("fault proxy control");
    assert_eq!(response.status, 200);
    serde_json::from_slice(&response.body).expect("JSON")
}

/// The next `count` requests carrying `token` get `fault` (see fault_proxy.py).
async fn inject(token: &str, fault: &str, count: u32) {
    proxy(&format!("/fault?match={token}&count={count}&{fault}")).await;
}

/// When requests carrying `token` reached the proxy (epoch ms), with the fault each got.
async fn attempts_seen(token: &str) -> Vec<(f64, Option<String>)> {
    let log = proxy(&format!("/log?match={token}")).await;
    log.as_array()
        .expect("list")
        .iter()
        .map(|e| (e["t"].as_f64().unwrap_or(0.0), e["fault"].as_str().map(str::to_owned)))
        .collect()
}

fn through_proxy() -> &'static str {
    crate::rig_setting!("PETREL_TEST_PROXY")
}

/// A draft whose Message-ID is `token`-based, so the proxy can pick out every request about it.
fn traced_draft(token: &str) -> Draft {
    Draft { message_id: Some(format!("{token}@petrel.test")), ..draft(&format!("{token} traced")) }
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

async fn cache_named(name: &str) -> Rc<OfflineCache> {
    Rc::new(OfflineCache::open(name).await.expect("IndexedDB"))
}

async fn cache() -> Rc<OfflineCache> {
    cache_named(&unique("petrel-outbox")).await
}

/// Each change of one job as (time, state, attempts).
type Schedule = Rc<RefCell<Vec<(f64, JobState, u32)>>>;

/// Records every change of one job: the schedule the client kept.
fn watch(outbox: &Rc<Outbox>, id: &str) -> (Schedule, Subscription) {
    let seen: Schedule = Rc::default();
    let (record, id, weak) = (seen.clone(), id.to_owned(), Rc::downgrade(outbox));
    let subscription = outbox.subscribe(move || {
        if let Some(j) = weak.upgrade().and_then(|o| o.job(&id)) {
            let mut log = record.borrow_mut();
            if log.last().map(|(_, s, a)| (*s, *a)) != Some((j.state, j.attempts)) {
                log.push((now_ms(), j.state, j.attempts));
            }
        }
    });
    (seen, subscription)
}

/// The gaps between attempt starts, in ms.
fn gaps(schedule: &[(f64, JobState, u32)]) -> Vec<u64> {
    let starts: Vec<f64> = schedule.iter().filter(|(_, s, _)| *s == JobState::Sending).map(|(t, _, _)| *t).collect();
    starts.windows(2).map(|w| (w[1] - w[0]).round() as u64).collect()
}

#[wasm_bindgen_test]
async fn jobs_queued_while_paused_go_out_by_priority_then_fifo_exactly_once() {
    let client = client_for(gateway(), other_credentials()).await;
    // One at a time, so arrival order at the sink is dispatch order (with two in flight, two
    // neighbours of the same rank may land in either order).
    let outbox = Outbox::open(Some(cache().await), Policy { concurrency: 1, ..Policy::default() }).await;
    let token = unique("prio");
    let order = [
        ("low-1", Priority::Low),
        ("normal-1", Priority::Normal),
        ("critical-1", Priority::Critical),
        ("high-1", Priority::High),
        ("normal-2", Priority::Normal),
        ("critical-2", Priority::Critical),
    ];
    for (name, priority) in order {
        outbox.enqueue("bob", draft(&format!("{token} {name}")), priority, None, 0).await.expect("queued");
    }
    // No sender yet: paused. Then the server is set and the queue runs.
    assert_eq!(outbox.run().await, 0);
    outbox.set_sender("bob", sender(&client).await);
    assert_eq!(outbox.run().await, 6);
    let got = delivered(&token, 6).await;
    let expected: Vec<String> = ["critical-1", "critical-2", "high-1", "normal-1", "normal-2", "low-1"]
        .iter()
        .map(|n| format!("{token} {n}"))
        .collect();
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

    // The next tab resumes: it asks the server first and finds the mail already sent.
    let second = Outbox::open(Some(cache), Policy::default()).await;
    second.set_sender("bob", sender);
    second.run().await;
    assert_eq!(second.state_of(&id), Some(JobState::Sent));
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
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
async fn undo_within_a_locally_held_window_cancels_delivery() {
    let client = client_for(gateway(), other_credentials()).await;
    let outbox = Outbox::open(None, Policy { server_hold: false, ..Policy::default() }).await;
    outbox.set_sender("bob", sender(&client).await);
    let token = unique("undo");
    let kept = outbox
        .enqueue("bob", draft(&format!("{token} undone")), Priority::Normal, None, 10_000)
        .await
        .expect("held 10 s");
    assert_eq!(outbox.run().await, 0, "held for the undo window");
    outbox.cancel(&kept).await.expect("undo");
    let sent = outbox
        .enqueue("bob", draft(&format!("{token} sent")), Priority::Normal, None, 300)
        .await
        .expect("held briefly");
    outbox.run_until_idle().await;
    assert_eq!(outbox.state_of(&sent), Some(JobState::Sent));
    assert_eq!(outbox.state_of(&kept), Some(JobState::Cancelled));
    assert_eq!(delivered(&token, 1).await, [format!("{token} sent")]);
}

/// Sends `token`'s traced mail through the proxy with a fault on its first request(s); returns the
/// outbox's job and the schedule it kept, after the outbox went idle.
async fn send_through_fault(token: &str, fault: &str, count: u32, policy: Policy) -> (Job, Vec<(f64, JobState, u32)>) {
    let client = client_for(through_proxy(), other_credentials()).await;
    let outbox = Rc::new(Outbox::open(Some(cache().await), policy).await);
    outbox.set_sender("bob", sender(&client).await);
    inject(token, fault, count).await;
    let id = outbox.enqueue("bob", traced_draft(token), Priority::Normal, None, 0).await.expect("queued");
    let (schedule, _watching) = watch(&outbox, &id);
    outbox.run_until_idle().await;
    let job = outbox.job(&id).expect("job");
    let schedule = schedule.borrow().clone();
    (job, schedule)
}

#[wasm_bindgen_test]
async fn a_server_that_is_down_then_back_gets_the_mail_once() {
    let client = client_for(through_proxy(), other_credentials()).await;
    let outbox = Rc::new(Outbox::open(Some(cache().await), Policy::default()).await);
    outbox.set_sender("bob", sender(&client).await);
    let token = unique("down");
    proxy("/down").await;
    let id = outbox.enqueue("bob", traced_draft(&token), Priority::Normal, None, 0).await.expect("queued");
    let (schedule, _watching) = watch(&outbox, &id);
    let bring_back = async {
        // Back once two attempts have failed against the closed port.
        while outbox.job(&id).map(|j| j.attempts).unwrap_or(0) < 2 || outbox.state_of(&id) != Some(JobState::Queued) {
            sleep(20).await;
        }
        proxy("/up").await;
    };
    join(outbox.run_until_idle(), bring_back).await;
    let job = outbox.job(&id).expect("job");
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert!(job.attempts >= 3);
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
    web_sys::console::log_1(
        &format!("FIGURE outbox down-then-up: attempts {} gaps ms {:?}", job.attempts, gaps(&schedule.borrow())).into(),
    );
}

#[wasm_bindgen_test]
async fn http_500_without_the_work_done_is_retried_and_sent_once() {
    let token = unique("e500");
    let (job, schedule) = send_through_fault(&token, "action=status&status=500", 1, Policy::default()).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert_eq!(job.attempts, 2);
    let seen = attempts_seen(&token).await;
    // The 500'd send, the check with the server (nothing there), the send that went through.
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].1.as_deref(), Some("status"));
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
    web_sys::console::log_1(&format!("FIGURE outbox 500: gaps ms {:?}", gaps(&schedule)).into());
}

#[wasm_bindgen_test]
async fn http_500_after_the_server_sent_it_is_not_sent_again() {
    let token = unique("e500done");
    let (job, _) = send_through_fault(&token, "action=status-after&status=500", 1, Policy::default()).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    let seen = attempts_seen(&token).await;
    assert!(
        (2..=1 + requests_of_a_check_that_finds_it_sent().await).contains(&seen.len()),
        "the send, then only the check that found it sent: {seen:?}"
    );
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
}

#[wasm_bindgen_test]
async fn http_429_is_retried_no_sooner_than_retry_after() {
    let token = unique("e429");
    let (job, schedule) =
        send_through_fault(&token, "action=status&status=429&retry_after=2", 1, Policy::default()).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    let seen = attempts_seen(&token).await;
    assert_eq!(seen.len(), 2, "a refused request needs no check before the retry: {seen:?}");
    let waited = seen[1].0 - seen[0].0;
    assert!(waited >= 2_000.0, "Retry-After: 2 honoured, waited {waited} ms");
    assert!(waited < 4_000.0, "and not much longer ({waited} ms)");
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
    web_sys::console::log_1(
        &format!("FIGURE outbox 429 Retry-After 2: waited {waited:.0} ms, gaps {:?}", gaps(&schedule)).into(),
    );
}

#[wasm_bindgen_test]
async fn a_connection_cut_after_the_request_left_does_not_send_twice() {
    let token = unique("cut");
    let (job, schedule) = send_through_fault(&token, "action=cut", 1, Policy::default()).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    let seen = attempts_seen(&token).await;
    assert!(
        (2..=1 + requests_of_a_check_that_finds_it_sent().await).contains(&seen.len()),
        "the cut send, then the check that found it sent: {seen:?}"
    );
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
    web_sys::console::log_1(&format!("FIGURE outbox cut: gaps ms {:?}", gaps(&schedule)).into());
}

#[wasm_bindgen_test]
async fn an_answer_slower_than_the_timeout_does_not_send_twice() {
    let token = unique("slow");
    // The answer comes after 2.5 s; the first attempt gives up at 1 s (the default).
    let (job, schedule) = send_through_fault(&token, "action=delay&ms=2500", 1, Policy::default()).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert!(job.attempts >= 2);
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
    web_sys::console::log_1(
        &format!("FIGURE outbox slow: attempts {} gaps ms {:?}", job.attempts, gaps(&schedule)).into(),
    );
}

#[wasm_bindgen_test]
async fn two_tabs_send_each_mail_once_and_both_see_it_sent() {
    let client = client_for(gateway(), other_credentials()).await;
    let name = unique("petrel-outbox-tabs");
    // Two outboxes on one IndexedDB: what two tabs of the same origin are.
    let first = Outbox::open(Some(cache_named(&name).await), Policy::default()).await;
    let second = Outbox::open(Some(cache_named(&name).await), Policy::default()).await;
    let token = unique("tabs");
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(
            first
                .enqueue("bob", draft(&format!("{token} first-{n}")), Priority::Normal, None, 0)
                .await
                .expect("queued"),
        );
        ids.push(
            second
                .enqueue("bob", draft(&format!("{token} second-{n}")), Priority::Normal, None, 0)
                .await
                .expect("queued"),
        );
    }
    first.set_sender("bob", sender(&client).await);
    second.set_sender("bob", sender(&client).await);
    let (a, b) = join(first.run_until_idle(), second.run_until_idle()).await;
    assert_eq!(a + b, 8, "eight sends between the two");
    let mut got = delivered(&token, 8).await;
    got.sort();
    let mut expected: Vec<String> =
        (0..4).flat_map(|n| [format!("{token} first-{n}"), format!("{token} second-{n}")]).collect();
    expected.sort();
    assert_eq!(got, expected, "each exactly once");
    for id in &ids {
        assert_eq!(first.state_of(id), Some(JobState::Sent));
        assert_eq!(second.state_of(id), Some(JobState::Sent), "the other tab follows along");
    }
}

#[wasm_bindgen_test]
async fn undo_takes_a_held_mail_back_from_the_server() {
    let client = client_for(gateway(), other_credentials()).await;
    let sender = sender(&client).await;
    assert!(sender.backend.max_hold_secs() > 60, "Cyrus holds submissions (maxDelayedSend)");
    let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
    outbox.set_sender("bob", sender.clone());
    let token = unique("heldundo");
    let undone = outbox
        .enqueue("bob", traced_draft(&format!("{token}-undone")), Priority::Normal, None, 3_000)
        .await
        .expect("queued");
    let kept = outbox
        .enqueue("bob", traced_draft(&format!("{token}-kept")), Priority::Normal, None, 5_000)
        .await
        .expect("queued");
    // Both are handed to the server at once, which holds them.
    assert_eq!(outbox.run().await, 2);
    for id in [&undone, &kept] {
        let job = outbox.job(id).expect("job");
        assert!(job.held_until_ms.is_some() && job.submission_id.is_some(), "held by the server: {job:?}");
    }
    outbox.cancel(&undone).await.expect("undo");
    assert_eq!(outbox.state_of(&undone), Some(JobState::Cancelled));
    let back = sender
        .backend
        .find_by_message_id(&format!("{token}-undone@petrel.test"))
        .await
        .expect("lookup")
        .expect("still there");
    assert!(back.still_draft, "the unsent mail is back in Drafts");
    // The kept one was due after the undone one: once it has arrived, the undone one's time is past.
    let arrived = arrival_of(&format!("{token}-kept"), 30_000.0).await.expect("the kept mail arrives");
    let due = outbox.job(&kept).and_then(|j| j.send_at_ms).expect("send time");
    assert!(
        arrived.received_ms >= due - 1_000.0,
        "not before its time (server seconds): {} vs {due}",
        arrived.received_ms
    );
    assert!(sink_subjects_with(&format!("{token}-undone")).await.is_empty(), "undone: never delivered");
    assert_eq!(delivered(&format!("{token}-kept"), 1).await.len(), 1);
    assert_eq!(outbox.cancel(&kept).await, Err(OutboxError::NotCancellable), "too late once it has left");
}

#[wasm_bindgen_test]
async fn a_scheduled_mail_leaves_at_its_time_with_every_tab_closed() {
    let client = client_for(gateway(), other_credentials()).await;
    let token = unique("scheduled");
    let due = {
        let outbox = Outbox::open(Some(cache().await), Policy::default()).await;
        outbox.set_sender("bob", sender(&client).await);
        let id = outbox.enqueue("bob", traced_draft(&token), Priority::Low, None, 4_000).await.expect("scheduled");
        outbox.run().await;
        outbox.job(&id).and_then(|j| j.send_at_ms).expect("send time")
        // The outbox (the "tab") is gone from here on: only the server knows of the mail.
    };
    assert!(sink_subjects_with(&token).await.is_empty(), "not before its time");
    let arrived = arrival_of(&token, 30_000.0).await.expect("the scheduled mail arrives");
    assert!(arrived.received_ms >= due - 1_000.0, "not before its time: {} vs {due}", arrived.received_ms);
    assert_eq!(delivered(&token, 1).await.len(), 1);
    web_sys::console::log_1(
        &format!("FIGURE outbox scheduled: arrived {:.0} ms after its time", arrived.received_ms - due).into(),
    );
}

#[wasm_bindgen_test]
async fn bcc_recipients_get_the_mail_without_being_shown_to_the_others() {
    let client = client_for(gateway(), other_credentials()).await;
    let outbox = Outbox::open(None, Policy::default()).await;
    outbox.set_sender("bob", sender(&client).await);
    let token = unique("bcc");
    let mut mail = draft(&token);
    mail.bcc = vec![Address { name: None, email: "hidden@example.net".into() }];
    let id = outbox.enqueue("bob", mail, Priority::Normal, None, 0).await.expect("queued");
    outbox.run_until_idle().await;
    assert_eq!(outbox.state_of(&id), Some(JobState::Sent));
    let listing = common::sink_once_arrived(&token, 1).await;
    let got: Vec<&Value> = listing.iter().filter(|m| m["subject"].as_str() == Some(token.as_str())).collect();
    assert_eq!(got.len(), 1, "one relay, to everyone");
    let rcpt = got[0]["rcpt_to"].to_string();
    assert!(
        rcpt.contains("friend@example.net") && rcpt.contains("hidden@example.net"),
        "the envelope reaches both: {rcpt}"
    );
    assert_eq!(got[0]["bcc_header"], "", "no Bcc header in what the recipients get");
}

#[wasm_bindgen_test]
async fn a_request_still_on_the_wire_when_the_retry_checks_is_not_delivered_twice() {
    let token = unique("wire");
    // The first send waits 3.5 s at the proxy before it reaches the server; the client gives up at
    // 1 s, checks (nothing there yet) and sends again. Then the late first copy lands: the server
    // must refuse it rather than send it too. Each send is conditional on the account's state
    // (ifInState), which the retry moved on, so every server refuses it (Stalwart, unlike Cyrus,
    // would store a second identical message).
    let started = now_ms();
    let (job, _) = send_through_fault(&token, "action=hold&ms=3500", 1, Policy::default()).await;
    assert_eq!(job.state, JobState::Sent, "{:?}", job.last_error);
    assert!(job.attempts >= 2, "the first attempt timed out");
    // Until the late copy has reached the server, and its answer has had time to go out.
    let late = started + 3_500.0 + 2_000.0;
    if now_ms() < late {
        sleep((late - now_ms()) as u32).await;
    }
    assert_eq!(delivered(&token, 1).await.len(), 1, "delivered exactly once");
}
