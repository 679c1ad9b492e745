//! The signed-in screen: top bar, folder tree and the open folder, all read from the account's
//! mail engine. Server pushes make the engine sync; the engine's events re-render.

use leptos::prelude::*;
use leptos::task::spawn_local;

use std::rc::Rc;

use super::account::{Connection, SignedIn};
use super::compose::{Compose, Queued};
use super::mailbox_tree::MailboxTree;
use super::message_list::MessageList;
use super::outbox_view::{clock, OutboxView};
use crate::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use crate::rustmailer::{self, push::RustMailerPush};
use crate::mail::engine::EngineEvent;
use crate::mail::{Mailbox, Role};
use crate::outbox::dispatcher::Outbox;

/// Ends the outbox's dispatch loop when the shell goes (sign-out).
struct StopOnDrop(Rc<Outbox>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

#[component]
pub fn MailShell(account: SignedIn, on_sign_out: Callback<()>) -> impl IntoView {
    let engine = account.engine.clone();
    // Bumped on every store change: what reads the store tracks it.
    let version = RwSignal::new(0u64);
    let notice = RwSignal::new(None::<String>);
    // What went as asked (an undo), shown without alarm.
    let info = RwSignal::new(None::<String>);
    let live_status = RwSignal::new("Connecting…".to_owned());
    let subscription = engine.subscribe(move |event| match event {
        EngineEvent::Changed => version.update(|v| *v += 1),
        EngineEvent::Refused(text) | EngineEvent::CacheTrouble(text) => notice.set(Some(text.clone())),
        EngineEvent::Reachable(false) => live_status.set("Offline: changes are kept and sent when the server is back".to_owned()),
        EngineEvent::Reachable(true) => {}
    });
    StoredValue::new_local(subscription);

    // The outbox: its dispatch loop lives as long as this view; its changes re-render.
    let outbox_version = RwSignal::new(0u64);
    let outbox = StoredValue::new_local(account.outbox.clone());
    let outbox_subscription = account.outbox.subscribe(move || {
        outbox_version.try_update(|v| *v += 1);
    });
    StoredValue::new_local(outbox_subscription);
    {
        let outbox = account.outbox.clone();
        spawn_local(async move { outbox.serve().await });
    }
    StoredValue::new_local(StopOnDrop(account.outbox.clone()));
    let show_outbox = RwSignal::new(false);
    let composing = RwSignal::new(false);
    let undo = RwSignal::new(None::<Queued>);
    let waiting = move || {
        outbox_version.track();
        let stats = outbox.with_value(|o| o.stats());
        stats.queued + stats.sending
    };

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
    let push_outbox = account.outbox.clone();
    let sync_now = move || {
        let engine = sync_engine.clone();
        spawn_local(async move {
            let _ = engine.sync().await;
        });
    };
    let push: Box<dyn std::any::Any> = match &account.connection {
        Connection::Jmap(client) => Box::new(live::start(client.clone(), PushOptions::default(), move |event| match event {
            PushEvent::Connected(transport) => {
                // The server is reachable again: mail waiting in the outbox can go.
                push_outbox.wake();
                live_status.set(
                    match transport {
                        Transport::WebSocket | Transport::EventSource => "Live",
                        Transport::Polling => "Checking periodically",
                    }
                    .to_owned(),
                )
            }
            // Servers need not push mailbox counts (Cyrus does not): any mail change syncs them too.
            PushEvent::StateChange(change) if change.touches("Email") || change.touches("Mailbox") => {
                push_outbox.wake();
                sync_now();
            }
            PushEvent::Disconnected { retry_in_ms, .. } => live_status.set(format!("Reconnecting in {} s…", retry_in_ms.div_ceil(1000))),
            _ => {}
        })),
        Connection::RustMailer(backend) => {
            let backend_for_events = backend.clone();
            let outbox_for_events = account.outbox.clone();
            Box::new(rustmailer::push::start(backend.client().clone(), backend.account_id(), Default::default(), move |event| match event {
                RustMailerPush::Connected => {
                    push_outbox.wake();
                    live_status.set("Live".to_owned());
                }
                RustMailerPush::Event { kind, data } => {
                    // RustMailer sends after taking the mail: a bounce comes later, as an event.
                    if kind == "EMAIL_SENDING_ERROR" {
                        info.set(Some(sending_error_text(&data, &outbox_for_events)));
                    }
                    // Flags changed elsewhere do not show in folder counts: the event says it.
                    backend_for_events.note_remote_change();
                    push_outbox.wake();
                    sync_now();
                }
                RustMailerPush::Poll => {
                    live_status.set("Checking periodically".to_owned());
                    sync_now();
                }
                RustMailerPush::Disconnected { retry_in_ms, .. } => live_status.set(format!("Reconnecting in {} s…", retry_in_ms.div_ceil(1000))),
            }))
        }
    };
    // Push runs as long as this view exists: the handle is dropped with it.
    StoredValue::new_local(push);

    let current = move || -> Option<Mailbox> {
        let id = selected.get()?;
        mailboxes.with(|all| all.iter().find(|m| m.id == id).cloned())
    };

    Effect::new(move |_| {
        let unread: u64 = mailboxes.with(|all| all.iter().filter(|m| m.role.counts_unread()).map(|m| m.unread_emails).sum());
        let folder = current().map(|m| m.name).unwrap_or_else(|| if show_outbox.get() { "Outbox".to_owned() } else { String::new() });
        let title = match unread {
            0 => format!("{folder} · Petrel"),
            n => format!("({n}) {folder} · Petrel"),
        };
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&title);
        }
    });

    // Picking a folder leaves the outbox view.
    Effect::new(move |_| {
        if selected.get().is_some() {
            show_outbox.set(false);
        }
    });
    let account_key = account.key.clone();
    let on_queued = Callback::new(move |queued: Queued| {
        composing.set(false);
        undo.set(Some(queued));
    });
    let undo_send = move |_| {
        let Some(queued) = undo.get_untracked() else { return };
        let outbox = outbox.get_value();
        spawn_local(async move {
            match outbox.cancel(&queued.job_id).await {
                Ok(()) => info.set(Some(format!("Sending of “{}” cancelled.", queued.subject))),
                Err(e) => notice.set(Some(crate::mail::error::sentence(&e.to_string()))),
            }
            undo.set(None);
        });
    };
    // The undo offer goes away with its window.
    Effect::new(move |_| {
        if let Some(queued) = undo.get() {
            let left = (queued.send_at_ms - js_sys::Date::now()).max(0.0);
            if !queued.scheduled {
                let job = queued.job_id.clone();
                set_timeout(
                    move || {
                        if undo.get_untracked().is_some_and(|q| q.job_id == job) {
                            undo.set(None);
                        }
                    },
                    std::time::Duration::from_millis(left as u64),
                );
            }
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
                <button type="button" id="compose-button" class="primary" on:click=move |_| composing.set(true)>"Write"</button>
                <button type="button" class="sign-out" on:click=sign_out>"Sign out"</button>
            </header>
            <nav class="folders" aria-label="Mail folders">
                <MailboxTree mailboxes=mailboxes.into() selected=selected />
                <button type="button" id="outbox-button" class="outbox-link" aria-pressed=move || show_outbox.get().to_string()
                    on:click=move |_| {
                        // No folder is current while the outbox is shown.
                        selected.set(None);
                        show_outbox.set(true);
                    }>
                    "Outbox"
                    {move || match waiting() { 0 => None, n => Some(view! { <span class="count">{n}</span> }) }}
                </button>
            </nav>
            <main class="content">
                {move || notice.get().map(|text| view! {
                    <p class="notice" role="alert">
                        {text}
                        <button type="button" class="dismiss" aria-label="Dismiss" on:click=move |_| notice.set(None)>"×"</button>
                    </p>
                })}
                {move || info.get().map(|text| view! {
                    <p class="info" role="status">
                        {text}
                        <button type="button" class="dismiss" aria-label="Dismiss" on:click=move |_| info.set(None)>"×"</button>
                    </p>
                })}
                {move || undo.get().map(|queued| view! {
                    <p class="undo-bar" role="status">
                        {if queued.scheduled {
                            format!("“{}” will be sent at {}.", queued.subject, clock(queued.send_at_ms))
                        } else {
                            format!("Sending “{}”…", queued.subject)
                        }}
                        <button type="button" id="undo-send" on:click=undo_send>"Undo"</button>
                    </p>
                })}
                {move || composing.get().then(|| view! {
                    <Compose outbox=outbox account=account_key.clone() on_close=Callback::new(move |_| composing.set(false)) on_queued=on_queued />
                })}
                {move || if show_outbox.get() {
                    view! { <OutboxView outbox=outbox version=outbox_version.into() on_error=Callback::new(move |text| notice.set(Some(text))) /> }.into_any()
                } else { match current() {
                    Some(m) => view! {
                        <section class="folder-summary" aria-live="polite">
                            <h2>{m.name.clone()}</h2>
                            <p>{format!("{} messages, {} unread", m.total_emails, m.unread_emails)}</p>
                        </section>
                        <MessageList engine=stored mailbox_id=m.id.clone() version=version.into() />
                    }.into_any(),
                    None => view! { <p class="empty">"Choose a folder."</p> }.into_any(),
                }}}
            </main>
        </div>
    }
}

/// What to tell the user when RustMailer reports that a mail it took could not be sent.
fn sending_error_text(data: &str, outbox: &crate::outbox::dispatcher::Outbox) -> String {
    let event: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let payload = &event["payload"];
    let message_id = payload["message_id"].as_str().unwrap_or("").trim_matches(['<', '>']);
    let reason = payload["error"].as_str().unwrap_or("no reason given");
    let subject = outbox.jobs().into_iter().find(|j| j.draft.message_id.as_deref() == Some(message_id)).map(|j| j.draft.subject);
    match subject {
        Some(s) => format!("RustMailer could not deliver “{s}”: {reason}"),
        None => format!("RustMailer could not deliver a message: {reason}"),
    }
}
