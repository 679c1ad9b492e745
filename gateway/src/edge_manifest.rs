//! The app's files as petrel-edge serves them, written once at build time. An edge worker has no
//! file system to look at (Cloudflare serves a directory of assets, Deno Deploy the deployed files):
//! this manifest tells it, per URL path, the headers this gateway would send (type, caching, the
//! page's CSP, the security headers) and which precompressed copies exist with their validators.
//! The rules stay here, in one place, and the worker applies them.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::static_files::{cache_control, content_security_policy, mime_type, PRECOMPRESSED, SECURITY_HEADERS};

/// The manifest of the app in `root`.
pub fn manifest(root: &Path) -> std::io::Result<Value> {
    let mut files = Map::new();
    let mut paths = Vec::new();
    collect(root, &mut paths)?;
    paths.sort();
    for path in paths {
        let name = path.to_string_lossy();
        if PRECOMPRESSED.iter().any(|(_, suffix)| name.ends_with(&format!(".{suffix}"))) {
            continue;
        }
        let Ok(relative) = path.strip_prefix(root) else { continue };
        let url_path = format!("/{}", relative.to_string_lossy().replace('\\', "/"));
        let bytes = std::fs::read(&path)?;
        let mut headers = Map::new();
        headers.insert("content-type".into(), mime_type(&path).into());
        headers.insert("cache-control".into(), cache_control(&path).into());
        if path.file_name().and_then(|n| n.to_str()) == Some("index.html") {
            let html = String::from_utf8_lossy(&bytes);
            headers.insert("content-security-policy".into(), content_security_policy(&html).into());
        }
        for (name, value) in SECURITY_HEADERS {
            headers.insert(name.into(), value.into());
        }
        let modified = std::fs::metadata(&path)?.modified().ok();
        let mut encodings = Map::new();
        for (coding, suffix) in PRECOMPRESSED {
            let copy = PathBuf::from(format!("{name}.{suffix}"));
            let Ok(meta) = std::fs::metadata(&copy) else { continue };
            // A copy older than its file is stale and never served (as by the gateway).
            if meta.is_file() && meta.modified().ok() >= modified {
                encodings
                    .insert(coding.into(), variant(&std::fs::read(&copy)?, coding, &format!("{url_path}.{suffix}")));
            }
        }
        encodings.insert("identity".into(), variant(&bytes, "identity", &url_path));
        files.insert(url_path, json!({ "headers": headers, "encodings": encodings }));
    }
    Ok(json!({ "files": files }))
}

/// One stored copy: where it is, its length and a strong validator from its content.
fn variant(bytes: &[u8], coding: &str, file: &str) -> Value {
    let digest = Sha256::digest(bytes);
    let hex: String = digest.iter().take(12).map(|b| format!("{b:02x}")).collect();
    json!({ "file": file, "length": bytes.len(), "etag": format!("\"{hex}-{coding}\"") })
}

fn collect(dir: &Path, into: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            collect(&path, into)?;
        } else {
            into.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_files_with_the_gateways_headers_and_fresh_copies_only() {
        let root = std::env::temp_dir().join(format!("petrel-manifest-{}", std::process::id()));
        std::fs::create_dir_all(root.join("assets")).unwrap();
        std::fs::write(root.join("index.html"), "<script>boot()</script><script src=x.js></script>").unwrap();
        std::fs::write(root.join("assets/app-0123456789abcdef.wasm"), b"wasm").unwrap();
        std::fs::write(root.join("assets/app-0123456789abcdef.wasm.br"), b"br").unwrap();
        let manifest = manifest(&root).unwrap();
        let index = &manifest["files"]["/index.html"];
        assert_eq!(index["headers"]["cache-control"], "no-cache");
        assert!(index["headers"]["content-security-policy"].as_str().unwrap().contains("'sha256-"));
        assert_eq!(index["headers"]["x-content-type-options"], "nosniff");
        let wasm = &manifest["files"]["/assets/app-0123456789abcdef.wasm"];
        assert_eq!(wasm["headers"]["content-type"], "application/wasm");
        assert_eq!(wasm["headers"]["cache-control"], "public, max-age=31536000, immutable");
        assert_eq!(wasm["encodings"]["br"]["file"], "/assets/app-0123456789abcdef.wasm.br");
        assert!(wasm["encodings"]["gzip"].is_null());
        assert_ne!(wasm["encodings"]["br"]["etag"], wasm["encodings"]["identity"]["etag"]);
        assert!(
            manifest["files"]["/assets/app-0123456789abcdef.wasm.br"].is_null(),
            "copies are not files of their own"
        );
        std::fs::remove_dir_all(root).unwrap();
    }
}
