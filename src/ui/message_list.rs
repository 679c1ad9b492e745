//! The open folder's messages: the first window, newest first, one row per conversation.
//! (A virtualized list for 100k-message folders replaces this in the UI issue.)

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mail::engine::{MailEngine, PAGE};
use crate::mail::store::Row;
use crate::mail::{keyword, Action, EmailSummary, MailQuery};

#[component]
pub fn MessageList(engine: StoredValue<MailEngine, LocalStorage>, mailbox_id: String, version: Signal<u64>) -> impl IntoView {
    let query = MailQuery::mailbox(&mailbox_id);
    let error = RwSignal::new(None::<String>);
    {
        let (engine, query) = (engine.get_value(), query.clone());
        spawn_local(async move {
            if let Err(e) = engine.show(&query, 0, PAGE).await {
                error.set(Some(crate::mail::error::sentence(&e.to_string())));
            }
        });
    }
    let rows = move || {
        version.track();
        engine.with_value(|e| e.read(|s| s.rows(&query, 0, PAGE)))
    };
    let open = move |email: &EmailSummary| {
        if email.is_unread() {
            let engine = engine.get_value();
            let action = Action::SetKeyword { ids: vec![email.id.clone()], keyword: keyword::SEEN.into(), on: true };
            spawn_local(async move {
                engine.act(action).await;
            });
        }
    };
    view! {
        {move || error.get().map(|e| view! { <p class="notice" role="alert">{e}</p> })}
        <ul class="message-list" aria-label="Messages">
            {move || rows().into_iter().map(|row| match row {
                Row::Loaded(email) => {
                    let from = email.from.first().map(|a| a.label().to_owned()).unwrap_or_default();
                    let date = email.received_at.get(..10).unwrap_or_default().to_owned();
                    let unread = email.is_unread();
                    let flagged = email.is_flagged();
                    let subject = if email.subject.is_empty() { "(no subject)".to_owned() } else { email.subject.clone() };
                    let (id, preview, has_attachment) = (email.id.clone(), email.preview.clone(), email.has_attachment);
                    view! {
                        <li class="message-row" class:unread=unread data-id=id>
                            <button type="button" class="message-open" on:click=move |_| open(&email)>
                                <span class="from">{from}</span>
                                <span class="subject">{subject}</span>
                                <span class="preview">{preview}</span>
                                <span class="date">{date}</span>
                                {flagged.then(|| view! { <span class="flag" aria-label="Flagged">"⚑"</span> })}
                                {has_attachment.then(|| view! { <span class="clip" aria-label="Has attachments">"📎"</span> })}
                            </button>
                        </li>
                    }.into_any()
                }
                Row::Loading { .. } => view! { <li class="message-row loading" aria-hidden="true"></li> }.into_any(),
            }).collect_view()}
        </ul>
    }
}
