//! One sender across tabs and workers: a Web Lock decides who dispatches, a BroadcastChannel
//! tells everyone else what became of each job. Both exist in windows, dedicated workers and
//! service workers, reached from the global scope so this runs in all three.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::oneshot;
use js_sys::{Function, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{BroadcastChannel, MessageEvent};

/// The lock every outbox dispatcher of this origin takes before sending.
pub const DISPATCH_LOCK: &str = "petrel-outbox-dispatch";
/// Where job changes are announced.
pub const CHANNEL: &str = "petrel-outbox";

/// An exclusive Web Lock; released when dropped, or by the browser when this context dies, which
/// is what lets the next tab take over a send whose tab was closed.
pub struct HeldLock {
    release: Function,
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        let _ = self.release.call0(&JsValue::UNDEFINED);
    }
}

/// Waits for the lock `name`. `None` where the browser has no Web Locks: then this context acts alone.
pub async fn lock(name: &str) -> Option<HeldLock> {
    let global = js_sys::global();
    let navigator = Reflect::get(&global, &"navigator".into()).ok()?;
    let locks = Reflect::get(&navigator, &"locks".into()).ok().filter(|l| !l.is_undefined())?;
    let request: Function = Reflect::get(&locks, &"request".into()).ok()?.dyn_into().ok()?;
    let (granted, on_grant) = oneshot::channel::<Function>();
    let granted = RefCell::new(Some(granted));
    // Runs when the lock is ours; the lock is held until the promise it returns settles.
    let callback = Closure::once_into_js(move |_lock: JsValue| -> JsValue {
        let mut release = None;
        let held = Promise::new(&mut |resolve, _| release = Some(resolve));
        match (granted.borrow_mut().take(), release) {
            (Some(tx), Some(release)) => match tx.send(release) {
                Ok(()) => held.into(),
                // Nobody waits any more (the caller gave up): let go at once.
                Err(_) => JsValue::UNDEFINED,
            },
            _ => JsValue::UNDEFINED,
        }
    });
    let pending = request.call2(&locks, &name.into(), &callback).ok()?;
    // The request's own promise settles on release; a rejection here must not go unhandled.
    if let Ok(p) = pending.dyn_into::<Promise>() {
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_: JsValue| {});
        let _ = p.catch(&ignore);
        // Small and needed until the lock is released, whenever that is.
        ignore.forget();
    }
    on_grant.await.ok().map(|release| HeldLock { release })
}

/// The broadcast side: posts job changes as JSON text, hands received ones to a callback.
pub struct JobChannel {
    channel: BroadcastChannel,
    _listener: Option<Closure<dyn FnMut(MessageEvent)>>,
}

impl JobChannel {
    /// `None` where the browser has no BroadcastChannel (then no other tab hears of changes).
    pub fn open(on_message: impl Fn(String) + 'static) -> Option<JobChannel> {
        let channel = BroadcastChannel::new(CHANNEL).ok()?;
        let on_message = Rc::new(on_message);
        let listener = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string() {
                on_message(text);
            }
        });
        channel.set_onmessage(Some(listener.as_ref().unchecked_ref()));
        Some(JobChannel { channel, _listener: Some(listener) })
    }

    pub fn post(&self, json: &str) {
        let _ = self.channel.post_message(&JsValue::from_str(json));
    }
}

impl Drop for JobChannel {
    fn drop(&mut self) {
        self.channel.set_onmessage(None);
        self.channel.close();
    }
}
