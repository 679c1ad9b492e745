//! Signing in: from what the user typed to a connected account whose mail engine is running.

use std::rc::Rc;

use crate::auth::Credentials;
use crate::cache::offline::KnownAccount;
use crate::cache::OfflineCache;
use crate::jmap::client::JmapClient;
use crate::jmap::mail::JmapMail;
use crate::mail::backend::SendMailboxes;
use crate::mail::engine::MailEngine;
use crate::mail::{MailError, Role};
use crate::outbox::dispatcher::{Outbox, Sender};
use crate::outbox::Policy;

/// The IndexedDB database of the app's offline cache.
pub const CACHE_NAME: &str = "petrel";

/// What the sign-in form collected.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignInAttempt {
    pub server: String,
    pub credentials: Credentials,
}

/// A signed-in account, ready to show.
#[derive(Clone)]
pub struct SignedIn {
    pub client: JmapClient,
    pub engine: MailEngine,
    /// Every send goes through it; shared by all tabs of this origin (one sends at a time).
    pub outbox: Rc<Outbox>,
    /// The account's name in the cache and the outbox.
    pub key: String,
}

impl SignedIn {
    pub fn display_name(&self) -> String {
        self.client.session().username.clone()
    }
}

/// Signs in and starts the account's engine from the offline cache. When the cache already holds
/// the folders the account is shown at once and syncs behind; the first time, after one sync.
pub async fn sign_in(attempt: SignInAttempt, cache: Option<Rc<OfflineCache>>) -> Result<SignedIn, MailError> {
    let client = JmapClient::connect(&attempt.server, attempt.credentials).await?;
    let backend = JmapMail::new(client.clone())?;
    let key = backend.cache_key();
    if let Some(cache) = &cache {
        let known = KnownAccount {
            key: key.clone(),
            backend: "jmap".into(),
            server: attempt.server.clone(),
            username: client.session().username.clone(),
        };
        // Without it only the offline start is lost: not worth failing the sign-in.
        let _ = cache.remember(&known).await;
    }
    let engine = MailEngine::open(&key, cache.clone()).await;
    let backend = Rc::new(backend);
    engine.attach(backend.clone());
    if !engine.read(|s| s.has_mailboxes()) {
        engine.sync().await?;
    }
    let outbox = Rc::new(Outbox::open(cache, Policy::default()).await);
    // Without a Drafts folder there is nowhere to stage a message: mail waits in the outbox.
    let drafts = engine.read(|s| s.mailbox_with_role(Role::Drafts).map(|m| m.id.clone()));
    if let Some(drafts) = drafts {
        let sent = engine.read(|s| s.mailbox_with_role(Role::Sent).map(|m| m.id.clone()));
        outbox.set_sender(&key, Sender { backend, mailboxes: SendMailboxes { drafts, sent } });
    }
    Ok(SignedIn { client, engine, outbox, key })
}
