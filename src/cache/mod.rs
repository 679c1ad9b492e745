//! The offline cache: each account's mail kept in IndexedDB so Petrel starts from it at once and
//! works without a network.
//!
//! Records are JSON under the key `[account, kind, id]`, so one key range reads a kind of one
//! account and one range deletes an account (sign-out). The record layout is here, as plain
//! functions tested natively; [`idb`] and [`offline`] (wasm only) move records in and out of
//! IndexedDB, which exists in pages and workers alike.

use crate::mail::store::{Changes, MailStore, PendingRecord, QueryList, Saved, CACHED_LIST_HEAD};
use crate::mail::{EmailSummary, Message};

#[cfg(target_arch = "wasm32")]
pub mod idb;
#[cfg(target_arch = "wasm32")]
pub mod offline;

#[cfg(target_arch = "wasm32")]
pub use offline::OfflineCache;

/// The IndexedDB database of the app (pages and its service worker share it).
pub const CACHE_NAME: &str = "petrel";

/// The kinds of record; whole-account singletons use the id [`ALL`].
pub mod kind {
    pub const MAILBOXES: &str = "mailboxes";
    pub const STATES: &str = "states";
    pub const PENDING: &str = "pending";
    pub const EMAIL: &str = "email";
    pub const BODY: &str = "body";
    pub const LIST: &str = "list";
    /// Outbox jobs (under the pseudo-account [`super::OUTBOX`]).
    pub const JOB: &str = "job";
}

/// The record "account" the outbox keeps its jobs under (jobs name their own account).
pub const OUTBOX: &str = "outbox";

pub const ALL: &str = "all";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CacheError {
    #[error("this browser offers no offline storage here (IndexedDB is missing or blocked)")]
    Unavailable,
    #[error("the browser's storage for Petrel is full")]
    Full,
    #[error("the offline copy is used by an older or newer Petrel in another tab; close it and reload")]
    Blocked,
    #[error("the offline copy could not be read or written: {0}")]
    Failed(String),
}

impl From<CacheError> for crate::mail::local_copy::LocalCopyError {
    fn from(error: CacheError) -> Self {
        match error {
            CacheError::Full => crate::mail::local_copy::LocalCopyError::Full,
            other => crate::mail::local_copy::LocalCopyError::Failed(other.to_string()),
        }
    }
}

/// One write to the cache.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    Put {
        kind: &'static str,
        id: String,
        json: String,
    },
    Delete {
        kind: &'static str,
        id: String,
    },
    /// Every record of this kind (a clean resync).
    DeleteKind {
        kind: &'static str,
    },
}

impl Op {
    pub fn is_body(&self) -> bool {
        matches!(self, Op::Put { kind: kind::BODY, .. })
    }
}

fn put<T: serde::Serialize>(kind: &'static str, id: &str, value: &T) -> Option<Op> {
    serde_json::to_string(value).ok().map(|json| Op::Put { kind, id: id.to_owned(), json })
}

/// The writes that bring the cache level with the store after `changes`.
pub fn ops_for(store: &MailStore, changes: Changes) -> Vec<Op> {
    let mut ops = Vec::new();
    if changes.emails_reset {
        ops.push(Op::DeleteKind { kind: kind::EMAIL });
        ops.push(Op::DeleteKind { kind: kind::LIST });
    }
    if changes.mailboxes {
        ops.extend(put(kind::MAILBOXES, ALL, &store.mailbox_list()));
    }
    if changes.states {
        ops.extend(put(kind::STATES, ALL, &store.states));
    }
    if changes.pending {
        ops.extend(put(kind::PENDING, ALL, &store.pending_record()));
    }
    for id in &changes.emails {
        ops.extend(match store.confirmed_email(id) {
            Some(e) => put(kind::EMAIL, id, e),
            None => Some(Op::Delete { kind: kind::EMAIL, id: id.clone() }),
        });
    }
    for id in &changes.bodies {
        ops.extend(match store.confirmed_body(id) {
            Some(b) => put(kind::BODY, id, b),
            None => Some(Op::Delete { kind: kind::BODY, id: id.clone() }),
        });
    }
    for key in &changes.lists {
        ops.extend(match store.list_by_key(key) {
            Some(list) => {
                let mut kept = list.clone();
                kept.head.truncate(CACHED_LIST_HEAD);
                put(kind::LIST, key, &kept)
            }
            None => Some(Op::Delete { kind: kind::LIST, id: key.clone() }),
        });
    }
    ops
}

/// The JSON texts of one account's records, by kind.
#[derive(Debug, Default)]
pub struct Records {
    pub mailboxes: Option<String>,
    pub states: Option<String>,
    pub pending: Option<String>,
    pub emails: Vec<String>,
    pub bodies: Vec<String>,
    pub lists: Vec<String>,
}

/// Reads records back. A record that no longer parses (written by another version, or damaged)
/// is skipped and counted: the server still has it, so the next sync brings it back.
pub fn saved_from(records: Records) -> (Saved, usize) {
    let mut unreadable = 0;
    let mut saved = Saved {
        mailboxes: parse_one(records.mailboxes, &mut unreadable).unwrap_or_default(),
        states: parse_one(records.states, &mut unreadable).unwrap_or_default(),
        pending: parse_one::<PendingRecord>(records.pending, &mut unreadable),
        emails: parse_each::<EmailSummary>(records.emails, &mut unreadable),
        bodies: parse_each::<Message>(records.bodies, &mut unreadable),
        lists: parse_each::<QueryList>(records.lists, &mut unreadable),
    };
    if saved.states.mailbox.is_some() && saved.mailboxes.is_empty() {
        // A state without its mailboxes would make the next sync fetch only changes: start over.
        saved.states.mailbox = None;
    }
    (saved, unreadable)
}

fn parse_one<T: serde::de::DeserializeOwned>(text: Option<String>, unreadable: &mut usize) -> Option<T> {
    serde_json::from_str(&text?).map_err(|_| *unreadable += 1).ok()
}

fn parse_each<T: serde::de::DeserializeOwned>(texts: Vec<String>, unreadable: &mut usize) -> Vec<T> {
    texts.into_iter().filter_map(|t| parse_one(Some(t), unreadable)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::backend::{Delta, Window};
    use crate::mail::{Action, MailQuery, Mailbox, Role};

    fn filled_store() -> MailStore {
        let mut s = MailStore::new();
        let inbox = Mailbox {
            id: "in".into(),
            name: "Inbox".into(),
            parent_id: None,
            role: Role::Inbox,
            sort_order: 0,
            total_emails: 1,
            unread_emails: 1,
            my_rights: Default::default(),
        };
        s.apply_mailboxes(Delta::Reset { all: vec![inbox], new_state: Some("m1".into()) });
        let mut e = EmailSummary { id: "a".into(), subject: "Hello".into(), ..Default::default() };
        e.mailbox_ids.insert("in".into(), true);
        s.apply_window(
            &MailQuery::mailbox("in"),
            Window {
                position: 0,
                ids: vec!["a".into()],
                total: Some(1),
                query_state: Some("q1".into()),
                summaries: vec![e],
                email_state: Some("e1".into()),
            },
        );
        s.push_action(Action::SetKeyword { ids: vec!["a".into()], keyword: "$seen".into(), on: true });
        s
    }

    /// Writes ops into a map the way IndexedDB would, and reads them back as records.
    fn round_trip(ops: Vec<Op>) -> Records {
        let mut db: std::collections::BTreeMap<(&str, String), String> = Default::default();
        for op in ops {
            match op {
                Op::Put { kind, id, json } => {
                    db.insert((kind, id), json);
                }
                Op::Delete { kind, id } => {
                    db.remove(&(kind, id));
                }
                Op::DeleteKind { kind } => db.retain(|(k, _), _| *k != kind),
            }
        }
        let of = |k: &str| db.iter().filter(|((kk, _), _)| *kk == k).map(|(_, v)| v.clone()).collect::<Vec<_>>();
        Records {
            mailboxes: of(kind::MAILBOXES).pop(),
            states: of(kind::STATES).pop(),
            pending: of(kind::PENDING).pop(),
            emails: of(kind::EMAIL),
            bodies: of(kind::BODY),
            lists: of(kind::LIST),
        }
    }

    #[test]
    fn a_store_comes_back_from_its_records_with_pending_actions() {
        let mut store = filled_store();
        let changes = store.take_changes();
        let (saved, unreadable) = saved_from(round_trip(ops_for(&store, changes)));
        assert_eq!(unreadable, 0);
        let (back, _) = MailStore::restore(saved);
        let q = MailQuery::mailbox("in");
        assert!(back.has_rows(&q, 0, 1));
        assert!(!back.email("a").unwrap().is_unread(), "the pending read shows after a reload");
        assert_eq!(back.mailboxes()[0].unread_emails, 0);
        assert_eq!(back.states.email.as_deref(), Some("e1"));
        assert_eq!(back.queued().count(), 1);
    }

    #[test]
    fn damaged_records_are_skipped_not_fatal() {
        let records = Records {
            mailboxes: Some("{not json".into()),
            states: Some(r#"{"mailbox":"m1","email":"e1"}"#.into()),
            emails: vec![r#"{"id":"a"}"#.into(), r#"{"id":5}"#.into()],
            ..Records::default()
        };
        let (saved, unreadable) = saved_from(records);
        assert_eq!(unreadable, 2);
        assert_eq!(saved.emails.len(), 1);
        assert_eq!(saved.states.mailbox, None, "no mailboxes: their state is dropped to refetch them");
    }

    #[test]
    fn a_resync_clears_cached_messages_first() {
        let mut store = filled_store();
        store.take_changes();
        store.apply_emails(Delta::Reset { all: vec![], new_state: None });
        let changes = store.take_changes();
        let ops = ops_for(&store, changes);
        assert_eq!(ops[0], Op::DeleteKind { kind: kind::EMAIL });
    }
}
