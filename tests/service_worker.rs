//! The DOM-free core in a Service Worker (no XMLHttpRequest there: uploads go through fetch).

#![cfg(target_arch = "wasm32")]

mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_service_worker);

include!("support/worker_suite.rs");
