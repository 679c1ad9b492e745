//! Benchmark, not a test: run by scripts/bench (release build). Prints the SHA-256
//! throughput of Petrel's streaming path (1 MiB chunks copied into wasm and hashed, as downloads
//! do) against the browser's one-shot `crypto.subtle.digest` on the same 64 MiB buffer.

#![cfg(target_arch = "wasm32")]

mod common;

use js_sys::{Reflect, Uint8Array};
use petrel::jmap::blob::{Sha256Digest, StreamingSha256};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const SIZE: u32 = 64 * 1024 * 1024;
const CHUNK: u32 = 1024 * 1024;
const RUNS: usize = 7;

fn now() -> f64 {
    let performance: web_sys::Performance =
        Reflect::get(&js_sys::global(), &"performance".into()).expect("performance").unchecked_into();
    performance.now()
}

fn petrel_sha256(bytes: &Uint8Array) -> Sha256Digest {
    let mut hasher = StreamingSha256::new(u64::MAX);
    let mut scratch = vec![0u8; CHUNK as usize];
    let mut offset = 0;
    while offset < bytes.length() {
        let end = (offset + CHUNK).min(bytes.length());
        let chunk = bytes.subarray(offset, end);
        let n = (end - offset) as usize;
        chunk.copy_to(&mut scratch[..n]);
        hasher.update(&scratch[..n]).expect("no cap");
        offset = end;
    }
    hasher.finish()
}

async fn subtle_sha256(bytes: &Uint8Array) -> Sha256Digest {
    let crypto: web_sys::Crypto = Reflect::get(&js_sys::global(), &"crypto".into()).expect("crypto").unchecked_into();
    let promise = crypto.subtle().digest_with_str_and_buffer_source("SHA-256", bytes).expect("digest");
    let digest = Uint8Array::new(&JsFuture::from(promise).await.expect("digest"));
    Sha256Digest(digest.to_vec().try_into().expect("32 bytes"))
}

#[wasm_bindgen_test]
async fn sha256_throughput() {
    let bytes = common::random_js_bytes(SIZE);
    let mb = SIZE as f64 / 1e6;
    // Warm-up: the first runs execute in the baseline tier.
    let expected = subtle_sha256(&bytes).await;
    assert_eq!(petrel_sha256(&bytes), expected, "both paths must agree");
    petrel_sha256(&bytes);
    let (mut petrel, mut subtle) = (Vec::new(), Vec::new());
    for _ in 0..RUNS {
        let t = now();
        petrel_sha256(&bytes);
        petrel.push(mb / ((now() - t) / 1000.0));
        let t = now();
        subtle_sha256(&bytes).await;
        subtle.push(mb / ((now() - t) / 1000.0));
    }
    let group = "5 SHA-256 (64 MiB)";
    common::bench_line(group, "petrel streaming, 1 MiB chunks", "MB/s", &petrel);
    common::bench_line(group, "crypto.subtle.digest, one shot", "MB/s", &subtle);
    let ratios: Vec<f64> = petrel.iter().zip(&subtle).map(|(p, s)| p / s).collect();
    common::bench_line(group, "ratio petrel / subtle (same run)", "x", &ratios);
}
