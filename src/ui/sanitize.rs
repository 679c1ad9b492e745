//! The mail HTML sanitizer: the browser's own parser (`DOMParser`, whose documents never run
//! script or load anything) builds the tree, which is walked from wasm against the allowlists of
//! `mail::html_policy`, then serialized into the reader frame's document with its own strict CSP.
//!
//! Why the browser's parser and not a Rust crate: the tree is the one the browser would build
//! (no parser differential to exploit), and it costs a few KB of wasm where html5ever-based
//! sanitizers add hundreds.

use wasm_bindgen::JsCast;
use web_sys::{Document, DomParser, Element, Node, SupportedType};

use super::safe_dom::{shadows_dom_property, SafeDom};
use crate::mail::html_policy::{
    classify_url, clean_css, frame_csp, MailUrl, ALLOWED_ATTRIBUTES, ALLOWED_ELEMENTS, DROP_WITH_CONTENT,
};

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
    let (Ok(doc), Ok(dom)) = (parse(html), SafeDom::new()) else { return String::new() };
    for dropped in dom.query_all(&doc, "script, style, head, template, noscript") {
        dom.detach(&dropped);
    }
    let Some(body) = dom.body(&doc) else { return String::new() };
    let mut out = String::new();
    text_of(&dom, &body, &mut out);
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

const BLOCKS: &[&str] = &[
    "p",
    "div",
    "tr",
    "li",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "blockquote",
    "table",
    "ul",
    "ol",
    "pre",
    "hr",
    "section",
    "article",
    "header",
    "footer",
];

fn text_of(dom: &SafeDom, node: &Node, out: &mut String) {
    for child in dom.children(node) {
        match dom.node_type(&child) {
            Node::TEXT_NODE => {
                let text = dom.text(&child);
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
                let Ok(element) = child.dyn_into::<Element>() else { continue };
                let tag = dom.local_name(&element);
                if tag == "br" {
                    out.push('\n');
                    continue;
                }
                let block = BLOCKS.contains(&tag.as_str());
                if block {
                    out.push('\n');
                }
                text_of(dom, &element, out);
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

struct Walk<'a> {
    dom: SafeDom,
    options: &'a SanitizeOptions<'a>,
    remote: usize,
    styles: Vec<String>,
}

/// Sanitizes a mail's HTML and wraps it in the frame document.
pub fn sanitize_mail_html(html: &str, options: &SanitizeOptions) -> Result<Sanitized, SanitizeError> {
    let doc = parse(html)?;
    let dom = SafeDom::new().map_err(|_| SanitizeError)?;
    let mut walk = Walk { dom, options, remote: 0, styles: Vec::new() };
    // Style elements anywhere (head included) are cleaned and moved to the frame's head.
    for node in walk.dom.query_all(&doc, "style") {
        let css = walk.dom.text(&node);
        let clean = clean_css(&css, options.allow_remote, options.cid_url);
        walk.remote += clean.remote;
        // `<` could close the style element once serialized into the frame: such CSS goes.
        if !clean.css.is_empty() && !clean.css.contains('<') {
            walk.styles.push(clean.css);
        }
        walk.dom.detach(&node);
    }
    let body = walk.dom.body(&doc).ok_or(SanitizeError)?;
    walk.children(&body, 0);
    let document = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"Content-Security-Policy\" content=\"{}\">\
         <meta name=\"referrer\" content=\"no-referrer\"><base target=\"_blank\"><style>{FRAME_CSS}</style><style>{}</style></head><body>{}</body></html>",
        frame_csp(options.allow_remote),
        walk.styles.join("\n"),
        walk.dom.inner_html(&body)
    );
    Ok(Sanitized { document, remote: walk.remote })
}

impl Walk<'_> {
    fn children(&mut self, parent: &Node, quote_depth: usize) {
        // A snapshot: the walk removes and unwraps as it goes.
        for node in self.dom.children(parent) {
            match self.dom.node_type(&node) {
                Node::TEXT_NODE => {}
                Node::ELEMENT_NODE => match node.dyn_into::<Element>() {
                    Ok(element) => self.element(parent, element, quote_depth),
                    Err(node) => self.dom.remove(parent, &node),
                },
                // Comments (and conditional comments), processing instructions, CDATA.
                _ => self.dom.remove(parent, &node),
            }
        }
    }

    fn element(&mut self, parent: &Node, element: Element, quote_depth: usize) {
        let tag = self.dom.local_name(&element);
        if DROP_WITH_CONTENT.contains(&tag.as_str())
            || self.dom.namespace(&element).as_deref() != Some("http://www.w3.org/1999/xhtml")
        {
            self.dom.remove(parent, &element);
            return;
        }
        let is_quote = tag == "blockquote" || self.dom.class_name(&element).contains("gmail_quote");
        let depth = quote_depth + usize::from(is_quote);
        self.children(&element, depth);
        if !ALLOWED_ELEMENTS.contains(&tag.as_str()) {
            // Unknown or unwanted wrapper (form, body-level oddities): keep what it holds. A
            // snapshot, not `firstChild` until empty: the walk must end whatever the mail holds.
            for child in self.dom.children(&element) {
                self.dom.insert_before(parent, &child, &element);
            }
            self.dom.remove(parent, &element);
            return;
        }
        self.attributes(&tag, &element);
        if is_quote && quote_depth == 0 {
            self.fold(parent, &element);
        }
    }

    /// Outermost quotes fold away behind a "quoted text" toggle (no script needed: `<details>`).
    fn fold(&self, parent: &Node, quote: &Element) {
        let Some(doc) = self.dom.owner_document(quote) else { return };
        let (Some(details), Some(summary)) =
            (self.dom.create_element(&doc, "details"), self.dom.create_element(&doc, "summary"))
        else {
            return;
        };
        // Both are new elements of our own, with nothing inside that could shadow their properties.
        let _ = details.set_attribute("class", "quoted");
        summary.set_text_content(Some("Quoted text"));
        let _ = details.append_child(&summary);
        self.dom.insert_before(parent, &details, quote);
        self.dom.append(&details, quote);
    }

    fn attributes(&mut self, tag: &str, element: &Element) {
        for name in self.dom.attribute_names(element) {
            let lower = name.to_ascii_lowercase();
            let value = self.dom.attribute(element, &name).unwrap_or_default();
            let keep: Option<String> = if lower.starts_with("on") || !ALLOWED_ATTRIBUTES.contains(&lower.as_str()) {
                None
            } else {
                match lower.as_str() {
                    "href" => (classify_url(&value, true) == MailUrl::Link).then_some(value),
                    "src" if tag == "img" => self.image_url(&value),
                    "src" => None,
                    "background" => self.image_url(&value),
                    // A name or id such as `body` or `cookie` would shadow what the reader (and the
                    // browser) reads from the frame's document.
                    "id" | "name" => (!shadows_dom_property(&value)).then_some(value),
                    "style" => {
                        let clean = clean_css(&value, self.options.allow_remote, self.options.cid_url);
                        self.remote += clean.remote;
                        (!clean.css.trim().is_empty()).then_some(clean.css)
                    }
                    _ => Some(value),
                }
            };
            match keep {
                Some(v) => self.dom.set_attribute(element, &lower, &v),
                None => self.dom.remove_attribute(element, &name),
            }
        }
        if tag == "a" && self.dom.has_attribute(element, "href") {
            self.dom.set_attribute(element, "target", "_blank");
            self.dom.set_attribute(element, "rel", "noopener noreferrer");
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
