//! What a user does to mail, as data: applied locally at once, sent to the server, kept in the
//! offline cache until the server has it. Every action is written so that sending it twice has
//! the effect of sending it once (patches, not toggles), which makes replay after a lost answer safe.

use serde::{Deserialize, Serialize};

use super::model::EmailSummary;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Action {
    /// Set or clear a keyword: `$seen` (read), `$flagged`, `$junk`, ...
    SetKeyword {
        ids: Vec<String>,
        keyword: String,
        on: bool,
    },
    /// Take the messages out of `from` (or out of every mailbox, when `None`) and into `to`.
    Move {
        ids: Vec<String>,
        from: Option<String>,
        to: String,
    },
    /// Also file the messages in `to`.
    Copy {
        ids: Vec<String>,
        to: String,
    },
    /// Delete for good (what "delete" does in Trash).
    Destroy {
        ids: Vec<String>,
    },
    /// `local_id` names the new mailbox until the server gives it an id.
    CreateMailbox {
        local_id: String,
        name: String,
        parent_id: Option<String>,
    },
    RenameMailbox {
        id: String,
        name: String,
    },
    DestroyMailbox {
        id: String,
    },
}

impl Action {
    /// The messages this action changes.
    pub fn email_ids(&self) -> &[String] {
        match self {
            Action::SetKeyword { ids, .. }
            | Action::Move { ids, .. }
            | Action::Copy { ids, .. }
            | Action::Destroy { ids } => ids,
            _ => &[],
        }
    }

    /// How the action reads in a message to the user ("mark 3 messages read").
    pub fn describe(&self) -> String {
        let n =
            |ids: &[String]| if ids.len() == 1 { "1 message".to_owned() } else { format!("{} messages", ids.len()) };
        match self {
            Action::SetKeyword { ids, keyword, on } => match (keyword.as_str(), on) {
                (super::keyword::SEEN, true) => format!("mark {} read", n(ids)),
                (super::keyword::SEEN, false) => format!("mark {} unread", n(ids)),
                (super::keyword::FLAGGED, true) => format!("flag {}", n(ids)),
                (super::keyword::FLAGGED, false) => format!("unflag {}", n(ids)),
                (k, true) => format!("set {k} on {}", n(ids)),
                (k, false) => format!("clear {k} on {}", n(ids)),
            },
            Action::Move { ids, .. } => format!("move {}", n(ids)),
            Action::Copy { ids, .. } => format!("copy {}", n(ids)),
            Action::Destroy { ids } => format!("delete {} for good", n(ids)),
            Action::CreateMailbox { name, .. } => format!("create the folder \"{name}\""),
            Action::RenameMailbox { name, .. } => format!("rename the folder to \"{name}\""),
            Action::DestroyMailbox { .. } => "delete the folder".to_owned(),
        }
    }

    /// The message as it is once this action is done; `None` when it is gone.
    pub fn applied_to(&self, email: &EmailSummary) -> Option<EmailSummary> {
        if !self.email_ids().contains(&email.id) {
            return Some(email.clone());
        }
        let mut e = email.clone();
        match self {
            Action::SetKeyword { keyword, on, .. } => e.set_keyword(keyword, *on),
            Action::Move { from, to, .. } => {
                match from {
                    Some(from) => {
                        e.mailbox_ids.remove(from);
                    }
                    None => e.mailbox_ids.clear(),
                }
                e.mailbox_ids.insert(to.clone(), true);
            }
            Action::Copy { to, .. } => {
                e.mailbox_ids.insert(to.clone(), true);
            }
            Action::Destroy { .. } => return None,
            _ => {}
        }
        Some(e)
    }

    /// The same action with local mailbox ids replaced by the server's.
    pub fn resolved(&self, server_id: impl Fn(&str) -> Option<String>) -> Action {
        let map = |id: &String| server_id(id).unwrap_or_else(|| id.clone());
        match self {
            Action::Move { ids, from, to } => {
                Action::Move { ids: ids.clone(), from: from.as_ref().map(map), to: map(to) }
            }
            Action::Copy { ids, to } => Action::Copy { ids: ids.clone(), to: map(to) },
            Action::CreateMailbox { local_id, name, parent_id } => Action::CreateMailbox {
                local_id: local_id.clone(),
                name: name.clone(),
                parent_id: parent_id.as_ref().map(map),
            },
            Action::RenameMailbox { id, name } => Action::RenameMailbox { id: map(id), name: name.clone() },
            Action::DestroyMailbox { id } => Action::DestroyMailbox { id: map(id) },
            other => other.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moves_and_keywords_apply_only_to_their_messages() {
        let mut e = EmailSummary { id: "M1".into(), ..Default::default() };
        e.mailbox_ids.insert("inbox".into(), true);
        let mv = Action::Move { ids: vec!["M1".into()], from: Some("inbox".into()), to: "archive".into() };
        let moved = mv.applied_to(&e).unwrap();
        assert!(moved.in_mailbox("archive") && !moved.in_mailbox("inbox"));
        let other = EmailSummary { id: "M2".into(), ..e.clone() };
        assert_eq!(mv.applied_to(&other).unwrap(), other);
        assert!(Action::Destroy { ids: vec!["M1".into()] }.applied_to(&e).is_none());
        let read = Action::SetKeyword { ids: vec!["M1".into()], keyword: "$seen".into(), on: true };
        assert!(!read.applied_to(&e).unwrap().is_unread());
        assert_eq!(read.describe(), "mark 1 message read");
    }

    #[test]
    fn local_mailbox_ids_resolve_to_server_ids() {
        let mv = Action::Move { ids: vec!["M1".into()], from: None, to: "local-1".into() };
        let resolved = mv.resolved(|id| (id == "local-1").then(|| "Mreal".to_owned()));
        assert_eq!(resolved, Action::Move { ids: vec!["M1".into()], from: None, to: "Mreal".into() });
    }
}
