//! Sending waiting mail when no page is open: the service worker runs [`send_waiting`] when the
//! page asks (as it closes) or Background Sync wakes it, with the same outbox, lock and rules as a
//! page, so a job goes out exactly once whoever sends it.
//!
//! A worker woken after every tab closed has no credentials in memory. The page therefore leaves a
//! [`SendGrant`](super::grant::SendGrant) (server, credentials, drafts/sent folders) in the offline cache **only while one
//! of the account's jobs waits**; it is deleted when nothing waits any more (here or by the page),
//! when the server refuses it, and at sign-out. No grant, no background send: the mail then waits
//! for the next page.

use std::collections::HashSet;
use std::rc::Rc;

use serde::Serialize;

use super::dispatcher::Outbox;
use super::grant::SendGrant;
use super::queue::{JobState, Policy};
use crate::cache::OfflineCache;
use crate::mail::MailError;
use crate::net::{now_ms, sleep};

/// Keeps the grant for background sends (the page calls it when one of the account's jobs waits).
pub async fn leave_grant(cache: &OfflineCache, grant: &SendGrant) -> Result<(), crate::cache::CacheError> {
    let json = serde_json::to_string(grant).map_err(|e| crate::cache::CacheError::Failed(e.to_string()))?;
    cache.put_grant(&grant.account, &json).await
}

/// The account of each job still to send (queued or interrupted mid-attempt), one per job.
fn waiting_jobs(outbox: &Outbox) -> Vec<String> {
    outbox
        .jobs()
        .into_iter()
        .filter(|j| matches!(j.state, JobState::Queued | JobState::Sending))
        .map(|j| j.account)
        .collect()
}

/// The accounts of `outbox` with a job still to send.
pub fn accounts_waiting(outbox: &Outbox) -> HashSet<String> {
    waiting_jobs(outbox).into_iter().collect()
}

/// Deletes the grants of accounts not in `waiting`; returns the accounts whose grant stays.
async fn forget_idle_grants(cache: &OfflineCache, waiting: &HashSet<String>) -> HashSet<String> {
    let mut kept = HashSet::new();
    for grant in load_grants(cache).await {
        if waiting.contains(&grant.account) {
            kept.insert(grant.account);
        } else {
            let _ = cache.forget_grant(&grant.account).await;
        }
    }
    kept
}

/// The accounts with a stored grant.
pub async fn granted_accounts(cache: &OfflineCache) -> Vec<String> {
    load_grants(cache).await.into_iter().map(|g| g.account).collect()
}

async fn load_grants(cache: &OfflineCache) -> Vec<SendGrant> {
    cache.grants().await.unwrap_or_default().iter().filter_map(|json| serde_json::from_str(json).ok()).collect()
}

/// What a background send did.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Report {
    pub sent: usize,
    /// Jobs still waiting that a later background send can take (their server was out of reach).
    pub waiting: usize,
    /// Jobs that wait for a page: no grant for their account (switched off, refused, signed out).
    pub waiting_for_page: usize,
    /// Accounts whose server refused the stored credentials (their grant is gone).
    pub refused: Vec<String>,
}

/// Waits between tries to reach a server that could not be signed in to.
const RECONNECT_MS: f64 = 5_000.0;

/// Sends every waiting job it has a grant for, for at most `budget_ms` (a service worker's event
/// may be stopped after a few minutes): connects each account, dispatches, sleeps through
/// backoff, and deletes the grants of accounts left with nothing to send.
pub async fn send_waiting(cache: Rc<OfflineCache>, budget_ms: f64) -> Report {
    let deadline = now_ms() + budget_ms;
    let outbox = Outbox::open(Some(cache.clone()), Policy::default()).await;
    let mut report = Report::default();
    let mut connected: HashSet<String> = HashSet::new();
    let mut next_connect = 0.0;
    loop {
        let waiting = accounts_waiting(&outbox);
        if now_ms() >= next_connect {
            next_connect = now_ms() + RECONNECT_MS;
            for grant in load_grants(&cache).await {
                if connected.contains(&grant.account) || !waiting.contains(&grant.account) {
                    continue;
                }
                match grant.connect().await {
                    Ok(sender) => {
                        outbox.set_sender(&grant.account, sender);
                        connected.insert(grant.account.clone());
                    }
                    Err(e) if refused(&e) => {
                        // Trying again cannot help until the user signs in: the mail waits for that page.
                        let _ = cache.forget_grant(&grant.account).await;
                        report.refused.push(grant.account.clone());
                    }
                    // Still out of reach: tried again after RECONNECT_MS.
                    Err(_) => {}
                }
            }
        }
        report.sent += outbox.run().await;
        let jobs = waiting_jobs(&outbox);
        // What is left granted is exactly the accounts that can still send from here.
        let granted = forget_idle_grants(&cache, &jobs.iter().cloned().collect()).await;
        let sendable = granted.len();
        if sendable == 0 || now_ms() >= deadline {
            report.waiting = jobs.iter().filter(|a| granted.contains(*a)).count();
            report.waiting_for_page = jobs.len() - report.waiting;
            return report;
        }
        let mut wake = outbox.next_wake_ms().unwrap_or(deadline);
        if connected.len() < sendable {
            wake = wake.min(next_connect);
        }
        sleep((wake.min(deadline) - now_ms()).clamp(50.0, 60_000.0) as u32).await;
    }
}

/// The server said no to the credentials themselves (not to one message).
fn refused(error: &MailError) -> bool {
    matches!(error, MailError::Unauthorized(_))
}
