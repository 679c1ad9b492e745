//! What a panic leaves behind. The release build aborts on panic, so the work in progress stops
//! and the page may be in a state no code expects: the user is told, with a way to start clean
//! (mail and the outbox are stored, so a reload loses nothing). Each message also goes to the
//! console, as before, and into the tab's sessionStorage, where it survives that reload: the
//! end-to-end journeys read it there and fail on any panic, in every engine.

use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

/// The sessionStorage key holding a JSON list of this tab's panic messages.
pub const STORAGE_KEY: &str = "petrel.panics";
/// At most this many messages are kept: a panic in a loop must not fill the storage.
const KEPT: usize = 20;
const BANNER_ID: &str = "petrel-panic";

pub fn install() {
    std::panic::set_hook(Box::new(|info| {
        console_error_panic_hook::hook(info);
        // Nothing here may panic again: every step is allowed to fail quietly.
        let message = info.to_string();
        keep(&message);
        show_banner();
    }));
}

fn keep(message: &str) {
    let Some(storage) = web_sys::window().and_then(|w| w.session_storage().ok().flatten()) else { return };
    let mut kept: Vec<String> =
        storage.get_item(STORAGE_KEY).ok().flatten().and_then(|s| serde_json::from_str(&s).ok()).unwrap_or_default();
    if kept.len() < KEPT {
        kept.push(message.to_owned());
    }
    if let Ok(json) = serde_json::to_string(&kept) {
        let _ = storage.set_item(STORAGE_KEY, &json);
    }
}

/// A plain-DOM banner: the reactive system may be the part that broke, so it is not used here.
fn show_banner() {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else { return };
    if document.get_element_by_id(BANNER_ID).is_some() {
        return;
    }
    let (Ok(banner), Ok(text), Ok(button)) =
        (document.create_element("div"), document.create_element("span"), document.create_element("button"))
    else {
        return;
    };
    banner.set_id(BANNER_ID);
    banner.set_class_name("panic-banner");
    let _ = banner.set_attribute("role", "alert");
    text.set_text_content(Some(
        "Petrel ran into an internal error and may not work as it should. Your mail and outbox are kept: reload to go on.",
    ));
    button.set_text_content(Some("Reload"));
    let _ = button.set_attribute("type", "button");
    let reload = Closure::<dyn Fn()>::new(|| {
        if let Some(window) = web_sys::window() {
            let _ = window.location().reload();
        }
    });
    let _ = button.add_event_listener_with_callback("click", reload.as_ref().unchecked_ref());
    // The page lives as long as the listener: leaking the one closure is the simplest owner.
    reload.forget();
    let _ = banner.append_child(&text);
    let _ = banner.append_child(&button);
    if let Some(body) = document.body() {
        let _ = body.prepend_with_node_1(&banner);
    }
}
