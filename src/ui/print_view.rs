//! A conversation as it prints: every message's headers and body, oldest first, without the app
//! around it (the stylesheet's print rules show only this view). Bodies are the reader's: HTML
//! sanitized in a sandboxed frame without scripts, remote images only where the sender is allowed.

use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;

use super::alert::Alert;
use super::context::MailContext;
use super::reader::{fit_frame, headers};
use super::sanitize::{html_to_text, sanitize_mail_html, SanitizeOptions};
use crate::mail::error::sentence;
use crate::mail::Message;

#[component]
pub fn PrintView(thread_id: String, email_id: String, on_close: Callback<()>) -> impl IntoView {
    let ctx = MailContext::get();
    let messages = RwSignal::new_local(None::<Vec<Message>>);
    let error = RwSignal::new(None::<String>);
    let engine = ctx.engine.get_value();
    spawn_local_scoped_with_cancellation(async move {
        let summaries = match engine.thread(&thread_id).await {
            Ok(list) if !list.is_empty() => list,
            // Offline, or a message without a conversation: the one opened.
            _ => engine.read(|s| s.email(&email_id)).into_iter().collect(),
        };
        let mut loaded = Vec::new();
        for summary in summaries {
            match engine.message(&summary.id).await {
                Ok(m) => loaded.push(m),
                Err(e) => {
                    error.set(Some(sentence(&e.to_string())));
                    return;
                }
            }
        }
        messages.set(Some(loaded));
    });
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    let close = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(b) = close.get() {
            super::focus::focus_after_render(&b);
        }
    });
    view! {
        <section
            class="print-view"
            role="dialog"
            aria-modal="true"
            aria-label="Print view"
            data-ready=move || messages.with(|m| m.is_some()).to_string()
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    on_close.run(());
                }
            }
        >
            <div class="print-tools" role="toolbar" aria-label="Print view">
                <button type="button" id="print-now" on:click=print disabled=move || messages.with(|m| m.is_none())>
                    "Print"
                </button>
                <button type="button" id="print-close" node_ref=close on:click=move |_| on_close.run(())>
                    "Close"
                </button>
            </div>
            <Alert text=error />
            {move || {
                messages
                    .get()
                    .map(|list| {
                        let subject = list.last().map(|m| m.summary.subject.clone()).unwrap_or_default();
                        view! {
                            <h1 class="print-subject">{subject}</h1>
                            {list.into_iter().map(|m| view! { <PrintedMessage message=m /> }).collect_view()}
                        }
                    })
            }}
            {move || {
                (messages.with(|m| m.is_none()) && error.get().is_none())
                    .then(|| {
                        view! {
                            <p class="loading" aria-busy="true">
                                "Preparing the print view…"
                            </p>
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn PrintedMessage(message: Message) -> impl IntoView {
    let ctx = MailContext::get();
    let m = message;
    let sender = m.summary.from.first().map(|a| a.email.to_lowercase()).unwrap_or_default();
    let allow_remote = ctx.prefs.with_untracked(|p| p.allows_remote_from(&sender));
    let body = match (&m.html_body, &m.text_body) {
        (Some(html), _) => match sanitize_mail_html(html, &SanitizeOptions { allow_remote, cid_url: &|_| None }) {
            Ok(s) => view! {
                <iframe
                    class="mail-frame print-frame"
                    title="Message body"
                    sandbox="allow-same-origin"
                    referrerpolicy="no-referrer"
                    srcdoc=s.document
                    on:load=fit_frame
                ></iframe>
            }
            .into_any(),
            Err(_) => view! { <pre class="print-text">{html_to_text(html)}</pre> }.into_any(),
        },
        (None, Some(text)) => view! { <pre class="print-text">{text.clone()}</pre> }.into_any(),
        (None, None) => ().into_any(),
    };
    view! { <article class="printed-message">{headers(&m, true)} {body}</article> }
}
