//! The signed-in screen: top bar, folder tree and the open folder, all read from the account's
//! mail engine. Server pushes make the engine sync; the engine's events re-render.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::account::SignedIn;
use super::mailbox_tree::MailboxTree;
use super::message_list::MessageList;
use crate::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use crate::mail::engine::EngineEvent;
use crate::mail::{Mailbox, Role};

#[component]
pub fn MailShell(account: SignedIn, on_sign_out: Callback<()>) -> impl IntoView {
    let engine = account.engine.clone();
    // Bumped on every store change: what reads the store tracks it.
    let version = RwSignal::new(0u64);
    let notice = RwSignal::new(None::<String>);
    let live_status = RwSignal::new("Connecting…".to_owned());
    let subscription = engine.subscribe(move |event| match event {
        EngineEvent::Changed => version.update(|v| *v += 1),
        EngineEvent::Refused(text) | EngineEvent::CacheTrouble(text) => notice.set(Some(text.clone())),
        EngineEvent::Reachable(false) => live_status.set("Offline: changes are kept and sent when the server is back".to_owned()),
        EngineEvent::Reachable(true) => {}
    });
    StoredValue::new_local(subscription);

    // The engine holds JS handles (!Send): reactive closures reach it through a local store.
    let stored = StoredValue::new_local(engine.clone());
    let mailboxes = Memo::new(move |_| {
        version.track();
        stored.with_value(|e| e.read(|s| s.mailboxes()))
    });
    let inbox = engine.read(|s| s.mailbox_with_role(Role::Inbox).map(|m| m.id.clone()));
    let selected = RwSignal::new(inbox);

    // Shown from the cache without a sync yet (a first sign-in has synced): bring it up to date.
    if engine.reachable().is_none() {
        let engine = engine.clone();
        spawn_local(async move {
            let _ = engine.sync().await;
        });
    }

    let sync_engine = engine.clone();
    let push = live::start(account.client.clone(), PushOptions::default(), move |event| match event {
        PushEvent::Connected(transport) => live_status.set(
            match transport {
                Transport::WebSocket | Transport::EventSource => "Live",
                Transport::Polling => "Checking periodically",
            }
            .to_owned(),
        ),
        // Servers need not push mailbox counts (Cyrus does not): any mail change syncs them too.
        PushEvent::StateChange(change) if change.touches("Email") || change.touches("Mailbox") => {
            let engine = sync_engine.clone();
            spawn_local(async move {
                let _ = engine.sync().await;
            });
        }
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

    let sign_out = {
        move |_| {
            let engine = stored.get_value();
            spawn_local(async move {
                // Sign-out leaves nothing of the account on this device.
                let _ = engine.wipe().await;
                on_sign_out.run(());
            });
        }
    };

    view! {
        <div class="shell">
            <header class="topbar">
                <span class="brand">"Petrel"</span>
                <span class="live-status" role="status">{move || live_status.get()}</span>
                <span class="account-name">{account.display_name()}</span>
                <button type="button" class="sign-out" on:click=sign_out>"Sign out"</button>
            </header>
            <nav class="folders" aria-label="Mail folders">
                <MailboxTree mailboxes=mailboxes.into() selected=selected />
            </nav>
            <main class="content">
                {move || notice.get().map(|text| view! {
                    <p class="notice" role="alert">
                        {text}
                        <button type="button" class="dismiss" aria-label="Dismiss" on:click=move |_| notice.set(None)>"×"</button>
                    </p>
                })}
                {move || match current() {
                    Some(m) => view! {
                        <section class="folder-summary" aria-live="polite">
                            <h2>{m.name.clone()}</h2>
                            <p>{format!("{} messages, {} unread", m.total_emails, m.unread_emails)}</p>
                        </section>
                        <MessageList engine=stored mailbox_id=m.id.clone() version=version.into() />
                    }.into_any(),
                    None => view! { <p class="empty">"Choose a folder."</p> }.into_any(),
                }}
            </main>
        </div>
    }
}
