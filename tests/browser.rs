//! Browser tests, in headless Chromium, against the real Cyrus server through the gateway.
//!
//! `scripts/test` starts both and passes the gateway's address at build time.

#![cfg(target_arch = "wasm32")]

use leptos::prelude::*;
use petrel::auth::Credentials;
use petrel::jmap::client::JmapClient;
use petrel::jmap::{capability, JmapError};
use petrel::mail::{Mailbox, Role};
use petrel::net::{fetch, HttpRequest, NetError};
use petrel::ui::App;
use wasm_bindgen::{closure::Closure, JsCast};
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlElement, HtmlInputElement};

mod common;

use common::{demo_credentials, gateway};

wasm_bindgen_test_configure!(run_in_browser);

fn document() -> web_sys::Document {
    web_sys::window().and_then(|w| w.document()).expect("a document")
}

/// Resolves on the next DOM mutation under `root`, or after `ms` milliseconds, whichever is first.
async fn next_mutation(root: &Element, ms: i32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let on_change = Closure::once_into_js(move || {
            let _ = resolve.call0(&wasm_bindgen::JsValue::NULL);
        });
        let callback: &js_sys::Function = on_change.unchecked_ref();
        if let Ok(observer) = web_sys::MutationObserver::new(callback) {
            let options = web_sys::MutationObserverInit::new();
            options.set_child_list(true);
            options.set_subtree(true);
            options.set_character_data(true);
            options.set_attributes(true);
            let _ = observer.observe_with_options(root, &options);
        }
        let _ = web_sys::window().expect("window").set_timeout_with_callback_and_timeout_and_arguments_0(callback, ms);
    });
    let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
}

/// Awaits DOM changes until `find` returns something, failing after `timeout_ms`.
async fn wait_for<T>(root: &Element, what: &str, timeout_ms: f64, mut find: impl FnMut() -> Option<T>) -> T {
    let start = js_sys::Date::now();
    loop {
        if let Some(found) = find() {
            return found;
        }
        let left = timeout_ms - (js_sys::Date::now() - start);
        assert!(left > 0.0, "timed out waiting for {what}; page shows: {}", root.text_content().unwrap_or_default());
        next_mutation(root, left.min(500.0) as i32).await;
    }
}

struct Mounted {
    root: HtmlElement,
    _handle: leptos::mount::UnmountHandle<leptos::tachys::view::any_view::AnyViewState>,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        self.root.remove();
    }
}

fn mount_app() -> Mounted {
    let root: HtmlElement = document().create_element("div").expect("div").unchecked_into();
    document().body().expect("body").append_child(&root).expect("append");
    let handle = leptos::mount::mount_to(root.clone(), || view! { <App /> }.into_any());
    Mounted { root, _handle: handle }
}

fn find(root: &Element, selector: &str) -> Option<Element> {
    root.query_selector(selector).ok().flatten()
}

fn type_into(root: &Element, selector: &str, text: &str) {
    let input: HtmlInputElement = find(root, selector).unwrap_or_else(|| panic!("no {selector}")).unchecked_into();
    input.set_value(text);
    let init = web_sys::EventInit::new();
    init.set_bubbles(true);
    let event = web_sys::Event::new_with_event_init_dict("input", &init).expect("event");
    input.dispatch_event(&event).expect("dispatch");
}

async fn sign_in_with(root: &Element, server: &str, user: &str, password: &str) {
    wait_for(root, "the sign-in form", 5_000.0, || find(root, "#sign-in")).await;
    type_into(root, "#server", server);
    type_into(root, "#username", user);
    type_into(root, "#password", password);
    let button: HtmlElement = find(root, "#sign-in-button").expect("sign-in button").unchecked_into();
    button.click();
}

async fn alert_text(root: &Element) -> String {
    wait_for(root, "an error message", 15_000.0, || {
        find(root, "[role=alert]").and_then(|e| e.text_content()).filter(|t| !t.trim().is_empty())
    })
    .await
}

async fn server_mailboxes() -> Vec<Mailbox> {
    let client = JmapClient::connect(gateway(), demo_credentials()).await.expect("demo sign-in");
    petrel::jmap::mail::mailbox::fetch_all(&client).await.expect("Mailbox/get")
}

/// The subject of the Inbox's newest conversation, as the server sorts it (other suites and
/// journeys may have delivered mail since the seeding).
async fn newest_inbox_subject(inbox_id: &str) -> String {
    let client = JmapClient::connect(gateway(), demo_credentials()).await.expect("demo sign-in");
    let account = client.session().primary_account(capability::MAIL).expect("a mail account").to_owned();
    let mut request = petrel::jmap::Request::new().using(capability::MAIL);
    let query = request.call(
        "Email/query",
        serde_json::json!({ "accountId": account, "filter": { "inMailbox": inbox_id }, "sort": [{ "property": "receivedAt", "isAscending": false }], "collapseThreads": true, "limit": 1 }),
    );
    let get = request.call(
        "Email/get",
        serde_json::json!({ "accountId": account, "#ids": query.result("/ids"), "properties": ["subject"] }),
    );
    let mut response = client.send(&request).await.expect("Email/query and get");
    response.take(&get).expect("Email/get")["list"][0]["subject"].as_str().expect("a subject").to_owned()
}

#[wasm_bindgen_test]
async fn session_is_discovered_through_the_gateway() {
    let client = JmapClient::connect(gateway(), demo_credentials()).await.expect("session");
    let session = client.session();
    assert_eq!(session.username, "demo@example.org");
    assert!(session.url.as_str().starts_with(gateway()), "redirect left the gateway: {}", session.url);
    assert!(session.api_url.as_str().starts_with(gateway()), "apiUrl not resolved: {}", session.api_url);
    assert!(session.has_capability(capability::MAIL));
    assert!(session.has_capability(capability::SUBMISSION), "the SMTP sink must be up before Cyrus");
    assert!(session.core.max_calls_in_request >= 1 && session.core.max_objects_in_get >= 1);
    // Account ids are the server's own (Cyrus: the login; Stalwart: a short id); the name is the login.
    let account = session.primary_account(capability::MAIL).expect("mail account");
    assert_eq!(session.accounts.get(account).map(|a| a.name.as_str()), Some("demo@example.org"));
}

#[wasm_bindgen_test]
async fn mailbox_get_returns_the_seeded_folders() {
    let boxes = server_mailboxes().await;
    for role in [Role::Inbox, Role::Drafts, Role::Sent, Role::Archive, Role::Junk, Role::Trash] {
        assert!(boxes.iter().any(|m| m.role == role), "no {role:?} in {boxes:?}");
    }
    let projects = boxes.iter().find(|m| m.name == "Projects").expect("Projects");
    let petrel = boxes.iter().find(|m| m.name == "Petrel").expect("Projects/Petrel");
    assert_eq!(petrel.parent_id.as_deref(), Some(projects.id.as_str()));
    let inbox = boxes.iter().find(|m| m.role == Role::Inbox).expect("Inbox");
    assert!(inbox.unread_emails > 0 && inbox.unread_emails < inbox.total_emails, "{inbox:?}");
}

#[wasm_bindgen_test]
async fn wrong_password_is_a_typed_error() {
    let err = JmapClient::connect(gateway(), Credentials::basic("demo@example.org", "wrong")).await.unwrap_err();
    assert_eq!(err, JmapError::Unauthorized);
}

#[wasm_bindgen_test]
async fn responses_over_the_body_limit_are_refused() {
    let session_url = format!("{}/jmap/", gateway());
    let auth = demo_credentials().authorization_header();
    let whole = fetch(HttpRequest::get(&session_url).header("authorization", auth.clone())).await.expect("session");
    assert!(whole.body.len() > 64, "the session is too small for this test");
    let capped = fetch(HttpRequest::get(&session_url).header("authorization", auth).body_limit(64)).await;
    assert_eq!(capped, Err(NetError::TooLarge { limit: 64 }));
}

#[wasm_bindgen_test]
async fn app_signs_in_and_shows_the_inbox_with_its_unread_count() {
    let app = mount_app();
    let root: &Element = &app.root;
    sign_in_with(root, gateway(), "demo@example.org", "demo-password").await;
    let badge =
        wait_for(root, "the Inbox unread badge", 15_000.0, || find(root, ".mailbox[data-role=inbox] .unread")).await;
    let inbox = server_mailboxes().await.into_iter().find(|m| m.role == Role::Inbox).expect("Inbox");
    let expected = inbox.unread_emails;
    assert_eq!(badge.text_content().unwrap_or_default(), expected.to_string());
    assert_eq!(badge.get_attribute("aria-label").unwrap_or_default(), format!("{expected} unread"));

    // Nesting is shown: Petrel sits one level under Projects, right after it.
    let rows = root.query_selector_all(".mailbox").expect("rows");
    let names: Vec<(String, String)> = (0..rows.length())
        .filter_map(|i| rows.item(i))
        .filter_map(|n| n.dyn_into::<Element>().ok())
        .map(|e| {
            let name = find(&e, ".mailbox-name").and_then(|n| n.text_content()).unwrap_or_default();
            (name, e.get_attribute("data-depth").unwrap_or_default())
        })
        .collect();
    let projects = names.iter().position(|(n, _)| n == "Projects").expect("Projects row");
    assert_eq!(names[projects + 1], ("Petrel".to_owned(), "1".to_owned()), "{names:?}");
    assert_eq!(names[0].0, "Inbox", "Inbox comes first: {names:?}");

    // Inbox is selected and summarised, its messages listed newest first, unread ones marked.
    let summary = find(root, ".folder-counts").and_then(|e| e.text_content()).unwrap_or_default();
    assert!(summary.contains(&format!("{expected} unread")), "{summary}");
    let first =
        wait_for(root, "the message list", 15_000.0, || find(root, ".message-list .message-row .subject")).await;
    assert_eq!(
        first.text_content().unwrap_or_default(),
        newest_inbox_subject(&inbox.id).await,
        "the newest conversation comes first"
    );
    let unread_rows = root.query_selector_all(".message-row.unread").expect("rows").length();
    assert!(unread_rows > 0, "unread mail is marked");
}

#[wasm_bindgen_test]
async fn opening_an_unread_message_marks_it_read_at_once_and_on_the_server() {
    let client = JmapClient::connect(gateway(), common::other_credentials()).await.expect("bob");
    let folder_name = common::unique("ui-read");
    let (folder, ids) = common::folder_with_messages(&client, &folder_name, &["Please read me"]).await;
    let app = mount_app();
    let root: &Element = &app.root;
    sign_in_with(root, gateway(), "bob@example.org", "bob-password").await;
    let button = wait_for(root, "the new folder", 15_000.0, || {
        let rows = root.query_selector_all(".mailbox-button").ok()?;
        (0..rows.length())
            .filter_map(|i| rows.item(i))
            .filter_map(|n| n.dyn_into::<HtmlElement>().ok())
            .find(|b| b.text_content().unwrap_or_default().contains(&folder_name))
    })
    .await;
    button.click();
    let row: HtmlElement = wait_for(root, "the unread row", 15_000.0, || {
        find(root, &format!(".message-row.unread[data-id='{}'] .message-open", ids[0]))
    })
    .await
    .unchecked_into();
    row.click();
    wait_for(root, "the row to show as read", 5_000.0, || {
        find(root, &format!(".message-row[data-id='{}']", ids[0])).filter(|r| !r.class_list().contains("unread"))
    })
    .await;
    let mut check = petrel::jmap::Request::new().using(capability::MAIL);
    let get = check.call(
        "Email/get",
        serde_json::json!({ "accountId": common::account(&client), "ids": [ids[0]], "properties": ["keywords"] }),
    );
    let mut seen = false;
    for _ in 0..50 {
        let keywords =
            client.send(&check).await.expect("get").take(&get).expect("answer")["list"][0]["keywords"].clone();
        if keywords["$seen"] == true {
            seen = true;
            break;
        }
        petrel::net::sleep(100).await;
    }
    assert!(seen, "the server has the message as read");
    assert!(!folder.is_empty());
}

#[wasm_bindgen_test]
async fn wrong_password_shows_an_error_the_user_understands() {
    let app = mount_app();
    sign_in_with(&app.root, gateway(), "demo@example.org", "not-the-password").await;
    let text = alert_text(&app.root).await;
    assert!(text.contains("refused these credentials"), "{text}");
    assert!(find(&app.root, ".mailbox").is_none(), "no folders for a failed sign-in");
}

#[wasm_bindgen_test]
async fn server_down_shows_an_error() {
    let app = mount_app();
    // Port 9 (discard) on loopback: nothing listens there.
    sign_in_with(&app.root, "http://127.0.0.1:9", "demo@example.org", "demo-password").await;
    let text = alert_text(&app.root).await;
    assert!(text.contains("Could not reach the server"), "{text}");
}

#[wasm_bindgen_test]
async fn an_address_without_jmap_shows_an_error() {
    let app = mount_app();
    sign_in_with(&app.root, &format!("{}/jmap/no-such-resource", gateway()), "demo@example.org", "demo-password").await;
    let text = alert_text(&app.root).await;
    assert!(text.contains("No JMAP server answers"), "{text}");
}

#[wasm_bindgen_test]
async fn missing_password_is_caught_before_any_request() {
    let app = mount_app();
    sign_in_with(&app.root, gateway(), "demo@example.org", "").await;
    let text = alert_text(&app.root).await;
    assert_eq!(text, "Enter your password.");
}

#[wasm_bindgen_test]
async fn unread_counts_follow_changes_made_elsewhere() {
    let app = mount_app();
    let root: &Element = &app.root;
    sign_in_with(root, gateway(), "demo@example.org", "demo-password").await;
    let badge_text = || find(root, ".mailbox[data-role=inbox] .unread").and_then(|b| b.text_content());
    let before: u64 = wait_for(root, "the Inbox badge", 15_000.0, badge_text).await.parse().expect("a number");
    wait_for(root, "push to connect", 15_000.0, || {
        find(root, ".live-status").and_then(|s| s.text_content()).filter(|t| t == "Live")
    })
    .await;

    // Another client reads one unread Inbox mail.
    let client = JmapClient::connect(gateway(), demo_credentials()).await.expect("second client");
    let account = client.session().primary_account(capability::MAIL).expect("account").to_owned();
    let inbox = petrel::jmap::mail::mailbox::fetch_all(&client)
        .await
        .expect("mailboxes")
        .into_iter()
        .find(|m| m.role == Role::Inbox)
        .expect("Inbox");
    let mut query = petrel::jmap::Request::new().using(capability::MAIL);
    let q = query.call(
        "Email/query",
        serde_json::json!({ "accountId": account,
        "filter": { "inMailbox": inbox.id, "notKeyword": "$seen" }, "limit": 1 }),
    );
    let id = client.send(&query).await.expect("query").take(&q).expect("ids")["ids"][0]
        .as_str()
        .expect("an unread mail")
        .to_owned();
    let set_seen = |seen: bool| {
        let mut r = petrel::jmap::Request::new().using(capability::MAIL);
        r.call("Email/set", serde_json::json!({ "accountId": account, "update": { id.clone(): { "keywords/$seen": if seen { serde_json::Value::Bool(true) } else { serde_json::Value::Null } } } }));
        r
    };
    client.send(&set_seen(true)).await.expect("mark read");
    let expected = (before - 1).to_string();
    wait_for(root, "the badge to drop by one", 15_000.0, || {
        let now = badge_text().unwrap_or_else(|| "0".into());
        (now == expected || (expected == "0" && now == "0")).then_some(())
    })
    .await;
    client.send(&set_seen(false)).await.expect("mark unread again");
    wait_for(root, "the badge to come back", 15_000.0, || badge_text().filter(|t| *t == before.to_string())).await;
}
