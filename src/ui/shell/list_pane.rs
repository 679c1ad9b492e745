//! The panes around the mail: the folder list beside it, the list pane (the folder's or search's
//! heading with its counts, sort and conversation view, the bar for a batch selection, and the
//! virtualized list itself) and the reading pane.

use leptos::prelude::*;

use crate::mail::quoting::ReplyKind;
use crate::mail::{MailQuery, Mailbox, Message, SortBy};
use crate::ui::context::MailContext;
use crate::ui::focus::focus_cursor_row;
use crate::ui::labels::LabelNav;
use crate::ui::mail_actions::Batch;
use crate::ui::mailbox_tree::{FolderTools, MailboxTree};
use crate::ui::message_list::{ListEvents, MessageList};
use crate::ui::prefs;
use crate::ui::quota_meter::QuotaMeter;
use crate::ui::reader::Reader;

use super::state::{Dialog, Page, ShellState};

#[component]
pub fn ListPane(query: Memo<Option<MailQuery>>, current_folder: Signal<Option<Mailbox>>) -> impl IntoView {
    let state = ShellState::get();
    let list_events = ListEvents { open: Callback::new(move |email| state.open(&email)) };
    let opened_id = Signal::derive(move || state.opened.get().map(|(id, _)| id));
    view! {
        <section class="list-pane" aria-label="Message list">
            <ListHead current_folder=current_folder />
            <BatchBar />
            {move || {
                query
                    .get()
                    .map(|q| {
                        view! {
                            <MessageList
                                query=q
                                selection=state.selection
                                visible=state.visible
                                opened=opened_id
                                events=list_events
                            />
                        }
                    })
            }}
        </section>
    }
}

#[component]
fn ListHead(current_folder: Signal<Option<Mailbox>>) -> impl IntoView {
    let (state, ctx) = (ShellState::get(), MailContext::get());
    let prefs_signal = ctx.prefs;
    move || {
        let title = match state.page.get() {
            Page::Folder(_) => current_folder.get().map(|m| m.name).unwrap_or_default(),
            Page::Search { text, .. } => format!("Results for “{text}”"),
            _ => String::new(),
        };
        let counts = current_folder.get().map(|m| format!("{} messages, {} unread", m.total_emails, m.unread_emails));
        view! {
            <header class="list-head">
                <div>
                    <h2>{title}</h2>
                    {counts.map(|c| view! { <p class="folder-counts">{c}</p> })}
                </div>
                <div class="list-tools" class:hidden=move || !matches!(state.page.get(), Page::Folder(_))>
                    <label class="visually-hidden" for="sort">
                        "Sort"
                    </label>
                    <select
                        id="sort"
                        on:change=move |ev| {
                            state
                                .sort
                                .set(
                                    match event_target_value(&ev).as_str() {
                                        "oldest" => (SortBy::ReceivedAt, true),
                                        "from" => (SortBy::From, true),
                                        "subject" => (SortBy::Subject, true),
                                        "size" => (SortBy::Size, false),
                                        _ => (SortBy::ReceivedAt, false),
                                    },
                                )
                        }
                    >
                        <option value="newest">"Newest first"</option>
                        <option value="oldest">"Oldest first"</option>
                        <option value="from">"By sender"</option>
                        <option value="subject">"By subject"</option>
                        <option value="size">"Largest first"</option>
                    </select>
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            id="threaded"
                            prop:checked=move || prefs_signal.with(|p| p.threaded)
                            on:change=move |_| {
                                prefs::change(prefs_signal, |p| p.threaded = !p.threaded);
                            }
                        />
                        "Conversations"
                    </label>
                </div>
            </header>
        }
    }
}

#[component]
fn BatchBar() -> impl IntoView {
    let (state, ctx) = (ShellState::get(), MailContext::get());
    let batch = move |b: Batch| state.batch(&ctx, b);
    move || {
        let n = state.selection.with(|s| s.chosen.len());
        (n > 0).then(|| {
            view! {
                <div class="batch-bar" role="toolbar" aria-label="Selected messages">
                    <span>{format!("{n} selected")}</span>
                    <button type="button" id="batch-read" on:click=move |_| batch(Batch::Read)>
                        "Read"
                    </button>
                    <button type="button" id="batch-unread" on:click=move |_| batch(Batch::Unread)>
                        "Unread"
                    </button>
                    <button type="button" id="batch-flag" on:click=move |_| batch(Batch::ToggleFlag)>
                        "Flag"
                    </button>
                    <button type="button" id="batch-archive" on:click=move |_| batch(Batch::Archive)>
                        "Archive"
                    </button>
                    <button
                        type="button"
                        id="batch-move"
                        on:click=move |_| state.dialog.set(Some(Dialog::Move(state.targets(&ctx))))
                    >
                        "Move…"
                    </button>
                    {crate::ui::labels::offered(&ctx)
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    id="batch-label"
                                    on:click=move |_| state.dialog.set(Some(Dialog::Labels(state.targets(&ctx))))
                                >
                                    "Label…"
                                </button>
                            }
                        })}
                    {crate::ui::snooze::offered(&ctx)
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    id="batch-snooze"
                                    on:click=move |_| state.dialog.set(Some(Dialog::Snooze(state.targets(&ctx))))
                                >
                                    "Snooze…"
                                </button>
                            }
                        })}
                    {move || {
                        let spam = state.spam_batch(&ctx);
                        let label = if spam == Batch::NotSpam { "Not spam" } else { "Spam" };
                        view! {
                            <button type="button" id="batch-spam" on:click=move |_| batch(spam.clone())>
                                {label}
                            </button>
                        }
                    }}
                    <button type="button" id="batch-delete" on:click=move |_| batch(Batch::Delete)>
                        "Delete"
                    </button>
                    <button type="button" class="link" on:click=move |_| state.selection.update(|s| s.chosen.clear())>
                        "Clear"
                    </button>
                </div>
            }
        })
    }
}

/// The folders, their tools and the Outbox with the count of mail waiting in it.
#[component]
pub fn FolderNav(waiting: Signal<usize>) -> impl IntoView {
    let (state, ctx) = (ShellState::get(), MailContext::get());
    let selected = Signal::derive(move || state.folder());
    view! {
        <nav class="folders" aria-label="Mail folders">
            <MailboxTree
                mailboxes=ctx.mailboxes.into()
                selected=selected
                on_select=Callback::new(move |id: String| state.show(Page::Folder(id)))
            />
            <FolderTools selected=selected />
            <LabelNav on_pick=Callback::new(move |label: crate::mail::labels::Label| {
                let filter = crate::mail::Filter {
                    has_keyword: Some(label.keyword),
                    ..Default::default()
                };
                state
                    .show(Page::Search {
                        text: format!("label:\"{}\"", label.name),
                        query: MailQuery {
                            filter,
                            sort: SortBy::ReceivedAt,
                            ascending: false,
                            threads: false,
                        },
                    })
            }) />
            <button
                type="button"
                id="outbox-button"
                class="outbox-link"
                aria-pressed=move || (state.page.get() == Page::Outbox).to_string()
                on:click=move |_| state.show(Page::Outbox)
            >
                "Outbox"
                {move || match waiting.get() {
                    0 => None,
                    n => Some(view! { <span class="count">{n}</span> }),
                }}
            </button>
            <QuotaMeter />
        </nav>
    }
}

/// The open message's conversation, or a word on what to do.
#[component]
pub fn ReaderPane(on_answer: Callback<(Message, ReplyKind)>) -> impl IntoView {
    let state = ShellState::get();
    let on_close = Callback::new(move |_| {
        state.opened.set(None);
        focus_cursor_row();
    });
    view! {
        <section class="reader-pane" aria-label="Reading pane">
            {move || match state.opened.get() {
                Some((id, thread)) => {
                    let on_print = Callback::new({
                        let (id, thread) = (id.clone(), thread.clone());
                        move |_| state.printing.set(Some((id.clone(), thread.clone())))
                    });
                    view! {
                        <Reader
                            thread_id=thread
                            email_id=id
                            on_answer=on_answer
                            on_close=on_close
                            on_print=on_print
                            on_compose=Callback::new(move |draft| state.composing.set(Some(draft)))
                            on_filter=Callback::new(move |rule| state.show(Page::Filters(Some(rule))))
                            on_label=Callback::new(move |id: String| state.dialog.set(Some(Dialog::Labels(vec![id]))))
                            on_snooze=Callback::new(move |id: String| state.dialog.set(Some(Dialog::Snooze(vec![id]))))
                        />
                    }
                        .into_any()
                }
                None => view! { <p class="empty reader-empty">"Choose a message to read it here."</p> }.into_any(),
            }}
        </section>
    }
}
