//! Signing in: from what the user typed to a connected account whose mail engine is running.

use std::rc::Rc;

use leptos::prelude::{LocalStorage, RwSignal, Set, With, WithUntracked};

use crate::auth::Credentials;
use crate::cache::offline::KnownAccount;
use crate::cache::OfflineCache;
use crate::jmap::blob::DigestStore;
use crate::jmap::client::JmapClient;
use crate::jmap::mail::JmapMail;
use crate::jmap::{blob_io, capability};
use crate::mail::backend::SendMailboxes;
use crate::mail::engine::MailEngine;
use crate::mail::filters::{Filters, ScriptProblem};
use crate::mail::BodyPart;
use crate::mail::{MailError, Message, Role};
use crate::outbox::dispatcher::{Outbox, Sender, Subscription};
use crate::outbox::grant::{Route, SendGrant};
use crate::outbox::Policy;
use crate::rustmailer::session::{self as rustmailer, AccountChoice, RustMailerSession};

pub use crate::cache::CACHE_NAME;

/// Which kind of server the form names.
#[derive(Clone, PartialEq, Eq, Debug, Default)]
pub enum ServerKind {
    #[default]
    Jmap,
    /// A RustMailer behind Petrel's gateway: `server` is the gateway, the credentials its access
    /// token; `account` picks one of its accounts by address or id (the first when empty).
    RustMailer { account: String },
}

/// What the sign-in form collected.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignInAttempt {
    pub server: String,
    pub credentials: Credentials,
    pub kind: ServerKind,
}

/// The protocol connection behind a signed-in account.
#[derive(Clone)]
pub enum Connection {
    Jmap(JmapClient),
    RustMailer(Rc<dyn RustMailerSession>),
    /// The cached mail only, without the server: an offline start (until the user signs in), or,
    /// with `connecting`, shown at once while a sign-in to it is under way.
    Offline {
        server: String,
        username: String,
        connecting: bool,
    },
}

/// A signed-in account, ready to show.
#[derive(Clone)]
pub struct SignedIn {
    /// A signal: an account shown from the cache while connecting becomes live in place, without
    /// rebuilding the view (an opened message or a typed search stays).
    pub connection: RwSignal<Connection, LocalStorage>,
    pub engine: MailEngine,
    /// Every send goes through it; shared by all tabs of this origin (one sends at a time).
    pub outbox: Rc<Outbox>,
    /// The account's name in the cache and the outbox.
    pub key: String,
    /// Keeps the account's send grant stored while its mail waits (none for an offline start).
    pub background_send: Option<Rc<Subscription>>,
}

/// Attachments are cut off here when downloaded (a larger one is refused, not half shown).
const MAX_ATTACHMENT_BYTES: u64 = 512 * 1024 * 1024;

impl Connection {
    /// An attachment's bytes as a browser Blob, checked against its SHA-256 on the way.
    pub async fn download(
        &self,
        email_id: &str,
        part: &BodyPart,
        digests: &dyn DigestStore,
    ) -> Result<web_sys::Blob, MailError> {
        let blob_id = part.blob_id.as_deref().ok_or(MailError::NotFound("this attachment has no content".into()))?;
        let name = part.name.as_deref().unwrap_or("attachment");
        match self {
            Connection::Jmap(client) => {
                let account = client.session().primary_account(capability::MAIL)?.to_owned();
                Ok(blob_io::download(
                    client,
                    &account,
                    blob_id,
                    name,
                    &part.content_type,
                    digests,
                    MAX_ATTACHMENT_BYTES,
                )
                .await?)
            }
            Connection::Offline { .. } => Err(MailError::Unsupported("downloads until you sign in again")),
            Connection::RustMailer(session) => {
                let bytes = session.attachment(email_id.to_owned(), blob_id.to_owned()).await?;
                let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes.as_slice()));
                let options = web_sys::BlobPropertyBag::new();
                options.set_type(&part.content_type);
                web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(|e| {
                    MailError::from(crate::jmap::JmapError::Network(crate::net::NetError::Interrupted(
                        crate::net::fetch_js_message(&e),
                    )))
                })
            }
        }
    }

    /// Uploads a file for a message being written: hashed (SHA-256) first, then sent with progress.
    pub async fn upload(
        &self,
        file: &web_sys::File,
        digests: &dyn DigestStore,
        on_progress: &dyn Fn(blob_io::Progress),
    ) -> Result<BodyPart, MailError> {
        match self {
            Connection::Jmap(client) => {
                let account = client.session().primary_account(capability::MAIL)?.to_owned();
                let content_type =
                    if file.type_().is_empty() { "application/octet-stream".to_owned() } else { file.type_() };
                let uploaded = blob_io::upload(client, &account, file, &content_type, digests, on_progress).await?;
                Ok(BodyPart {
                    blob_id: Some(uploaded.blob_id),
                    size: uploaded.size,
                    name: Some(file.name()),
                    content_type: uploaded.content_type,
                    disposition: Some("attachment".into()),
                    ..Default::default()
                })
            }
            // The outbox hands RustMailer blob ids it cannot read: say so before the user waits.
            Connection::RustMailer(_) => {
                Err(MailError::Unsupported("attachments from the composer (RustMailer accounts)"))
            }
            Connection::Offline { .. } => Err(MailError::Unsupported("attachments until you sign in again")),
        }
    }
}

/// Filters (Sieve) live on JMAP servers that offer them; RustMailer's API has none.
impl Connection {
    pub fn offers_filters(&self) -> bool {
        matches!(self, Connection::Jmap(client) if crate::jmap::sieve::offered(&client.session()).is_some())
    }

    fn filters_client(&self) -> Result<&JmapClient, MailError> {
        match self {
            Connection::Jmap(client) if self.offers_filters() => Ok(client),
            Connection::Offline { .. } => Err(MailError::Unsupported("filters until you sign in again")),
            _ => Err(MailError::Unsupported("filters")),
        }
    }

    pub async fn filters(&self, digests: &dyn DigestStore) -> Result<Filters, MailError> {
        Ok(crate::jmap::sieve_io::load(self.filters_client()?, digests).await?)
    }

    /// The server's check of `text` as Sieve: `None` when it is valid.
    pub async fn check_sieve(&self, text: &str, digests: &dyn DigestStore) -> Result<Option<ScriptProblem>, MailError> {
        Ok(crate::jmap::sieve_io::validate(self.filters_client()?, text, digests).await?)
    }

    /// Stores and activates Petrel's script; `Ok(Err(..))` when the server refused it.
    pub async fn save_filters(
        &self,
        script_id: Option<&str>,
        text: &str,
        digests: &dyn DigestStore,
    ) -> Result<Result<(), ScriptProblem>, MailError> {
        Ok(crate::jmap::sieve_io::save(self.filters_client()?, script_id, text, digests).await?)
    }
}

impl Connection {
    /// Whether the whole message (its source, a .eml file) can be fetched: JMAP keeps it as a
    /// blob; RustMailer's API hands out parts only.
    pub fn offers_source(&self) -> bool {
        matches!(self, Connection::Jmap(_))
    }

    /// The whole message as the server keeps it, checked against its SHA-256 like any download.
    pub async fn original(&self, message: &Message, digests: &dyn DigestStore) -> Result<web_sys::Blob, MailError> {
        if !self.offers_source() {
            return Err(MailError::Unsupported("a message's source"));
        }
        let part = BodyPart {
            blob_id: message.blob_id.clone(),
            size: message.summary.size,
            name: Some(eml_name(&message.summary.subject)),
            content_type: "message/rfc822".into(),
            ..Default::default()
        };
        self.download(&message.summary.id, &part, digests).await
    }
}

/// A file name for a message: its subject, without what file systems refuse.
pub fn eml_name(subject: &str) -> String {
    let name: String =
        subject.chars().map(|c| if c.is_control() || "/\\:*?\"<>|".contains(c) { '_' } else { c }).take(80).collect();
    let name = name.trim().trim_matches('.');
    format!("{}.eml", if name.is_empty() { "message" } else { name })
}

/// How far an account is connected, as the shell shows it (`data-connection` names it for tests).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Link {
    /// Shown from the cache while a sign-in to it is under way.
    Connecting,
    /// The cached mail only (an offline start, or the server was out of reach).
    Offline,
    Live,
}

impl Link {
    pub fn name(self) -> &'static str {
        match self {
            Link::Connecting => "connecting",
            Link::Offline => "offline",
            Link::Live => "live",
        }
    }
}

impl Connection {
    pub fn link(&self) -> Link {
        match self {
            Connection::Offline { connecting: true, .. } => Link::Connecting,
            Connection::Offline { .. } => Link::Offline,
            Connection::Jmap(_) | Connection::RustMailer(_) => Link::Live,
        }
    }
}

impl SignedIn {
    pub fn display_name(&self) -> String {
        self.connection.with(|c| match c {
            Connection::Jmap(client) => client.session().username.clone(),
            Connection::RustMailer(session) => session.email(),
            Connection::Offline { username, .. } => username.clone(),
        })
    }

    pub fn is_connecting(&self) -> bool {
        self.connection.with_untracked(Connection::link) == Link::Connecting
    }
}

/// Whether `server` answers at all (any HTTP status): an offline start shows cached mail only when
/// it does not, so a reachable server still gets a fresh sign-in.
pub async fn server_reachable(server: &str) -> bool {
    let url = if server.starts_with("http://") || server.starts_with("https://") {
        server.trim_end_matches('/').to_owned()
    } else {
        super::remembered::page_origin()
    };
    crate::net::fetch(crate::net::HttpRequest::get(format!("{url}/.well-known/jmap")).body_limit(64 * 1024))
        .await
        .is_ok()
}

/// An account from the offline cache alone, without its server: its folders and lists as last
/// seen, mail written now waiting in the outbox. `None` when nothing of it is cached.
pub async fn open_offline(known: &KnownAccount, cache: Rc<OfflineCache>, connecting: bool) -> Option<SignedIn> {
    let engine = MailEngine::open(&known.key, Some(cache.clone())).await;
    if !engine.read(|s| s.has_mailboxes()) {
        return None;
    }
    let outbox = Rc::new(Outbox::open(Some(cache), Policy::default()).await);
    let connection = Connection::Offline { server: known.server.clone(), username: known.username.clone(), connecting };
    Some(SignedIn {
        connection: RwSignal::new_local(connection),
        engine,
        outbox,
        key: known.key.clone(),
        background_send: None,
    })
}

/// Signs in and starts the account's engine from the offline cache. When the cache already holds
/// the folders the account is shown at once and syncs behind; the first time, after one sync.
/// `shown` is the same account already on screen from the cache: its engine and outbox go on,
/// and its connection becomes the live one.
pub async fn sign_in(
    attempt: SignInAttempt,
    cache: Option<Rc<OfflineCache>>,
    shown: Option<SignedIn>,
) -> Result<SignedIn, MailError> {
    let (connection, backend, key, username, route): (
        Connection,
        Rc<dyn crate::mail::backend::MailBackend>,
        String,
        String,
        Route,
    ) = match &attempt.kind {
        ServerKind::Jmap => {
            let client = JmapClient::connect(&attempt.server, attempt.credentials.clone()).await?;
            let backend = JmapMail::new(client.clone())?;
            let key = backend.cache_key();
            let username = client.session().username.clone();
            (Connection::Jmap(client), Rc::new(backend), key, username, Route::Jmap { server: attempt.server.clone() })
        }
        ServerKind::RustMailer { account } => {
            let token = match &attempt.credentials {
                Credentials::Bearer { token } => token.clone(),
                Credentials::Basic { password, .. } => password.clone(),
            };
            let session =
                rustmailer::connect(attempt.server.clone(), token, AccountChoice::Named(account.clone())).await?;
            let id = session.account_id();
            let key = format!("rustmailer:{}:{id}", attempt.server.trim_end_matches('/'));
            let username = session.email();
            (
                Connection::RustMailer(session.clone()),
                session.backend(),
                key,
                username,
                Route::RustMailer { gateway: attempt.server.clone(), account_id: id },
            )
        }
    };
    if let Some(cache) = &cache {
        let kind = if matches!(connection, Connection::Jmap(_)) { "jmap" } else { "rustmailer" };
        let known = KnownAccount { key: key.clone(), backend: kind.into(), server: attempt.server.clone(), username };
        // Without it only the offline start is lost: not worth failing the sign-in.
        let _ = cache.remember(&known).await;
    }
    let shown = shown.filter(|s| s.key == key);
    let engine = match &shown {
        Some(s) => s.engine.clone(),
        None => MailEngine::open(&key, cache.clone().map(|c| c as Rc<dyn crate::mail::local_copy::LocalCopy>)).await,
    };
    engine.attach(backend.clone());
    if !engine.read(|s| s.has_mailboxes()) {
        engine.sync().await?;
    }
    let outbox = match &shown {
        Some(s) => s.outbox.clone(),
        None => Rc::new(Outbox::open(cache.clone(), Policy::default()).await),
    };
    // Without a Drafts folder there is nowhere to stage a message: mail waits in the outbox.
    let drafts = engine.read(|s| s.mailbox_with_role(Role::Drafts).map(|m| m.id.clone()));
    let mut background_send = None;
    if let Some(drafts) = drafts {
        let sent = engine.read(|s| s.mailbox_with_role(Role::Sent).map(|m| m.id.clone()));
        let mailboxes = SendMailboxes { drafts, sent };
        if let Some(cache) = cache {
            let grant = SendGrant::new(&key, route, &attempt.credentials, &mailboxes);
            background_send = Some(Rc::new(super::background_send::watch(&outbox, grant, cache)));
        }
        outbox.set_sender(&key, Sender { backend, mailboxes });
    }
    let connection = match shown {
        Some(s) => {
            s.connection.set(connection);
            s.connection
        }
        None => RwSignal::new_local(connection),
    };
    Ok(SignedIn { connection, engine, outbox, key, background_send })
}
