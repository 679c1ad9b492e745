//! Sending: the draft as an `Email/set` creation, its SMTP envelope (with the FUTURERELEASE
//! hold), where it is filed, and finding a sent mail again by its Message-ID.

use serde_json::{json, Map, Value};

use crate::mail::model::{keyword, Address, Draft};

use super::*;

/// How many of the account's newest messages a Message-ID lookup also compares (see
/// `find_by_message_id`): a mail the outbox created moments ago is among them.
// Read by the backend, which only the browser build has.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(super) const RECENT_FOR_LOOKUP: u32 = 50;

/// The entries of an `Email/get` answer (with `messageId`) that carry `message_id`, as an answer
/// of their own.
#[cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]
pub(super) fn with_message_id(get: &Value, message_id: &str) -> Value {
    let bare = crate::mail::model::bare_message_id(message_id);
    let carries =
        |e: &&Value| e["messageId"].as_array().is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(bare)));
    let list: Vec<Value> =
        get["list"].as_array().map(|l| l.iter().filter(carries).cloned().collect()).unwrap_or_default();
    json!({ "list": list })
}

/// Where a message being sent belongs: a draft, or sent.
#[derive(Clone, Copy, PartialEq)]
pub enum Filed {
    Draft,
    Sent,
}

/// The Email/set patch that files a message as a draft (in Drafts, `$draft`) or as sent (in
/// Sent, out of Drafts): on a successful submission, and back again when it is undone.
pub fn filed_as(mailboxes: &crate::mail::backend::SendMailboxes, filed: Filed) -> Map<String, Value> {
    let (as_draft, as_sent) = match filed {
        Filed::Draft => (json!(true), Value::Null),
        Filed::Sent => (Value::Null, json!(true)),
    };
    let mut patch = Map::new();
    patch.insert(format!("mailboxIds/{}", pointer_escape(&mailboxes.drafts)), as_draft.clone());
    if let Some(sent) = &mailboxes.sent {
        patch.insert(format!("mailboxIds/{}", pointer_escape(sent)), as_sent);
    }
    patch.insert(format!("keywords/{}", pointer_escape(keyword::DRAFT)), as_draft);
    patch
}

/// The SMTP envelope of a submission: every recipient once (Bcc included), and the FUTURERELEASE
/// hold (RFC 4865 HOLDFOR, relative, so the client's clock does not matter).
pub fn envelope(mail_from: &str, draft: &Draft, hold_secs: Option<u64>) -> Value {
    let mut seen = std::collections::BTreeSet::new();
    let rcpt: Vec<Value> = draft
        .to
        .iter()
        .chain(&draft.cc)
        .chain(&draft.bcc)
        .filter(|a| seen.insert(a.email.to_ascii_lowercase()))
        .map(|a| json!({ "email": a.email }))
        .collect();
    let mut from = json!({ "email": mail_from });
    if let Some(secs) = hold_secs {
        from["parameters"] = json!({ "HOLDFOR": secs.to_string() });
    }
    json!({ "mailFrom": from, "rcptTo": rcpt })
}

fn addresses(list: &[Address]) -> Value {
    Value::Array(list.iter().map(|a| json!({ "name": a.name, "email": a.email })).collect())
}

/// The `Email/set` creation of a draft (RFC 8621 §4.6): headers, bodies by part id, attachments by blob.
pub fn draft_object(draft: &Draft, mailbox_id: &str, is_draft: bool) -> Value {
    let mut keywords = Map::new();
    keywords.insert(keyword::SEEN.into(), json!(true));
    if is_draft {
        keywords.insert(keyword::DRAFT.into(), json!(true));
    }
    let mut body_values = Map::new();
    body_values.insert("text".into(), json!({ "value": draft.text_body }));
    let mut email = json!({
        "mailboxIds": { mailbox_id: true },
        "keywords": keywords,
        "from": addresses(&draft.from),
        "to": addresses(&draft.to),
        "cc": addresses(&draft.cc),
        "bcc": addresses(&draft.bcc),
        "subject": draft.subject,
        "textBody": [{ "partId": "text", "type": "text/plain" }],
    });
    if let Some(html) = &draft.html_body {
        body_values.insert("html".into(), json!({ "value": html }));
        email["htmlBody"] = json!([{ "partId": "html", "type": "text/html" }]);
    }
    email["bodyValues"] = Value::Object(body_values);
    if let Some(id) = &draft.message_id {
        email["messageId"] = json!([id]);
    }
    if let Some(date) = &draft.sent_at {
        email["sentAt"] = json!(date);
    }
    if !draft.in_reply_to.is_empty() {
        email["inReplyTo"] = json!(draft.in_reply_to);
    }
    if !draft.references.is_empty() {
        email["references"] = json!(draft.references);
    }
    if draft.request_receipt && !draft.from.is_empty() {
        email["header:Disposition-Notification-To:asAddresses"] = addresses(&draft.from);
    }
    if !draft.attachments.is_empty() {
        email["attachments"] = Value::Array(
            draft
                .attachments
                .iter()
                .map(|a| json!({ "blobId": a.blob_id, "type": a.content_type, "name": a.name, "disposition": a.disposition.as_deref().unwrap_or("attachment"), "cid": a.cid }))
                .collect(),
        );
    }
    email
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_id_is_found_among_the_newest_mail() {
        let get = json!({ "list": [
            { "id": "a", "messageId": ["other@x"] },
            { "id": "b", "messageId": ["m1@petrel.test"], "keywords": { "$seen": true } },
            { "id": "c", "messageId": null },
        ] });
        let found = with_message_id(&get, "<m1@petrel.test>");
        assert_eq!(
            found["list"].as_array().map(|l| l.iter().map(|e| e["id"].clone()).collect::<Vec<_>>()),
            Some(vec![json!("b")])
        );
        assert_eq!(
            with_message_id(&json!({ "notFound": [] }), "m1@petrel.test")["list"],
            json!([]),
            "no list: nothing found, no error"
        );
    }

    #[test]
    fn filing_as_sent_and_back_as_a_draft_are_mirror_patches() {
        let boxes = crate::mail::backend::SendMailboxes { drafts: "D".into(), sent: Some("S".into()) };
        assert_eq!(
            Value::Object(filed_as(&boxes, Filed::Sent)),
            json!({ "mailboxIds/D": null, "mailboxIds/S": true, "keywords/$draft": null })
        );
        assert_eq!(
            Value::Object(filed_as(&boxes, Filed::Draft)),
            json!({ "mailboxIds/D": true, "mailboxIds/S": null, "keywords/$draft": true })
        );
    }

    #[test]
    fn a_held_envelope_names_every_recipient_once_and_the_hold() {
        let who = |e: &str| Address { name: None, email: e.into() };
        let draft = Draft {
            to: vec![who("a@x.org"), who("B@x.org")],
            cc: vec![who("b@x.org")],
            bcc: vec![who("hidden@x.org")],
            ..Draft::default()
        };
        let env = envelope("me@x.org", &draft, Some(10));
        assert_eq!(env["mailFrom"], json!({ "email": "me@x.org", "parameters": { "HOLDFOR": "10" } }));
        assert_eq!(env["rcptTo"], json!([{ "email": "a@x.org" }, { "email": "B@x.org" }, { "email": "hidden@x.org" }]));
        assert!(envelope("me@x.org", &draft, None)["mailFrom"].get("parameters").is_none());
    }
}
