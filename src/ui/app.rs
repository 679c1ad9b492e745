//! The app's top level: signed out shows the sign-in form, signed in shows the mail shell.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

use super::account::{sign_in, SignInAttempt, SignedIn};
use super::mailbox_tree::MailboxTree;
use super::remembered::{self, LastSignIn};
use super::sign_in::SignInForm;
use crate::auth::Credentials;
use crate::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use crate::mail::error::sentence;
use crate::mail::{mailbox, Mailbox, Role};
use crate::net::{fetch, HttpRequest};

/// What `/petrel-demo.json` holds when the gateway runs in demo mode.
#[derive(Deserialize)]
struct DemoLogin {
    server: String,
    login: String,
    password: String,
}

async fn demo_login() -> Option<SignInAttempt> {
    let response = fetch(HttpRequest::get("/petrel-demo.json").body_limit(4096)).await.ok()?;
    if response.status != 200 {
        return None;
    }
    let demo: DemoLogin = serde_json::from_slice(&response.body).ok()?;
    let server = if demo.server.is_empty() { remembered::page_origin() } else { demo.server };
    Some(SignInAttempt { server, credentials: Credentials::basic(demo.login, demo.password) })
}

#[component]
pub fn App(
    /// Ask the serving gateway for a demo account and sign in to it (the `run` command's mode).
    #[prop(optional)]
    demo_sign_in: bool,
) -> impl IntoView {
    // The client holds JS handles (!Send): a local signal.
    let account = RwSignal::new_local(None::<SignedIn>);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let attempt_sign_in = move |attempt: SignInAttempt| {
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            let remember = LastSignIn {
                server: attempt.server.clone(),
                username: attempt.credentials.username().unwrap_or("").to_owned(),
            };
            match sign_in(attempt).await {
                Ok(signed_in) => {
                    remembered::save(&remember);
                    account.set(Some(signed_in));
                }
                Err(e) => error.set(Some(sentence(&e.to_string()))),
            }
            pending.set(false);
        });
    };

    if demo_sign_in {
        pending.set(true);
        spawn_local(async move {
            match demo_login().await {
                Some(attempt) => attempt_sign_in(attempt),
                None => pending.set(false),
            }
        });
    }

    view! {
        {move || match account.get() {
            None => view! {
                <SignInForm on_submit=Callback::new(attempt_sign_in) pending=pending.into() error=error.into() />
            }.into_any(),
            Some(signed_in) => view! {
                <MailShell account=signed_in on_sign_out=Callback::new(move |_| account.set(None)) />
            }.into_any(),
        }}
    }
}

#[component]
fn MailShell(account: SignedIn, on_sign_out: Callback<()>) -> impl IntoView {
    let mailboxes = RwSignal::new(account.mailboxes.clone());
    let inbox = account.mailboxes.iter().find(|m| m.role == Role::Inbox).map(|m| m.id.clone());
    let selected = RwSignal::new(inbox);
    let live_status = RwSignal::new("Connecting…".to_owned());
    let client = account.client.clone();
    let refresh = move || {
        let client = client.clone();
        spawn_local(async move {
            // Concurrent refreshes share one request (the client coalesces identical reads).
            if let Ok(boxes) = mailbox::fetch_all(&client).await {
                mailboxes.set(boxes);
            }
        });
    };
    let push = live::start(account.client.clone(), PushOptions::default(), move |event| match event {
        PushEvent::Connected(transport) => live_status.set(
            match transport {
                Transport::WebSocket | Transport::EventSource => "Live",
                Transport::Polling => "Checking periodically",
            }
            .to_owned(),
        ),
        // Servers need not push mailbox counts (Cyrus does not): any mail change refreshes them.
        PushEvent::StateChange(change) if change.touches("Email") || change.touches("Mailbox") => refresh(),
        PushEvent::Disconnected { retry_in_ms, .. } => live_status.set(format!("Reconnecting in {} s…", retry_in_ms.div_ceil(1000))),
        _ => {}
    });
    // Push runs as long as this view exists: the handle is dropped with it.
    StoredValue::new_local(push);

    let current = move || -> Option<Mailbox> {
        let id = selected.get()?;
        mailboxes.with(|all| all.iter().find(|m| m.id == id).cloned())
    };

    Effect::new(move |_| {
        let unread: u64 = mailboxes.with(|all| all.iter().filter(|m| m.role.counts_unread()).map(|m| m.unread_emails).sum());
        let folder = current().map(|m| m.name).unwrap_or_default();
        let title = match unread {
            0 => format!("{folder} · Petrel"),
            n => format!("({n}) {folder} · Petrel"),
        };
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&title);
        }
    });

    view! {
        <div class="shell">
            <header class="topbar">
                <span class="brand">"Petrel"</span>
                <span class="live-status" role="status">{move || live_status.get()}</span>
                <span class="account-name">{account.display_name()}</span>
                <button type="button" class="sign-out" on:click=move |_| on_sign_out.run(())>"Sign out"</button>
            </header>
            <nav class="folders" aria-label="Mail folders">
                <MailboxTree mailboxes=mailboxes.into() selected=selected />
            </nav>
            <main class="content" aria-live="polite">
                {move || match current() {
                    Some(m) => view! {
                        <section class="folder-summary">
                            <h2>{m.name.clone()}</h2>
                            <p>{format!("{} messages, {} unread", m.total_emails, m.unread_emails)}</p>
                        </section>
                    }.into_any(),
                    None => view! { <p class="empty">"Choose a folder."</p> }.into_any(),
                }}
            </main>
        </div>
    }
}
