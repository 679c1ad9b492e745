//! Snooze in the UI: the picker (`b`, "Snooze…"), and the waker that brings back mail Petrel
//! snoozed itself on servers that do not snooze (see `mail::snooze`): from the page, under the
//! outbox's lock, so one tab of several does it once.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::account::Connection;
use super::context::MailContext;
use crate::mail::backend::WindowAt;
use crate::mail::snooze::{self, Preset};
use crate::mail::{keyword, Action, Filter, MailQuery, Role, SortBy};
use crate::outbox::tabs::{self, DISPATCH_LOCK};

/// A message id with a folder id or a keyword.
type MessageAnd = (String, String);

/// How often the page asks the server for snoozed mail whose time has come (a snooze made in
/// this tab also wakes it at its time).
const WAKE_EVERY_MS: u32 = 30_000;
/// Snoozed mail looked through at once (the folder holds what waits, not an archive).
const MAX_SNOOZED: u32 = 500;

fn now_ms() -> i64 {
    js_sys::Date::now() as i64
}

/// Minutes east of UTC, here and now.
fn offset_minutes() -> i32 {
    -(js_sys::Date::new_0().get_timezone_offset() as i32)
}

/// Whether snoozing can work for this account: JMAP (the server's, or Petrel's own folder and
/// keyword); RustMailer's flags cannot carry the time.
pub fn offered(ctx: &MailContext) -> bool {
    ctx.connection.with(|c| matches!(c, Connection::Jmap(_)))
}

/// Snoozes `ids` until `until` (RFC 3339, UTC): on the server where it snoozes, else into the
/// Snoozed folder with the time in a keyword (with an undo).
async fn snooze(ctx: MailContext, ids: Vec<String>, until: String) {
    let engine = ctx.engine.get_value();
    let Some(backend) = engine.backend() else { return };
    let said = format!("Snoozed until {}.", super::format::local_time(&until));
    if backend.snoozes() {
        match backend.snooze(&ids, &until).await {
            Ok(()) => {
                ctx.status.set(Some(said));
                let _ = engine.sync().await;
            }
            Err(e) => ctx
                .notice
                .set(Some(format!("The mail was not snoozed: {}", crate::mail::error::sentence(&e.to_string())))),
        }
        return;
    }
    let Some(inbox) = ctx.role_id(Role::Inbox) else { return };
    let existing =
        ctx.mailboxes.with_untracked(|all| all.iter().find(|m| m.name == snooze::FOLDER).map(|m| m.id.clone()));
    let folder = match existing {
        Some(id) => id,
        None => engine.create_mailbox(snooze::FOLDER, None).await.0,
    };
    if ctx.engine.try_get_value().is_none() {
        return;
    }
    let keyword = snooze::keyword(&until);
    // Each message's folder now (Undo puts it back there) and any earlier snooze time it carries
    // (the new one replaces it, or the earlier would bring it back first).
    let (homes, earlier): (Vec<MessageAnd>, Vec<MessageAnd>) = engine.read(|s| {
        let mut homes = Vec::new();
        let mut earlier = Vec::new();
        for id in &ids {
            let Some(email) = s.email(id) else { continue };
            let home = email.mailbox_ids.iter().find(|(m, on)| **on && **m != folder).map(|(m, _)| m.clone());
            homes.push((id.clone(), home.unwrap_or_else(|| inbox.clone())));
            for k in email.keywords.keys().filter(|k| k.starts_with(snooze::KEYWORD_PREFIX) && **k != keyword) {
                earlier.push((id.clone(), k.clone()));
            }
        }
        (homes, earlier)
    });
    // The time goes on first: mail in the Snoozed folder always carries the time it comes back.
    let mut actions: Vec<Action> =
        earlier.into_iter().map(|(id, k)| Action::SetKeyword { ids: vec![id], keyword: k, on: false }).collect();
    actions.push(Action::SetKeyword { ids: ids.clone(), keyword: keyword.clone(), on: true });
    actions.push(Action::Move { ids: ids.clone(), from: None, to: folder.clone() });
    let mut undo: Vec<Action> = homes
        .into_iter()
        .map(|(id, home)| Action::Move { ids: vec![id], from: Some(folder.clone()), to: home })
        .collect();
    undo.push(Action::SetKeyword { ids, keyword, on: false });
    ctx.act(actions, Some(said), undo);
    let wait = js_sys::Date::new(&until.as_str().into()).get_time() as i64 - now_ms() + 1000;
    if wait < i64::from(u32::MAX) {
        crate::net::sleep(wait.max(0) as u32).await;
        if ctx.engine.try_get_value().is_some() {
            wake_due(ctx).await;
        }
    }
}

/// Brings back, once, the mail Petrel snoozed whose time has come: read fresh from the server
/// under the outbox's lock, so a second tab finds it already back.
async fn wake_due(ctx: MailContext) {
    let engine = ctx.engine.get_value();
    let Some(backend) = engine.backend().filter(|b| !b.snoozes()) else { return };
    let Some(inbox) = ctx.role_id(Role::Inbox) else { return };
    let Some(folder) =
        ctx.mailboxes.with_untracked(|all| all.iter().find(|m| m.name == snooze::FOLDER).map(|m| m.id.clone()))
    else {
        return;
    };
    let _turn = tabs::lock(DISPATCH_LOCK).await;
    let query = MailQuery {
        filter: Filter { in_mailbox: Some(folder.clone()), ..Default::default() },
        sort: SortBy::ReceivedAt,
        ascending: false,
        threads: false,
    };
    let Ok(window) = backend.window(&query, WindowAt::Position(0), MAX_SNOOZED).await else { return };
    let now = crate::mail::time::rfc3339(now_ms());
    let mut woken = 0;
    for email in window.summaries {
        let Some(k) = email.keywords.keys().find(|k| snooze::until_of(k).is_some_and(|u| snooze::is_due(&u, &now)))
        else {
            continue;
        };
        let ids = vec![email.id.clone()];
        // Written straight to the server, not queued behind other changes: when the lock goes,
        // the next tab must read the mail as back already.
        for action in [
            Action::Move { ids: ids.clone(), from: Some(folder.clone()), to: inbox.clone() },
            Action::SetKeyword { ids: ids.clone(), keyword: k.clone(), on: false },
            // Back as new mail, at the top of the Inbox's unread.
            Action::SetKeyword { ids, keyword: keyword::SEEN.to_owned(), on: false },
        ] {
            if backend.perform(&action).await.is_err() {
                return;
            }
        }
        woken += 1;
    }
    if woken > 0 {
        let _ = engine.sync().await;
        let mail = if woken == 1 { "A snoozed message is".to_owned() } else { format!("{woken} snoozed messages are") };
        let _ = ctx.status.try_set(Some(format!("{mail} back in the Inbox.")));
    }
}

/// Looks for snoozed mail that is due now and every few seconds while the account is shown.
pub fn start_waker(ctx: MailContext) {
    spawn_local(async move {
        // The account's view going away disposes its context: the loop ends with it.
        while ctx.engine.try_get_value().is_some() {
            wake_due(ctx).await;
            crate::net::sleep(WAKE_EVERY_MS).await;
        }
    });
}

/// The picker: tomorrow morning, next week, or a time of one's own.
#[component]
pub fn SnoozeDialogBody(ids: Vec<String>, on_close: Callback<()>) -> impl IntoView {
    let ctx = MailContext::get();
    let ids = StoredValue::new(ids);
    let chosen = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let go = move |until: String| {
        on_close.run(());
        spawn_local(snooze(ctx, ids.get_value(), until));
    };
    let preset = move |p: Preset| {
        let until = snooze::until(p, now_ms(), offset_minutes());
        let label = match p {
            Preset::TomorrowMorning => "Tomorrow morning",
            Preset::NextWeek => "Next week",
        };
        let when = super::format::local_time(&until);
        let id = match p {
            Preset::TomorrowMorning => "snooze-tomorrow",
            Preset::NextWeek => "snooze-next-week",
        };
        view! {
            <button type="button" id=id class="snooze-preset" on:click=move |_| go(until.clone())>
                {format!("{label} ({when})")}
            </button>
        }
    };
    let at = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // `datetime-local` is the user's local time; the browser's Date reads it so.
        let ms = js_sys::Date::new(&chosen.get_untracked().into()).get_time();
        if ms.is_nan() {
            error.set(Some("Choose a date and time.".into()));
        } else if (ms as i64) <= now_ms() {
            error.set(Some("Choose a time in the future.".into()));
        } else {
            go(crate::mail::time::rfc3339(ms as i64));
        }
    };
    view! {
        <h2 id="snooze-title">"Snooze until…"</h2>
        <div class="snooze-presets">{preset(Preset::TomorrowMorning)} {preset(Preset::NextWeek)}</div>
        <form class="snooze-at" on:submit=at>
            <label for="snooze-time">"A time of your own"</label>
            <input
                id="snooze-time"
                type="datetime-local"
                step="1"
                data-autofocus
                prop:value=chosen
                on:input=move |ev| chosen.set(event_target_value(&ev))
            />
            <button type="submit" id="snooze-at" class="primary">
                "Snooze"
            </button>
        </form>
        <super::alert::Alert text=error />
        <button type="button" id="snooze-cancel" on:click=move |_| on_close.run(())>
            "Cancel"
        </button>
    }
}
