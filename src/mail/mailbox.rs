//! Mailboxes (RFC 8621 §2) and the folder tree a user sees.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use super::model::null_as_default;

/// Special-use roles (RFC 8457 names, as JMAP uses them), in the order a folder list shows them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Role {
    Inbox,
    Drafts,
    Sent,
    Archive,
    Junk,
    Trash,
    #[default]
    Other,
}

impl Role {
    pub fn from_jmap(role: Option<&str>) -> Role {
        match role.map(str::to_ascii_lowercase).as_deref() {
            Some("inbox") => Role::Inbox,
            Some("drafts") => Role::Drafts,
            Some("sent") => Role::Sent,
            Some("archive") => Role::Archive,
            Some("junk") => Role::Junk,
            Some("trash") => Role::Trash,
            _ => Role::Other,
        }
    }

    pub fn to_jmap(self) -> Option<&'static str> {
        Some(match self {
            Role::Inbox => "inbox",
            Role::Drafts => "drafts",
            Role::Sent => "sent",
            Role::Archive => "archive",
            Role::Junk => "junk",
            Role::Trash => "trash",
            Role::Other => return None,
        })
    }

    /// Whether unread mail here deserves the user's attention (not in Junk or Trash, say).
    pub fn counts_unread(self) -> bool {
        !matches!(self, Role::Junk | Role::Trash | Role::Sent | Role::Drafts)
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_jmap().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Role {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Role::from_jmap(Option::<String>::deserialize(d)?.as_deref()))
    }
}

/// What the user may do with a mailbox (RFC 8621 §2 `myRights`); all allowed when the server is silent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct MailboxRights {
    pub may_read_items: bool,
    pub may_add_items: bool,
    pub may_remove_items: bool,
    pub may_set_seen: bool,
    pub may_set_keywords: bool,
    pub may_create_child: bool,
    pub may_rename: bool,
    pub may_delete: bool,
    pub may_submit: bool,
}

impl Default for MailboxRights {
    fn default() -> Self {
        MailboxRights {
            may_read_items: true,
            may_add_items: true,
            may_remove_items: true,
            may_set_seen: true,
            may_set_keywords: true,
            may_create_child: true,
            may_rename: true,
            may_delete: true,
            may_submit: true,
        }
    }
}

/// A mailbox as RFC 8621 §2 has it; the same shape is kept in the offline cache.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Mailbox {
    pub id: String,
    pub name: String,
    #[serde(default)]
    pub parent_id: Option<String>,
    #[serde(default)]
    pub role: Role,
    #[serde(default, deserialize_with = "null_as_default")]
    pub sort_order: u32,
    #[serde(default, deserialize_with = "null_as_default")]
    pub total_emails: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub unread_emails: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub my_rights: MailboxRights,
}

/// A mailbox with its children, for the folder tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailboxNode {
    pub mailbox: Mailbox,
    pub depth: usize,
    pub children: Vec<MailboxNode>,
}

/// Builds the folder tree: roles first in their usual order, then by the server's sort order and
/// name. A mailbox whose parent is missing (or part of a cycle) is shown at the top level, never lost.
pub fn build_tree(mailboxes: &[Mailbox]) -> Vec<MailboxNode> {
    let ids: HashSet<&str> = mailboxes.iter().map(|m| m.id.as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&Mailbox>> = BTreeMap::new();
    for m in mailboxes {
        let parent = m.parent_id.as_deref().filter(|p| ids.contains(p) && *p != m.id);
        children.entry(parent).or_default().push(m);
    }
    let mut placed = HashSet::new();
    let mut roots = grow(None, 0, &children, &mut placed);
    // Whatever was not reached from the top (a parent cycle) is put at the top level.
    let stranded: Vec<&Mailbox> = mailboxes.iter().filter(|m| !placed.contains(m.id.as_str())).collect();
    for m in stranded {
        if placed.insert(m.id.as_str()) {
            let mut node = MailboxNode { mailbox: m.clone(), depth: 0, children: Vec::new() };
            node.children = grow(Some(m.id.as_str()), 1, &children, &mut placed);
            roots.push(node);
        }
    }
    roots
}

fn grow<'a>(
    parent: Option<&'a str>,
    depth: usize,
    children: &BTreeMap<Option<&'a str>, Vec<&'a Mailbox>>,
    placed: &mut HashSet<&'a str>,
) -> Vec<MailboxNode> {
    let mut level: Vec<&Mailbox> = children.get(&parent).cloned().unwrap_or_default();
    level.sort_by(|a, b| {
        (a.role, a.sort_order, a.name.to_lowercase()).cmp(&(b.role, b.sort_order, b.name.to_lowercase()))
    });
    let mut nodes = Vec::new();
    for m in level {
        if !placed.insert(m.id.as_str()) {
            continue;
        }
        let grandchildren = grow(Some(m.id.as_str()), depth + 1, children, placed);
        nodes.push(MailboxNode { mailbox: m.clone(), depth, children: grandchildren });
    }
    nodes
}

/// The tree in display order, depth first: what a flat list of rows shows.
pub fn flatten(tree: &[MailboxNode]) -> Vec<&MailboxNode> {
    let mut out = Vec::new();
    fn walk<'a>(nodes: &'a [MailboxNode], out: &mut Vec<&'a MailboxNode>) {
        for n in nodes {
            out.push(n);
            walk(&n.children, out);
        }
    }
    walk(tree, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(id: &str, name: &str, parent: Option<&str>, role: Option<&str>, unread: u64) -> Mailbox {
        Mailbox {
            id: id.into(),
            name: name.into(),
            parent_id: parent.map(Into::into),
            role: Role::from_jmap(role),
            sort_order: 0,
            total_emails: unread,
            unread_emails: unread,
            my_rights: MailboxRights::default(),
        }
    }

    fn names(tree: &[MailboxNode]) -> Vec<String> {
        flatten(tree).iter().map(|n| format!("{}{}", "  ".repeat(n.depth), n.mailbox.name)).collect()
    }

    #[test]
    fn roles_first_then_names_with_children_under_parents() {
        let boxes = vec![
            mb("t", "Trash", None, Some("trash"), 0),
            mb("p", "projects", None, None, 0),
            mb("pp", "Petrel", Some("p"), None, 2),
            mb("i", "Inbox", None, Some("inbox"), 7),
            mb("r", "Receipts", None, None, 0),
            mb("s", "Sent", None, Some("sent"), 0),
        ];
        assert_eq!(names(&build_tree(&boxes)), ["Inbox", "Sent", "Trash", "projects", "  Petrel", "Receipts"]);
    }

    #[test]
    fn orphans_and_cycles_are_never_lost() {
        let boxes = vec![
            mb("a", "A", Some("missing"), None, 0),
            mb("b", "B", Some("c"), None, 0),
            mb("c", "C", Some("b"), None, 0),
            mb("d", "D", Some("d"), None, 0),
        ];
        let tree = build_tree(&boxes);
        let mut all: Vec<String> = flatten(&tree).iter().map(|n| n.mailbox.id.clone()).collect();
        all.sort();
        assert_eq!(all, ["a", "b", "c", "d"]);
    }
}
