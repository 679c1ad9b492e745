//! The app's binary. In a page it mounts the app; the service worker loads the same module
//! for [`petrel_send_waiting`] and starts no UI (it has no window).

#[cfg(target_arch = "wasm32")]
fn main() {
    if web_sys::window().is_some() {
        petrel::ui::start();
    }
}

/// The service worker's entry: sends the mail waiting in the outbox (of accounts with a send
/// grant) for at most `budget_ms`, and returns the report as JSON: `{"sent":1,"waiting":0,...}`.
/// In a split build the sending code is a chunk of its own, fetched here only when there is
/// something to send: the page's first module stays small.
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub async fn petrel_send_waiting(budget_ms: f64) -> Result<String, String> {
    #[cfg(feature = "split")]
    let sending = send_waiting(budget_ms)
        .await
        .map_err(|_| "Petrel's sending code could not be loaded: the mail waits for the next try".to_owned())?;
    #[cfg(not(feature = "split"))]
    let sending = send_waiting(budget_ms).unwrap_or_else(|never| match never {});
    sending.await
}

#[cfg(target_arch = "wasm32")]
type Sending = futures_util::future::LocalBoxFuture<'static, Result<String, String>>;

#[cfg(all(target_arch = "wasm32", feature = "split"))]
type SendWaitingError = wasm_split_helpers::SplitLoaderError;
#[cfg(all(target_arch = "wasm32", not(feature = "split")))]
type SendWaitingError = std::convert::Infallible;

#[cfg(target_arch = "wasm32")]
#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(background_send, fallible))]
fn send_waiting(budget_ms: f64) -> Result<Sending, SendWaitingError> {
    Ok(Box::pin(async move {
        let cache = petrel::cache::OfflineCache::open(petrel::cache::CACHE_NAME).await.map_err(|e| e.to_string())?;
        let report = petrel::outbox::background::send_waiting(std::rc::Rc::new(cache), budget_ms).await;
        serde_json::to_string(&report).map_err(|e| e.to_string())
    }))
}

/// The size of the wasm linear memory, in bytes (for the benchmarks' memory figure).
#[cfg(target_arch = "wasm32")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn petrel_wasm_memory_bytes() -> f64 {
    use wasm_bindgen::JsCast;
    wasm_bindgen::memory()
        .unchecked_into::<js_sys::WebAssembly::Memory>()
        .buffer()
        .unchecked_into::<js_sys::ArrayBuffer>()
        .byte_length() as f64
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {
    eprintln!("Petrel runs in a browser: build it with `trunk build` (see README.md).");
    std::process::exit(2);
}
