//! Blob upload and download through the SHA-256 check, against the real Cyrus (which states no
//! digests itself: the client records them at upload or first fetch).

#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;

use js_sys::{Reflect, Uint8Array};
use petrel::jmap::blob::{DigestStore, MemoryDigests, Sha256Digest};
use petrel::jmap::blob_io::{self, Progress};
use petrel::jmap::client::JmapClient;
use petrel::jmap::{capability, JmapError, Request};
use serde_json::json;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;

mod common;

use common::{account, blob_of, random_js_bytes, wasm_memory_bytes};

wasm_bindgen_test_configure!(run_in_browser);

async fn client() -> (JmapClient, String) {
    let client = common::client().await;
    let account = account(&client);
    (client, account)
}

/// SHA-256 by the browser itself, as an independent witness.
async fn subtle_sha256(bytes: &Uint8Array) -> Sha256Digest {
    let crypto: web_sys::Crypto = Reflect::get(&js_sys::global(), &"crypto".into()).expect("crypto").unchecked_into();
    let promise = crypto.subtle().digest_with_str_and_buffer_source("SHA-256", bytes).expect("digest");
    let digest = Uint8Array::new(&JsFuture::from(promise).await.expect("digest done"));
    Sha256Digest(digest.to_vec().try_into().expect("32 bytes"))
}

async fn blob_bytes(blob: &web_sys::Blob) -> Uint8Array {
    Uint8Array::new(&JsFuture::from(blob.array_buffer()).await.expect("blob bytes"))
}

#[wasm_bindgen_test]
async fn upload_then_download_round_trips_under_the_digest() {
    let (client, account) = client().await;
    let bytes = random_js_bytes(3 * 1024 * 1024 + 17);
    let file = blob_of(&bytes, "application/octet-stream");
    let digests = MemoryDigests::default();
    let seen = RefCell::new(Vec::new());
    let uploaded =
        blob_io::upload(&client, &account, &file, "application/octet-stream", &digests, &|p| seen.borrow_mut().push(p))
            .await
            .expect("upload");
    let total = bytes.length() as u64;
    assert_eq!(uploaded.size, total);
    assert_eq!(uploaded.sha256, subtle_sha256(&bytes).await, "Petrel's SHA-256 equals the browser's");
    assert_eq!(digests.get(&account, &uploaded.blob_id), Some(uploaded.sha256), "digest recorded with the blob id");
    let seen = seen.into_inner();
    assert!(seen.contains(&Progress::Hashing { done: total, total }), "{seen:?}");
    assert!(seen.iter().any(|p| matches!(p, Progress::Uploading { done, .. } if *done == total)), "{seen:?}");

    let downloaded = blob_io::download(
        &client,
        &account,
        &uploaded.blob_id,
        "x.bin",
        "application/octet-stream",
        &digests,
        u64::MAX,
    )
    .await
    .expect("verified download");
    let back = blob_bytes(&downloaded).await;
    assert_eq!(back.length(), bytes.length());
    assert_eq!(subtle_sha256(&back).await, uploaded.sha256);
}

#[wasm_bindgen_test]
async fn a_blob_that_does_not_match_its_digest_is_refused() {
    let (client, account) = client().await;
    let bytes = random_js_bytes(100_000);
    let digests = MemoryDigests::default();
    let uploaded = blob_io::upload(&client, &account, &blob_of(&bytes, "text/plain"), "text/plain", &digests, &|_| {})
        .await
        .expect("upload");
    digests.put(&account, &uploaded.blob_id, Sha256Digest::of(b"something else"));
    let err = blob_io::download(&client, &account, &uploaded.blob_id, "x.txt", "text/plain", &digests, u64::MAX)
        .await
        .unwrap_err();
    assert!(
        matches!(err, JmapError::BlobDigestMismatch { ref blob_id, .. } if *blob_id == uploaded.blob_id),
        "{err:?}"
    );

    let capped =
        blob_io::download(&client, &account, &uploaded.blob_id, "x.txt", "text/plain", &MemoryDigests::default(), 1024)
            .await;
    assert_eq!(capped.unwrap_err(), JmapError::BlobTooLarge { limit: 1024 });
}

#[wasm_bindgen_test]
async fn an_attachment_s_digest_is_recorded_on_first_fetch_and_checked_after() {
    let (client, account) = client().await;
    let mut request = Request::new().using(capability::MAIL);
    let query =
        request.call("Email/query", json!({ "accountId": account, "filter": { "subject": "Invoice 2026-0042" } }));
    let get = request.call(
        "Email/get",
        json!({ "accountId": account, "#ids": query.result("/ids"), "properties": ["attachments"] }),
    );
    let mut response = client.send(&request).await.expect("query");
    response.take(&query).expect("query answered");
    let attachments = response.take(&get).expect("get")["list"][0]["attachments"].clone();
    let pdf = attachments
        .as_array()
        .expect("attachments")
        .iter()
        .find(|a| a["type"] == "application/pdf")
        .expect("the PDF")
        .clone();
    let blob_id = pdf["blobId"].as_str().expect("blob id");
    let digests = MemoryDigests::default();
    let first = blob_io::download(&client, &account, blob_id, "invoice.pdf", "application/pdf", &digests, u64::MAX)
        .await
        .expect("first fetch");
    let recorded = digests.get(&account, blob_id).expect("digest recorded on first fetch");
    let bytes = blob_bytes(&first).await;
    assert_eq!(bytes.subarray(0, 8).to_vec(), b"%PDF-1.4");
    assert_eq!(subtle_sha256(&bytes).await, recorded);
    blob_io::download(&client, &account, blob_id, "invoice.pdf", "application/pdf", &digests, u64::MAX)
        .await
        .expect("verified second fetch");
}

#[wasm_bindgen_test]
async fn a_large_download_is_not_held_in_wasm_memory() {
    let (client, account) = client().await;
    let size = 24 * 1024 * 1024;
    let bytes = random_js_bytes(size);
    let digests = MemoryDigests::default();
    let uploaded = blob_io::upload(
        &client,
        &account,
        &blob_of(&bytes, "application/octet-stream"),
        "application/octet-stream",
        &digests,
        &|_| {},
    )
    .await
    .expect("upload");
    let before = wasm_memory_bytes();
    let blob = blob_io::download(
        &client,
        &account,
        &uploaded.blob_id,
        "big.bin",
        "application/octet-stream",
        &digests,
        u64::MAX,
    )
    .await
    .expect("download");
    let grown = wasm_memory_bytes() - before;
    assert_eq!(blob.size() as u32, size);
    assert!(grown <= 1024.0 * 1024.0, "wasm memory grew by {grown} bytes for a {size}-byte download");
}
