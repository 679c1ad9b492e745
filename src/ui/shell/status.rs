//! The status area above the panes: alerts, the offline banner, what just happened (with Undo)
//! and the undo-send bar. Announced politely to screen readers.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mail::error::sentence;
use crate::outbox::dispatcher::Outbox;
use crate::ui::context::MailContext;
use crate::ui::outbox_view::clock;

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
    view! {
        <div class="status-area" aria-live="polite">
            {move || {
                notice
                    .get()
                    .map(|text| {
                        view! {
                            <p class="notice" role="alert">
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
                            <p class="info" role="status">
                                <span class="status-text">{text}</span>
                                {move || {
                                    ctx.undo
                                        .get()
                                        .map(|_| {
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
                            <p class="undo-bar" role="status">
                                {if queued.scheduled {
                                    format!("“{}” will be sent at {}.", queued.subject, clock(queued.send_at_ms))
                                } else {
                                    format!("Sending “{}”…", queued.subject)
                                }}
                                <button type="button" id="undo-send" on:click=cancel_send>
                                    "Undo"
                                </button>
                            </p>
                        }
                    })
            }}
        </div>
    }
}
