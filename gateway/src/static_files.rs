//! Serves the built app: correct MIME types, SPA fallback, cache headers and a strict CSP.

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use futures_util::TryStreamExt;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{
    HeaderValue, ACCEPT_ENCODING, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, ETAG, IF_NONE_MATCH,
    VARY,
};
use hyper::{Method, Request, Response, StatusCode};
use sha2::{Digest, Sha256};
use tokio_util::io::ReaderStream;

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
pub fn percent_decode(s: &str) -> Option<String> {
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

/// The build names hashed assets `name-<hex hash>.ext` (12 to 16 digits); those never change and may be cached for good.
fn is_hashed_asset(path: &Path) -> bool {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-').map(|(_, h)| h.len() >= 12 && h.chars().all(|c| c.is_ascii_hexdigit())).unwrap_or(false)
}

/// The CSP for the app page: only our own scripts (plus the hashes of the inline loader the build
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
    // The page's CSP hashes its inline scripts, so it is read as text whatever encoding is sent.
    let csp = if index {
        match tokio::fs::read_to_string(&path).await {
            Ok(html) => Some(content_security_policy(&html)),
            Err(_) => {
                return text_response(StatusCode::NOT_FOUND, "the app is not built: run `trunk build --release` first")
            }
        }
    } else {
        None
    };
    let Ok(identity) = tokio::fs::metadata(&path).await else {
        return text_response(StatusCode::NOT_FOUND, "not found");
    };
    let accept = request.headers().get(ACCEPT_ENCODING).and_then(|v| v.to_str().ok()).unwrap_or("");
    let variants = precompressed_variants(&path, &identity).await;
    let chosen = choose_encoding(accept, variants.iter().map(|(coding, _, _)| *coding));
    let (served_path, served_meta, coding) =
        match chosen.and_then(|c| variants.iter().find(|(coding, _, _)| *coding == c)) {
            Some((coding, variant_path, meta)) => (variant_path.clone(), meta.clone(), Some(*coding)),
            None => (path.clone(), identity, None),
        };
    let etag = entity_tag(&served_meta, coding);

    let mut response = if if_none_match(request, &etag) {
        let mut not_modified = Response::new(crate::empty_body());
        *not_modified.status_mut() = StatusCode::NOT_MODIFIED;
        not_modified
    } else {
        let file = match tokio::fs::File::open(&served_path).await {
            Ok(f) => f,
            Err(_) => return text_response(StatusCode::NOT_FOUND, "not found"),
        };
        let stream = ReaderStream::new(file).map_ok(Frame::data).map_err(|e| Box::new(e) as crate::BoxError);
        let mut response = Response::new(BodyExt::boxed_unsync(StreamBody::new(stream)));
        response.headers_mut().insert(CONTENT_LENGTH, HeaderValue::from(served_meta.len()));
        response
    };
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(mime_type(&path)));
    if let Some(coding) = coding {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static(coding));
    }
    if !variants.is_empty() {
        // Caches must keep one copy per encoding.
        headers.insert(VARY, HeaderValue::from_static("accept-encoding"));
    }
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(ETAG, etag);
    }
    headers.insert(CACHE_CONTROL, HeaderValue::from_static(cache_control(&path)));
    if let Some(csp) = csp.and_then(|csp| HeaderValue::from_str(&csp).ok()) {
        headers.insert("content-security-policy", csp);
    }
    for (name, value) in SECURITY_HEADERS {
        headers.insert(name, HeaderValue::from_static(value));
    }
    head_only(request, response)
}

/// How long a file may be kept: hashed assets for good, everything else (the page, the service
/// worker, the manifest) checked each time.
pub fn cache_control(path: &Path) -> &'static str {
    let index = path.file_name().and_then(|n| n.to_str()) == Some("index.html");
    if !index && is_hashed_asset(path) {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

/// The copies scripts/build writes beside a file, best first: (Content-Encoding, file suffix).
pub const PRECOMPRESSED: [(&str, &str); 2] = [("br", "br"), ("gzip", "gz")];

/// The copies scripts/build writes beside a file (`x.wasm.br`, `x.wasm.gz`), best first, as
/// (Content-Encoding, path, metadata). A copy older than its file is stale and never served.
async fn precompressed_variants(
    path: &Path,
    identity: &std::fs::Metadata,
) -> Vec<(&'static str, PathBuf, std::fs::Metadata)> {
    let mut found = Vec::new();
    for (coding, suffix) in PRECOMPRESSED {
        let mut name = path.as_os_str().to_owned();
        name.push(".");
        name.push(suffix);
        let variant = PathBuf::from(name);
        let Ok(meta) = tokio::fs::metadata(&variant).await else { continue };
        let fresh = match (meta.modified(), identity.modified()) {
            (Ok(copy), Ok(original)) => copy >= original,
            _ => false,
        };
        if meta.is_file() && fresh {
            found.push((coding, variant, meta));
        }
    }
    found
}

/// Picks the encoding to send from `Accept-Encoding` (RFC 9110 12.5.3) among those available (best
/// first): the highest q-value wins, ties go to the earlier one; `None` means identity.
pub fn choose_encoding<'a>(accept_encoding: &str, available: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let weight_of = |coding: &str| -> f32 {
        let mut wildcard = None;
        for item in accept_encoding.split(',') {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q=").or_else(|| p.trim().strip_prefix("Q=")))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            if name.eq_ignore_ascii_case(coding) {
                return q;
            }
            if name == "*" {
                wildcard = Some(q);
            }
        }
        wildcard.unwrap_or(0.0)
    };
    let mut best: Option<(&str, f32)> = None;
    for coding in available {
        let q = weight_of(coding);
        if q > 0.0 && best.is_none_or(|(_, b)| q > b) {
            best = Some((coding, q));
        }
    }
    best.map(|(coding, _)| coding)
}

/// A strong validator per file and encoding: the same bytes always get the same tag, and the
/// brotli and gzip copies of one file never share one.
fn entity_tag(meta: &std::fs::Metadata, coding: Option<&str>) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|m| m.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!("\"{:x}-{:x}-{}\"", meta.len(), modified, coding.unwrap_or("identity"))
}

fn if_none_match(request: &Request<hyper::body::Incoming>, etag: &str) -> bool {
    request
        .headers()
        .get_all(IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// Sent with every file.
pub const SECURITY_HEADERS: [(&str, &str); 2] =
    [("x-content-type-options", "nosniff"), ("referrer-policy", "no-referrer")];

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
    fn encoding_follows_accept_encoding_and_q_values() {
        let both = || ["br", "gzip"].into_iter();
        assert_eq!(choose_encoding("gzip, deflate, br, zstd", both()), Some("br"));
        assert_eq!(choose_encoding("gzip", both()), Some("gzip"));
        assert_eq!(choose_encoding("br;q=0.5, gzip;q=0.9", both()), Some("gzip"));
        assert_eq!(choose_encoding("br;q=0, gzip", both()), Some("gzip"));
        assert_eq!(choose_encoding("*", both()), Some("br"));
        assert_eq!(choose_encoding("*;q=0, identity", both()), None);
        assert_eq!(choose_encoding("", both()), None);
        assert_eq!(choose_encoding("deflate", both()), None);
        assert_eq!(choose_encoding("BR", both()), Some("br"));
        assert_eq!(choose_encoding("br", ["gzip"].into_iter()), None);
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
