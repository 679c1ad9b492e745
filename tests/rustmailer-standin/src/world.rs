//! Everything the stand-in holds, behind one lock: accounts, send tasks, what was delivered, the
//! faults a test asked for, and the webhook target.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use tonic::Status;

use crate::mail::{Account, Mail, Mailbox};
use crate::pb;

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// A mail handed to "SMTP" by a finished send task: what tests count.
#[derive(Clone)]
pub struct Delivered {
    pub task_id: u64,
    pub message_id: String,
    pub from: String,
    pub recipients: Vec<String>,
    pub subject: String,
    pub at_ms: i64,
}

/// A test's request to slow down or fail the next `count` calls of `method` (`*` for any).
#[derive(Clone)]
pub struct Fault {
    pub method: String,
    pub count: u32,
    pub delay_ms: u64,
    pub status: Option<tonic::Code>,
    /// Answer with a gRPC success whose message is not protobuf: before the call runs, or after it
    /// did its work.
    pub garble: Option<Garble>,
}

#[derive(Clone, Copy, PartialEq)]
pub enum Garble {
    Before,
    After,
}

pub struct World {
    pub accounts: Vec<Account>,
    pub tasks: BTreeMap<u64, pb::EmailTask>,
    /// The message bodies of tasks, by task id, until they are sent.
    pub outgoing: BTreeMap<u64, Mail>,
    pub next_task_id: u64,
    pub delivered: Vec<Delivered>,
    pub faults: Vec<Fault>,
    pub templates: BTreeMap<u64, pb::EmailTemplate>,
    pub next_template_id: u64,
    pub started_ms: i64,
}

#[derive(Clone)]
pub struct Shared(pub Arc<Mutex<World>>);

impl Shared {
    pub fn new(accounts: Vec<Account>) -> Shared {
        Shared(Arc::new(Mutex::new(World {
            accounts,
            tasks: BTreeMap::new(),
            outgoing: BTreeMap::new(),
            next_task_id: 1,
            delivered: vec![],
            faults: vec![],
            templates: BTreeMap::new(),
            next_template_id: 1,
            started_ms: now_ms(),
        })))
    }

    pub fn lock(&self) -> MutexGuard<'_, World> {
        // A panicking handler must not take the whole stand-in down with a poisoned lock.
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The fault to apply to one call of `method`, consuming it.
    pub fn take_fault(&self, method: &str) -> Option<Fault> {
        let mut world = self.lock();
        let index = world.faults.iter().position(|f| f.method == "*" || f.method == method)?;
        let fault = world.faults[index].clone();
        world.faults[index].count -= 1;
        if world.faults[index].count == 0 {
            world.faults.remove(index);
        }
        Some(fault)
    }
}

pub fn not_found(what: impl std::fmt::Display) -> Status {
    Status::not_found(format!("{what} not found"))
}

impl World {
    pub fn account(&self, id: u64) -> Result<&Account, Status> {
        self.accounts.iter().find(|a| a.id == id).ok_or_else(|| not_found(format!("account {id}")))
    }

    pub fn account_mut(&mut self, id: u64) -> Result<&mut Account, Status> {
        self.accounts.iter_mut().find(|a| a.id == id).ok_or_else(|| not_found(format!("account {id}")))
    }

    pub fn mailbox_mut(&mut self, account: u64, name: &str) -> Result<&mut Mailbox, Status> {
        self.account_mut(account)?.mailbox_mut(name).ok_or_else(|| not_found(format!("mailbox '{name}'")))
    }
}

pub fn addr(a: &(Option<String>, String)) -> pb::Addr {
    pb::Addr { name: a.0.clone(), address: Some(a.1.clone()) }
}

fn flag(f: i32) -> pb::EnvelopeFlag {
    pb::EnvelopeFlag { flag: f, custom: None }
}

/// The envelope RustMailer gives for a message: body parts as `body_meta`, attachments with paths.
pub fn envelope(account: &Account, mailbox: &Mailbox, mail: &Mail) -> pb::EmailEnvelope {
    let mut body_meta = vec![pb::EmailBodyPart {
        id: format!("{}-text", mail.uid),
        part_type: pb::PartType::Plain as i32,
        path: Some(pb::SegmentPath { segments: vec![1] }),
        params: vec![pb::Param { key: "charset".into(), value: "utf-8".into() }],
        size: mail.text.len() as u64,
        transfer_encoding: pb::Encoding::QuotedPrintable as i32,
    }];
    if let Some(html) = &mail.html {
        body_meta.push(pb::EmailBodyPart {
            id: format!("{}-html", mail.uid),
            part_type: pb::PartType::Html as i32,
            path: Some(pb::SegmentPath { segments: vec![2] }),
            params: vec![pb::Param { key: "charset".into(), value: "utf-8".into() }],
            size: html.len() as u64,
            transfer_encoding: pb::Encoding::QuotedPrintable as i32,
        });
    }
    let attachments = mail
        .attachments
        .iter()
        .enumerate()
        .map(|(i, a)| pb::ImapAttachment {
            id: a.id.clone(),
            path: Some(pb::SegmentPath { segments: vec![3 + i as u64] }),
            filename: Some(a.filename.clone()),
            inline: a.inline,
            content_id: a.content_id.clone(),
            size: a.content.len() as u64,
            file_type: a.mime.clone(),
            transfer_encoding: pb::Encoding::Base64 as i32,
        })
        .collect();
    let size = mail.text.len()
        + mail.html.as_ref().map_or(0, String::len)
        + mail.attachments.iter().map(|a| a.content.len()).sum::<usize>()
        + 600;
    pb::EmailEnvelope {
        account_id: account.id,
        mailbox_id: mailbox.id,
        mailbox_name: mailbox.name.clone(),
        id: mail.uid.to_string(),
        internal_date: Some(mail.internal_date_ms),
        size: size as u32,
        flags: mail
            .flags
            .iter()
            .map(|f| flag(*f))
            .chain(
                mail.custom_flags
                    .iter()
                    .map(|c| pb::EnvelopeFlag { flag: pb::EmailFlag::Custom as i32, custom: Some(c.clone()) }),
            )
            .collect(),
        flags_hash: None,
        bcc: vec![],
        cc: mail.cc.iter().map(addr).collect(),
        date: Some(mail.date_ms),
        from: Some(addr(&mail.from)),
        in_reply_to: mail.in_reply_to.clone(),
        sender: Some(addr(&mail.from)),
        return_address: Some(mail.from.1.clone()),
        message_id: Some(mail.message_id.clone()),
        subject: Some(mail.subject.clone()),
        thread_name: Some(mail.subject.trim_start_matches("Re: ").to_owned()),
        mime_version: Some("1.0".into()),
        references: mail.references.clone(),
        reply_to: vec![],
        to: mail.to.iter().map(addr).collect(),
        attachments,
        body_meta,
        received: Some(pb::Received {
            from: Some("mx.example.net".into()),
            by: Some("standin.example".into()),
            with: Some("ESMTPS".into()),
            date: Some(mail.internal_date_ms),
        }),
        thread_id: mail.thread_id.clone(),
        labels: vec![],
    }
}

pub fn mailbox_info(account: &Account, mailbox: &Mailbox) -> pb::MailBox {
    let mut attributes = vec![];
    if let Some(special) = mailbox.special {
        attributes.push(pb::Attribute { attr: special as i32, extension: None });
    }
    attributes.push(pb::Attribute { attr: pb::AttributeEnum::Unmarked as i32, extension: None });
    pb::MailBox {
        mailbox_id: mailbox.id,
        account_hash: account.id * 7919,
        name: mailbox.name.clone(),
        delimiter: Some(crate::mail::DELIMITER.into()),
        attributes,
        flags: [
            pb::EmailFlag::Seen,
            pb::EmailFlag::Answered,
            pb::EmailFlag::EmailFlagged,
            pb::EmailFlag::Deleted,
            pb::EmailFlag::Draft,
        ]
        .iter()
        .map(|f| flag(*f as i32))
        .collect(),
        exists: mailbox.mails.len() as u32,
        unseen: Some(mailbox.unseen()),
        permanent_flags: if account.custom_flags {
            // RustMailer reports IMAP's `\*` (any flag may be created) as MAY_CREATE.
            vec![flag(pb::EmailFlag::MayCreate as i32)]
        } else {
            vec![]
        },
        uid_next: Some(mailbox.uid_next),
        uid_validity: Some(mailbox.uid_validity),
        highest_modseq: None,
    }
}
