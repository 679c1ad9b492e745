//! The RPCs, answered from the in-memory world the way RustMailer answers them (IMAP accounts).

use std::collections::BTreeSet;

use tonic::{Request, Response, Status};

use crate::mail::{Account, Mail, DELIMITER};
use crate::pb;
use crate::tasks;
use crate::world::{envelope, mailbox_info, not_found, now_ms, Shared, World};

type Answer<T> = Result<Response<T>, Status>;

pub const MAX_PAGE_SIZE: u64 = 100;

/// RustMailer rejects page sizes outside 1..=100 (ExceedsLimitation).
fn check_page_size(page_size: u64) -> Result<usize, Status> {
    if page_size == 0 || page_size > MAX_PAGE_SIZE {
        return Err(Status::invalid_argument(format!(
            "page_size must be between 1 and {MAX_PAGE_SIZE}, got {page_size}"
        )));
    }
    Ok(page_size as usize)
}

/// Cursor tokens are opaque to clients; here they carry the offset of the next page.
fn cursor_offset(token: Option<&str>) -> Result<usize, Status> {
    match token {
        None | Some("") => Ok(0),
        Some(t) => t
            .strip_prefix("cur-")
            .and_then(|n| n.parse().ok())
            .ok_or_else(|| Status::invalid_argument("invalid next_page_token")),
    }
}

fn cursor_page(all: Vec<pb::EmailEnvelope>, token: Option<&str>, page_size: u64) -> Result<pb::CursorDataPage, Status> {
    let size = check_page_size(page_size)?;
    let offset = cursor_offset(token)?;
    let total = all.len();
    let items: Vec<_> = all.into_iter().skip(offset).take(size).collect();
    let end = offset + items.len();
    Ok(pb::CursorDataPage {
        next_page_token: (end < total).then(|| format!("cur-{end}")),
        page_size: Some(size as u64),
        total_items: total as u64,
        items,
        total_pages: Some(total.div_ceil(size) as u64),
    })
}

pub fn page_bounds(page: Option<u64>, page_size: Option<u64>, total: usize) -> (usize, usize, u64) {
    let size = page_size.unwrap_or(20).clamp(1, MAX_PAGE_SIZE) as usize;
    let page = page.unwrap_or(1).max(1) as usize;
    let start = ((page - 1) * size).min(total);
    (start, (start + size).min(total), total.div_ceil(size) as u64)
}

fn uids(ids: &[String]) -> Result<Vec<u32>, Status> {
    ids.iter()
        .map(|id| id.parse::<u32>().map_err(|_| Status::invalid_argument(format!("'{id}' is not an IMAP UID"))))
        .collect()
}

fn account_message(a: &Account) -> pb::Account {
    pb::Account {
        id: a.id,
        imap: Some(pb::ImapConfig {
            host: "imap.example.org".into(),
            port: 993,
            encryption: pb::Encryption::Ssl as i32,
            auth: Some(pb::AuthConfig { auth_type: 0, password: None }),
            use_proxy: None,
        }),
        smtp: Some(pb::SmtpConfig {
            host: "smtp.example.org".into(),
            port: 465,
            encryption: pb::Encryption::Ssl as i32,
            auth: Some(pb::AuthConfig { auth_type: 0, password: None }),
            use_proxy: None,
        }),
        enabled: true,
        email: a.email.clone(),
        name: Some(a.name.clone()),
        minimal_sync: Some(false),
        capabilities: vec!["IMAP4rev1".into(), "IDLE".into(), "MOVE".into(), "UIDPLUS".into()],
        dsn_capable: Some(false),
        date_since: None,
        sync_folders: a.mailboxes.iter().map(|m| m.name.clone()).collect(),
        known_folders: a.mailboxes.iter().map(|m| m.name.clone()).collect(),
        full_sync_interval_min: Some(30),
        incremental_sync_interval_sec: 60,
        created_at: a.created_at,
        updated_at: a.created_at,
        mailer_type: pb::MailerType::ImapSmtp as i32,
        use_proxy: None,
        folder_limit: None,
    }
}

#[derive(Clone)]
pub struct Services(pub Shared);

#[tonic::async_trait]
impl pb::account_service_server::AccountService for Services {
    async fn get_account(&self, request: Request<pb::AccountId>) -> Answer<pb::Account> {
        let world = self.0.lock();
        Ok(Response::new(account_message(world.account(request.get_ref().account_id)?)))
    }

    async fn list_accounts(&self, request: Request<pb::PaginateRequest>) -> Answer<pb::PagedAccount> {
        let r = request.into_inner();
        let world = self.0.lock();
        let (start, end, pages) = page_bounds(r.page, r.page_size, world.accounts.len());
        Ok(Response::new(pb::PagedAccount {
            current_page: r.page,
            page_size: r.page_size,
            total_items: world.accounts.len() as u64,
            items: world.accounts[start..end].iter().map(account_message).collect(),
            total_pages: Some(pages),
        }))
    }

    async fn get_account_state(&self, request: Request<pb::AccountId>) -> Answer<pb::AccountRunningState> {
        let world = self.0.lock();
        let a = world.account(request.get_ref().account_id)?;
        let now = now_ms();
        Ok(Response::new(pb::AccountRunningState {
            account_id: a.id,
            last_full_sync_start: world.started_ms,
            last_full_sync_end: Some(world.started_ms + 1200),
            last_incremental_sync_start: now - 5000,
            last_incremental_sync_end: Some(now - 4800),
            errors: vec![],
            is_initial_sync_completed: true,
            initial_sync_folders: a.mailboxes.iter().map(|m| m.name.clone()).collect(),
            current_syncing_folder: None,
            current_batch_number: None,
            current_total_batches: None,
            initial_sync_start_time: Some(world.started_ms),
            initial_sync_end_time: Some(world.started_ms + 1200),
        }))
    }

    async fn list_minimal_accounts(&self, _request: Request<pb::Empty>) -> Answer<pb::ListMinimalAccountsResponse> {
        let world = self.0.lock();
        let accounts = world
            .accounts
            .iter()
            .map(|a| pb::MinimalAccount {
                id: a.id,
                email: a.email.clone(),
                mailer_type: pb::MailerType::ImapSmtp as i32,
            })
            .collect();
        Ok(Response::new(pb::ListMinimalAccountsResponse { accounts }))
    }
}

#[tonic::async_trait]
impl pb::auto_config_service_server::AutoConfigService for Services {
    async fn get_autoconfig(&self, request: Request<pb::AutoconfigRequest>) -> Answer<pb::MailServerConfig> {
        let email = request.into_inner().email_address;
        let Some((_, domain)) = email.rsplit_once('@').filter(|(l, d)| !l.is_empty() && d.contains('.')) else {
            return Err(Status::invalid_argument(format!("'{email}' is not an email address")));
        };
        let server = |host: &str, port| {
            Some(pb::ServerConfig { host: format!("{host}.{domain}"), port, encryption: pb::Encryption::Ssl as i32 })
        };
        Ok(Response::new(pb::MailServerConfig { imap: server("imap", 993), smtp: server("smtp", 465), oauth2: None }))
    }
}

#[tonic::async_trait]
impl pb::mailbox_service_server::MailboxService for Services {
    async fn list_mailboxes(&self, request: Request<pb::ListMailboxesRequest>) -> Answer<pb::ListMailboxesResponse> {
        let world = self.0.lock();
        let a = world.account(request.get_ref().account_id)?;
        Ok(Response::new(pb::ListMailboxesResponse {
            mailboxes: a.mailboxes.iter().map(|m| mailbox_info(a, m)).collect(),
        }))
    }

    async fn create_mailbox(&self, request: Request<pb::CreateMailboxRequest>) -> Answer<pb::Empty> {
        let r = request.into_inner();
        if r.mailbox_name.trim().is_empty() || r.mailbox_name.contains(DELIMITER) {
            return Err(Status::invalid_argument("mailbox_name must be a non-empty name without the delimiter '/'"));
        }
        let full = match &r.parent_name {
            Some(parent) => format!("{parent}{DELIMITER}{}", r.mailbox_name),
            None => r.mailbox_name.clone(),
        };
        let mut world = self.0.lock();
        let a = world.account_mut(r.account_id)?;
        if let Some(parent) = &r.parent_name {
            a.mailbox(parent).ok_or_else(|| not_found(format!("mailbox '{parent}'")))?;
        }
        if a.mailbox(&full).is_some() {
            return Err(Status::already_exists(format!("mailbox '{full}' already exists")));
        }
        a.add_mailbox(&full, None);
        let email = a.email.clone();
        drop(world);
        tasks::webhook("MAILBOX_CREATION", r.account_id, &email, serde_json::json!({"mailbox_name": full}));
        Ok(Response::new(pb::Empty {}))
    }

    async fn remove_mailbox(&self, request: Request<pb::DeleteMailboxRequest>) -> Answer<pb::Empty> {
        let r = request.into_inner();
        let mut world = self.0.lock();
        let a = world.account_mut(r.account_id)?;
        let index = a
            .mailboxes
            .iter()
            .position(|m| m.name == r.mailbox_name)
            .ok_or_else(|| not_found(format!("mailbox '{}'", r.mailbox_name)))?;
        if a.mailboxes[index].name == "INBOX" {
            return Err(Status::invalid_argument("INBOX cannot be deleted"));
        }
        let prefix = format!("{}{DELIMITER}", r.mailbox_name);
        a.mailboxes.retain(|m| m.name != r.mailbox_name && !m.name.starts_with(&prefix));
        let email = a.email.clone();
        drop(world);
        tasks::webhook("MAILBOX_DELETION", r.account_id, &email, serde_json::json!({"mailbox_name": r.mailbox_name}));
        Ok(Response::new(pb::Empty {}))
    }

    async fn update_mailbox(&self, request: Request<pb::MailboxUpdateRequest>) -> Answer<pb::Empty> {
        let r = request.into_inner();
        let mut world = self.0.lock();
        let a = world.account_mut(r.account_id)?;
        let Some(new_name) = r.new_name.filter(|n| !n.trim().is_empty()) else {
            return Ok(Response::new(pb::Empty {}));
        };
        if a.mailbox(&new_name).is_some() {
            return Err(Status::already_exists(format!("mailbox '{new_name}' already exists")));
        }
        a.mailbox(&r.current_name).ok_or_else(|| not_found(format!("mailbox '{}'", r.current_name)))?;
        let old_prefix = format!("{}{DELIMITER}", r.current_name);
        for m in a.mailboxes.iter_mut() {
            if m.name == r.current_name {
                m.name = new_name.clone();
            } else if let Some(rest) = m.name.strip_prefix(&old_prefix) {
                m.name = format!("{new_name}{DELIMITER}{rest}");
            }
        }
        Ok(Response::new(pb::Empty {}))
    }
}

fn matches(mail: &Mail, search: &pb::MessageSearch) -> bool {
    use pb::message_search::SearchType;
    match &search.search_type {
        None => true,
        Some(SearchType::Logic(logic)) => {
            let mut children = logic.children.iter().map(|c| matches(mail, c));
            match pb::Operator::try_from(logic.operator).unwrap_or(pb::Operator::And) {
                pb::Operator::And => children.all(|x| x),
                pb::Operator::Or => children.any(|x| x),
                pb::Operator::Not => !children.any(|x| x),
            }
        }
        Some(SearchType::Condition(c)) => {
            let value = c.value.clone().unwrap_or_default().to_lowercase();
            let has = |s: &str| s.to_lowercase().contains(&value);
            let addresses =
                |list: &[(Option<String>, String)]| list.iter().any(|(n, a)| has(a) || n.as_deref().is_some_and(has));
            let seen = mail.flags.contains(&(pb::EmailFlag::Seen as i32));
            let flagged = mail.flags.contains(&(pb::EmailFlag::EmailFlagged as i32));
            let day_ms = |v: &str| v.parse::<i64>().ok();
            use pb::Conditions as C;
            match C::try_from(c.condition).unwrap_or(C::AllC) {
                C::AllC => true,
                C::From => addresses(std::slice::from_ref(&mail.from)),
                C::To => addresses(&mail.to),
                C::Cc => addresses(&mail.cc),
                C::Subject => has(&mail.subject),
                C::Body => has(&mail.text) || mail.html.as_deref().is_some_and(has),
                C::Text => {
                    has(&mail.subject)
                        || has(&mail.text)
                        || addresses(std::slice::from_ref(&mail.from))
                        || addresses(&mail.to)
                }
                C::SeenC => seen,
                C::Unseen | C::New => !seen,
                C::FlaggedC => flagged,
                C::Unflagged => !flagged,
                C::Uid => value.split(',').any(|u| u.trim() == mail.uid.to_string()),
                C::Since | C::SentSince => day_ms(&value).is_some_and(|d| mail.date_ms >= d),
                C::Before | C::SentBefore => day_ms(&value).is_some_and(|d| mail.date_ms < d),
                C::Header => value.split_once(':').is_some_and(|(name, v)| {
                    name.trim() == "message-id"
                        && mail.message_id.to_lowercase().contains(v.trim().trim_matches(['<', '>']))
                }),
                _ => false,
            }
        }
    }
}

/// Newest first across the given folders of an account.
/// The newest message of each thread in a folder, threads in the order of their newest message.
pub fn thread_heads(a: &Account, mailbox_name: &str, desc: bool) -> Result<Vec<pb::EmailEnvelope>, Status> {
    let m = a.mailbox(mailbox_name).ok_or_else(|| not_found(format!("mailbox '{mailbox_name}'")))?;
    let mut seen = BTreeSet::new();
    let mut all: Vec<_> = m
        .sorted(true)
        .into_iter()
        .filter(|mail| seen.insert(mail.thread_id.clone()))
        .map(|mail| envelope(a, m, mail))
        .collect();
    if !desc {
        all.reverse();
    }
    Ok(all)
}

pub fn search_account(
    a: &Account,
    mailbox: Option<&str>,
    filter: impl Fn(&Mail) -> bool,
    desc: bool,
) -> Vec<pb::EmailEnvelope> {
    let mut found: Vec<(i64, pb::EmailEnvelope)> = a
        .mailboxes
        .iter()
        .filter(|m| mailbox.is_none_or(|name| m.name == name))
        .flat_map(|m| {
            m.mails.values().filter(|mail| filter(mail)).map(move |mail| (mail.internal_date_ms, envelope(a, m, mail)))
        })
        .collect();
    found.sort_by_key(|(t, _)| *t);
    if desc {
        found.reverse();
    }
    found.into_iter().map(|(_, e)| e).collect()
}

fn require_mailbox(name: Option<String>) -> Result<String, Status> {
    name.filter(|n| !n.is_empty()).ok_or_else(|| Status::invalid_argument("mailbox_name is required for IMAP accounts"))
}

#[tonic::async_trait]
impl pb::message_service_server::MessageService for Services {
    async fn list_messages(&self, request: Request<pb::ListMessagesRequest>) -> Answer<pb::CursorDataPage> {
        let r = request.into_inner();
        let world = self.0.lock();
        let a = world.account(r.account_id)?;
        let m = a.mailbox(&r.mailbox_name).ok_or_else(|| not_found(format!("mailbox '{}'", r.mailbox_name)))?;
        let all = m.sorted(r.desc).into_iter().map(|mail| envelope(a, m, mail)).collect();
        Ok(Response::new(cursor_page(all, r.next_page_token.as_deref(), r.page_size)?))
    }

    async fn list_threads(&self, request: Request<pb::ListThreadsRequest>) -> Answer<pb::CursorDataPage> {
        let r = request.into_inner();
        let world = self.0.lock();
        let a = world.account(r.account_id)?;
        let all = thread_heads(a, &r.mailbox_name, r.desc)?;
        Ok(Response::new(cursor_page(all, r.next_page_token.as_deref(), r.page_size)?))
    }

    async fn get_thread_messages(
        &self,
        request: Request<pb::GetThreadMessagesRequest>,
    ) -> Answer<pb::EmailEnvelopeList> {
        let r = request.into_inner();
        let world = self.0.lock();
        let a = world.account(r.account_id)?;
        let items = search_account(a, None, |m| m.thread_id == r.thread_id, false);
        if items.is_empty() {
            return Err(not_found(format!("thread '{}'", r.thread_id)));
        }
        Ok(Response::new(pb::EmailEnvelopeList { items }))
    }

    async fn fetch_message_content(
        &self,
        request: Request<pb::FetchMessageContentRequest>,
    ) -> Answer<pb::MessageContentResponse> {
        let r = request.into_inner();
        let mailbox = require_mailbox(r.mailbox_name)?;
        if r.sections.is_empty() {
            return Err(Status::invalid_argument("sections are required for IMAP accounts (the envelope's body_meta)"));
        }
        let uid: u32 = r.id.parse().map_err(|_| Status::invalid_argument(format!("'{}' is not an IMAP UID", r.id)))?;
        let mut world = self.0.lock();
        let m = world.mailbox_mut(r.account_id, &mailbox)?;
        let mail = m.mails.get(&uid).ok_or_else(|| not_found(format!("message {uid} in '{mailbox}'")))?;
        let max = r.max_length.unwrap_or(100_000) as usize;
        let wants = |kind: pb::PartType| r.sections.iter().any(|s| s.part_type == kind as i32);
        let cut = |s: &str| -> (String, bool) {
            if s.len() <= max {
                return (s.to_owned(), false);
            }
            let mut end = max;
            while !s.is_char_boundary(end) {
                end -= 1;
            }
            (s[..end].to_owned(), true)
        };
        let (text, truncated) = if wants(pb::PartType::Plain) { cut(&mail.text) } else { (String::new(), false) };
        let html = if wants(pb::PartType::Html) { mail.html.as_deref().map(|h| cut(h).0) } else { None };
        let attachments = mail
            .attachments
            .iter()
            .map(|a| pb::AttachmentInfo {
                file_type: a.mime.clone(),
                transfer_encoding: Some("base64".into()),
                content_id: a.content_id.clone(),
                inline: a.inline,
                filename: a.filename.clone(),
                id: a.id.clone(),
                size: a.content.len() as u32,
            })
            .collect();
        Ok(Response::new(pb::MessageContentResponse {
            plain: Some(pb::PlainText { content: text, truncated }),
            html,
            attachments,
        }))
    }

    async fn fetch_message_attachment(
        &self,
        request: Request<pb::FetchMessageAttachmentRequest>,
    ) -> Answer<pb::ByteResponse> {
        let r = request.into_inner();
        let mailbox = require_mailbox(r.mailbox_name)?;
        let uid: u32 = r.id.parse().map_err(|_| Status::invalid_argument(format!("'{}' is not an IMAP UID", r.id)))?;
        let wanted = r
            .attachment
            .map(|a| a.id)
            .or(r.attachment_id)
            .or(r.attachment_info.map(|a| a.id))
            .ok_or_else(|| Status::invalid_argument("name the attachment"))?;
        let mut world = self.0.lock();
        let m = world.mailbox_mut(r.account_id, &mailbox)?;
        let mail = m.mails.get(&uid).ok_or_else(|| not_found(format!("message {uid}")))?;
        let a = mail
            .attachments
            .iter()
            .find(|a| a.id == wanted)
            .ok_or_else(|| not_found(format!("attachment '{wanted}'")))?;
        Ok(Response::new(pb::ByteResponse { data: a.content.clone() }))
    }

    async fn update_message_flags(&self, request: Request<pb::FlagMessageRequest>) -> Answer<pb::Empty> {
        let r = request.into_inner();
        let action = r.action.unwrap_or_default();
        let mut world = self.0.lock();
        let (email, custom_ok) = {
            let account = world.account(r.account_id)?;
            (account.email.clone(), account.custom_flags)
        };
        let m = world.mailbox_mut(r.account_id, &r.mailbox_name)?;
        let mut changed = vec![];
        // A flag of the client's naming is kept only where the server allows them (as IMAP
        // STORE without `\*` in PERMANENTFLAGS: silently not kept).
        let custom = |f: &pb::EnvelopeFlag| {
            (f.flag == pb::EmailFlag::Custom as i32).then(|| f.custom.clone().unwrap_or_default())
        };
        for uid in &r.uids {
            let Some(mail) = m.mails.get_mut(uid) else { continue };
            if !action.overwrite.is_empty() {
                mail.flags = action.overwrite.iter().filter(|f| custom(f).is_none()).map(|f| f.flag).collect();
                mail.custom_flags = action.overwrite.iter().filter_map(custom).filter(|_| custom_ok).collect();
            }
            for f in &action.add {
                match custom(f) {
                    Some(name) if custom_ok => {
                        mail.custom_flags.insert(name);
                    }
                    Some(_) => {}
                    None => {
                        mail.flags.insert(f.flag);
                    }
                }
            }
            for f in &action.remove {
                match custom(f) {
                    Some(name) => {
                        mail.custom_flags.remove(&name);
                    }
                    None => {
                        mail.flags.remove(&f.flag);
                    }
                }
            }
            changed.push(*uid);
        }
        let name = m.name.clone();
        drop(world);
        if !changed.is_empty() {
            tasks::webhook(
                "EMAIL_FLAGS_CHANGED",
                r.account_id,
                &email,
                serde_json::json!({"mailbox_name": name, "uids": changed}),
            );
        }
        Ok(Response::new(pb::Empty {}))
    }

    async fn move_messages(&self, request: Request<pb::MailboxTransferRequest>) -> Answer<pb::Empty> {
        transfer(&self.0, request.into_inner(), true)?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn copy_messages(&self, request: Request<pb::MailboxTransferRequest>) -> Answer<pb::Empty> {
        transfer(&self.0, request.into_inner(), false)?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn delete_messages(&self, request: Request<pb::MessageDeleteRequest>) -> Answer<pb::Empty> {
        let r = request.into_inner();
        let mailbox = require_mailbox(r.mailbox_name)?;
        let uids = uids(&r.ids)?;
        let mut world = self.0.lock();
        let m = world.mailbox_mut(r.account_id, &mailbox)?;
        for uid in uids {
            m.mails.remove(&uid);
        }
        Ok(Response::new(pb::Empty {}))
    }

    async fn message_search(&self, request: Request<pb::MessageSearchRequest>) -> Answer<pb::CursorDataPage> {
        let r = request.into_inner();
        let search = r.search.unwrap_or_default();
        let world = self.0.lock();
        let a = world.account(r.account_id)?;
        if let Some(name) = &r.mailbox_name {
            a.mailbox(name).ok_or_else(|| not_found(format!("mailbox '{name}'")))?;
        }
        let all = search_account(a, r.mailbox_name.as_deref(), |m| matches(m, &search), r.desc.unwrap_or(true));
        Ok(Response::new(cursor_page(all, r.next_page_token.as_deref(), r.page_size)?))
    }

    async fn unified_search(&self, request: Request<pb::UnifiedSearchRequest>) -> Answer<pb::PagedMessages> {
        let r = request.into_inner();
        check_page_size(r.page_size)?;
        let needle = r.email.to_lowercase();
        let world = self.0.lock();
        let mut all = vec![];
        for a in world.accounts.iter().filter(|a| r.accounts.is_empty() || r.accounts.contains(&a.id)) {
            all.extend(search_account(
                a,
                None,
                |m| {
                    let involved = std::iter::once(&m.from)
                        .chain(&m.to)
                        .chain(&m.cc)
                        .any(|(_, addr)| addr.to_lowercase() == needle);
                    involved && r.after.is_none_or(|t| m.date_ms >= t) && r.before.is_none_or(|t| m.date_ms < t)
                },
                true,
            ));
        }
        all.sort_by_key(|e| std::cmp::Reverse(e.date));
        if !r.desc {
            all.reverse();
        }
        let (start, end, pages) = page_bounds(Some(r.page), Some(r.page_size), all.len());
        Ok(Response::new(pb::PagedMessages {
            current_page: Some(r.page),
            page_size: Some(r.page_size),
            total_items: all.len() as u64,
            items: all[start..end].to_vec(),
            total_pages: Some(pages),
        }))
    }
}

fn transfer(shared: &Shared, r: pb::MailboxTransferRequest, remove: bool) -> Result<(), Status> {
    let from = require_mailbox(r.current_mailbox)?;
    let uids = uids(&r.ids)?;
    let mut world = shared.lock();
    let email = world.account(r.account_id)?.email.clone();
    world.mailbox_mut(r.account_id, &r.target_mailbox)?;
    let source = world.mailbox_mut(r.account_id, &from)?;
    let mails: Vec<Mail> = uids
        .iter()
        .filter_map(|u| if remove { source.mails.remove(u) } else { source.mails.get(u).cloned() })
        .collect();
    let target = world.mailbox_mut(r.account_id, &r.target_mailbox)?;
    let new_uids: Vec<u32> = mails.into_iter().map(|m| target.append(m)).collect();
    drop(world);
    if !new_uids.is_empty() {
        tasks::webhook(
            "EMAIL_ADDED_TO_FOLDER",
            r.account_id,
            &email,
            serde_json::json!({"mailbox_name": r.target_mailbox, "uids": new_uids}),
        );
    }
    Ok(())
}

#[tonic::async_trait]
impl pb::status_service_server::StatusService for Services {
    async fn get_status(&self, _request: Request<pb::Empty>) -> Answer<pb::ServerStatus> {
        let started = self.0.lock().started_ms;
        let uptime = now_ms() - started;
        Ok(Response::new(pb::ServerStatus {
            uptime_ms: uptime,
            timeago: format!("{} seconds", uptime / 1000),
            timezone: "UTC".into(),
            version: "1.6.2-standin".into(),
        }))
    }

    async fn get_notifications(&self, _request: Request<pb::Empty>) -> Answer<pb::Notifications> {
        Ok(Response::new(pb::Notifications {
            release: Some(pb::ReleaseNotification { latest: None, is_newer: false, error_message: None }),
            license: Some(pb::LicenseCheckResult { expired: false, days: 365 }),
        }))
    }
}

fn template_page(
    world: &World,
    account: Option<u64>,
    page: Option<u64>,
    page_size: Option<u64>,
) -> pb::PagedEmailTemplate {
    let all: Vec<_> = world
        .templates
        .values()
        .filter(|t| account.is_none_or(|a| t.account.as_ref().is_some_and(|i| i.id == a)))
        .cloned()
        .collect();
    let (start, end, pages) = page_bounds(page, page_size, all.len());
    pb::PagedEmailTemplate {
        current_page: page,
        page_size,
        total_items: all.len() as u64,
        items: all[start..end].to_vec(),
        total_pages: Some(pages),
    }
}

#[tonic::async_trait]
impl pb::templates_service_server::TemplatesService for Services {
    async fn get_template(&self, request: Request<pb::GetTemplateRequest>) -> Answer<pb::EmailTemplate> {
        let id = request.get_ref().id;
        self.0.lock().templates.get(&id).cloned().map(Response::new).ok_or_else(|| not_found(format!("template {id}")))
    }

    async fn create_template(&self, request: Request<pb::EmailTemplateCreateRequest>) -> Answer<pb::Empty> {
        let r = request.into_inner();
        let mut world = self.0.lock();
        let account = match r.account_id {
            Some(id) => Some(pb::AccountInfo { id, email: world.account(id)?.email.clone() }),
            None => None,
        };
        let id = world.next_template_id;
        world.next_template_id += 1;
        let now = now_ms();
        world.templates.insert(
            id,
            pb::EmailTemplate {
                id,
                description: r.description,
                account,
                subject: r.subject,
                preview: r.preview,
                format: r.format,
                text: r.text,
                html: r.html,
                created_at: now,
                updated_at: now,
                last_access_at: now,
            },
        );
        Ok(Response::new(pb::Empty {}))
    }

    async fn remove_template(&self, request: Request<pb::DeleteTemplateRequest>) -> Answer<pb::Empty> {
        let id = request.get_ref().id;
        self.0
            .lock()
            .templates
            .remove(&id)
            .map(|_| Response::new(pb::Empty {}))
            .ok_or_else(|| not_found(format!("template {id}")))
    }

    async fn list_templates(&self, request: Request<pb::ListTemplatesRequest>) -> Answer<pb::PagedEmailTemplate> {
        let r = request.into_inner();
        Ok(Response::new(template_page(&self.0.lock(), None, r.page, r.page_size)))
    }

    async fn list_account_templates(
        &self,
        request: Request<pb::ListAccountTemplatesRequest>,
    ) -> Answer<pb::PagedEmailTemplate> {
        let r = request.into_inner();
        Ok(Response::new(template_page(&self.0.lock(), Some(r.account_id), r.page, r.page_size)))
    }
}
