//! The one interface between the mail engine and a server protocol. JMAP implements it in
//! `jmap::mail`; RustMailer implements the same trait. Futures are local (`!Send`): in a browser
//! everything runs on one thread, in a page or a worker.

use futures_util::future::LocalBoxFuture;

use super::action::Action;
use super::error::MailError;
use super::mailbox::Mailbox;
use super::model::{Draft, EmailSummary, Identity, Message, Snippet, Vacation};
use super::query::{Filter, MailQuery};
use super::quota::Quota;
use super::receipts::ReportMail;

pub type BackendFuture<'a, T> = LocalBoxFuture<'a, Result<T, MailError>>;

/// Where a window of a list starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WindowAt {
    Position(u64),
    /// Around a message the user is looking at: `offset` rows before it (RFC 8620 anchor).
    Anchor {
        id: String,
        offset: i64,
    },
}

/// Some rows of a list, with the summaries to show them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Window {
    pub position: u64,
    pub ids: Vec<String>,
    pub total: Option<u64>,
    /// The list's version, to ask later what changed (`None`: the server cannot say).
    pub query_state: Option<String>,
    pub summaries: Vec<EmailSummary>,
    /// The account's message state the summaries belong to.
    pub email_state: Option<String>,
}

/// What the engine knows and wants brought up to date.
#[derive(Debug, Clone, Default)]
pub struct SyncRequest {
    pub mailbox_state: Option<String>,
    pub email_state: Option<String>,
    /// Lists the user has open: each with its known version and the last id it holds.
    pub lists: Vec<ListSince>,
    /// With no message state yet (a first start): also this many of the account's newest
    /// messages, all folders, so the Inbox can show from the same round trip as the folders.
    /// Backends that cannot batch it ignore it.
    pub newest: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ListSince {
    pub query: MailQuery,
    pub query_state: String,
    pub up_to_id: Option<String>,
}

/// Either the changes since a state, or everything again when the server cannot tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Delta<T> {
    Changes {
        changed: Vec<T>,
        destroyed: Vec<String>,
        new_state: String,
    },
    /// The server cannot calculate changes from our state: here is the whole set (for
    /// mailboxes) or nothing (for messages: the engine refetches what it shows).
    Reset {
        all: Vec<T>,
        new_state: Option<String>,
    },
}

/// A message whose mutable parts changed.
#[derive(Debug, Clone, PartialEq)]
pub enum EmailChange {
    /// A message the engine had not seen: the whole summary.
    New(EmailSummary),
    /// Only keywords and mailboxes change on a message once it exists.
    Updated {
        id: String,
        keywords: std::collections::BTreeMap<String, bool>,
        mailbox_ids: std::collections::BTreeMap<String, bool>,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum ListDelta {
    Changes {
        removed: Vec<String>,
        added: Vec<(u64, String)>,
        total: Option<u64>,
        new_state: String,
    },
    /// Refetch this list's window.
    Reset,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SyncResult {
    pub mailboxes: Delta<Mailbox>,
    /// `None` when the request had no message state yet (nothing to compare with).
    pub emails: Option<Delta<EmailChange>>,
    /// In the order of the request's lists.
    pub lists: Vec<ListDelta>,
    /// The newest messages of the account, when asked for ([`SyncRequest::newest`]).
    pub newest: Option<Window>,
}

/// What a successful action left behind.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ActionDone {
    /// The server id of a mailbox the action created.
    pub created_mailbox_id: Option<String>,
}

/// A message handed to the server for delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Sent {
    pub email_id: String,
    pub submission_id: Option<String>,
    /// Epoch milliseconds the server holds the message until (undo window, scheduled send).
    pub held_until_ms: Option<f64>,
}

pub trait MailBackend {
    /// Mailboxes, message and list changes since the request's states, in as few round trips as
    /// the protocol allows.
    fn sync(&self, request: SyncRequest) -> BackendFuture<'_, SyncResult>;
    fn window<'a>(&'a self, query: &'a MailQuery, at: WindowAt, limit: u32) -> BackendFuture<'a, Window>;
    /// A window's ids alone (no summaries), for refetching a list whose messages are mostly known
    /// already. Backends that cannot query ids alone answer the whole window.
    fn window_ids<'a>(&'a self, query: &'a MailQuery, at: WindowAt, limit: u32) -> BackendFuture<'a, Window> {
        self.window(query, at, limit)
    }
    fn summaries(&self, ids: Vec<String>) -> BackendFuture<'_, Vec<EmailSummary>>;
    /// A whole message; HTML and text bodies cut at `max_body_bytes`.
    fn message<'a>(&'a self, id: &'a str, max_body_bytes: u64) -> BackendFuture<'a, Message>;
    /// The messages of a conversation, oldest first.
    fn thread<'a>(&'a self, thread_id: &'a str) -> BackendFuture<'a, Vec<EmailSummary>>;
    fn perform<'a>(&'a self, action: &'a Action) -> BackendFuture<'a, ActionDone>;
    fn snippets<'a>(&'a self, filter: &'a Filter, ids: &'a [String]) -> BackendFuture<'a, Vec<Snippet>>;
    fn identities(&self) -> BackendFuture<'_, Vec<Identity>>;
    /// Stores a draft in `drafts_mailbox`, replacing the draft `replaces` (drafts are immutable
    /// on the server: each save is a new message). Returns the new draft's id.
    fn save_draft<'a>(
        &'a self,
        draft: &'a Draft,
        drafts_mailbox: &'a str,
        replaces: Option<&'a str>,
    ) -> BackendFuture<'a, String>;
    /// Creates the message and submits it; on success it moves from Drafts to Sent. `replaces` is
    /// the saved draft of the same message, removed first (it carries the same Message-ID).
    /// `hold_until_ms` asks the server to keep it until then (at most [`MailBackend::max_hold_secs`]).
    fn send<'a>(
        &'a self,
        draft: &'a Draft,
        mailboxes: &'a SendMailboxes,
        replaces: Option<&'a str>,
        hold_until_ms: Option<f64>,
    ) -> BackendFuture<'a, Sent>;
    /// How long the server can hold a submitted message before it leaves (0: not at all). Undo and
    /// scheduled send then live on the server, and work with every tab closed.
    fn max_hold_secs(&self) -> u64;
    /// Takes back a message the server still holds; it returns to Drafts.
    fn cancel_send<'a>(
        &'a self,
        submission_id: &'a str,
        email_id: &'a str,
        mailboxes: &'a SendMailboxes,
    ) -> BackendFuture<'a, ()>;
    /// The message carrying this Message-ID, if the server has one: how the outbox learns whether
    /// an attempt that got no answer went out (`still_draft: false`) before sending again.
    fn find_by_message_id<'a>(&'a self, message_id: &'a str) -> BackendFuture<'a, Option<Found>>;
    fn vacation(&self) -> BackendFuture<'_, Vacation>;
    fn set_vacation<'a>(&'a self, vacation: &'a Vacation) -> BackendFuture<'a, ()>;
    /// Whether [`MailBackend::send_receipt`] can work here.
    fn offers_receipts(&self) -> bool {
        false
    }
    /// Sends a "displayed" read receipt for `message` to whoever asked for it, and marks the
    /// message `$mdnsent`. Only ever on the user's click.
    fn send_receipt<'a>(&'a self, _message: &'a Message) -> BackendFuture<'a, ()> {
        Box::pin(async { Err(MailError::Unsupported("read receipts")) })
    }
    /// The newest mail since `after` (RFC 3339) that may be read receipts (RFC 8098 reports),
    /// each with its report part for [`crate::mail::receipts::parse_report`].
    fn receipt_reports<'a>(&'a self, _after: &'a str) -> BackendFuture<'a, Vec<ReportMail>> {
        Box::pin(async { Err(MailError::Unsupported("looking up read receipts")) })
    }
    /// The account's storage use and limit; `None` when the server reports no limit.
    fn quota(&self) -> BackendFuture<'_, Option<Quota>> {
        Box::pin(async { Ok(None) })
    }
    /// Whether the server keeps keywords of the user's own naming (labels).
    fn offers_labels(&self) -> bool {
        true
    }
    /// Whether the server itself brings snoozed mail back ([`MailBackend::snooze`]).
    fn snoozes(&self) -> bool {
        false
    }
    /// Snoozes `ids` on the server until `until` (RFC 3339): out of the Inbox, back at the time.
    fn snooze<'a>(&'a self, _ids: &'a [String], _until: &'a str) -> BackendFuture<'a, ()> {
        Box::pin(async { Err(MailError::Unsupported("snooze")) })
    }
}

/// A message found by its Message-ID.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub email_id: String,
    /// Still a draft: created, but its submission did not succeed.
    pub still_draft: bool,
    /// A submission of it the server still holds (it can be cancelled).
    pub held_submission: Option<String>,
}

/// Where a sent message is filed.
#[derive(Debug, Clone, PartialEq)]
pub struct SendMailboxes {
    pub drafts: String,
    pub sent: Option<String>,
}
