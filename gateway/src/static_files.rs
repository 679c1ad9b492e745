//! Serves the built app: correct MIME types, SPA fallback, cache headers and a strict CSP.

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_LENGTH, CONTENT_TYPE};
use hyper::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio_util::io::ReaderStream;
use futures_util::TryStreamExt;

use crate::{text_response, Body};

pub fn mime_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("wasm") => "application/wasm",
        Some("css") => "text/css; charset=utf-8",
        Some("json" | "map") => "application/json",
        Some("webmanifest") => "application/manifest+json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Maps a URL path onto a file under `root`, refusing anything that could leave it.
fn file_for(root: &Path, url_path: &str) -> Option<PathBuf> {
    let decoded = percent_decode(url_path)?;
    let mut path = root.to_path_buf();
    for component in Path::new(decoded.trim_start_matches('/')).components() {
        match component {
            Component::Normal(part) => path.push(part),
            Component::CurDir => {}
            _ => return None,
        }
    }
    Some(path)
}

/// Decodes %XX escapes; `None` for malformed escapes, non-UTF-8, NUL or backslashes.
pub(crate) fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    let decoded = String::from_utf8(out).ok()?;
    (!decoded.contains('\0') && !decoded.contains('\\')).then_some(decoded)
}

/// Trunk names hashed assets `name-<hex hash>.ext` (12 to 16 digits); those never change and may be cached for good.
fn is_hashed_asset(path: &Path) -> bool {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').map(|(_, h)| h.len() >= 12 && h.chars().all(|c| c.is_ascii_hexdigit())).unwrap_or(false)
}

/// The CSP for the app page: only our own scripts (plus the hashes of the inline loader Trunk
/// writes), wasm compilation, and nothing remote but API calls over https.
///
/// The mail reader's `srcdoc` frame inherits this policy and narrows it with its own (no script,
/// images only from data:/blob: until the user allows remote ones). Inline styles and http(s)
/// images are allowed here only so that a mail's own styles and, once allowed, its images can
/// load in that frame: the app itself renders no markup it did not build.
pub fn content_security_policy(index_html: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(" 'sha256-{}'", base64::engine::general_purpose::STANDARD.encode(digest))
        })
        .collect();
    format!(
        "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self' 'unsafe-inline'; \
         img-src 'self' data: blob: https: http:; font-src 'self'; connect-src 'self' https: wss:; manifest-src 'self'; \
         worker-src 'self'; frame-src blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements that have no `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    let mut rest = html;
    std::iter::from_fn(move || loop {
        let start = rest.find("<script")?;
        let open_end = start + rest[start..].find('>')?;
        let tag = &rest[start..open_end];
        let close = open_end + rest[open_end..].find("</script>")?;
        let body = &rest[open_end + 1..close];
        rest = &rest[close + "</script>".len()..];
        if !tag.contains(" src=") {
            return Some(body);
        }
    })
}

pub async fn serve(root: &Path, request: &Request<hyper::body::Incoming>) -> Response<Body> {
    if request.method() != Method::GET && request.method() != Method::HEAD {
        return text_response(StatusCode::METHOD_NOT_ALLOWED, "only GET and HEAD are served here");
    }
    let Some(mut path) = file_for(root, request.uri().path()) else {
        return text_response(StatusCode::BAD_REQUEST, "bad path");
    };
    if path.is_dir() {
        path.push("index.html");
    }
    let is_page_route = Path::new(request.uri().path()).extension().is_none();
    if !path.is_file() && is_page_route {
        // Client-side routes: the app itself decides what to show.
        path = root.join("index.html");
    }
    let index = path.file_name().and_then(|n| n.to_str()) == Some("index.html");
    if index {
        let Ok(html) = tokio::fs::read_to_string(&path).await else {
            return text_response(StatusCode::NOT_FOUND, "the app is not built: run `trunk build --release` first");
        };
        let mut response = Response::new(Full::new(Bytes::from(html.clone())).map_err(|e| match e {}).boxed_unsync());
        let headers = response.headers_mut();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        if let Ok(csp) = HeaderValue::from_str(&content_security_policy(&html)) {
            headers.insert("content-security-policy", csp);
        }
        add_security_headers(headers);
        return head_only(request, response);
    }
    let file = match tokio::fs::File::open(&path).await {
        Ok(f) => f,
        Err(_) => return text_response(StatusCode::NOT_FOUND, "not found"),
    };
    let length = file.metadata().await.map(|m| m.len()).ok();
    let stream = ReaderStream::new(file).map_ok(Frame::data).map_err(|e| Box::new(e) as crate::BoxError);
    let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime_type(&path)));
    if let Some(len) = length {
        headers.insert(CONTENT_LENGTH, HeaderValue::from(len));
    }
    let cache = if is_hashed_asset(&path) { "public, max-age=31536000, immutable" } else { "no-cache" };
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    add_security_headers(headers);
    head_only(request, response)
}

fn add_security_headers(headers: &mut hyper::HeaderMap) {
    headers.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    headers.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
}

fn head_only(request: &Request<hyper::body::Incoming>, response: Response<Body>) -> Response<Body> {
    if request.method() == Method::HEAD {
        let (parts, _) = response.into_parts();
        return Response::from_parts(parts, crate::empty_body());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_root() {
        let root = Path::new("/srv/app");
        assert_eq!(file_for(root, "/app.js"), Some(PathBuf::from("/srv/app/app.js")));
        assert_eq!(file_for(root, "/a/./b.css"), Some(PathBuf::from("/srv/app/a/b.css")));
        for bad in ["/../etc/passwd", "/%2e%2e/etc/passwd", "/a/%2E%2E/%2E%2E/x", "/%00", "/a%5c..%5cb", "/%zz"] {
            assert_eq!(file_for(root, bad), None, "{bad}");
        }
    }

    #[test]
    fn mime_types_browsers_require() {
        assert_eq!(mime_type(Path::new("x/petrel_bg.wasm")), "application/wasm");
        assert_eq!(mime_type(Path::new("petrel.js")), "text/javascript; charset=utf-8");
        assert_eq!(mime_type(Path::new("manifest.webmanifest")), "application/manifest+json");
    }

    #[test]
    fn hashed_assets_are_recognised() {
        assert!(is_hashed_asset(Path::new("petrel-1a2b3c4d5e6f7a8b_bg.wasm")));
        assert!(is_hashed_asset(Path::new("petrel-1a2b3c4d5e6f7a8b.js")));
        assert!(is_hashed_asset(Path::new("petrel-3d9fd2e948c917f.js")));
        assert!(!is_hashed_asset(Path::new("index.html")));
        assert!(!is_hashed_asset(Path::new("my-app.css")));
    }

    #[test]
    fn csp_carries_hashes_of_inline_scripts_only() {
        let html = r#"<script src="/x.js"></script><script type="module">import init from '/a.js';</script>"#;
        let csp = content_security_policy(html);
        let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(b"import init from '/a.js';"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 1);
        assert!(csp.contains("frame-ancestors 'none'"));
    }
}
