//! The mail engine's backend for a RustMailer account (IMAP semantics underneath): folders by
//! name, messages by folder and UID, lists by cursor pages of at most 100, no change log, so
//! sync compares a cheap fingerprint of the folders (and push bumps it), and sending is a
//! RustMailer task that is scheduled (undo, send later), run, and reported.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use futures_util::FutureExt;
use sha2::{Digest, Sha256};

use super::client::RustMailer;
use super::convert::{self, split_email_id};
use super::error::RustMailerError;
use super::proto as pb;
use crate::mail::backend::{
    ActionDone, BackendFuture, Delta, Found, ListDelta, MailBackend, SendMailboxes, Sent, SyncRequest, SyncResult,
    Window, WindowAt,
};
use crate::mail::{Action, Draft, EmailSummary, Filter, Identity, MailError, MailQuery, Message, Snippet, Vacation};

/// Rows per cursor page (RustMailer allows 1..=100).
pub const PAGE_SIZE: u64 = 50;
/// How far a list is walked to find the row an anchor names.
const ANCHOR_PAGES: usize = 20;
/// Envelopes kept to answer `summaries` and `message` without a search.
const ENVELOPE_CACHE: usize = 20_000;
/// How long RustMailer can hold a mail (`send_at`): it has no limit; a month is plenty for undo
/// and "send later".
const MAX_HOLD_SECS: u64 = 30 * 86_400;

#[derive(Default)]
struct State {
    folders: Vec<pb::MailBox>,
    envelopes: HashMap<String, pb::EmailEnvelope>,
    /// Per list: the token of page k+1 at index k (page 0 needs none).
    cursors: HashMap<String, Vec<Option<String>>>,
    /// Bumped by push events: changes the fingerprint when folders' counts do not.
    epoch: u64,
    /// SHA-256 of each attachment the first time it was fetched (hex), by email and attachment id.
    attachment_digests: HashMap<(String, String), String>,
}

/// A sending task as the user sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskStatus {
    pub id: u64,
    pub status: pb::TaskStatus,
    pub error: Option<String>,
    pub scheduled_at_ms: i64,
}

pub struct RustMailerBackend {
    client: RustMailer,
    account_id: u64,
    email: String,
    name: String,
    state: RefCell<State>,
}

fn invalid(what: &str) -> MailError {
    RustMailerError::Invalid(what.to_owned()).into()
}

fn uid_of(id: &str) -> Result<(u64, u32), MailError> {
    let (folder, uid) = split_email_id(id).ok_or_else(|| MailError::NotFound(id.to_owned()))?;
    Ok((folder, uid.parse().map_err(|_| MailError::NotFound(id.to_owned()))?))
}

fn email_address(a: &crate::mail::Address) -> pb::EmailAddress {
    pb::EmailAddress { name: a.name.clone().filter(|n| !n.trim().is_empty()), address: a.email.clone() }
}

fn raw_header(value: String) -> pb::HeaderValue {
    pb::HeaderValue { value: Some(pb::header_value::Value::Raw(pb::Raw { raw: value })) }
}

impl RustMailerBackend {
    /// A backend for one RustMailer account, checked by asking RustMailer for it.
    pub async fn connect(client: RustMailer, account_id: u64) -> Result<RustMailerBackend, MailError> {
        let account = client.get_account(pb::AccountId { account_id }).await?;
        Ok(RustMailerBackend {
            client,
            account_id,
            email: account.email.clone(),
            name: account.name.clone().unwrap_or_default(),
            state: RefCell::new(State::default()),
        })
    }

    pub fn client(&self) -> &RustMailer {
        &self.client
    }

    pub fn account_id(&self) -> u64 {
        self.account_id
    }

    pub fn email(&self) -> &str {
        &self.email
    }

    /// Something changed on the server that folder counts may not show (a push event).
    pub fn note_remote_change(&self) {
        self.state.borrow_mut().epoch += 1;
    }

    async fn refresh_folders(&self) -> Result<Vec<pb::MailBox>, MailError> {
        let list = self
            .client
            .list_mailboxes(pb::ListMailboxesRequest { account_id: self.account_id, remote: false })
            .await?
            .mailboxes;
        self.state.borrow_mut().folders = list.clone();
        Ok(list)
    }

    fn fingerprint(&self) -> String {
        let state = self.state.borrow();
        convert::fingerprint(&state.folders, state.epoch)
    }

    /// The IMAP name of a folder id, asking RustMailer again once if it is new to us.
    async fn folder_name(&self, id: &str) -> Result<String, MailError> {
        let find =
            |folders: &[pb::MailBox]| folders.iter().find(|m| m.mailbox_id.to_string() == id).map(|m| m.name.clone());
        if let Some(name) = find(&self.state.borrow().folders) {
            return Ok(name);
        }
        find(&self.refresh_folders().await?).ok_or_else(|| MailError::NotFound(format!("folder {id}")))
    }

    fn remember(&self, envelopes: &[pb::EmailEnvelope]) {
        let mut state = self.state.borrow_mut();
        if state.envelopes.len() + envelopes.len() > ENVELOPE_CACHE {
            state.envelopes.clear();
        }
        for e in envelopes {
            state.envelopes.insert(convert::email_id(e.mailbox_id, &e.id), e.clone());
        }
    }

    async fn fetch_page(&self, query: &MailQuery, page: usize) -> Result<pb::CursorDataPage, MailError> {
        let key = query.key();
        let token = if page == 0 {
            None
        } else {
            let state = self.state.borrow();
            match state.cursors.get(&key).and_then(|c| c.get(page - 1)) {
                Some(Some(t)) => Some(t.clone()),
                Some(None) => return Ok(pb::CursorDataPage::default()),
                None => return Err(invalid("a list page was asked for before the one in front of it")),
            }
        };
        let folder = match &query.filter.in_mailbox {
            Some(id) => Some(self.folder_name(id).await?),
            None => None,
        };
        let desc = !query.ascending;
        let result = match (convert::search(&query.filter), folder) {
            (None, Some(mailbox_name)) if query.threads => {
                let request = pb::ListThreadsRequest {
                    account_id: self.account_id,
                    mailbox_name,
                    next_page_token: token,
                    page_size: PAGE_SIZE,
                    desc,
                    remote: false,
                };
                self.client.list_threads(request, page as u64 + 1).await?
            }
            (None, Some(mailbox_name)) => {
                self.client
                    .list_messages(pb::ListMessagesRequest {
                        account_id: self.account_id,
                        mailbox_name,
                        next_page_token: token,
                        page_size: PAGE_SIZE,
                        remote: false,
                        desc,
                    })
                    .await?
            }
            (search, mailbox_name) => {
                let search = search.unwrap_or(pb::MessageSearch {
                    search_type: Some(pb::message_search::SearchType::Condition(pb::Condition {
                        condition: pb::Conditions::AllC as i32,
                        value: None,
                    })),
                });
                self.client
                    .message_search(pb::MessageSearchRequest {
                        account_id: self.account_id,
                        mailbox_name,
                        search: Some(search),
                        next_page_token: token,
                        page_size: PAGE_SIZE,
                        desc: Some(desc),
                    })
                    .await?
            }
        };
        self.remember(&result.items);
        let mut state = self.state.borrow_mut();
        let cursors = state.cursors.entry(key).or_default();
        if cursors.len() <= page {
            cursors.resize(page + 1, None);
        }
        cursors[page] = result.next_page_token.clone().filter(|t| !t.is_empty());
        Ok(result)
    }

    /// Where a message sits in a list, walking at most [`ANCHOR_PAGES`] pages.
    async fn position_of(&self, query: &MailQuery, id: &str) -> Result<Option<u64>, MailError> {
        for page in 0..ANCHOR_PAGES {
            let result = self.fetch_page(query, page).await?;
            if let Some(i) = result.items.iter().position(|e| convert::email_id(e.mailbox_id, &e.id) == id) {
                return Ok(Some(page as u64 * PAGE_SIZE + i as u64));
            }
            if result.next_page_token.is_none() {
                break;
            }
        }
        Ok(None)
    }

    async fn envelope(&self, id: &str) -> Result<pb::EmailEnvelope, MailError> {
        if let Some(e) = self.state.borrow().envelopes.get(id) {
            return Ok(e.clone());
        }
        self.lookup(&[id.to_owned()]).await?;
        self.state.borrow().envelopes.get(id).cloned().ok_or_else(|| MailError::NotFound(id.to_owned()))
    }

    /// Fetches envelopes by UID, folder by folder (an IMAP `UID` search).
    async fn lookup(&self, ids: &[String]) -> Result<(), MailError> {
        let mut by_folder: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for id in ids {
            let (folder, uid) = uid_of(id)?;
            by_folder.entry(folder).or_default().push(uid);
        }
        for (folder, uids) in by_folder {
            let mailbox_name = self.folder_name(&folder.to_string()).await?;
            for chunk in uids.chunks(100) {
                let value = chunk.iter().map(u32::to_string).collect::<Vec<_>>().join(",");
                let search = pb::MessageSearch {
                    search_type: Some(pb::message_search::SearchType::Condition(pb::Condition {
                        condition: pb::Conditions::Uid as i32,
                        value: Some(value),
                    })),
                };
                let page = self
                    .client
                    .message_search(pb::MessageSearchRequest {
                        account_id: self.account_id,
                        mailbox_name: Some(mailbox_name.clone()),
                        search: Some(search),
                        next_page_token: None,
                        page_size: 100,
                        desc: Some(true),
                    })
                    .await?;
                self.remember(&page.items);
            }
        }
        Ok(())
    }

    /// Groups message ids by the folder that holds them (IMAP acts per folder).
    async fn by_folder(&self, ids: &[String]) -> Result<Vec<(String, Vec<u32>)>, MailError> {
        let mut groups: BTreeMap<u64, Vec<u32>> = BTreeMap::new();
        for id in ids {
            let (folder, uid) = uid_of(id)?;
            groups.entry(folder).or_default().push(uid);
        }
        let mut named = vec![];
        for (folder, uids) in groups {
            named.push((self.folder_name(&folder.to_string()).await?, uids));
        }
        Ok(named)
    }

    /// An attachment's bytes, checked against the SHA-256 recorded when it was first fetched:
    /// a message does not change on an IMAP server, so different bytes mean something is wrong.
    pub async fn attachment(&self, email_id: &str, attachment_id: &str) -> Result<Vec<u8>, MailError> {
        let envelope = self.envelope(email_id).await?;
        let described = envelope.attachments.iter().find(|a| a.id == attachment_id).cloned();
        let data = self
            .client
            .fetch_message_attachment(pb::FetchMessageAttachmentRequest {
                account_id: self.account_id,
                id: envelope.id.clone(),
                mailbox_name: Some(envelope.mailbox_name.clone()),
                attachment: described,
                attachment_info: None,
                filename: None,
                attachment_id: Some(attachment_id.to_owned()),
            })
            .await?
            .data;
        let digest: String = Sha256::digest(&data).iter().map(|b| format!("{b:02x}")).collect();
        let key = (email_id.to_owned(), attachment_id.to_owned());
        let mut state = self.state.borrow_mut();
        match state.attachment_digests.get(&key) {
            Some(expected) if *expected != digest => {
                Err(RustMailerError::AttachmentChanged { expected: expected.clone(), actual: digest }.into())
            }
            Some(_) => Ok(data),
            None => {
                state.attachment_digests.insert(key, digest);
                Ok(data)
            }
        }
    }

    /// The state of a sending task (what became of a mail after RustMailer took it).
    pub async fn task(&self, task_id: u64) -> Result<TaskStatus, MailError> {
        let t = self.client.get_email_task(pb::GetTaskRequest { id: task_id }).await?;
        Ok(TaskStatus {
            id: t.id,
            status: pb::TaskStatus::try_from(t.status).unwrap_or(pb::TaskStatus::Failed),
            error: t.error,
            scheduled_at_ms: t.scheduled_at,
        })
    }

    /// The newest sending task for a Message-ID, looking through the most recent tasks.
    async fn task_for(&self, message_id: &str) -> Result<Option<pb::EmailTask>, MailError> {
        let wanted = message_id.trim().trim_matches(['<', '>']);
        for page in 1..=5u64 {
            let tasks = self
                .client
                .list_email_tasks(pb::ListTasksRequest {
                    page: Some(page),
                    page_size: Some(100),
                    desc: Some(true),
                    status: None,
                })
                .await?;
            if let Some(t) = tasks
                .items
                .iter()
                .find(|t| t.account_id == self.account_id && t.message_id.trim().trim_matches(['<', '>']) == wanted)
            {
                return Ok(Some(t.clone()));
            }
            if tasks.total_pages.is_none_or(|p| page >= p) {
                break;
            }
        }
        Ok(None)
    }
}

impl MailBackend for RustMailerBackend {
    /// Labels need flags of the user's naming; the folders listed say whether the server keeps them.
    fn offers_labels(&self) -> bool {
        convert::allows_custom_flags(&self.state.borrow().folders)
    }

    fn sync(&self, request: SyncRequest) -> BackendFuture<'_, SyncResult> {
        async move {
            let list = self.refresh_folders().await?;
            let now = self.fingerprint();
            let mailboxes = if request.mailbox_state.as_deref() == Some(now.as_str()) {
                Delta::Changes { changed: vec![], destroyed: vec![], new_state: now.clone() }
            } else {
                Delta::Reset { all: convert::mailboxes(&list), new_state: Some(now.clone()) }
            };
            let emails = request.email_state.as_ref().map(|known| {
                if *known == now {
                    Delta::Changes { changed: vec![], destroyed: vec![], new_state: now.clone() }
                } else {
                    // No change log: the engine refetches what it shows.
                    Delta::Reset { all: vec![], new_state: Some(now.clone()) }
                }
            });
            let lists = request
                .lists
                .iter()
                .map(|l| {
                    if l.query_state == now {
                        ListDelta::Changes { removed: vec![], added: vec![], total: None, new_state: now.clone() }
                    } else {
                        ListDelta::Reset
                    }
                })
                .collect();
            if emails.as_ref().is_some_and(|e| matches!(e, Delta::Reset { .. })) {
                self.state.borrow_mut().cursors.clear();
            }
            Ok(SyncResult { mailboxes, emails, lists, newest: None })
        }
        .boxed_local()
    }

    fn window<'a>(&'a self, query: &'a MailQuery, at: WindowAt, limit: u32) -> BackendFuture<'a, Window> {
        async move {
            if self.state.borrow().folders.is_empty() {
                self.refresh_folders().await?;
            }
            // A new walk from the top: cursors of an older version of the list may skip or repeat rows.
            self.state.borrow_mut().cursors.remove(&query.key());
            let start = match at {
                WindowAt::Position(p) => p,
                WindowAt::Anchor { id, offset } => match self.position_of(query, &id).await? {
                    Some(p) => (p as i64 + offset).max(0) as u64,
                    None => 0,
                },
            };
            let limit = u64::from(limit.max(1));
            let first_page = (start / PAGE_SIZE) as usize;
            let last_page = ((start + limit - 1) / PAGE_SIZE) as usize;
            let mut rows: Vec<pb::EmailEnvelope> = vec![];
            let mut total = None;
            // No offsets in RustMailer's API: the walk goes through every page before the window.
            for page in 0..=last_page {
                let result = self.fetch_page(query, page).await?;
                total = Some(result.total_items);
                let more = result.next_page_token.is_some();
                if page >= first_page {
                    rows.extend(result.items);
                }
                if !more {
                    break;
                }
            }
            let skip = (start - first_page as u64 * PAGE_SIZE) as usize;
            let rows: Vec<pb::EmailEnvelope> = rows.into_iter().skip(skip).take(limit as usize).collect();
            let now = self.fingerprint();
            Ok(Window {
                position: start,
                ids: rows.iter().map(|e| convert::email_id(e.mailbox_id, &e.id)).collect(),
                total,
                query_state: Some(now.clone()),
                summaries: rows.iter().map(convert::summary).collect(),
                email_state: Some(now),
            })
        }
        .boxed_local()
    }

    fn summaries(&self, ids: Vec<String>) -> BackendFuture<'_, Vec<EmailSummary>> {
        async move {
            let missing: Vec<String> =
                ids.iter().filter(|id| !self.state.borrow().envelopes.contains_key(*id)).cloned().collect();
            if !missing.is_empty() {
                self.lookup(&missing).await?;
            }
            let state = self.state.borrow();
            Ok(ids.iter().filter_map(|id| state.envelopes.get(id)).map(convert::summary).collect())
        }
        .boxed_local()
    }

    fn message<'a>(&'a self, id: &'a str, max_body_bytes: u64) -> BackendFuture<'a, Message> {
        async move {
            let envelope = self.envelope(id).await?;
            // IMAP accounts: RustMailer fetches exactly the sections named, from the named folder.
            let content = self
                .client
                .fetch_message_content(pb::FetchMessageContentRequest {
                    account_id: self.account_id,
                    mailbox_name: Some(envelope.mailbox_name.clone()),
                    id: envelope.id.clone(),
                    max_length: Some(max_body_bytes),
                    sections: envelope.body_meta.clone(),
                    inline: envelope.attachments.iter().filter(|a| a.inline).cloned().collect(),
                })
                .await?;
            Ok(convert::message(&envelope, content))
        }
        .boxed_local()
    }

    fn thread<'a>(&'a self, thread_id: &'a str) -> BackendFuture<'a, Vec<EmailSummary>> {
        async move {
            let mut items = self.client.get_thread_messages(self.account_id, thread_id).await?.items;
            items.sort_by_key(|e| e.internal_date.or(e.date).unwrap_or(0));
            self.remember(&items);
            Ok(items.iter().map(convert::summary).collect())
        }
        .boxed_local()
    }

    fn perform<'a>(&'a self, action: &'a Action) -> BackendFuture<'a, ActionDone> {
        async move {
            let account_id = self.account_id;
            let refused = |e: MailError| match e {
                e @ (MailError::Server { .. } | MailError::Unauthorized(_) | MailError::Unreadable(_))
                    if !e.is_transient() =>
                {
                    MailError::Refused { what: action.describe(), reason: e.to_string() }
                }
                other => other,
            };
            let result: Result<ActionDone, MailError> = async {
                match action {
                    Action::SetKeyword { ids, keyword, on } => {
                        for (mailbox_name, uids) in self.by_folder(ids).await? {
                            let flag = convert::flag_for(keyword);
                            let change = if *on {
                                pb::FlagAction { add: vec![flag], ..Default::default() }
                            } else {
                                pb::FlagAction { remove: vec![flag], ..Default::default() }
                            };
                            self.client
                                .update_message_flags(pb::FlagMessageRequest {
                                    account_id,
                                    uids,
                                    mailbox_name,
                                    action: Some(change),
                                })
                                .await?;
                        }
                    }
                    Action::Move { ids, to, .. } | Action::Copy { ids, to } => {
                        let target_mailbox = self.folder_name(to).await?;
                        for (from, uids) in self.by_folder(ids).await? {
                            let request = pb::MailboxTransferRequest {
                                account_id,
                                ids: uids.iter().map(u32::to_string).collect(),
                                current_mailbox: Some(from),
                                target_mailbox: target_mailbox.clone(),
                            };
                            if matches!(action, Action::Move { .. }) {
                                self.client.move_messages(request).await?;
                            } else {
                                self.client.copy_messages(request).await?;
                            }
                        }
                    }
                    Action::Destroy { ids } => {
                        for (mailbox_name, uids) in self.by_folder(ids).await? {
                            let ids = uids.iter().map(u32::to_string).collect();
                            self.client
                                .delete_messages(pb::MessageDeleteRequest {
                                    account_id,
                                    ids,
                                    mailbox_name: Some(mailbox_name),
                                })
                                .await?;
                        }
                    }
                    Action::CreateMailbox { name, parent_id, .. } => {
                        let parent_name = match parent_id {
                            Some(p) => Some(self.folder_name(p).await?),
                            None => None,
                        };
                        let delimiter = self
                            .state
                            .borrow()
                            .folders
                            .iter()
                            .find_map(|f| f.delimiter.clone())
                            .unwrap_or_else(|| "/".into());
                        let full = match &parent_name {
                            Some(p) => format!("{p}{delimiter}{name}"),
                            None => name.clone(),
                        };
                        self.client
                            .create_mailbox(pb::CreateMailboxRequest {
                                account_id,
                                mailbox_name: name.clone(),
                                parent_name,
                                label_color: None,
                            })
                            .await?;
                        let created = self
                            .refresh_folders()
                            .await?
                            .iter()
                            .find(|f| f.name == full)
                            .map(|f| f.mailbox_id.to_string());
                        return Ok(ActionDone { created_mailbox_id: created });
                    }
                    Action::RenameMailbox { id, name } => {
                        let current_name = self.folder_name(id).await?;
                        let folder = self.state.borrow().folders.iter().find(|f| f.name == current_name).cloned();
                        let delimiter = folder.and_then(|f| f.delimiter).filter(|d| !d.is_empty());
                        // Only the last part of the path is renamed; the folder keeps its parent.
                        let new_name = match delimiter
                            .as_deref()
                            .and_then(|d| current_name.rsplit_once(d).map(|(p, _)| format!("{p}{d}{name}")))
                        {
                            Some(full) => full,
                            None => name.clone(),
                        };
                        self.client
                            .update_mailbox(pb::MailboxUpdateRequest {
                                account_id,
                                current_name,
                                new_name: Some(new_name),
                                label_color: None,
                            })
                            .await?;
                        self.refresh_folders().await?;
                    }
                    Action::DestroyMailbox { id } => {
                        let mailbox_name = self.folder_name(id).await?;
                        self.client.remove_mailbox(pb::DeleteMailboxRequest { account_id, mailbox_name }).await?;
                        self.refresh_folders().await?;
                    }
                }
                Ok(ActionDone::default())
            }
            .await;
            result.map_err(refused)
        }
        .boxed_local()
    }

    fn snippets<'a>(&'a self, _filter: &'a Filter, _ids: &'a [String]) -> BackendFuture<'a, Vec<Snippet>> {
        // RustMailer's search returns envelopes only: there is nothing to highlight.
        async move { Ok(vec![]) }.boxed_local()
    }

    fn identities(&self) -> BackendFuture<'_, Vec<Identity>> {
        async move {
            Ok(vec![Identity {
                id: format!("rustmailer-{}", self.account_id),
                name: self.name.clone(),
                email: self.email.clone(),
                ..Default::default()
            }])
        }
        .boxed_local()
    }

    fn save_draft<'a>(
        &'a self,
        _draft: &'a Draft,
        _drafts_mailbox: &'a str,
        _replaces: Option<&'a str>,
    ) -> BackendFuture<'a, String> {
        // SaveDraft exists only in RustMailer revisions newer than those deployed in early 2026.
        async move { Err(MailError::Unsupported("saving drafts (RustMailer)")) }.boxed_local()
    }

    fn send<'a>(
        &'a self,
        draft: &'a Draft,
        mailboxes: &'a SendMailboxes,
        _replaces: Option<&'a str>,
        hold_until_ms: Option<f64>,
    ) -> BackendFuture<'a, Sent> {
        async move {
            if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
                return Err(invalid("the message has no recipient"));
            }
            if !draft.attachments.is_empty() {
                // Attachments live as JMAP blobs today; RustMailer wants their bytes inline.
                return Err(MailError::Unsupported("attachments from uploaded files (RustMailer takes them inline)"));
            }
            let message_id = draft.message_id.clone().ok_or_else(|| invalid("the message has no Message-ID"))?;
            let mut headers = HashMap::new();
            headers.insert("Message-ID".to_owned(), raw_header(format!("<{message_id}>")));
            if !draft.in_reply_to.is_empty() {
                headers.insert(
                    "In-Reply-To".to_owned(),
                    raw_header(draft.in_reply_to.iter().map(|m| format!("<{m}>")).collect::<Vec<_>>().join(" ")),
                );
            }
            if !draft.references.is_empty() {
                headers.insert(
                    "References".to_owned(),
                    raw_header(draft.references.iter().map(|m| format!("<{m}>")).collect::<Vec<_>>().join(" ")),
                );
            }
            if draft.request_receipt {
                let to = draft.from.first().map(|a| a.email.clone()).unwrap_or_else(|| self.email.clone());
                headers.insert("Disposition-Notification-To".to_owned(), raw_header(format!("<{to}>")));
            }
            let send_at = hold_until_ms.map(|ms| ms as i64);
            let sent_folder = match &mailboxes.sent {
                Some(id) => self.folder_name(id).await.ok(),
                None => None,
            };
            let from = draft.from.first().map(email_address).unwrap_or(pb::EmailAddress {
                name: Some(self.name.clone()).filter(|n| !n.is_empty()),
                address: self.email.clone(),
            });
            let request = pb::SendEmailRequest {
                from: Some(from),
                recipients: vec![pb::Recipient {
                    to: draft.to.iter().map(email_address).collect(),
                    cc: draft.cc.iter().map(email_address).collect(),
                    bcc: draft.bcc.iter().map(email_address).collect(),
                    reply_to: vec![],
                    template_params: None,
                    send_at,
                }],
                subject: Some(draft.subject.clone()),
                text: Some(draft.text_body.clone()),
                html: draft.html_body.clone(),
                preview: None,
                eml: None,
                template_id: None,
                attachments: vec![],
                headers,
                send_control: Some(pb::SendControl {
                    save_to_sent: Some(true),
                    sent_folder,
                    send_at,
                    ..Default::default()
                }),
            };
            let refused = |e: RustMailerError| match e {
                RustMailerError::Invalid(reason)
                | RustMailerError::Forbidden(reason)
                | RustMailerError::TooLarge(reason) => MailError::Refused { what: "send the message".into(), reason },
                other => other.into(),
            };
            self.client
                .send_new_mail(pb::SendNewMailRequest { account_id: self.account_id, request: Some(request) })
                .await
                .map_err(refused)?;
            // SendNewMail answers Empty: the task it queued is found by the Message-ID.
            let task = self.task_for(&message_id).await.unwrap_or(None);
            Ok(Sent {
                email_id: message_id.clone(),
                submission_id: task.map(|t| t.id.to_string()),
                held_until_ms: hold_until_ms,
            })
        }
        .boxed_local()
    }

    fn max_hold_secs(&self) -> u64 {
        MAX_HOLD_SECS
    }

    fn cancel_send<'a>(
        &'a self,
        submission_id: &'a str,
        _email_id: &'a str,
        _mailboxes: &'a SendMailboxes,
    ) -> BackendFuture<'a, ()> {
        async move {
            let id: u64 = submission_id.parse().map_err(|_| MailError::NotFound(format!("task {submission_id}")))?;
            let task = self.client.get_email_task(pb::GetTaskRequest { id }).await?;
            match pb::TaskStatus::try_from(task.status) {
                Ok(pb::TaskStatus::Removed) => return Ok(()),
                Ok(pb::TaskStatus::Running | pb::TaskStatus::Success) => return Err(MailError::AlreadySent),
                _ => {}
            }
            match self.client.remove_email_task(pb::RemoveTaskRequest { id }).await {
                Ok(_) => Ok(()),
                // It started between the two calls.
                Err(RustMailerError::Invalid(_)) => Err(MailError::AlreadySent),
                Err(e) => Err(e.into()),
            }
        }
        .boxed_local()
    }

    fn find_by_message_id<'a>(&'a self, message_id: &'a str) -> BackendFuture<'a, Option<Found>> {
        async move {
            let Some(task) = self.task_for(message_id).await? else { return Ok(None) };
            let status = pb::TaskStatus::try_from(task.status).unwrap_or(pb::TaskStatus::Failed);
            Ok(Some(Found {
                email_id: task.message_id.clone(),
                // A task that will not send (removed, stopped, failed for good) counts as not sent.
                still_draft: matches!(
                    status,
                    pb::TaskStatus::Removed | pb::TaskStatus::Stopped | pb::TaskStatus::Failed
                ),
                held_submission: (status == pb::TaskStatus::Scheduled).then(|| task.id.to_string()),
            }))
        }
        .boxed_local()
    }

    fn vacation(&self) -> BackendFuture<'_, Vacation> {
        async move { Err(MailError::Unsupported("vacation responses (RustMailer)")) }.boxed_local()
    }

    fn set_vacation<'a>(&'a self, _vacation: &'a Vacation) -> BackendFuture<'a, ()> {
        async move { Err(MailError::Unsupported("vacation responses (RustMailer)")) }.boxed_local()
    }
}
