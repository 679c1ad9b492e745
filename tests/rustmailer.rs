//! RustMailer through the gateway, in headless Chromium: every RPC the backend uses, against the
//! RustMailer stand-in (HTTP/2 only, gzip, HTTP JSON errors) behind the gateway's gRPC-web
//! translation; the error paths; push via event hooks relayed as SSE; and the same user journeys
//! the JMAP backend passes (list, read, flag, move, delete, search, send), through the mail engine.

#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use petrel::mail::backend::{MailBackend, SendMailboxes, WindowAt};
use petrel::mail::engine::{ActOutcome, MailEngine};
use petrel::mail::store::Row;
use petrel::mail::{keyword, Action, Address, Draft, Filter, MailError, MailQuery, Role};
use petrel::net::queue::LocalQueue;
use petrel::net::{fetch, now_ms, sleep, HttpRequest};
use petrel::rustmailer::backend::RustMailerBackend;
use petrel::rustmailer::client::RustMailer;
use petrel::rustmailer::proto as pb;
use petrel::rustmailer::push::{self, PushOptions, RustMailerPush};
use petrel::rustmailer::wire::{ThreadIds, ThreadPaging, WireShape};
use petrel::rustmailer::RustMailerError;
use wasm_bindgen_test::*;

mod common;

use common::{gateway, next_event, unique};

wasm_bindgen_test_configure!(run_in_browser);

const ALICE: u64 = 1;
const BOB: u64 = 2;

fn token() -> String {
    crate::rig_setting!("PETREL_TEST_RUSTMAILER_TOKEN").to_owned()
}

/// The stand-in's control port (tests inject mail and faults, and read what was sent).
fn control() -> &'static str {
    crate::rig_setting!("PETREL_TEST_RUSTMAILER_CONTROL")
}

fn client() -> RustMailer {
    RustMailer::new(gateway(), Some(token()))
}

async fn control_call(path: &str) -> serde_json::Value {
    let url = format!("{}{path}", control());
    let response = fetch(HttpRequest::post(url, vec![])).await.expect("the stand-in's control port answers");
    assert_eq!(response.status, 200, "{path}: {}", String::from_utf8_lossy(&response.body));
    serde_json::from_slice(&response.body).expect("control JSON")
}

async fn sent_with(message_id: &str) -> Vec<serde_json::Value> {
    let all = control_call("/sent").await;
    all.as_array().expect("a list").iter().filter(|s| s["message_id"] == message_id).cloned().collect()
}

async fn folder_id(rm: &RustMailer, account_id: u64, name: &str) -> String {
    let list = rm
        .list_mailboxes(pb::ListMailboxesRequest { account_id, remote: false })
        .await
        .expect("ListMailboxes")
        .mailboxes;
    list.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("folder {name}")).mailbox_id.to_string()
}

/// Waits until `check` holds, polling (the stand-in sends asynchronously, as RustMailer does).
async fn eventually<F, Fut>(what: &str, ms: f64, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = now_ms() + ms;
    while !check().await {
        assert!(now_ms() < deadline, "timed out waiting for {what}");
        sleep(100).await;
    }
}

#[wasm_bindgen_test]
async fn accounts_status_and_autoconfig() {
    let rm = client();
    let accounts = rm.list_minimal_accounts(pb::Empty {}).await.expect("ListMinimalAccounts").accounts;
    let emails: Vec<&str> = accounts.iter().map(|a| a.email.as_str()).collect();
    assert!(emails.contains(&"alice@example.org") && emails.contains(&"bob@example.org"), "{emails:?}");
    let paged = rm
        .list_accounts(pb::PaginateRequest { page: Some(1), page_size: Some(1), desc: None })
        .await
        .expect("ListAccounts");
    assert_eq!((paged.items.len(), paged.total_items), (1, 2));
    let account = rm.get_account(pb::AccountId { account_id: ALICE }).await.expect("GetAccount");
    assert_eq!(account.email, "alice@example.org");
    let state = rm.get_account_state(pb::AccountId { account_id: ALICE }).await.expect("GetAccountState");
    assert!(state.is_initial_sync_completed && state.errors.is_empty());
    let status = rm.get_status(pb::Empty {}).await.expect("GetStatus");
    assert!(!status.version.is_empty());
    let config = rm
        .get_autoconfig(pb::AutoconfigRequest { email_address: "someone@mail.example.com".into() })
        .await
        .expect("GetAutoconfig");
    assert_eq!(config.imap.expect("imap").host, "imap.mail.example.com");
    let bad = rm.get_autoconfig(pb::AutoconfigRequest { email_address: "not an address".into() }).await;
    assert!(matches!(bad, Err(RustMailerError::Invalid(_))), "{bad:?}");
    let templates = rm
        .list_templates(pb::ListTemplatesRequest { page: Some(1), page_size: Some(10), desc: None })
        .await
        .expect("ListTemplates");
    assert_eq!(templates.items.len() as u64, templates.total_items.min(10));
}

/// RustMailer gzips every message; the gateway inflates them and compresses the HTTP answer
/// instead (which the browser decodes): the app reads plain frames and carries no gzip code.
#[wasm_bindgen_test]
async fn gzipped_messages_arrive_inflated_by_the_gateway() {
    let url = format!("{}/rustmailer.grpc.AccountService/ListMinimalAccounts", gateway());
    let request = HttpRequest::post(url, vec![0, 0, 0, 0, 0])
        .header("content-type", "application/grpc-web+proto")
        .header("x-grpc-web", "1")
        .header("authorization", format!("Bearer {}", token()));
    let response = fetch(request).await.expect("a gRPC-web answer");
    assert_eq!(response.status, 200);
    assert_eq!(response.body.first(), Some(&0u8), "the first frame's compressed flag is clear");
    let length = u32::from_be_bytes(response.body[1..5].try_into().expect("a frame prefix")) as usize;
    let message = &response.body[5..5 + length];
    assert_ne!(&message[..2], &[0x1f, 0x8b], "not gzip any more");
    let accounts = <pb::ListMinimalAccountsResponse as prost::Message>::decode(message).expect("a protobuf message");
    assert!(!accounts.accounts.is_empty(), "{accounts:?}");
}

#[wasm_bindgen_test]
async fn lists_page_by_cursor_and_big_pages_are_refused() {
    let rm = client();
    let mut token = None;
    let mut uids = std::collections::BTreeSet::new();
    let mut pages = 0;
    loop {
        let page = rm
            .list_messages(pb::ListMessagesRequest {
                account_id: ALICE,
                mailbox_name: "Bulk".into(),
                next_page_token: token.clone(),
                page_size: 100,
                remote: false,
                desc: true,
            })
            .await
            .expect("ListMessages");
        pages += 1;
        assert!(page.items.len() <= 100);
        uids.extend(page.items.iter().map(|e| e.id.clone()));
        token = page.next_page_token;
        if token.is_none() {
            assert_eq!(uids.len() as u64, page.total_items, "every message once across pages");
            break;
        }
    }
    assert_eq!(pages, 3, "250 messages in pages of 100");
    let big = rm
        .list_messages(pb::ListMessagesRequest {
            account_id: ALICE,
            mailbox_name: "Bulk".into(),
            next_page_token: None,
            page_size: 101,
            remote: false,
            desc: true,
        })
        .await;
    assert!(matches!(big, Err(RustMailerError::Invalid(ref m)) if m.contains("page_size")), "{big:?}");
    let threads = rm
        .list_threads(
            pb::ListThreadsRequest {
                account_id: ALICE,
                mailbox_name: "INBOX".into(),
                next_page_token: None,
                page_size: 50,
                desc: true,
                remote: false,
            },
            1,
        )
        .await
        .expect("ListThreads");
    let report = threads
        .items
        .iter()
        .find(|e| e.subject.as_deref() == Some("Re: Quarterly report"))
        .expect("the thread's newest message");
    let thread = rm.get_thread_messages(ALICE, &report.thread_id).await.expect("GetThreadMessages");
    // The seeded pair in INBOX (replies sent by other tests join the thread from Sent).
    assert_eq!(
        thread.items.iter().filter(|e| e.mailbox_name == "INBOX").count(),
        2,
        "{:?}",
        thread.items.iter().map(|e| &e.subject).collect::<Vec<_>>()
    );
}

#[wasm_bindgen_test]
async fn error_paths_are_typed() {
    let bad = RustMailer::new(gateway(), Some("not-the-token".into()));
    let e = bad.list_minimal_accounts(pb::Empty {}).await.expect_err("a bad token is refused");
    assert!(matches!(e, RustMailerError::BadToken(_)), "{e:?}");
    assert!(e.to_string().contains("sign in again"), "{e}");
    let refused = RustMailer::new(gateway(), Some(crate::rig_setting!("PETREL_TEST_RUSTMAILER_REFUSED_TOKEN").into()));
    let e = refused.list_minimal_accounts(pb::Empty {}).await.expect_err("HTTP 403 from RustMailer");
    assert!(matches!(e, RustMailerError::Forbidden(_)), "{e:?}");
    let e = client().get_account(pb::AccountId { account_id: 999 }).await.expect_err("no such account");
    assert!(matches!(e, RustMailerError::NotFound(_)), "{e:?}");
    // RustMailer itself speaks HTTP/2 only and has no CORS: a browser calling it directly gets
    // nowhere, which is why the gateway exists; the client says so as a connection problem.
    let direct = RustMailer::new(crate::rig_setting!("PETREL_TEST_RUSTMAILER_DIRECT"), Some(token()));
    let e = direct.list_minimal_accounts(pb::Empty {}).await.expect_err("HTTP/1.1 is refused");
    assert!(matches!(e, RustMailerError::Network(_) | RustMailerError::Unavailable(_)), "{e:?}");
}

#[wasm_bindgen_test]
async fn a_slow_call_ends_at_its_deadline() {
    control_call("/fault?method=GetStatus&delay_ms=4000&count=1").await;
    let started = now_ms();
    let e = client().with_deadline(1).get_status(pb::Empty {}).await.expect_err("RustMailer answers 408");
    assert_eq!(e, RustMailerError::Timeout);
    assert!(now_ms() - started < 3_900.0, "ended by the deadline, not by the slow answer");
    control_call("/clear").await;
    client().get_status(pb::Empty {}).await.expect("fine again");
}

#[wasm_bindgen_test]
async fn reading_a_message_uses_its_sections_and_checks_attachments() {
    let rm = client();
    let backend = RustMailerBackend::connect(rm.clone(), ALICE).await.expect("connect");
    let inbox = folder_id(&rm, ALICE, "INBOX").await;
    let query = MailQuery { threads: false, ..MailQuery::mailbox(&inbox) };
    let window = backend.window(&query, WindowAt::Position(0), 50).await.expect("window");
    let report = window.summaries.iter().find(|s| s.subject == "Quarterly report").expect("seeded mail");
    assert!(report.has_attachment);
    let message = backend.message(&report.id, 100_000).await.expect("content");
    assert!(message.text_body.as_deref().is_some_and(|t| t.contains("quarterly report is attached")));
    assert_eq!(message.attachments.len(), 1);
    let attachment = &message.attachments[0];
    let id = attachment.blob_id.clone().expect("attachment id");
    let bytes = backend.attachment(&report.id, &id).await.expect("attachment");
    assert!(bytes.starts_with(b"quarter,revenue"));
    assert_eq!(bytes.len() as u64, attachment.size);
    assert_eq!(backend.attachment(&report.id, &id).await.expect("again, same digest"), bytes);
    // Without sections RustMailer refuses IMAP content: the backend always sends them.
    let (_, uid) = petrel::rustmailer::convert::split_email_id(&report.id).expect("our id");
    let bare = rm
        .fetch_message_content(pb::FetchMessageContentRequest {
            account_id: ALICE,
            mailbox_name: Some("INBOX".into()),
            id: uid.into(),
            max_length: None,
            sections: vec![],
            inline: vec![],
        })
        .await;
    assert!(matches!(bare, Err(RustMailerError::Invalid(_))), "{bare:?}");
    let html = window.summaries.iter().find(|s| s.subject == "Autumn offers").expect("newsletter");
    let news = backend.message(&html.id, 100_000).await.expect("html content");
    assert!(news.html_body.as_deref().is_some_and(|h| h.contains("<h1>Autumn offers</h1>")));
}

/// A fresh folder in bob's account with `subjects` delivered into it (oldest first).
async fn folder_with(rm: &RustMailer, subjects: &[&str]) -> (String, String) {
    let name = unique("rm");
    rm.create_mailbox(pb::CreateMailboxRequest {
        account_id: BOB,
        mailbox_name: name.clone(),
        parent_name: None,
        label_color: None,
    })
    .await
    .expect("CreateMailbox");
    for s in subjects {
        control_call(&format!(
            "/deliver?account={BOB}&mailbox={name}&subject={}&text=About+{}",
            s.replace(' ', "+"),
            s.replace(' ', "+")
        ))
        .await;
    }
    let id = folder_id(rm, BOB, &name).await;
    (name, id)
}

fn loaded(engine: &MailEngine, query: &MailQuery) -> Vec<petrel::mail::EmailSummary> {
    engine
        .read(|s| s.rows(query, 0, 100))
        .into_iter()
        .filter_map(|r| if let Row::Loaded(e) = r { Some(e) } else { None })
        .collect()
}

#[wasm_bindgen_test]
async fn user_journeys_on_the_rustmailer_backend() {
    let rm = client();
    let (_, folder) = folder_with(&rm, &["alpha note", "beta note", "gamma note"]).await;
    let backend = Rc::new(RustMailerBackend::connect(rm.clone(), BOB).await.expect("connect"));
    let engine = MailEngine::open(&unique("rm-engine"), None).await;
    engine.attach(backend.clone());
    engine.sync().await.expect("first sync");
    let archive = engine.read(|s| s.mailbox_with_role(Role::Archive).map(|m| m.id.clone())).expect("an Archive folder");

    // List: newest first.
    let query = MailQuery { threads: false, ..MailQuery::mailbox(&folder) };
    engine.show(&query, 0, 50).await.expect("list");
    let rows = loaded(&engine, &query);
    assert_eq!(rows.iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(), ["gamma note", "beta note", "alpha note"]);
    assert!(rows.iter().all(|e| e.is_unread()));

    // Read.
    let message = engine.message(&rows[0].id).await.expect("read");
    assert!(message.text_body.as_deref().is_some_and(|t| t.contains("About gamma note")));

    // Flag and mark read: on the server, seen by a fresh look.
    assert_eq!(
        engine
            .act(Action::SetKeyword { ids: vec![rows[0].id.clone()], keyword: keyword::FLAGGED.into(), on: true })
            .await,
        ActOutcome::Done
    );
    assert_eq!(
        engine.act(Action::SetKeyword { ids: vec![rows[1].id.clone()], keyword: keyword::SEEN.into(), on: true }).await,
        ActOutcome::Done
    );
    let name = rm
        .list_mailboxes(pb::ListMailboxesRequest { account_id: BOB, remote: false })
        .await
        .unwrap()
        .mailboxes
        .into_iter()
        .find(|m| m.mailbox_id.to_string() == folder)
        .unwrap()
        .name;
    let listed = rm
        .list_messages(pb::ListMessagesRequest {
            account_id: BOB,
            mailbox_name: name.clone(),
            next_page_token: None,
            page_size: 10,
            remote: false,
            desc: true,
        })
        .await
        .unwrap()
        .items;
    let flags_of = |subject: &str| {
        petrel::rustmailer::convert::keywords(
            &listed.iter().find(|e| e.subject.as_deref() == Some(subject)).unwrap().flags,
        )
    };
    assert!(flags_of("gamma note").contains_key(keyword::FLAGGED));
    assert!(flags_of("beta note").contains_key(keyword::SEEN));
    assert!(!flags_of("alpha note").contains_key(keyword::SEEN));

    // Search (server side, IMAP SEARCH): finds by subject.
    let search = MailQuery {
        filter: Filter { text: Some("beta".into()), ..Filter::in_mailbox(&folder) },
        threads: false,
        ..MailQuery::mailbox(&folder)
    };
    let hits = backend.window(&search, WindowAt::Position(0), 50).await.expect("search");
    assert_eq!(hits.summaries.iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(), ["beta note"]);

    // Move to Archive, delete (to Trash, then for good).
    assert_eq!(
        engine
            .act(Action::Move { ids: vec![rows[2].id.clone()], from: Some(folder.clone()), to: archive.clone() })
            .await,
        ActOutcome::Done
    );
    let delete = engine.delete_action(vec![rows[1].id.clone()], Some(folder.clone()));
    assert_eq!(engine.act(delete).await, ActOutcome::Done);
    engine.sync().await.expect("sync after changes");
    engine.show(&query, 0, 50).await.expect("list again");
    assert_eq!(loaded(&engine, &query).iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(), ["gamma note"]);
    let in_trash = rm
        .list_messages(pb::ListMessagesRequest {
            account_id: BOB,
            mailbox_name: "Trash".into(),
            next_page_token: None,
            page_size: 100,
            remote: false,
            desc: true,
        })
        .await
        .unwrap()
        .items;
    let trashed =
        in_trash.iter().find(|e| e.subject.as_deref() == Some("beta note")).expect("deleted mail is in Trash");
    let trash_id = petrel::rustmailer::convert::email_id(trashed.mailbox_id, &trashed.id);
    assert_eq!(engine.act(Action::Destroy { ids: vec![trash_id.clone()] }).await, ActOutcome::Done);
    let gone = backend.summaries(vec![trash_id]).await.expect("lookup");
    assert!(gone.is_empty(), "destroyed for good");

    // New mail is noticed by the cheap poll (folder counts), with no push involved.
    control_call(&format!("/deliver?account={BOB}&mailbox={name}&subject=delta+note")).await;
    engine.sync().await.expect("poll");
    engine.show(&query, 0, 50).await.expect("list");
    assert!(loaded(&engine, &query).iter().any(|e| e.subject == "delta note"), "new mail appears after a sync");

    // Folders: create, rename, delete.
    let (local, outcome) = engine.create_mailbox(&unique("Projects"), None).await;
    assert_eq!(outcome, ActOutcome::Done, "{local}");
    let created = engine.read(|s| s.server_id(&local).to_owned());
    assert_ne!(created, local, "the server's id replaced the local one");
    let renamed = unique("Renamed");
    assert_eq!(
        engine.act(Action::RenameMailbox { id: created.clone(), name: renamed.clone() }).await,
        ActOutcome::Done
    );
    assert!(rm
        .list_mailboxes(pb::ListMailboxesRequest { account_id: BOB, remote: false })
        .await
        .unwrap()
        .mailboxes
        .iter()
        .any(|m| m.name == renamed));
    assert_eq!(engine.act(Action::DestroyMailbox { id: created }).await, ActOutcome::Done);
    assert!(!rm
        .list_mailboxes(pb::ListMailboxesRequest { account_id: BOB, remote: false })
        .await
        .unwrap()
        .mailboxes
        .iter()
        .any(|m| m.name == renamed));

    // Unified search across accounts by address.
    let all = rm
        .unified_search(pb::UnifiedSearchRequest {
            accounts: vec![],
            email: "bob@example.org".into(),
            after: None,
            before: None,
            page: 1,
            page_size: 50,
            desc: true,
        })
        .await
        .expect("UnifiedSearch");
    assert!(all.items.iter().any(|e| e.account_id == ALICE), "bob's mail to alice is found from alice's account too");
}

fn draft(to: &str, subject: &str) -> Draft {
    Draft {
        to: vec![Address { name: None, email: to.into() }],
        subject: subject.into(),
        text_body: format!("Body of {subject}"),
        message_id: Some(format!("{}@petrel.test", unique("mid"))),
        ..Draft::default()
    }
}

#[wasm_bindgen_test]
async fn sending_is_a_task_that_can_be_held_and_taken_back() {
    let rm = client();
    let backend = RustMailerBackend::connect(rm.clone(), ALICE).await.expect("connect");
    let mailboxes = SendMailboxes {
        drafts: folder_id(&rm, ALICE, "Drafts").await,
        sent: Some(folder_id(&rm, ALICE, "Sent").await),
    };

    // Sent now: the task runs SCHEDULED -> RUNNING -> SUCCESS and "SMTP" gets it once.
    let now = draft("carol@example.org", &unique("now"));
    let mid = now.message_id.clone().unwrap();
    let sent = backend.send(&now, &mailboxes, None, None).await.expect("SendNewMail");
    let task_id: u64 = sent.submission_id.expect("the task was found by Message-ID").parse().unwrap();
    eventually("the task to succeed", 10_000.0, || async {
        backend.task(task_id).await.map(|t| t.status == pb::TaskStatus::Success).unwrap_or(false)
    })
    .await;
    assert_eq!(sent_with(&mid).await.len(), 1);
    let found = backend.find_by_message_id(&mid).await.expect("lookup").expect("found");
    assert!(!found.still_draft && found.held_submission.is_none());

    // Held (undo window): RemoveEmailTask takes it back; nothing is sent.
    let held = draft("carol@example.org", &unique("held"));
    let held_mid = held.message_id.clone().unwrap();
    let sent = backend.send(&held, &mailboxes, None, Some(now_ms() + 60_000.0)).await.expect("held send");
    let task = sent.submission_id.expect("task");
    let found = backend.find_by_message_id(&held_mid).await.unwrap().unwrap();
    assert_eq!(found.held_submission.as_deref(), Some(task.as_str()));
    backend.cancel_send(&task, &sent.email_id, &mailboxes).await.expect("taken back");
    assert_eq!(backend.task(task.parse().unwrap()).await.unwrap().status, pb::TaskStatus::Removed);
    assert!(backend.find_by_message_id(&held_mid).await.unwrap().unwrap().still_draft);
    // Too late: a sent task cannot be taken back.
    let late = backend.cancel_send(&task_id.to_string(), &mid, &mailboxes).await;
    assert_eq!(late, Err(MailError::AlreadySent));

    // Refused before queueing (not an address) and failed after (the relay bounces): both typed.
    let bad = backend.send(&draft("no-at-sign", "x"), &mailboxes, None, None).await;
    assert!(matches!(bad, Err(MailError::Refused { .. })), "{bad:?}");
    let bounce = draft("someone@nowhere.invalid", &unique("bounce"));
    let sent = backend.send(&bounce, &mailboxes, None, None).await.expect("queued");
    let task_id: u64 = sent.submission_id.unwrap().parse().unwrap();
    eventually("the task to fail", 10_000.0, || async {
        backend.task(task_id).await.map(|t| t.status == pb::TaskStatus::Failed).unwrap_or(false)
    })
    .await;
    let failed = backend.task(task_id).await.unwrap();
    assert!(failed.error.as_deref().is_some_and(|e| e.contains("550")), "{failed:?}");
    let tasks = rm
        .list_email_tasks(pb::ListTasksRequest {
            page: Some(1),
            page_size: Some(100),
            desc: Some(true),
            status: Some(pb::TaskStatus::Failed as i32),
        })
        .await
        .expect("ListEmailTasks");
    assert!(tasks.items.iter().any(|t| t.id == task_id));
}

#[wasm_bindgen_test]
async fn reply_and_forward_with_a_base64_attachment() {
    use base64::Engine;
    let rm = client();
    let listed = rm
        .list_messages(pb::ListMessagesRequest {
            account_id: ALICE,
            mailbox_name: "INBOX".into(),
            next_page_token: None,
            page_size: 50,
            remote: false,
            desc: true,
        })
        .await
        .unwrap()
        .items;
    let original = listed.iter().find(|e| e.subject.as_deref() == Some("Quarterly report")).expect("seeded");
    let bytes: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
    let attachment = pb::MailAttachment {
        file_name: Some("numbers.bin".into()),
        payload: Some(pb::AttachmentPayload {
            payload_type: Some(pb::attachment_payload::PayloadType::Base64Content(
                base64::engine::general_purpose::STANDARD.encode(&bytes),
            )),
        }),
        mime_type: "application/octet-stream".into(),
        inline: false,
        content_id: None,
    };
    let marker = unique("reply");
    let reply = pb::ReplyEmailRequest {
        mailbox_name: "INBOX".into(),
        id: original.id.clone(),
        text: Some(format!("Thanks! {marker}")),
        attachments: vec![attachment.clone()],
        send_control: Some(pb::SendControl::default()),
        ..Default::default()
    };
    rm.reply_mail(pb::ReplyMailRequest { account_id: ALICE, request: Some(reply) }).await.expect("ReplyMail");
    let fwd = pb::ForwardEmailRequest {
        mailbox_name: "INBOX".into(),
        id: original.id.clone(),
        to: vec![pb::EmailAddress { name: None, address: "dave@example.org".into() }],
        text: Some(format!("FYI {marker}")),
        include_all_attachments: Some(true),
        send_control: Some(pb::SendControl::default()),
        ..Default::default()
    };
    rm.forward_mail(pb::ForwardMailRequest { account_id: ALICE, request: Some(fwd) }).await.expect("ForwardMail");
    eventually("both in Sent", 10_000.0, || async {
        let sent = rm
            .list_messages(pb::ListMessagesRequest {
                account_id: ALICE,
                mailbox_name: "Sent".into(),
                next_page_token: None,
                page_size: 100,
                remote: false,
                desc: true,
            })
            .await
            .unwrap()
            .items;
        sent.iter()
            .filter(|e| {
                e.subject.as_deref().is_some_and(|s| s == "Re: Quarterly report" || s == "Fwd: Quarterly report")
            })
            .count()
            >= 2
    })
    .await;
    let sent = rm
        .list_messages(pb::ListMessagesRequest {
            account_id: ALICE,
            mailbox_name: "Sent".into(),
            next_page_token: None,
            page_size: 100,
            remote: false,
            desc: true,
        })
        .await
        .unwrap()
        .items;
    let reply = sent.iter().find(|e| e.subject.as_deref() == Some("Re: Quarterly report")).unwrap();
    assert_eq!(reply.in_reply_to.as_deref(), original.message_id.as_deref());
    let got = rm
        // Named by its part, as 1.6.0 reads it, and by id, as the revision does (what the backend sends).
        .fetch_message_attachment(pb::FetchMessageAttachmentRequest {
            account_id: ALICE,
            id: reply.id.clone(),
            mailbox_name: Some("Sent".into()),
            attachment: Some(reply.attachments[0].clone()),
            attachment_id: Some(reply.attachments[0].id.clone()),
            ..Default::default()
        })
        .await
        .expect("the attachment as sent");
    assert_eq!(got.data, bytes, "base64 in, the same bytes out");
    let forward = sent.iter().find(|e| e.subject.as_deref() == Some("Fwd: Quarterly report")).unwrap();
    assert_eq!(
        forward.attachments.iter().map(|a| a.filename.as_deref().unwrap_or("")).collect::<Vec<_>>(),
        ["report.csv"],
        "the original's attachment went along"
    );
}

#[wasm_bindgen_test]
async fn event_hooks_arrive_as_server_sent_events() {
    let events = LocalQueue::new();
    let sink = events.clone();
    let _push = push::start(client(), BOB, PushOptions::default(), move |e| sink.push(e));
    next_event(&events, 10_000, "the stream", |e| *e == RustMailerPush::Connected).await;
    let subject = unique("pushed");
    control_call(&format!("/deliver?account={BOB}&mailbox=INBOX&subject={subject}")).await;
    let event = next_event(
        &events,
        10_000,
        "EMAIL_ADDED_TO_FOLDER",
        |e| matches!(e, RustMailerPush::Event { kind, .. } if kind == "EMAIL_ADDED_TO_FOLDER"),
    )
    .await;
    let RustMailerPush::Event { data, .. } = event else { unreachable!() };
    let data: serde_json::Value = serde_json::from_str(&data).expect("the hook's JSON");
    assert_eq!(data["account_id"], BOB);
    // Another account's events are not relayed to this stream.
    control_call(&format!("/deliver?account={ALICE}&mailbox=INBOX&subject=not-for-bob")).await;
    control_call(&format!("/deliver?account={BOB}&mailbox=INBOX&subject=second")).await;
    let next = next_event(&events, 10_000, "the next event", |e| matches!(e, RustMailerPush::Event { .. })).await;
    let RustMailerPush::Event { data, .. } = next else { unreachable!() };
    assert!(data.contains("\"account_id\":2"), "{data}");
    // A wrong token gets no stream: polling takes over.
    let polled = LocalQueue::new();
    let sink = polled.clone();
    let options = PushOptions { poll_interval_ms: 300, ..PushOptions::default() };
    let _bad = push::start(RustMailer::new(gateway(), Some("wrong".into())), BOB, options, move |e| sink.push(e));
    next_event(
        &polled,
        10_000,
        "a refusal",
        |e| matches!(e, RustMailerPush::Disconnected { reason, .. } if reason.contains("401")),
    )
    .await;
    next_event(&polled, 5_000, "a poll", |e| *e == RustMailerPush::Poll).await;
}

/// Which wire the stand-in behind the gateway speaks in this run (scripts/test runs the RustMailer
/// suites once per released wire).
fn expected_wire() -> (ThreadIds, ThreadPaging) {
    match option_env!("PETREL_TEST_RUSTMAILER_WIRE").unwrap_or("revision") {
        "1.6.0" => (ThreadIds::Number, ThreadPaging::Page),
        _ => (ThreadIds::Text, ThreadPaging::Cursor),
    }
}

#[wasm_bindgen_test]
async fn the_servers_wire_is_told_by_the_shape_of_its_answers() {
    let rm = client();
    assert_eq!(rm.wire_shape(), WireShape::default(), "nothing is assumed before an answer");
    let (ids, paging) = expected_wire();
    // Envelopes read on either wire; what their thread ids look like is learned on the way.
    let inbox = rm
        .list_messages(pb::ListMessagesRequest {
            account_id: ALICE,
            mailbox_name: "INBOX".into(),
            next_page_token: None,
            page_size: 20,
            remote: false,
            desc: true,
        })
        .await
        .expect("ListMessages");
    assert!(!inbox.items.is_empty() && inbox.items.iter().all(|e| !e.thread_id.is_empty()));
    assert_eq!(rm.wire_shape().thread_ids, Some(ids));
    assert_eq!(rm.wire_shape().thread_paging, None, "paging is learned from ListThreads alone");

    // Conversations page through all of Bulk's threads, by cursor or by page number.
    let mut seen = std::collections::BTreeSet::new();
    let (mut token, mut page) = (None, 1);
    loop {
        let request = pb::ListThreadsRequest {
            account_id: ALICE,
            mailbox_name: "Bulk".into(),
            next_page_token: token.clone(),
            page_size: 100,
            desc: true,
            remote: false,
        };
        let threads = rm.list_threads(request, page).await.expect("ListThreads");
        assert_eq!(rm.wire_shape().thread_paging, Some(paging));
        for e in &threads.items {
            assert!(seen.insert(e.thread_id.clone()), "thread {} listed twice", e.thread_id);
        }
        token = threads.next_page_token;
        if token.is_none() {
            assert_eq!(seen.len() as u64, threads.total_items, "every thread once across pages");
            break;
        }
        page += 1;
    }
    assert_eq!(page, 3, "250 threads in pages of 100");

    // A conversation opens by the id its envelope gave, whatever the wire made of it.
    let one = seen.iter().next().expect("a thread").clone();
    let thread = rm.get_thread_messages(ALICE, &one).await.expect("GetThreadMessages");
    assert!(!thread.items.is_empty() && thread.items.iter().all(|e| e.thread_id == one));
    // What was learned stays with this client and its clones.
    assert_eq!(rm.clone().wire_shape().thread_paging, Some(paging));

    // A conversation opened before any list has shown the wire (from the offline copy, after a
    // reload) still opens, and its answer teaches the thread ids' shape.
    let fresh = client();
    let again = fresh.get_thread_messages(ALICE, &one).await.expect("GetThreadMessages before anything was learned");
    assert_eq!(again.items.len(), thread.items.len());
    assert_eq!(fresh.wire_shape().thread_ids, Some(ids));
}

#[wasm_bindgen_test]
async fn an_answer_petrel_cannot_read_is_named_and_is_not_an_outage() {
    let rm = client();
    control_call("/fault?method=ListMessages&garble=before").await;
    let request = || pb::ListMessagesRequest {
        account_id: ALICE,
        mailbox_name: "INBOX".into(),
        next_page_token: None,
        page_size: 5,
        remote: false,
        desc: true,
    };
    let garbled = rm.list_messages(request()).await;
    match &garbled {
        Err(e @ RustMailerError::Undecodable { rpc, .. }) => {
            assert_eq!(rpc, "ListMessages");
            assert!(!e.is_transient(), "a server that answers is not down");
        }
        other => panic!("expected Undecodable, got {other:?}"),
    }
    assert!(rm.list_messages(request()).await.is_ok(), "the next answer reads");

    // Through the engine: the list says what went wrong, and the account does not go offline.
    let (_, folder) = folder_with(&rm, &["readable"]).await;
    let backend = Rc::new(RustMailerBackend::connect(rm.clone(), BOB).await.expect("connect"));
    let engine = MailEngine::open(&unique("rm-undecodable"), None).await;
    let offline = LocalQueue::new();
    let sink = offline.clone();
    let _subscription = engine.subscribe(move |event| {
        if matches!(event, petrel::mail::engine::EngineEvent::Reachable(false)) {
            sink.push(());
        }
    });
    engine.attach(backend);
    engine.sync().await.expect("first sync");
    control_call("/fault?method=ListMessages&garble=before").await;
    let query = MailQuery { threads: false, ..MailQuery::mailbox(&folder) };
    let shown = engine.show(&query, 0, 50).await;
    // RustMailerError::Undecodable, as the engine reads it: an answer Petrel cannot read, named.
    assert!(
        matches!(shown, Err(MailError::Unreadable(ref text)) if text.contains("ListMessages") && text.contains("does not read")),
        "{shown:?}"
    );
    assert!(offline.is_empty(), "an answer that cannot be read did not make the account offline");
    engine.show(&query, 0, 50).await.expect("the list loads once answers read again");
    assert_eq!(loaded(&engine, &query).iter().map(|e| e.subject.as_str()).collect::<Vec<_>>(), ["readable"]);
}

#[wasm_bindgen_test]
fn a_bounce_reported_by_an_event_names_the_mail_when_petrel_sent_it() {
    let event =
        r#"{"event_type":"EMAIL_SENDING_ERROR","payload":{"message_id":"<m1@petrel>","error":"550 no such user"}}"#;
    let ours = |id: &str| (id == "m1@petrel").then(|| "Budget".to_owned());
    assert_eq!(push::sending_error_text(event, ours), "RustMailer could not deliver “Budget”: 550 no such user");
    assert_eq!(push::sending_error_text(event, |_| None), "RustMailer could not deliver a message: 550 no such user");
    assert_eq!(
        push::sending_error_text("not JSON", |_| None),
        "RustMailer could not deliver a message: no reason given"
    );
}
