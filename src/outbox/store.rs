//! Where the outbox keeps its jobs: one port, two adapters. In a browser (pages, workers, the
//! service worker) that is IndexedDB, the offline cache. Edge runtimes have no IndexedDB: there the
//! host hands in a key-value storage of its own ([`HostStorage`]): a Durable Object's storage in
//! workerd (Cloudflare Workers), or an adapter with the same four methods over Deno KV or files.

use futures_util::future::LocalBoxFuture;
use futures_util::FutureExt;
use js_sys::{Function, Object, Promise, Reflect};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::cache::{kind, CacheError, OfflineCache, Op, OUTBOX};

/// Persists outbox jobs (JSON, one record per job id). Every state change is written before the
/// dispatcher takes its next step, so a reload or a restarted edge instance goes on from there.
pub trait JobStore {
    /// Every job kept, as JSON.
    fn load_jobs(&self) -> LocalBoxFuture<'_, Result<Vec<String>, CacheError>>;
    /// Writes (or overwrites) the job `id`.
    fn save_job<'a>(&'a self, id: &'a str, json: &'a str) -> LocalBoxFuture<'a, Result<(), CacheError>>;
}

impl JobStore for OfflineCache {
    fn load_jobs(&self) -> LocalBoxFuture<'_, Result<Vec<String>, CacheError>> {
        self.load_kind(OUTBOX, kind::JOB).boxed_local()
    }

    fn save_job<'a>(&'a self, id: &'a str, json: &'a str) -> LocalBoxFuture<'a, Result<(), CacheError>> {
        let op = Op::Put { kind: kind::JOB, id: id.to_owned(), json: json.to_owned() };
        self.save(OUTBOX, vec![op]).boxed_local()
    }
}

/// The key prefix of the outbox's records in a host storage (which may hold other things too).
const PREFIX: &str = "petrel-outbox/job/";

/// A storage the host runtime provides, with the shape of a Durable Object's: `put(key, value)`
/// and `list({ prefix })` (a Promise of a Map), values being strings here.
pub struct HostStorage {
    storage: Object,
    put: Function,
    list: Function,
}

impl HostStorage {
    /// Wraps `storage`, or says what it lacks.
    pub fn new(storage: JsValue) -> Result<HostStorage, CacheError> {
        let method = |name: &str| {
            Reflect::get(&storage, &name.into()).ok().and_then(|f| f.dyn_into::<Function>().ok()).ok_or_else(|| {
                CacheError::Failed(format!("the storage handed in has no {name}() (a Durable Object's storage has)"))
            })
        };
        let (put, list) = (method("put")?, method("list")?);
        let storage = storage.dyn_into::<Object>().map_err(|_| CacheError::Unavailable)?;
        Ok(HostStorage { storage, put, list })
    }
}

/// Awaits a host call that should return a Promise; a throw or a rejection becomes a typed error.
async fn settle(result: Result<JsValue, JsValue>) -> Result<JsValue, CacheError> {
    let value = result.map_err(host_error)?;
    match value.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await.map_err(host_error),
        Err(plain) => Ok(plain),
    }
}

fn host_error(error: JsValue) -> CacheError {
    let message = Reflect::get(&error, &"message".into()).ok().and_then(|m| m.as_string());
    CacheError::Failed(message.or_else(|| error.as_string()).unwrap_or_else(|| "the host storage failed".into()))
}

impl JobStore for HostStorage {
    fn load_jobs(&self) -> LocalBoxFuture<'_, Result<Vec<String>, CacheError>> {
        async move {
            let options = Object::new();
            Reflect::set(&options, &"prefix".into(), &PREFIX.into()).map_err(host_error)?;
            let found = settle(self.list.call1(&self.storage, &options)).await?;
            // A Map (Durable Objects, and Petrel's Deno adapter); its values are the JSON texts.
            let values = Reflect::get(&found, &"values".into())
                .ok()
                .and_then(|f| f.dyn_into::<Function>().ok())
                .ok_or_else(|| CacheError::Failed("the host storage's list() did not answer a Map".into()))?;
            let iterator = values.call0(&found).map_err(host_error)?;
            let mut jobs = Vec::new();
            for value in js_sys::try_iter(&iterator).map_err(host_error)?.into_iter().flatten() {
                if let Some(text) = value.map_err(host_error)?.as_string() {
                    jobs.push(text);
                }
            }
            Ok(jobs)
        }
        .boxed_local()
    }

    fn save_job<'a>(&'a self, id: &'a str, json: &'a str) -> LocalBoxFuture<'a, Result<(), CacheError>> {
        async move {
            let key = JsValue::from_str(&format!("{PREFIX}{id}"));
            settle(self.put.call2(&self.storage, &key, &json.into())).await.map(|_| ())
        }
        .boxed_local()
    }
}
