//! The conversation reader: the messages of a thread, oldest first, the opened one (and unread
//! ones) expanded. Bodies are shown sanitized in a sandboxed frame without scripts, remote images
//! blocked until allowed, `cid:` parts from verified downloads, quotes folded; attachments are
//! listed and downloaded through the SHA-256 check.

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;
use wasm_bindgen::JsCast;

use super::alert::Alert;
use super::browser_support::PdfViewer;
use super::context::MailContext;
use super::format::{human_size, local_time};
use super::labels::label_chips;
use super::mail_actions::{self, Batch};
use super::receipt_bar::ReceiptBar;
use super::sanitize::{sanitize_mail_html, SanitizeOptions};
use super::unsubscribe_bar::UnsubscribeBar;
use crate::mail::error::sentence;
use crate::mail::filters::{self, Rule};
use crate::mail::quoting::{split_quotes, ReplyKind};
use crate::mail::{keyword, Action, Address, BodyPart, Draft, EmailSummary, Message, Role};

/// What the reader asks of the shell: answer a message.
pub type OnAnswer = Callback<(Message, ReplyKind)>;

fn people(list: &[Address]) -> String {
    list.iter()
        .map(|a| match a.name.as_deref().filter(|n| !n.trim().is_empty()) {
            Some(n) => format!("{n} <{}>", a.email),
            None => a.email.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[component]
pub fn Reader(
    thread_id: String,
    email_id: String,
    on_answer: OnAnswer,
    on_close: Callback<()>,
    on_print: Callback<()>,
    on_compose: Callback<Draft>,
    on_filter: Callback<Rule>,
    on_label: Callback<String>,
    on_snooze: Callback<String>,
) -> impl IntoView {
    let ctx = MailContext::get();
    let messages = RwSignal::new(Vec::<EmailSummary>::new());
    let error = RwSignal::new(None::<String>);
    let expanded = RwSignal::new(BTreeSet::from([email_id.clone()]));
    // Loaded again when the account's connection changes (a cached account going live shows
    // the whole conversation it could not fetch before).
    Effect::new({
        let (thread_id, email_id) = (thread_id.clone(), email_id.clone());
        move |_| {
            ctx.connection.track();
            error.set(None);
            let (engine, thread_id, email_id) = (ctx.engine.get_value(), thread_id.clone(), email_id.clone());
            // Owned by this run of the effect: a newer run (the connection changed again) or the
            // reader closing cancels it, so a stale answer never lands.
            spawn_local_scoped_with_cancellation(async move {
                let found = if thread_id.is_empty() { Ok(vec![]) } else { engine.thread(&thread_id).await };
                match found {
                    Ok(mut list) => {
                        if list.is_empty() {
                            list = engine.read(|s| s.email(&email_id)).into_iter().collect();
                        }
                        // Unread messages open with the one asked for.
                        expanded.update(|e| e.extend(list.iter().filter(|m| m.is_unread()).map(|m| m.id.clone())));
                        messages.set(list);
                    }
                    Err(e) => {
                        // Offline: the message alone, from the cache.
                        let alone: Vec<EmailSummary> = engine.read(|s| s.email(&email_id)).into_iter().collect();
                        if alone.is_empty() {
                            error.set(Some(sentence(&e.to_string())));
                        }
                        messages.set(alone);
                    }
                }
            });
        }
    });
    // Messages moved away or deleted leave the conversation as the store says.
    let shown = move || {
        ctx.version.track();
        let ids: Vec<String> = messages.with(|m| m.iter().map(|e| e.id.clone()).collect());
        ctx.engine.with_value(|e| e.read(|s| ids.iter().filter_map(|id| s.email(id)).collect::<Vec<_>>()))
    };
    let subject = move || {
        shown()
            .last()
            .map(|m| if m.subject.is_empty() { "(no subject)".to_owned() } else { m.subject.clone() })
            .unwrap_or_default()
    };
    let heading = NodeRef::<leptos::html::H2>::new();
    // Focus moves into the reader so keyboard users land on what they opened.
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            super::focus::focus_after_render(&h);
        }
    });
    view! {
        <article class="reader" aria-labelledby="reader-subject">
            <header class="reader-head">
                <button type="button" class="back" aria-label="Back to the list" on:click=move |_| on_close.run(())>
                    "←"
                </button>
                <h2 id="reader-subject" tabindex="-1" node_ref=heading>
                    {subject}
                </h2>
                <span class="count">
                    {move || match shown().len() {
                        0 | 1 => String::new(),
                        n => format!("{n} messages"),
                    }}
                </span>
                <button type="button" id="print-open" class="print" on:click=move |_| on_print.run(())>
                    "Print"
                </button>
            </header>
            <Alert text=error />
            <ol class="conversation">
                <For
                    each=shown
                    key=|m| m.id.clone()
                    children=move |summary| {
                        let id = summary.id.clone();
                        let is_open = {
                            let id = id.clone();
                            Signal::derive(move || expanded.with(|e| e.contains(&id)))
                        };
                        let toggle = {
                            let id = id.clone();
                            move |_| {
                                expanded
                                    .update(|e| {
                                        if !e.remove(&id) {
                                            e.insert(id.clone());
                                        }
                                    })
                            }
                        };
                        let from = summary.from.first().map(|a| a.label().to_owned()).unwrap_or_default();
                        let date = local_time(&summary.received_at);
                        let preview = summary.preview.clone();
                        view! {
                            <li class="conversation-item" data-id=id.clone() class:open=is_open>
                                <button
                                    type="button"
                                    class="message-head"
                                    aria-expanded=move || is_open.get().to_string()
                                    on:click=toggle
                                >
                                    <span class="from">{from}</span>
                                    <span class="date">{date}</span>
                                    {move || {
                                        (!is_open.get())
                                            .then(|| view! { <span class="preview">{preview.clone()}</span> })
                                    }}
                                </button>
                                {
                                    let id = id.clone();
                                    move || {
                                        is_open
                                            .get()
                                            .then(|| {
                                                view! {
                                                    <MessageView
                                                        id=id.clone()
                                                        on_answer=on_answer
                                                        on_compose=on_compose
                                                        on_filter=on_filter
                                                        on_label=on_label
                                                        on_snooze=on_snooze
                                                    />
                                                }
                                            })
                                    }
                                }
                            </li>
                        }
                    }
                />
            </ol>
        </article>
    }
}

/// "Filter like this" and "Block sender", where the account's server keeps filters: each opens
/// the filters with the rule filled in, to be checked and saved there.
fn filter_buttons(ctx: &MailContext, m: &Message, on_filter: Callback<Rule>) -> Option<impl IntoView> {
    let sender = m.summary.from.first().map(|a| a.email.to_lowercase()).filter(|s| s.contains('@'))?;
    // Not for the user's own mail: a rule against oneself is never what was meant.
    let own = ctx.me.with_value(|me| me.iter().any(|a| a.eq_ignore_ascii_case(&sender)));
    if own || !ctx.connection.with_untracked(|c| c.offers_filters()) {
        return None;
    }
    let trash = ctx.role_id(Role::Trash).and_then(|id| {
        ctx.mailboxes.with_untracked(|all| all.iter().find(|m| m.id == id).map(|m| (id.clone(), m.name.clone())))
    });
    let like = filters::rule_like(&sender, None);
    let block = trash.map(|(id, name)| filters::block_rule(&sender, &id, &name));
    Some(view! {
        <button type="button" class="filter-like" on:click=move |_| on_filter.run(like.clone())>
            "Filter like this"
        </button>
        {block
            .map(|rule| {
                view! {
                    <button type="button" class="block-sender" on:click=move |_| on_filter.run(rule.clone())>
                        "Block sender"
                    </button>
                }
            })}
    })
}

/// Object URLs of downloaded parts, revoked when the message view goes.
struct ObjectUrls(Vec<String>);

impl Drop for ObjectUrls {
    fn drop(&mut self) {
        for url in &self.0 {
            let _ = web_sys::Url::revoke_object_url(url);
        }
    }
}

#[component]
fn MessageView(
    id: String,
    on_answer: OnAnswer,
    on_compose: Callback<Draft>,
    on_filter: Callback<Rule>,
    on_label: Callback<String>,
    on_snooze: Callback<String>,
) -> impl IntoView {
    let ctx = MailContext::get();
    let message = RwSignal::new_local(None::<Message>);
    let error = RwSignal::new(None::<String>);
    let plain = RwSignal::new(false);
    let allow_once = RwSignal::new(false);
    let cids = RwSignal::new(HashMap::<String, String>::new());
    let urls = StoredValue::new_local(ObjectUrls(Vec::new()));
    // Tried again when the account's connection changes, until the message is there.
    Effect::new({
        let id = id.clone();
        move |_| {
            ctx.connection.track();
            if message.with_untracked(|m| m.is_some()) {
                return;
            }
            error.set(None);
            let (engine, id) = (ctx.engine.get_value(), id.clone());
            // Cancelled with this run of the effect, as the conversation's load above.
            spawn_local_scoped_with_cancellation(async move {
                match engine.message(&id).await {
                    Ok(m) => {
                        mark("petrel:message-loaded");
                        if m.summary.is_unread() {
                            ctx.act(
                                vec![Action::SetKeyword {
                                    ids: vec![id.clone()],
                                    keyword: keyword::SEEN.into(),
                                    on: true,
                                }],
                                None,
                                vec![],
                            );
                        }
                        let inline: Vec<BodyPart> = m.inline_parts().cloned().collect();
                        let has_html = m.html_body.is_some();
                        message.set(Some(m));
                        if has_html {
                            load_inline(&ctx, &id, inline, cids, urls).await;
                        }
                    }
                    Err(e) => error.set(Some(sentence(&e.to_string()))),
                }
            });
        }
    });
    let sender = move || {
        message.with(|m| {
            m.as_ref().and_then(|m| m.summary.from.first().map(|a| a.email.to_lowercase())).unwrap_or_default()
        })
    };
    let allowed = move || allow_once.get() || ctx.prefs.with(|p| p.allows_remote_from(&sender()));
    let sanitized = move || {
        let html = message.with(|m| m.as_ref().and_then(|m| m.html_body.clone()))?;
        let map = cids.get();
        let lookup = move |cid: &str| map.get(cid).cloned();
        let clean = sanitize_mail_html(&html, &SanitizeOptions { allow_remote: allowed(), cid_url: &lookup });
        mark("petrel:body-sanitized");
        Some(clean)
    };
    let answer = move |kind: ReplyKind| {
        if let Some(m) = message.get_untracked() {
            on_answer.run((m, kind));
        }
    };
    let act = {
        let id = id.clone();
        move |batch: Batch| mail_actions::run(&ctx, batch, vec![id.clone()])
    };
    let (act_archive, act_delete, act_unread, act_spam) = (act.clone(), act.clone(), act.clone(), act);
    view! {
        <div class="message-view">
            <Alert text=error />
            {move || {
                message
                    .get()
                    .map(|m| {
                        let has_html = m.html_body.is_some();
                        let text = m.text_body.clone().unwrap_or_default();
                        let attachments: Vec<BodyPart> = m
                            .attachments
                            .iter()
                            .filter(|p| !(has_html && p.is_inline()))
                            .cloned()
                            .collect();
                        let email_id = m.summary.id.clone();
                        view! {
                            {headers(&m, false)}
                            {
                                let id = email_id.clone();
                                move || {
                                    ctx.version.track();
                                    let keywords = ctx
                                        .engine
                                        .with_value(|e| e.read(|s| s.email(&id).map(|m| m.keywords)))
                                        .unwrap_or_default();
                                    label_chips(keywords)
                                }
                            }
                            <div class="message-actions" role="toolbar" aria-label="Message actions">
                                <button type="button" class="reply" on:click=move |_| answer(ReplyKind::Reply)>
                                    "Reply"
                                </button>
                                <button type="button" class="reply-all" on:click=move |_| answer(ReplyKind::ReplyAll)>
                                    "Reply all"
                                </button>
                                <button type="button" class="forward" on:click=move |_| answer(ReplyKind::Forward)>
                                    "Forward"
                                </button>
                                <button
                                    type="button"
                                    class="archive"
                                    on:click={
                                        let a = act_archive.clone();
                                        move |_| a(Batch::Archive)
                                    }
                                >
                                    "Archive"
                                </button>
                                <button
                                    type="button"
                                    class="delete"
                                    on:click={
                                        let a = act_delete.clone();
                                        move |_| a(Batch::Delete)
                                    }
                                >
                                    "Delete"
                                </button>
                                <button
                                    type="button"
                                    class="unread"
                                    on:click={
                                        let a = act_unread.clone();
                                        move |_| a(Batch::Unread)
                                    }
                                >
                                    "Mark unread"
                                </button>
                                {
                                    let (id, a) = (m.summary.id.clone(), act_spam.clone());
                                    let in_junk = Signal::derive(move || {
                                        ctx.version.track();
                                        let junk = ctx.role_id(Role::Junk);
                                        ctx.engine
                                            .with_value(|e| e.read(|s| s.email(&id)))
                                            .zip(junk)
                                            .is_some_and(|(e, j)| e.in_mailbox(&j))
                                    });
                                    // Read from the store: the button changes as soon as the move is made.
                                    view! {
                                        <button
                                            type="button"
                                            class="spam"
                                            on:click=move |_| a(
                                                if in_junk.get_untracked() { Batch::NotSpam } else { Batch::Spam },
                                            )
                                        >
                                            {move || if in_junk.get() { "Not spam" } else { "Spam" }}
                                        </button>
                                    }
                                }
                                {
                                    let id = email_id.clone();
                                    super::labels::offered(&ctx)
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="label"
                                                    on:click=move |_| on_label.run(id.clone())
                                                >
                                                    "Label…"
                                                </button>
                                            }
                                        })
                                }
                                {
                                    let id = email_id.clone();
                                    super::snooze::offered(&ctx)
                                        .then(|| {
                                            view! {
                                                <button
                                                    type="button"
                                                    class="snooze"
                                                    on:click=move |_| on_snooze.run(id.clone())
                                                >
                                                    "Snooze…"
                                                </button>
                                            }
                                        })
                                }
                                {filter_buttons(&ctx, &m, on_filter)}
                                {has_html
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="view-toggle"
                                                aria-pressed=move || plain.get().to_string()
                                                on:click=move |_| plain.update(|p| *p = !*p)
                                            >
                                                {move || if plain.get() { "Show formatted" } else { "Show plain text" }}
                                            </button>
                                        }
                                    })}
                            </div>
                            <ReceiptBar message=m.clone() />
                            <UnsubscribeBar message=m.clone() on_compose=on_compose />
                            <MessageSource message=m.clone() />
                            {m
                                .body_truncated
                                .then(|| {
                                    view! { <p class="info">"This message is long: only its first 2 MB are shown."</p> }
                                })}
                            {move || {
                                if has_html && !plain.get() {
                                    match sanitized() {
                                        Some(Ok(s)) => {
                                            let blocked = if allowed() { 0 } else { s.remote };
                                            let sender_for_allow = sender();
                                            view! {
                                                {(blocked > 0)
                                                    .then(|| {
                                                        view! {
                                                            <p class="remote-blocked" role="status">
                                                                {format!(
                                                                    "{blocked} remote {} blocked to protect your privacy.",
                                                                    if blocked == 1 { "image was" } else { "images were" },
                                                                )}
                                                                <button
                                                                    type="button"
                                                                    class="allow-once"
                                                                    on:click=move |_| allow_once.set(true)
                                                                >
                                                                    "Show them"
                                                                </button>
                                                                <button
                                                                    type="button"
                                                                    class="allow-sender"
                                                                    on:click=move |_| {
                                                                        let s = sender_for_allow.clone();
                                                                        super::prefs::change(
                                                                            ctx.prefs,
                                                                            |p| {
                                                                                p.remote_image_senders.insert(s);
                                                                            },
                                                                        );
                                                                    }
                                                                >
                                                                    {format!("Always from {}", sender())}
                                                                </button>
                                                            </p>
                                                        }
                                                    })}
                                                <iframe
                                                    class="mail-frame"
                                                    title="Message body"
                                                    sandbox="allow-same-origin allow-popups allow-popups-to-escape-sandbox"
                                                    referrerpolicy="no-referrer"
                                                    srcdoc=s.document
                                                    on:load=fit_frame
                                                ></iframe>
                                            }
                                                .into_any()
                                        }
                                        Some(Err(e)) => {
                                            view! {
                                                <p class="notice" role="alert">
                                                    {e.to_string()}
                                                </p>
                                            }
                                                .into_any()
                                        }
                                        None => ().into_any(),
                                    }
                                } else {
                                    let body = if text.is_empty() {
                                        m.html_body.as_deref().map(super::sanitize::html_to_text).unwrap_or_default()
                                    } else {
                                        text.clone()
                                    };
                                    view! { <PlainText text=body /> }.into_any()
                                }
                            }}
                            {(!attachments.is_empty())
                                .then(|| view! { <Attachments email_id=email_id parts=attachments /> })}
                        }
                    })
            }}
            {move || {
                (message.with(|m| m.is_none()) && error.get().is_none())
                    .then(|| {
                        view! {
                            <p class="loading" aria-busy="true">
                                "Loading message…"
                            </p>
                        }
                    })
            }}
        </div>
    }
}

/// A message's headers as the reader shows them; the print view names the subject too (on paper
/// each message stands alone).
pub(super) fn headers(m: &Message, with_subject: bool) -> impl IntoView {
    view! {
        <dl class="headers">
            <dt>"From"</dt>
            <dd class="header-from">{people(&m.summary.from)}</dd>
            <dt>"To"</dt>
            <dd>{people(&m.summary.to)}</dd>
            {(!m.cc.is_empty())
                .then(|| {
                    view! {
                        <dt>"Cc"</dt>
                        <dd>{people(&m.cc)}</dd>
                    }
                })}
            <dt>"Date"</dt>
            <dd>{local_time(m.sent_at.as_deref().unwrap_or(&m.summary.received_at))}</dd>
            {with_subject
                .then(|| {
                    view! {
                        <dt>"Subject"</dt>
                        <dd>{m.summary.subject.clone()}</dd>
                    }
                })}
        </dl>
    }
}

/// The frame grows to its content (the same-origin sandbox lets the page measure it; scripts
/// stay off inside).
pub(super) fn fit_frame(ev: leptos::ev::Event) {
    mark("petrel:frame-loaded");
    let Some(frame) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlIFrameElement>().ok()) else { return };
    // The body's height, not the document's: the latter is never less than the frame itself.
    let height = frame.content_document().and_then(|d| d.body()).map(|b| b.scroll_height()).unwrap_or(400);
    let _ = web_sys::HtmlElement::style(&frame).set_property("height", &format!("{}px", height.max(40) + 24));
}

/// A User Timing mark: `scripts/bench` reads them to say where the time of opening a message goes.
fn mark(name: &str) {
    if let Some(performance) = web_sys::window().and_then(|w| w.performance()) {
        let _ = performance.mark(name);
    }
}

/// Downloads the parts the HTML shows in place (`cid:`), through the SHA-256 check.
async fn load_inline(
    ctx: &MailContext,
    email_id: &str,
    parts: Vec<BodyPart>,
    cids: RwSignal<HashMap<String, String>>,
    urls: StoredValue<ObjectUrls, LocalStorage>,
) {
    let connection = ctx.connection.get_untracked();
    let digests = ctx.digests.get_value();
    for part in parts {
        let Some(cid) = part.cid.clone() else { continue };
        // Large inline parts are left as attachments to download, not loaded unasked.
        if part.size > 10 * 1024 * 1024 {
            continue;
        }
        if let Ok(blob) = connection.download(email_id, &part, &*digests).await {
            if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
                urls.update_value(|u| u.0.push(url.clone()));
                cids.update(|m| {
                    m.insert(cid, url);
                });
            }
        }
    }
}

#[component]
fn PlainText(text: String) -> impl IntoView {
    view! {
        <div class="plain-text">
            {split_quotes(&text)
                .into_iter()
                .map(|block| {
                    if block.quoted {
                        view! {
                            <details class="quoted">
                                <summary>"Quoted text"</summary>
                                <pre>{block.text}</pre>
                            </details>
                        }
                            .into_any()
                    } else {
                        view! { <pre>{block.text}</pre> }.into_any()
                    }
                })
                .collect_view()}
        </div>
    }
}

/// How much of a text attachment its preview shows.
const MAX_TEXT_PREVIEW: f64 = 256.0 * 1024.0;

fn previews_as_text(part: &BodyPart) -> bool {
    let t = part.content_type.to_ascii_lowercase();
    // HTML, SVG and XML render as documents elsewhere: here only text that reads as text.
    (t.starts_with("text/") && t != "text/html") || t == "application/json"
}

fn is_pdf(part: &BodyPart) -> bool {
    part.content_type.eq_ignore_ascii_case("application/pdf")
}

/// The verified download typed as a PDF whatever the server said, so the browser hands it to its
/// PDF viewer and never sniffs it as a page.
fn as_pdf(blob: &web_sys::Blob) -> Option<web_sys::Blob> {
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/pdf");
    web_sys::Blob::new_with_blob_sequence_and_options(&js_sys::Array::of1(blob), &options).ok()
}

/// A verified download's text (its start, for a long file), decoded as UTF-8 by the browser.
async fn text_of(blob: &web_sys::Blob) -> Result<String, String> {
    let head =
        blob.slice_with_f64_and_f64(0.0, MAX_TEXT_PREVIEW).map_err(|_| "The file could not be read.".to_owned())?;
    let text =
        wasm_bindgen_futures::JsFuture::from(head.text()).await.map_err(|_| "The file is not text.".to_owned())?;
    let mut text = text.as_string().unwrap_or_default();
    if blob.size() > MAX_TEXT_PREVIEW {
        text.push_str("\n… (the rest is in the download)");
    }
    Ok(text)
}

#[component]
fn Attachments(email_id: String, parts: Vec<BodyPart>) -> impl IntoView {
    let ctx = MailContext::get();
    let previews = RwSignal::new(HashMap::<String, String>::new());
    let texts = RwSignal::new(HashMap::<String, String>::new());
    let urls = StoredValue::new_local(ObjectUrls(Vec::new()));
    let busy = RwSignal::new(None::<String>);
    let pdf_viewer = super::browser_support::pdf_viewer();
    let fetch = move |email_id: String, part: BodyPart, preview: bool| {
        let key = part.blob_id.clone().unwrap_or_default();
        busy.set(Some(key.clone()));
        // A download goes with the reader that asked for it.
        spawn_local_scoped_with_cancellation(async move {
            let connection = ctx.connection.get_untracked();
            let digests = ctx.digests.get_value();
            match connection.download(&email_id, &part, &*digests).await {
                Ok(blob) if preview && previews_as_text(&part) => {
                    // Shown as text, never rendered: whatever markup the file holds stays characters.
                    match text_of(&blob).await {
                        Ok(text) => texts.update(|t| {
                            t.insert(key, text);
                        }),
                        Err(why) => ctx.notice.set(Some(why)),
                    }
                }
                Ok(blob) => {
                    let blob = if is_pdf(&part) { as_pdf(&blob).unwrap_or(blob) } else { blob };
                    if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
                        urls.update_value(|u| u.0.push(url.clone()));
                        if preview {
                            previews.update(|p| {
                                p.insert(key, url);
                            });
                        } else {
                            save_as(&url, part.name.as_deref().unwrap_or("attachment"));
                        }
                    }
                }
                Err(e) => ctx.notice.set(Some(sentence(&format!(
                    "{} could not be downloaded: {e}",
                    part.name.as_deref().unwrap_or("The attachment")
                )))),
            }
            busy.set(None);
        });
    };
    view! {
        <section class="attachments" aria-label="Attachments">
            <h3>{format!("{} attachment{}", parts.len(), if parts.len() == 1 { "" } else { "s" })}</h3>
            <ul>
                {parts
                    .into_iter()
                    .map(|part| {
                        let key = part.blob_id.clone().unwrap_or_default();
                        let name = part.name.clone().unwrap_or_else(|| "attachment".to_owned());
                        let alt = format!("Preview of {name}");
                        let pdf_name = name.clone();
                        let is_image = part.content_type.starts_with("image/") && !part.content_type.contains("svg");
                        let pdf = is_pdf(&part).then_some(pdf_viewer).filter(|v| *v != PdfViewer::Absent);
                        let previewable = is_image || pdf.is_some() || previews_as_text(&part);
                        let (p1, p2, e1, e2, k1, k2, k3) = (
                            part.clone(),
                            part.clone(),
                            email_id.clone(),
                            email_id.clone(),
                            key.clone(),
                            key.clone(),
                            key.clone(),
                        );
                        view! {
                            <li class="attachment" data-name=name.clone()>
                                <span class="name">{name.clone()}</span>
                                <span class="meta">
                                    {format!("{} · {}", part.content_type, human_size(part.size))}
                                </span>
                                <button
                                    type="button"
                                    class="download"
                                    aria-label=format!("Download {name}")
                                    disabled=move || busy.get().as_deref() == Some(k1.as_str())
                                    on:click=move |_| fetch(e1.clone(), p1.clone(), false)
                                >
                                    "Download"
                                </button>
                                {previewable
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="preview"
                                                on:click=move |_| fetch(e2.clone(), p2.clone(), true)
                                            >
                                                "Preview"
                                            </button>
                                        }
                                    })}
                                {move || {
                                    previews
                                        .with(|p| p.get(&k2).cloned())
                                        .map(|url| match pdf {
                                            Some(PdfViewer::InSandboxedFrame) => {
                                                // The PDF's own scripts stay in the viewer; the frame may open nothing.
                                                view! {
                                                    <iframe
                                                        class="attachment-pdf"
                                                        sandbox="allow-scripts"
                                                        src=url
                                                        title=alt.clone()
                                                    ></iframe>
                                                }
                                                    .into_any()
                                            }
                                            Some(_) => {
                                                view! {
                                                    <p class="attachment-pdf-open">
                                                        "Checked. This browser shows PDFs only in a tab of their own: "
                                                        <a href=url target="_blank" rel="noopener noreferrer">
                                                            {format!("open {pdf_name}")}
                                                        </a>
                                                    </p>
                                                }
                                                    .into_any()
                                            }
                                            None => {
                                                view! { <img class="attachment-preview" src=url alt=alt.clone() /> }
                                                    .into_any()
                                            }
                                        })
                                }}
                                {move || {
                                    texts
                                        .with(|t| t.get(&k3).cloned())
                                        .map(|text| {
                                            view! {
                                                <pre class="attachment-text" tabindex="0">
                                                    {text}
                                                </pre>
                                            }
                                        })
                                }}
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// The largest message whose source is shown in the reader; a larger one can be downloaded.
const MAX_SOURCE_SHOWN: u64 = 2 * 1024 * 1024;

/// "View source" and "Download .eml": the whole message as the server keeps it, fetched through
/// the same SHA-256 check as attachments. Only where the protocol can fetch it (JMAP).
#[component]
fn MessageSource(message: Message) -> impl IntoView {
    let ctx = MailContext::get();
    let offered = ctx.connection.with_untracked(|c| c.offers_source()) && message.blob_id.is_some();
    let source = RwSignal::new(None::<Result<String, String>>);
    let busy = RwSignal::new(false);
    let urls = StoredValue::new_local(ObjectUrls(Vec::new()));
    let fetch = move |message: Message, save: bool| {
        busy.set(true);
        spawn_local_scoped_with_cancellation(async move {
            let connection = ctx.connection.get_untracked();
            let digests = ctx.digests.get_value();
            let result = match connection.original(&message, &*digests).await {
                Ok(blob) if save => {
                    if let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) {
                        urls.update_value(|u| u.0.push(url.clone()));
                        save_as(&url, &super::account::eml_name(&message.summary.subject));
                    }
                    None
                }
                Ok(blob) => Some(
                    wasm_bindgen_futures::JsFuture::from(blob.text())
                        .await
                        .ok()
                        .and_then(|text| text.as_string())
                        .ok_or_else(|| "The source could not be read as text.".to_owned()),
                ),
                Err(e) => Some(Err(sentence(&format!("the source could not be fetched: {e}")))),
            };
            if result.is_some() {
                source.set(result);
            }
            busy.set(false);
        });
    };
    let too_large = message.summary.size > MAX_SOURCE_SHOWN;
    let (view_message, save_message) = (message.clone(), message);
    offered.then(|| {
        view! {
            <div class="message-source-actions">
                <button
                    type="button"
                    id="view-source"
                    aria-expanded=move || source.with(Option::is_some).to_string()
                    disabled=move || busy.get()
                    on:click=move |_| {
                        if source.with_untracked(Option::is_some) {
                            source.set(None);
                        } else if too_large {
                            source
                                .set(
                                    Some(
                                        Err(
                                            format!(
                                                "This message is too large to show here ({}): download it instead.",
                                                human_size(view_message.summary.size),
                                            ),
                                        ),
                                    ),
                                );
                        } else {
                            fetch(view_message.clone(), false);
                        }
                    }
                >
                    {move || if source.with(Option::is_some) { "Hide source" } else { "View source" }}
                </button>
                <button
                    type="button"
                    id="download-eml"
                    disabled=move || busy.get()
                    on:click=move |_| fetch(save_message.clone(), true)
                >
                    "Download .eml"
                </button>
            </div>
            {move || {
                source
                    .get()
                    .map(|shown| match shown {
                        Ok(text) => {
                            view! {
                                <pre class="message-source" tabindex="0" aria-label="Message source">
                                    {text}
                                </pre>
                            }
                                .into_any()
                        }
                        Err(why) => {
                            view! {
                                <p class="notice" role="alert">
                                    {why}
                                </p>
                            }
                                .into_any()
                        }
                    })
            }}
        }
    })
}

/// Hands a downloaded file to the browser's save flow.
fn save_as(url: &str, name: &str) {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return };
    let Ok(link) = doc.create_element("a") else { return };
    let _ = link.set_attribute("href", url);
    let _ = link.set_attribute("download", name);
    if let Some(link) = link.dyn_ref::<web_sys::HtmlElement>() {
        link.click();
    }
}
