//! The architecture, checked: the mail core runs in workers (no DOM, no window, no Leptos outside
//! `src/ui`), the mail model is a leaf that knows no protocol and no cache, and nothing in `src/`
//! imports in a circle.

#![cfg(not(target_arch = "wasm32"))]

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fs;
use std::path::Path;

const CORE: [&str; 7] = ["src/auth.rs", "src/net", "src/jmap", "src/mail", "src/cache", "src/outbox", "src/rustmailer"];
const FORBIDDEN: [&str; 7] =
    ["leptos", "web_sys::window", "web_sys::Window", "Document", "HtmlElement", "local_storage", "crate::ui"];

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

/// A module's path from `src/`: `src/jmap/mail/sync.rs` is `["jmap", "mail", "sync"]`, a `mod.rs`
/// is its folder's module.
fn module_of(file: &Path, src: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).expect("a file under src/");
    let mut parts: Vec<String> = relative.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let last = parts.pop().expect("a file name");
    if last != "mod.rs" {
        parts.push(last.trim_end_matches(".rs").to_owned());
    }
    parts
}

/// Every module a file names through `crate::` or `super::` paths (comments left out), as the
/// longest known module each path starts with.
fn references(text: &str, module: &[String], known: &HashSet<Vec<String>>) -> BTreeSet<Vec<String>> {
    let code: String = text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n");
    let mut found = BTreeSet::new();
    let bytes = code.as_bytes();
    let mut at = 0;
    while let Some(offset) = code[at..].find(['c', 's']) {
        let start = at + offset;
        at = start + 1;
        if start > 0
            && (bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_' || bytes[start - 1] == b':')
        {
            continue;
        }
        let rest = &code[start..];
        let (mut base, mut tail) = if let Some(t) = rest.strip_prefix("crate::") {
            (Vec::new(), t)
        } else if rest.starts_with("super::") {
            // A file's own module is its parent's child; `mod.rs` is its folder.
            let mut base = module.to_vec();
            let mut tail = rest;
            while let Some(t) = tail.strip_prefix("super::") {
                if base.pop().is_none() {
                    break;
                }
                tail = t;
            }
            (base, tail)
        } else {
            continue;
        };
        // The path's segments, and the first segment of each name in a `{...}` group.
        let mut heads = Vec::new();
        loop {
            let segment: String = tail.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect();
            if segment.is_empty() {
                if let Some(group) = tail.strip_prefix('{') {
                    let inner = &group[..group.find('}').unwrap_or(group.len())];
                    heads.extend(
                        inner
                            .split(',')
                            .map(|n| n.trim().split("::").next().unwrap_or("").to_owned())
                            .filter(|n| !n.is_empty()),
                    );
                }
                break;
            }
            tail = &tail[segment.len()..];
            let mut deeper = base.clone();
            deeper.push(segment);
            if !known.contains(&deeper) {
                break;
            }
            base = deeper;
            match tail.strip_prefix("::") {
                Some(t) => tail = t,
                None => break,
            }
        }
        for head in heads {
            let mut deeper = base.clone();
            deeper.push(head);
            if known.contains(&deeper) {
                found.insert(deeper);
            }
        }
        found.insert(base);
    }
    found
}

/// `src/`'s modules and, for each, the modules it names.
fn import_graph() -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.retain(|f| f.file_name().is_some_and(|n| n != "lib.rs" && n != "main.rs"));
    let known: HashSet<Vec<String>> = files.iter().map(|f| module_of(f, &src)).collect();
    let mut graph: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for file in &files {
        let module = module_of(file, &src);
        let text = fs::read_to_string(file).expect("readable source file");
        graph.entry(module.clone()).or_default().extend(references(&text, &module, &known));
    }
    graph
}

/// A circle among `nodes` (each named by a path) under `edges`, if there is one.
fn find_circle(edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>) -> Option<Vec<Vec<String>>> {
    fn visit(
        node: &Vec<String>,
        edges: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
        path: &mut Vec<Vec<String>>,
        done: &mut HashSet<Vec<String>>,
    ) -> Option<Vec<Vec<String>>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut circle = path[at..].to_vec();
            circle.push(node.clone());
            return Some(circle);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(circle) = visit(next, edges, path, done) {
                return Some(circle);
            }
        }
        path.pop();
        done.insert(node.clone());
        None
    }
    let mut done = HashSet::new();
    edges.keys().find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

/// The import edges between the children of `folder` (a module path): a child names another when
/// any module inside it names anything inside the other.
fn edges_between_children(
    graph: &BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
    folder: &[String],
) -> BTreeMap<Vec<String>, BTreeSet<Vec<String>>> {
    let child_of =
        |m: &Vec<String>| (m.len() > folder.len() && m.starts_with(folder)).then(|| m[..=folder.len()].to_vec());
    let mut edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (from, targets) in graph {
        let Some(a) = child_of(from) else { continue };
        for to in targets {
            if let Some(b) = child_of(to) {
                if a != b {
                    edges.entry(a.clone()).or_default().insert(b);
                }
            }
        }
    }
    edges
}

#[test]
fn nothing_in_src_imports_in_a_circle() {
    let graph = import_graph();
    assert!(graph.len() > 40, "the modules were not found: {:?}", graph.keys());
    // At every level: the top modules, then the children of each folder module.
    let mut folders: BTreeSet<Vec<String>> = graph.keys().map(|m| m[..m.len().saturating_sub(1)].to_vec()).collect();
    folders.insert(Vec::new());
    let mut circles = Vec::new();
    for folder in &folders {
        if let Some(circle) = find_circle(&edges_between_children(&graph, folder)) {
            circles.push(circle.iter().map(|m| m.join("::")).collect::<Vec<_>>().join(" -> "));
        }
    }
    assert!(circles.is_empty(), "modules that import each other in a circle:\n{}", circles.join("\n"));
}

#[test]
fn the_mail_model_knows_no_protocol_and_no_cache() {
    let graph = import_graph();
    let offences: Vec<String> = graph
        .iter()
        .filter(|(module, _)| module.first().is_some_and(|m| m == "mail"))
        .flat_map(|(module, targets)| targets.iter().map(move |t| (module, t)))
        .filter(|(_, target)| {
            target.first().is_some_and(|t| ["jmap", "rustmailer", "cache", "net", "outbox", "ui"].contains(&t.as_str()))
        })
        .map(|(module, target)| format!("{} imports {}", module.join("::"), target.join("::")))
        .collect();
    assert!(offences.is_empty(), "the mail model must stay a leaf:\n{}", offences.join("\n"));
}

#[test]
fn the_import_check_sees_circles_and_protocol_imports() {
    // The checks above can fail: a circle made up here is found, at the top and inside a folder.
    let mut graph = import_graph();
    graph.entry(vec!["mail".into(), "engine".into()]).or_default().insert(vec!["jmap".into(), "error".into()]);
    assert!(find_circle(&edges_between_children(&graph, &[])).is_some(), "mail -> jmap -> mail is a circle");
    let mut edges = BTreeMap::new();
    edges.insert(vec!["jmap".into(), "error".into()], BTreeSet::from([vec!["jmap".into(), "session".into()]]));
    edges.insert(vec!["jmap".into(), "session".into()], BTreeSet::from([vec!["jmap".into(), "error".into()]]));
    assert!(find_circle(&edges).is_some());
    let known: HashSet<Vec<String>> =
        [vec!["jmap".to_owned()], vec!["jmap".to_owned(), "error".to_owned()], vec!["mail".to_owned()]].into();
    let found = references(
        "use crate::jmap::{error::JmapError, x};\nlet a = super::mail::Y; // crate::cache",
        &["net".into()],
        &known,
    );
    assert!(
        found.contains(&vec!["jmap".to_owned(), "error".to_owned()]) && found.contains(&vec!["mail".to_owned()]),
        "{found:?}"
    );
    assert!(!found.iter().any(|m| m.first().is_some_and(|f| f == "cache")), "comments are left out: {found:?}");
}
