//! The keyboard, for the whole page: each key press becomes a [`Command`] (the one table in
//! `ui::shortcuts` says which) carried out on the shell's state. Typing in a field is never taken.

use leptos::prelude::*;

use crate::mail::quoting::ReplyKind;
use crate::mail::{Draft, MailQuery, Role};
use crate::ui::context::MailContext;
use crate::ui::focus::{focus_cursor_row, focused_is_control, is_typing};
use crate::ui::mail_actions::Batch;
use crate::ui::shortcuts::{command_for, Command};

use super::state::{Dialog, ShellState};

/// Listens for as long as the calling view lives.
pub fn use_keys(state: ShellState, ctx: MailContext, query: Memo<Option<MailQuery>>) {
    let after_g = StoredValue::new(false);
    let keys = window_event_listener(leptos::ev::keydown, move |ev: leptos::ev::KeyboardEvent| {
        // The composer and the print view keep their keys (the print view closes on its own Escape).
        let covered = state.composing.with_untracked(|c| c.is_some()) || state.printing.with_untracked(|p| p.is_some());
        if ev.default_prevented() || is_typing(&ev) || covered {
            return;
        }
        let g = after_g.get_value();
        after_g.set_value(false);
        if !g && ev.key() == "g" && !ev.ctrl_key() && !ev.meta_key() && !ev.alt_key() {
            after_g.set_value(true);
            return;
        }
        let Some(command) = command_for(&ev.key(), ev.ctrl_key() || ev.meta_key(), ev.alt_key(), g) else { return };
        if state.dialog.with_untracked(|d| d.is_some()) && command != Command::Escape {
            return;
        }
        // Enter on a focused button is the button's own.
        if command == Command::Open && ev.key() == "Enter" && focused_is_control() {
            return;
        }
        ev.prevent_default();
        let total = ctx
            .engine
            .with_value(|e| e.read(|s| query.with_untracked(|q| q.as_ref().and_then(|q| s.list(q)?.total))))
            .unwrap_or(0);
        carry_out(command, state, ctx, total);
    });
    on_cleanup(move || keys.remove());
}

fn carry_out(command: Command, state: ShellState, ctx: MailContext, total: u64) {
    match command {
        Command::Next | Command::Previous => {
            let delta = if command == Command::Next { 1 } else { -1 };
            state.selection.update(|s| {
                s.step(delta, total);
            });
            if state.opened.get_untracked().is_some() {
                if let Some(e) = state.cursor_email() {
                    state.open(&e);
                }
            }
            focus_cursor_row();
        }
        Command::Open => {
            if state.selection.with_untracked(|s| s.cursor.is_none()) {
                state.selection.update(|s| {
                    s.step(0, total);
                });
            }
            if let Some(e) = state.cursor_email() {
                state.open(&e);
            }
        }
        Command::BackToList => {
            state.opened.set(None);
            focus_cursor_row();
        }
        Command::ToggleSelect => {
            if let (Some(e), Some(p)) = (state.cursor_email(), state.selection.with_untracked(|s| s.cursor)) {
                state.selection.update(|s| s.toggle(p, &e.id));
            }
        }
        Command::MarkRead => state.batch(&ctx, Batch::Read),
        Command::MarkUnread => state.batch(&ctx, Batch::Unread),
        Command::ToggleFlag => state.batch(&ctx, Batch::ToggleFlag),
        Command::Archive => state.batch(&ctx, Batch::Archive),
        Command::Delete => state.batch(&ctx, Batch::Delete),
        Command::Spam => state.batch(&ctx, state.spam_batch(&ctx)),
        Command::Move => {
            let ids = state.targets(&ctx);
            if !ids.is_empty() {
                state.dialog.set(Some(Dialog::Move(ids)));
            }
        }
        Command::Snooze => {
            let ids = state.targets(&ctx);
            if !ids.is_empty() && crate::ui::snooze::offered(&ctx) {
                state.dialog.set(Some(Dialog::Snooze(ids)));
            }
        }
        Command::Label => {
            let ids = state.targets(&ctx);
            if !ids.is_empty() && crate::ui::labels::offered(&ctx) {
                state.dialog.set(Some(Dialog::Labels(ids)));
            }
        }
        Command::Reply => state.answer_current(ctx, ReplyKind::Reply),
        Command::ReplyAll => state.answer_current(ctx, ReplyKind::ReplyAll),
        Command::Forward => state.answer_current(ctx, ReplyKind::Forward),
        Command::Compose => state.composing.set(Some(Draft::default())),
        Command::Search => {
            if let Some(input) = state.search_field.get_untracked() {
                let _ = input.focus();
            }
        }
        Command::GoInbox => state.go_role(&ctx, Role::Inbox),
        Command::GoSent => state.go_role(&ctx, Role::Sent),
        Command::GoDrafts => state.go_role(&ctx, Role::Drafts),
        Command::Undo => ctx.undo_last(),
        Command::Help => state.dialog.set(Some(Dialog::Help)),
        Command::Escape => {
            if state.dialog.get_untracked().is_some() {
                state.dialog.set(None);
            } else if state.opened.get_untracked().is_some() {
                state.opened.set(None);
                focus_cursor_row();
            }
        }
    }
}
