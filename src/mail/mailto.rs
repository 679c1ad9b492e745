//! `mailto:` URLs (RFC 6068) as a draft to open in the composer: recipients in the path and the
//! `to`/`cc`/`bcc` fields, `subject`, `body` and `in-reply-to`. Whatever is malformed is named.

use super::address::parse_list;
use super::model::Draft;

/// Longest mailto URL accepted: links longer than this are not something a person clicked.
const MAX_LEN: usize = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MailtoError {
    #[error("this is not a mailto: link")]
    NotMailto,
    #[error("the mailto: link is too long ({0} characters)")]
    TooLong(usize),
    #[error("the mailto: link has a broken %-escape near \"{0}\"")]
    BadEscape(String),
    #[error("the mailto: link's {field} is not text (invalid UTF-8)")]
    NotText { field: String },
    #[error("the mailto: link's {field} holds an address that is not valid: {reason}")]
    BadAddress { field: String, reason: String },
}

fn decode(text: &str, field: &str) -> Result<String, MailtoError> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).filter(|h| h.chars().all(|c| c.is_ascii_hexdigit()));
            let Some(hex) = hex else {
                return Err(MailtoError::BadEscape(text[i..].chars().take(8).collect()));
            };
            out.push(u8::from_str_radix(hex, 16).map_err(|_| MailtoError::BadEscape(hex.to_owned()))?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| MailtoError::NotText { field: field.to_owned() })
}

/// The draft a `mailto:` URL describes.
pub fn parse_mailto(url: &str) -> Result<Draft, MailtoError> {
    let url = url.trim();
    if url.len() > MAX_LEN {
        return Err(MailtoError::TooLong(url.len()));
    }
    let rest =
        url.get(..7).filter(|s| s.eq_ignore_ascii_case("mailto:")).map(|_| &url[7..]).ok_or(MailtoError::NotMailto)?;
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut draft = Draft::default();
    let add = |field: &str, value: &str, draft: &mut Draft| -> Result<(), MailtoError> {
        let list = parse_list(value)
            .map_err(|e| MailtoError::BadAddress { field: field.to_owned(), reason: e.to_string() })?;
        match field {
            "cc" => draft.cc.extend(list),
            "bcc" => draft.bcc.extend(list),
            _ => draft.to.extend(list),
        }
        Ok(())
    };
    let to = decode(path, "address")?;
    add("to", &to, &mut draft)?;
    // The fragment is not part of a mailto: link.
    let query = query.split('#').next().unwrap_or("");
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode(name, "field name")?.to_ascii_lowercase();
        let value = decode(value, &name)?;
        match name.as_str() {
            "to" | "cc" | "bcc" => add(&name, &value, &mut draft)?,
            "subject" => draft.subject = value,
            // Line breaks arrive as %0D%0A (RFC 6068 §5): the composer wants \n.
            "body" => draft.text_body = value.replace("\r\n", "\n"),
            "in-reply-to" => {
                draft.in_reply_to = value.split_whitespace().map(|id| id.trim_matches(['<', '>']).to_owned()).collect()
            }
            // Other header fields are not taken from a link (RFC 6068 §6: a link must not set them).
            _ => {}
        }
    }
    Ok(draft)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn emails(list: &[crate::mail::Address]) -> Vec<&str> {
        list.iter().map(|a| a.email.as_str()).collect()
    }

    #[test]
    fn the_rfc_examples_parse() {
        let d = parse_mailto("mailto:chris@example.com").unwrap();
        assert_eq!(emails(&d.to), ["chris@example.com"]);
        let d = parse_mailto("mailto:infobot@example.com?subject=current-issue").unwrap();
        assert_eq!(d.subject, "current-issue");
        let d = parse_mailto("mailto:list@example.org?In-Reply-To=%3C3469A91.D10AF4C@example.com%3E").unwrap();
        assert_eq!(d.in_reply_to, ["3469A91.D10AF4C@example.com"]);
        let d = parse_mailto("mailto:joe@example.com?cc=bob@example.com&body=hello").unwrap();
        assert_eq!(
            (emails(&d.to), emails(&d.cc), d.text_body.as_str()),
            (vec!["joe@example.com"], vec!["bob@example.com"], "hello")
        );
        let d = parse_mailto("mailto:?to=joe@example.com&to=ann@example.com&bcc=x@example.org").unwrap();
        assert_eq!(
            (emails(&d.to), emails(&d.bcc)),
            (vec!["joe@example.com", "ann@example.com"], vec!["x@example.org"])
        );
        let d = parse_mailto(
            "MAILTO:gorby%25kremvax@example.com,a@example.org?body=line%0D%0Anext&subject=Caf%C3%A9+%E2%98%95",
        )
        .unwrap();
        assert_eq!(emails(&d.to), ["gorby%kremvax@example.com", "a@example.org"]);
        assert_eq!(d.text_body, "line\nnext");
        assert_eq!(d.subject, "Café+☕", "+ is not a space in mailto:");
    }

    #[test]
    fn dangerous_or_unknown_fields_are_not_taken() {
        let d = parse_mailto("mailto:a@example.org?from=boss@example.org&X-Mailer=x&body=hi#frag").unwrap();
        assert!(d.from.is_empty());
        assert_eq!(d.text_body, "hi");
    }

    #[test]
    fn bad_links_are_named() {
        assert_eq!(parse_mailto("https://example.org"), Err(MailtoError::NotMailto));
        assert_eq!(parse_mailto("mailto:a@example.org?subject=100%"), Err(MailtoError::BadEscape("%".into())));
        assert_eq!(parse_mailto("mailto:a@example.org?subject=%zz"), Err(MailtoError::BadEscape("%zz".into())));
        assert_eq!(
            parse_mailto("mailto:a@example.org?body=%FF%FE"),
            Err(MailtoError::NotText { field: "body".into() })
        );
        assert!(
            matches!(parse_mailto("mailto:not-an-address"), Err(MailtoError::BadAddress { field, .. }) if field == "to")
        );
        assert!(
            matches!(parse_mailto("mailto:a@example.org?cc=%3Cbroken"), Err(MailtoError::BadAddress { field, .. }) if field == "cc")
        );
        let long = format!("mailto:a@example.org?body={}", "x".repeat(MAX_LEN));
        assert!(matches!(parse_mailto(&long), Err(MailtoError::TooLong(_))));
        assert_eq!(parse_mailto("mailto:").unwrap(), Draft::default());
    }
}
