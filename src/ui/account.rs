//! Signing in: from what the user typed to a connected account with its folders.

use crate::auth::Credentials;
use crate::jmap::client::JmapClient;
use crate::jmap::JmapError;
use crate::mail::{mailbox, Mailbox};

/// What the sign-in form collected.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct SignInAttempt {
    pub server: String,
    pub credentials: Credentials,
}

/// A signed-in account, ready to show.
#[derive(Clone, Debug)]
pub struct SignedIn {
    pub client: JmapClient,
    pub mailboxes: Vec<Mailbox>,
}

impl SignedIn {
    pub fn display_name(&self) -> String {
        self.client.session().username.clone()
    }
}

pub async fn sign_in(attempt: SignInAttempt) -> Result<SignedIn, JmapError> {
    let client = JmapClient::connect(&attempt.server, attempt.credentials).await?;
    let mailboxes = mailbox::fetch_all(&client).await?;
    Ok(SignedIn { client, mailboxes })
}
