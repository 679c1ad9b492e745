//! The mail model the UI reads, independent of the protocol that filled it.

pub mod mailbox;

pub use mailbox::{Mailbox, MailboxNode, Role};
