//! Petrel's DOM-free core for edge runtimes: Cloudflare's workerd and Deno.
//!
//! Built by `scripts/build-edge` into a wasm-bindgen module whose wasm the runtime imports as a
//! module (workerd refuses to compile wasm at run time). The host (a Worker, a Durable Object, a
//! Deno program) calls [`run_check`] for each of [`checks`]: the suite proving that the same core
//! the browser runs (session, calls and batching, blobs through the streaming SHA-256 check, push
//! over EventSource-through-fetch and WebSocket, the outbox) works in that runtime, against real
//! servers. The outbox keeps its jobs in the storage the host hands in (`outbox::store::HostStorage`).

#![cfg(target_arch = "wasm32")]

mod rig;
mod suite;

use wasm_bindgen::prelude::*;

/// The checks of the edge suite, in the order to run them.
#[wasm_bindgen]
pub fn checks() -> Vec<String> {
    suite::CHECKS.iter().map(|(name, _)| (*name).to_owned()).collect()
}

/// Runs the check `name` against the servers `rig_json` names (see [`rig::Rig`]), keeping outbox
/// jobs in `storage` (a Durable Object's storage, or an adapter of the same shape). Resolves to a
/// line saying what was shown; rejects with what went wrong.
#[wasm_bindgen]
pub async fn run_check(name: String, rig_json: String, storage: JsValue) -> Result<String, JsValue> {
    let rig: rig::Rig =
        serde_json::from_str(&rig_json).map_err(|e| JsValue::from_str(&format!("the rig's settings: {e}")))?;
    let Some((_, check)) = suite::CHECKS.iter().find(|(n, _)| *n == name) else {
        return Err(JsValue::from_str(&format!("no check named {name}")));
    };
    check(rig, storage).await.map_err(|e| JsValue::from_str(&e))
}

/// What this runtime offers of what the core uses, as JSON: `{ "fetch": true, ... }`.
#[wasm_bindgen]
pub fn runtime() -> String {
    use petrel::net::runtime::{has, Feature};
    let map: serde_json::Map<String, serde_json::Value> =
        Feature::ALL.iter().map(|f| (f.global_name().to_owned(), has(*f).into())).collect();
    serde_json::Value::Object(map).to_string()
}
