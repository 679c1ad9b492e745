//! Leaving a mailing list: the `List-Unsubscribe` header (RFC 2369) and one-click unsubscription
//! (RFC 8058). A header comes from whoever sent the mail, so only three kinds of address are ever
//! used: https (one-click POST when the mail offers it, else a page opened on the user's click),
//! http (a page only), and mailto (a mail the user sends). Anything else (`javascript:`, `data:`,
//! `file:`...) is dropped and counted, never opened.

use super::mailto::parse_mailto;

/// Longer headers are not a list's: nothing in them is used.
const MAX_HEADER: usize = 8 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Unsubscribe {
    /// An https address to POST `List-Unsubscribe=One-Click` to (RFC 8058).
    pub one_click: Option<String>,
    /// A `mailto:` address, as written.
    pub mailto: Option<String>,
    /// A web page to open.
    pub link: Option<String>,
    /// Addresses dropped as unsafe or unknown (their schemes), to say so.
    pub dropped: Vec<String>,
}

/// What one click does, best first: one-click asks the list directly and sends no mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnsubscribeBy {
    OneClick(String),
    Mail(String),
    Page(String),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UnsubscribeError {
    #[error("the List-Unsubscribe header is too long ({0} bytes) to be a list's")]
    TooLong(usize),
    #[error("the List-Unsubscribe header names no address Petrel can use{}", dropped_note(.0))]
    NoUsableAddress(Vec<String>),
}

fn dropped_note(dropped: &[String]) -> String {
    if dropped.is_empty() {
        String::new()
    } else {
        format!(" (ignored: {})", dropped.join(", "))
    }
}

impl Unsubscribe {
    pub fn best(&self) -> Option<UnsubscribeBy> {
        self.one_click
            .clone()
            .map(UnsubscribeBy::OneClick)
            .or_else(|| self.mailto.clone().map(UnsubscribeBy::Mail))
            .or_else(|| self.link.clone().map(UnsubscribeBy::Page))
    }
}

/// The `<...>` entries of a header, with comments in parentheses skipped.
fn bracketed(header: &str) -> Vec<&str> {
    let mut found = Vec::new();
    let mut depth = 0usize;
    let mut start = None;
    for (i, c) in header.char_indices() {
        match c {
            '(' if start.is_none() => depth += 1,
            ')' if start.is_none() => depth = depth.saturating_sub(1),
            '<' if depth == 0 && start.is_none() => start = Some(i + 1),
            '>' => {
                if let Some(s) = start.take() {
                    found.push(&header[s..i]);
                }
            }
            _ => {}
        }
    }
    found
}

/// The host of an http(s) URL with no user info, no whitespace and no control characters.
fn web_host(url: &str) -> Option<&str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    (!authority.is_empty() && !authority.contains('@')).then_some(authority)
}

/// Reads `List-Unsubscribe` and, when present, `List-Unsubscribe-Post`.
pub fn parse(header: &str, post: Option<&str>) -> Result<Unsubscribe, UnsubscribeError> {
    if header.len() > MAX_HEADER {
        return Err(UnsubscribeError::TooLong(header.len()));
    }
    let one_click_offered = post.is_some_and(|p| p.trim().eq_ignore_ascii_case("List-Unsubscribe=One-Click"));
    let mut found = Unsubscribe::default();
    for uri in bracketed(header) {
        let uri = uri.trim();
        let scheme = uri.split_once(':').map(|(s, _)| s.to_ascii_lowercase()).unwrap_or_default();
        match scheme.as_str() {
            "mailto" if parse_mailto(uri).is_ok_and(|d| !d.to.is_empty()) => {
                found.mailto.get_or_insert_with(|| uri.to_owned());
            }
            "https" if web_host(uri).is_some() => {
                if one_click_offered && found.one_click.is_none() {
                    found.one_click = Some(uri.to_owned());
                }
                found.link.get_or_insert_with(|| uri.to_owned());
            }
            "http" if web_host(uri).is_some() => {
                found.link.get_or_insert_with(|| uri.to_owned());
            }
            _ => found.dropped.push(if scheme.is_empty() { "an address without a scheme".to_owned() } else { scheme }),
        }
    }
    if found.best().is_none() {
        return Err(UnsubscribeError::NoUsableAddress(found.dropped));
    }
    Ok(found)
}

/// Who a page address belongs to, as the confirmation names it.
pub fn host_of(url: &str) -> &str {
    web_host(url).unwrap_or(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_click_needs_https_and_the_post_header() {
        let header = "<mailto:leave@lists.example.com?subject=unsubscribe>, <https://lists.example.com/u/42>";
        let u = parse(header, Some("List-Unsubscribe=One-Click")).unwrap();
        assert_eq!(u.best(), Some(UnsubscribeBy::OneClick("https://lists.example.com/u/42".into())));
        assert_eq!(u.mailto.as_deref(), Some("mailto:leave@lists.example.com?subject=unsubscribe"));
        // Without List-Unsubscribe-Post the https address is a page; mail comes first.
        let u = parse(header, None).unwrap();
        assert_eq!(u.best(), Some(UnsubscribeBy::Mail("mailto:leave@lists.example.com?subject=unsubscribe".into())));
        assert_eq!(u.link.as_deref(), Some("https://lists.example.com/u/42"));
        // Over plain http one-click is not offered: it is a page.
        let u = parse("<http://lists.example.com/u/42>", Some("List-Unsubscribe=One-Click")).unwrap();
        assert_eq!(u.best(), Some(UnsubscribeBy::Page("http://lists.example.com/u/42".into())));
    }

    #[test]
    fn comments_folding_and_case_are_read() {
        let header = "(Use this one) <MAILTO:off@example.org>,\r\n\t(or this) <HTTPS://example.org/off>";
        let u = parse(header, Some("  list-unsubscribe=one-click ")).unwrap();
        assert_eq!(u.one_click.as_deref(), Some("HTTPS://example.org/off"));
        assert_eq!(u.mailto.as_deref(), Some("MAILTO:off@example.org"));
        assert_eq!(host_of("https://example.org/off?x=1"), "example.org");
    }

    #[test]
    fn hostile_addresses_are_dropped_and_named() {
        let header = "<javascript:alert(1)>, <data:text/html,<script>x</script>>, <file:///etc/passwd>, <nothing>";
        match parse(header, Some("List-Unsubscribe=One-Click")) {
            Err(UnsubscribeError::NoUsableAddress(dropped)) => {
                for scheme in ["javascript", "data", "file"] {
                    assert!(dropped.iter().any(|d| d == scheme), "{scheme} named in {dropped:?}");
                }
            }
            other => panic!("{other:?}"),
        }
        // A usable one beside them is kept, the others still counted.
        let u = parse("<javascript:alert(1)>, <https://ok.example/u>", None).unwrap();
        assert_eq!(u.best(), Some(UnsubscribeBy::Page("https://ok.example/u".into())));
        assert_eq!(u.dropped, ["javascript"]);
        // Credentials in the URL, spaces, or an empty host make it unusable.
        for bad in ["<https://user:pw@evil.example/u>", "<https://exa mple.org/u>", "<https:///u>", "<mailto:>"] {
            assert!(parse(bad, Some("List-Unsubscribe=One-Click")).is_err(), "{bad}");
        }
        assert!(matches!(parse(&"<a>".repeat(4000), None), Err(UnsubscribeError::TooLong(_))));
    }
}
