//! Delta sync: one request brings the mailbox, message and open-list changes since the known
//! states, with the changed objects fetched in the same round trip by result references.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::{json, Value};

use super::mailbox;
use crate::jmap::{Call, JmapError, Request, Response};
use crate::mail::backend::{Delta, EmailChange, ListDelta, Window, WindowAt};
use crate::mail::model::null_as_default;
use crate::mail::query::{Filter, MailQuery, SortBy};
use crate::mail::Mailbox;

use super::*;

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
            let changes = request.call(
                "Mailbox/changes",
                json!({ "accountId": account, "sinceState": state, "maxChanges": max_changes }),
            );
            let created = request.call(
                "Mailbox/get",
                json!({ "accountId": account, "#ids": changes.result("/created"), "properties": mailbox::PROPERTIES }),
            );
            let updated = request.call(
                "Mailbox/get",
                json!({ "accountId": account, "#ids": changes.result("/updated"), "properties": mailbox::PROPERTIES }),
            );
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
        let all_mail =
            MailQuery { filter: Filter::default(), sort: SortBy::ReceivedAt, ascending: false, threads: false };
        let (query, get) = window_request(request, account, &all_mail, &WindowAt::Position(0), limit);
        (query, get, limit)
    });
    SyncCalls { mailbox, mailbox_all, email, lists, newest }
}

/// `Email/changes` since `state`, with the summaries of new messages and the keywords and
/// mailboxes of changed ones, tied by result references.
pub fn email_changes_request(
    request: &mut Request,
    account: &str,
    state: &str,
    max_changes: u64,
) -> (Call, Call, Call) {
    let changes =
        request.call("Email/changes", json!({ "accountId": account, "sinceState": state, "maxChanges": max_changes }));
    let created = request.call(
        "Email/get",
        json!({ "accountId": account, "#ids": changes.result("/created"), "properties": SUMMARY_PROPERTIES }),
    );
    let updated = request.call(
        "Email/get",
        json!({ "accountId": account, "#ids": changes.result("/updated"), "properties": MUTABLE_PROPERTIES }),
    );
    (changes, created, updated)
}

/// Reads what [`email_changes_request`] asked for: the delta (a reset when the server cannot
/// calculate it) and whether the server has more changes.
pub fn parse_email_changes(
    response: &mut Response,
    (changes, created, updated): &(Call, Call, Call),
) -> Result<(Delta<EmailChange>, bool), JmapError> {
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
    let mut round = SyncRound {
        mailboxes: None,
        emails: None,
        lists: Vec::new(),
        newest: None,
        more_mailboxes: false,
        more_emails: false,
    };
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
    Ok(list
        .list
        .into_iter()
        .map(|m| EmailChange::Updated { id: m.id, keywords: m.keywords, mailbox_ids: m.mailbox_ids })
        .collect())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_sync_round_asks_for_all_changes_and_objects() {
        let mut request = Request::new();
        let list = crate::mail::backend::ListSince {
            query: MailQuery::mailbox("in"),
            query_state: "q1".into(),
            up_to_id: Some("M9".into()),
        };
        sync_request(&mut request, "acc", Some("m1"), Some("e1"), &[list], None, MAX_CHANGES);
        let methods: Vec<&str> = request.calls().iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            methods,
            [
                "Mailbox/changes",
                "Mailbox/get",
                "Mailbox/get",
                "Email/changes",
                "Email/get",
                "Email/get",
                "Email/queryChanges"
            ]
        );
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
    fn cyrus_errors_for_unknown_states_mean_resync() {
        // Cyrus answers an unknown state with `invalidArguments` on `sinceState`.
        let e =
            JmapError::Method { method: "Email/changes".into(), kind: "invalidArguments".into(), description: None };
        assert!(e.means_resync());
        assert!(!JmapError::Unauthorized.means_resync());
    }
}
