//! The account's live link, as one hook: the engine's events (changes, refusals, reachability)
//! and push for the connection of the moment (JMAP's WebSocket or EventSource, RustMailer's
//! event stream, or polling). An account shown from the cache while connecting goes live here, in
//! place. What the top bar says of it comes back as a [`LiveStatus`].

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use crate::mail::engine::{EngineEvent, MailEngine};
use crate::outbox::dispatcher::Outbox;
use crate::rustmailer::push::{self as rustmailer_push, RustMailerPush};
use crate::ui::account::{Connection, Link};
use crate::ui::context::MailContext;
use crate::ui::pwa::LaunchIntent;

use super::state::ShellState;

/// What the top bar says of the link: its words, and whether the server answers.
#[derive(Clone, Copy)]
pub struct LiveStatus {
    pub text: RwSignal<String>,
    pub online: RwSignal<bool>,
}

/// Starts the link for as long as the calling view lives. `intent` (a mailto: link, the Write
/// shortcut) opens the composer once the account can send, or is offline for good.
pub fn use_live(ctx: MailContext, state: ShellState, outbox: Rc<Outbox>, intent: Option<LaunchIntent>) -> LiveStatus {
    let status = LiveStatus { text: RwSignal::new("Connecting…".to_owned()), online: RwSignal::new(true) };
    let engine = ctx.engine.get_value();
    let subscription = engine.subscribe(move |event| match event {
        EngineEvent::Changed => ctx.version.update(|v| *v += 1),
        EngineEvent::Refused(text) | EngineEvent::CacheTrouble(text) => ctx.notice.set(Some(text.clone())),
        EngineEvent::Reachable(false) => {
            status.online.set(false);
            status.text.set("Offline: changes are kept and sent when the server is back".to_owned())
        }
        EngineEvent::Reachable(true) => status.online.set(true),
    });
    StoredValue::new_local(subscription);

    // Push runs for the connection of the moment; its handle is dropped with the view.
    let push = StoredValue::new_local(None::<Box<dyn std::any::Any>>);
    let pending_intent = StoredValue::new_local(intent);
    Effect::new(move |_| {
        let (handle, link) =
            ctx.connection.with(|c| (start_push(c, ctx, status, outbox.clone(), engine.clone()), c.link()));
        push.set_value(Some(handle));
        let live = link == Link::Live;
        if live {
            status.online.set(true);
        }
        // Shown from the cache without a sync yet (a first sign-in has synced): bring it up to date.
        if live && engine.reachable().is_none() {
            sync_now(&engine);
        }
        if link != Link::Connecting {
            match pending_intent.try_update_value(|i| i.take()).flatten() {
                Some(LaunchIntent::Compose(draft)) => state.composing.set(Some(draft)),
                Some(LaunchIntent::BadMailto(why)) => ctx.notice.set(Some(why)),
                None => {}
            }
        }
    });
    status
}

fn sync_now(engine: &MailEngine) {
    let engine = engine.clone();
    spawn_local(async move {
        let _ = engine.sync().await;
    });
}

/// Push that connects again after a drop (an outage, a network change) may have missed changes:
/// a sync catches up, and tells the engine (and so the offline banner) that the server is back.
/// The first connection needs none: the account synced as it went live. A drop itself is probed
/// with one sync too: push alone only reconnects, later and later, so without it the page would
/// say it is offline only at the user's next action.
#[derive(Default)]
struct CatchUp {
    connected_before: std::cell::Cell<bool>,
    probed: std::cell::Cell<bool>,
}

impl CatchUp {
    fn connected(&self, engine: &MailEngine) {
        self.probed.set(false);
        if self.connected_before.replace(true) {
            sync_now(engine);
        }
    }

    fn dropped(&self, engine: &MailEngine) {
        if !self.probed.replace(true) {
            sync_now(engine);
        }
    }
}

/// Push for `connection`; `Box<()>` while there is none.
fn start_push(
    connection: &Connection,
    ctx: MailContext,
    status: LiveStatus,
    outbox: Rc<Outbox>,
    engine: MailEngine,
) -> Box<dyn std::any::Any> {
    match connection {
        Connection::Jmap(client) => {
            let reconnect = CatchUp::default();
            Box::new(live::start(client.clone(), PushOptions::default(), move |event| match event {
                PushEvent::Connected(transport) => {
                    // The server is reachable again: mail waiting in the outbox can go.
                    outbox.wake();
                    reconnect.connected(&engine);
                    status.text.set(
                        match transport {
                            Transport::WebSocket | Transport::EventSource => "Live",
                            Transport::Polling => "Checking periodically",
                        }
                        .to_owned(),
                    )
                }
                // Servers need not push mailbox counts (Cyrus does not): any mail change syncs them too.
                PushEvent::StateChange(change) if change.touches("Email") || change.touches("Mailbox") => {
                    outbox.wake();
                    sync_now(&engine);
                }
                PushEvent::Disconnected { retry_in_ms, .. } => {
                    reconnect.dropped(&engine);
                    status.text.set(format!("Reconnecting in {} s…", retry_in_ms.div_ceil(1000)))
                }
                _ => {}
            }))
        }
        Connection::RustMailer(session) => {
            let session_for_events = session.clone();
            let reconnect = CatchUp::default();
            session.start_push(Box::new(move |event| match event {
                RustMailerPush::Connected => {
                    outbox.wake();
                    reconnect.connected(&engine);
                    status.text.set("Live".to_owned());
                }
                RustMailerPush::Event { kind, data } => {
                    // RustMailer sends after taking the mail: a bounce comes later, as an event.
                    if kind == "EMAIL_SENDING_ERROR" {
                        let subject_of = |message_id: &str| {
                            outbox
                                .jobs()
                                .into_iter()
                                .find(|j| j.draft.message_id.as_deref() == Some(message_id))
                                .map(|j| j.draft.subject)
                        };
                        ctx.status.set(Some(rustmailer_push::sending_error_text(&data, subject_of)));
                    }
                    // Flags changed elsewhere do not show in folder counts: the event says it.
                    session_for_events.note_remote_change();
                    outbox.wake();
                    sync_now(&engine);
                }
                RustMailerPush::Poll => {
                    status.text.set("Checking periodically".to_owned());
                    sync_now(&engine);
                }
                RustMailerPush::Disconnected { retry_in_ms, .. } => {
                    reconnect.dropped(&engine);
                    status.text.set(format!("Reconnecting in {} s…", retry_in_ms.div_ceil(1000)))
                }
            }))
        }
        Connection::Offline { connecting: true, .. } => {
            status.text.set("Connecting…".to_owned());
            Box::new(())
        }
        Connection::Offline { .. } => {
            status.online.set(false);
            status.text.set("Offline: mail saved on this device".to_owned());
            Box::new(())
        }
    }
}
