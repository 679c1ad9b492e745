//! RustMailer's shapes onto Petrel's mail model, and back: ids, flags, folders, dates, searches.
//! Plain data, tested natively.

use std::collections::BTreeMap;

use super::proto as pb;
use crate::mail::model::keyword;
use crate::mail::time::{parse_rfc3339_ms, rfc3339};
use crate::mail::{Address, EmailSummary, Filter, Mailbox, Message, Role};

/// A message's id in Petrel: RustMailer names a message by folder and IMAP UID, so both go in it.
pub fn email_id(mailbox_id: u64, uid: &str) -> String {
    format!("{mailbox_id}:{uid}")
}

/// The folder id and UID of one of our message ids.
pub fn split_email_id(id: &str) -> Option<(u64, &str)> {
    let (mailbox, uid) = id.split_once(':')?;
    if uid.is_empty() {
        return None;
    }
    Some((mailbox.parse().ok()?, uid))
}

fn address(a: &pb::Addr) -> Option<Address> {
    let email = a.address.clone().unwrap_or_default();
    (!email.is_empty() || a.name.is_some()).then(|| Address { name: a.name.clone().filter(|n| !n.is_empty()), email })
}

/// Whether the server stores flags of the client's naming (IMAP PERMANENTFLAGS with `\*`), which
/// labels need. RustMailer reports `\*` as MAY_CREATE (and a CUSTOM `\*` is read so too).
pub fn allows_custom_flags(folders: &[pb::MailBox]) -> bool {
    let (may_create, custom) = (pb::EmailFlag::MayCreate as i32, pb::EmailFlag::Custom as i32);
    folders.iter().any(|f| {
        f.permanent_flags
            .iter()
            .any(|p| p.flag == may_create || (p.flag == custom && p.custom.as_deref() == Some("\\*")))
    })
}

/// IMAP flags as JMAP keywords (`\Seen` -> `$seen`, ...). RustMailer's SEEN is enum value 0.
pub fn keywords(flags: &[pb::EnvelopeFlag]) -> BTreeMap<String, bool> {
    flags
        .iter()
        .filter_map(|f| {
            let k = match pb::EmailFlag::try_from(f.flag).ok()? {
                pb::EmailFlag::Seen => keyword::SEEN.to_owned(),
                pb::EmailFlag::Answered => keyword::ANSWERED.to_owned(),
                pb::EmailFlag::EmailFlagged => keyword::FLAGGED.to_owned(),
                pb::EmailFlag::Draft => keyword::DRAFT.to_owned(),
                pb::EmailFlag::Custom => f.custom.clone().filter(|c| !c.is_empty())?.to_lowercase(),
                _ => return None,
            };
            Some((k, true))
        })
        .collect()
}

/// The IMAP flag for a keyword, for UpdateMessageFlags.
pub fn flag_for(keyword_name: &str) -> pb::EnvelopeFlag {
    let flag = |f: pb::EmailFlag| pb::EnvelopeFlag { flag: f as i32, custom: None };
    match keyword_name {
        keyword::SEEN => flag(pb::EmailFlag::Seen),
        keyword::ANSWERED => flag(pb::EmailFlag::Answered),
        keyword::FLAGGED => flag(pb::EmailFlag::EmailFlagged),
        keyword::DRAFT => flag(pb::EmailFlag::Draft),
        other => pb::EnvelopeFlag { flag: pb::EmailFlag::Custom as i32, custom: Some(other.to_owned()) },
    }
}

pub fn summary(e: &pb::EmailEnvelope) -> EmailSummary {
    EmailSummary {
        id: email_id(e.mailbox_id, &e.id),
        thread_id: if e.thread_id.is_empty() { email_id(e.mailbox_id, &e.id) } else { e.thread_id.clone() },
        mailbox_ids: BTreeMap::from([(e.mailbox_id.to_string(), true)]),
        keywords: keywords(&e.flags),
        from: e.from.as_ref().and_then(address).into_iter().collect(),
        to: e.to.iter().filter_map(address).collect(),
        subject: e.subject.clone().unwrap_or_default(),
        preview: String::new(),
        received_at: rfc3339(e.internal_date.or(e.date).unwrap_or(0)),
        size: u64::from(e.size),
        has_attachment: e.attachments.iter().any(|a| !a.inline),
    }
}

/// A whole message from its envelope and fetched content.
pub fn message(e: &pb::EmailEnvelope, content: pb::MessageContentResponse) -> Message {
    let plain = content.plain.unwrap_or_default();
    let attachments = content
        .attachments
        .iter()
        .map(|a| crate::mail::BodyPart {
            part_id: Some(a.id.clone()),
            blob_id: Some(a.id.clone()),
            size: u64::from(a.size),
            name: Some(a.filename.clone()).filter(|n| !n.is_empty()),
            content_type: a.file_type.clone(),
            charset: None,
            disposition: Some(if a.inline { "inline" } else { "attachment" }.to_owned()),
            cid: a.content_id.clone().map(|c| c.trim_matches(['<', '>']).to_owned()),
        })
        .collect();
    let bracketless = |s: &str| s.trim().trim_matches(['<', '>']).to_owned();
    Message {
        summary: summary(e),
        cc: e.cc.iter().filter_map(address).collect(),
        bcc: e.bcc.iter().filter_map(address).collect(),
        reply_to: e.reply_to.iter().filter_map(address).collect(),
        sent_at: e.date.map(rfc3339),
        message_id: e.message_id.iter().map(|m| bracketless(m)).collect(),
        in_reply_to: e.in_reply_to.iter().map(|m| bracketless(m)).collect(),
        references: e.references.iter().map(|m| bracketless(m)).collect(),
        text_body: Some(plain.content).filter(|t| !t.is_empty()),
        html_body: content.html,
        body_truncated: plain.truncated,
        attachments,
        // RustMailer's API hands out parts, not the message as a whole, nor its other headers.
        blob_id: None,
        list_unsubscribe: None,
        list_unsubscribe_post: None,
        receipt_to: vec![],
    }
}

/// The role of a folder from its special-use attribute, or INBOX by name.
fn role(m: &pb::MailBox) -> Role {
    if m.name.eq_ignore_ascii_case("INBOX") {
        return Role::Inbox;
    }
    for a in &m.attributes {
        let r = match pb::AttributeEnum::try_from(a.attr) {
            Ok(pb::AttributeEnum::Drafts) => Role::Drafts,
            Ok(pb::AttributeEnum::Sent) => Role::Sent,
            Ok(pb::AttributeEnum::Archive) => Role::Archive,
            Ok(pb::AttributeEnum::Junk) => Role::Junk,
            Ok(pb::AttributeEnum::Trash) => Role::Trash,
            _ => continue,
        };
        return r;
    }
    Role::Other
}

/// RustMailer's folders (full IMAP names with a delimiter) as a tree of mailboxes.
pub fn mailboxes(list: &[pb::MailBox]) -> Vec<Mailbox> {
    let by_name: BTreeMap<&str, u64> = list.iter().map(|m| (m.name.as_str(), m.mailbox_id)).collect();
    list.iter()
        .map(|m| {
            let delimiter = m.delimiter.as_deref().filter(|d| !d.is_empty());
            let (parent, leaf) = match delimiter.and_then(|d| m.name.rsplit_once(d)) {
                Some((parent, leaf)) if by_name.contains_key(parent) => {
                    (by_name.get(parent).map(|id| id.to_string()), leaf.to_owned())
                }
                _ => (None, m.name.clone()),
            };
            let no_select = m.attributes.iter().any(|a| a.attr == pb::AttributeEnum::NoSelect as i32);
            let mut rights = crate::mail::MailboxRights::default();
            if no_select {
                rights.may_read_items = false;
                rights.may_add_items = false;
            }
            let role = role(m);
            if role == Role::Inbox {
                rights.may_delete = false;
                rights.may_rename = false;
            }
            Mailbox {
                id: m.mailbox_id.to_string(),
                name: if role == Role::Inbox { "Inbox".to_owned() } else { leaf },
                parent_id: parent,
                role,
                sort_order: 0,
                total_emails: u64::from(m.exists),
                unread_emails: u64::from(m.unseen.unwrap_or(0)),
                my_rights: rights,
            }
        })
        .collect()
}

/// A cheap version of an account's mail: changes whenever a folder gains, loses or reads mail
/// (IMAP's EXISTS, UNSEEN, UIDNEXT) or is renamed; `epoch` is bumped by push events, which also
/// report changes these numbers miss (a flag set elsewhere).
pub fn fingerprint(list: &[pb::MailBox], epoch: u64) -> String {
    // FNV-1a: stable across runs and builds (the value is kept in the offline cache).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            hash ^= u64::from(*b);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for m in list {
        eat(m.name.as_bytes());
        eat(&m.mailbox_id.to_le_bytes());
        eat(&m.exists.to_le_bytes());
        eat(&m.unseen.unwrap_or(u32::MAX).to_le_bytes());
        eat(&m.uid_next.unwrap_or(u32::MAX).to_le_bytes());
        eat(&m.uid_validity.unwrap_or(0).to_le_bytes());
    }
    eat(&epoch.to_le_bytes());
    format!("{hash:016x}")
}

fn condition(kind: pb::Conditions, value: Option<String>) -> pb::MessageSearch {
    pb::MessageSearch {
        search_type: Some(pb::message_search::SearchType::Condition(pb::Condition { condition: kind as i32, value })),
    }
}

/// A filter as a RustMailer search (IMAP SEARCH semantics); `None` when the filter names only
/// a folder (a plain listing).
pub fn search(filter: &Filter) -> Option<pb::MessageSearch> {
    use pb::Conditions as C;
    let mut all = vec![];
    let mut push = |kind, value: &Option<String>| {
        if let Some(v) = value.as_ref().filter(|v| !v.trim().is_empty()) {
            all.push(condition(kind, Some(v.trim().to_owned())));
        }
    };
    push(C::Text, &filter.text);
    push(C::From, &filter.from);
    push(C::To, &filter.to);
    push(C::Subject, &filter.subject);
    let ms = |t: &Option<String>| t.as_deref().and_then(parse_rfc3339_ms).map(|ms| ms.to_string());
    push(C::Before, &ms(&filter.before));
    push(C::Since, &ms(&filter.after));
    for (k, on) in [(&filter.has_keyword, true), (&filter.not_keyword, false)] {
        let Some(k) = k else { continue };
        let c = match (k.as_str(), on) {
            (keyword::SEEN, true) => condition(C::SeenC, None),
            (keyword::SEEN, false) => condition(C::Unseen, None),
            (keyword::FLAGGED, true) => condition(C::FlaggedC, None),
            (keyword::FLAGGED, false) => condition(C::Unflagged, None),
            (other, true) => condition(C::Keyword, Some(other.to_owned())),
            (other, false) => condition(C::Unkeyword, Some(other.to_owned())),
        };
        all.push(c);
    }
    match all.len() {
        0 => None,
        1 => all.pop(),
        _ => Some(pb::MessageSearch {
            search_type: Some(pb::message_search::SearchType::Logic(pb::Logic {
                operator: pb::Operator::And as i32,
                children: all,
            })),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_folder_and_uid() {
        assert_eq!(email_id(1001, "42"), "1001:42");
        assert_eq!(split_email_id("1001:42"), Some((1001, "42")));
        assert_eq!(split_email_id("1001:"), None);
        assert_eq!(split_email_id("x:42"), None);
        assert_eq!(split_email_id("M123"), None);
    }

    #[test]
    fn custom_flags_only_where_permanent_flags_say_so() {
        let folder =
            |permanent: Vec<pb::EnvelopeFlag>| pb::MailBox { permanent_flags: permanent, ..Default::default() };
        let custom = |name: &str| pb::EnvelopeFlag { flag: pb::EmailFlag::Custom as i32, custom: Some(name.into()) };
        assert!(allows_custom_flags(&[folder(vec![]), folder(vec![custom("\\*")])]));
        let may_create = pb::EnvelopeFlag { flag: pb::EmailFlag::MayCreate as i32, custom: None };
        assert!(allows_custom_flags(&[folder(vec![may_create])]), "RustMailer's own way of saying \\*");
        assert!(!allows_custom_flags(&[folder(vec![custom("work")])]), "one custom flag is not any");
        assert!(!allows_custom_flags(&[]));
        let mut keywords_back = keywords(&[custom("Travel")]);
        assert_eq!(keywords_back.remove("travel"), Some(true), "custom flags read back as keywords");
    }

    #[test]
    fn seen_is_flag_zero() {
        let flags = [
            pb::EnvelopeFlag { flag: 0, custom: None },
            pb::EnvelopeFlag { flag: pb::EmailFlag::Custom as i32, custom: Some("$Work".into()) },
        ];
        let k = keywords(&flags);
        assert_eq!(k.keys().collect::<Vec<_>>(), ["$seen", "$work"]);
        assert_eq!(flag_for("$seen").flag, 0);
        assert_eq!(flag_for("$flagged").flag, pb::EmailFlag::EmailFlagged as i32);
    }

    #[test]
    fn folders_form_a_tree_with_roles() {
        let mb = |id, name: &str, attr: Option<pb::AttributeEnum>| pb::MailBox {
            mailbox_id: id,
            name: name.into(),
            delimiter: Some("/".into()),
            attributes: attr.map(|a| pb::Attribute { attr: a as i32, extension: None }).into_iter().collect(),
            exists: 3,
            unseen: Some(1),
            ..Default::default()
        };
        let list = [
            mb(1, "INBOX", None),
            mb(2, "Sent", Some(pb::AttributeEnum::Sent)),
            mb(3, "Projects", None),
            mb(4, "Projects/Q4", None),
        ];
        let boxes = mailboxes(&list);
        assert_eq!(boxes[0].role, Role::Inbox);
        assert_eq!(boxes[1].role, Role::Sent);
        assert_eq!((boxes[3].name.as_str(), boxes[3].parent_id.as_deref()), ("Q4", Some("3")));
        assert_eq!(boxes[3].unread_emails, 1);
        let before = fingerprint(&list, 0);
        let mut changed = list.clone();
        changed[0].uid_next = Some(9);
        assert_ne!(fingerprint(&changed, 0), before);
        assert_ne!(fingerprint(&list, 1), before);
        assert_eq!(fingerprint(&list, 0), before);
    }

    #[test]
    fn filters_become_imap_searches() {
        assert_eq!(search(&Filter::in_mailbox("1")), None);
        let f = Filter { from: Some("ann".into()), not_keyword: Some("$seen".into()), ..Filter::in_mailbox("1") };
        let Some(pb::MessageSearch { search_type: Some(pb::message_search::SearchType::Logic(l)) }) = search(&f) else {
            panic!("an AND")
        };
        assert_eq!(l.children.len(), 2);
    }
}
