//! Read receipts in the reader (RFC 8098). A mail that asks for one: send one, or not. Never
//! sent without the click; not asked at all with "Never send read receipts" on; not asked again
//! once answered (`$mdnsent`, set either way, as RFC 9007 says). The user's own mail that asked
//! for one: the receipts that came back.

use leptos::prelude::*;
use leptos::task::{spawn_local, spawn_local_scoped_with_cancellation};

use super::context::MailContext;
use crate::mail::error::sentence;
use crate::mail::receipts::{parse_report, Receipt};
use crate::mail::{keyword, Action, MailError, Message, Role};

#[component]
pub fn ReceiptBar(message: Message) -> impl IntoView {
    let ctx = MailContext::get();
    let Some(asker) = message.receipt_to.first().map(|a| a.label().to_owned()) else { return ().into_any() };
    // The user's own mail: filed in Sent, or from the account's address (the login may not be one).
    let in_sent = ctx.role_id(Role::Sent).is_some_and(|sent| message.summary.in_mailbox(&sent));
    let from_me = ctx
        .me
        .with_value(|me| message.summary.from.iter().any(|a| me.iter().any(|m| m.eq_ignore_ascii_case(&a.email))));
    if in_sent || from_me {
        // Nothing to answer: the receipts that came back to show.
        return view! { <ReceiptsReceived message=message /> }.into_any();
    }
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

/// The receipts that came back for the user's own `message`: reports since it was sent, each
/// fetched through the SHA-256 check and kept when its Original-Message-ID is this message's.
#[component]
fn ReceiptsReceived(message: Message) -> impl IntoView {
    let ctx = MailContext::get();
    let found = RwSignal::new(None::<Result<Vec<(Receipt, String)>, String>>);
    // Nothing is shown where receipts cannot be looked up (RustMailer, offline): no promise to keep.
    let Some(backend) = ctx.engine.with_value(|e| e.backend()) else { return ().into_any() };
    let Some(message_id) = message.message_id.first().cloned() else { return ().into_any() };
    let recipients: Vec<_> = message.summary.to.iter().chain(&message.cc).chain(&message.bcc).cloned().collect();
    let after = message.summary.received_at.clone();
    let shown = RwSignal::new(true);
    // Looked up as the message opens; leaving it cancels the lookup.
    spawn_local_scoped_with_cancellation(async move {
        let reports = match backend.receipt_reports(&after).await {
            Ok(reports) => reports,
            Err(MailError::Unsupported(_)) => return shown.set(false),
            Err(e) => return found.set(Some(Err(sentence(&format!("read receipts could not be looked up: {e}"))))),
        };
        let (connection, digests) = (ctx.connection.get_untracked(), ctx.digests.get_value());
        let mut receipts = Vec::new();
        for mail in reports {
            let Ok(blob) = connection.download(&mail.email_id, &mail.report, &*digests).await else { continue };
            let Ok(text) = wasm_bindgen_futures::JsFuture::from(blob.text()).await else { continue };
            if let Some(receipt) =
                text.as_string().as_deref().and_then(parse_report).filter(|r| r.is_for(&message_id, &recipients))
            {
                receipts.push((receipt, mail.received_at));
            }
        }
        found.set(Some(Ok(receipts)));
    });
    view! {
        <div
            class="receipt-bar receipts-received"
            role="status"
            aria-label="Read receipts"
            hidden=move || !shown.get() || found.with(Option::is_none)
        >
            {move || match found.get() {
                None => String::new(),
                Some(Ok(receipts)) if receipts.is_empty() => {
                    "You asked for read receipts: none has come back yet.".to_owned()
                }
                Some(Ok(receipts)) => {
                    let said: Vec<String> = receipts
                        .iter()
                        .map(|(r, at)| match at.is_empty() {
                            true => r.describe(),
                            false => format!("{} ({})", r.describe(), super::format::local_time(at)),
                        })
                        .collect();
                    format!("Read receipts: {}.", said.join("; "))
                }
                Some(Err(why)) => why,
            }}
        </div>
    }
    .into_any()
}
