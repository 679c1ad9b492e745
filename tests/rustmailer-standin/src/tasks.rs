//! Sending: RustMailer queues every mail as a task (SCHEDULED -> RUNNING -> SUCCESS or FAILED) and
//! reports outcomes by event hooks. Here "SMTP" is the `delivered` list a test reads, plus delivery
//! into the stand-in's own accounts.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use tonic::{Request, Response, Status};

use crate::mail::{Attachment, Mail};
use crate::pb;
use crate::services::Services;
use crate::world::{not_found, now_ms, Delivered, Shared};

/// Where event hooks go (`--webhook-url`) and the token they carry.
pub struct Hooks {
    pub url: String,
    pub token: String,
}
pub static HOOKS: OnceLock<Hooks> = OnceLock::new();

/// Posts one event hook, like RustMailer's HTTP event hooks; failures are only logged.
pub fn webhook(event_type: &str, account_id: u64, account_email: &str, payload: serde_json::Value) {
    let Some(hooks) = HOOKS.get() else { return };
    let body = serde_json::json!({
        "event_id": format!("{}-{}", now_ms(), rand_suffix()),
        "event_type": event_type,
        "account_id": account_id,
        "account_email": account_email,
        "timestamp": now_ms(),
        "payload": payload,
    })
    .to_string();
    let request = hyper::Request::post(&hooks.url)
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {}", hooks.token))
        .body(Full::new(Bytes::from(body)));
    let Ok(request) = request else { return eprintln!("standin: bad webhook url {}", hooks.url) };
    tokio::spawn(async move {
        let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
        match client.request(request).await {
            Ok(r) if r.status().is_success() => {}
            Ok(r) => eprintln!("standin: webhook answered {}", r.status()),
            Err(e) => eprintln!("standin: webhook failed: {e}"),
        }
    });
}

fn rand_suffix() -> u32 {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn address(a: &pb::EmailAddress) -> (Option<String>, String) {
    (a.name.clone().filter(|n| !n.is_empty()), a.address.trim().to_owned())
}

/// Recipients RustMailer would refuse before queueing: not an address at all.
fn check_addresses(list: &[&pb::EmailAddress]) -> Result<(), Status> {
    for a in list {
        let addr = a.address.trim();
        let ok = addr
            .split_once('@')
            .is_some_and(|(l, d)| !l.is_empty() && d.contains('.') && !d.starts_with('.') && !addr.contains(' '));
        if !ok {
            return Err(Status::invalid_argument(format!("invalid recipient address '{addr}'")));
        }
    }
    Ok(())
}

fn header_text(headers: &std::collections::HashMap<String, pb::HeaderValue>, name: &str) -> Option<String> {
    let (_, value) = headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?;
    match value.value.as_ref()? {
        pb::header_value::Value::Raw(r) => Some(r.raw.clone()),
        pb::header_value::Value::Text(t) => Some(t.text.clone()),
        pb::header_value::Value::Url(u) => u.url.first().cloned(),
    }
}

fn attachments(list: &[pb::MailAttachment]) -> Result<Vec<Attachment>, Status> {
    use base64::Engine;
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let content = match a.payload.as_ref().and_then(|p| p.payload_type.as_ref()) {
                Some(pb::attachment_payload::PayloadType::Base64Content(b64)) => {
                    base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|e| Status::invalid_argument(format!("attachment {}: bad base64 ({e})", i + 1)))?
                }
                Some(pb::attachment_payload::PayloadType::AttachmentRef(_)) => {
                    return Err(Status::unimplemented("attachment references are not supported by the stand-in"))
                }
                None => return Err(Status::invalid_argument(format!("attachment {} has no payload", i + 1))),
            };
            Ok(Attachment {
                id: format!("att-{}", i + 1),
                filename: a.file_name.clone().unwrap_or_else(|| format!("attachment-{}", i + 1)),
                mime: a.mime_type.clone(),
                content,
                inline: a.inline,
                content_id: a.content_id.clone(),
            })
        })
        .collect()
}

struct Outgoing {
    account_id: u64,
    mail: Mail,
    bcc: Vec<String>,
    send_at: Option<i64>,
    control: pb::SendControl,
    reply: bool,
}

/// Queues a task for a mail, as the Send RPCs do; returns the task id.
fn queue(shared: &Shared, out: Outgoing) -> Result<u64, Status> {
    let mut world = shared.lock();
    let account = world.account(out.account_id)?;
    let account_email = account.email.clone();
    if !out.mail.from.1.eq_ignore_ascii_case(&account_email) {
        return Err(Status::permission_denied(format!("{} may not send as {}", account_email, out.mail.from.1)));
    }
    let id = world.next_task_id;
    world.next_task_id += 1;
    let now = now_ms();
    let task = pb::EmailTask {
        id,
        created_at: now,
        status: pb::TaskStatus::Scheduled as i32,
        stopped_reason: None,
        error: None,
        last_duration_ms: None,
        retry_count: Some(0),
        scheduled_at: out.send_at.unwrap_or(now),
        account_id: out.account_id,
        account_email,
        subject: Some(out.mail.subject.clone()),
        message_id: out.mail.message_id.clone(),
        from: out.mail.from.1.clone(),
        to: out.mail.to.iter().map(|a| a.1.clone()).collect(),
        cc: out.mail.cc.iter().map(|a| a.1.clone()).collect(),
        bcc: out.bcc,
        attachment_count: out.mail.attachments.len() as u32,
        cache_key: format!("task-{id}"),
        envelope: out.control.envelope.clone(),
        save_to_sent: out.control.save_to_sent.unwrap_or(true),
        sent_folder: out.control.sent_folder.clone(),
        send_at: out.send_at,
        mta: None,
        dsn: None,
        reply: Some(out.reply),
        mailbox: None,
        uid: None,
    };
    world.tasks.insert(id, task);
    world.outgoing.insert(id, out.mail);
    Ok(id)
}

fn compose(
    account_email: &str,
    from: Option<&pb::EmailAddress>,
    subject: String,
    text: Option<String>,
    html: Option<String>,
    headers: &std::collections::HashMap<String, pb::HeaderValue>,
) -> Mail {
    let now = now_ms();
    let message_id = header_text(headers, "Message-ID")
        .map(|m| m.trim().trim_matches(['<', '>']).to_owned())
        .unwrap_or_else(|| format!("{now}.{}@standin.example", rand_suffix()));
    Mail {
        uid: 0,
        thread_id: format!("t-{message_id}"),
        message_id,
        from: from.map(address).unwrap_or((None, account_email.to_owned())),
        to: vec![],
        cc: vec![],
        subject,
        date_ms: now,
        internal_date_ms: now,
        flags: [pb::EmailFlag::Seen as i32].into_iter().collect(),
        custom_flags: Default::default(),
        text: text.unwrap_or_default(),
        html,
        attachments: vec![],
        in_reply_to: None,
        references: vec![],
    }
}

/// Runs due tasks forever: SCHEDULED -> RUNNING -> SUCCESS / FAILED, with event hooks.
pub async fn run(shared: Shared) {
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let due: Vec<u64> = {
            let mut world = shared.lock();
            let now = now_ms();
            let due: Vec<u64> = world
                .tasks
                .values()
                .filter(|t| t.status == pb::TaskStatus::Scheduled as i32 && t.scheduled_at <= now)
                .map(|t| t.id)
                .collect();
            for id in &due {
                if let Some(t) = world.tasks.get_mut(id) {
                    t.status = pb::TaskStatus::Running as i32;
                }
            }
            due
        };
        for id in due {
            let shared = shared.clone();
            tokio::spawn(async move {
                // An SMTP conversation takes a moment; long enough for a test to see RUNNING.
                tokio::time::sleep(Duration::from_millis(150)).await;
                finish(&shared, id);
            });
        }
    }
}

fn finish(shared: &Shared, id: u64) {
    let mut world = shared.lock();
    let Some(task) = world.tasks.get(&id).cloned() else { return };
    if task.status != pb::TaskStatus::Running as i32 {
        return;
    }
    let Some(mail) = world.outgoing.remove(&id) else { return };
    let recipients: Vec<String> = task.to.iter().chain(&task.cc).chain(&task.bcc).cloned().collect();
    // The way a real relay refuses: domains that do not exist bounce with a 5xx.
    let refused: Vec<&String> = recipients.iter().filter(|r| r.ends_with(".invalid")).collect();
    let started = task.scheduled_at.max(task.created_at);
    if !refused.is_empty() {
        let error = format!("550 5.1.2 <{}>: Recipient address rejected: domain not found", refused[0]);
        if let Some(t) = world.tasks.get_mut(&id) {
            t.status = pb::TaskStatus::Failed as i32;
            t.error = Some(error.clone());
            t.last_duration_ms = Some((now_ms() - started).max(0) as u64);
        }
        drop(world);
        webhook(
            "EMAIL_SENDING_ERROR",
            task.account_id,
            &task.account_email,
            serde_json::json!({"task_id": id, "message_id": task.message_id, "error": error}),
        );
        return;
    }
    if let Some(t) = world.tasks.get_mut(&id) {
        t.status = pb::TaskStatus::Success as i32;
        t.last_duration_ms = Some((now_ms() - started).max(0) as u64);
    }
    world.delivered.push(Delivered {
        task_id: id,
        message_id: task.message_id.clone(),
        from: task.from.clone(),
        recipients: recipients.clone(),
        subject: task.subject.clone().unwrap_or_default(),
        at_ms: now_ms(),
    });
    let mut hooks = vec![(
        "EMAIL_SENT_SUCCESS",
        task.account_id,
        task.account_email.clone(),
        serde_json::json!({"task_id": id, "message_id": task.message_id}),
    )];
    if task.save_to_sent {
        let folder = task.sent_folder.clone();
        if let Ok(account) = world.account_mut(task.account_id) {
            let sent = match folder {
                Some(name) => account.mailbox_mut(&name),
                None => account.special(pb::AttributeEnum::Sent),
            };
            if let Some(sent) = sent {
                let name = sent.name.clone();
                let uid = sent.append(mail.clone());
                hooks.push((
                    "EMAIL_ADDED_TO_FOLDER",
                    task.account_id,
                    task.account_email.clone(),
                    serde_json::json!({"mailbox_name": name, "uids": [uid]}),
                ));
            }
        }
    }
    // Mail between the stand-in's own accounts arrives in the recipient's INBOX.
    for account in world.accounts.iter_mut().filter(|a| recipients.iter().any(|r| r.eq_ignore_ascii_case(&a.email))) {
        let mut copy = mail.clone();
        copy.flags.clear();
        copy.custom_flags.clear();
        let email = account.email.clone();
        let account_id = account.id;
        if let Some(inbox) = account.mailbox_mut("INBOX") {
            let uid = inbox.append(copy);
            hooks.push((
                "EMAIL_ADDED_TO_FOLDER",
                account_id,
                email,
                serde_json::json!({"mailbox_name": "INBOX", "uids": [uid]}),
            ));
        }
    }
    drop(world);
    for (kind, account, email, payload) in hooks {
        webhook(kind, account, &email, payload);
    }
}

fn task_page(shared: &Shared, r: pb::ListTasksRequest) -> pb::PagedEmailTask {
    let world = shared.lock();
    let mut all: Vec<pb::EmailTask> =
        world.tasks.values().filter(|t| r.status.is_none_or(|s| t.status == s)).cloned().collect();
    if r.desc.unwrap_or(true) {
        all.reverse();
    }
    let size = r.page_size.unwrap_or(20).clamp(1, crate::services::MAX_PAGE_SIZE) as usize;
    let page = r.page.unwrap_or(1).max(1) as usize;
    let start = ((page - 1) * size).min(all.len());
    let end = (start + size).min(all.len());
    pb::PagedEmailTask {
        current_page: Some(page as u64),
        page_size: Some(size as u64),
        total_items: all.len() as u64,
        items: all[start..end].to_vec(),
        total_pages: Some(all.len().div_ceil(size) as u64),
    }
}

#[tonic::async_trait]
impl pb::send_mail_service_server::SendMailService for Services {
    async fn send_new_mail(&self, request: Request<pb::SendNewMailRequest>) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        let send = r.request.ok_or_else(|| Status::invalid_argument("request is required"))?;
        if send.recipients.is_empty() {
            return Err(Status::invalid_argument("at least one recipient is required"));
        }
        let account_email = self.0.lock().account(r.account_id)?.email.clone();
        let control = send.send_control.clone().unwrap_or_default();
        let files = attachments(&send.attachments)?;
        let mut queued = vec![];
        for recipient in &send.recipients {
            let all: Vec<&pb::EmailAddress> = recipient.to.iter().chain(&recipient.cc).chain(&recipient.bcc).collect();
            if all.is_empty() {
                return Err(Status::invalid_argument("a recipient group has no address"));
            }
            check_addresses(&all)?;
            let mut mail = compose(
                &account_email,
                send.from.as_ref(),
                send.subject.clone().unwrap_or_default(),
                send.text.clone(),
                send.html.clone(),
                &send.headers,
            );
            mail.to = recipient.to.iter().map(address).collect();
            mail.cc = recipient.cc.iter().map(address).collect();
            mail.attachments = files.clone();
            if let Some(irt) = header_text(&send.headers, "In-Reply-To") {
                mail.in_reply_to = Some(irt.trim_matches(['<', '>', ' ']).to_owned());
            }
            let send_at = recipient.send_at.or(control.send_at);
            let bcc = recipient.bcc.iter().map(|a| a.address.clone()).collect();
            queued.push(Outgoing {
                account_id: r.account_id,
                mail,
                bcc,
                send_at,
                control: control.clone(),
                reply: false,
            });
        }
        if control.dry_run == Some(true) {
            return Ok(Response::new(pb::Empty {}));
        }
        for out in queued {
            queue(&self.0, out)?;
        }
        Ok(Response::new(pb::Empty {}))
    }

    async fn reply_mail(&self, request: Request<pb::ReplyMailRequest>) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        let reply = r.request.ok_or_else(|| Status::invalid_argument("request is required"))?;
        let uid: u32 =
            reply.id.parse().map_err(|_| Status::invalid_argument(format!("'{}' is not an IMAP UID", reply.id)))?;
        let (original, account_email) = {
            let mut world = self.0.lock();
            let email = world.account(r.account_id)?.email.clone();
            let m = world.mailbox_mut(r.account_id, &reply.mailbox_name)?;
            (m.mails.get(&uid).cloned().ok_or_else(|| not_found(format!("message {uid}")))?, email)
        };
        let subject = if original.subject.starts_with("Re:") {
            original.subject.clone()
        } else {
            format!("Re: {}", original.subject)
        };
        let mut mail = compose(&account_email, None, subject, reply.text, reply.html, &reply.headers);
        mail.to = vec![original.from.clone()];
        if reply.reply_all == Some(true) {
            mail.cc = original
                .to
                .iter()
                .chain(&original.cc)
                .filter(|a| !a.1.eq_ignore_ascii_case(&account_email))
                .cloned()
                .collect();
        }
        mail.cc.extend(reply.cc.iter().map(address));
        mail.thread_id = original.thread_id.clone();
        mail.in_reply_to = Some(original.message_id.clone());
        mail.references = original.references.iter().cloned().chain([original.message_id.clone()]).collect();
        mail.attachments = attachments(&reply.attachments)?;
        let control = reply.send_control.unwrap_or_default();
        let bcc = reply.bcc.iter().map(|a| a.address.clone()).collect();
        queue(
            &self.0,
            Outgoing { account_id: r.account_id, mail, bcc, send_at: control.send_at, control, reply: true },
        )?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn forward_mail(&self, request: Request<pb::ForwardMailRequest>) -> Result<Response<pb::Empty>, Status> {
        let r = request.into_inner();
        let fwd = r.request.ok_or_else(|| Status::invalid_argument("request is required"))?;
        if fwd.to.is_empty() {
            return Err(Status::invalid_argument("a forward needs at least one 'to' address"));
        }
        check_addresses(&fwd.to.iter().chain(&fwd.cc).chain(&fwd.bcc).collect::<Vec<_>>())?;
        let uid: u32 =
            fwd.id.parse().map_err(|_| Status::invalid_argument(format!("'{}' is not an IMAP UID", fwd.id)))?;
        let (original, account_email) = {
            let mut world = self.0.lock();
            let email = world.account(r.account_id)?.email.clone();
            let m = world.mailbox_mut(r.account_id, &fwd.mailbox_name)?;
            (m.mails.get(&uid).cloned().ok_or_else(|| not_found(format!("message {uid}")))?, email)
        };
        let text = format!(
            "{}\n\n---------- Forwarded message ----------\nFrom: {}\nSubject: {}\n\n{}",
            fwd.text.unwrap_or_default(),
            original.from.1,
            original.subject,
            original.text
        );
        let mut mail =
            compose(&account_email, None, format!("Fwd: {}", original.subject), Some(text), fwd.html, &fwd.headers);
        mail.to = fwd.to.iter().map(address).collect();
        mail.cc = fwd.cc.iter().map(address).collect();
        mail.attachments = attachments(&fwd.attachments)?;
        if fwd.include_all_attachments == Some(true) {
            mail.attachments.extend(original.attachments.clone());
        }
        let control = fwd.send_control.unwrap_or_default();
        let bcc = fwd.bcc.iter().map(|a| a.address.clone()).collect();
        queue(
            &self.0,
            Outgoing { account_id: r.account_id, mail, bcc, send_at: control.send_at, control, reply: false },
        )?;
        Ok(Response::new(pb::Empty {}))
    }

    async fn list_email_tasks(
        &self,
        request: Request<pb::ListTasksRequest>,
    ) -> Result<Response<pb::PagedEmailTask>, Status> {
        Ok(Response::new(task_page(&self.0, request.into_inner())))
    }

    async fn get_email_task(&self, request: Request<pb::GetTaskRequest>) -> Result<Response<pb::EmailTask>, Status> {
        let id = request.get_ref().id;
        self.0.lock().tasks.get(&id).cloned().map(Response::new).ok_or_else(|| not_found(format!("task {id}")))
    }

    async fn remove_email_task(&self, request: Request<pb::RemoveTaskRequest>) -> Result<Response<pb::Empty>, Status> {
        let id = request.get_ref().id;
        let mut world = self.0.lock();
        let task = world.tasks.get_mut(&id).ok_or_else(|| not_found(format!("task {id}")))?;
        match pb::TaskStatus::try_from(task.status) {
            Ok(pb::TaskStatus::Scheduled) | Ok(pb::TaskStatus::Failed) | Ok(pb::TaskStatus::Stopped) => {
                task.status = pb::TaskStatus::Removed as i32;
                world.outgoing.remove(&id);
                Ok(Response::new(pb::Empty {}))
            }
            Ok(pb::TaskStatus::Removed) => Ok(Response::new(pb::Empty {})),
            _ => Err(Status::failed_precondition(format!("task {id} is already being sent or was sent"))),
        }
    }
}
