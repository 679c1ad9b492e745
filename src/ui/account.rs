//! Signing in: from what the user typed to a connected account whose mail engine is running.

use std::rc::Rc;

use crate::auth::Credentials;
use crate::cache::offline::KnownAccount;
use crate::cache::OfflineCache;
use crate::jmap::client::JmapClient;
use crate::jmap::mail::JmapMail;
use crate::mail::engine::MailEngine;
use crate::mail::MailError;

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
    let engine = MailEngine::open(&key, cache).await;
    engine.attach(Rc::new(backend));
    if !engine.read(|s| s.has_mailboxes()) {
        engine.sync().await?;
    }
    Ok(SignedIn { client, engine })
}
