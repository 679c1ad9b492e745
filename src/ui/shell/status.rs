//! The status area above the panes: alerts, the offline banner, what just happened (with Undo)
//! and the undo-send bar. What it shows is said to screen readers by the announcer, once per
//! event ([`use_announcements`]); the lines themselves are not live regions.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mail::error::sentence;
use crate::outbox::dispatcher::Outbox;
use crate::outbox::queue::JobState;
use crate::ui::announcer::AnnouncerRegion;
use crate::ui::compose::Queued;
use crate::ui::context::MailContext;
use crate::ui::format::clock;

use super::live::LiveStatus;
use super::state::ShellState;

#[component]
pub fn StatusArea(
    live: LiveStatus,
    outbox: StoredValue<Rc<Outbox>, LocalStorage>,
    /// The account is not connected (shown from this device): offer to sign in.
    signed_out: Signal<bool>,
    on_sign_in: Callback<()>,
) -> impl IntoView {
    let (state, ctx) = (ShellState::get(), MailContext::get());
    let (notice, status, undo_send) = (ctx.notice, ctx.status, state.undo_send);
    let cancel_send = move |_| {
        let Some(queued) = undo_send.get_untracked() else { return };
        let outbox = outbox.get_value();
        spawn_local(async move {
            match outbox.cancel(&queued.job_id).await {
                Ok(()) => status.set(Some(format!("Sending of “{}” cancelled.", queued.subject))),
                Err(e) => notice.set(Some(sentence(&e.to_string()))),
            }
            undo_send.set(None);
        });
    };
    use_announcements(ctx, state, live, outbox);
    view! {
        <AnnouncerRegion announcer=ctx.announcer />
        <div class="status-area">
            {move || {
                notice
                    .get()
                    .map(|text| {
                        view! {
                            <p class="notice">
                                {text}
                                <button
                                    type="button"
                                    class="dismiss"
                                    aria-label="Dismiss"
                                    on:click=move |_| notice.set(None)
                                >
                                    "×"
                                </button>
                            </p>
                        }
                    })
            }}
            {move || {
                (!live.online.get())
                    .then(|| {
                        view! {
                            <p class="offline-banner">
                                "You are offline. Mail shown is from this device; what you do is kept and sent when the connection is back."
                                {signed_out
                                    .get()
                                    .then(|| {
                                        view! {
                                            " "
                                            <button
                                                type="button"
                                                id="offline-sign-in"
                                                class="link"
                                                on:click=move |_| on_sign_in.run(())
                                            >
                                                "Sign in to connect"
                                            </button>
                                        }
                                    })}
                            </p>
                        }
                    })
            }}
            {move || {
                status
                    .get()
                    .map(|text| {
                        view! {
                            <p class="info">
                                <span class="status-text">{text.clone()}</span>
                                {move || {
                                    ctx.offers_undo_for(&text)
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    id="undo-action"
                                                    on:click=move |_| ctx.undo_last()
                                                >
                                                    "Undo"
                                                </button>
                                            }
                                        })
                                }}
                                <button
                                    type="button"
                                    class="dismiss"
                                    aria-label="Dismiss"
                                    on:click=move |_| {
                                        status.set(None);
                                        ctx.undo.set(None);
                                    }
                                >
                                    "×"
                                </button>
                            </p>
                        }
                    })
            }}
            {move || {
                undo_send
                    .get()
                    .map(|queued| {
                        view! {
                            <p class="undo-bar">
                                {undo_send_text(&queued)} <button type="button" id="undo-send" on:click=cancel_send>
                                    "Undo"
                                </button>
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// What the undo-send bar says (and the announcer with it).
fn undo_send_text(queued: &Queued) -> String {
    if queued.scheduled {
        format!("“{}” will be sent at {}.", queued.subject, clock(queued.send_at_ms))
    } else {
        format!("Sending “{}”…", queued.subject)
    }
}

/// Says each event the status area shows, once: an alert, what an action did (and that it can be
/// undone), the undo-send bar, a send that failed (also shown as an alert: the outbox may be out
/// of sight), and the connection going and coming back.
fn use_announcements(
    ctx: MailContext,
    state: ShellState,
    live: LiveStatus,
    outbox: StoredValue<Rc<Outbox>, LocalStorage>,
) {
    let say = ctx.announcer;
    Effect::new(move |_| {
        if let Some(text) = ctx.notice.get() {
            say.say(&text);
        }
    });
    Effect::new(move |_| {
        if let Some(text) = ctx.status.get() {
            // The action and its offer are set together; effects run after both. A newer status
            // without an offer ends the older one: its Undo would name an action no longer shown.
            let offered = untrack(|| ctx.offers_undo_for(&text));
            if !offered {
                ctx.undo.set(None);
            }
            let undo = if offered { " Undo with z." } else { "" };
            say.say(&format!("{text}{undo}"));
        }
    });
    Effect::new(move |_| {
        if let Some(queued) = state.undo_send.get() {
            say.say(&format!("{} Undo is in the status area.", undo_send_text(&queued)));
        }
    });
    // Only a change of state is news: the link reports itself on every sync.
    Effect::new(move |was_online: Option<bool>| {
        let online = live.online.get();
        match (was_online, online) {
            (Some(true), false) => {
                say.say("You are offline. What you do is kept and sent when the connection is back.")
            }
            (Some(false), true) => say.say("Connected again."),
            _ => {}
        }
        online
    });
    // Sends that fail from now on (earlier failures are in the outbox already).
    let failed_ids = move || -> Vec<(String, String)> {
        outbox.with_value(|o| {
            o.jobs()
                .into_iter()
                .filter(|j| j.state == JobState::Failed)
                .map(|j| {
                    let why = j.last_error.clone().unwrap_or_else(|| "the server did not take it".to_owned());
                    let subject = if j.draft.subject.is_empty() { "(no subject)".to_owned() } else { j.draft.subject };
                    (j.id, format!("“{subject}” was not sent: {}. It is in the Outbox.", why.trim_end_matches('.')))
                })
                .collect()
        })
    };
    let known = StoredValue::new(failed_ids().into_iter().map(|(id, _)| id).collect::<std::collections::BTreeSet<_>>());
    // The outbox tells of a change while it works; the jobs are read after, in an effect.
    let outbox_changed = RwSignal::new(0u64);
    let subscription = outbox.with_value(|o| {
        o.subscribe(move || {
            outbox_changed.try_update(|v| *v += 1);
        })
    });
    Effect::new(move |_| {
        outbox_changed.track();
        let failed = failed_ids();
        // A job tried again from the Outbox and failing again is news again.
        known.update_value(|k| k.retain(|id| failed.iter().any(|(f, _)| f == id)));
        for (id, text) in failed {
            if known.try_update_value(|k| k.insert(id)).unwrap_or(false) {
                ctx.notice.set(Some(text));
            }
        }
    });
    StoredValue::new_local(subscription);
}
