//! The mail HTML sanitizer: the browser's own parser (`DOMParser`, whose documents never run
//! script or load anything) builds the tree, which is walked from wasm against the allowlists of
//! `mail::html_policy`, then serialized into the reader frame's document with its own strict CSP.
//!
//! Why the browser's parser and not a Rust crate: the tree is the one the browser would build
//! (no parser differential to exploit), and it costs a few KB of wasm where html5ever-based
//! sanitizers add hundreds.

use wasm_bindgen::JsCast;
use web_sys::{Document, DomParser, Element, Node, SupportedType};

use crate::mail::html_policy::{classify_url, clean_css, frame_csp, MailUrl, ALLOWED_ATTRIBUTES, ALLOWED_ELEMENTS, DROP_WITH_CONTENT};

/// How a message is shown.
pub struct SanitizeOptions<'a> {
    pub allow_remote: bool,
    /// The URL of an inline part by Content-ID (a `blob:` of the verified download), if loaded.
    pub cid_url: &'a dyn Fn(&str) -> Option<String>,
}

/// A sanitized message, ready to be the reader frame's `srcdoc`.
#[derive(Debug, Clone, PartialEq)]
pub struct Sanitized {
    pub document: String,
    /// Remote loads (images, backgrounds, stylesheets) in the mail: removed unless allowed.
    pub remote: usize,
}

/// Why a message could not be prepared (the browser refused to parse: practically never).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("this message's HTML could not be read by the browser; use the plain-text view")]
pub struct SanitizeError;

/// Base look of a mail inside the frame: readable, never wider than the pane.
const FRAME_CSS: &str = "html{color-scheme:light}body{margin:0;padding:8px;font:15px/1.5 system-ui,sans-serif;color:#1b1b1f;background:#fff;overflow-wrap:anywhere}\
img{max-width:100%;height:auto}table{max-width:100%}pre{white-space:pre-wrap}\
details.quoted>summary{cursor:pointer;color:#5b5b66;font-size:13px}blockquote{margin:0 0 0 .8em;padding-left:.8em;border-left:3px solid #c9c9d3}";

fn parse(html: &str) -> Result<Document, SanitizeError> {
    let parser = DomParser::new().map_err(|_| SanitizeError)?;
    parser.parse_from_string(html, SupportedType::TextHtml).map_err(|_| SanitizeError)
}

/// The text a person would see in `html` (for quoting an HTML-only mail in a reply): blocks and
/// `<br>` become line breaks, runs of white space one space.
pub fn html_to_text(html: &str) -> String {
    let Ok(doc) = parse(html) else { return String::new() };
    for dropped in ["script", "style", "head", "template", "noscript"] {
        remove_all(&doc, dropped);
    }
    let Some(body) = doc.body() else { return String::new() };
    let mut out = String::new();
    text_of(&body, &mut out);
    let lines: Vec<&str> = out.lines().map(str::trim).collect();
    let mut text = String::new();
    let mut blank = 0;
    for line in lines {
        blank = if line.is_empty() { blank + 1 } else { 0 };
        if blank <= 1 {
            text.push_str(line);
            text.push('\n');
        }
    }
    text.trim().to_owned()
}

const BLOCKS: &[&str] = &["p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "table", "ul", "ol", "pre", "hr", "section", "article", "header", "footer"];

fn text_of(node: &Node, out: &mut String) {
    let nodes = node.child_nodes();
    for i in 0..nodes.length() {
        let Some(child) = nodes.item(i) else { continue };
        match child.node_type() {
            Node::TEXT_NODE => {
                let text = child.text_content().unwrap_or_default();
                let mut last_space = out.ends_with([' ', '\n']);
                for c in text.chars() {
                    if c.is_whitespace() {
                        if !last_space {
                            out.push(' ');
                        }
                        last_space = true;
                    } else {
                        out.push(c);
                        last_space = false;
                    }
                }
            }
            Node::ELEMENT_NODE => {
                let tag = child.node_name().to_ascii_lowercase();
                if tag == "br" {
                    out.push('\n');
                    continue;
                }
                let block = BLOCKS.contains(&tag.as_str());
                if block {
                    out.push('\n');
                }
                text_of(&child, out);
                if block {
                    out.push('\n');
                } else if tag == "td" || tag == "th" {
                    out.push(' ');
                }
            }
            _ => {}
        }
    }
}

fn remove_all(doc: &Document, tag: &str) {
    if let Ok(found) = doc.query_selector_all(tag) {
        for i in 0..found.length() {
            if let Some(node) = found.item(i) {
                if let Some(parent) = node.parent_node() {
                    let _ = parent.remove_child(&node);
                }
            }
        }
    }
}

struct Walk<'a> {
    options: &'a SanitizeOptions<'a>,
    remote: usize,
    styles: Vec<String>,
}

/// Sanitizes a mail's HTML and wraps it in the frame document.
pub fn sanitize_mail_html(html: &str, options: &SanitizeOptions) -> Result<Sanitized, SanitizeError> {
    let doc = parse(html)?;
    let mut walk = Walk { options, remote: 0, styles: Vec::new() };
    // Style elements anywhere (head included) are cleaned and moved to the frame's head.
    if let Ok(found) = doc.query_selector_all("style") {
        for i in 0..found.length() {
            let Some(node) = found.item(i) else { continue };
            let css = node.text_content().unwrap_or_default();
            let clean = clean_css(&css, options.allow_remote, options.cid_url);
            walk.remote += clean.remote;
            // `<` could close the style element once serialized into the frame: such CSS goes.
            if !clean.css.is_empty() && !clean.css.contains('<') {
                walk.styles.push(clean.css);
            }
            if let Some(parent) = node.parent_node() {
                let _ = parent.remove_child(&node);
            }
        }
    }
    let body = doc.body().ok_or(SanitizeError)?;
    walk.children(&body, 0);
    let document = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\
         <meta name=\"referrer\" content=\"no-referrer\"><base target=\"_blank\"><style>{FRAME_CSS}</style><style>{}</style></head><body>{}</body></html>",
        frame_csp(options.allow_remote),
        walk.styles.join("\n"),
        body.inner_html()
    );
    Ok(Sanitized { document, remote: walk.remote })
}

impl Walk<'_> {
    fn children(&mut self, parent: &Node, quote_depth: usize) {
        // A snapshot: the walk removes and unwraps as it goes.
        let nodes = parent.child_nodes();
        let list: Vec<Node> = (0..nodes.length()).filter_map(|i| nodes.item(i)).collect();
        for node in list {
            match node.node_type() {
                Node::TEXT_NODE => {}
                Node::ELEMENT_NODE => {
                    if let Ok(element) = node.clone().dyn_into::<Element>() {
                        self.element(parent, element, quote_depth);
                    }
                }
                // Comments (and conditional comments), processing instructions, CDATA.
                _ => {
                    let _ = parent.remove_child(&node);
                }
            }
        }
    }

    fn element(&mut self, parent: &Node, element: Element, quote_depth: usize) {
        let tag = element.local_name().to_ascii_lowercase();
        if DROP_WITH_CONTENT.contains(&tag.as_str()) || element.namespace_uri().as_deref() != Some("http://www.w3.org/1999/xhtml") {
            let _ = parent.remove_child(&element);
            return;
        }
        let is_quote = tag == "blockquote" || element.class_name().contains("gmail_quote");
        let depth = quote_depth + usize::from(is_quote);
        self.children(&element, depth);
        if !ALLOWED_ELEMENTS.contains(&tag.as_str()) {
            // Unknown or unwanted wrapper (form, body-level oddities): keep what it holds.
            while let Some(child) = element.first_child() {
                let _ = parent.insert_before(&child, Some(&element));
            }
            let _ = parent.remove_child(&element);
            return;
        }
        self.attributes(&tag, &element);
        if is_quote && quote_depth == 0 {
            self.fold(parent, &element);
        }
    }

    /// Outermost quotes fold away behind a "quoted text" toggle (no script needed: `<details>`).
    fn fold(&self, parent: &Node, quote: &Element) {
        let Some(doc) = quote.owner_document() else { return };
        let (Ok(details), Ok(summary)) = (doc.create_element("details"), doc.create_element("summary")) else { return };
        let _ = details.set_attribute("class", "quoted");
        summary.set_text_content(Some("Quoted text"));
        let _ = details.append_child(&summary);
        let _ = parent.insert_before(&details, Some(quote));
        let _ = details.append_child(quote);
    }

    fn attributes(&mut self, tag: &str, element: &Element) {
        let names: Vec<String> = element.get_attribute_names().iter().filter_map(|n| n.as_string()).collect();
        for name in names {
            let lower = name.to_ascii_lowercase();
            let value = element.get_attribute(&name).unwrap_or_default();
            let keep: Option<String> = if lower.starts_with("on") || !ALLOWED_ATTRIBUTES.contains(&lower.as_str()) {
                None
            } else {
                match lower.as_str() {
                    "href" => (classify_url(&value, true) == MailUrl::Link).then_some(value),
                    "src" if tag == "img" => self.image_url(&value),
                    "src" => None,
                    "background" => self.image_url(&value),
                    "style" => {
                        let clean = clean_css(&value, self.options.allow_remote, self.options.cid_url);
                        self.remote += clean.remote;
                        (!clean.css.trim().is_empty()).then_some(clean.css)
                    }
                    _ => Some(value),
                }
            };
            match keep {
                Some(v) => {
                    let _ = element.set_attribute(&lower, &v);
                }
                None => {
                    let _ = element.remove_attribute(&name);
                }
            }
        }
        if tag == "a" && element.has_attribute("href") {
            let _ = element.set_attribute("target", "_blank");
            let _ = element.set_attribute("rel", "noopener noreferrer");
        }
    }

    fn image_url(&mut self, url: &str) -> Option<String> {
        match classify_url(url, false) {
            MailUrl::DataImage => Some(url.to_owned()),
            MailUrl::Cid(cid) => (self.options.cid_url)(&cid),
            MailUrl::Remote => {
                self.remote += 1;
                self.options.allow_remote.then(|| url.to_owned())
            }
            _ => None,
        }
    }
}
