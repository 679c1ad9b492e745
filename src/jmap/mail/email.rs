//! Email objects: the list windows (`Email/query` with the summaries of its ids), whole messages
//! with their bodies, and the filter and sort they are asked with.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use crate::jmap::{Call, JmapError, Request};
use crate::mail::backend::{Window, WindowAt};
use crate::mail::model::{null_as_default, Address, BodyPart, EmailSummary, Message};
use crate::mail::query::{Filter, MailQuery};
use crate::mail::MailError;

use super::*;

/// What a list row needs; nothing more is fetched for lists.
pub const SUMMARY_PROPERTIES: [&str; 11] = [
    "id",
    "threadId",
    "mailboxIds",
    "keywords",
    "from",
    "to",
    "subject",
    "preview",
    "receivedAt",
    "size",
    "hasAttachment",
];

/// The only properties of a message that change after it exists (RFC 8621 §4).
pub const MUTABLE_PROPERTIES: [&str; 3] = ["id", "keywords", "mailboxIds"];

pub(super) const MESSAGE_PROPERTIES: [&str; 26] = [
    "id",
    "blobId",
    "threadId",
    "mailboxIds",
    "keywords",
    "from",
    "to",
    "cc",
    "bcc",
    "replyTo",
    "subject",
    "sentAt",
    "receivedAt",
    "size",
    "preview",
    "hasAttachment",
    "messageId",
    "inReplyTo",
    "references",
    "textBody",
    "htmlBody",
    "attachments",
    "bodyValues",
    // Raw: RFC 8621 allows List-* headers only raw or as URLs, and `mail::unsubscribe` reads them.
    "header:List-Unsubscribe",
    "header:List-Unsubscribe-Post:asText",
    "header:Disposition-Notification-To:asAddresses",
];

pub(super) const BODY_PROPERTIES: [&str; 8] =
    ["partId", "blobId", "size", "name", "type", "charset", "disposition", "cid"];

pub fn filter_json(filter: &Filter) -> Value {
    serde_json::to_value(filter).unwrap_or_else(|_| json!({}))
}

pub(super) fn query_arguments(account: &str, query: &MailQuery) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert("accountId".into(), json!(account));
    args.insert("filter".into(), filter_json(&query.filter));
    args.insert("sort".into(), json!([{ "property": query.sort.jmap_property(), "isAscending": query.ascending }]));
    args.insert("collapseThreads".into(), json!(query.threads));
    args
}

/// `Email/query` of one window and `Email/get` of its summaries, in one request.
pub fn window_request(
    request: &mut Request,
    account: &str,
    query: &MailQuery,
    at: &WindowAt,
    limit: u32,
) -> (Call, Call) {
    let q = ids_request(request, account, query, at, limit);
    let get = request
        .call("Email/get", json!({ "accountId": account, "#ids": q.result("/ids"), "properties": SUMMARY_PROPERTIES }));
    (q, get)
}

/// `Email/query` for a window's ids (position or anchor), with the total.
pub fn ids_request(request: &mut Request, account: &str, query: &MailQuery, at: &WindowAt, limit: u32) -> Call {
    let mut args = query_arguments(account, query);
    match at {
        WindowAt::Position(p) => {
            args.insert("position".into(), json!(p));
        }
        WindowAt::Anchor { id, offset } => {
            args.insert("anchor".into(), json!(id));
            args.insert("anchorOffset".into(), json!(-offset));
        }
    }
    args.insert("limit".into(), json!(limit));
    args.insert("calculateTotal".into(), json!(true));
    request.call("Email/query", Value::Object(args))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QueryResponse {
    #[serde(default)]
    query_state: Option<String>,
    #[serde(default)]
    can_calculate_changes: bool,
    #[serde(default)]
    position: u64,
    #[serde(default)]
    total: Option<u64>,
    /// Present when the server cut the limit asked for to its own maximum.
    #[serde(default)]
    limit: Option<u64>,
    ids: Vec<String>,
}

pub fn parse_window(query: Value, get: Value, asked: u32) -> Result<Window, JmapError> {
    let (summaries, email_state) = parse_summaries(get)?;
    Ok(Window { summaries, email_state, ..parse_ids(query, asked)? })
}

/// An `Email/query` answer (asked for `asked` ids) as a window of ids without summaries.
///
/// The ids are trusted over the total: fewer ids than asked (and no lower limit of the server's)
/// means the list ends with them, whatever the total says. Stalwart counts every message in
/// `total` even with `collapseThreads`, where RFC 8621 counts one per thread.
pub fn parse_ids(query: Value, asked: u32) -> Result<Window, JmapError> {
    let q: QueryResponse = serde_json::from_value(query).map_err(|e| malformed("Email/query", e))?;
    let end = q.position + q.ids.len() as u64;
    let capped = q.limit.is_some_and(|limit| limit < u64::from(asked));
    let ends_here = !capped && (q.ids.len() as u64) < u64::from(asked);
    let total = if ends_here { Some(end) } else { q.total.map(|t| t.max(end)) };
    Ok(Window {
        position: q.position,
        ids: q.ids,
        total,
        query_state: q.query_state.filter(|_| q.can_calculate_changes),
        summaries: Vec::new(),
        email_state: None,
    })
}

/// The `list` of an `Email/get`, one entry at a time: an entry we cannot read becomes a visible
/// placeholder rather than losing the whole list.
pub fn parse_summaries(get: Value) -> Result<(Vec<EmailSummary>, Option<String>), JmapError> {
    let state = get.get("state").and_then(Value::as_str).map(str::to_owned);
    let Some(list) = get.get("list").and_then(Value::as_array) else {
        return Err(JmapError::Protocol("Email/get response has no list".into()));
    };
    let summaries = list
        .iter()
        .filter_map(|entry| {
            serde_json::from_value::<EmailSummary>(entry.clone())
                .ok()
                .or_else(|| Some(EmailSummary::unreadable(entry.get("id")?.as_str()?.to_owned())))
        })
        .collect();
    Ok((summaries, state))
}

/// `Email/get` of one whole message with its bodies decoded by the server.
pub fn message_request(request: &mut Request, account: &str, id: &str, max_body_bytes: u64) -> Call {
    request.call(
        "Email/get",
        json!({
            "accountId": account, "ids": [id], "properties": MESSAGE_PROPERTIES, "bodyProperties": BODY_PROPERTIES,
            "fetchTextBodyValues": true, "fetchHTMLBodyValues": true, "maxBodyValueBytes": max_body_bytes,
        }),
    )
}

pub fn parse_message(id: &str, get: Value) -> Result<Message, MailError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct BodyValue {
        #[serde(default)]
        value: String,
        #[serde(default)]
        is_truncated: bool,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Raw {
        #[serde(flatten)]
        summary: EmailSummary,
        #[serde(default, deserialize_with = "null_as_default")]
        cc: Vec<Address>,
        #[serde(default, deserialize_with = "null_as_default")]
        bcc: Vec<Address>,
        #[serde(default, deserialize_with = "null_as_default")]
        reply_to: Vec<Address>,
        #[serde(default)]
        sent_at: Option<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        message_id: Vec<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        in_reply_to: Vec<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        references: Vec<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        text_body: Vec<BodyPart>,
        #[serde(default, deserialize_with = "null_as_default")]
        html_body: Vec<BodyPart>,
        #[serde(default, deserialize_with = "null_as_default")]
        attachments: Vec<BodyPart>,
        #[serde(default, deserialize_with = "null_as_default")]
        body_values: BTreeMap<String, BodyValue>,
        #[serde(default)]
        blob_id: Option<String>,
        #[serde(default, rename = "header:List-Unsubscribe")]
        list_unsubscribe: Option<String>,
        #[serde(default, rename = "header:List-Unsubscribe-Post:asText")]
        list_unsubscribe_post: Option<String>,
        #[serde(
            default,
            rename = "header:Disposition-Notification-To:asAddresses",
            deserialize_with = "null_as_default"
        )]
        receipt_to: Vec<Address>,
    }
    #[derive(Deserialize)]
    struct List {
        list: Vec<Raw>,
    }
    let list: List = serde_json::from_value(get).map_err(|e| MailError::from(malformed("Email/get", e)))?;
    let Some(raw) = list.list.into_iter().find(|m| m.summary.id == id) else {
        return Err(MailError::NotFound(id.to_owned()));
    };
    let mut truncated = false;
    let mut join = |parts: &[BodyPart], want: &str| -> Option<String> {
        let texts: Vec<&str> = parts
            .iter()
            .filter(|p| p.content_type.eq_ignore_ascii_case(want))
            .filter_map(|p| raw.body_values.get(p.part_id.as_deref()?))
            .map(|v| {
                truncated |= v.is_truncated;
                v.value.as_str()
            })
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n"))
    };
    let text_body = join(&raw.text_body, "text/plain");
    let html_body = join(&raw.html_body, "text/html");
    Ok(Message {
        blob_id: raw.blob_id,
        summary: raw.summary,
        cc: raw.cc,
        bcc: raw.bcc,
        reply_to: raw.reply_to,
        sent_at: raw.sent_at,
        message_id: raw.message_id,
        in_reply_to: raw.in_reply_to,
        references: raw.references,
        text_body,
        html_body,
        body_truncated: truncated,
        attachments: raw.attachments,
        list_unsubscribe: raw.list_unsubscribe,
        list_unsubscribe_post: raw.list_unsubscribe_post,
        receipt_to: raw.receipt_to,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ids_window_asks_for_no_summaries_and_reads_as_one() {
        let mut request = Request::new();
        ids_request(&mut request, "acc", &MailQuery::mailbox("in"), &WindowAt::Position(50), 1000);
        let methods: Vec<&str> = request.calls().iter().map(|c| c.0.as_str()).collect();
        assert_eq!(methods, ["Email/query"]);
        assert_eq!(request.calls()[0].1["position"], 50);
        assert_eq!(request.calls()[0].1["limit"], 1000);
        let window = parse_ids(json!({ "queryState": "q", "canCalculateChanges": false, "position": 50, "total": 1234, "ids": ["a", "b"] }), 2).unwrap();
        assert_eq!(
            (window.position, window.ids.clone(), window.total),
            (50, vec!["a".to_owned(), "b".to_owned()], Some(1234))
        );
        assert!(window.summaries.is_empty() && window.email_state.is_none());
        assert_eq!(window.query_state, None, "a list the server cannot diff has no version");
    }

    #[test]
    fn the_ids_win_over_a_total_that_counts_more() {
        // Stalwart with collapseThreads: total 10 (every message), 7 ids (one per thread).
        let short =
            parse_ids(json!({ "position": 0, "total": 10, "ids": ["1", "2", "3", "4", "5", "6", "7"] }), 50).unwrap();
        assert_eq!(short.total, Some(7), "fewer ids than asked: the list ends with them");
        let past_the_end = parse_ids(json!({ "position": 40, "total": 50, "ids": [] }), 50).unwrap();
        assert_eq!(past_the_end.total, Some(40), "no row comes at or after 40");
        let capped =
            parse_ids(json!({ "position": 0, "total": 9000, "limit": 256, "ids": vec!["x"; 256] }), 1000).unwrap();
        assert_eq!(capped.total, Some(9000), "the server's own maximum cut the window: the list goes on");
        let under = parse_ids(json!({ "position": 0, "total": 1, "ids": ["a", "b"] }), 2).unwrap();
        assert_eq!(under.total, Some(2), "a total below the ids it came with is raised to them");
    }

    #[test]
    fn message_bodies_are_joined_from_body_values() {
        let m = parse_message(
            "M1",
            json!({ "list": [{
                "id": "M1", "blobId": "G1", "subject": "Hi",
                "textBody": [{ "partId": "1", "type": "text/plain" }],
                "htmlBody": [{ "partId": "2", "type": "text/html" }],
                "attachments": [{ "partId": "3", "blobId": "B3", "type": "image/png", "cid": "logo", "size": 10 }],
                "bodyValues": { "1": { "value": "plain" }, "2": { "value": "<p>html</p>", "isTruncated": true } }
            }]}),
        )
        .unwrap();
        assert_eq!(m.text_body.as_deref(), Some("plain"));
        assert_eq!(m.html_body.as_deref(), Some("<p>html</p>"));
        assert!(m.body_truncated);
        assert_eq!(m.inline_parts().count(), 1);
        assert_eq!(m.blob_id.as_deref(), Some("G1"), "the whole message, for its source");
        assert_eq!(parse_message("M2", json!({ "list": [] })), Err(MailError::NotFound("M2".into())));
    }

    #[test]
    fn a_malformed_entry_stays_listed_as_unreadable() {
        let (list, state) =
            parse_summaries(json!({ "state": "9", "list": [{ "id": "M1", "size": "big" }, { "id": "M2" }] })).unwrap();
        assert_eq!(state.as_deref(), Some("9"));
        assert_eq!(list[0], EmailSummary::unreadable("M1".into()));
        assert_eq!(list[1].id, "M2");
    }
}
