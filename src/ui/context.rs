//! What the signed-in screen shares with its components, passed by Leptos context: the account's
//! engine and connection, the store's version, folders, preferences and the status lines.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::account::Connection;
use super::announcer::Announcer;
use super::prefs::Prefs;
use crate::jmap::blob::MemoryDigests;
use crate::mail::engine::{ActOutcome, MailEngine};
use crate::mail::{Action, Mailbox, Role};

#[derive(Clone, Copy)]
pub struct MailContext {
    pub engine: StoredValue<MailEngine, LocalStorage>,
    pub connection: RwSignal<Connection, LocalStorage>,
    /// SHA-256 of every blob seen this session: a blob must hash the same each time.
    pub digests: StoredValue<Rc<MemoryDigests>, LocalStorage>,
    /// Bumped on every store change.
    pub version: RwSignal<u64>,
    pub mailboxes: Memo<Vec<Mailbox>>,
    pub prefs: RwSignal<Prefs>,
    /// Something went wrong: shown as an alert.
    pub notice: RwSignal<Option<String>>,
    /// Something happened as asked: shown in the polite status line.
    pub status: RwSignal<Option<String>>,
    /// The last batch action and how to take it back.
    pub undo: RwSignal<Option<UndoOffer>>,
    /// The user's own addresses (never replied to).
    pub me: StoredValue<Vec<String>>,
    /// Says what happens without a click to screen readers, once per event.
    pub announcer: Announcer,
}

/// How to take back the last action on mail.
#[derive(Clone, Debug, PartialEq)]
pub struct UndoOffer {
    pub said: String,
    pub actions: Vec<Action>,
}

impl MailContext {
    pub fn get() -> MailContext {
        expect_context::<MailContext>()
    }

    pub fn role_id(&self, role: Role) -> Option<String> {
        self.mailboxes.with_untracked(|all| all.iter().find(|m| m.role == role).map(|m| m.id.clone()))
    }

    /// Carries out actions (optimistically: the list changes at once), reports a refusal, and
    /// offers `undo` when given.
    pub fn act(&self, actions: Vec<Action>, said: Option<String>, undo: Vec<Action>) {
        let engine = self.engine.get_value();
        let (status, offer) = (self.status, self.undo);
        if let Some(said) = &said {
            status.set(Some(said.clone()));
            offer.set((!undo.is_empty()).then(|| UndoOffer { said: said.clone(), actions: undo }));
        }
        // The offline note keeps the action's words first, so its Undo stays offered (`offers`).
        let offline_note = "Offline: the change is kept and made when the server is back.";
        let offline_said = said.map_or_else(|| offline_note.to_owned(), |said| format!("{said} {offline_note}"));
        spawn_local(async move {
            let mut said_offline = false;
            for action in actions {
                match engine.act(action).await {
                    // The engine's Refused event shows (and announces) the refusal.
                    ActOutcome::Refused(_) => offer.set(None),
                    // Queued also means "waiting behind an earlier action": only say offline when it
                    // is, and once for the batch.
                    ActOutcome::Queued if engine.reachable() == Some(false) && !said_offline => {
                        said_offline = true;
                        status.set(Some(offline_said.clone()))
                    }
                    ActOutcome::Queued => {}
                    ActOutcome::Done => {}
                }
            }
        });
    }

    /// Whether the status line `text` is the one the undo offer was made with (or that line with
    /// a note after it): an offer goes with its line, never with a newer one.
    pub fn offers_undo_for(&self, text: &str) -> bool {
        self.undo.with(|offer| offer.as_ref().is_some_and(|offer| text.starts_with(&offer.said)))
    }

    /// Takes back the last action, if it can be.
    pub fn undo_last(&self) {
        let Some(offer) = self.undo.get_untracked() else { return };
        self.undo.set(None);
        self.act(offer.actions, None, vec![]);
        self.status.set(Some(format!("Undone: {}", offer.said.trim_end_matches('.'))));
    }
}
