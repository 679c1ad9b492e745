//! `fetch` from whichever global scope the code runs in (window, dedicated or service worker).

use js_sys::{Function, Object, Reflect, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, ReadableStreamDefaultReader, RequestInit, Response};

use super::{HttpResponse, NetError};

/// One HTTP request. Built by the protocol layers; headers may carry credentials and are never logged.
#[derive(Clone)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Vec<u8>>,
    /// A browser Blob or File sent as the body without copying it into wasm memory.
    pub blob_body: Option<web_sys::Blob>,
    /// Responses larger than this fail with [`NetError::TooLarge`] without being buffered.
    pub body_limit: usize,
}

impl HttpRequest {
    pub fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            method: "GET",
            url: url.into(),
            headers: Vec::new(),
            body: None,
            blob_body: None,
            body_limit: super::DEFAULT_BODY_LIMIT,
        }
    }

    pub fn post(url: impl Into<String>, body: Vec<u8>) -> Self {
        HttpRequest {
            method: "POST",
            url: url.into(),
            headers: Vec::new(),
            body: Some(body),
            blob_body: None,
            body_limit: super::DEFAULT_BODY_LIMIT,
        }
    }

    /// A POST whose body is a browser Blob or File, streamed by the browser (never copied into wasm).
    pub fn post_blob(url: impl Into<String>, blob: web_sys::Blob) -> Self {
        HttpRequest {
            method: "POST",
            url: url.into(),
            headers: Vec::new(),
            body: None,
            blob_body: Some(blob),
            body_limit: super::DEFAULT_BODY_LIMIT,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn body_limit(mut self, limit: usize) -> Self {
        self.body_limit = limit;
        self
    }
}

/// Aborts the fetch when the future that owns it is dropped before it finished.
struct AbortOnDrop {
    controller: AbortController,
    finished: bool,
}

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if !self.finished {
            self.controller.abort();
        }
    }
}

pub(crate) fn js_message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".to_owned())
}

fn is_abort(value: &JsValue) -> bool {
    value.dyn_ref::<js_sys::Error>().map(|e| e.name() == "AbortError").unwrap_or(false)
}

/// Performs `request` and reads the whole body, up to `request.body_limit` bytes.
pub async fn fetch(request: HttpRequest) -> Result<HttpResponse, NetError> {
    let (response, mut guard) = start(&request).await?;
    let header = |name: &str| response.headers().get(name).ok().flatten();
    let content_type = header("content-type");
    let retry_after_secs = header("retry-after").and_then(|v| retry_after_secs(&v));
    if let Some(length) = header("content-length").and_then(|l| l.trim().parse::<usize>().ok()) {
        if length > request.body_limit {
            return Err(NetError::TooLarge { limit: request.body_limit });
        }
    }
    let body = read_body(&response, request.body_limit).await?;
    guard.finished = true;
    Ok(HttpResponse { status: response.status(), url: response.url(), content_type, retry_after_secs, body })
}

/// A response whose body is read chunk by chunk as it arrives (server push). Dropping it aborts
/// the request.
pub struct StreamingResponse {
    pub status: u16,
    pub content_type: Option<String>,
    reader: Option<ReadableStreamDefaultReader>,
    _guard: AbortOnDrop,
}

impl StreamingResponse {
    /// The next chunk; `None` when the server ended the body.
    pub async fn next_chunk(&mut self) -> Option<Result<Vec<u8>, NetError>> {
        Some(self.next_js_chunk().await?.map(|bytes| bytes.to_vec()))
    }

    /// The next chunk as the browser's own bytes, not copied into wasm memory.
    pub async fn next_js_chunk(&mut self) -> Option<Result<Uint8Array, NetError>> {
        let reader = self.reader.as_ref()?;
        let chunk = match JsFuture::from(reader.read()).await {
            Ok(chunk) => chunk,
            Err(e) => {
                return Some(Err(if is_abort(&e) { NetError::Aborted } else { NetError::Interrupted(js_message(&e)) }))
            }
        };
        if Reflect::get(&chunk, &JsValue::from_str("done")).map(|d| d.is_truthy()).unwrap_or(true) {
            self.reader = None;
            return None;
        }
        match Reflect::get(&chunk, &JsValue::from_str("value")).ok().and_then(|v| v.dyn_into::<Uint8Array>().ok()) {
            Some(bytes) => Some(Ok(bytes)),
            None => Some(Err(NetError::Interrupted("response body chunk was not bytes".into()))),
        }
    }

    /// The whole rest of the body, up to `limit` bytes (for error responses).
    pub async fn rest(&mut self, limit: usize) -> Result<Vec<u8>, NetError> {
        let mut body = Vec::new();
        while let Some(chunk) = self.next_chunk().await {
            body.extend(chunk?);
            if body.len() > limit {
                return Err(NetError::TooLarge { limit });
            }
        }
        Ok(body)
    }
}

/// Starts `request` and returns as soon as the headers are in.
pub async fn fetch_stream(request: HttpRequest) -> Result<StreamingResponse, NetError> {
    let (response, guard) = start(&request).await?;
    let content_type = response.headers().get("content-type").ok().flatten();
    let reader = match response.body() {
        Some(stream) => Some(
            stream
                .get_reader()
                .dyn_into::<ReadableStreamDefaultReader>()
                .map_err(|_| NetError::NoFetch("no stream reader".into()))?,
        ),
        None => None,
    };
    Ok(StreamingResponse { status: response.status(), content_type, reader, _guard: guard })
}

async fn start(request: &HttpRequest) -> Result<(Response, AbortOnDrop), NetError> {
    let controller = AbortController::new().map_err(|e| NetError::NoFetch(js_message(&e)))?;
    let guard = AbortOnDrop { controller, finished: false };

    let headers = Headers::new().map_err(|e| NetError::NoFetch(js_message(&e)))?;
    for (name, value) in &request.headers {
        headers.append(name, value).map_err(|e| NetError::NoFetch(js_message(&e)))?;
    }
    let init = RequestInit::new();
    init.set_method(request.method);
    init.set_headers(&headers);
    init.set_signal(Some(&guard.controller.signal()));
    // Credentials go in the Authorization header we set; cookies are never wanted.
    init.set_credentials(web_sys::RequestCredentials::Omit);
    // Mail never goes to the browser's HTTP cache: it would outlive sign-out (the offline copy
    // is IndexedDB, which sign-out wipes), and a cached session or list is a stale one.
    init.set_cache(web_sys::RequestCache::NoStore);
    if let Some(body) = &request.body {
        init.set_body(&Uint8Array::from(body.as_slice()));
    } else if let Some(blob) = &request.blob_body {
        init.set_body(blob);
    }

    let global: Object = js_sys::global();
    let fetch_fn: Function = Reflect::get(&global, &JsValue::from_str("fetch"))
        .ok()
        .and_then(|f| f.dyn_into().ok())
        .ok_or_else(|| NetError::NoFetch("no fetch in this global scope".into()))?;
    let promise = fetch_fn
        .call2(&global, &JsValue::from_str(&request.url), &init)
        .map_err(|e| NetError::Unreachable(js_message(&e)))?;
    let response: Response = JsFuture::from(js_sys::Promise::from(promise))
        .await
        .map_err(|e| if is_abort(&e) { NetError::Aborted } else { NetError::Unreachable(js_message(&e)) })?
        .dyn_into()
        .map_err(|_| NetError::NoFetch("fetch did not return a Response".into()))?;
    Ok((response, guard))
}

/// Reads a body chunk by chunk, stopping (and cancelling the stream) as soon as it passes `limit`.
async fn read_body(response: &Response, limit: usize) -> Result<Vec<u8>, NetError> {
    let Some(stream) = response.body() else { return Ok(Vec::new()) };
    let reader: ReadableStreamDefaultReader =
        stream.get_reader().dyn_into().map_err(|_| NetError::NoFetch("response body has no default reader".into()))?;
    let mut body = Vec::new();
    loop {
        let chunk = JsFuture::from(reader.read()).await.map_err(|e| {
            if is_abort(&e) {
                NetError::Aborted
            } else {
                NetError::Interrupted(js_message(&e))
            }
        })?;
        let done = Reflect::get(&chunk, &JsValue::from_str("done")).map(|d| d.is_truthy()).unwrap_or(true);
        if done {
            return Ok(body);
        }
        let value: Uint8Array = Reflect::get(&chunk, &JsValue::from_str("value"))
            .ok()
            .and_then(|v| v.dyn_into().ok())
            .ok_or_else(|| NetError::Interrupted("response body chunk was not bytes".into()))?;
        if body.len() + value.length() as usize > limit {
            let _ = reader.cancel();
            return Err(NetError::TooLarge { limit });
        }
        let start = body.len();
        body.resize(start + value.length() as usize, 0);
        value.copy_to(&mut body[start..]);
    }
}

/// A `Retry-After` header value as seconds from now.
pub fn retry_after_secs(value: &str) -> Option<u64> {
    super::retry_after::parse_retry_after(value, (now_ms() / 1000.0) as u64)
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> f64 {
    js_sys::Date::now()
}

/// Resolves after `ms` milliseconds, using the global scope's `setTimeout` (window or worker).
pub async fn sleep(ms: u32) {
    let promise = js_sys::Promise::new(&mut |resolve, _| {
        let global = js_sys::global();
        let set_timeout =
            Reflect::get(&global, &JsValue::from_str("setTimeout")).ok().and_then(|f| f.dyn_into::<Function>().ok());
        match set_timeout {
            Some(f) => {
                let _ = f.call2(&global, &resolve, &JsValue::from(ms));
            }
            None => {
                let _ = resolve.call0(&JsValue::NULL);
            }
        }
    });
    let _ = JsFuture::from(promise).await;
}
