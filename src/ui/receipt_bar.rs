//! The reader's question when a mail asks for a read receipt (RFC 8098): send one, or not. Never
//! sent without the click; not asked at all with "Never send read receipts" on; not asked again
//! once answered (`$mdnsent`, set either way, as RFC 9007 says).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::context::MailContext;
use crate::mail::error::sentence;
use crate::mail::{keyword, Action, Message};

#[component]
pub fn ReceiptBar(message: Message) -> impl IntoView {
    let ctx = MailContext::get();
    let Some(asker) = message.receipt_to.first().map(|a| a.label().to_owned()) else { return ().into_any() };
    let id = message.summary.id.clone();
    let answered = {
        let id = id.clone();
        Signal::derive(move || {
            ctx.version.track();
            ctx.engine.with_value(|e| e.read(|s| s.email(&id))).is_some_and(|e| e.has_keyword(keyword::MDN_SENT))
        })
    };
    let never = Signal::derive(move || ctx.prefs.with(|p| p.never_send_receipts));
    let offered = ctx.engine.with_value(|e| e.backend()).is_some_and(|b| b.offers_receipts());
    let busy = RwSignal::new(false);
    let message = StoredValue::new(message);
    let decline = {
        let id = id.clone();
        move |_| {
            let mark = Action::SetKeyword { ids: vec![id.clone()], keyword: keyword::MDN_SENT.into(), on: true };
            ctx.act(vec![mark], Some("No read receipt sent.".into()), vec![]);
        }
    };
    let send = move |_| {
        busy.set(true);
        let (backend, message) = (ctx.engine.with_value(|e| e.backend()), message.get_value());
        spawn_local(async move {
            let Some(backend) = backend else { return };
            match backend.send_receipt(&message).await {
                Ok(()) => {
                    // The server marked it; the store hears of it with the next sync, the bar goes now.
                    ctx.act(
                        vec![Action::SetKeyword {
                            ids: vec![message.summary.id.clone()],
                            keyword: keyword::MDN_SENT.into(),
                            on: true,
                        }],
                        None,
                        vec![],
                    );
                    let to = message.receipt_to.first().map(|a| a.email.clone()).unwrap_or_default();
                    ctx.status.set(Some(format!("Read receipt sent to {to}.")));
                }
                Err(e) => ctx.notice.set(Some(sentence(&format!("The read receipt was not sent: {e}")))),
            }
            let _ = busy.try_set(false);
        });
    };
    view! {
        {move || {
            (!answered.get() && !never.get())
                .then(|| {
                    let decline = decline.clone();
                    view! {
                        <div class="receipt-bar" role="group" aria-label="Read receipt">
                            {if offered {
                                view! {
                                    <span>{format!("{asker} asked for a read receipt.")}</span>
                                    <button type="button" id="receipt-send" disabled=move || busy.get() on:click=send>
                                        "Send receipt"
                                    </button>
                                    <button type="button" id="receipt-decline" on:click=decline>
                                        "Don't send"
                                    </button>
                                }
                                    .into_any()
                            } else {
                                view! {
                                    <span>
                                        {format!(
                                            "{asker} asked for a read receipt; this account's server cannot send one.",
                                        )}
                                    </span>
                                    <button type="button" id="receipt-decline" on:click=decline>
                                        "Dismiss"
                                    </button>
                                }
                                    .into_any()
                            }}
                        </div>
                    }
                })
        }}
    }
    .into_any()
}
