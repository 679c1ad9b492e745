//! Where keyboard focus goes, and when Petrel may move it.
//!
//! Focus moved by a render (a message arriving, the list redrawn) never takes it from an open dialog
//! or from a field the user is typing in: on a slow device the render lands mid-word, and the rest of
//! what was typed (and the Enter after it) would go to the reader instead.

use leptos::prelude::*;
use wasm_bindgen::JsCast;

fn active_element() -> Option<web_sys::Element> {
    web_sys::window()?.document()?.active_element()
}

fn is_text_field(el: &web_sys::Element) -> bool {
    let tag = el.tag_name().to_ascii_lowercase();
    matches!(tag.as_str(), "input" | "textarea" | "select")
        || el.dyn_ref::<web_sys::HtmlElement>().is_some_and(|h| h.is_content_editable())
}

/// Whether a key press is someone typing (fields, editors): shortcuts stay out of the way.
pub fn is_typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| is_text_field(&el))
}

/// Whether focus is on a control whose Enter is its own (a button, a link), not a row's.
pub fn focused_is_control() -> bool {
    active_element().is_some_and(|e| {
        let tag = e.tag_name().to_ascii_lowercase();
        // A row's own button opens it the same way: let the shortcut handle those.
        (tag == "button" && !e.class_list().contains("message-open")) || tag == "a" || tag == "summary"
    })
}

/// Moves focus to `target` after a render, unless the user is in a dialog that does not hold it, or
/// typing in another field.
pub fn focus_after_render(target: &web_sys::HtmlElement) {
    if let Some(active) = active_element() {
        let target_node: &web_sys::Node = target.as_ref();
        if let Ok(Some(dialog)) = active.closest("[aria-modal=true]") {
            if !dialog.contains(Some(target_node)) {
                return;
            }
        }
        let active_node: &web_sys::Node = active.as_ref();
        if is_text_field(&active) && active_node != target_node {
            return;
        }
    }
    let _ = target.focus();
}

/// Moves focus to the keyboard's row, after the list has rendered it.
pub fn focus_cursor_row() {
    request_animation_frame(|| {
        if let Some(button) = web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector(".message-row.cursor .message-open").ok().flatten())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
        {
            focus_after_render(&button);
        }
    });
}
