//! The mail engine against the real Cyrus through the gateway, in headless Chromium: delta sync,
//! the IndexedDB offline cache, optimistic and offline actions, big folders, several accounts.
//! Mutating tests use their own folders in bob's account; the demo account stays as seeded.

#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use petrel::cache::{kind, OfflineCache, Op};
use petrel::jmap::mail::JmapMail;
use petrel::jmap::{capability, Request};
use petrel::mail::backend::{MailBackend, WindowAt};
use petrel::mail::engine::{ActOutcome, EngineEvent, MailEngine, PAGE};
use petrel::mail::store::Row;
use petrel::mail::{keyword, Action, MailQuery, Role};
use petrel::net::queue::LocalQueue;
use petrel::net::{fetch, HttpRequest};
use serde_json::json;
use wasm_bindgen_test::*;

mod common;

use common::{
    account, account_key, add_message, bulk_credentials, client_for, folder_with_messages, gateway, other_credentials,
    patch_message, synced_engine as engine, unique,
};

wasm_bindgen_test_configure!(run_in_browser);

async fn cache() -> Rc<OfflineCache> {
    Rc::new(OfflineCache::open(&unique("petrel-test")).await.expect("IndexedDB opens"))
}

fn loaded(engine: &MailEngine, query: &MailQuery) -> Vec<petrel::mail::EmailSummary> {
    engine
        .read(|s| s.rows(query, 0, 500))
        .into_iter()
        .filter_map(|r| match r {
            Row::Loaded(e) => Some(e),
            Row::Loading { .. } => None,
        })
        .collect()
}

fn subjects(engine: &MailEngine, query: &MailQuery) -> Vec<String> {
    loaded(engine, query).into_iter().map(|e| e.subject).collect()
}

async fn outage(what: &str) {
    let control = crate::rig_setting!("PETREL_TEST_PROXY_CONTROL");
    let response = fetch(HttpRequest::get(format!("{control}/{what}"))).await.expect("outage control answers");
    assert_eq!(response.status, 200);
}

#[wasm_bindgen_test]
async fn remote_changes_arrive_as_deltas_without_refetching() {
    let client = client_for(gateway(), other_credentials()).await;
    let other = client_for(gateway(), other_credentials()).await; // another session: "another client"
    let (folder, ids) = folder_with_messages(&other, &unique("delta"), &["one", "two", "three"]).await;
    let engine = engine(&client, None).await;
    let query = MailQuery::mailbox(&folder);
    engine.show(&query, 0, 50).await.expect("folder opens");
    assert_eq!(subjects(&engine, &query), ["three", "two", "one"]);

    // Another client reads one, flags one, deletes one and files a new one.
    patch_message(&other, &ids[0], json!({ "keywords/$seen": true })).await;
    patch_message(&other, &ids[1], json!({ "keywords/$flagged": true })).await;
    let mut destroy = Request::new().using(capability::MAIL);
    destroy.call("Email/set", json!({ "accountId": account(&other), "destroy": [ids[2]] }));
    other.send(&destroy).await.expect("destroy");
    add_message(&other, &folder, "four", "2026-11-20T10:00:00Z").await;

    let before = client.stats();
    engine.sync().await.expect("delta sync");
    let after = client.stats();
    let requests = after.requests - before.requests;
    let bytes = after.bytes_received - before.bytes_received;
    web_sys::console::log_1(
        &format!(
            "delta sync: {requests} request(s), {} B sent, {bytes} B received",
            after.bytes_sent - before.bytes_sent
        )
        .into(),
    );
    assert_eq!(requests, 1, "one round trip carries all the changes");
    assert_eq!(after.calls("Email/query") - before.calls("Email/query"), 0, "no list was fetched again");
    assert_eq!(after.calls("Email/changes") - before.calls("Email/changes"), 1);
    assert_eq!(after.calls("Email/queryChanges") - before.calls("Email/queryChanges"), 1);

    assert_eq!(subjects(&engine, &query), ["four", "two", "one"]);
    let one = engine.read(|s| s.email(&ids[0])).expect("one");
    assert!(!one.is_unread());
    assert!(engine.read(|s| s.email(&ids[1])).expect("two").is_flagged());
    let counts = engine.read(|s| s.mailboxes()).into_iter().find(|m| m.id == folder).expect("folder");
    assert_eq!((counts.total_emails, counts.unread_emails), (3, 2));

    // The same folder fetched whole costs more than the delta did.
    let fresh = client_for(gateway(), other_credentials()).await;
    let full = MailEngine::open("full", None).await;
    full.attach(Rc::new(JmapMail::new(fresh.clone()).expect("mail")));
    full.sync().await.expect("sync");
    full.show(&query, 0, 50).await.expect("open");
    web_sys::console::log_1(
        &format!("full refetch: {} requests, {} B received", fresh.stats().requests, fresh.stats().bytes_received)
            .into(),
    );
    assert!(bytes < fresh.stats().bytes_received, "delta {bytes} B vs full {} B", fresh.stats().bytes_received);
}

#[wasm_bindgen_test]
async fn a_reload_shows_cached_mail_before_any_network_answer() {
    let client = client_for(gateway(), common::demo_credentials()).await;
    let cache = cache().await;
    let first = engine(&client, Some(cache.clone())).await;
    let inbox = first.read(|s| s.mailbox_with_role(Role::Inbox).map(|m| m.id.clone())).expect("inbox");
    let query = MailQuery::mailbox(&inbox);
    first.show(&query, 0, 50).await.expect("inbox opens");
    let shown = subjects(&first, &query);
    let opened = loaded(&first, &query)[0].id.clone();
    let body = first.message(&opened).await.expect("message opens");
    drop(first);

    // "Reload": a new engine from the same IndexedDB, never attached to a server.
    let requests_before = client.stats().requests;
    let second = MailEngine::open(&account_key(&client), Some(cache)).await;
    assert!(second.read(|s| s.has_mailboxes()), "mailboxes come from the cache");
    assert!(second.read(|s| s.has_rows(&query, 0, shown.len() as u64)));
    assert_eq!(subjects(&second, &query), shown, "the last window, in order");
    assert_eq!(second.message(&opened).await.expect("cached body"), body);
    assert_eq!(client.stats().requests, requests_before);
    assert!(!second.is_attached());
    assert_eq!(second.cache_records_skipped(), 0);
}

#[wasm_bindgen_test]
async fn offline_actions_queue_survive_a_reload_and_apply_once() {
    let through_proxy = crate::rig_setting!("PETREL_TEST_PROXY");
    let direct = client_for(gateway(), other_credentials()).await;
    let (folder, ids) = folder_with_messages(&direct, &unique("offline"), &["keep", "read me", "move me"]).await;
    let (elsewhere, _) = folder_with_messages(&direct, &unique("elsewhere"), &[]).await;
    let client = client_for(through_proxy, other_credentials()).await;
    let cache = cache().await;
    let engine = engine(&client, Some(cache.clone())).await;
    let query = MailQuery::mailbox(&folder);
    engine.show(&query, 0, 50).await.expect("folder opens");
    engine.message(&ids[0]).await.expect("a body fetched while online");

    outage("down").await;
    // Cached mail stays readable.
    assert_eq!(subjects(&engine, &query), ["move me", "read me", "keep"]);
    assert!(engine.message(&ids[0]).await.is_ok(), "the fetched body reads offline");
    // Actions show at once and queue.
    let read = Action::SetKeyword { ids: vec![ids[1].clone()], keyword: keyword::SEEN.into(), on: true };
    assert_eq!(engine.act(read).await, ActOutcome::Queued);
    let mv = Action::Move { ids: vec![ids[2].clone()], from: Some(folder.clone()), to: elsewhere.clone() };
    assert_eq!(engine.act(mv).await, ActOutcome::Queued);
    let folder_name = unique("made-offline");
    let (_, outcome) = engine.create_mailbox(&folder_name, None).await;
    assert_eq!(outcome, ActOutcome::Queued);
    assert_eq!(engine.reachable(), Some(false));
    assert_eq!(subjects(&engine, &query), ["read me", "keep"]);
    assert!(!engine.read(|s| s.email(&ids[1])).expect("read me").is_unread());
    assert!(engine.read(|s| s.mailboxes()).iter().any(|m| m.name == folder_name));
    drop(engine);

    // A reload while offline keeps the queue; the server comes back; the queue is sent once.
    let reloaded = MailEngine::open(&account_key(&client), Some(cache.clone())).await;
    assert_eq!(reloaded.read(|s| s.queued().count()), 3);
    assert_eq!(subjects(&reloaded, &query), ["read me", "keep"], "pending actions still show");
    outage("up").await;
    reloaded.attach(Rc::new(JmapMail::new(client.clone()).expect("mail")));
    reloaded.sync().await.expect("sync after the outage");
    reloaded.sync().await.expect("a second sync sends nothing twice");
    assert_eq!(reloaded.read(|s| s.pending().len()), 0, "everything settled");

    let mut check = Request::new().using(capability::MAIL);
    let get = check.call(
        "Email/get",
        json!({ "accountId": account(&direct), "ids": [ids[1], ids[2]], "properties": ["keywords", "mailboxIds"] }),
    );
    let boxes = check.call("Mailbox/get", json!({ "accountId": account(&direct), "properties": ["name"] }));
    let mut response = direct.send(&check).await.expect("check");
    let emails = response.take(&get).expect("Email/get");
    assert_eq!(emails["list"][0]["keywords"]["$seen"], true);
    assert_eq!(emails["list"][1]["mailboxIds"], json!({ elsewhere.clone(): true }));
    let names = response.take(&boxes).expect("Mailbox/get");
    let made = names["list"].as_array().expect("list").iter().filter(|m| m["name"] == folder_name.as_str()).count();
    assert_eq!(made, 1, "the folder made offline exists exactly once");
}

#[wasm_bindgen_test]
async fn a_refused_action_rolls_back_with_a_message() {
    let client = client_for(gateway(), other_credentials()).await;
    let (folder, ids) = folder_with_messages(&client, &unique("refused"), &["stays"]).await;
    let engine = engine(&client, None).await;
    let query = MailQuery::mailbox(&folder);
    engine.show(&query, 0, 50).await.expect("folder opens");
    let events = LocalQueue::new();
    let sink = events.clone();
    let _subscription = engine.subscribe(move |e| sink.push(e.clone()));

    let bogus = Action::Move { ids: ids.clone(), from: Some(folder.clone()), to: "no-such-folder".into() };
    let outcome = engine.act(bogus).await;
    assert!(matches!(outcome, ActOutcome::Refused(_)), "{outcome:?}");
    assert_eq!(subjects(&engine, &query), ["stays"], "the message is back where it was");
    assert_eq!(engine.read(|s| s.pending().len()), 0);
    let mut refusal = None;
    while let Some(event) = events.try_next() {
        if let EngineEvent::Refused(text) = event {
            refusal = Some(text);
        }
    }
    let text = refusal.expect("the user is told");
    assert!(text.starts_with("The server refused to move 1 message"), "{text}");
}

#[wasm_bindgen_test]
async fn a_2000_message_folder_opens_by_windows() {
    let client = client_for(gateway(), bulk_credentials()).await;
    let engine = engine(&client, None).await;
    let bulk = engine.read(|s| s.mailboxes()).into_iter().find(|m| m.name == "Bulk").expect("the Bulk folder");
    assert!(bulk.total_emails >= 2000, "seeded: {}", bulk.total_emails);
    let query = MailQuery { threads: false, ..MailQuery::mailbox(&bulk.id) };

    let before = client.stats();
    engine.show(&query, 0, 40).await.expect("first window");
    let first = client.stats();
    assert_eq!(first.requests - before.requests, 1);
    let list = engine.read(|s| s.list(&query).cloned()).expect("list");
    assert_eq!(list.total, Some(bulk.total_emails));
    assert_eq!(list.head.len(), 50, "one window, not every id");
    web_sys::console::log_1(
        &format!("first window of {}: {} B", bulk.total_emails, first.bytes_received - before.bytes_received).into(),
    );
    assert!(first.bytes_received - before.bytes_received < 64 * 1024);

    // Jumping to the middle fetches that window only.
    engine.show(&query, 1000, 1030).await.expect("a window in the middle");
    assert_eq!(client.stats().requests - first.requests, 1);
    assert!(engine.read(|s| s.has_rows(&query, 1000, 1030)));
    assert!(!engine.read(|s| s.has_rows(&query, 500, 510)), "nothing in between was fetched");
    let rows = engine.read(|s| s.rows(&query, 1000, 1002));
    let Row::Loaded(row) = &rows[0] else { panic!("row 1000 loaded: {rows:?}") };
    assert!(row.subject.starts_with("Bulk 01000"), "newest first: {}", row.subject);
    // Showing rows already there costs nothing.
    let settled = client.stats().requests;
    engine.show(&query, 10, 30).await.expect("cached rows");
    assert_eq!(client.stats().requests, settled);
}

#[wasm_bindgen_test]
async fn several_accounts_keep_their_own_cache_and_sign_out_wipes_one() {
    let cache = cache().await;
    let demo = client_for(gateway(), common::demo_credentials()).await;
    let bob = client_for(gateway(), other_credentials()).await;
    let (demo_engine, bob_engine) =
        futures_util::future::join(engine(&demo, Some(cache.clone())), engine(&bob, Some(cache.clone()))).await;
    let names = |e: &MailEngine| e.read(|s| s.mailboxes()).into_iter().map(|m| m.name).collect::<Vec<_>>();
    assert!(names(&demo_engine).contains(&"Projects".to_owned()));
    assert!(!names(&bob_engine).contains(&"Projects".to_owned()), "bob's folders are bob's");

    bob_engine.wipe().await.expect("sign-out wipes");
    let bob_again = MailEngine::open(&account_key(&bob), Some(cache.clone())).await;
    assert!(!bob_again.read(|s| s.has_mailboxes()), "nothing of bob's is left");
    let demo_again = MailEngine::open(&account_key(&demo), Some(cache)).await;
    assert!(demo_again.read(|s| s.has_mailboxes()), "the other account is untouched");
}

#[wasm_bindgen_test]
async fn a_state_the_server_forgot_triggers_a_clean_resync() {
    let client = client_for(gateway(), common::demo_credentials()).await;
    let cache = cache().await;
    let first = engine(&client, Some(cache.clone())).await;
    let inbox = first.read(|s| s.mailbox_with_role(Role::Inbox).map(|m| m.id.clone())).expect("inbox");
    let query = MailQuery::mailbox(&inbox);
    first.show(&query, 0, 50).await.expect("inbox");
    let shown = subjects(&first, &query);
    drop(first);
    // The cache holds states the server cannot calculate changes from.
    let key = account_key(&client);
    let bogus = json!({ "mailbox": "bogus-1", "email": "bogus-2" }).to_string();
    cache.save(&key, vec![Op::Put { kind: kind::STATES, id: "all".into(), json: bogus }]).await.expect("write");

    let engine = MailEngine::open(&key, Some(cache)).await;
    engine.attach(Rc::new(JmapMail::new(client.clone()).expect("mail")));
    let before = client.stats();
    engine.sync().await.expect("sync recovers");
    let after = client.stats();
    assert!(after.calls("Email/query") > before.calls("Email/query"), "the open list was fetched again");
    let states = engine.read(|s| s.states.clone());
    assert!(
        states.email.is_some_and(|s| !s.starts_with("bogus"))
            && states.mailbox.is_some_and(|s| !s.starts_with("bogus"))
    );
    assert_eq!(subjects(&engine, &query), shown);
}

#[wasm_bindgen_test]
async fn requests_and_bytes_for_cold_start_warm_start_and_100_remote_changes() {
    // Cold: sign in, then one request brings the folders and the newest mail of the whole
    // account, the Inbox's first rows among it; the Inbox's own query follows. Summaries are
    // fetched only for Inbox rows the newest mail did not bring: none on a freshly seeded demo
    // account, some once other tests have sent mail (newer, in Sent) from it.
    let client = client_for(gateway(), common::demo_credentials()).await;
    let cache = cache().await;
    let cold = engine(&client, Some(cache.clone())).await;
    let seeded_by = client.stats();
    assert_eq!(seeded_by.requests, 1, "folders and the newest mail in one request");
    let inbox = cold.read(|s| s.mailbox_with_role(Role::Inbox).map(|m| m.id.clone())).expect("inbox");
    let query = MailQuery::mailbox(&inbox);
    let seeded = subjects(&cold, &query);
    assert!(!seeded.is_empty(), "the Inbox shows from the first request");
    // What the Inbox's first window holds, asked by a client of its own so it is not counted.
    let probe = JmapMail::new(client_for(gateway(), common::demo_credentials()).await).expect("mail");
    let window = probe.window_ids(&query, WindowAt::Position(0), PAGE as u32).await.expect("the Inbox's first window");
    let unknown = cold.read(|s| window.ids.iter().filter(|id| !s.has_email(id)).count());
    let summaries_needed = u64::from(unknown > 0);
    cold.show(&query, 0, 50).await.expect("inbox");
    let stats = client.stats();
    web_sys::console::log_1(&format!("FIGURE cold start to inbox: 1 session GET + {} API request (+ {} for the Inbox's own list, {unknown} of its first {} rows not among the newest), {} B sent, {} B received",
        seeded_by.requests, stats.requests - seeded_by.requests, window.ids.len(), stats.bytes_sent, stats.bytes_received).into());
    assert_eq!(
        stats.requests,
        2 + summaries_needed,
        "then the Inbox's own query, and summaries only for rows not yet known"
    );
    assert_eq!(
        stats.calls("Email/get"),
        seeded_by.calls("Email/get") + summaries_needed,
        "the messages it knew came as ids only"
    );
    let shown = subjects(&cold, &query);
    assert!(
        shown.starts_with(&seeded),
        "the rows shown first were the Inbox's first rows, threads collapsed as Cyrus does: {seeded:?} then {shown:?}"
    );
    assert!(cold.read(|s| s.has_rows(&query, 0, window.ids.len() as u64)), "the server's list replaced the seeded one");
    if (window.ids.len() as u64) < PAGE {
        // The whole Inbox fitted: exactly its conversations are rows, whatever the server's total
        // says (Stalwart counts every message there), so no placeholder waits for a row that
        // cannot come.
        assert_eq!(
            cold.read(|s| s.list(&query).and_then(|l| l.total)),
            Some(window.ids.len() as u64),
            "one row per conversation"
        );
        assert!(
            cold.read(|s| s.rows(&query, 0, 500)).iter().all(|r| matches!(r, Row::Loaded(_))),
            "no placeholder waits for a row"
        );
    }
    drop(cold);

    // Warm: the inbox shows from IndexedDB with no request; the sync after is one request.
    let warm = MailEngine::open(&account_key(&client), Some(cache)).await;
    assert!(warm.read(|s| s.has_rows(&query, 0, 10)));
    assert_eq!(client.stats().requests, stats.requests, "inbox shown before any request");
    warm.attach(Rc::new(JmapMail::new(client.clone()).expect("mail")));
    warm.sync().await.expect("warm sync");
    let synced = client.stats();
    web_sys::console::log_1(
        &format!(
            "FIGURE warm start: 0 requests to show the inbox; sync after: {} request, {} B sent, {} B received",
            synced.requests - stats.requests,
            synced.bytes_sent - stats.bytes_sent,
            synced.bytes_received - stats.bytes_received
        )
        .into(),
    );
    assert_eq!(synced.requests - stats.requests, 1);

    // 100 changes made by another client.
    let bob = client_for(gateway(), other_credentials()).await;
    let other = client_for(gateway(), other_credentials()).await;
    let (folder, _) = folder_with_messages(&other, &unique("hundred"), &[]).await;
    let mut create = Request::new().using(capability::MAIL);
    let mails: serde_json::Map<String, serde_json::Value> = (0..100)
        .map(|i| {
            (
                format!("m{i}"),
                json!({ "mailboxIds": { folder.clone(): true }, "subject": format!("m{i}"),
            "receivedAt": format!("2026-11-{:02}T{:02}:00:00Z", 1 + i / 24, i % 24),
            "bodyValues": { "b": { "value": "x" } }, "textBody": [{ "partId": "b", "type": "text/plain" }] }),
            )
        })
        .collect();
    let call = create.call("Email/set", json!({ "accountId": account(&other), "create": mails }));
    let created = other.send(&create).await.expect("create 100").take(&call).expect("answered");
    let ids: Vec<String> = created["created"]
        .as_object()
        .expect("created")
        .values()
        .filter_map(|v| v["id"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 100);
    let engine = engine(&bob, None).await;
    let hundred = MailQuery::mailbox(&folder);
    engine.show(&hundred, 0, 100).await.expect("folder");
    let mut update = Request::new().using(capability::MAIL);
    let patches: serde_json::Map<String, serde_json::Value> =
        ids.iter().map(|id| (id.clone(), json!({ "keywords/$flagged": true }))).collect();
    update.call("Email/set", json!({ "accountId": account(&other), "update": patches }));
    other.send(&update).await.expect("flag 100");
    let before = bob.stats();
    engine.sync().await.expect("delta");
    let after = bob.stats();
    web_sys::console::log_1(
        &format!(
            "FIGURE 100 remote changes: {} request, {} B sent, {} B received",
            after.requests - before.requests,
            after.bytes_sent - before.bytes_sent,
            after.bytes_received - before.bytes_received
        )
        .into(),
    );
    assert_eq!(after.requests - before.requests, 1);
    assert_eq!(loaded(&engine, &hundred).iter().filter(|e| e.is_flagged()).count(), 100);
}

#[wasm_bindgen_test]
async fn search_with_snippets_identities_drafts_and_send() {
    use petrel::mail::backend::{MailBackend, SendMailboxes, WindowAt};
    use petrel::mail::{Address, Draft, Filter};
    let client = client_for(gateway(), other_credentials()).await;
    let backend = JmapMail::new(client.clone()).expect("mail");
    let word = unique("zebracorn");
    let (folder, ids) =
        folder_with_messages(&client, &unique("search"), &[&format!("About the {word} plan"), "Unrelated"]).await;

    // Full-text search across folders, with the hit marked in the snippet.
    let filter = Filter { text: Some(word.clone()), ..Filter::default() };
    let query = MailQuery { filter: filter.clone(), ..MailQuery::mailbox(&folder) };
    let query = MailQuery { filter: Filter { in_mailbox: None, ..query.filter }, ..query };
    let mut window = backend.window(&query, WindowAt::Position(0), 10).await.expect("search");
    for _ in 0..30 {
        // Cyrus indexes new mail in the background (rolling squatter): wait for it to catch up.
        if !window.ids.is_empty() {
            break;
        }
        petrel::net::sleep(200).await;
        window = backend.window(&query, WindowAt::Position(0), 10).await.expect("search");
    }
    assert_eq!(window.ids, [ids[0].clone()], "only the matching message");
    let snippets = backend.snippets(&filter, &window.ids).await.expect("snippets");
    let subject = snippets[0].subject.clone().unwrap_or_default();
    assert!(subject.contains("<mark>"), "the hit is marked: {subject}");

    // Identities, a draft saved then replaced, and a send that files the mail in Sent.
    let identities = backend.identities().await.expect("identities");
    assert!(identities.iter().any(|i| i.email == "bob@example.org"), "{identities:?}");
    let engine = engine(&client, None).await;
    let drafts = engine.read(|s| s.mailbox_with_role(Role::Drafts).map(|m| m.id.clone())).expect("Drafts");
    let sent = engine.read(|s| s.mailbox_with_role(Role::Sent).map(|m| m.id.clone()));
    let mut draft = Draft {
        from: vec![Address { name: Some("Bob".into()), email: "bob@example.org".into() }],
        to: vec![Address { name: None, email: "someone@example.net".into() }],
        subject: unique("Draft"),
        text_body: "first words".into(),
        message_id: Some(format!("{}@petrel.test", unique("mid"))),
        ..Draft::default()
    };
    let first = backend.save_draft(&draft, &drafts, None).await.expect("draft saved");
    draft.text_body = "more words".into();
    let second = backend.save_draft(&draft, &drafts, Some(&first)).await.expect("draft replaced");
    assert_ne!(first, second);
    let gone = backend.summaries(vec![first.clone()]).await.expect("get");
    assert!(gone.is_empty(), "the old draft was replaced, not kept");

    let receipt = backend
        .send(&draft, &SendMailboxes { drafts: drafts.clone(), sent: sent.clone() }, Some(&second), None)
        .await
        .expect("sent");
    assert!(receipt.submission_id.is_some());
    let mut now = backend.summaries(vec![receipt.email_id.clone()]).await.expect("get");
    let mail = now.pop().expect("the sent mail");
    assert!(!mail.has_keyword(keyword::DRAFT), "no longer a draft");
    if let Some(sent) = sent {
        assert!(
            mail.in_mailbox(&sent) && !mail.in_mailbox(&drafts),
            "moved from Drafts to Sent: {:?}",
            mail.mailbox_ids
        );
    }
}
