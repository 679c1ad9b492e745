//! Moving blobs (wasm): upload with progress and SHA-256, download streamed through the check.

use futures_util::future::{FutureExt, LocalBoxFuture};
use js_sys::{Array, Reflect, Uint8Array};
use serde::Deserialize;
use serde_json::json;
use wasm_bindgen::{closure::Closure, JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

use super::blob::{DigestStore, Sha256Digest, StreamingSha256};
use super::client::JmapClient;
use super::error::{body_excerpt, status_error};
use super::{capability, JmapError, Request};
use crate::net::queue::LocalQueue;
use crate::net::{fetch, fetch_stream, retry_after_secs, HttpRequest, HttpResponse, NetError};

/// Slices read at once while hashing a file before upload.
const HASH_SLICE: f64 = 1024.0 * 1024.0;
/// Bytes copied into wasm at once while hashing a download.
const HASH_WINDOW: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Reading the file to compute its SHA-256.
    Hashing {
        done: u64,
        total: u64,
    },
    Uploading {
        done: u64,
        total: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadedBlob {
    pub blob_id: String,
    pub size: u64,
    pub content_type: String,
    pub sha256: Sha256Digest,
}

fn js_error(e: JsValue) -> JmapError {
    JmapError::Network(NetError::Interrupted(crate::net::fetch_js_message(&e)))
}

/// Computes the SHA-256 of a browser Blob or File, reading it a slice at a time.
pub async fn sha256_of(file: &web_sys::Blob, on_progress: &dyn Fn(Progress)) -> Result<Sha256Digest, JmapError> {
    let total = file.size();
    let mut hasher = StreamingSha256::new(u64::MAX);
    let mut buffer = Vec::new();
    let mut start = 0.0;
    while start < total {
        let end = (start + HASH_SLICE).min(total);
        let slice = file.slice_with_f64_and_f64(start, end).map_err(js_error)?;
        let bytes = Uint8Array::new(&JsFuture::from(slice.array_buffer()).await.map_err(js_error)?);
        buffer.resize(bytes.length() as usize, 0);
        bytes.copy_to(&mut buffer);
        hasher.update(&buffer)?;
        start = end;
        on_progress(Progress::Hashing { done: start as u64, total: total as u64 });
    }
    Ok(hasher.finish())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UploadAnswer {
    blob_id: String,
    #[serde(rename = "type")]
    content_type: String,
    size: u64,
}

/// Uploads `file`, hashing it first, and records its digest under the new blob id. Boxed, as
/// `download`: one copy of the code, whoever awaits it.
pub fn upload<'a>(
    client: &'a JmapClient,
    account_id: &'a str,
    file: &'a web_sys::Blob,
    content_type: &'a str,
    digests: &'a dyn DigestStore,
    on_progress: &'a dyn Fn(Progress),
) -> LocalBoxFuture<'a, Result<UploadedBlob, JmapError>> {
    upload_now(client, account_id, file, content_type, digests, on_progress).boxed_local()
}

async fn upload_now(
    client: &JmapClient,
    account_id: &str,
    file: &web_sys::Blob,
    content_type: &str,
    digests: &dyn DigestStore,
    on_progress: &dyn Fn(Progress),
) -> Result<UploadedBlob, JmapError> {
    let session = client.session();
    let size = file.size() as u64;
    if size > session.core.max_size_upload {
        return Err(JmapError::BlobTooLarge { limit: session.core.max_size_upload });
    }
    let sha256 = sha256_of(file, on_progress).await?;
    let url = session.upload_url(account_id);
    let auth = client.credentials().authorization_header();
    let has_xhr = Reflect::has(&js_sys::global(), &JsValue::from_str("XMLHttpRequest")).unwrap_or(false);
    let response = if has_xhr {
        upload_with_xhr(&url, &auth, file, content_type, on_progress).await?
    } else {
        // Service workers have no XMLHttpRequest: no progress while the bytes go out.
        let request = HttpRequest::post_blob(url, file.clone())
            .header("authorization", auth)
            .header("content-type", content_type.to_owned())
            .body_limit(64 * 1024);
        let response = fetch(request).await?;
        on_progress(Progress::Uploading { done: size, total: size });
        response
    };
    if let Some(err) = status_error(&response) {
        return Err(err);
    }
    let answer: UploadAnswer = serde_json::from_slice(&response.body).map_err(|e| {
        JmapError::Protocol(format!("the upload answer is malformed ({e}): {}", body_excerpt(&response.body)))
    })?;
    if answer.size != size {
        return Err(JmapError::Protocol(format!("the server stored {} bytes of a {size}-byte file", answer.size)));
    }
    digests.put(account_id, &answer.blob_id, sha256);
    Ok(UploadedBlob { blob_id: answer.blob_id, size, content_type: answer.content_type, sha256 })
}

enum XhrEvent {
    Progress(u64, u64),
    Done,
    Failed(String),
}

/// XMLHttpRequest, for its upload progress events; aborted if the caller goes away.
async fn upload_with_xhr(
    url: &str,
    auth: &str,
    file: &web_sys::Blob,
    content_type: &str,
    on_progress: &dyn Fn(Progress),
) -> Result<HttpResponse, JmapError> {
    struct AbortXhr(web_sys::XmlHttpRequest, bool);
    impl Drop for AbortXhr {
        fn drop(&mut self) {
            if !self.1 {
                let _ = self.0.abort();
            }
        }
    }
    let xhr = web_sys::XmlHttpRequest::new().map_err(js_error)?;
    xhr.open("POST", url).map_err(js_error)?;
    xhr.set_request_header("authorization", auth).map_err(js_error)?;
    xhr.set_request_header("content-type", content_type).map_err(js_error)?;
    let events = LocalQueue::new();
    let progress = {
        let events = events.clone();
        Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(move |e: web_sys::ProgressEvent| {
            events.push(XhrEvent::Progress(e.loaded() as u64, e.total() as u64))
        })
    };
    let done = {
        let events = events.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| events.push(XhrEvent::Done))
    };
    let failed = {
        let events = events.clone();
        Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            events.push(XhrEvent::Failed("the upload was interrupted".into()))
        })
    };
    let upload = xhr.upload().map_err(js_error)?;
    upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    xhr.set_onload(Some(done.as_ref().unchecked_ref()));
    xhr.set_onerror(Some(failed.as_ref().unchecked_ref()));
    xhr.set_onabort(Some(failed.as_ref().unchecked_ref()));
    let mut guard = AbortXhr(xhr.clone(), false);
    xhr.send_with_opt_blob(Some(file)).map_err(js_error)?;
    loop {
        match events.next().await {
            Some(XhrEvent::Progress(done, total)) => on_progress(Progress::Uploading { done, total }),
            Some(XhrEvent::Done) => break,
            Some(XhrEvent::Failed(why)) => return Err(JmapError::Network(NetError::Unreachable(why))),
            None => return Err(JmapError::Network(NetError::Aborted)),
        }
    }
    guard.1 = true;
    let text = xhr.response_text().ok().flatten().unwrap_or_default();
    let retry_after_secs = xhr.get_response_header("retry-after").ok().flatten().and_then(|v| retry_after_secs(&v));
    Ok(HttpResponse {
        status: xhr.status().unwrap_or(0),
        url: url.to_owned(),
        content_type: xhr.get_response_header("content-type").ok().flatten(),
        retry_after_secs,
        body: text.into_bytes(),
    })
}

/// The digest the server states for a blob (RFC 9404), when it offers the blob capability.
pub async fn server_digest(
    client: &JmapClient,
    account_id: &str,
    blob_id: &str,
) -> Result<Option<Sha256Digest>, JmapError> {
    if !client.session().has_capability(capability::BLOB) {
        return Ok(None);
    }
    let mut request = Request::new().using(capability::BLOB);
    let call = request.call(
        "Blob/get",
        json!({ "accountId": account_id, "ids": [blob_id], "properties": ["digest:sha-256", "size"] }),
    );
    let args = client.send(&request).await?.take(&call)?;
    let stated = args["list"].get(0).and_then(|b| b["digest:sha-256"].as_str()).map(str::to_owned);
    match stated {
        Some(text) => Sha256Digest::from_base64(&text)
            .map(Some)
            .ok_or_else(|| JmapError::Protocol(format!("Blob/get gave a malformed digest {text:?}"))),
        None => Ok(None),
    }
}

/// Downloads a blob through the SHA-256 check and returns it as a browser Blob. The bytes stay in
/// the browser's memory, never whole in wasm; on a mismatch they are dropped.
pub fn download<'a>(
    client: &'a JmapClient,
    account_id: &'a str,
    blob_id: &'a str,
    name: &'a str,
    content_type: &'a str,
    digests: &'a dyn DigestStore,
    max_bytes: u64,
) -> LocalBoxFuture<'a, Result<web_sys::Blob, JmapError>> {
    download_now(client, account_id, blob_id, name, content_type, digests, max_bytes).boxed_local()
}

async fn download_now(
    client: &JmapClient,
    account_id: &str,
    blob_id: &str,
    name: &str,
    content_type: &str,
    digests: &dyn DigestStore,
    max_bytes: u64,
) -> Result<web_sys::Blob, JmapError> {
    // Both must hold when both exist: the server's statement (RFC 9404) for this fetch, and the
    // digest recorded at upload or first fetch for every fetch after, so a server that later
    // serves other bytes under the same id (and states their digest) is caught too.
    let stated = server_digest(client, account_id, blob_id).await?;
    let recorded = digests.get(account_id, blob_id);
    let url = client.session().download_url(account_id, blob_id, name, content_type);
    let mut response =
        fetch_stream(HttpRequest::get(url).header("authorization", client.credentials().authorization_header()))
            .await?;
    if response.status != 200 {
        let body = response.rest(64 * 1024).await.unwrap_or_default();
        let answer = HttpResponse {
            status: response.status,
            url: String::new(),
            content_type: response.content_type.clone(),
            retry_after_secs: None,
            body,
        };
        return Err(status_error(&answer)
            .unwrap_or_else(|| JmapError::Protocol(format!("download answered HTTP {}", answer.status))));
    }
    let parts = Array::new();
    let mut hasher = StreamingSha256::new(max_bytes);
    // Browsers deliver chunks of any size: hash each through a fixed window so wasm memory stays flat.
    let mut window = vec![0u8; HASH_WINDOW];
    while let Some(chunk) = response.next_js_chunk().await {
        let chunk = chunk?;
        let (mut at, len) = (0, chunk.length());
        while at < len {
            let end = (at + HASH_WINDOW as u32).min(len);
            let piece = &mut window[..(end - at) as usize];
            chunk.subarray(at, end).copy_to(piece);
            hasher.update(piece)?;
            at = end;
        }
        parts.push(&chunk);
    }
    let digest = hasher.verify(blob_id, recorded.or(stated))?;
    if let Some(stated) = stated.filter(|s| *s != digest) {
        return Err(JmapError::BlobDigestMismatch {
            blob_id: blob_id.to_owned(),
            expected: stated.to_hex(),
            actual: digest.to_hex(),
        });
    }
    if recorded.is_none() {
        // First fetch: from now on this blob must always hash the same.
        digests.put(account_id, blob_id, digest);
    }
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(content_type);
    web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options).map_err(js_error)
}
