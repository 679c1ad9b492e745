//! The mail core must run in workers: no DOM, no window, no Leptos outside `src/ui`.

#![cfg(not(target_arch = "wasm32"))]

use std::fs;
use std::path::Path;

const CORE: [&str; 6] = ["src/auth.rs", "src/net", "src/jmap", "src/mail", "src/cache", "src/outbox"];
const FORBIDDEN: [&str; 7] = ["leptos", "web_sys::window", "web_sys::Window", "Document", "HtmlElement", "local_storage", "crate::ui"];

fn rust_files(path: &Path, out: &mut Vec<std::path::PathBuf>) {
    if path.is_dir() {
        for entry in fs::read_dir(path).expect("readable source folder") {
            rust_files(&entry.expect("directory entry").path(), out);
        }
    } else if path.extension().is_some_and(|e| e == "rs") {
        out.push(path.to_path_buf());
    }
}

#[test]
fn core_modules_use_no_dom_and_no_ui() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    for part in CORE {
        rust_files(&root.join(part), &mut files);
    }
    assert!(files.len() >= 8, "the core's files were not found: {files:?}");
    let mut offences = Vec::new();
    for file in &files {
        let text = fs::read_to_string(file).expect("readable source file");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for word in FORBIDDEN {
                if code.contains(word) {
                    offences.push(format!("{}:{}: {word}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(offences.is_empty(), "DOM or UI use in the core:\n{}", offences.join("\n"));
}
