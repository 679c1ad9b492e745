//! A folder's or a search's messages, virtualized: only the rows in view (and a few around them)
//! exist in the DOM, positioned in a scroller as tall as the whole list, so a 100k-message folder
//! scrolls like a short one. Rows load by windows as they come into view.

use std::collections::{BTreeSet, HashMap};

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::alert::Alert;
use super::context::MailContext;
use super::labels::label_chips;
use super::selection::Selection;
use crate::mail::engine::PAGE;
use crate::mail::error::sentence;
use crate::mail::model::marked_runs;
use crate::mail::store::Row;
use crate::mail::{EmailSummary, MailQuery};

/// Height of one row in CSS pixels (the stylesheet's `.message-row` says the same).
pub const ROW_HEIGHT: f64 = 64.0;
/// Rows kept above and below the visible ones, so fast scrolling does not show blanks.
const OVERSCAN: u64 = 8;
/// The MIME type rows are dragged with (their ids, JSON).
pub const DRAG_TYPE: &str = "application/x-petrel-ids";

/// Rows `first..last` worth rendering for a scroll position.
pub fn visible_range(scroll_top: f64, viewport: f64, total: u64) -> (u64, u64) {
    let first = (scroll_top / ROW_HEIGHT).floor().max(0.0) as u64;
    let shown = (viewport / ROW_HEIGHT).ceil() as u64 + 1;
    (first.saturating_sub(OVERSCAN), (first + shown + OVERSCAN).min(total))
}

/// What the list tells the shell.
#[derive(Clone, Copy)]
pub struct ListEvents {
    pub open: Callback<EmailSummary>,
}

#[component]
pub fn MessageList(
    query: MailQuery,
    selection: RwSignal<Selection>,
    /// The row ids in view, in order with their positions: the shell's keyboard and batch actions read them.
    visible: RwSignal<Vec<(u64, EmailSummary)>>,
    opened: Signal<Option<String>>,
    events: ListEvents,
) -> impl IntoView {
    let ctx = MailContext::get();
    let scroller = NodeRef::<leptos::html::Div>::new();
    let scroll_top = RwSignal::new(0.0);
    let viewport = RwSignal::new(800.0);
    let error = RwSignal::new(None::<String>);
    let loaded_once = RwSignal::new(false);
    let snippets = RwSignal::new(HashMap::<String, String>::new());
    let asked = StoredValue::new(BTreeSet::<u64>::new());
    let query = StoredValue::new(query);
    let is_search =
        query.with_value(|q| q.filter.text.is_some() || q.filter.from.is_some() || q.filter.subject.is_some());

    let total = move || {
        ctx.version.track();
        ctx.engine
            .with_value(|e| e.read(|s| s.list(&query.get_value()).and_then(|l| l.total.or(Some(l.head.len() as u64)))))
    };
    let range = Memo::new(move |_| visible_range(scroll_top.get(), viewport.get(), total().unwrap_or(PAGE)));

    // Load the windows that come into view (each page asked once while the list is shown).
    Effect::new(move |_| {
        // A page that failed while the account was connecting is asked again once it is live.
        ctx.connection.track();
        let (first, last) = range.get();
        let page = first / PAGE * PAGE;
        let ask = asked.try_update_value(|a| a.insert(page)).unwrap_or(false);
        let end_page = last.saturating_sub(1) / PAGE * PAGE;
        let ask_end = end_page != page && asked.try_update_value(|a| a.insert(end_page)).unwrap_or(false);
        if !(ask || ask_end || !loaded_once.get_untracked()) {
            return;
        }
        let engine = ctx.engine.get_value();
        let q = query.get_value();
        spawn_local(async move {
            match engine.show(&q, first, last.max(first + 1)).await {
                Ok(()) => error.set(None),
                Err(e) => {
                    // Asked again when the user scrolls back here.
                    asked.update_value(|a| {
                        a.remove(&page);
                        a.remove(&end_page);
                    });
                    error.set(Some(sentence(&e.to_string())));
                }
            }
            loaded_once.set(true);
        });
    });

    let rows = Memo::new(move |_| {
        ctx.version.track();
        let (first, last) = range.get();
        let q = query.get_value();
        let rows = ctx.engine.with_value(|e| e.read(|s| s.rows(&q, first, last)));
        rows.into_iter().enumerate().map(|(i, row)| (first + i as u64, row)).collect::<Vec<_>>()
    });
    Effect::new(move |_| {
        let loaded: Vec<(u64, EmailSummary)> = rows.with(|r| {
            r.iter()
                .filter_map(|(p, row)| match row {
                    Row::Loaded(e) => Some((*p, e.clone())),
                    Row::Loading { .. } => None,
                })
                .collect()
        });
        visible.set(loaded);
    });

    // Search hits get their snippets, for the rows in view.
    if is_search {
        Effect::new(move |_| {
            let missing: Vec<String> = visible.with(|v| {
                v.iter()
                    .map(|(_, e)| e.id.clone())
                    .filter(|id| !snippets.with_untracked(|s| s.contains_key(id)))
                    .collect()
            });
            if missing.is_empty() {
                return;
            }
            let engine = ctx.engine.get_value();
            let filter = query.with_value(|q| q.filter.clone());
            spawn_local(async move {
                if let Ok(found) = engine.snippets(&filter, &missing).await {
                    snippets.update(|map| {
                        for s in found {
                            let text = s.preview.or(s.subject).unwrap_or_default();
                            map.insert(s.email_id, text);
                        }
                    });
                }
            });
        });
    }

    // Keep the keyboard's row in view.
    Effect::new(move |_| {
        let Some(cursor) = selection.with(|s| s.cursor) else { return };
        let Some(el) = scroller.get() else { return };
        let (top, height) = (cursor as f64 * ROW_HEIGHT, el.client_height() as f64);
        let current = el.scroll_top() as f64;
        if top < current {
            el.set_scroll_top(top as i32);
        } else if top + ROW_HEIGHT > current + height {
            el.set_scroll_top((top + ROW_HEIGHT - height) as i32);
        }
    });

    let measure = move || {
        if let Some(el) = scroller.get_untracked() {
            viewport.set(el.client_height().max(200) as f64);
        }
    };
    Effect::new(move |_| {
        if scroller.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());

    let ids_between = move |a: u64, b: u64| -> Vec<String> {
        let q = query.get_value();
        ctx.engine
            .with_value(|e| e.read(|s| s.rows(&q, a, b + 1)))
            .into_iter()
            .filter_map(|r| if let Row::Loaded(e) = r { Some(e.id) } else { None })
            .collect()
    };

    let empty = move || loaded_once.get() && total() == Some(0);
    view! {
        <Alert text=error />
        {move || {
            empty()
                .then(|| {
                    view! {
                        <p class="empty" role="status">
                            {if is_search { "No messages match this search." } else { "No messages here." }}
                        </p>
                    }
                })
        }}
        {move || {
            (!loaded_once.get() && rows.with(|r| r.is_empty()))
                .then(|| {
                    view! {
                        <p class="loading" aria-busy="true">
                            "Loading messages…"
                        </p>
                    }
                })
        }}
        <div
            class="message-scroller"
            node_ref=scroller
            on:scroll=move |_| {
                if let Some(el) = scroller.get_untracked() {
                    scroll_top.set(el.scroll_top() as f64);
                }
            }
        >
            <div class="message-spacer" style:height=move || format!("{}px", total().unwrap_or(0) * ROW_HEIGHT as u64)>
                // The role is spelled out: WebKit takes list semantics away from a `ul` without
                // bullets (VoiceOver then reads no count).
                <ul
                    class="message-list"
                    role="list"
                    aria-label="Messages"
                    style:transform=move || format!("translateY({}px)", range.get().0 * ROW_HEIGHT as u64)
                >
                    <For
                        each=move || rows.get()
                        key=|(p, row)| match row {
                            Row::Loaded(e) => format!("{p}:{}:{}:{}", e.id, e.keywords.len(), e.is_unread()),
                            Row::Loading { position } => format!("{position}:loading"),
                        }
                        children=move |(position, row)| match row {
                            Row::Loaded(email) => {
                                view! {
                                    <MessageRow
                                        email=email
                                        position=position
                                        total=Signal::derive(total)
                                        selection=selection
                                        opened=opened
                                        snippets=snippets
                                        events=events
                                        ids_between=Callback::new(move |(a, b)| ids_between(a, b))
                                    />
                                }
                                    .into_any()
                            }
                            Row::Loading { .. } => {
                                view! { <li class="message-row loading" aria-hidden="true"></li> }.into_any()
                            }
                        }
                    />
                </ul>
            </div>
        </div>
    }
}

#[component]
fn MessageRow(
    email: EmailSummary,
    position: u64,
    /// Rows in the whole list (unknown: `None`): only those in view exist, so each says where it stands.
    total: Signal<Option<u64>>,
    selection: RwSignal<Selection>,
    opened: Signal<Option<String>>,
    snippets: RwSignal<HashMap<String, String>>,
    events: ListEvents,
    ids_between: Callback<(u64, u64), Vec<String>>,
) -> impl IntoView {
    let from = email.from.first().map(|a| a.label().to_owned()).unwrap_or_else(|| "(no sender)".to_owned());
    let date = email.received_at.get(..10).unwrap_or_default().to_owned();
    let unread = email.is_unread();
    let flagged = email.is_flagged();
    let subject = if email.subject.is_empty() { "(no subject)".to_owned() } else { email.subject.clone() };
    let id = email.id.clone();
    let chosen = {
        let id = id.clone();
        Signal::derive(move || selection.with(|s| s.chosen.contains(&id)))
    };
    let is_cursor = move || selection.with(|s| s.cursor == Some(position));
    let is_open = {
        let id = id.clone();
        Signal::derive(move || opened.get().as_deref() == Some(id.as_str()))
    };
    let preview = {
        let (id, plain) = (id.clone(), email.readable_preview());
        move || match snippets.with(|s| s.get(&id).cloned()) {
            Some(snippet) => marked_runs(&snippet)
                .into_iter()
                .map(|(text, hit)| {
                    if hit {
                        view! { <mark>{text}</mark> }.into_any()
                    } else {
                        view! { <span>{text}</span> }.into_any()
                    }
                })
                .collect_view()
                .into_any(),
            None => view! { <span>{plain.clone()}</span> }.into_any(),
        }
    };
    let click = {
        let (id, email) = (id.clone(), email.clone());
        move |ev: leptos::ev::MouseEvent| {
            if ev.shift_key() {
                selection.update(|s| s.extend_to(position, |a, b| ids_between.run((a, b))));
            } else if ev.ctrl_key() || ev.meta_key() {
                selection.update(|s| s.toggle(position, &id));
            } else {
                selection.update(|s| s.click(position));
                events.open.run(email.clone());
            }
        }
    };
    let toggle = {
        let id = id.clone();
        move |_| selection.update(|s| s.toggle(position, &id))
    };
    let drag = {
        let id = id.clone();
        move |ev: leptos::ev::DragEvent| {
            let mut ids: Vec<String> = selection.with_untracked(|s| s.chosen.iter().cloned().collect());
            if !ids.contains(&id) {
                ids = vec![id.clone()];
            }
            if let Some(dt) = ev.data_transfer() {
                let _ = dt.set_data(DRAG_TYPE, &serde_json::to_string(&ids).unwrap_or_default());
                dt.set_effect_allowed("move");
            }
        }
    };
    view! {
        <li
            class="message-row"
            aria-posinset=(position + 1).to_string()
            aria-setsize=move || total.get().map_or("-1".to_owned(), |t| t.max(position + 1).to_string())
            data-id=id.clone()
            data-position=position.to_string()
            class:unread=unread
            class:flagged=flagged
            class:chosen=chosen
            class:cursor=is_cursor
            class:open=is_open
            draggable="true"
            on:dragstart=drag
        >
            <input
                type="checkbox"
                class="row-check"
                aria-label=format!("Select: {subject}")
                prop:checked=chosen
                on:change=toggle
            />
            // Named by what it shows, in the order it shows it (what a speech-input user says).
            <button
                type="button"
                class="message-open"
                aria-current=move || is_open.get().then_some("true")
                on:click=click
            >
                {unread.then(|| view! { <span class="visually-hidden">"Unread: "</span> })}
                <span class="from">{from}</span>
                <span class="subject">{subject.clone()}</span>
                <span class="preview">{preview}</span>
                <span class="date">{date}</span>
                <span class="markers">
                    {label_chips(email.keywords.clone())}
                    {flagged
                        .then(|| {
                            view! {
                                <span class="flag" title="Flagged">
                                    <span aria-hidden="true">"⚑"</span>
                                    <span class="visually-hidden">"Flagged"</span>
                                </span>
                            }
                        })}
                    {email
                        .has_attachment
                        .then(|| {
                            view! {
                                <svg class="clip icon" viewBox="0 0 24 24" role="img" aria-label="Has attachments">
                                    <path d="M21 11l-8.5 8.5a5 5 0 01-7-7L14 4a3.5 3.5 0 015 5l-8.5 8.5a2 2 0 01-3-3L15 7" />
                                </svg>
                            }
                        })}
                </span>
            </button>
        </li>
    }
}
