//! The signed-in screen: top bar (search, status, accounts), folder tree, the open list and the
//! reader, and the dialogs (compose, move, shortcuts). Server pushes make the engine sync; the
//! engine's events re-render. Keyboard shortcuts are carried out here (`shortcuts` says which).

use leptos::prelude::*;
use leptos::task::spawn_local;

use std::collections::BTreeSet;
use std::rc::Rc;

use super::account::{Connection, Link, SignedIn};
use super::compose::{Compose, Queued};
use super::context::MailContext;
use super::focus::{focus_cursor_row, focused_is_control, is_typing};
use super::mail_actions::{self, Batch};
use super::mailbox_tree::{FolderTools, MailboxTree};
use super::message_list::{ListEvents, MessageList};
use super::outbox_view::{clock, OutboxView};
use super::prefs;
use super::reader::Reader;
use super::sanitize::html_to_text;
use super::selection::Selection;
use super::settings::Settings;
use super::shortcuts::{command_for, Command, HELP};
use crate::jmap::blob::MemoryDigests;
use crate::jmap::push::live::{self, PushEvent, PushOptions, Transport};
use crate::mail::engine::EngineEvent;
use crate::mail::query::parse_search;
use crate::mail::quoting::{answer, ReplyKind};
use crate::mail::{Draft, EmailSummary, MailQuery, Mailbox, Message, Role, SortBy};
use crate::outbox::dispatcher::Outbox;
use crate::rustmailer::{self, push::RustMailerPush};

/// Ends the outbox's dispatch loop when the shell goes (sign-out).
struct StopOnDrop(Rc<Outbox>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// What the main pane shows.
#[derive(Clone, Debug, PartialEq)]
enum Page {
    Folder(String),
    Search { text: String, query: MailQuery },
    Outbox,
    Settings,
}

#[derive(Clone, Debug, PartialEq)]
enum Dialog {
    Move(Vec<String>),
    Help,
}

/// The accounts the app holds, for the switcher.
#[derive(Clone)]
pub struct AccountChoice {
    pub key: String,
    pub label: String,
    pub unread: u64,
}

#[component]
pub fn MailShell(
    account: SignedIn,
    /// Every signed-in account (this one included), for the switcher and the unified count.
    accounts: Signal<Vec<AccountChoice>>,
    on_switch: Callback<String>,
    on_add_account: Callback<()>,
    on_sign_out: Callback<()>,
    /// This account's inbox unread count changed.
    on_unread: Callback<u64>,
    /// What the page was opened for (a mailto: link, the Write shortcut).
    intent: Option<super::pwa::LaunchIntent>,
) -> impl IntoView {
    let engine = account.engine.clone();
    let version = RwSignal::new(0u64);
    let notice = RwSignal::new(None::<String>);
    let status = RwSignal::new(None::<String>);
    let live_status = RwSignal::new("Connecting…".to_owned());
    let online = RwSignal::new(true);
    let subscription = engine.subscribe(move |event| match event {
        EngineEvent::Changed => version.update(|v| *v += 1),
        EngineEvent::Refused(text) | EngineEvent::CacheTrouble(text) => notice.set(Some(text.clone())),
        EngineEvent::Reachable(false) => {
            online.set(false);
            live_status.set("Offline: changes are kept and sent when the server is back".to_owned())
        }
        EngineEvent::Reachable(true) => online.set(true),
    });
    StoredValue::new_local(subscription);

    // The outbox: its dispatch loop lives as long as this view; its changes re-render.
    let outbox_version = RwSignal::new(0u64);
    let outbox = StoredValue::new_local(account.outbox.clone());
    let outbox_subscription = account.outbox.subscribe(move || {
        outbox_version.try_update(|v| *v += 1);
    });
    StoredValue::new_local(outbox_subscription);
    {
        let outbox = account.outbox.clone();
        spawn_local(async move { outbox.serve().await });
    }
    StoredValue::new_local(StopOnDrop(account.outbox.clone()));
    let waiting = move || {
        outbox_version.track();
        let stats = outbox.with_value(|o| o.stats());
        stats.queued + stats.sending
    };

    // The engine holds JS handles (!Send): reactive closures reach it through a local store.
    let stored = StoredValue::new_local(engine.clone());
    let mailboxes = Memo::new(move |_| {
        version.track();
        stored.with_value(|e| e.read(|s| s.mailboxes()))
    });
    let prefs_signal = RwSignal::new(prefs::load());
    Effect::new(move |_| prefs::apply_theme(prefs_signal.with(|p| p.theme)));
    let me = vec![account.display_name().to_lowercase()];
    let ctx = MailContext {
        engine: stored,
        connection: account.connection,
        digests: StoredValue::new_local(Rc::new(MemoryDigests::default())),
        version,
        mailboxes,
        prefs: prefs_signal,
        notice,
        status,
        undo: RwSignal::new(None),
        me: StoredValue::new(me),
    };
    provide_context(ctx);

    let inbox = engine.read(|s| s.mailbox_with_role(Role::Inbox).map(|m| m.id.clone()));
    let page = RwSignal::new(inbox.map(Page::Folder).unwrap_or(Page::Settings));
    let selected = Signal::derive(move || match page.get() {
        Page::Folder(id) => Some(id),
        _ => None,
    });
    let opened = RwSignal::new(None::<(String, String)>);
    let selection = RwSignal::new(Selection::default());
    let visible = RwSignal::new(Vec::<(u64, EmailSummary)>::new());
    let composing = RwSignal::new(None::<Draft>);
    let undo_send = RwSignal::new(None::<Queued>);
    let dialog = RwSignal::new(None::<Dialog>);
    let sort = RwSignal::new((SortBy::ReceivedAt, false));
    let search_text = RwSignal::new(String::new());
    let search_ref = NodeRef::<leptos::html::Input>::new();

    let query = Memo::new(move |_| match page.get() {
        Page::Folder(id) => {
            let (by, ascending) = sort.get();
            let threads = prefs_signal.with(|p| p.threaded);
            Some(MailQuery { sort: by, ascending, threads, ..MailQuery::mailbox(&id) })
        }
        Page::Search { query, .. } => Some(query),
        _ => None,
    });
    // A new list starts with nothing selected.
    Effect::new(move |_| {
        query.track();
        selection.set(Selection::default());
    });

    let sync_engine = engine.clone();
    let sync_now = move || {
        let engine = sync_engine.clone();
        spawn_local(async move {
            let _ = engine.sync().await;
        });
    };
    // Push for the connection the account has now; `Box<()>` while there is none.
    let start_push = {
        let outbox = account.outbox.clone();
        move |connection: &Connection| -> Box<dyn std::any::Any> {
            let push_outbox = outbox.clone();
            let sync_now = sync_now.clone();
            match connection {
                Connection::Jmap(client) => {
                    Box::new(live::start(client.clone(), PushOptions::default(), move |event| match event {
                        PushEvent::Connected(transport) => {
                            // The server is reachable again: mail waiting in the outbox can go.
                            push_outbox.wake();
                            live_status.set(
                                match transport {
                                    Transport::WebSocket | Transport::EventSource => "Live",
                                    Transport::Polling => "Checking periodically",
                                }
                                .to_owned(),
                            )
                        }
                        // Servers need not push mailbox counts (Cyrus does not): any mail change syncs them too.
                        PushEvent::StateChange(change) if change.touches("Email") || change.touches("Mailbox") => {
                            push_outbox.wake();
                            sync_now();
                        }
                        PushEvent::Disconnected { retry_in_ms, .. } => {
                            live_status.set(format!("Reconnecting in {} s…", retry_in_ms.div_ceil(1000)))
                        }
                        _ => {}
                    }))
                }
                Connection::RustMailer(backend) => {
                    let backend_for_events = backend.clone();
                    let outbox_for_events = outbox.clone();
                    Box::new(rustmailer::push::start(
                        backend.client().clone(),
                        backend.account_id(),
                        Default::default(),
                        move |event| match event {
                            RustMailerPush::Connected => {
                                push_outbox.wake();
                                live_status.set("Live".to_owned());
                            }
                            RustMailerPush::Event { kind, data } => {
                                // RustMailer sends after taking the mail: a bounce comes later, as an event.
                                if kind == "EMAIL_SENDING_ERROR" {
                                    status.set(Some(sending_error_text(&data, &outbox_for_events)));
                                }
                                // Flags changed elsewhere do not show in folder counts: the event says it.
                                backend_for_events.note_remote_change();
                                push_outbox.wake();
                                sync_now();
                            }
                            RustMailerPush::Poll => {
                                live_status.set("Checking periodically".to_owned());
                                sync_now();
                            }
                            RustMailerPush::Disconnected { retry_in_ms, .. } => {
                                live_status.set(format!("Reconnecting in {} s…", retry_in_ms.div_ceil(1000)))
                            }
                        },
                    ))
                }
                Connection::Offline { connecting: true, .. } => {
                    live_status.set("Connecting…".to_owned());
                    Box::new(())
                }
                Connection::Offline { .. } => {
                    online.set(false);
                    live_status.set("Offline: mail saved on this device".to_owned());
                    Box::new(())
                }
            }
        }
    };
    // Push runs as long as this view exists, for the connection of the moment: an account shown
    // from the cache while connecting goes live here, in place. The handle is dropped with the view.
    let push = StoredValue::new_local(None::<Box<dyn std::any::Any>>);
    let pending_intent = StoredValue::new_local(intent);
    let connection = account.connection;
    let connection_engine = engine.clone();
    Effect::new(move |_| {
        let (handle, link) = connection.with(|c| (start_push(c), c.link()));
        push.set_value(Some(handle));
        let live = link == Link::Live;
        if live {
            online.set(true);
        }
        // Shown from the cache without a sync yet (a first sign-in has synced): bring it up to date.
        if live && connection_engine.reachable().is_none() {
            let engine = connection_engine.clone();
            spawn_local(async move {
                let _ = engine.sync().await;
            });
        }
        // A mailto: or Write launch opens the composer once the account can send (or is offline
        // for good: then the outbox keeps the mail).
        if link != Link::Connecting {
            match pending_intent.try_update_value(|i| i.take()).flatten() {
                Some(super::pwa::LaunchIntent::Compose(draft)) => composing.set(Some(draft)),
                Some(super::pwa::LaunchIntent::BadMailto(why)) => notice.set(Some(why)),
                None => {}
            }
        }
    });
    let signed_out = move || connection.with(Connection::link) != Link::Live;

    let current_folder = move || -> Option<Mailbox> {
        let id = selected.get()?;
        mailboxes.with(|all| all.iter().find(|m| m.id == id).cloned())
    };

    // The window title carries the unread count of the folders that count.
    Effect::new(move |_| {
        let unread: u64 =
            mailboxes.with(|all| all.iter().filter(|m| m.role.counts_unread()).map(|m| m.unread_emails).sum());
        on_unread.run(unread);
        let total: u64 = accounts.with(|a| a.iter().map(|c| c.unread).sum());
        let place = match page.get() {
            Page::Folder(_) => current_folder().map(|m| m.name).unwrap_or_default(),
            Page::Search { text, .. } => format!("Search: {text}"),
            Page::Outbox => "Outbox".to_owned(),
            Page::Settings => "Settings".to_owned(),
        };
        let title = match total.max(unread) {
            0 => format!("{place} · Petrel"),
            n => format!("({n}) {place} · Petrel"),
        };
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&title);
        }
    });

    let account_key = account.key.clone();
    let on_queued = Callback::new(move |queued: Queued| {
        composing.set(None);
        undo_send.set(Some(queued));
    });
    let cancel_send = move |_| {
        let Some(queued) = undo_send.get_untracked() else { return };
        let outbox = outbox.get_value();
        spawn_local(async move {
            match outbox.cancel(&queued.job_id).await {
                Ok(()) => status.set(Some(format!("Sending of “{}” cancelled.", queued.subject))),
                Err(e) => notice.set(Some(crate::mail::error::sentence(&e.to_string()))),
            }
            undo_send.set(None);
        });
    };
    // The undo offer goes away with its window.
    Effect::new(move |_| {
        if let Some(queued) = undo_send.get() {
            let left = (queued.send_at_ms - js_sys::Date::now()).max(0.0);
            if !queued.scheduled {
                let job = queued.job_id.clone();
                set_timeout(
                    move || {
                        // The shell may be gone (another account shown, signed out) when it fires.
                        if undo_send.try_get_untracked().flatten().is_some_and(|q| q.job_id == job) {
                            undo_send.set(None);
                        }
                    },
                    std::time::Duration::from_millis(left as u64),
                );
            }
        }
    });

    let sign_out = move |_| {
        let engine = stored.get_value();
        spawn_local(async move {
            // Sign-out leaves nothing of the account on this device.
            let _ = engine.wipe().await;
            on_sign_out.run(());
        });
    };

    // Opening a message: the reader shows its conversation.
    let open_email = move |email: EmailSummary| {
        opened.set(Some((email.id.clone(), email.thread_id.clone())));
    };
    let list_events = ListEvents { open: Callback::new(open_email) };
    let cursor_email = move || -> Option<EmailSummary> {
        let cursor = selection.with_untracked(|s| s.cursor)?;
        visible.with_untracked(|v| v.iter().find(|(p, _)| *p == cursor).map(|(_, e)| e.clone()))
    };
    // What a batch action acts on: chosen rows, else the open message, else the keyboard's row;
    // a conversation row stands for its messages in this folder.
    let targets = move || -> Vec<String> {
        let base = selection.with_untracked(|s| {
            s.targets(opened.get_untracked().map(|(id, _)| id).or_else(|| cursor_email().map(|e| e.id)))
        });
        let folder = selected.get_untracked();
        if !prefs_signal.with_untracked(|p| p.threaded) || folder.is_none() {
            return base;
        }
        stored.with_value(|e| {
            e.read(|s| {
                let mut all = Vec::new();
                for id in &base {
                    let thread = s.email(id).map(|m| m.thread_id).unwrap_or_default();
                    let members = if thread.is_empty() { vec![] } else { s.thread_members(&thread, folder.as_deref()) };
                    for m in if members.is_empty() { vec![id.clone()] } else { members } {
                        if !all.contains(&m) {
                            all.push(m);
                        }
                    }
                }
                all
            })
        })
    };
    let batch = move |b: Batch| {
        let ids = targets();
        let leaves = matches!(b, Batch::Archive | Batch::Delete | Batch::Spam | Batch::MoveTo(_));
        mail_actions::run(&ctx, b, ids.clone());
        if leaves {
            if opened.get_untracked().is_some_and(|(id, _)| ids.contains(&id)) {
                opened.set(None);
            }
            selection.update(|s| s.chosen.clear());
        }
    };
    let answer_with = move |message: Message, kind: ReplyKind| {
        let me = ctx.me.get_value();
        composing.set(Some(answer(&message, kind, &me, &html_to_text)));
    };
    let on_answer = Callback::new(move |(m, kind): (Message, ReplyKind)| answer_with(m, kind));
    let answer_current = move |kind: ReplyKind| {
        let Some(id) = opened.get_untracked().map(|(id, _)| id).or_else(|| cursor_email().map(|e| e.id)) else {
            return;
        };
        let engine = stored.get_value();
        spawn_local(async move {
            match engine.message(&id).await {
                Ok(m) => answer_with(m, kind),
                Err(e) => notice.set(Some(crate::mail::error::sentence(&e.to_string()))),
            }
        });
    };
    let go_role = move |role: Role| {
        if let Some(id) = ctx.role_id(role) {
            opened.set(None);
            page.set(Page::Folder(id));
        }
    };
    let run_search = move |text: String| {
        let text = text.trim().to_owned();
        if text.is_empty() {
            return;
        }
        let folders = mailboxes.get_untracked();
        let resolve = |name: &str| {
            folders
                .iter()
                .find(|m| m.name.eq_ignore_ascii_case(name) || m.role.to_jmap() == Some(&name.to_lowercase()))
                .map(|m| m.id.clone())
        };
        match parse_search(&text, resolve) {
            Ok(filter) => {
                opened.set(None);
                page.set(Page::Search {
                    text,
                    query: MailQuery { filter, sort: SortBy::ReceivedAt, ascending: false, threads: false },
                });
            }
            Err(e) => notice.set(Some(crate::mail::error::sentence(&format!("the search could not be read: {e}")))),
        }
    };

    // Keyboard shortcuts, for the whole page; typing in a field is never taken.
    let after_g = StoredValue::new(false);
    let keys = window_event_listener(leptos::ev::keydown, move |ev: leptos::ev::KeyboardEvent| {
        if ev.default_prevented() || is_typing(&ev) || composing.with_untracked(|c| c.is_some()) {
            return;
        }
        let g = after_g.get_value();
        after_g.set_value(false);
        if !g && ev.key() == "g" && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() {
            after_g.set_value(true);
            return;
        }
        let Some(command) = command_for(&ev.key(), ev.ctrl_key() || ev.meta_key(), ev.alt_key(), g) else { return };
        if dialog.with_untracked(|d| d.is_some()) && command != Command::Escape {
            return;
        }
        // Enter on a focused button is the button's own.
        if command == Command::Open && ev.key() == "Enter" && focused_is_control() {
            return;
        }
        ev.prevent_default();
        let total = stored
            .with_value(|e| e.read(|s| query.with_untracked(|q| q.as_ref().and_then(|q| s.list(q)?.total))))
            .unwrap_or(0);
        match command {
            Command::Next | Command::Previous => {
                let delta = if command == Command::Next { 1 } else { -1 };
                selection.update(|s| {
                    s.step(delta, total);
                });
                if opened.get_untracked().is_some() {
                    if let Some(e) = cursor_email() {
                        open_email(e);
                    }
                }
                focus_cursor_row();
            }
            Command::Open => {
                if selection.with_untracked(|s| s.cursor.is_none()) {
                    selection.update(|s| {
                        s.step(0, total);
                    });
                }
                if let Some(e) = cursor_email() {
                    open_email(e);
                }
            }
            Command::BackToList => {
                opened.set(None);
                focus_cursor_row();
            }
            Command::ToggleSelect => {
                if let (Some(e), Some(p)) = (cursor_email(), selection.with_untracked(|s| s.cursor)) {
                    selection.update(|s| s.toggle(p, &e.id));
                }
            }
            Command::MarkRead => batch(Batch::Read),
            Command::MarkUnread => batch(Batch::Unread),
            Command::ToggleFlag => batch(Batch::ToggleFlag),
            Command::Archive => batch(Batch::Archive),
            Command::Delete => batch(Batch::Delete),
            Command::Spam => batch(Batch::Spam),
            Command::Move => {
                let ids = targets();
                if !ids.is_empty() {
                    dialog.set(Some(Dialog::Move(ids)));
                }
            }
            Command::Reply => answer_current(ReplyKind::Reply),
            Command::ReplyAll => answer_current(ReplyKind::ReplyAll),
            Command::Forward => answer_current(ReplyKind::Forward),
            Command::Compose => composing.set(Some(Draft::default())),
            Command::Search => {
                if let Some(input) = search_ref.get_untracked() {
                    let _ = input.focus();
                }
            }
            Command::GoInbox => go_role(Role::Inbox),
            Command::GoSent => go_role(Role::Sent),
            Command::GoDrafts => go_role(Role::Drafts),
            Command::Undo => ctx.undo_last(),
            Command::Help => dialog.set(Some(Dialog::Help)),
            Command::Escape => {
                if dialog.get_untracked().is_some() {
                    dialog.set(None);
                } else if opened.get_untracked().is_some() {
                    opened.set(None);
                    focus_cursor_row();
                }
            }
        }
    });
    on_cleanup(move || keys.remove());

    let list_header = move || {
        let title = match page.get() {
            Page::Folder(_) => current_folder().map(|m| m.name).unwrap_or_default(),
            Page::Search { text, .. } => format!("Results for “{text}”"),
            _ => String::new(),
        };
        let counts = current_folder().map(|m| format!("{} messages, {} unread", m.total_emails, m.unread_emails));
        view! {
            <header class="list-head">
                <div>
                    <h2>{title}</h2>
                    {counts.map(|c| view! { <p class="folder-counts">{c}</p> })}
                </div>
                <div class="list-tools" class:hidden=move || !matches!(page.get(), Page::Folder(_))>
                    <label class="visually-hidden" for="sort">"Sort"</label>
                    <select id="sort" on:change=move |ev| sort.set(match event_target_value(&ev).as_str() {
                        "oldest" => (SortBy::ReceivedAt, true),
                        "from" => (SortBy::From, true),
                        "subject" => (SortBy::Subject, true),
                        "size" => (SortBy::Size, false),
                        _ => (SortBy::ReceivedAt, false),
                    })>
                        <option value="newest">"Newest first"</option>
                        <option value="oldest">"Oldest first"</option>
                        <option value="from">"By sender"</option>
                        <option value="subject">"By subject"</option>
                        <option value="size">"Largest first"</option>
                    </select>
                    <label class="checkbox"><input type="checkbox" id="threaded" prop:checked=move || prefs_signal.with(|p| p.threaded)
                        on:change=move |_| { prefs_signal.update(|p| p.threaded = !p.threaded); prefs::save(&prefs_signal.get_untracked()); } />"Conversations"</label>
                </div>
            </header>
        }
    };
    let batch_bar = move || {
        let n = selection.with(|s| s.chosen.len());
        (n > 0).then(|| view! {
            <div class="batch-bar" role="toolbar" aria-label="Selected messages">
                <span>{format!("{n} selected")}</span>
                <button type="button" id="batch-read" on:click=move |_| batch(Batch::Read)>"Read"</button>
                <button type="button" id="batch-unread" on:click=move |_| batch(Batch::Unread)>"Unread"</button>
                <button type="button" id="batch-flag" on:click=move |_| batch(Batch::ToggleFlag)>"Flag"</button>
                <button type="button" id="batch-archive" on:click=move |_| batch(Batch::Archive)>"Archive"</button>
                <button type="button" id="batch-move" on:click=move |_| dialog.set(Some(Dialog::Move(targets())))>"Move…"</button>
                <button type="button" id="batch-spam" on:click=move |_| batch(Batch::Spam)>"Spam"</button>
                <button type="button" id="batch-delete" on:click=move |_| batch(Batch::Delete)>"Delete"</button>
                <button type="button" class="link" on:click=move |_| selection.update(|s| s.chosen.clear())>"Clear"</button>
            </div>
        })
    };
    let opened_id = Signal::derive(move || opened.get().map(|(id, _)| id));

    // New mail while Petrel is in the background: one notification per burst.
    let started_at = StoredValue::new(
        String::from(js_sys::Date::new_0().to_iso_string()).get(..19).map(|s| format!("{s}Z")).unwrap_or_default(),
    );
    let notified = StoredValue::new(BTreeSet::<String>::new());
    let burst_pending = StoredValue::new(false);
    let open_from_notification = Callback::new(move |email: EmailSummary| {
        if let Some(inbox) = ctx.role_id(Role::Inbox) {
            page.set(Page::Folder(inbox));
        }
        open_email(email);
    });
    let fresh_unread = move || -> Vec<EmailSummary> {
        let Some(inbox) = ctx.role_id(Role::Inbox) else { return vec![] };
        let since = started_at.get_value();
        let all = stored.with_value(|e| e.read(|s| s.unread_since(&inbox, &since)));
        notified.with_value(|n| all.into_iter().filter(|e| !n.contains(&e.id)).collect())
    };
    Effect::new(move |_| {
        version.track();
        if burst_pending.get_value() {
            return;
        }
        let new = fresh_unread();
        if new.is_empty() {
            return;
        }
        let wanted = prefs_signal.with_untracked(|p| p.notify_new_mail)
            && super::notify::permitted()
            && super::notify::in_background();
        if !wanted {
            // Seen in the foreground (or not wanted): never announced later.
            notified.update_value(|n| n.extend(new.into_iter().map(|e| e.id)));
            return;
        }
        burst_pending.set_value(true);
        set_timeout(
            move || {
                // Handed back: the shell is gone (another account, signed out) and so is its state.
                if burst_pending.try_set_value(false).is_some() {
                    return;
                }
                let burst = fresh_unread();
                notified.update_value(|n| n.extend(burst.iter().map(|e| e.id.clone())));
                super::notify::show(&burst, open_from_notification);
            },
            std::time::Duration::from_millis(super::notify::BURST_MS),
        );
    });

    view! {
        <div class="shell" class:reading=move || opened.with(|o| o.is_some()) data-connection=move || connection.with(Connection::link).name()>
            <a class="skip-link" href="#main">"Skip to messages"</a>
            <header class="topbar">
                <span class="brand">"Petrel"</span>
                <form class="search" role="search" on:submit=move |ev: leptos::ev::SubmitEvent| { ev.prevent_default(); run_search(search_text.get_untracked()); }>
                    <label class="visually-hidden" for="search">"Search mail"</label>
                    <input id="search" type="search" placeholder="Search (from: to: subject: has:attachment before: after: in:)"
                        node_ref=search_ref prop:value=search_text on:input=move |ev| search_text.set(event_target_value(&ev))
                        on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" {
                            if let Some(i) = search_ref.get_untracked() { let _ = i.blur(); }
                        } />
                </form>
                <span class="live-status" class:offline=move || !online.get() role="status">{move || live_status.get()}</span>
                <AccountSwitcher current=account.key.clone() label=account.display_name() accounts=accounts on_switch=on_switch on_add=on_add_account />
                <button type="button" id="compose-button" class="primary" aria-keyshortcuts="c" on:click=move |_| composing.set(Some(Draft::default()))>"Write"</button>
                <button type="button" id="settings-button" class="plain" aria-pressed=move || (page.get() == Page::Settings).to_string() on:click=move |_| { opened.set(None); page.set(Page::Settings) }>"Settings"</button>
                <button type="button" id="help-button" class="plain" aria-label="Keyboard shortcuts" aria-keyshortcuts="?" on:click=move |_| dialog.set(Some(Dialog::Help))>"?"</button>
                <button type="button" class="sign-out" on:click=sign_out>"Sign out"</button>
            </header>
            <nav class="folders" aria-label="Mail folders">
                <MailboxTree mailboxes=mailboxes.into() selected=selected on_select=Callback::new(move |id: String| { opened.set(None); page.set(Page::Folder(id)) }) />
                <FolderTools selected=selected />
                <button type="button" id="outbox-button" class="outbox-link" aria-pressed=move || (page.get() == Page::Outbox).to_string()
                    on:click=move |_| { opened.set(None); page.set(Page::Outbox) }>
                    "Outbox"
                    {move || match waiting() { 0 => None, n => Some(view! { <span class="count">{n}</span> }) }}
                </button>
            </nav>
            <main class="content" id="main" tabindex="-1">
                <div class="status-area" aria-live="polite">
                    {move || notice.get().map(|text| view! {
                        <p class="notice" role="alert">
                            {text}
                            <button type="button" class="dismiss" aria-label="Dismiss" on:click=move |_| notice.set(None)>"×"</button>
                        </p>
                    })}
                    {move || (!online.get()).then(|| view! {
                        <p class="offline-banner">
                            "You are offline. Mail shown is from this device; what you do is kept and sent when the connection is back."
                            {signed_out().then(|| view! {
                                " "<button type="button" id="offline-sign-in" class="link" on:click=move |_| on_add_account.run(())>"Sign in to connect"</button>
                            })}
                        </p>
                    })}
                    {move || status.get().map(|text| view! {
                        <p class="info" role="status">
                            <span class="status-text">{text}</span>
                            {move || ctx.undo.get().map(|_| view! { <button type="button" id="undo-action" on:click=move |_| ctx.undo_last()>"Undo"</button> })}
                            <button type="button" class="dismiss" aria-label="Dismiss" on:click=move |_| { status.set(None); ctx.undo.set(None); }>"×"</button>
                        </p>
                    })}
                    {move || undo_send.get().map(|queued| view! {
                        <p class="undo-bar" role="status">
                            {if queued.scheduled {
                                format!("“{}” will be sent at {}.", queued.subject, clock(queued.send_at_ms))
                            } else {
                                format!("Sending “{}”…", queued.subject)
                            }}
                            <button type="button" id="undo-send" on:click=cancel_send>"Undo"</button>
                        </p>
                    })}
                </div>
                {move || composing.get().map(|initial| view! {
                    <Compose outbox=outbox account=account_key.clone() initial=initial on_close=Callback::new(move |_| composing.set(None)) on_queued=on_queued />
                })}
                {move || match page.get() {
                    Page::Outbox => view! { <OutboxView outbox=outbox version=outbox_version.into() on_error=Callback::new(move |text| notice.set(Some(text))) /> }.into_any(),
                    Page::Settings => view! { <Settings /> }.into_any(),
                    Page::Folder(_) | Page::Search { .. } => view! {
                        <div class="mail-panes">
                            <section class="list-pane" aria-label="Message list">
                                {list_header}
                                {batch_bar}
                                {move || query.get().map(|q| view! { <MessageList query=q selection=selection visible=visible opened=opened_id events=list_events /> })}
                            </section>
                            <section class="reader-pane" aria-label="Reading pane">
                                {move || match opened.get() {
                                    Some((id, thread)) => view! {
                                        <Reader thread_id=thread email_id=id on_answer=on_answer on_close=Callback::new(move |_| { opened.set(None); focus_cursor_row(); }) />
                                    }.into_any(),
                                    None => view! { <p class="empty reader-empty">"Choose a message to read it here."</p> }.into_any(),
                                }}
                            </section>
                        </div>
                    }.into_any(),
                }}
            </main>
            {move || dialog.get().map(|d| match d {
                Dialog::Move(ids) => view! { <MoveDialog ids=ids on_done=Callback::new(move |to: Option<String>| {
                    dialog.set(None);
                    if let Some(to) = to { batch(Batch::MoveTo(to)); }
                }) /> }.into_any(),
                Dialog::Help => view! { <HelpDialog on_close=Callback::new(move |_| dialog.set(None)) /> }.into_any(),
            })}
        </div>
    }
}

#[component]
fn AccountSwitcher(
    current: String,
    label: String,
    accounts: Signal<Vec<AccountChoice>>,
    on_switch: Callback<String>,
    on_add: Callback<()>,
) -> impl IntoView {
    let total = move || accounts.with(|a| a.iter().map(|c| c.unread).sum::<u64>());
    view! {
        <div class="account-switcher">
            <label class="visually-hidden" for="account-select">"Account"</label>
            <select id="account-select" class="account-name" on:change=move |ev| {
                let key = event_target_value(&ev);
                if key == "+add" { on_add.run(()) } else { on_switch.run(key) }
            }>
                {move || accounts.get().into_iter().map(|a| {
                    let text = if a.unread > 0 { format!("{} ({})", a.label, a.unread) } else { a.label.clone() };
                    view! { <option value=a.key.clone() selected=a.key == current>{text}</option> }
                }).collect_view()}
                {move || accounts.with(|a| a.is_empty()).then(|| view! { <option selected=true>{label.clone()}</option> })}
                <option value="+add">"Add an account…"</option>
            </select>
            {move || (accounts.with(|a| a.len() > 1) && total() > 0).then(|| view! {
                <span class="unified-unread" title="Unread in all accounts">{total()}</span>
            })}
        </div>
    }
}

/// Picking a folder to move messages to: type to filter, arrows and Enter, or click.
#[component]
fn MoveDialog(ids: Vec<String>, on_done: Callback<Option<String>>) -> impl IntoView {
    let ctx = MailContext::get();
    let filter = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let input = NodeRef::<leptos::html::Input>::new();
    let folders = move || {
        let f = filter.get().to_lowercase();
        ctx.mailboxes.with(|all| {
            all.iter()
                .filter(|m| m.name.to_lowercase().contains(&f))
                .map(|m| (m.id.clone(), m.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    Effect::new(move |_| {
        if let Some(i) = input.get() {
            let _ = i.focus();
        }
    });
    let n = ids.len();
    view! {
        <div class="dialog-backdrop" on:click=move |_| on_done.run(None)>
            <div class="dialog card" role="dialog" aria-modal="true" aria-labelledby="move-title" on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    let count = folders().len();
                    match ev.key().as_str() {
                        "Escape" => on_done.run(None),
                        "ArrowDown" if count > 0 => { ev.prevent_default(); active.update(|a| *a = (*a + 1) % count) }
                        "ArrowUp" if count > 0 => { ev.prevent_default(); active.update(|a| *a = (*a + count - 1) % count) }
                        "Enter" => {
                            ev.prevent_default();
                            if let Some((id, _)) = folders().get(active.get_untracked()) { on_done.run(Some(id.clone())) }
                        }
                        _ => {}
                    }
                }>
                <h2 id="move-title">{format!("Move {} to…", if n == 1 { "1 message".to_owned() } else { format!("{n} messages") })}</h2>
                <label class="visually-hidden" for="move-filter">"Folder name"</label>
                <input id="move-filter" type="text" placeholder="Folder name" node_ref=input prop:value=filter
                    on:input=move |ev| { filter.set(event_target_value(&ev)); active.set(0); } />
                <ul class="folder-choices" role="listbox" aria-label="Folders">
                    {move || folders().into_iter().enumerate().map(|(i, (id, name))| view! {
                        <li role="option" class="folder-choice" data-name=name.clone() aria-selected=move || (active.get() == i).to_string() class:active=move || active.get() == i
                            on:click=move |_| on_done.run(Some(id.clone()))>{name.clone()}</li>
                    }).collect_view()}
                </ul>
                <button type="button" on:click=move |_| on_done.run(None)>"Cancel"</button>
            </div>
        </div>
    }
}

#[component]
fn HelpDialog(on_close: Callback<()>) -> impl IntoView {
    let close = NodeRef::<leptos::html::Button>::new();
    Effect::new(move |_| {
        if let Some(b) = close.get() {
            let _ = b.focus();
        }
    });
    view! {
        <div class="dialog-backdrop" on:click=move |_| on_close.run(())>
            <div class="dialog card" role="dialog" aria-modal="true" aria-labelledby="help-title" on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev: leptos::ev::KeyboardEvent| if ev.key() == "Escape" { on_close.run(()) }>
                <h2 id="help-title">"Keyboard shortcuts"</h2>
                <dl class="shortcuts">
                    {HELP.iter().map(|s| view! { <dt><kbd>{s.keys}</kbd></dt><dd>{s.does}</dd> }).collect_view()}
                </dl>
                <button type="button" node_ref=close on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </div>
    }
}

/// What to tell the user when RustMailer reports that a mail it took could not be sent.
fn sending_error_text(data: &str, outbox: &crate::outbox::dispatcher::Outbox) -> String {
    let event: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let payload = &event["payload"];
    let message_id = payload["message_id"].as_str().unwrap_or("").trim_matches(['<', '>']);
    let reason = payload["error"].as_str().unwrap_or("no reason given");
    let subject =
        outbox.jobs().into_iter().find(|j| j.draft.message_id.as_deref() == Some(message_id)).map(|j| j.draft.subject);
    match subject {
        Some(s) => format!("RustMailer could not deliver “{s}”: {reason}"),
        None => format!("RustMailer could not deliver a message: {reason}"),
    }
}
