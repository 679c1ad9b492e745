//! The signed-in screen, composed of its parts: [`state`] (what is shown, and the intents that
//! change it), [`live`] (engine events and push), [`keys`] (the keyboard), the [`topbar`], the
//! [`status`] area, the [`list_pane`] (with the folders and the reader beside it), and the
//! [`dialogs`]. New-mail notifications
//! are `ui::notify`'s own hook.

mod dialogs;
mod keys;
mod list_pane;
mod live;
mod state;
mod status;
mod topbar;

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::account::{Connection, Link, SignedIn};
use super::compose::{Compose, Queued};
use super::context::MailContext;
use super::filters::FiltersPage;
use super::outbox_view::OutboxView;
use super::prefs;
use super::print_view::PrintView;
use super::settings::Settings;
use crate::jmap::blob::MemoryDigests;
use crate::mail::quoting::ReplyKind;
use crate::mail::{EmailSummary, Mailbox, Message, Role};
use crate::outbox::dispatcher::Outbox;
use dialogs::ShellDialogs;
use list_pane::{FolderNav, ListPane, ReaderPane};
use state::{Page, ShellState};
use status::StatusArea;
use topbar::TopBar;

/// Ends the outbox's dispatch loop when the shell goes (sign-out).
struct StopOnDrop(Rc<Outbox>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.stop();
    }
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
    // The engine holds JS handles (!Send): reactive closures reach it through a local store.
    let engine = StoredValue::new_local(account.engine.clone());
    let version = RwSignal::new(0u64);
    let prefs_signal = RwSignal::new(prefs::load());
    Effect::new(move |_| prefs::apply_theme(prefs_signal.with(|p| p.theme)));
    let ctx = MailContext {
        engine,
        connection: account.connection,
        digests: StoredValue::new_local(Rc::new(MemoryDigests::default())),
        version,
        mailboxes: Memo::new(move |_| {
            version.track();
            engine.with_value(|e| e.read(|s| s.mailboxes()))
        }),
        prefs: prefs_signal,
        notice: RwSignal::new(None),
        status: RwSignal::new(None),
        undo: RwSignal::new(None),
        me: StoredValue::new(vec![account.display_name().to_lowercase()]),
        announcer: super::announcer::Announcer::new(),
    };
    provide_context(ctx);
    let inbox = account.engine.read(|s| s.mailbox_with_role(Role::Inbox).map(|m| m.id.clone()));
    let state = ShellState::new(inbox.map(Page::Folder).unwrap_or(Page::Settings));
    provide_context(state);

    // The outbox: its dispatch loop lives as long as this view; its changes re-render.
    let outbox_version = RwSignal::new(0u64);
    let outbox = StoredValue::new_local(account.outbox.clone());
    StoredValue::new_local(account.outbox.subscribe(move || {
        outbox_version.try_update(|v| *v += 1);
    }));
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

    let live = live::use_live(ctx, state, account.outbox.clone(), intent);
    super::snooze::start_waker(ctx);
    let query = Memo::new(move |_| state.query(&ctx));
    // A new list starts with nothing selected.
    Effect::new(move |_| {
        // Read, not `track()`ed: a memo only computes (and follows its sources) when read.
        query.with(|_| ());
        state.selection.set(Default::default());
    });
    keys::use_keys(state, ctx, query);
    super::notify::use_new_mail_notifications(
        ctx,
        Callback::new(move |email: EmailSummary| {
            if let Some(inbox) = ctx.role_id(Role::Inbox) {
                state.page.set(Page::Folder(inbox));
            }
            state.open(&email);
        }),
    );

    let selected = Signal::derive(move || state.folder());
    let current_folder = Signal::derive(move || {
        let id = selected.get()?;
        ctx.mailboxes.with(|all| all.iter().find(|m| m.id == id).cloned())
    });
    window_title(ctx, state, accounts, current_folder, on_unread);
    undo_send_expires(state);

    let on_queued = Callback::new(move |queued: Queued| {
        state.composing.set(None);
        state.undo_send.set(Some(queued));
    });
    let sign_out = Callback::new(move |_| {
        let engine = engine.get_value();
        spawn_local(async move {
            // Sign-out leaves nothing of the account on this device.
            let _ = engine.wipe().await;
            on_sign_out.run(());
        });
    });
    let on_answer = Callback::new(move |(m, kind): (Message, ReplyKind)| state.answer(&ctx, &m, kind));
    let connection = account.connection;
    let signed_out = Signal::derive(move || connection.with(Connection::link) != Link::Live);
    let account_key = account.key.clone();

    view! {
        <div
            class="shell"
            class:reading=move || state.opened.with(|o| o.is_some())
            class:printing=move || state.printing.with(|p| p.is_some())
            data-connection=move || connection.with(Connection::link).name()
        >
            <a class="skip-link" href="#main">
                "Skip to messages"
            </a>
            <TopBar
                account_key=account.key.clone()
                account_label=account.display_name()
                accounts=accounts
                live=live
                on_switch=on_switch
                on_add_account=on_add_account
                on_sign_out=sign_out
            />
            <FolderNav waiting=Signal::derive(waiting) />
            <main class="content" id="main" tabindex="-1">
                <StatusArea live=live outbox=outbox signed_out=signed_out on_sign_in=on_add_account />
                {move || {
                    state
                        .composing
                        .get()
                        .map(|initial| {
                            view! {
                                <Compose
                                    outbox=outbox
                                    account=account_key.clone()
                                    initial=initial
                                    on_close=Callback::new(move |_| state.composing.set(None))
                                    on_queued=on_queued
                                />
                            }
                        })
                }}
                {move || match state.page.get() {
                    Page::Outbox => {
                        view! {
                            <OutboxView
                                outbox=outbox
                                version=outbox_version.into()
                                on_error=Callback::new(move |text| ctx.notice.set(Some(text)))
                            />
                        }
                            .into_any()
                    }
                    Page::Settings => {
                        view! { <Settings on_filters=Callback::new(move |_| state.show(Page::Filters(None))) /> }
                            .into_any()
                    }
                    Page::Filters(start_with) => view! { <FiltersPage start_with=start_with /> }.into_any(),
                    Page::Folder(_) | Page::Search { .. } => {
                        view! {
                            <div class="mail-panes">
                                <ListPane query=query current_folder=current_folder />
                                <ReaderPane on_answer=on_answer />
                            </div>
                        }
                            .into_any()
                    }
                }}
            </main>
            <ShellDialogs />
            {move || {
                state
                    .printing
                    .get()
                    .map(|(id, thread)| {
                        let on_close = Callback::new(move |_| {
                            state.printing.set(None);
                            focus_print_button();
                        });
                        view! { <PrintView thread_id=thread email_id=id on_close=on_close /> }
                    })
            }}
        </div>
    }
}

/// The window title names the place and carries the unread count of the folders that count.
fn window_title(
    ctx: MailContext,
    state: ShellState,
    accounts: Signal<Vec<AccountChoice>>,
    current_folder: Signal<Option<Mailbox>>,
    on_unread: Callback<u64>,
) {
    Effect::new(move |_| {
        let unread: u64 =
            ctx.mailboxes.with(|all| all.iter().filter(|m| m.role.counts_unread()).map(|m| m.unread_emails).sum());
        on_unread.run(unread);
        let total: u64 = accounts.with(|a| a.iter().map(|c| c.unread).sum());
        let place = match state.page.get() {
            Page::Folder(_) => current_folder.get().map(|m| m.name).unwrap_or_default(),
            Page::Search { text, .. } => format!("Search: {text}"),
            Page::Outbox => "Outbox".to_owned(),
            Page::Settings => "Settings".to_owned(),
            Page::Filters(_) => "Filters".to_owned(),
        };
        let title = match total.max(unread) {
            0 => format!("{place} · Petrel"),
            n => format!("({n}) {place} · Petrel"),
        };
        if let Some(doc) = web_sys::window().and_then(|w| w.document()) {
            doc.set_title(&title);
        }
    });
}

/// Back from the print view, focus returns to the button that opened it.
fn focus_print_button() {
    let button = web_sys::window().and_then(|w| w.document()).and_then(|d| d.get_element_by_id("print-open"));
    if let Some(b) = button.and_then(|b| wasm_bindgen::JsCast::dyn_into::<web_sys::HtmlElement>(b).ok()) {
        let _ = b.focus();
    }
}

/// The undo offer of a sent message goes away with its window.
fn undo_send_expires(state: ShellState) {
    Effect::new(move |_| {
        if let Some(queued) = state.undo_send.get() {
            let left = (queued.send_at_ms - js_sys::Date::now()).max(0.0);
            if !queued.scheduled {
                let job = queued.job_id.clone();
                set_timeout(
                    move || {
                        // The shell may be gone (another account shown, signed out) when it fires.
                        if state.undo_send.try_get_untracked().flatten().is_some_and(|q| q.job_id == job) {
                            state.undo_send.set(None);
                        }
                    },
                    std::time::Duration::from_millis(left as u64),
                );
            }
        }
    });
}
