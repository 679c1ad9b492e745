//! Where the engine keeps an account's mail between visits: a port. The engine knows this trait;
//! the offline cache (`crate::cache`, IndexedDB in pages and workers) implements it, and a test can
//! put anything else behind it.

use futures_util::future::LocalBoxFuture;

use super::store::{Changes, MailStore, Saved};

/// Why the local copy could not be read or written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LocalCopyError {
    #[error("the browser's storage for Petrel is full")]
    Full,
    #[error("{0}")]
    Failed(String),
}

pub type LocalCopyFuture<'a, T> = LocalBoxFuture<'a, Result<T, LocalCopyError>>;

pub trait LocalCopy {
    /// What was kept of `account`, and how many records could not be read (and were skipped).
    fn load<'a>(&'a self, account: &'a str) -> LocalCopyFuture<'a, (Saved, usize)>;

    /// Brings the copy level with `store` after `changes`. The store is read at once, so the
    /// caller may let go of it before awaiting.
    fn save<'a>(&'a self, account: &'a str, store: &MailStore, changes: Changes) -> LocalCopyFuture<'a, ()>;

    /// Drops these messages from the copy (the store forgot them on restore).
    fn forget<'a>(&'a self, account: &'a str, email_ids: Vec<String>) -> LocalCopyFuture<'a, ()>;

    /// Forgets everything kept of `account`.
    fn wipe<'a>(&'a self, account: &'a str) -> LocalCopyFuture<'a, ()>;
}
