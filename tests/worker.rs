//! The DOM-free core in a dedicated Web Worker.

#![cfg(target_arch = "wasm32")]

mod common;

wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_dedicated_worker);

include!("support/worker_suite.rs");
