//! The reader's bar for list mail: unsubscribe in one click (RFC 8058), by mail, or on the list's
//! page, always after a confirmation that says which; and, if asked, everything from the sender
//! to Trash. What happened is said in the status line.

use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::context::MailContext;
use super::mail_actions::{self, Batch};
use crate::mail::mailto::parse_mailto;
use crate::mail::store::Row;
use crate::mail::unsubscribe::{host_of, parse, UnsubscribeBy};
use crate::mail::{Draft, Filter, MailQuery, Message, SortBy};

/// How many of a sender's messages "move everything to Trash" reaches: a list's worth of years.
const MAX_FROM_SENDER: u64 = 1000;

fn what_happens(by: &UnsubscribeBy) -> String {
    match by {
        UnsubscribeBy::OneClick(url) => format!("Petrel asks {} to take you off the list (one click).", host_of(url)),
        UnsubscribeBy::Mail(url) => {
            let to = url.split_once(':').map(|(_, r)| r.split('?').next().unwrap_or(r)).unwrap_or(url);
            format!("Petrel opens an unsubscribe mail to {to}: send it to leave the list.")
        }
        UnsubscribeBy::Page(url) => format!("Petrel opens {}'s unsubscribe page in a new tab.", host_of(url)),
    }
}

/// RFC 8058: a POST of `List-Unsubscribe=One-Click`, without cookies or referrer. The answer is
/// opaque to a page (another origin, no CORS): only that the list was reached is known.
async fn one_click(url: &str) -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_mode(web_sys::RequestMode::NoCors);
    init.set_credentials(web_sys::RequestCredentials::Omit);
    init.set_referrer_policy(web_sys::ReferrerPolicy::NoReferrer);
    init.set_body(&"List-Unsubscribe=One-Click".into());
    let headers = web_sys::Headers::new().map_err(|_| "no headers")?;
    let _ = headers.set("Content-Type", "application/x-www-form-urlencoded");
    init.set_headers(&headers);
    let request = web_sys::Request::new_with_str_and_init(url, &init).map_err(|_| "not a valid address")?;
    wasm_bindgen_futures::JsFuture::from(window.fetch_with_request(&request))
        .await
        .map(|_| ())
        .map_err(|e| e.dyn_into::<js_sys::Error>().map(|e| String::from(e.message())).unwrap_or_default())
}

#[component]
pub fn UnsubscribeBar(message: Message, on_compose: Callback<Draft>) -> impl IntoView {
    let ctx = MailContext::get();
    let Some(header) = message.list_unsubscribe.clone() else { return ().into_any() };
    let sender = message.summary.from.first().map(|a| a.email.clone()).unwrap_or_default();
    let parsed = parse(&header, message.list_unsubscribe_post.as_deref());
    let by = match parsed {
        Ok(u) => u.best(),
        Err(e) => {
            // A header that names nothing usable (or only unsafe addresses) is said, not offered.
            return view! { <p class="list-bar info">{format!("This is list mail, but {e}.")}</p> }.into_any();
        }
    };
    let Some(by) = by else { return ().into_any() };
    let confirming = RwSignal::new(false);
    let trash_all = RwSignal::new(false);
    let busy = RwSignal::new(false);
    let explained = what_happens(&by);
    let sender_label = sender.clone();
    let confirm = move |_| {
        let (by, sender) = (by.clone(), sender.clone());
        busy.set(true);
        spawn_local(async move {
            let said = match &by {
                UnsubscribeBy::OneClick(url) => match one_click(url).await {
                    Ok(()) => format!("Asked {} to unsubscribe you.", host_of(url)),
                    Err(e) => format!("Could not reach {} to unsubscribe: {e}", host_of(url)),
                },
                UnsubscribeBy::Mail(url) => match parse_mailto(url) {
                    Ok(draft) => {
                        on_compose.run(draft);
                        "The unsubscribe mail is ready: send it to leave the list.".to_owned()
                    }
                    Err(e) => format!("Could not write the unsubscribe mail: {e}."),
                },
                UnsubscribeBy::Page(url) => {
                    let opened = web_sys::window().and_then(|w| {
                        w.open_with_url_and_target_and_features(url, "_blank", "noopener,noreferrer").ok()
                    });
                    // With noopener the browser hands back no window: only an exception means it failed.
                    match opened {
                        Some(_) => format!("Opened {}'s unsubscribe page in a new tab.", host_of(url)),
                        None => format!("Could not open {}.", host_of(url)),
                    }
                }
            };
            let _ = busy.try_set(false);
            let _ = confirming.try_set(false);
            if trash_all.get_untracked() && !sender.is_empty() {
                move_all_to_trash(ctx, &sender, said).await;
            } else {
                ctx.status.set(Some(said));
            }
        });
    };
    view! {
        <div class="list-bar" role="group" aria-label="Mailing list">
            {move || {
                if confirming.get() {
                    view! {
                        <p>{explained.clone()}</p>
                        <label>
                            <input type="checkbox" id="unsubscribe-trash" bind:checked=trash_all />
                            {format!(" Also move all mail from {sender_label} to Trash")}
                        </label>
                        <button
                            type="button"
                            id="unsubscribe-confirm"
                            class="primary"
                            disabled=move || busy.get()
                            on:click=confirm.clone()
                        >
                            "Unsubscribe"
                        </button>
                        <button type="button" id="unsubscribe-cancel" on:click=move |_| confirming.set(false)>
                            "Cancel"
                        </button>
                    }
                        .into_any()
                } else {
                    view! {
                        <span>"This message is from a mailing list."</span>
                        <button type="button" id="unsubscribe" on:click=move |_| confirming.set(true)>
                            "Unsubscribe"
                        </button>
                    }
                        .into_any()
                }
            }}
        </div>
    }
    .into_any()
}

/// Every message from `sender` (up to [`MAX_FROM_SENDER`]) to Trash, with the usual undo; `said`
/// (how the unsubscription went) is said with it.
async fn move_all_to_trash(ctx: MailContext, sender: &str, said: String) {
    let query = MailQuery {
        filter: Filter { from: Some(sender.to_owned()), ..Default::default() },
        sort: SortBy::ReceivedAt,
        ascending: false,
        threads: false,
    };
    let engine = ctx.engine.get_value();
    if let Err(e) = engine.show(&query, 0, MAX_FROM_SENDER).await {
        ctx.status.set(Some(said));
        ctx.notice.set(Some(format!("Could not find the mail from {sender}: {e}")));
        return;
    }
    let ids: Vec<String> = engine.read(|s| {
        s.rows(&query, 0, MAX_FROM_SENDER)
            .into_iter()
            .filter_map(|r| match r {
                Row::Loaded(e) => Some(e.id),
                Row::Loading { .. } => None,
            })
            .collect()
    });
    match engine.read(|s| mail_actions::plan(s, &Batch::Delete, &ids)) {
        Ok((actions, moved, undo)) => ctx.act(actions, Some(format!("{said} {moved}")), undo),
        Err(why) => ctx.status.set(Some(format!("{said} {why}"))),
    }
}
