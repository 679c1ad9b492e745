//! The list's and reader's actions on messages, with their undo: what "archive", "delete" or
//! "mark unread" turn into for the engine, and the actions that restore how things were.

use std::collections::BTreeMap;

use leptos::prelude::*;

use super::context::MailContext;
use crate::mail::store::MailStore;
use crate::mail::{keyword, Action, EmailSummary, Role};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Batch {
    Read,
    Unread,
    ToggleFlag,
    Archive,
    Delete,
    /// Into Junk, marked `$junk` (and no longer `$notjunk`), which trains the server's filter.
    Spam,
    /// Out of Junk into the Inbox, marked `$notjunk`.
    NotSpam,
    MoveTo(String),
}

fn count(n: usize) -> String {
    if n == 1 {
        "1 message".to_owned()
    } else {
        format!("{n} messages")
    }
}

/// A keyword set on all, undone only on those that did not have it that way before.
fn keyword_change(emails: &[EmailSummary], kw: &str, on: bool) -> (Action, Vec<Action>) {
    let ids = emails.iter().map(|e| e.id.clone()).collect();
    let changed: Vec<String> = emails.iter().filter(|e| e.has_keyword(kw) != on).map(|e| e.id.clone()).collect();
    let undo = if changed.is_empty() {
        vec![]
    } else {
        vec![Action::SetKeyword { ids: changed, keyword: kw.to_owned(), on: !on }]
    };
    (Action::SetKeyword { ids, keyword: kw.to_owned(), on }, undo)
}

/// A move, undone by putting each message back in the folders it was in.
fn move_change(emails: &[EmailSummary], to: &str) -> (Action, Vec<Action>) {
    let ids = emails.iter().map(|e| e.id.clone()).collect();
    let mut by_origin: BTreeMap<Vec<String>, Vec<String>> = BTreeMap::new();
    for e in emails {
        let origin: Vec<String> = e.mailbox_ids.iter().filter(|(_, on)| **on).map(|(m, _)| m.clone()).collect();
        by_origin.entry(origin).or_default().push(e.id.clone());
    }
    let mut undo = Vec::new();
    for (origin, ids) in by_origin {
        let Some((first, rest)) = origin.split_first() else { continue };
        undo.push(Action::Move { ids: ids.clone(), from: Some(to.to_owned()), to: first.clone() });
        for other in rest {
            undo.push(Action::Copy { ids: ids.clone(), to: other.clone() });
        }
    }
    (Action::Move { ids, from: None, to: to.to_owned() }, undo)
}

/// The engine actions for `batch` on `ids`, what to say, and the undo. `Err` says why it cannot
/// be done (no Archive folder, say).
pub fn plan(store: &MailStore, batch: &Batch, ids: &[String]) -> Result<(Vec<Action>, String, Vec<Action>), String> {
    let emails: Vec<EmailSummary> = ids.iter().filter_map(|id| store.email(id)).collect();
    if emails.is_empty() {
        return Err("Select a message first.".to_owned());
    }
    let n = count(emails.len());
    let folder = |role: Role, what: &str| {
        store.mailbox_with_role(role).map(|m| m.id.clone()).ok_or_else(|| format!("This account has no {what} folder."))
    };
    let (action, said, undo) = match batch {
        Batch::Read => {
            let (a, u) = keyword_change(&emails, keyword::SEEN, true);
            (a, format!("Marked {n} read."), u)
        }
        Batch::Unread => {
            let (a, u) = keyword_change(&emails, keyword::SEEN, false);
            (a, format!("Marked {n} unread."), u)
        }
        Batch::ToggleFlag => {
            let on = !emails.iter().all(|e| e.is_flagged());
            let (a, u) = keyword_change(&emails, keyword::FLAGGED, on);
            (a, if on { format!("Flagged {n}.") } else { format!("Unflagged {n}.") }, u)
        }
        Batch::Archive => {
            let (a, u) = move_change(&emails, &folder(Role::Archive, "Archive")?);
            (a, format!("Archived {n}."), u)
        }
        Batch::Spam | Batch::NotSpam => {
            let spam = *batch == Batch::Spam;
            let to = if spam { folder(Role::Junk, "Junk")? } else { folder(Role::Inbox, "Inbox")? };
            let (mv, mut undo) = move_change(&emails, &to);
            let (mark, undo_mark) = keyword_change(&emails, keyword::JUNK, spam);
            let (unmark, undo_unmark) = keyword_change(&emails, keyword::NOT_JUNK, !spam);
            undo.extend(undo_mark);
            undo.extend(undo_unmark);
            let said =
                if spam { format!("Reported {n} as spam.") } else { format!("Moved {n} to the Inbox: not spam.") };
            return Ok((vec![mv, mark, unmark], said, undo));
        }
        Batch::MoveTo(to) => {
            let name =
                store.mailbox_list().into_iter().find(|m| m.id == *to).map(|m| m.name.clone()).unwrap_or_default();
            let (a, u) = move_change(&emails, to);
            (a, format!("Moved {n} to {name}."), u)
        }
        Batch::Delete => {
            let trash = store.mailbox_with_role(Role::Trash).map(|m| m.id.clone());
            let all_in_trash = trash.as_ref().is_some_and(|t| emails.iter().all(|e| e.in_mailbox(t)));
            match trash {
                Some(t) if !all_in_trash => {
                    let (a, u) = move_change(&emails, &t);
                    (a, format!("Moved {n} to Trash."), u)
                }
                // In Trash (or without one) delete is for good: nothing to undo.
                _ => (
                    Action::Destroy { ids: emails.iter().map(|e| e.id.clone()).collect() },
                    format!("Deleted {n} for good."),
                    vec![],
                ),
            }
        }
    };
    Ok((vec![action], said, undo))
}

/// Runs `batch` on `ids` through the context: done at once on screen, undo offered.
pub fn run(ctx: &MailContext, batch: Batch, ids: Vec<String>) {
    let planned = ctx.engine.with_value(|e| e.read(|s| plan(s, &batch, &ids)));
    match planned {
        Ok((actions, said, undo)) => ctx.act(actions, Some(said), undo),
        Err(why) => ctx.notice.set(Some(why)),
    }
}
