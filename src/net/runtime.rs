//! What the runtime the core finds itself in offers. Pages, workers and service workers have all
//! of it; edge runtimes (workerd, Deno) have fetch, streams, WebSocket, `crypto.subtle` and timers,
//! but no IndexedDB and no Web Locks. Code that needs one of these asks here first and says which
//! one is missing, as a typed error, instead of failing somewhere inside with a TypeError.

/// A part of the web platform the core uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feature {
    Fetch,
    /// ReadableStream: streaming downloads (the SHA-256 check) and EventSource-through-fetch.
    Streams,
    WebSocket,
    IndexedDb,
    WebLocks,
    BroadcastChannel,
    SubtleCrypto,
    Timers,
}

impl Feature {
    pub const ALL: [Feature; 8] = [
        Feature::Fetch,
        Feature::Streams,
        Feature::WebSocket,
        Feature::IndexedDb,
        Feature::WebLocks,
        Feature::BroadcastChannel,
        Feature::SubtleCrypto,
        Feature::Timers,
    ];

    /// The global's name for it.
    pub fn global_name(self) -> &'static str {
        match self {
            Feature::Fetch => "fetch",
            Feature::Streams => "ReadableStream",
            Feature::WebSocket => "WebSocket",
            Feature::IndexedDb => "indexedDB",
            Feature::WebLocks => "navigator.locks",
            Feature::BroadcastChannel => "BroadcastChannel",
            Feature::SubtleCrypto => "crypto.subtle",
            Feature::Timers => "setTimeout",
        }
    }

    /// What Petrel cannot do without it, and what it does instead.
    pub fn consequence(self) -> &'static str {
        match self {
            Feature::Fetch => "no server can be reached",
            Feature::Streams => "downloads cannot be checked as they arrive, and push cannot use EventSource",
            Feature::WebSocket => "push falls back to EventSource or polling",
            Feature::IndexedDb => "nothing is kept offline here; the outbox needs a storage handed in by the host",
            Feature::WebLocks => "this instance sends alone: run one outbox per account (one Durable Object)",
            Feature::BroadcastChannel => "other instances do not hear of outbox changes",
            Feature::SubtleCrypto => "nothing depends on it (SHA-256 is Petrel's own)",
            Feature::Timers => "nothing can wait: retries, timeouts and push pings stop",
        }
    }
}

/// The runtime lacks a feature something asked for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("this runtime has no {} ({}): {}", .0.global_name(), runtime_name(), .0.consequence())]
pub struct Missing(pub Feature);

/// Whether the global scope offers `feature`.
#[cfg(target_arch = "wasm32")]
pub fn has(feature: Feature) -> bool {
    use js_sys::Reflect;
    use wasm_bindgen::JsValue;
    let defined = |object: &JsValue, name: &str| {
        Reflect::get(object, &name.into()).ok().filter(|v| !v.is_undefined() && !v.is_null())
    };
    let global: JsValue = js_sys::global().into();
    match feature {
        Feature::WebLocks => defined(&global, "navigator").and_then(|n| defined(&n, "locks")).is_some(),
        Feature::SubtleCrypto => defined(&global, "crypto").and_then(|c| defined(&c, "subtle")).is_some(),
        other => defined(&global, other.global_name()).is_some(),
    }
}

/// `Ok` where the runtime offers `feature`, else says what is missing and what that means.
#[cfg(target_arch = "wasm32")]
pub fn require(feature: Feature) -> Result<(), Missing> {
    if has(feature) {
        Ok(())
    } else {
        Err(Missing(feature))
    }
}

/// The runtime, as it names itself (navigator.userAgent), for messages.
pub fn runtime_name() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        use js_sys::Reflect;
        let global: wasm_bindgen::JsValue = js_sys::global().into();
        let agent = Reflect::get(&global, &"navigator".into())
            .ok()
            .and_then(|n| Reflect::get(&n, &"userAgent".into()).ok())
            .and_then(|a| a.as_string());
        if let Some(agent) = agent {
            return agent;
        }
    }
    "this runtime".into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_feature_says_what_follows() {
        let message = Missing(Feature::IndexedDb).to_string();
        assert!(message.contains("indexedDB") && message.contains("outbox needs a storage"), "{message}");
        assert!(Feature::ALL.iter().all(|f| !f.consequence().is_empty()));
    }
}
