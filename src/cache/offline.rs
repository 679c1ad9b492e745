//! The offline cache in IndexedDB: one database for every account, records keyed by account.

use js_sys::Array;
use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;
use web_sys::{IdbDatabase, IdbTransaction};

use super::idb::{key, prefix_range, Db};
use super::{kind, ops_for, saved_from, CacheError, Op, Records};
use futures_util::FutureExt;

use crate::mail::local_copy::{LocalCopy, LocalCopyFuture};
use crate::mail::store::{Changes, MailStore, Saved};

/// The schema version. Raise it with a new step in [`migrate`] whenever the layout changes.
pub const SCHEMA_VERSION: u32 = 2;
const RECORDS: &str = "records";
const ACCOUNTS: &str = "accounts";
/// Send grants (credentials) for background sends: apart from the mail, kept only while mail waits.
const GRANTS: &str = "send-grants";

/// Schema steps, each from the version before it. A browser holding version n runs the steps
/// after n; a new profile runs them all.
fn migrate(db: &IdbDatabase, _tx: &IdbTransaction, old_version: u32) -> Result<(), JsValue> {
    if old_version < 1 {
        db.create_object_store(RECORDS)?;
        db.create_object_store(ACCOUNTS)?;
    }
    if old_version < 2 {
        db.create_object_store(GRANTS)?;
    }
    Ok(())
}

/// An account Petrel was signed in to, remembered for an offline start. No password or token:
/// those are written only as a send grant, while mail waits (`outbox::background`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KnownAccount {
    pub key: String,
    /// "jmap" or "rustmailer".
    pub backend: String,
    pub server: String,
    pub username: String,
}

pub struct OfflineCache {
    db: Db,
}

impl OfflineCache {
    /// Opens (and creates or upgrades) the cache database `name`.
    pub async fn open(name: &str) -> Result<OfflineCache, CacheError> {
        Ok(OfflineCache { db: Db::open(name, SCHEMA_VERSION, migrate).await? })
    }

    /// Everything cached for `account`, plus how many records were unreadable and skipped.
    pub async fn load(&self, account: &str) -> Result<(Saved, usize), CacheError> {
        let kinds = [kind::MAILBOXES, kind::STATES, kind::PENDING, kind::EMAIL, kind::BODY, kind::LIST];
        let ranges = kinds.iter().map(|k| prefix_range(&[account, k])).collect::<Result<Vec<_>, _>>()?;
        let mut found = self.db.get_all_many(RECORDS, &ranges).await?.into_iter().map(strings);
        let mut next = || found.next().unwrap_or_default();
        let records = Records {
            mailboxes: next().pop(),
            states: next().pop(),
            pending: next().pop(),
            emails: next(),
            bodies: next(),
            lists: next(),
        };
        Ok(saved_from(records))
    }

    /// The JSON of every record of one kind of `account`.
    pub async fn load_kind(&self, account: &str, kind: &str) -> Result<Vec<String>, CacheError> {
        Ok(strings(self.db.get_all(RECORDS, &prefix_range(&[account, kind])?).await?))
    }

    /// Applies `ops` for `account` in one transaction. When the browser's storage is full, the
    /// cached message bodies (of every account) are dropped and the write is tried once more
    /// without bodies: lists and actions matter more, bodies can be fetched again.
    pub async fn save(&self, account: &str, ops: Vec<Op>) -> Result<(), CacheError> {
        if ops.is_empty() {
            return Ok(());
        }
        match self.write(account, &ops).await {
            Err(CacheError::Full) => {
                self.evict_bodies().await?;
                let without_bodies: Vec<Op> = ops.into_iter().filter(|op| !op.is_body()).collect();
                self.write(account, &without_bodies).await
            }
            other => other,
        }
    }

    async fn write(&self, account: &str, ops: &[Op]) -> Result<(), CacheError> {
        let mut ranges = Vec::new();
        for op in ops {
            if let Op::DeleteKind { kind } = op {
                ranges.push(prefix_range(&[account, kind])?);
            }
        }
        self.db
            .write(RECORDS, |store| {
                let mut kind_ranges = ranges.iter();
                for op in ops {
                    match op {
                        Op::Put { kind, id, json } => {
                            store.put_with_key(&JsValue::from_str(json), &key(&[account, kind, id]))?;
                        }
                        Op::Delete { kind, id } => {
                            store.delete(&key(&[account, kind, id]))?;
                        }
                        Op::DeleteKind { .. } => {
                            if let Some(range) = kind_ranges.next() {
                                store.delete(range)?;
                            }
                        }
                    }
                }
                Ok(())
            })
            .await
    }

    /// Drops every cached message body, of every account.
    pub async fn evict_bodies(&self) -> Result<(), CacheError> {
        let accounts = self.accounts().await?;
        let ranges = accounts.iter().map(|a| prefix_range(&[&a.key, kind::BODY])).collect::<Result<Vec<_>, _>>()?;
        self.db
            .write(RECORDS, |store| {
                for r in &ranges {
                    store.delete(r)?;
                }
                Ok(())
            })
            .await
    }

    /// Forgets everything of `account` (sign-out).
    pub async fn wipe(&self, account: &str) -> Result<(), CacheError> {
        let range = prefix_range(&[account])?;
        self.db.write(RECORDS, |store| store.delete(&range).map(|_| ())).await?;
        self.db.write(ACCOUNTS, |store| store.delete(&JsValue::from_str(account)).map(|_| ())).await?;
        self.forget_grant(account).await
    }

    /// Keeps `account`'s send grant (JSON) for a background send.
    pub async fn put_grant(&self, account: &str, json: &str) -> Result<(), CacheError> {
        self.db
            .write(GRANTS, |store| {
                store.put_with_key(&JsValue::from_str(json), &JsValue::from_str(account)).map(|_| ())
            })
            .await
    }

    pub async fn forget_grant(&self, account: &str) -> Result<(), CacheError> {
        self.db.write(GRANTS, |store| store.delete(&JsValue::from_str(account)).map(|_| ())).await
    }

    /// Every send grant kept (JSON).
    pub async fn grants(&self) -> Result<Vec<String>, CacheError> {
        let all = web_sys::IdbKeyRange::lower_bound(&JsValue::from_str(""))
            .map_err(|_| CacheError::Failed("a key range".into()))?;
        Ok(strings(self.db.get_all(GRANTS, &all).await?))
    }

    pub async fn remember(&self, account: &KnownAccount) -> Result<(), CacheError> {
        let json = serde_json::to_string(account).map_err(|e| CacheError::Failed(e.to_string()))?;
        self.db
            .write(ACCOUNTS, |store| {
                store.put_with_key(&JsValue::from_str(&json), &JsValue::from_str(&account.key)).map(|_| ())
            })
            .await
    }

    /// The accounts with cached mail, in key order.
    pub async fn accounts(&self) -> Result<Vec<KnownAccount>, CacheError> {
        let all = web_sys::IdbKeyRange::lower_bound(&JsValue::from_str(""))
            .map_err(|_| CacheError::Failed("a key range".into()))?;
        let values = self.db.get_all(ACCOUNTS, &all).await?;
        Ok(strings(values).iter().filter_map(|s| serde_json::from_str(s).ok()).collect())
    }
}

fn strings(values: Array) -> Vec<String> {
    values.iter().filter_map(|v| v.as_string()).collect()
}

/// The mail engine's local copy of an account is this cache.
impl LocalCopy for OfflineCache {
    fn load<'a>(&'a self, account: &'a str) -> LocalCopyFuture<'a, (Saved, usize)> {
        async move { Ok(OfflineCache::load(self, account).await?) }.boxed_local()
    }

    fn save<'a>(&'a self, account: &'a str, store: &MailStore, changes: Changes) -> LocalCopyFuture<'a, ()> {
        let ops = ops_for(store, changes);
        async move { Ok(OfflineCache::save(self, account, ops).await?) }.boxed_local()
    }

    fn forget<'a>(&'a self, account: &'a str, email_ids: Vec<String>) -> LocalCopyFuture<'a, ()> {
        let ops = email_ids.into_iter().map(|id| Op::Delete { kind: kind::EMAIL, id }).collect();
        async move { Ok(OfflineCache::save(self, account, ops).await?) }.boxed_local()
    }

    fn wipe<'a>(&'a self, account: &'a str) -> LocalCopyFuture<'a, ()> {
        async move { Ok(OfflineCache::wipe(self, account).await?) }.boxed_local()
    }
}
