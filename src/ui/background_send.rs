//! The page's side of background sending: while one of an account's messages waits in the
//! outbox, its send grant is kept for the service worker and a Background Sync is registered;
//! when the page goes away with mail waiting, the worker is asked to carry on. Once nothing
//! waits, the grant is deleted (see `outbox::background`).

use std::cell::Cell;
use std::rc::Rc;

use js_sys::Reflect;
use wasm_bindgen::{closure::Closure, JsCast};
use wasm_bindgen_futures::{spawn_local, JsFuture};

use crate::cache::OfflineCache;
use crate::outbox::background::{accounts_waiting, leave_grant};
use crate::outbox::dispatcher::{Outbox, Subscription};
use crate::outbox::grant::SendGrant;

use super::pwa::container;

/// The Background Sync tag the service worker answers.
const SYNC_TAG: &str = "petrel-outbox";

thread_local! {
    /// Whether any account of this page has mail waiting (read as the page goes away).
    static MAIL_WAITING: Cell<bool> = const { Cell::new(false) };
}

/// Keeps `grant` stored exactly while `account` has mail waiting (and Settings allow it); for
/// as long as the returned subscription lives.
pub fn watch(outbox: &Rc<Outbox>, grant: SendGrant, cache: Rc<OfflineCache>) -> Subscription {
    let subscribed = outbox.clone();
    let outbox = Rc::downgrade(outbox);
    let key = grant.account.clone();
    let stored: Rc<Cell<Option<bool>>> = Rc::default();
    let check = move || {
        let Some(outbox) = outbox.upgrade() else { return };
        let waiting_now = accounts_waiting(&outbox);
        MAIL_WAITING.with(|w| w.set(!waiting_now.is_empty()));
        // Stored only while mail waits and the user lets Petrel finish sending after closing.
        let waiting = waiting_now.contains(&key) && super::prefs::load().send_after_close;
        if stored.replace(Some(waiting)) == Some(waiting) {
            return;
        }
        let (cache, grant, key) = (cache.clone(), grant.clone(), key.clone());
        spawn_local(async move {
            if waiting {
                // Without it only the background send is lost: the page keeps sending while open.
                let _ = leave_grant(&cache, &grant).await;
                register_sync().await;
            } else {
                let _ = cache.forget_grant(&key).await;
            }
        });
    };
    check();
    subscribed.subscribe(check)
}

/// Settings switched background sending off: every stored grant goes now.
pub fn forget_all_grants() {
    spawn_local(async {
        let Ok(cache) = OfflineCache::open(crate::cache::CACHE_NAME).await else { return };
        for account in crate::outbox::background::granted_accounts(&cache).await {
            let _ = cache.forget_grant(&account).await;
        }
    });
}

/// Asks for a Background Sync (the browser wakes the worker when it is online), where the
/// browser has it.
async fn register_sync() {
    let Some(container) = container() else { return };
    let Ok(ready) = Reflect::get(&container, &"ready".into()).and_then(|p| p.dyn_into::<js_sys::Promise>()) else {
        return;
    };
    let Ok(registration) = JsFuture::from(ready).await else { return };
    let Ok(sync) = Reflect::get(&registration, &"sync".into()) else { return };
    if sync.is_undefined() {
        return;
    }
    if let Ok(register) = Reflect::get(&sync, &"register".into()).and_then(|f| f.dyn_into::<js_sys::Function>()) {
        if let Ok(promise) = register.call1(&sync, &SYNC_TAG.into()).and_then(|p| p.dyn_into::<js_sys::Promise>()) {
            // Refused (no permission, an insecure origin): the page's message below still works.
            let _ = JsFuture::from(promise).await;
        }
    }
}

/// Tells the service worker to send what waits (it keeps going after this page is gone).
fn hand_over() {
    if !MAIL_WAITING.with(|w| w.get()) {
        return;
    }
    let Some(worker) = container().and_then(|c| c.controller()) else { return };
    let message = js_sys::Object::new();
    let _ = Reflect::set(&message, &"type".into(), &"SEND_WAITING".into());
    let _ = worker.post_message(&message);
}

/// Hands the outbox to the service worker whenever the page is hidden or closed with mail waiting.
pub fn hand_over_on_leave() {
    let Some(window) = web_sys::window() else { return };
    let on_leave = Closure::<dyn FnMut()>::new(move || {
        let hidden = web_sys::window()
            .and_then(|w| w.document())
            .is_none_or(|d| d.visibility_state() == web_sys::VisibilityState::Hidden);
        if hidden {
            hand_over();
        }
    });
    let _ = window.add_event_listener_with_callback("pagehide", on_leave.as_ref().unchecked_ref());
    let _ = window.add_event_listener_with_callback("visibilitychange", on_leave.as_ref().unchecked_ref());
    // For the page's whole life.
    on_leave.forget();
}
