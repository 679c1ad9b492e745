//! What of a mail's HTML may be shown: the element and attribute allowlists, URL rules and CSS
//! cleaning the reader's sanitizer (`ui::sanitize`, which walks the browser's parse tree) applies.
//! Plain data and string work, so it is tested natively.

/// Elements dropped with everything inside them: active content, embedding, document plumbing.
pub const DROP_WITH_CONTENT: &[&str] = &[
    "script", "noscript", "iframe", "frame", "frameset", "object", "embed", "applet", "template", "svg", "math",
    "meta", "link", "base", "title", "head", "audio", "video", "source", "track", "canvas", "portal", "select",
    "textarea", "button", "input", "option", "datalist", "dialog", "xml", "param", "slot",
];

/// Elements kept (with allowed attributes). Anything else is unwrapped: its children stay.
pub const ALLOWED_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "address",
    "article",
    "aside",
    "b",
    "bdi",
    "bdo",
    "big",
    "blockquote",
    "br",
    "caption",
    "center",
    "cite",
    "code",
    "col",
    "colgroup",
    "dd",
    "del",
    "details",
    "dfn",
    "div",
    "dl",
    "dt",
    "em",
    "figcaption",
    "figure",
    "font",
    "footer",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "i",
    "img",
    "ins",
    "kbd",
    "li",
    "main",
    "mark",
    "nav",
    "ol",
    "p",
    "pre",
    "q",
    "s",
    "samp",
    "section",
    "small",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "table",
    "tbody",
    "td",
    "tfoot",
    "th",
    "thead",
    "time",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
    "wbr",
];

/// Attributes kept on any allowed element (URL-bearing ones are checked separately).
pub const ALLOWED_ATTRIBUTES: &[&str] = &[
    "align",
    "alt",
    "bgcolor",
    "border",
    "cellpadding",
    "cellspacing",
    "class",
    "color",
    "cols",
    "colspan",
    "dir",
    "face",
    "height",
    "href",
    "hspace",
    "lang",
    "nowrap",
    "rowspan",
    "scope",
    "size",
    "span",
    "src",
    "start",
    "style",
    "summary",
    "title",
    "type",
    "valign",
    "vspace",
    "width",
    "background",
    "abbr",
    "datetime",
    "open",
    // Kept only where they shadow nothing in a document or a form (the sanitizer checks).
    "id",
    "name",
];

/// What a URL in a mail is, for the reader.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MailUrl {
    /// http(s): loads from somewhere else (tracking, when it is an image).
    Remote,
    /// `cid:` reference to a part of the same message, by Content-ID.
    Cid(String),
    /// `data:` raster image (never SVG: it can carry script).
    DataImage,
    /// A link the user may follow: http(s) or mailto.
    Link,
    /// Anything else (`javascript:`, `vbscript:`, `file:`, `data:text/html`...): removed.
    Refused,
}

/// Browsers ignore ASCII whitespace and control characters inside a scheme (`java\tscript:`).
fn scheme_of(url: &str) -> String {
    let cleaned: String = url.trim().chars().filter(|c| !c.is_ascii_whitespace() && !c.is_control()).collect();
    cleaned.split(':').next().filter(|_| cleaned.contains(':')).unwrap_or("").to_ascii_lowercase()
}

/// Classifies a URL found in an image source (`for_link: false`) or a link (`true`).
pub fn classify_url(url: &str, for_link: bool) -> MailUrl {
    let scheme = scheme_of(url);
    match scheme.as_str() {
        "http" | "https" => {
            if for_link {
                MailUrl::Link
            } else {
                MailUrl::Remote
            }
        }
        "mailto" if for_link => MailUrl::Link,
        "cid" if !for_link => MailUrl::Cid(url.trim()[4..].trim_matches(['<', '>']).to_owned()),
        "data" if !for_link => {
            let lower = url.trim().to_ascii_lowercase();
            let raster = ["data:image/png", "data:image/gif", "data:image/jpeg", "data:image/jpg", "data:image/webp"];
            if raster.iter().any(|p| lower.starts_with(p)) {
                MailUrl::DataImage
            } else {
                MailUrl::Refused
            }
        }
        // Protocol-relative (`//tracker/x.gif`) loads remotely too; plain relative URLs have no
        // base in a mail and resolve to nothing useful.
        "" if url.trim().starts_with("//") => {
            if for_link {
                MailUrl::Link
            } else {
                MailUrl::Remote
            }
        }
        _ => MailUrl::Refused,
    }
}

/// CSS after cleaning, and how many remote loads it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CleanCss {
    pub css: String,
    pub remote: usize,
}

/// Cleans CSS from a `style` attribute or element. `@import`, `expression()`, `behavior`,
/// `-moz-binding` and `image-set()` go; `url()` stays only for data images, mapped `cid:` parts
/// (through `cid_url`) and, when `allow_remote`, http(s). CSS escapes could spell any of those
/// in disguise (`u\72l(`), so CSS with a backslash is dropped whole.
pub fn clean_css(css: &str, allow_remote: bool, cid_url: &dyn Fn(&str) -> Option<String>) -> CleanCss {
    let lower = css.to_ascii_lowercase();
    if css.contains('\\')
        || lower.contains("expression(")
        || lower.contains("javascript:")
        || lower.contains("behavior")
        || lower.contains("-moz-binding")
        || lower.contains("image-set(")
    {
        return CleanCss {
            css: String::new(),
            remote: usize::from(lower.contains("url(") || lower.contains("image-set(")),
        };
    }
    // @import lines go whole (up to their semicolon).
    let mut text = String::with_capacity(css.len());
    let mut rest = css;
    let mut remote = 0;
    while let Some(at) = rest.to_ascii_lowercase().find("@import") {
        text.push_str(&rest[..at]);
        let end = rest[at..].find(';').map(|i| at + i + 1).unwrap_or(rest.len());
        remote += 1;
        rest = &rest[end..];
    }
    text.push_str(rest);
    // Each url(...) is replaced by what it may load, or by nothing.
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.to_ascii_lowercase().find("url(") {
        out.push_str(&rest[..at]);
        let inner_start = at + 4;
        let Some(close) = rest[inner_start..].find(')') else {
            // Unterminated: drop the rest.
            rest = "";
            break;
        };
        let inner = rest[inner_start..inner_start + close].trim().trim_matches(['"', '\'']).trim();
        let replacement = match classify_url(inner, false) {
            MailUrl::DataImage => Some(inner.to_owned()),
            MailUrl::Cid(cid) => cid_url(&cid),
            MailUrl::Remote => {
                remote += 1;
                allow_remote.then(|| inner.to_owned())
            }
            _ => None,
        };
        match replacement {
            Some(u) if !u.contains(['"', '\n', '\r']) => {
                out.push_str("url(\"");
                out.push_str(&u);
                out.push_str("\")");
            }
            _ => out.push_str("none"),
        }
        rest = &rest[inner_start + close + 1..];
    }
    out.push_str(rest);
    CleanCss { css: out, remote }
}

/// The Content-Security-Policy of the reader frame: nothing runs, nothing is fetched but inline
/// data and the message's own parts (blob:), plus remote images once the user allows them.
pub fn frame_csp(allow_remote: bool) -> String {
    let remote = if allow_remote { " https: http:" } else { "" };
    format!(
        "default-src 'none'; script-src 'none'; object-src 'none'; style-src 'unsafe-inline'; \
         img-src data: blob:{remote}; font-src data:; media-src 'none'; form-action 'none'; base-uri 'none'"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_cid(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn urls_are_classified_despite_disguise() {
        assert_eq!(classify_url("https://t.example/p.gif", false), MailUrl::Remote);
        assert_eq!(classify_url("//t.example/p.gif", false), MailUrl::Remote);
        assert_eq!(classify_url(" JaVa\tScRiPt:alert(1)", true), MailUrl::Refused);
        assert_eq!(classify_url("java\nscript:alert(1)", true), MailUrl::Refused);
        assert_eq!(classify_url("vbscript:x", true), MailUrl::Refused);
        assert_eq!(classify_url("data:text/html,<script>", true), MailUrl::Refused);
        assert_eq!(classify_url("data:image/svg+xml,<svg onload=x>", false), MailUrl::Refused);
        assert_eq!(classify_url("data:image/png;base64,iVBOR", false), MailUrl::DataImage);
        assert_eq!(classify_url("cid:<logo@x>", false), MailUrl::Cid("logo@x".into()));
        assert_eq!(classify_url("mailto:a@example.org", true), MailUrl::Link);
        assert_eq!(classify_url("mailto:a@example.org", false), MailUrl::Refused);
        assert_eq!(classify_url("relative/path.png", false), MailUrl::Refused);
    }

    #[test]
    fn css_loses_remote_loads_and_active_parts() {
        let c = clean_css("color:red; background:url('https://t.example/bg.png') no-repeat", false, &no_cid);
        assert_eq!(c, CleanCss { css: "color:red; background:none no-repeat".into(), remote: 1 });
        let allowed = clean_css("background:url(https://t.example/bg.png)", true, &no_cid);
        assert_eq!(allowed.css, "background:url(\"https://t.example/bg.png\")");
        let imported = clean_css("@import url(https://t.example/x.css);\np{color:blue}", true, &no_cid);
        assert_eq!(imported.css, "\np{color:blue}");
        assert_eq!(imported.remote, 1);
        for bad in [
            "width:expression(alert(1))",
            "behavior:url(x.htc)",
            "-moz-binding:url(x)",
            "background:u\\72l(https://t/x)",
            "background-image:image-set(\"https://t/x\" 1x)",
        ] {
            assert_eq!(clean_css(bad, true, &no_cid).css, "", "{bad}");
        }
        let cid =
            clean_css("background:url(cid:bg@x)", false, &|c| (c == "bg@x").then(|| "blob:https://app/1".to_owned()));
        assert_eq!(cid.css, "background:url(\"blob:https://app/1\")");
        assert_eq!(clean_css("background:url(cid:missing)", false, &no_cid).css, "background:none");
        assert_eq!(clean_css("a{background:url(https://x", false, &no_cid).css, "a{background:");
    }

    #[test]
    fn the_frame_policy_opens_images_only_when_asked() {
        assert!(frame_csp(false).contains("img-src data: blob:;"));
        assert!(frame_csp(true).contains("img-src data: blob: https: http:;"));
        assert!(frame_csp(true).contains("script-src 'none'"));
    }
}
