//! The mail model every backend fills and the UI reads: messages, threads, identities.
//!
//! Field names follow RFC 8621 (camelCase on the wire and in the offline cache), so a JMAP
//! response parses straight into it; other backends map their own shapes onto the same types.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize};

/// Reads `null` as the type's default: servers send `null` for absent lists and maps.
pub(crate) fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// The keywords (IMAP flags) a mail client acts on.
pub mod keyword {
    pub const SEEN: &str = "$seen";
    pub const FLAGGED: &str = "$flagged";
    pub const ANSWERED: &str = "$answered";
    pub const DRAFT: &str = "$draft";
    pub const FORWARDED: &str = "$forwarded";
    pub const JUNK: &str = "$junk";
    /// The user said a message is not spam (what spam filters learn from, like `$junk`).
    pub const NOT_JUNK: &str = "$notjunk";
    /// A read receipt was sent for the message, or the user declined to send one (RFC 9007).
    pub const MDN_SENT: &str = "$mdnsent";
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Address {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub email: String,
}

impl Address {
    /// What a list shows: the name when there is one, else the address.
    pub fn label(&self) -> &str {
        match self.name.as_deref().map(str::trim) {
            Some(name) if !name.is_empty() => name,
            _ => &self.email,
        }
    }
}

/// A message as a list shows it. Only `keywords` and `mailbox_ids` ever change on the server
/// (RFC 8621 §4: everything else is immutable), which is what keeps delta sync small.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EmailSummary {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub thread_id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub mailbox_ids: BTreeMap<String, bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub keywords: BTreeMap<String, bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub from: Vec<Address>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub to: Vec<Address>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub subject: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub preview: String,
    /// RFC 3339 UTC, as the server gave it.
    #[serde(default, deserialize_with = "null_as_default")]
    pub received_at: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub size: u64,
    #[serde(default, deserialize_with = "null_as_default")]
    pub has_attachment: bool,
}

impl EmailSummary {
    pub fn has_keyword(&self, keyword: &str) -> bool {
        self.keywords.get(keyword).copied().unwrap_or(false)
    }

    pub fn is_unread(&self) -> bool {
        !self.has_keyword(keyword::SEEN)
    }

    pub fn is_flagged(&self) -> bool {
        self.has_keyword(keyword::FLAGGED)
    }

    pub fn in_mailbox(&self, mailbox_id: &str) -> bool {
        self.mailbox_ids.get(mailbox_id).copied().unwrap_or(false)
    }

    /// Sets or clears a keyword; absent and `false` mean the same (RFC 8621 §4.1.1).
    pub fn set_keyword(&mut self, keyword: &str, on: bool) {
        if on {
            self.keywords.insert(keyword.to_owned(), true);
        } else {
            self.keywords.remove(keyword);
        }
    }

    /// The preview as a list shows it: some servers build it from an HTML-only body's source, so
    /// markup is taken out (it is shown as text either way).
    pub fn readable_preview(&self) -> String {
        if !self.preview.contains('<') {
            return self.preview.clone();
        }
        let mut out = String::with_capacity(self.preview.len());
        let mut in_tag = false;
        for c in self.preview.chars() {
            match c {
                '<' => in_tag = true,
                '>' if in_tag => {
                    in_tag = false;
                    if !out.ends_with(' ') {
                        out.push(' ');
                    }
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// A stand-in for an entry the server sent in a shape we could not read: the message stays
    /// listed (nothing is lost) and says so instead of breaking the whole list.
    pub fn unreadable(id: String) -> EmailSummary {
        EmailSummary { id, subject: "(this message could not be read)".to_owned(), ..EmailSummary::default() }
    }
}

/// The parts of an RFC 8621 §4.1.4 body structure a reader needs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BodyPart {
    #[serde(default)]
    pub part_id: Option<String>,
    #[serde(default)]
    pub blob_id: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub size: u64,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(rename = "type", default, deserialize_with = "null_as_default")]
    pub content_type: String,
    #[serde(default)]
    pub charset: Option<String>,
    #[serde(default)]
    pub disposition: Option<String>,
    /// Content-ID without angle brackets, for `cid:` references in HTML.
    #[serde(default)]
    pub cid: Option<String>,
}

impl BodyPart {
    pub fn is_inline(&self) -> bool {
        self.cid.is_some() && self.disposition.as_deref() != Some("attachment")
    }
}

/// A whole message for the reader: the summary plus headers and decoded bodies.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    #[serde(flatten)]
    pub summary: EmailSummary,
    #[serde(default, deserialize_with = "null_as_default")]
    pub cc: Vec<Address>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub bcc: Vec<Address>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub reply_to: Vec<Address>,
    #[serde(default)]
    pub sent_at: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub message_id: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub in_reply_to: Vec<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub references: Vec<String>,
    /// The text of the plain-text body parts, decoded, in order.
    #[serde(default)]
    pub text_body: Option<String>,
    /// The HTML body, decoded and unsanitized: the reader sanitizes it before showing it.
    #[serde(default)]
    pub html_body: Option<String>,
    /// Whether the server cut a body at the size the client asked for.
    #[serde(default)]
    pub body_truncated: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    pub attachments: Vec<BodyPart>,
    /// The whole message as the server keeps it (RFC 5322), where the protocol can fetch it: for
    /// "View source" and "Download .eml".
    #[serde(default)]
    pub blob_id: Option<String>,
    /// `List-Unsubscribe` and `List-Unsubscribe-Post` as sent (read by `mail::unsubscribe`).
    #[serde(default)]
    pub list_unsubscribe: Option<String>,
    #[serde(default)]
    pub list_unsubscribe_post: Option<String>,
    /// Who asked for a read receipt (`Disposition-Notification-To`); empty when nobody did.
    #[serde(default, deserialize_with = "null_as_default")]
    pub receipt_to: Vec<Address>,
}

impl Message {
    /// Parts referenced from the HTML by `cid:` (shown in place, not listed as attachments).
    pub fn inline_parts(&self) -> impl Iterator<Item = &BodyPart> {
        self.attachments.iter().filter(|p| p.is_inline())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Thread {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub email_ids: Vec<String>,
}

/// A From address the user may send as (RFC 8621 §6).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Identity {
    pub id: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub name: String,
    pub email: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub reply_to: Vec<Address>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub bcc: Vec<Address>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub text_signature: String,
    #[serde(default, deserialize_with = "null_as_default")]
    pub html_signature: String,
}

/// An out-of-office reply (RFC 8621 §8).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Vacation {
    #[serde(default, deserialize_with = "null_as_default")]
    pub is_enabled: bool,
    #[serde(default)]
    pub from_date: Option<String>,
    #[serde(default)]
    pub to_date: Option<String>,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub text_body: Option<String>,
    #[serde(default)]
    pub html_body: Option<String>,
}

/// A full-text search hit with the matching words marked (`<mark>` only; everything else escaped).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snippet {
    pub email_id: String,
    #[serde(default)]
    pub subject: Option<String>,
    #[serde(default)]
    pub preview: Option<String>,
}

/// A snippet's text split into runs, each marked (a search hit) or not, entities decoded: the UI
/// renders the runs as text, so no markup from the server is ever parsed.
pub fn marked_runs(snippet: &str) -> Vec<(String, bool)> {
    let mut runs = Vec::new();
    let mut rest = snippet;
    let mut marked = false;
    loop {
        let tag = if marked { "</mark>" } else { "<mark>" };
        let (text, next) = match rest.find(tag) {
            Some(i) => (&rest[..i], Some(&rest[i + tag.len()..])),
            None => (rest, None),
        };
        if !text.is_empty() {
            runs.push((decode_entities(text), marked));
        }
        match next {
            Some(n) => {
                rest = n;
                marked = !marked;
            }
            None => return runs,
        }
    }
}

fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        let after = &rest[i..];
        let Some(end) = after.find(';').filter(|&e| e <= 10) else {
            out.push('&');
            rest = &after[1..];
            continue;
        };
        let name = &after[1..end];
        let decoded = match name {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" | "#39" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            n if n.starts_with("#x") || n.starts_with("#X") => {
                u32::from_str_radix(&n[2..], 16).ok().and_then(char::from_u32)
            }
            n if n.starts_with('#') => n[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &after[end + 1..];
            }
            None => {
                out.push('&');
                rest = &after[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// A message being written: what a draft holds and what sending needs.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Draft {
    pub identity_id: Option<String>,
    pub from: Vec<Address>,
    pub to: Vec<Address>,
    pub cc: Vec<Address>,
    pub bcc: Vec<Address>,
    pub subject: String,
    pub text_body: String,
    pub html_body: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
    /// A stable Message-ID (without brackets), so a resend can be recognised.
    pub message_id: Option<String>,
    /// The Date header (RFC 3339, whole seconds), fixed when the message is queued: every attempt
    /// then produces the same bytes, which servers that refuse a duplicate message (Cyrus answers
    /// alreadyExists) turn into a guard against a second copy still on the wire.
    #[serde(default)]
    pub sent_at: Option<String>,
    /// Files already uploaded: blob id, name, type, size.
    pub attachments: Vec<BodyPart>,
    /// Ask for a read receipt (RFC 8098 `Disposition-Notification-To`, to the sender).
    #[serde(default)]
    pub request_receipt: bool,
}

/// A Message-ID without its angle brackets, as JMAP's `messageId` holds it.
pub fn bare_message_id(id: &str) -> &str {
    id.trim().trim_start_matches('<').trim_end_matches('>')
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cyrus_summary_with_nulls_parses() {
        let e: EmailSummary = serde_json::from_value(json!({
            "id": "M1", "threadId": "T1", "mailboxIds": {"in": true}, "keywords": {"$seen": true},
            "from": [{"name": null, "email": "a@example.org"}], "to": null, "subject": null,
            "preview": "hi", "receivedAt": "2026-11-21T10:45:00Z", "size": 413, "hasAttachment": false
        }))
        .unwrap();
        assert!(!e.is_unread() && !e.is_flagged() && e.in_mailbox("in"));
        assert_eq!(e.from[0].label(), "a@example.org");
        assert!(e.to.is_empty() && e.subject.is_empty());
    }

    #[test]
    fn snippets_become_text_runs() {
        assert_eq!(
            marked_runs("the <mark>plan</mark> &amp; <mark>Q3</mark> &lt;b&gt;"),
            vec![
                ("the ".into(), false),
                ("plan".into(), true),
                (" & ".into(), false),
                ("Q3".into(), true),
                (" <b>".into(), false)
            ]
        );
        assert_eq!(
            marked_runs("<script>x</script> &#65;&#x42; & ok"),
            vec![("<script>x</script> AB & ok".into(), false)]
        );
        assert_eq!(marked_runs(""), vec![]);
    }

    #[test]
    fn previews_built_from_html_lose_their_markup() {
        let e = EmailSummary {
            preview: "<html><body><p>Quarterly letter</p><img src=x></body></html>".into(),
            ..Default::default()
        };
        assert_eq!(e.readable_preview(), "Quarterly letter");
        let plain = EmailSummary { preview: "a > b".into(), ..Default::default() };
        assert_eq!(plain.readable_preview(), "a > b");
    }

    #[test]
    fn keywords_toggle_without_false_entries() {
        let mut e = EmailSummary::default();
        e.set_keyword(keyword::FLAGGED, true);
        assert!(e.is_flagged());
        e.set_keyword(keyword::FLAGGED, false);
        assert!(e.keywords.is_empty());
    }

    #[test]
    fn messages_round_trip_through_the_cache_format() {
        let m = Message {
            summary: EmailSummary { id: "M2".into(), subject: "Hi".into(), ..Default::default() },
            html_body: Some("<p>x</p>".into()),
            attachments: vec![BodyPart {
                cid: Some("logo".into()),
                content_type: "image/png".into(),
                ..Default::default()
            }],
            ..Default::default()
        };
        let back: Message = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.inline_parts().count(), 1);
    }
}
