//! New-mail notifications while Petrel is in the background: one per burst of arrivals, naming
//! the sender and subject of a single message or the count of several; a click brings Petrel to
//! the front with the newest of them open. Permission is asked only when the user switches them on.

use std::collections::BTreeSet;

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast};
use web_sys::{Notification, NotificationOptions, NotificationPermission, VisibilityState};

use super::context::MailContext;
use crate::mail::{EmailSummary, Role};

/// Arrivals within this time of the first one make one notification.
pub const BURST_MS: u64 = 1500;

fn supported() -> bool {
    super::browser_support::notifications()
}

pub fn permitted() -> bool {
    supported() && Notification::permission() == NotificationPermission::Granted
}

/// Asks for permission (call from a click); `on_answer(true)` when granted.
pub fn ask_permission(on_answer: impl FnOnce(bool) + 'static) {
    if !supported() {
        return on_answer(false);
    }
    let Ok(promise) = Notification::request_permission() else { return on_answer(false) };
    wasm_bindgen_futures::spawn_local(async move {
        let answer = wasm_bindgen_futures::JsFuture::from(promise).await.ok().and_then(|v| v.as_string());
        on_answer(answer.as_deref() == Some("granted"));
    });
}

/// Whether the user is looking elsewhere (another tab, another app, the window minimised).
pub fn in_background() -> bool {
    let Some(doc) = web_sys::window().and_then(|w| w.document()) else { return false };
    doc.visibility_state() != VisibilityState::Visible || !doc.has_focus().unwrap_or(true)
}

/// What one notification says about `new` messages (newest first).
pub fn text_for(new: &[EmailSummary]) -> (String, String) {
    match new {
        [one] => (
            one.from.first().map(|a| a.label().to_owned()).unwrap_or_else(|| "New message".to_owned()),
            if one.subject.is_empty() { "(no subject)".to_owned() } else { one.subject.clone() },
        ),
        many => (
            format!("{} new messages", many.len()),
            many.iter()
                .filter_map(|e| e.from.first().map(|a| a.label().to_owned()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect::<Vec<_>>()
                .join(", "),
        ),
    }
}

/// What the announcer says of `new` messages.
fn spoken(new: &[EmailSummary]) -> String {
    let (title, body) = text_for(new);
    match new {
        [_] => format!("New message from {title}: {body}"),
        _ => format!("{title}, from {body}"),
    }
}

/// Shows one notification for `new`; `on_click` gets the newest message.
pub fn show(new: &[EmailSummary], on_click: Callback<EmailSummary>) {
    let Some(newest) = new.first().cloned() else { return };
    let (title, body) = text_for(new);
    let options = NotificationOptions::new();
    options.set_body(&body);
    options.set_icon("/icons/icon-192.png");
    // One at a time: a later burst replaces an unread earlier one.
    options.set_tag("petrel-new-mail");
    let Ok(note) = Notification::new_with_options(&title, &options) else { return };
    let clicked = note.clone();
    let handler = Closure::<dyn FnMut()>::new(move || {
        if let Some(w) = web_sys::window() {
            let _ = w.focus();
        }
        clicked.close();
        on_click.run(newest.clone());
    });
    note.set_onclick(Some(handler.as_ref().unchecked_ref()));
    handler.forget();
}

/// New mail arriving while Petrel is in the background, announced once per burst for as long as
/// the calling view lives; `on_open` runs when the user clicks a notification.
pub fn use_new_mail_notifications(ctx: MailContext, on_open: Callback<EmailSummary>) {
    let started_at = StoredValue::new(
        String::from(js_sys::Date::new_0().to_iso_string()).get(..19).map(|s| format!("{s}Z")).unwrap_or_default(),
    );
    let notified = StoredValue::new(BTreeSet::<String>::new());
    let burst_pending = StoredValue::new(false);
    let fresh_unread = move || -> Vec<EmailSummary> {
        let Some(inbox) = ctx.role_id(Role::Inbox) else { return vec![] };
        let since = started_at.get_value();
        let all = ctx.engine.with_value(|e| e.read(|s| s.unread_since(&inbox, &since)));
        notified.with_value(|n| all.into_iter().filter(|e| !n.contains(&e.id)).collect())
    };
    Effect::new(move |_| {
        ctx.version.track();
        if burst_pending.get_value() {
            return;
        }
        let new = fresh_unread();
        if new.is_empty() {
            return;
        }
        let wanted = ctx.prefs.with_untracked(|p| p.notify_new_mail) && permitted() && in_background();
        if !wanted {
            // Seen in the foreground (or not wanted): said once to screen readers, never notified later.
            ctx.announcer.say(&spoken(&new));
            notified.update_value(|n| n.extend(new.into_iter().map(|e| e.id)));
            return;
        }
        burst_pending.set_value(true);
        set_timeout(
            move || {
                // Handed back: the view is gone (another account, signed out) and so is its state.
                if burst_pending.try_set_value(false).is_some() {
                    return;
                }
                let burst = fresh_unread();
                notified.update_value(|n| n.extend(burst.iter().map(|e| e.id.clone())));
                if !burst.is_empty() {
                    ctx.announcer.say(&spoken(&burst));
                }
                show(&burst, on_open);
            },
            std::time::Duration::from_millis(BURST_MS),
        );
    });
}
