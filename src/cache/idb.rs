//! A small async face on IndexedDB, reached through the global scope so it works in a page, a
//! dedicated worker and a service worker alike.
//!
//! Writes are queued synchronously inside one transaction and then awaited as a whole: a
//! transaction closes itself once its task ends without pending requests, so awaiting between the
//! requests of one write would be fragile.

use js_sys::{Array, Promise};
use wasm_bindgen::closure::Closure;
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    Event, IdbDatabase, IdbFactory, IdbKeyRange, IdbObjectStore, IdbOpenDbRequest, IdbRequest, IdbTransaction,
    IdbTransactionMode,
};

use super::CacheError;

/// Awaits one IndexedDB event target that ends in `ok_event` or `err_event`; the handlers live
/// exactly as long as the wait.
async fn settle(target: &web_sys::EventTarget, ok_event: &str, err_events: &[&str]) -> Result<(), ()> {
    let mut resolve = None;
    let mut reject = None;
    let promise = Promise::new(&mut |res, rej| {
        resolve = Some(res);
        reject = Some(rej);
    });
    let (Some(resolve), Some(reject)) = (resolve, reject) else { return Err(()) };
    let on_ok = Closure::<dyn FnMut(Event)>::new(move |_| {
        let _ = resolve.call0(&JsValue::NULL);
    });
    let on_err = Closure::<dyn FnMut(Event)>::new(move |_| {
        let _ = reject.call0(&JsValue::NULL);
    });
    let _ = target.add_event_listener_with_callback(ok_event, on_ok.as_ref().unchecked_ref());
    for e in err_events {
        let _ = target.add_event_listener_with_callback(e, on_err.as_ref().unchecked_ref());
    }
    let outcome = JsFuture::from(promise).await;
    let _ = target.remove_event_listener_with_callback(ok_event, on_ok.as_ref().unchecked_ref());
    for e in err_events {
        let _ = target.remove_event_listener_with_callback(e, on_err.as_ref().unchecked_ref());
    }
    outcome.map(|_| ()).map_err(|_| ())
}

fn error_of(exception: Option<web_sys::DomException>, what: &str) -> CacheError {
    match exception {
        Some(e) if e.name() == "QuotaExceededError" => CacheError::Full,
        Some(e) => CacheError::Failed(format!("{what}: {} ({})", e.message(), e.name())),
        None => CacheError::Failed(format!("{what} failed")),
    }
}

fn js_error(what: &str) -> impl Fn(JsValue) -> CacheError + '_ {
    move |e| match e.dyn_into::<web_sys::DomException>() {
        Ok(ex) => error_of(Some(ex), what),
        Err(other) => {
            CacheError::Failed(format!("{what}: {}", other.as_string().unwrap_or_else(|| format!("{other:?}"))))
        }
    }
}

/// Awaits a request and returns its result.
pub async fn request(req: &IdbRequest, what: &str) -> Result<JsValue, CacheError> {
    match settle(req, "success", &["error"]).await {
        Ok(()) => req.result().map_err(js_error(what)),
        Err(()) => Err(error_of(req.error().ok().flatten(), what)),
    }
}

/// An open database. Closes itself when another tab upgrades the schema (that tab would
/// otherwise wait for this one forever); the next use here reports it.
pub struct Db {
    db: IdbDatabase,
    _on_version_change: Closure<dyn FnMut(Event)>,
}

impl Drop for Db {
    fn drop(&mut self) {
        self.db.set_onversionchange(None);
        self.db.close();
    }
}

/// Runs the schema steps from `old_version` up to the requested version.
pub type Migrate = fn(&IdbDatabase, &IdbTransaction, u32) -> Result<(), JsValue>;

impl Db {
    pub async fn open(name: &str, version: u32, migrate: Migrate) -> Result<Db, CacheError> {
        let factory: IdbFactory = js_sys::Reflect::get(&js_sys::global(), &"indexedDB".into())
            .ok()
            .and_then(|f| f.dyn_into().ok())
            .ok_or(CacheError::Unavailable)?;
        let open: IdbOpenDbRequest = factory.open_with_u32(name, version).map_err(|_| CacheError::Unavailable)?;
        let upgrade_error = std::rc::Rc::new(std::cell::RefCell::new(None::<String>));
        let seen = upgrade_error.clone();
        let opening = open.clone();
        let on_upgrade =
            Closure::<dyn FnMut(web_sys::IdbVersionChangeEvent)>::new(move |event: web_sys::IdbVersionChangeEvent| {
                let old = event.old_version() as u32;
                let db: Option<IdbDatabase> = opening.result().ok().and_then(|r| r.dyn_into().ok());
                let tx = opening.transaction();
                if let (Some(db), Some(tx)) = (db, tx) {
                    if let Err(e) = migrate(&db, &tx, old) {
                        *seen.borrow_mut() = Some(format!("{e:?}"));
                        let _ = tx.abort();
                    }
                }
            });
        open.set_onupgradeneeded(Some(on_upgrade.as_ref().unchecked_ref()));
        let result = request(&open, "opening the offline copy").await;
        open.set_onupgradeneeded(None);
        drop(on_upgrade);
        if let Some(e) = upgrade_error.borrow_mut().take() {
            return Err(CacheError::Failed(format!("upgrading the offline copy: {e}")));
        }
        let db: IdbDatabase = result?.dyn_into().map_err(|_| CacheError::Unavailable)?;
        let closing = db.clone();
        let on_version_change = Closure::<dyn FnMut(Event)>::new(move |_| closing.close());
        db.set_onversionchange(Some(on_version_change.as_ref().unchecked_ref()));
        Ok(Db { db, _on_version_change: on_version_change })
    }

    fn store(&self, name: &str, mode: IdbTransactionMode) -> Result<(IdbTransaction, IdbObjectStore), CacheError> {
        let tx = self.db.transaction_with_str_and_mode(name, mode).map_err(|e| {
            if e.dyn_ref::<web_sys::DomException>().is_some_and(|x| x.name() == "InvalidStateError") {
                CacheError::Blocked
            } else {
                js_error("starting a transaction")(e)
            }
        })?;
        let store = tx.object_store(name).map_err(js_error("opening a store"))?;
        Ok((tx, store))
    }

    /// Every value under `range` in `store`, in key order.
    pub async fn get_all(&self, store: &str, range: &IdbKeyRange) -> Result<Array, CacheError> {
        let (_tx, os) = self.store(store, IdbTransactionMode::Readonly)?;
        let req = os.get_all_with_key(range).map_err(js_error("reading"))?;
        Ok(request(&req, "reading the offline copy").await?.unchecked_into())
    }

    /// The values of several ranges read in one transaction (one consistent view).
    pub async fn get_all_many(&self, store: &str, ranges: &[IdbKeyRange]) -> Result<Vec<Array>, CacheError> {
        let (_tx, os) = self.store(store, IdbTransactionMode::Readonly)?;
        let requests: Vec<IdbRequest> =
            ranges.iter().map(|r| os.get_all_with_key(r)).collect::<Result<_, _>>().map_err(js_error("reading"))?;
        let mut out = Vec::with_capacity(requests.len());
        for req in &requests {
            out.push(request(req, "reading the offline copy").await?.unchecked_into());
        }
        Ok(out)
    }

    /// Runs `write` on `store` in one read-write transaction and waits until it is durable.
    pub async fn write(
        &self,
        store: &str,
        write: impl FnOnce(&IdbObjectStore) -> Result<(), JsValue>,
    ) -> Result<(), CacheError> {
        let (tx, os) = self.store(store, IdbTransactionMode::Readwrite)?;
        if let Err(e) = write(&os) {
            let _ = tx.abort();
            return Err(js_error("writing")(e));
        }
        match settle(&tx, "complete", &["abort"]).await {
            Ok(()) => Ok(()),
            Err(()) => Err(error_of(tx.error(), "writing the offline copy")),
        }
    }
}

/// The key range of every key that starts with `prefix` (arrays sort after strings, so
/// `[..prefix, []]` is above every `[..prefix, "id"]`).
pub fn prefix_range(prefix: &[&str]) -> Result<IdbKeyRange, CacheError> {
    let lower: Array = prefix.iter().map(|s| JsValue::from_str(s)).collect();
    let upper = lower.slice(0, lower.length());
    upper.push(&Array::new());
    IdbKeyRange::bound(&lower, &upper).map_err(js_error("a key range"))
}

pub fn key(parts: &[&str]) -> JsValue {
    parts.iter().map(|s| JsValue::from_str(s)).collect::<Array>().into()
}
