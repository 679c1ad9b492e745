//! What a worker needs to send one account's mail with no page open: where to, as whom, and
//! the folders to stage it in. Kept only while the account has mail waiting (see
//! [`super::background`]); `Debug` never shows the secret.

use serde::{Deserialize, Serialize};

use crate::auth::Credentials;
use crate::mail::backend::SendMailboxes;

/// Where an account's mail is sent from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Route {
    Jmap {
        server: String,
    },
    /// `gateway` is Petrel's gateway ("" for same-origin), `account_id` the RustMailer account.
    RustMailer {
        gateway: String,
        account_id: u64,
    },
}

/// What a worker needs to send one account's waiting mail.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct SendGrant {
    /// The outbox's account key.
    pub account: String,
    pub route: Route,
    secret: Secret,
    pub drafts: String,
    pub sent: Option<String>,
}

/// The stored form of [`Credentials`] (which never serialise by themselves).
#[derive(Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
enum Secret {
    Basic { username: String, password: String },
    Bearer { token: String },
}

impl std::fmt::Debug for SendGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendGrant")
            .field("account", &self.account)
            .field("route", &self.route)
            .field("secret", &"<redacted>")
            .finish()
    }
}

impl SendGrant {
    pub fn new(account: &str, route: Route, credentials: &Credentials, mailboxes: &SendMailboxes) -> SendGrant {
        let secret = match credentials {
            Credentials::Basic { username, password } => {
                Secret::Basic { username: username.clone(), password: password.clone() }
            }
            Credentials::Bearer { token } => Secret::Bearer { token: token.clone() },
        };
        SendGrant {
            account: account.to_owned(),
            route,
            secret,
            drafts: mailboxes.drafts.clone(),
            sent: mailboxes.sent.clone(),
        }
    }

    pub fn credentials(&self) -> Credentials {
        match &self.secret {
            Secret::Basic { username, password } => Credentials::basic(username, password),
            Secret::Bearer { token } => Credentials::bearer(token),
        }
    }

    /// Signs in again with the stored credentials.
    #[cfg(target_arch = "wasm32")]
    pub async fn connect(&self) -> Result<super::dispatcher::Sender, crate::mail::MailError> {
        use crate::jmap::{client::JmapClient, mail::JmapMail};
        use crate::rustmailer::session::{self as rustmailer, AccountChoice};
        let backend: std::rc::Rc<dyn crate::mail::backend::MailBackend> = match &self.route {
            Route::Jmap { server } => {
                std::rc::Rc::new(JmapMail::new(JmapClient::connect(server, self.credentials()).await?)?)
            }
            Route::RustMailer { gateway, account_id } => {
                let token = match self.credentials() {
                    Credentials::Bearer { token } => token,
                    Credentials::Basic { password, .. } => password,
                };
                rustmailer::connect(gateway.clone(), token, AccountChoice::Id(*account_id)).await?.backend()
            }
        };
        Ok(super::dispatcher::Sender {
            backend,
            mailboxes: SendMailboxes { drafts: self.drafts.clone(), sent: self.sent.clone() },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_grant_round_trips_and_never_shows_its_secret() {
        let mailboxes = SendMailboxes { drafts: "d1".into(), sent: Some("s1".into()) };
        let grant = SendGrant::new(
            "jmap:x:a",
            Route::Jmap { server: "http://127.0.0.1:1".into() },
            &Credentials::basic("ann", "hunter2"),
            &mailboxes,
        );
        let back: SendGrant = serde_json::from_str(&serde_json::to_string(&grant).unwrap()).unwrap();
        assert!(back == grant);
        assert_eq!(back.credentials(), Credentials::basic("ann", "hunter2"));
        assert!(!format!("{grant:?}").contains("hunter2"));
        let rm = SendGrant::new(
            "rm:1",
            Route::RustMailer { gateway: String::new(), account_id: 7 },
            &Credentials::bearer("tok"),
            &mailboxes,
        );
        let back: SendGrant = serde_json::from_str(&serde_json::to_string(&rm).unwrap()).unwrap();
        assert_eq!(back.route, Route::RustMailer { gateway: String::new(), account_id: 7 });
        assert_eq!(back.credentials(), Credentials::bearer("tok"));
    }
}
