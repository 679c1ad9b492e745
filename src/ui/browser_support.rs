//! What this browser offers of the APIs Petrel would like but can do without, found at run time
//! (never by the browser's name): where one is missing, Petrel keeps its promise another way and
//! the UI says which way.
//!
//! - Background Sync (Chromium only): without it, mail left waiting when the last tab closes is
//!   sent when Petrel is next opened (the service worker still tries once as the page goes).
//! - Notification: without it, new mail shows only in the title and the list.

fn global_has(name: &str) -> bool {
    js_sys::Reflect::has(&js_sys::global(), &name.into()).unwrap_or(false)
}

/// The browser can wake the service worker to send once it is online, with every tab closed.
pub fn background_sync() -> bool {
    global_has("SyncManager")
}

pub fn notifications() -> bool {
    global_has("Notification")
}

/// Where this browser can show a PDF in its own viewer. Whether a viewer runs inside a sandboxed
/// frame cannot be asked of any API: Chromium's and WebKit's refuse every sandboxed frame (a grey
/// "blocked" page), Gecko's pdf.js runs in one that allows scripts. So this one answer goes by a
/// Gecko-only property, the exception to this module's rule.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum PdfViewer {
    /// In a sandboxed frame in the reader (Gecko).
    InSandboxedFrame,
    /// Only in a tab of its own (Chromium, WebKit).
    InOwnTab,
    /// None at all (`navigator.pdfViewerEnabled` is false): download only.
    Absent,
}

pub fn pdf_viewer() -> PdfViewer {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).unwrap_or_default();
    let enabled = js_sys::Reflect::get(&navigator, &"pdfViewerEnabled".into()).ok().and_then(|v| v.as_bool());
    match enabled {
        Some(false) => PdfViewer::Absent,
        _ if global_has("mozInnerScreenX") => PdfViewer::InSandboxedFrame,
        _ => PdfViewer::InOwnTab,
    }
}
