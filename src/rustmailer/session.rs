//! The one door into RustMailer from the rest of the app: a signed-in account as a trait object.
//!
//! RustMailer's gRPC stack (tonic, http, prost and the generated client) is only for RustMailer
//! accounts, so a release build (the `split` feature) puts it in a wasm chunk of its own, loaded
//! the first time a RustMailer account connects. That works only if nothing else calls into it
//! directly: the page, the outbox and the service worker reach it through [`connect`] and the
//! [`RustMailerSession`] it returns. A chunk that cannot be fetched is a typed error
//! ([`MailError::Unloaded`]), tried again on the next attempt, never a panic.

use std::any::Any;
use std::rc::Rc;

use futures_util::future::LocalBoxFuture;

use super::push::RustMailerPush;
use crate::mail::backend::{BackendFuture, MailBackend};
use crate::mail::MailError;

/// A connected RustMailer account.
pub trait RustMailerSession {
    /// The mail engine's view of it.
    fn backend(&self) -> Rc<dyn MailBackend>;
    fn account_id(&self) -> u64;
    fn email(&self) -> String;
    /// Something changed on the server that folder counts may not show (a push event).
    fn note_remote_change(&self);
    /// An attachment's bytes, checked against the SHA-256 recorded when first fetched.
    fn attachment(&self, email_id: String, attachment_id: String) -> BackendFuture<'static, Vec<u8>>;
    /// Starts live updates; they stop when the returned handle is dropped.
    fn start_push(&self, on_event: Box<dyn Fn(RustMailerPush)>) -> Box<dyn Any>;
}

/// Which of a RustMailer's accounts to open.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountChoice {
    /// As typed at sign-in: an id or an address, or empty for the first one.
    Named(String),
    Id(u64),
}

/// Connects to a RustMailer account through Petrel's gateway (loading the RustMailer chunk first,
/// in a split build).
pub async fn connect(
    gateway: String,
    token: String,
    account: AccountChoice,
) -> Result<Rc<dyn RustMailerSession>, MailError> {
    #[cfg(feature = "split")]
    let connecting = connect_in_chunk(gateway, token, account).await?;
    #[cfg(not(feature = "split"))]
    let connecting = connect_in_chunk(gateway, token, account)?;
    connecting.await
}

/// Fetches the RustMailer chunk in the background (a split build), so connecting does not wait
/// for it. A failure is left for [`connect`] to report.
pub fn preload() {
    #[cfg(feature = "split")]
    wasm_bindgen_futures::spawn_local(async {
        let _ = preload_rustmailer().await;
    });
}

type Connecting = LocalBoxFuture<'static, Result<Rc<dyn RustMailerSession>, MailError>>;

// A split function cannot be async: it hands back the connection's future instead.
#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(rustmailer, fallible, preload(preload_rustmailer)))]
fn connect_in_chunk(gateway: String, token: String, account: AccountChoice) -> Result<Connecting, MailError> {
    Ok(Box::pin(async move {
        let client = super::client::RustMailer::new(&gateway, Some(token));
        let id = match account {
            AccountChoice::Id(id) => id,
            AccountChoice::Named(wanted) => pick_account(&client, &wanted).await?,
        };
        let backend = Rc::new(super::backend::RustMailerBackend::connect(client, id).await?);
        Ok(Rc::new(Session(backend)) as Rc<dyn RustMailerSession>)
    }))
}

/// The RustMailer account a sign-in names: by id, by address, or the first one.
async fn pick_account(client: &super::client::RustMailer, wanted: &str) -> Result<u64, MailError> {
    use super::RustMailerError;
    let accounts = client.list_minimal_accounts(super::proto::Empty {}).await?.accounts;
    let wanted = wanted.trim();
    let found = if wanted.is_empty() {
        accounts.first()
    } else {
        accounts.iter().find(|a| a.id.to_string() == wanted || a.email.eq_ignore_ascii_case(wanted))
    };
    match found {
        Some(a) => Ok(a.id),
        None if accounts.is_empty() => {
            Err(RustMailerError::NotFound("this RustMailer has no accounts yet".into()).into())
        }
        None => Err(RustMailerError::NotFound(format!(
            "no account \"{wanted}\" on this RustMailer; it has {}",
            accounts.iter().map(|a| a.email.as_str()).collect::<Vec<_>>().join(", ")
        ))
        .into()),
    }
}

struct Session(Rc<super::backend::RustMailerBackend>);

impl RustMailerSession for Session {
    fn backend(&self) -> Rc<dyn MailBackend> {
        self.0.clone()
    }

    fn account_id(&self) -> u64 {
        self.0.account_id()
    }

    fn email(&self) -> String {
        self.0.email().to_owned()
    }

    fn note_remote_change(&self) {
        self.0.note_remote_change()
    }

    fn attachment(&self, email_id: String, attachment_id: String) -> BackendFuture<'static, Vec<u8>> {
        let backend = self.0.clone();
        Box::pin(async move { backend.attachment(&email_id, &attachment_id).await })
    }

    fn start_push(&self, on_event: Box<dyn Fn(RustMailerPush)>) -> Box<dyn Any> {
        Box::new(super::push::start(self.0.client().clone(), self.0.account_id(), Default::default(), on_event))
    }
}
