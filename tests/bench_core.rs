//! Benchmarks, not tests: run by scripts/bench (release build, headless Chromium, the real Cyrus
//! through the gateway). Each prints `BENCH {json}` lines that tests/bench/bench.py puts in its
//! table: the sync of 1,000 remote changes against a full refetch of the same folder, the
//! outbox (enqueue + persist 10,000 jobs; sustained dispatch to the server), and the memory a
//! verified 256 MiB download takes.

#![cfg(target_arch = "wasm32")]

use std::rc::Rc;

use petrel::cache::OfflineCache;
use petrel::jmap::mail::JmapMail;
use petrel::jmap::{capability, Request};
use petrel::mail::backend::SendMailboxes;
use petrel::mail::engine::MailEngine;
use petrel::mail::store::Row;
use petrel::mail::{MailQuery, Role};
use petrel::net::now_ms;
use petrel::outbox::dispatcher::{Outbox, Sender};
use petrel::outbox::{JobState, Policy, Priority};
use serde_json::json;
use wasm_bindgen_test::*;

mod common;

use common::{
    account, bench_line, client_for, draft, folder_with_messages, gateway, other_credentials, synced_engine as engine,
    unique,
};

wasm_bindgen_test_configure!(run_in_browser);

const RUNS: usize = 5;
const CHANGES: usize = 1_000;

fn loaded(engine: &MailEngine, query: &MailQuery, n: u64) -> usize {
    engine.read(|s| s.rows(query, 0, n)).into_iter().filter(|r| matches!(r, Row::Loaded(_))).count()
}

#[wasm_bindgen_test]
async fn sync_of_1000_remote_changes_against_a_full_refetch() {
    let writer = client_for(gateway(), other_credentials()).await;
    let (folder, _) = folder_with_messages(&writer, &unique("bench-sync"), &[]).await;
    // 1,000 messages in their own folder, created in batches.
    let mut ids = Vec::new();
    for batch in 0..(CHANGES / 250) {
        let mut create = Request::new().using(capability::MAIL);
        let mails: serde_json::Map<String, serde_json::Value> = (0..250)
            .map(|i| {
                let n = batch * 250 + i;
                (
                    format!("m{n}"),
                    json!({ "mailboxIds": { folder.clone(): true }, "subject": format!("sync bench {n}"),
                    "from": [{ "email": "ann@example.com", "name": "Ann Lee" }],
                    "receivedAt": format!("2026-10-{:02}T{:02}:{:02}:00Z", 1 + n / 60 % 28, n / 60 % 24, n % 60),
                    "bodyValues": { "b": { "value": "x" } }, "textBody": [{ "partId": "b", "type": "text/plain" }] }),
                )
            })
            .collect();
        let call = create.call("Email/set", json!({ "accountId": account(&writer), "create": mails }));
        let created = writer.send(&create).await.expect("create").take(&call).expect("answered");
        ids.extend(
            created["created"]
                .as_object()
                .expect("created")
                .values()
                .filter_map(|v| v["id"].as_str().map(str::to_owned)),
        );
    }
    assert_eq!(ids.len(), CHANGES);
    let query = MailQuery::mailbox(&folder);
    let reader = client_for(gateway(), other_credentials()).await;
    let cache = Rc::new(OfflineCache::open(&unique("petrel-bench")).await.expect("IndexedDB"));
    let synced = engine(&reader, Some(cache)).await;
    synced.show(&query, 0, CHANGES as u64).await.expect("folder");
    assert_eq!(loaded(&synced, &query, CHANGES as u64), CHANGES);

    let (mut delta_ms, mut delta_requests, mut delta_bytes) = (Vec::new(), Vec::new(), Vec::new());
    let (mut full_ms, mut full_requests, mut full_bytes) = (Vec::new(), Vec::new(), Vec::new());
    for run in 0..RUNS {
        // 1,000 changes by another client: every message flagged, then unflagged on the next run.
        let mut update = Request::new().using(capability::MAIL);
        let flag = run % 2 == 0;
        let patches: serde_json::Map<String, serde_json::Value> = ids
            .iter()
            .map(|id| (id.clone(), json!({ "keywords/$flagged": if flag { json!(true) } else { json!(null) } })))
            .collect();
        update.call("Email/set", json!({ "accountId": account(&writer), "update": patches }));
        writer.send(&update).await.expect("change 1,000");

        let before = reader.stats();
        let t = now_ms();
        synced.sync().await.expect("delta sync");
        delta_ms.push(now_ms() - t);
        let after = reader.stats();
        if run == 0 {
            let calls: Vec<String> = after
                .methods
                .iter()
                .map(|(m, n)| format!("{m} {}", n - before.methods.get(m).copied().unwrap_or(0)))
                .filter(|s| !s.ends_with(" 0"))
                .collect();
            console_log!("delta sync calls: {}", calls.join(", "));
        }
        delta_requests.push((after.requests - before.requests) as f64);
        delta_bytes.push((after.bytes_received + after.bytes_sent - before.bytes_received - before.bytes_sent) as f64);
        let flagged = synced
            .read(|s| s.rows(&query, 0, CHANGES as u64))
            .into_iter()
            .filter(|r| matches!(r, Row::Loaded(e) if e.is_flagged()))
            .count();
        assert_eq!(flagged, if flag { CHANGES } else { 0 }, "every change applied");

        // The same folder fetched from nothing (into an empty offline cache, as the app keeps it).
        let fresh_client = client_for(gateway(), other_credentials()).await;
        let fresh_cache = Rc::new(OfflineCache::open(&unique("petrel-bench-fresh")).await.expect("IndexedDB"));
        let t = now_ms();
        let fresh = engine(&fresh_client, Some(fresh_cache)).await;
        fresh.show(&query, 0, CHANGES as u64).await.expect("refetch");
        full_ms.push(now_ms() - t);
        assert_eq!(loaded(&fresh, &query, CHANGES as u64), CHANGES);
        let stats = fresh_client.stats();
        full_requests.push(stats.requests as f64);
        full_bytes.push((stats.bytes_received + stats.bytes_sent) as f64);
    }
    let g = "6 sync (1,000 changes)";
    bench_line(g, "delta sync: time", "ms", &delta_ms);
    bench_line(g, "delta sync: requests", "requests", &delta_requests);
    bench_line(g, "delta sync: bytes sent + received", "B", &delta_bytes);
    bench_line(g, "full refetch: time", "ms", &full_ms);
    bench_line(g, "full refetch: requests", "requests", &full_requests);
    bench_line(g, "full refetch: bytes sent + received", "B", &full_bytes);
    let ratios: Vec<f64> = full_ms.iter().zip(&delta_ms).map(|(f, d)| f / d).collect();
    bench_line(g, "refetch time / delta time (same run)", "x", &ratios);
}

#[wasm_bindgen_test]
async fn outbox_enqueue_10000_and_dispatch() {
    let g = "7 outbox";
    // Enqueue and persist 10,000 jobs (no server set: nothing leaves).
    let mut per_second = Vec::new();
    for _ in 0..3 {
        let cache = Rc::new(OfflineCache::open(&unique("petrel-bench-outbox")).await.expect("IndexedDB"));
        let outbox = Outbox::open(Some(cache), Policy::default()).await;
        let t = now_ms();
        for n in 0..10_000 {
            outbox.enqueue("bench", draft(&format!("bench {n}")), Priority::Normal, None, 0).await.expect("enqueue");
        }
        per_second.push(10_000.0 / ((now_ms() - t) / 1000.0));
    }
    bench_line(g, "enqueue + persist 10,000 jobs", "jobs/s", &per_second);

    // Sustained dispatch to Cyrus (Email/set + EmailSubmission/set per job), 2 at a time.
    let client = client_for(gateway(), other_credentials()).await;
    let mail = engine(&client, None).await;
    let drafts = mail.read(|s| s.mailbox_with_role(Role::Drafts).map(|m| m.id.clone())).expect("Drafts");
    let sent = mail.read(|s| s.mailbox_with_role(Role::Sent).map(|m| m.id.clone()));
    let mut rates = Vec::new();
    for run in 0..3 {
        let cache = Rc::new(OfflineCache::open(&unique("petrel-bench-dispatch")).await.expect("IndexedDB"));
        let outbox = Outbox::open(Some(cache), Policy { server_hold: false, ..Policy::default() }).await;
        let key = format!("bench-dispatch-{run}");
        for n in 0..50 {
            outbox
                .enqueue(&key, draft(&format!("dispatch bench {run}.{n}")), Priority::Normal, None, 0)
                .await
                .expect("enqueue");
        }
        let t = now_ms();
        outbox.set_sender(
            &key,
            Sender {
                backend: Rc::new(JmapMail::new(client.clone()).expect("mail")),
                mailboxes: SendMailboxes { drafts: drafts.clone(), sent: sent.clone() },
            },
        );
        let done = outbox.run_until_idle().await;
        rates.push(done as f64 / ((now_ms() - t) / 1000.0));
        assert!(outbox.jobs().iter().all(|j| j.state == JobState::Sent), "every job sent");
    }
    bench_line(g, "dispatch to the server (50 jobs, 2 at a time)", "jobs/s", &rates);
}

fn wasm_memory_mib() -> f64 {
    common::wasm_memory_bytes() / 1_048_576.0
}

/// `performance.memory.usedJSHeapSize` in MiB (Chromium; coarse without its precise-memory flag).
fn js_heap_mib() -> f64 {
    let global = js_sys::global();
    js_sys::Reflect::get(&global, &"performance".into())
        .and_then(|p| js_sys::Reflect::get(&p, &"memory".into()))
        .and_then(|m| js_sys::Reflect::get(&m, &"usedJSHeapSize".into()))
        .ok()
        .and_then(|v| v.as_f64())
        .unwrap_or(0.0)
        / 1_048_576.0
}

#[wasm_bindgen_test]
async fn download_of_a_256_mib_blob_in_bounded_memory() {
    use petrel::jmap::blob::MemoryDigests;
    use petrel::jmap::blob_io;
    const MIB: u32 = 1024 * 1024;
    let client = client_for(gateway(), other_credentials()).await;
    let account = account(&client);
    // 256 MiB: one random MiB, 256 times over (the browser keeps the Blob, not wasm).
    let chunk = common::random_js_bytes(MIB);
    let parts = js_sys::Array::new();
    for _ in 0..256 {
        parts.push(&chunk);
    }
    let options = web_sys::BlobPropertyBag::new();
    options.set_type("application/octet-stream");
    let file = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).expect("blob");
    let digests = MemoryDigests::default();
    let uploaded = blob_io::upload(&client, &account, &file, "application/octet-stream", &digests, &|_| {})
        .await
        .expect("upload 256 MiB");
    let (mut growth, mut heap, mut speed) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..3 {
        let before = wasm_memory_mib();
        let heap_before = js_heap_mib();
        let t = now_ms();
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
        .expect("verified download");
        let secs = (now_ms() - t) / 1000.0;
        assert_eq!(blob.size(), 256.0 * MIB as f64);
        growth.push(wasm_memory_mib() - before);
        heap.push(js_heap_mib() - heap_before);
        speed.push(256.0 * 1.048576 / secs);
    }
    let g = "5 SHA-256, 256 MiB download";
    bench_line(g, "256 MiB verified download: wasm memory growth", "MiB", &growth);
    bench_line(g, "256 MiB verified download: JS heap after - before (garbage not yet collected counts)", "MiB", &heap);
    bench_line(g, "256 MiB verified download: throughput", "MB/s", &speed);
    console_log!("wasm memory after three 256 MiB downloads: {:.1} MiB", wasm_memory_mib());
}
