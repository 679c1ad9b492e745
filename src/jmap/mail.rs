//! JMAP Mail (RFC 8621): the mail engine's backend trait over a [`JmapClient`].
//!
//! Builders and parsers are plain functions (tested natively); [`JmapMail`] (wasm only) sends
//! them. A sync is one HTTP request: mailbox, message and open-list changes together, with the
//! changed objects fetched in the same round trip by result references.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::set::SetResponse;
use super::{Call, JmapError, Request, Response};
use crate::mail::action::Action;
use crate::mail::backend::{Delta, EmailChange, ListDelta, Window, WindowAt};
use crate::mail::mailbox::{self, Mailbox};
use crate::mail::model::{keyword, null_as_default, Address, BodyPart, Draft, EmailSummary, Message, Snippet};
use crate::mail::query::{Filter, MailQuery, SortBy};
use crate::mail::MailError;

/// What a list row needs; nothing more is fetched for lists.
pub const SUMMARY_PROPERTIES: [&str; 11] =
    ["id", "threadId", "mailboxIds", "keywords", "from", "to", "subject", "preview", "receivedAt", "size", "hasAttachment"];

/// The only properties of a message that change after it exists (RFC 8621 §4).
pub const MUTABLE_PROPERTIES: [&str; 3] = ["id", "keywords", "mailboxIds"];

const MESSAGE_PROPERTIES: [&str; 22] = [
    "id", "threadId", "mailboxIds", "keywords", "from", "to", "cc", "bcc", "replyTo", "subject", "sentAt",
    "receivedAt", "size", "preview", "hasAttachment", "messageId", "inReplyTo", "references", "textBody",
    "htmlBody", "attachments", "bodyValues",
];

const BODY_PROPERTIES: [&str; 8] = ["partId", "blobId", "size", "name", "type", "charset", "disposition", "cid"];

/// Changes asked for at once when the server's limits are not known; more come in further rounds
/// (`hasMoreChanges`). With a session, [`max_changes_for`] decides.
pub const MAX_CHANGES: u64 = 500;
/// The most changes asked for in one round, whatever the server allows (a bounded response).
const MAX_CHANGES_CEILING: u64 = 4096;

/// Changes per round for a server whose `maxObjectsInGet` is `max_objects_in_get`: as many as
/// one `Email/get` may fetch (1,000 changes in one round on Cyrus instead of two).
/// The changed ids feed an `Email/get` by reference, so a round never asks for more than that.
pub fn max_changes_for(max_objects_in_get: u32) -> u64 {
    (max_objects_in_get as u64).clamp(1, MAX_CHANGES_CEILING)
}

pub fn filter_json(filter: &Filter) -> Value {
    serde_json::to_value(filter).unwrap_or_else(|_| json!({}))
}

fn query_arguments(account: &str, query: &MailQuery) -> Map<String, Value> {
    let mut args = Map::new();
    args.insert("accountId".into(), json!(account));
    args.insert("filter".into(), filter_json(&query.filter));
    args.insert("sort".into(), json!([{ "property": query.sort.jmap_property(), "isAscending": query.ascending }]));
    args.insert("collapseThreads".into(), json!(query.threads));
    args
}

/// How many of the account's newest messages a Message-ID lookup also compares (see
/// `find_by_message_id`): a mail the outbox created moments ago is among them.
const RECENT_FOR_LOOKUP: u32 = 50;

/// The entries of an `Email/get` answer (with `messageId`) that carry `message_id`, as an answer
/// of their own.
fn with_message_id(get: &Value, message_id: &str) -> Value {
    let bare = message_id.trim_matches(|c| c == '<' || c == '>');
    let carries = |e: &&Value| e["messageId"].as_array().is_some_and(|ids| ids.iter().any(|i| i.as_str() == Some(bare)));
    let list: Vec<Value> = get["list"].as_array().map(|l| l.iter().filter(carries).cloned().collect()).unwrap_or_default();
    json!({ "list": list })
}

/// `Email/query` of one window and `Email/get` of its summaries, in one request.
pub fn window_request(request: &mut Request, account: &str, query: &MailQuery, at: &WindowAt, limit: u32) -> (Call, Call) {
    let q = ids_request(request, account, query, at, limit);
    let get = request.call("Email/get", json!({ "accountId": account, "#ids": q.result("/ids"), "properties": SUMMARY_PROPERTIES }));
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

fn malformed(what: &str, e: impl std::fmt::Display) -> JmapError {
    JmapError::Protocol(format!("{what} response is malformed ({e})"))
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

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangesResponse {
    new_state: String,
    #[serde(default)]
    has_more_changes: bool,
    #[serde(default, deserialize_with = "null_as_default")]
    destroyed: Vec<String>,
}

/// The calls of one sync round, to find their answers again.
pub struct SyncCalls {
    mailbox: Option<(Call, Call, Call)>,
    mailbox_all: Option<Call>,
    email: Option<(Call, Call, Call)>,
    lists: Vec<Call>,
    /// The newest mail's query and get, and the limit asked.
    newest: Option<(Call, Call, u32)>,
}

/// Builds a sync round: changes since each known state and the changed objects themselves.
pub fn sync_request(
    request: &mut Request,
    account: &str,
    mailbox_state: Option<&str>,
    email_state: Option<&str>,
    lists: &[crate::mail::backend::ListSince],
    newest: Option<u32>,
    max_changes: u64,
) -> SyncCalls {
    let (mailbox, mailbox_all) = match mailbox_state {
        Some(state) => {
            let changes = request.call("Mailbox/changes", json!({ "accountId": account, "sinceState": state, "maxChanges": max_changes }));
            let created = request.call("Mailbox/get", json!({ "accountId": account, "#ids": changes.result("/created"), "properties": mailbox::PROPERTIES }));
            let updated = request.call("Mailbox/get", json!({ "accountId": account, "#ids": changes.result("/updated"), "properties": mailbox::PROPERTIES }));
            (Some((changes, created, updated)), None)
        }
        None => (None, Some(mailbox::request_all(request, account))),
    };
    let email = email_state.map(|state| email_changes_request(request, account, state, max_changes));
    let lists = lists
        .iter()
        .map(|l| {
            let mut args = query_arguments(account, &l.query);
            args.insert("sinceQueryState".into(), json!(l.query_state));
            args.insert("calculateTotal".into(), json!(true));
            args.insert("maxChanges".into(), json!(max_changes));
            if let Some(id) = &l.up_to_id {
                args.insert("upToId".into(), json!(id));
            }
            request.call("Email/queryChanges", Value::Object(args))
        })
        .collect();
    // The whole account newest first, one row per message: the engine picks the Inbox's first
    // rows out of it, since a query cannot name the Inbox before Mailbox/get has answered.
    let newest = newest.map(|limit| {
        let all_mail = MailQuery { filter: Filter::default(), sort: SortBy::ReceivedAt, ascending: false, threads: false };
        let (query, get) = window_request(request, account, &all_mail, &WindowAt::Position(0), limit);
        (query, get, limit)
    });
    SyncCalls { mailbox, mailbox_all, email, lists, newest }
}

/// `Email/changes` since `state`, with the summaries of new messages and the keywords and
/// mailboxes of changed ones, tied by result references.
pub fn email_changes_request(request: &mut Request, account: &str, state: &str, max_changes: u64) -> (Call, Call, Call) {
    let changes = request.call("Email/changes", json!({ "accountId": account, "sinceState": state, "maxChanges": max_changes }));
    let created = request.call("Email/get", json!({ "accountId": account, "#ids": changes.result("/created"), "properties": SUMMARY_PROPERTIES }));
    let updated = request.call("Email/get", json!({ "accountId": account, "#ids": changes.result("/updated"), "properties": MUTABLE_PROPERTIES }));
    (changes, created, updated)
}

/// Reads what [`email_changes_request`] asked for: the delta (a reset when the server cannot
/// calculate it) and whether the server has more changes.
pub fn parse_email_changes(response: &mut Response, (changes, created, updated): &(Call, Call, Call)) -> Result<(Delta<EmailChange>, bool), JmapError> {
    match response.take(changes) {
        Err(e) if e.means_resync() => Ok((Delta::Reset { all: Vec::new(), new_state: None }, false)),
        Err(e) => Err(e),
        Ok(value) => {
            let c: ChangesResponse = serde_json::from_value(value).map_err(|e| malformed("Email/changes", e))?;
            let (new, _) = parse_summaries(response.take(created)?)?;
            let mut changed: Vec<EmailChange> = new.into_iter().map(EmailChange::New).collect();
            changed.extend(parse_mutable(response.take(updated)?)?);
            Ok((Delta::Changes { changed, destroyed: c.destroyed, new_state: c.new_state }, c.has_more_changes))
        }
    }
}

/// What one sync round brought; `more_*` ask for another round from the new state.
pub struct SyncRound {
    pub mailboxes: Option<Delta<Mailbox>>,
    pub emails: Option<Delta<EmailChange>>,
    pub lists: Vec<ListDelta>,
    pub newest: Option<Window>,
    pub more_mailboxes: bool,
    pub more_emails: bool,
}

pub fn parse_sync(response: &mut Response, calls: &SyncCalls) -> Result<SyncRound, JmapError> {
    let mut round = SyncRound { mailboxes: None, emails: None, lists: Vec::new(), newest: None, more_mailboxes: false, more_emails: false };
    if let Some(all) = &calls.mailbox_all {
        let value = response.take(all)?;
        let state = value.get("state").and_then(Value::as_str).map(str::to_owned);
        round.mailboxes = Some(Delta::Reset { all: mailbox::parse_get(value)?, new_state: state });
    }
    if let Some((changes, created, updated)) = &calls.mailbox {
        match response.take(changes) {
            Err(e) if e.means_resync() => round.mailboxes = None, // the caller fetches them all
            Err(e) => return Err(e),
            Ok(value) => {
                let c: ChangesResponse = serde_json::from_value(value).map_err(|e| malformed("Mailbox/changes", e))?;
                let mut changed = mailbox::parse_get(response.take(created)?)?;
                changed.extend(mailbox::parse_get(response.take(updated)?)?);
                round.more_mailboxes = c.has_more_changes;
                round.mailboxes = Some(Delta::Changes { changed, destroyed: c.destroyed, new_state: c.new_state });
            }
        }
    }
    if let Some(email) = &calls.email {
        let (delta, more) = parse_email_changes(response, email)?;
        round.emails = Some(delta);
        round.more_emails = more;
    }
    for call in &calls.lists {
        round.lists.push(match response.take(call) {
            Err(e) if e.means_resync() => ListDelta::Reset,
            Err(e) => return Err(e),
            Ok(value) => parse_query_changes(value)?,
        });
    }
    if let Some((query, get, limit)) = &calls.newest {
        round.newest = Some(parse_window(response.take(query)?, response.take(get)?, *limit)?);
    }
    Ok(round)
}

fn parse_mutable(get: Value) -> Result<Vec<EmailChange>, JmapError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Mutable {
        id: String,
        #[serde(default, deserialize_with = "null_as_default")]
        keywords: BTreeMap<String, bool>,
        #[serde(default, deserialize_with = "null_as_default")]
        mailbox_ids: BTreeMap<String, bool>,
    }
    #[derive(Deserialize)]
    struct List {
        list: Vec<Mutable>,
    }
    let list: List = serde_json::from_value(get).map_err(|e| malformed("Email/get", e))?;
    Ok(list.list.into_iter().map(|m| EmailChange::Updated { id: m.id, keywords: m.keywords, mailbox_ids: m.mailbox_ids }).collect())
}

pub fn parse_query_changes(value: Value) -> Result<ListDelta, JmapError> {
    #[derive(Deserialize)]
    struct Added {
        id: String,
        index: u64,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct QueryChanges {
        new_query_state: String,
        #[serde(default, deserialize_with = "null_as_default")]
        removed: Vec<String>,
        #[serde(default, deserialize_with = "null_as_default")]
        added: Vec<Added>,
        #[serde(default)]
        total: Option<u64>,
    }
    let q: QueryChanges = serde_json::from_value(value).map_err(|e| malformed("Email/queryChanges", e))?;
    Ok(ListDelta::Changes {
        removed: q.removed,
        added: q.added.into_iter().map(|a| (a.index, a.id)).collect(),
        total: q.total,
        new_state: q.new_query_state,
    })
}

/// Adds the calls that carry out `action` (mailbox ids already resolved to the server's).
pub fn action_request(request: &mut Request, account: &str, action: &Action) -> Call {
    let patch_all = |patch: Value, ids: &[String]| -> Value {
        let update: Map<String, Value> = ids.iter().map(|id| (id.clone(), patch.clone())).collect();
        json!({ "accountId": account, "update": update })
    };
    match action {
        Action::SetKeyword { ids, keyword, on } => {
            let value = if *on { json!(true) } else { Value::Null };
            request.call("Email/set", patch_all(json!({ format!("keywords/{}", pointer_escape(keyword)): value }), ids))
        }
        Action::Move { ids, from: Some(from), to } => request.call(
            "Email/set",
            patch_all(json!({ format!("mailboxIds/{}", pointer_escape(from)): null, format!("mailboxIds/{}", pointer_escape(to)): true }), ids),
        ),
        Action::Move { ids, from: None, to } => request.call("Email/set", patch_all(json!({ "mailboxIds": { to.clone(): true } }), ids)),
        Action::Copy { ids, to } => request.call("Email/set", patch_all(json!({ format!("mailboxIds/{}", pointer_escape(to)): true }), ids)),
        Action::Destroy { ids } => request.call("Email/set", json!({ "accountId": account, "destroy": ids })),
        Action::CreateMailbox { local_id, name, parent_id } => request.call(
            "Mailbox/set",
            json!({ "accountId": account, "create": { local_id.clone(): { "name": name, "parentId": parent_id } } }),
        ),
        Action::RenameMailbox { id, name } => {
            request.call("Mailbox/set", json!({ "accountId": account, "update": { id.clone(): { "name": name } } }))
        }
        Action::DestroyMailbox { id } => {
            request.call("Mailbox/set", json!({ "accountId": account, "destroy": [id], "onDestroyRemoveEmails": false }))
        }
    }
}

/// JSON Pointer escaping for patch paths (RFC 6901): keywords may hold `/` or `~`.
fn pointer_escape(s: &str) -> String {
    s.replace('~', "~0").replace('/', "~1")
}

/// Reads the answer to an action: `Refused` with the server's reason when any part failed.
pub fn parse_action(action: &Action, value: Value) -> Result<Option<String>, MailError> {
    let set = SetResponse::parse(value)?;
    let refusal = set.not_created.values().chain(set.not_updated.values()).chain(set.not_destroyed.values()).next();
    if let Some(error) = refusal {
        return Err(MailError::Refused { what: action.describe(), reason: set_error_advice(error) });
    }
    Ok(match action {
        Action::CreateMailbox { local_id, .. } => set.created_id(local_id).map(str::to_owned),
        _ => None,
    })
}

fn set_error_advice(error: &super::set::SetError) -> String {
    match error.kind.as_str() {
        "notFound" => "it no longer exists on the server".to_owned(),
        "forbidden" => "you do not have permission".to_owned(),
        "mailboxHasEmail" => "the folder is not empty".to_owned(),
        "mailboxHasChild" => "the folder has folders inside it".to_owned(),
        "alreadyExists" => "a folder with that name already exists".to_owned(),
        "overQuota" => "the mailbox is full".to_owned(),
        "tooManyKeywords" | "tooManyMailboxes" => "the server's limit was reached".to_owned(),
        _ => error.to_string(),
    }
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
    }
    #[derive(Deserialize)]
    struct List {
        list: Vec<Raw>,
    }
    let list: List = serde_json::from_value(get).map_err(|e| MailError::Jmap(malformed("Email/get", e)))?;
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
    })
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

pub fn parse_snippets(value: Value) -> Result<Vec<Snippet>, JmapError> {
    #[derive(Deserialize)]
    struct List {
        #[serde(default, deserialize_with = "null_as_default")]
        list: Vec<Snippet>,
    }
    Ok(serde_json::from_value::<List>(value).map_err(|e| malformed("SearchSnippet/get", e))?.list)
}

pub fn parse_list<T: for<'de> Deserialize<'de>>(what: &str, value: Value) -> Result<Vec<T>, JmapError> {
    #[derive(Deserialize)]
    struct List<T> {
        list: Vec<T>,
    }
    Ok(serde_json::from_value::<List<T>>(value).map_err(|e| malformed(what, e))?.list)
}

#[cfg(target_arch = "wasm32")]
pub use live::JmapMail;

#[cfg(target_arch = "wasm32")]
mod live {
    use super::*;
    use crate::jmap::capability;
    use crate::jmap::client::JmapClient;
    use crate::mail::backend::{ActionDone, BackendFuture, Found, MailBackend, SendMailboxes, Sent, SyncRequest, SyncResult};
    use crate::mail::model::{Identity, Vacation};
    use futures_util::FutureExt;

    /// One JMAP account as a mail backend.
    #[derive(Clone, Debug)]
    pub struct JmapMail {
        client: JmapClient,
        account: String,
        /// The account's Email state as the last send saw it: each send is made conditional on
        /// it (`ifInState`), so a copy of a send that reaches the server after its retry already
        /// succeeded finds the state moved on and is refused, on every server.
        send_state: std::cell::RefCell<Option<String>>,
    }

    impl JmapMail {
        /// The primary mail account of the client's session.
        pub fn new(client: JmapClient) -> Result<JmapMail, JmapError> {
            let account = client.session().primary_account(capability::MAIL)?.to_owned();
            Ok(JmapMail { client, account, send_state: Default::default() })
        }

        pub fn client(&self) -> &JmapClient {
            &self.client
        }

        pub fn account_id(&self) -> &str {
            &self.account
        }

        /// The account's name in the offline cache: the same account reached through another URL
        /// is another cache (ids are only unique per server).
        pub fn cache_key(&self) -> String {
            format!("jmap:{}:{}", self.client.session().url, self.account)
        }

        fn request(&self) -> Request {
            Request::new().using(capability::MAIL)
        }

        /// The message with `message_id` created since `state` and already sent (no `$draft`
        /// left), if any.
        async fn sent_since(&self, state: &str, message_id: &str) -> Result<Option<String>, MailError> {
            let mut req = self.request();
            let changes = req.call("Email/changes", json!({ "accountId": self.account, "sinceState": state, "maxChanges": self.max_changes() }));
            let get = req.call("Email/get", json!({ "accountId": self.account, "#ids": changes.result("/created"), "properties": ["id", "keywords", "messageId"] }));
            let mut response = self.client.send(&req).await?;
            if response.take(&changes).is_err() {
                // Too many changes, or a state the server forgot: the outbox's own check decides.
                return Ok(None);
            }
            let (found, _) = parse_summaries(with_message_id(&response.take(&get)?, message_id))?;
            Ok(found.into_iter().find(|e| !e.has_keyword(keyword::DRAFT)).map(|e| e.id))
        }

        /// Destroys the draft a send replaces, and keeps the state after it for the send.
        async fn destroy_replaced_draft(&self, draft_id: &str) -> Result<(), MailError> {
            let mut req = self.request();
            // Unconditional: destroying a draft twice is harmless, and a draft left in place
            // would make Cyrus refuse the message that replaces it.
            let call = req.call("Email/set", json!({ "accountId": self.account, "destroy": [draft_id] }));
            let state_after = req.call("Email/get", json!({ "accountId": self.account, "ids": [] }));
            let mut response = self.client.send(&req).await?;
            *self.send_state.borrow_mut() = parse_summaries(response.take(&state_after)?)?.1;
            // A draft already gone (an earlier attempt got this far) is no reason to stop.
            let _ = response.take(&call);
            Ok(())
        }

        /// The account's Email state now.
        async fn email_state(&self) -> Result<String, MailError> {
            let mut req = self.request();
            let call = req.call("Email/get", json!({ "accountId": self.account, "ids": [] }));
            let mut response = self.client.send(&req).await?;
            parse_summaries(response.take(&call)?)?.1.ok_or_else(|| MailError::Jmap(JmapError::Protocol("Email/get gave no state".into())))
        }

        /// A submission's `undoStatus` as the server reports it (`None`: it knows no such submission).
        async fn undo_status(&self, submission_id: &str) -> Result<Option<String>, MailError> {
            let mut req = self.request().using(capability::SUBMISSION);
            let call = req.call("EmailSubmission/get", json!({ "accountId": self.account, "ids": [submission_id], "properties": ["undoStatus"] }));
            let mut response = self.client.send(&req).await?;
            let got = response.take(&call)?;
            Ok(got["list"].as_array().and_then(|l| l.first()).and_then(|s| s["undoStatus"].as_str()).map(str::to_owned))
        }

        fn max_changes(&self) -> u64 {
            max_changes_for(self.client.session().core.max_objects_in_get)
        }

        async fn sync_rounds(&self, request: SyncRequest) -> Result<SyncResult, MailError> {
            let mut req = self.request();
            let calls = sync_request(&mut req, &self.account, request.mailbox_state.as_deref(), request.email_state.as_deref(), &request.lists, request.newest, self.max_changes());
            let mut response = self.client.send(&req).await?;
            let round = parse_sync(&mut response, &calls)?;
            let mailboxes = match round.mailboxes {
                // Mailboxes are few: when the server cannot say what changed, or there is more
                // than a round holds, fetch them all again.
                Some(m) if !round.more_mailboxes => m,
                _ => self.all_mailboxes().await?,
            };
            let emails = match round.emails {
                Some(Delta::Changes { mut changed, mut destroyed, new_state }) if round.more_emails => {
                    match self.more_email_changes(new_state).await? {
                        Delta::Changes { changed: c, destroyed: d, new_state } => {
                            changed.extend(c);
                            destroyed.extend(d);
                            Some(Delta::Changes { changed, destroyed, new_state })
                        }
                        reset => Some(reset),
                    }
                }
                other => other,
            };
            Ok(SyncResult { mailboxes, emails, lists: round.lists, newest: round.newest })
        }

        async fn all_mailboxes(&self) -> Result<Delta<Mailbox>, MailError> {
            let mut req = self.request();
            let all = mailbox::request_all(&mut req, &self.account);
            let value = self.client.send(&req).await?.take(&all)?;
            let state = value.get("state").and_then(Value::as_str).map(str::to_owned);
            Ok(Delta::Reset { all: mailbox::parse_get(value)?, new_state: state })
        }

        /// Further `Email/changes` rounds until the server has no more.
        async fn more_email_changes(&self, mut since: String) -> Result<Delta<EmailChange>, MailError> {
            let mut changed = Vec::new();
            let mut destroyed = Vec::new();
            loop {
                // Messages only: the mailboxes came with the first round.
                let mut req = self.request();
                let calls = email_changes_request(&mut req, &self.account, &since, self.max_changes());
                let mut response = self.client.send(&req).await?;
                let (delta, more) = parse_email_changes(&mut response, &calls)?;
                match delta {
                    Delta::Changes { changed: c, destroyed: d, new_state } => {
                        changed.extend(c);
                        destroyed.extend(d);
                        since = new_state;
                    }
                    reset => return Ok(reset),
                }
                if !more {
                    return Ok(Delta::Changes { changed, destroyed, new_state: since });
                }
            }
        }
    }

    impl MailBackend for JmapMail {
        fn sync(&self, request: SyncRequest) -> BackendFuture<'_, SyncResult> {
            self.sync_rounds(request).boxed_local()
        }

        fn window<'a>(&'a self, query: &'a MailQuery, at: WindowAt, limit: u32) -> BackendFuture<'a, Window> {
            async move {
                let mut req = self.request();
                let (q, get) = window_request(&mut req, &self.account, query, &at, limit);
                let mut response = self.client.send(&req).await?;
                Ok(parse_window(response.take(&q)?, response.take(&get)?, limit)?)
            }
            .boxed_local()
        }

        fn window_ids<'a>(&'a self, query: &'a MailQuery, at: WindowAt, limit: u32) -> BackendFuture<'a, Window> {
            async move {
                let mut req = self.request();
                let q = ids_request(&mut req, &self.account, query, &at, limit);
                let mut response = self.client.send(&req).await?;
                Ok(parse_ids(response.take(&q)?, limit)?)
            }
            .boxed_local()
        }

        fn summaries(&self, ids: Vec<String>) -> BackendFuture<'_, Vec<EmailSummary>> {
            async move {
                let mut req = self.request();
                let get = req.call("Email/get", json!({ "accountId": self.account, "ids": ids, "properties": SUMMARY_PROPERTIES }));
                let mut response = self.client.send(&req).await?;
                Ok(parse_summaries(response.take(&get)?)?.0)
            }
            .boxed_local()
        }

        fn message<'a>(&'a self, id: &'a str, max_body_bytes: u64) -> BackendFuture<'a, Message> {
            async move {
                let mut req = self.request();
                let get = message_request(&mut req, &self.account, id, max_body_bytes);
                let mut response = self.client.send(&req).await?;
                parse_message(id, response.take(&get)?)
            }
            .boxed_local()
        }

        fn thread<'a>(&'a self, thread_id: &'a str) -> BackendFuture<'a, Vec<EmailSummary>> {
            async move {
                let mut req = self.request();
                let thread = req.call("Thread/get", json!({ "accountId": self.account, "ids": [thread_id] }));
                let get = req.call(
                    "Email/get",
                    json!({ "accountId": self.account, "#ids": thread.result("/list/*/emailIds"), "properties": SUMMARY_PROPERTIES }),
                );
                let mut response = self.client.send(&req).await?;
                let threads: Vec<crate::mail::Thread> = parse_list("Thread/get", response.take(&thread)?)?;
                let order = threads.into_iter().next().map(|t| t.email_ids).unwrap_or_default();
                let (mut emails, _) = parse_summaries(response.take(&get)?)?;
                emails.sort_by_key(|e| order.iter().position(|id| *id == e.id));
                Ok(emails)
            }
            .boxed_local()
        }

        fn perform<'a>(&'a self, action: &'a Action) -> BackendFuture<'a, ActionDone> {
            async move {
                let mut req = self.request();
                let call = action_request(&mut req, &self.account, action);
                let mut response = self.client.send(&req).await?;
                let created_mailbox_id = parse_action(action, response.take(&call)?)?;
                Ok(ActionDone { created_mailbox_id })
            }
            .boxed_local()
        }

        fn snippets<'a>(&'a self, filter: &'a Filter, ids: &'a [String]) -> BackendFuture<'a, Vec<Snippet>> {
            async move {
                let mut req = self.request();
                let call = req.call("SearchSnippet/get", json!({ "accountId": self.account, "filter": filter_json(filter), "emailIds": ids }));
                let mut response = self.client.send(&req).await?;
                Ok(parse_snippets(response.take(&call)?)?)
            }
            .boxed_local()
        }

        fn identities(&self) -> BackendFuture<'_, Vec<Identity>> {
            async move {
                let mut req = self.request().using(capability::SUBMISSION);
                let call = req.call("Identity/get", json!({ "accountId": self.account }));
                let mut response = self.client.send(&req).await?;
                Ok(parse_list("Identity/get", response.take(&call)?)?)
            }
            .boxed_local()
        }

        fn save_draft<'a>(&'a self, draft: &'a Draft, drafts_mailbox: &'a str, replaces: Option<&'a str>) -> BackendFuture<'a, String> {
            async move {
                let mut req = self.request();
                let mut args = json!({ "accountId": self.account, "create": { "draft": draft_object(draft, drafts_mailbox, true) } });
                if let Some(old) = replaces {
                    args["destroy"] = json!([old]);
                }
                let call = req.call("Email/set", args);
                let mut response = self.client.send(&req).await?;
                let set = SetResponse::parse(response.take(&call)?)?;
                if let Some(e) = set.not_created.get("draft") {
                    return Err(MailError::Refused { what: "save the draft".into(), reason: set_error_advice(e) });
                }
                set.created_id("draft").map(str::to_owned).ok_or_else(|| MailError::Jmap(JmapError::Protocol("Email/set created no draft".into())))
            }
            .boxed_local()
        }

        fn send<'a>(&'a self, draft: &'a Draft, mailboxes: &'a SendMailboxes, replaces: Option<&'a str>, hold_until_ms: Option<f64>) -> BackendFuture<'a, Sent> {
            async move {
                let hold_secs = hold_until_ms
                    .map(|until| ((until - crate::net::now_ms()) / 1000.0).ceil().max(0.0) as u64)
                    .filter(|s| *s > 0)
                    .map(|s| s.min(self.max_hold_secs()));
                // The identity is looked up to pick one, or for an address to send from.
                let identities = if draft.identity_id.is_none() || draft.from.is_empty() { self.identities().await? } else { Vec::new() };
                let from = draft.from.first().map(|a| a.email.to_ascii_lowercase());
                let identity = match &draft.identity_id {
                    Some(id) => identities.iter().find(|i| &i.id == id),
                    None => identities.iter().find(|i| Some(i.email.to_ascii_lowercase()) == from).or(identities.first()),
                };
                let (identity_id, identity_email) = match (identity, &draft.identity_id) {
                    (Some(i), _) => (i.id.clone(), i.email.clone()),
                    // Not looked up, or unknown to us: the server judges it (and refuses with a reason).
                    (None, Some(id)) => (id.clone(), draft.from.first().map(|a| a.email.clone()).unwrap_or_default()),
                    (None, None) => return Err(MailError::Refused { what: "send".into(), reason: "this account has no sender identity".into() }),
                };
                // A message with no From gets the identity's (servers refuse it otherwise).
                let filled;
                let draft = match identity {
                    Some(i) if draft.from.is_empty() => {
                        filled = Draft { from: vec![Address { name: (!i.name.is_empty()).then(|| i.name.clone()), email: i.email.clone() }], ..draft.clone() };
                        &filled
                    }
                    _ => draft,
                };
                let on_success = filed_as(mailboxes, Filed::Sent);
                // Bcc recipients are in the envelope only: servers such as Cyrus relay the stored
                // message as it is, and a Bcc header would show every recipient who was hidden.
                let without_bcc = Draft { bcc: Vec::new(), ..draft.clone() };
                if let Some(old) = replaces {
                    // Its own request, before the new message exists: Cyrus refuses a message
                    // whose bytes equal a draft still in the same folder (alreadyExists).
                    self.destroy_replaced_draft(old).await?;
                } else if self.send_state.borrow().is_none() {
                    let state = self.email_state().await?;
                    *self.send_state.borrow_mut() = Some(state);
                }
                let mut mismatches = 0;
                let (mut response, email_answer, submission) = loop {
                    let mut req = self.request().using(capability::SUBMISSION);
                    // The message is created only if the account is as this send last saw it
                    // (see `send_state`).
                    let mut create = json!({ "accountId": self.account, "create": { "mail": draft_object(&without_bcc, &mailboxes.drafts, true) } });
                    if let Some(state) = self.send_state.borrow().as_ref() {
                        create["ifInState"] = json!(state);
                    }
                    let email = req.call("Email/set", create);
                    let submission_object = json!({ "emailId": "#mail", "identityId": identity_id, "envelope": envelope(&identity_email, draft, hold_secs) });
                    let submission = req.call(
                        "EmailSubmission/set",
                        json!({
                            "accountId": self.account,
                            "create": { "send": submission_object },
                            "onSuccessUpdateEmail": { "#send": on_success },
                        }),
                    );
                    // The state after it all, also when the send was refused for a stale state.
                    let state_after = req.call("Email/get", json!({ "accountId": self.account, "ids": [] }));
                    let asked_in = self.send_state.borrow().clone();
                    let mut response = self.client.send(&req).await?;
                    let state = response.take(&state_after).ok().and_then(|g| parse_summaries(g).ok()).and_then(|(_, state)| state);
                    if state.is_some() {
                        *self.send_state.borrow_mut() = state;
                    }
                    match response.take(&email) {
                        // Nothing was created now, but the account moved on since this send last
                        // looked: maybe by this very mail, sent by an attempt whose answer was
                        // lost. The changes since then say so exactly (no search index involved).
                        Err(JmapError::Method { kind: crate::jmap::MethodErrorKind::StateMismatch, .. }) if mismatches < 3 => {
                            if let (Some(since), Some(message_id)) = (asked_in, draft.message_id.as_deref()) {
                                if let Some(email_id) = self.sent_since(&since, message_id).await? {
                                    return Ok(Sent { email_id, submission_id: None, held_until_ms: None });
                                }
                            }
                            mismatches += 1;
                        }
                        Err(e) => return Err(e.into()),
                        Ok(answer) => break (response, answer, submission),
                    }
                };
                let created = SetResponse::parse(email_answer)?;
                if let Some(e) = created.not_created.get("mail") {
                    if e.kind == "alreadyExists" {
                        return Err(MailError::AlreadyThere(draft.message_id.clone().unwrap_or_default()));
                    }
                    return Err(MailError::Refused { what: "send".into(), reason: set_error_advice(e) });
                }
                let email_id = created.created_id("mail").map(str::to_owned).ok_or_else(|| MailError::Jmap(JmapError::Protocol("Email/set created no message".into())))?;
                let submitted = SetResponse::parse(response.take(&submission)?)?;
                if let Some(e) = submitted.not_created.get("send") {
                    return Err(MailError::Refused { what: "send".into(), reason: set_error_advice(e) });
                }
                let created_send = submitted.created.get("send");
                let mut held = created_send.and_then(|c| c.get("undoStatus")).and_then(Value::as_str) == Some("pending");
                if hold_secs.is_some_and(|s| s > 0) && created_send.is_some_and(|c| c.get("undoStatus").is_none()) {
                    // Stalwart answers the create with its id alone: whether the server holds the
                    // mail (undo from the server) is asked, not assumed.
                    if let Some(id) = submitted.created_id("send") {
                        held = self.undo_status(id).await? == Some("pending".to_owned());
                    }
                }
                Ok(Sent {
                    email_id,
                    submission_id: submitted.created_id("send").map(str::to_owned),
                    held_until_ms: if held { hold_until_ms } else { None },
                })
            }
            .boxed_local()
        }

        fn max_hold_secs(&self) -> u64 {
            self.client
                .session()
                .accounts
                .get(&self.account)
                .and_then(|a| a.account_capabilities.get(capability::SUBMISSION))
                .and_then(|c| c.get("maxDelayedSend"))
                .and_then(Value::as_u64)
                .unwrap_or(0)
        }

        fn cancel_send<'a>(&'a self, submission_id: &'a str, email_id: &'a str, mailboxes: &'a SendMailboxes) -> BackendFuture<'a, ()> {
            async move {
                let mut req = self.request().using(capability::SUBMISSION);
                let call = req.call("EmailSubmission/set", json!({ "accountId": self.account, "update": { submission_id: { "undoStatus": "canceled" } } }));
                let mut response = self.client.send(&req).await?;
                let set = SetResponse::parse(response.take(&call)?)?;
                if let Some(e) = set.not_updated.get(submission_id) {
                    // Cyrus drops a submission once it has left: notFound means the same as cannotUnsend.
                    return Err(match e.kind.as_str() {
                        "cannotUnsend" | "notFound" => MailError::AlreadySent,
                        _ => MailError::Refused { what: "undo the send".into(), reason: set_error_advice(e) },
                    });
                }
                // Back to Drafts, so nothing the user wrote is lost.
                let back = filed_as(mailboxes, Filed::Draft);
                let mut req = self.request();
                let call = req.call("Email/set", json!({ "accountId": self.account, "update": { email_id: back } }));
                let mut response = self.client.send(&req).await?;
                let set = SetResponse::parse(response.take(&call)?)?;
                match set.not_updated.get(email_id) {
                    Some(e) => Err(MailError::Refused { what: "put the unsent message back in Drafts".into(), reason: set_error_advice(e) }),
                    None => Ok(()),
                }
            }
            .boxed_local()
        }

        fn find_by_message_id<'a>(&'a self, message_id: &'a str) -> BackendFuture<'a, Option<Found>> {
            async move {
                let mut req = self.request();
                let header = format!("<{}>", message_id.trim_matches(|c| c == '<' || c == '>'));
                let q = req.call("Email/query", json!({ "accountId": self.account, "filter": { "header": ["Message-ID", header] }, "limit": 5 }));
                let get = req.call("Email/get", json!({ "accountId": self.account, "#ids": q.result("/ids"), "properties": ["id", "keywords"] }));
                // A header filter may run on a search index that lags behind (Stalwart indexes a
                // moment after the mail is stored): the newest mail of the account, which a mail
                // created moments ago is among, is compared by its Message-ID too.
                let newest = req.call("Email/query", json!({ "accountId": self.account, "sort": [{ "property": "receivedAt", "isAscending": false }], "limit": RECENT_FOR_LOOKUP }));
                let newest_get = req.call("Email/get", json!({ "accountId": self.account, "#ids": newest.result("/ids"), "properties": ["id", "keywords", "messageId"] }));
                let mut response = self.client.send(&req).await?;
                response.take(&q)?;
                let (mut found, _) = parse_summaries(response.take(&get)?)?;
                response.take(&newest)?;
                let (also, _) = parse_summaries(with_message_id(&response.take(&newest_get)?, message_id))?;
                for e in also {
                    if !found.iter().any(|f| f.id == e.id) {
                        found.push(e);
                    }
                }
                // A sent copy wins over a leftover draft of the same message.
                let Some(best) = found.iter().find(|e| !e.has_keyword(keyword::DRAFT)).or(found.first()) else { return Ok(None) };
                let still_draft = best.has_keyword(keyword::DRAFT);
                let mut held_submission = None;
                if !still_draft && self.max_hold_secs() > 0 {
                    let mut req = self.request().using(capability::SUBMISSION);
                    let q = req.call("EmailSubmission/query", json!({ "accountId": self.account, "filter": { "emailIds": [best.id], "undoStatus": "pending" } }));
                    let mut response = self.client.send(&req).await?;
                    let ids: Vec<String> = response.take(&q)?.get("ids").and_then(|v| serde_json::from_value(v.clone()).ok()).unwrap_or_default();
                    held_submission = ids.into_iter().next();
                }
                Ok(Some(Found { email_id: best.id.clone(), still_draft, held_submission }))
            }
            .boxed_local()
        }

        fn vacation(&self) -> BackendFuture<'_, Vacation> {
            async move {
                if !self.client.session().has_capability(capability::VACATION) {
                    return Err(MailError::Unsupported("vacation replies"));
                }
                let mut req = self.request().using(capability::VACATION);
                let call = req.call("VacationResponse/get", json!({ "accountId": self.account, "ids": ["singleton"] }));
                let mut response = self.client.send(&req).await?;
                let list: Vec<Vacation> = parse_list("VacationResponse/get", response.take(&call)?)?;
                Ok(list.into_iter().next().unwrap_or_default())
            }
            .boxed_local()
        }

        fn set_vacation<'a>(&'a self, vacation: &'a Vacation) -> BackendFuture<'a, ()> {
            async move {
                let mut req = self.request().using(capability::VACATION);
                let call = req.call("VacationResponse/set", json!({ "accountId": self.account, "update": { "singleton": vacation } }));
                let mut response = self.client.send(&req).await?;
                let set = SetResponse::parse(response.take(&call)?)?;
                match set.not_updated.values().next() {
                    Some(e) => Err(MailError::Refused { what: "change the vacation reply".into(), reason: set_error_advice(e) }),
                    None => Ok(()),
                }
            }
            .boxed_local()
        }
    }

}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sync_round_asks_for_all_changes_and_objects() {
        let mut request = Request::new();
        let list = crate::mail::backend::ListSince { query: MailQuery::mailbox("in"), query_state: "q1".into(), up_to_id: Some("M9".into()) };
        sync_request(&mut request, "acc", Some("m1"), Some("e1"), &[list], None, MAX_CHANGES);
        let methods: Vec<&str> = request.calls().iter().map(|c| c.0.as_str()).collect();
        assert_eq!(methods, ["Mailbox/changes", "Mailbox/get", "Mailbox/get", "Email/changes", "Email/get", "Email/get", "Email/queryChanges"]);
        let updated = &request.calls()[5].1;
        assert_eq!(updated["properties"], json!(MUTABLE_PROPERTIES), "updated messages fetch only what can change");
        assert_eq!(request.calls()[6].1["upToId"], "M9");
        assert!(request.is_read_only());
    }

    #[test]
    fn a_first_round_brings_folders_and_the_newest_mail_in_one_request() {
        let mut request = Request::new();
        sync_request(&mut request, "acc", None, None, &[], Some(50), MAX_CHANGES);
        let methods: Vec<&str> = request.calls().iter().map(|c| c.0.as_str()).collect();
        assert_eq!(methods, ["Mailbox/get", "Email/query", "Email/get"]);
        let query = &request.calls()[1].1;
        assert_eq!(query["filter"], json!({}), "every folder: the Inbox's id is not known yet");
        assert_eq!(query["collapseThreads"], false, "threads are collapsed per folder, locally");
        assert_eq!(query["sort"], json!([{ "property": "receivedAt", "isAscending": false }]));
        assert_eq!(query["limit"], 50);
        assert_eq!(request.calls()[2].1["#ids"]["resultOf"], request.calls()[1].2);
    }

    #[test]
    fn a_round_asks_for_as_many_changes_as_one_get_may_fetch() {
        assert_eq!(max_changes_for(4096), 4096, "Cyrus: 1,000 changes in one round");
        assert_eq!(max_changes_for(100_000), 4096, "bounded whatever the server allows");
        assert_eq!(max_changes_for(500), 500);
        assert_eq!(max_changes_for(50), 50, "never more than one Email/get may fetch");
        assert_eq!(max_changes_for(0), 1);
    }

    #[test]
    fn an_ids_window_asks_for_no_summaries_and_reads_as_one() {
        let mut request = Request::new();
        ids_request(&mut request, "acc", &MailQuery::mailbox("in"), &WindowAt::Position(50), 1000);
        let methods: Vec<&str> = request.calls().iter().map(|c| c.0.as_str()).collect();
        assert_eq!(methods, ["Email/query"]);
        assert_eq!(request.calls()[0].1["position"], 50);
        assert_eq!(request.calls()[0].1["limit"], 1000);
        let window = parse_ids(json!({ "queryState": "q", "canCalculateChanges": false, "position": 50, "total": 1234, "ids": ["a", "b"] }), 2).unwrap();
        assert_eq!((window.position, window.ids.clone(), window.total), (50, vec!["a".to_owned(), "b".to_owned()], Some(1234)));
        assert!(window.summaries.is_empty() && window.email_state.is_none());
        assert_eq!(window.query_state, None, "a list the server cannot diff has no version");
    }

    #[test]
    fn a_message_id_is_found_among_the_newest_mail() {
        let get = json!({ "list": [
            { "id": "a", "messageId": ["other@x"] },
            { "id": "b", "messageId": ["m1@petrel.test"], "keywords": { "$seen": true } },
            { "id": "c", "messageId": null },
        ] });
        let found = with_message_id(&get, "<m1@petrel.test>");
        assert_eq!(found["list"].as_array().map(|l| l.iter().map(|e| e["id"].clone()).collect::<Vec<_>>()), Some(vec![json!("b")]));
        assert_eq!(with_message_id(&json!({ "notFound": [] }), "m1@petrel.test")["list"], json!([]), "no list: nothing found, no error");
    }

    #[test]
    fn the_ids_win_over_a_total_that_counts_more() {
        // Stalwart with collapseThreads: total 10 (every message), 7 ids (one per thread).
        let short = parse_ids(json!({ "position": 0, "total": 10, "ids": ["1", "2", "3", "4", "5", "6", "7"] }), 50).unwrap();
        assert_eq!(short.total, Some(7), "fewer ids than asked: the list ends with them");
        let past_the_end = parse_ids(json!({ "position": 40, "total": 50, "ids": [] }), 50).unwrap();
        assert_eq!(past_the_end.total, Some(40), "no row comes at or after 40");
        let capped = parse_ids(json!({ "position": 0, "total": 9000, "limit": 256, "ids": vec!["x"; 256] }), 1000).unwrap();
        assert_eq!(capped.total, Some(9000), "the server's own maximum cut the window: the list goes on");
        let under = parse_ids(json!({ "position": 0, "total": 1, "ids": ["a", "b"] }), 2).unwrap();
        assert_eq!(under.total, Some(2), "a total below the ids it came with is raised to them");
    }

    #[test]
    fn cyrus_errors_for_unknown_states_mean_resync() {
        // Cyrus answers an unknown state with `invalidArguments` on `sinceState`.
        let e = JmapError::Method { method: "Email/changes".into(), kind: "invalidArguments".into(), description: None };
        assert!(e.means_resync());
        assert!(!JmapError::Unauthorized.means_resync());
    }

    #[test]
    fn actions_are_idempotent_patches() {
        let mut request = Request::new();
        let mv = Action::Move { ids: vec!["M1".into()], from: Some("in".into()), to: "a/b".into() };
        action_request(&mut request, "acc", &mv);
        assert_eq!(request.calls()[0].1["update"]["M1"], json!({ "mailboxIds/in": null, "mailboxIds/a~1b": true }));
        let refused = parse_action(&mv, json!({ "notUpdated": { "M1": { "type": "notFound" } } }));
        assert_eq!(
            refused,
            Err(MailError::Refused { what: "move 1 message".into(), reason: "it no longer exists on the server".into() })
        );
    }

    #[test]
    fn message_bodies_are_joined_from_body_values() {
        let m = parse_message("M1", json!({ "list": [{
            "id": "M1", "subject": "Hi",
            "textBody": [{ "partId": "1", "type": "text/plain" }],
            "htmlBody": [{ "partId": "2", "type": "text/html" }],
            "attachments": [{ "partId": "3", "blobId": "B3", "type": "image/png", "cid": "logo", "size": 10 }],
            "bodyValues": { "1": { "value": "plain" }, "2": { "value": "<p>html</p>", "isTruncated": true } }
        }]}))
        .unwrap();
        assert_eq!(m.text_body.as_deref(), Some("plain"));
        assert_eq!(m.html_body.as_deref(), Some("<p>html</p>"));
        assert!(m.body_truncated);
        assert_eq!(m.inline_parts().count(), 1);
        assert_eq!(parse_message("M2", json!({ "list": [] })), Err(MailError::NotFound("M2".into())));
    }

    #[test]
    fn a_malformed_entry_stays_listed_as_unreadable() {
        let (list, state) = parse_summaries(json!({ "state": "9", "list": [{ "id": "M1", "size": "big" }, { "id": "M2" }] })).unwrap();
        assert_eq!(state.as_deref(), Some("9"));
        assert_eq!(list[0], EmailSummary::unreadable("M1".into()));
        assert_eq!(list[1].id, "M2");
    }

    #[test]
    fn filing_as_sent_and_back_as_a_draft_are_mirror_patches() {
        let boxes = crate::mail::backend::SendMailboxes { drafts: "D".into(), sent: Some("S".into()) };
        assert_eq!(Value::Object(filed_as(&boxes, Filed::Sent)), json!({ "mailboxIds/D": null, "mailboxIds/S": true, "keywords/$draft": null }));
        assert_eq!(Value::Object(filed_as(&boxes, Filed::Draft)), json!({ "mailboxIds/D": true, "mailboxIds/S": null, "keywords/$draft": true }));
    }

    #[test]
    fn a_held_envelope_names_every_recipient_once_and_the_hold() {
        let who = |e: &str| Address { name: None, email: e.into() };
        let draft = Draft { to: vec![who("a@x.org"), who("B@x.org")], cc: vec![who("b@x.org")], bcc: vec![who("hidden@x.org")], ..Draft::default() };
        let env = envelope("me@x.org", &draft, Some(10));
        assert_eq!(env["mailFrom"], json!({ "email": "me@x.org", "parameters": { "HOLDFOR": "10" } }));
        assert_eq!(env["rcptTo"], json!([{ "email": "a@x.org" }, { "email": "B@x.org" }, { "email": "hidden@x.org" }]));
        assert!(envelope("me@x.org", &draft, None)["mailFrom"].get("parameters").is_none());
    }
}
