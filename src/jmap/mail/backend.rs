//! One JMAP account as the mail engine's backend (wasm only): each of its calls builds a request
//! with the sibling modules, sends it through the [`JmapClient`] and reads the answer.

use futures_util::FutureExt;
use serde_json::{json, Value};

use super::mailbox;
use super::*;
use crate::jmap::client::JmapClient;
use crate::jmap::set::SetResponse;
use crate::jmap::{capability, JmapError, MethodErrorKind, Request};
use crate::mail::action::Action;
use crate::mail::backend::{
    ActionDone, BackendFuture, Delta, EmailChange, Found, MailBackend, SendMailboxes, Sent, SyncRequest, SyncResult,
    Window, WindowAt,
};
use crate::mail::model::{keyword, Address, Draft, EmailSummary, Identity, Message, Snippet, Vacation};
use crate::mail::query::{Filter, MailQuery};
use crate::mail::quota::Quota;
use crate::mail::receipts::ReportMail;
use crate::mail::MailError;
use crate::mail::Mailbox;

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
        let changes = req.call(
            "Email/changes",
            json!({ "accountId": self.account, "sinceState": state, "maxChanges": self.max_changes() }),
        );
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
        parse_summaries(response.take(&call)?)?
            .1
            .ok_or_else(|| MailError::from(JmapError::Protocol("Email/get gave no state".into())))
    }

    /// A submission's `undoStatus` as the server reports it (`None`: it knows no such submission).
    async fn undo_status(&self, submission_id: &str) -> Result<Option<String>, MailError> {
        let mut req = self.request().using(capability::SUBMISSION);
        let call = req.call(
            "EmailSubmission/get",
            json!({ "accountId": self.account, "ids": [submission_id], "properties": ["undoStatus"] }),
        );
        let mut response = self.client.send(&req).await?;
        let got = response.take(&call)?;
        Ok(got["list"].as_array().and_then(|l| l.first()).and_then(|s| s["undoStatus"].as_str()).map(str::to_owned))
    }

    fn max_changes(&self) -> u64 {
        max_changes_for(self.client.session().core.max_objects_in_get)
    }

    async fn sync_rounds(&self, request: SyncRequest) -> Result<SyncResult, MailError> {
        let mut req = self.request();
        let calls = sync_request(
            &mut req,
            &self.account,
            request.mailbox_state.as_deref(),
            request.email_state.as_deref(),
            &request.lists,
            request.newest,
            self.max_changes(),
        );
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
            let get = req
                .call("Email/get", json!({ "accountId": self.account, "ids": ids, "properties": SUMMARY_PROPERTIES }));
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
            let call = req.call(
                "SearchSnippet/get",
                json!({ "accountId": self.account, "filter": filter_json(filter), "emailIds": ids }),
            );
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

    fn save_draft<'a>(
        &'a self,
        draft: &'a Draft,
        drafts_mailbox: &'a str,
        replaces: Option<&'a str>,
    ) -> BackendFuture<'a, String> {
        async move {
            let mut req = self.request();
            let mut args =
                json!({ "accountId": self.account, "create": { "draft": draft_object(draft, drafts_mailbox, true) } });
            if let Some(old) = replaces {
                args["destroy"] = json!([old]);
            }
            let call = req.call("Email/set", args);
            let mut response = self.client.send(&req).await?;
            let set = SetResponse::parse(response.take(&call)?)?;
            if let Some(e) = set.not_created.get("draft") {
                return Err(MailError::Refused { what: "save the draft".into(), reason: set_error_advice(e) });
            }
            set.created_id("draft")
                .map(str::to_owned)
                .ok_or_else(|| MailError::from(JmapError::Protocol("Email/set created no draft".into())))
        }
        .boxed_local()
    }

    fn send<'a>(
        &'a self,
        draft: &'a Draft,
        mailboxes: &'a SendMailboxes,
        replaces: Option<&'a str>,
        hold_until_ms: Option<f64>,
    ) -> BackendFuture<'a, Sent> {
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
            let email_id = created.created_id("mail").map(str::to_owned).ok_or_else(|| MailError::from(JmapError::Protocol("Email/set created no message".into())))?;
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

    fn cancel_send<'a>(
        &'a self,
        submission_id: &'a str,
        email_id: &'a str,
        mailboxes: &'a SendMailboxes,
    ) -> BackendFuture<'a, ()> {
        async move {
            let mut req = self.request().using(capability::SUBMISSION);
            let call = req.call(
                "EmailSubmission/set",
                json!({ "accountId": self.account, "update": { submission_id: { "undoStatus": "canceled" } } }),
            );
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
                Some(e) => Err(MailError::Refused {
                    what: "put the unsent message back in Drafts".into(),
                    reason: set_error_advice(e),
                }),
                None => Ok(()),
            }
        }
        .boxed_local()
    }

    fn find_by_message_id<'a>(&'a self, message_id: &'a str) -> BackendFuture<'a, Option<Found>> {
        async move {
            let mut req = self.request();
            let header = format!("<{}>", crate::mail::model::bare_message_id(message_id));
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
            let call = req.call(
                "VacationResponse/set",
                json!({ "accountId": self.account, "update": { "singleton": vacation } }),
            );
            let mut response = self.client.send(&req).await?;
            let set = SetResponse::parse(response.take(&call)?)?;
            match set.not_updated.values().next() {
                Some(e) => {
                    Err(MailError::Refused { what: "change the vacation reply".into(), reason: set_error_advice(e) })
                }
                None => Ok(()),
            }
        }
        .boxed_local()
    }

    fn offers_receipts(&self) -> bool {
        self.client.session().has_capability(capability::MDN)
    }

    fn send_receipt<'a>(&'a self, message: &'a Message) -> BackendFuture<'a, ()> {
        async move {
            if !self.offers_receipts() {
                return Err(MailError::Unsupported("read receipts"));
            }
            // The receipt comes from the identity the mail was addressed to, else the first.
            let identities = self.identities().await.unwrap_or_default();
            let to_me = |i: &&Identity| {
                message.summary.to.iter().chain(&message.cc).any(|a| a.email.eq_ignore_ascii_case(&i.email))
            };
            let identity = identities.iter().find(to_me).or(identities.first()).map(|i| i.id.as_str());
            let request = |identity: Option<&str>| {
                let mut req = self.request().using(capability::MDN);
                let call = super::mdn::send_request(
                    &mut req,
                    &self.account,
                    identity,
                    &message.summary.id,
                    &message.summary.subject,
                );
                (req, call)
            };
            let (req, call) = request(identity);
            let mut response = self.client.send(&req).await?;
            match response.take(&call) {
                // Cyrus 3.6 refuses the RFC's arguments: its own form then (see `mdn`).
                Err(JmapError::Method { kind: MethodErrorKind::InvalidArguments, .. }) if identity.is_some() => {
                    let (req, call) = request(None);
                    let mut response = self.client.send(&req).await?;
                    super::mdn::parse_sent(response.take(&call)?)
                }
                answer => super::mdn::parse_sent(answer?),
            }
        }
        .boxed_local()
    }

    fn receipt_reports<'a>(&'a self, after: &'a str) -> BackendFuture<'a, Vec<ReportMail>> {
        async move {
            let mut req = self.request();
            let calls = super::mdn::reports_request(&mut req, &self.account, after);
            let mut response = self.client.send(&req).await?;
            let mut reports: Vec<ReportMail> = Vec::new();
            for (n, (query, get)) in calls.into_iter().enumerate() {
                // A server that refuses the header filter still has the plain search's answer.
                if let Err(e) = response.take(&query) {
                    if n == 0 && matches!(e, JmapError::Method { .. }) {
                        continue;
                    }
                    return Err(e.into());
                }
                for report in super::mdn::parse_reports(response.take(&get)?)? {
                    if !reports.iter().any(|r| r.email_id == report.email_id) {
                        reports.push(report);
                    }
                }
            }
            Ok(reports)
        }
        .boxed_local()
    }

    fn snoozes(&self) -> bool {
        self.client.session().has_capability(capability::CYRUS_MAIL)
    }

    fn snooze<'a>(&'a self, ids: &'a [String], until: &'a str) -> BackendFuture<'a, ()> {
        async move {
            if !self.snoozes() {
                return Err(MailError::Unsupported("snooze"));
            }
            // Cyrus snoozes into the mailbox whose role is "snoozed" (made once, if missing) and
            // its calalarmd moves the mail back at the time.
            let mut req = self.request().using(capability::CYRUS_MAIL);
            let get = req.call("Mailbox/get", json!({ "accountId": self.account, "properties": ["role"] }));
            let boxes = self.client.send(&req).await?.take(&get)?;
            let role_id = |role: &str| {
                boxes["list"].as_array().and_then(|l| {
                    l.iter().find(|m| m["role"].as_str() == Some(role)).and_then(|m| m["id"].as_str().map(str::to_owned))
                })
            };
            let inbox = role_id("inbox").ok_or_else(|| MailError::NotFound("the Inbox".into()))?;
            let snoozed = match role_id("snoozed") {
                Some(id) => id,
                None => {
                    let mut req = self.request().using(capability::CYRUS_MAIL);
                    let create = req.call(
                        "Mailbox/set",
                        json!({ "accountId": self.account, "create": { "s": { "name": "Snoozed", "role": "snoozed" } } }),
                    );
                    let set = SetResponse::parse(self.client.send(&req).await?.take(&create)?)?;
                    set.created_id("s").map(str::to_owned).ok_or_else(|| MailError::Refused {
                        what: "make the Snoozed folder".into(),
                        reason: set.not_created.values().next().map(set_error_advice).unwrap_or_default(),
                    })?
                }
            };
            let update: serde_json::Map<String, Value> = ids
                .iter()
                .map(|id| {
                    let change = json!({ "mailboxIds": { &snoozed: true }, "snoozed": { "until": until, "moveToMailboxId": inbox } });
                    (id.clone(), change)
                })
                .collect();
            let mut req = self.request().using(capability::CYRUS_MAIL);
            let set = req.call("Email/set", json!({ "accountId": self.account, "update": update }));
            let set = SetResponse::parse(self.client.send(&req).await?.take(&set)?)?;
            match set.not_updated.values().next() {
                Some(e) => Err(MailError::Refused { what: "snooze the mail".into(), reason: set_error_advice(e) }),
                None => Ok(()),
            }
        }
        .boxed_local()
    }

    fn quota(&self) -> BackendFuture<'_, Option<Quota>> {
        async move {
            let session = self.client.session();
            let Some(using) =
                [capability::QUOTA, capability::CYRUS_QUOTA].into_iter().find(|c| session.has_capability(c))
            else {
                return Ok(None);
            };
            let mut req = self.request().using(using);
            let call = req.call("Quota/get", json!({ "accountId": self.account, "ids": null }));
            let mut response = self.client.send(&req).await?;
            Ok(crate::jmap::quota::parse_quota(response.take(&call)?)?)
        }
        .boxed_local()
    }
}
