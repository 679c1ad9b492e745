//! The page's side of the service worker: registers it (so the shell is cached for offline
//! starts), notices a new version waiting, and switches to it only when the user says so.

use leptos::prelude::*;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use web_sys::{ServiceWorker, ServiceWorkerRegistration, ServiceWorkerState};

pub(super) fn container() -> Option<web_sys::ServiceWorkerContainer> {
    let navigator = web_sys::window()?.navigator();
    // Browsers without service workers (or pages not served securely) simply run online only.
    js_sys::Reflect::has(&navigator, &JsValue::from_str("serviceWorker")).ok()?.then(|| navigator.service_worker())
}

/// Registers `/sw.js`; `update_ready` turns true when a new version is installed and waiting.
pub fn register(update_ready: RwSignal<bool>) {
    let Some(container) = container() else { return };
    // A module worker: it imports the app's wasm glue to send mail with no page open.
    let options = web_sys::RegistrationOptions::new();
    js_sys::Reflect::set(&options, &"type".into(), &"module".into()).ok();
    let promise = container.register_with_options("/sw.js", &options);
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(promise).await else { return };
        let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else { return };
        // A version may already be waiting from an earlier visit.
        if registration.waiting().is_some() && has_controller() {
            update_ready.set(true);
        }
        let watched = registration.clone();
        let on_update = Closure::<dyn FnMut()>::new(move || {
            let Some(installing) = watched.installing() else { return };
            let worker = installing.clone();
            let on_state = Closure::<dyn FnMut()>::new(move || {
                // Installed while a previous version controls the page: an update, not a first install.
                if worker.state() == ServiceWorkerState::Installed && has_controller() {
                    update_ready.set(true);
                }
            });
            installing.set_onstatechange(Some(on_state.as_ref().unchecked_ref()));
            on_state.forget();
        });
        registration.set_onupdatefound(Some(on_update.as_ref().unchecked_ref()));
        on_update.forget();
    });
}

fn has_controller() -> bool {
    container().and_then(|c| c.controller()).is_some()
}

/// Asks the waiting version to take over, then reloads into it.
pub fn apply_update() {
    let Some(container) = container() else { return };
    let on_change = Closure::<dyn FnMut()>::new(|| {
        if let Some(w) = web_sys::window() {
            let _ = w.location().reload();
        }
    });
    container.set_oncontrollerchange(Some(on_change.as_ref().unchecked_ref()));
    on_change.forget();
    wasm_bindgen_futures::spawn_local(async move {
        let Ok(registration) = wasm_bindgen_futures::JsFuture::from(container.get_registration()).await else { return };
        let Ok(registration) = registration.dyn_into::<ServiceWorkerRegistration>() else { return };
        if let Some(waiting) = registration.waiting() {
            let message = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&message, &"type".into(), &"SKIP_WAITING".into());
            let _ = ServiceWorker::post_message(&waiting, &message);
        }
    });
}

/// "A new version is ready": shown until the user reloads into it.
#[component]
pub fn UpdateBanner(ready: RwSignal<bool>) -> impl IntoView {
    view! {
        {move || {
            ready
                .get()
                .then(|| {
                    view! {
                        <div class="update-banner" role="status">
                            <span>"A new version of Petrel is ready."</span>
                            <button type="button" id="update-reload" class="primary" on:click=|_| apply_update()>
                                "Reload to update"
                            </button>
                            <button type="button" class="link" on:click=move |_| ready.set(false)>
                                "Later"
                            </button>
                        </div>
                    }
                })
        }}
    }
}

/// What the page was opened to do (the manifest's shortcuts and mailto: handler point here).
#[derive(Debug, Clone, PartialEq)]
pub enum LaunchIntent {
    /// Write a message, filled from a mailto: link when there was one.
    Compose(crate::mail::Draft),
    /// A mailto: link that could not be read: say why.
    BadMailto(String),
}

/// Reads `?mailto=` / `?compose=1` from the address once, and takes them out of it (a reload
/// must not open the composer again).
pub fn take_launch_intent() -> Option<LaunchIntent> {
    let window = web_sys::window()?;
    let search = window.location().search().ok()?;
    let params = web_sys::UrlSearchParams::new_with_str(&search).ok()?;
    let intent = if let Some(link) = params.get("mailto") {
        Some(match crate::mail::mailto::parse_mailto(&link) {
            Ok(draft) => LaunchIntent::Compose(draft),
            Err(e) => LaunchIntent::BadMailto(crate::mail::error::sentence(&e.to_string())),
        })
    } else if params.get("compose").is_some() {
        Some(LaunchIntent::Compose(crate::mail::Draft::default()))
    } else {
        None
    };
    if intent.is_some() {
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(&JsValue::NULL, "", Some("/"));
        }
    }
    intent
}

/// Offers Petrel as the browser's mailto: handler (browsers ask the user to confirm).
pub fn register_mailto_handler() -> Result<(), String> {
    let window = web_sys::window().ok_or("no window")?;
    let origin = window.location().origin().map_err(|_| "no origin")?;
    window
        .navigator()
        .register_protocol_handler("mailto", &format!("{origin}/?mailto=%s"), "Petrel")
        .map_err(|e| crate::net::fetch_js_message(&e))
}
