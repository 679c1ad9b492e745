//! Address lists as people type them: `Ann <ann@example.org>, "Lee, Bo" <bo@example.org>; cy@x.org`.

use super::model::Address;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AddressError {
    #[error("“{0}” is not an email address (it needs a name before @ and a domain after it)")]
    Invalid(String),
    #[error("an address has an unclosed “<” or quote: {0}")]
    Unbalanced(String),
}

/// Writes addresses back as a person would type them (what [`parse_list`] reads): names with
/// commas or quotes are quoted.
pub fn format_list(addresses: &[Address]) -> String {
    addresses
        .iter()
        .map(|a| match a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) if n.contains([',', ';', '"', '<', '>', '@']) => {
                format!("\"{}\" <{}>", n.replace('"', "'"), a.email)
            }
            Some(n) => format!("{n} <{}>", a.email),
            None => a.email.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Parses a comma- or semicolon-separated list; empty entries are skipped.
pub fn parse_list(input: &str) -> Result<Vec<Address>, AddressError> {
    let mut out = Vec::new();
    for part in split_outside_quotes(input)? {
        let part = part.trim();
        if !part.is_empty() {
            out.push(parse_one(part)?);
        }
    }
    Ok(out)
}

fn split_outside_quotes(input: &str) -> Result<Vec<&str>, AddressError> {
    let (mut parts, mut start, mut quoted, mut angle) = (Vec::new(), 0, false, false);
    for (i, c) in input.char_indices() {
        match c {
            '"' if !angle => quoted = !quoted,
            '<' if !quoted => angle = true,
            '>' if !quoted => angle = false,
            ',' | ';' if !quoted && !angle => {
                parts.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if quoted || angle {
        return Err(AddressError::Unbalanced(input[start..].trim().to_owned()));
    }
    parts.push(&input[start..]);
    Ok(parts)
}

fn parse_one(text: &str) -> Result<Address, AddressError> {
    let (name, email) = match (text.rfind('<'), text.ends_with('>')) {
        (Some(open), true) => {
            let name = text[..open].trim().trim_matches('"').trim();
            (if name.is_empty() { None } else { Some(name.to_owned()) }, text[open + 1..text.len() - 1].trim())
        }
        (None, false) => (None, text),
        _ => return Err(AddressError::Unbalanced(text.to_owned())),
    };
    if !is_email(email) {
        return Err(AddressError::Invalid(email.to_owned()));
    }
    Ok(Address { name, email: email.to_owned() })
}

/// Deliberately plain: one @, something on each side, a dot-free-or-not domain without spaces,
/// no control characters. The server has the last word.
pub fn is_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else { return false };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && text.len() <= 254
        && !text.chars().any(|c| c.is_whitespace() || c.is_control() || c == '<' || c == '>' || c == ',')
        && !local.contains('@')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(name: Option<&str>, email: &str) -> Address {
        Address { name: name.map(str::to_owned), email: email.to_owned() }
    }

    #[test]
    fn lists_as_people_type_them() {
        let got = parse_list(r#"Ann <ann@example.org>, "Lee, Bo" <bo@example.org>; cy@x.org,  ,"#).unwrap();
        assert_eq!(got, [a(Some("Ann"), "ann@example.org"), a(Some("Lee, Bo"), "bo@example.org"), a(None, "cy@x.org")]);
        assert_eq!(parse_list("").unwrap(), []);
        assert_eq!(parse_list("<only@x.org>").unwrap(), [a(None, "only@x.org")]);
    }

    #[test]
    fn formatted_lists_parse_back() {
        let people = [a(Some("Lee, Bo"), "bo@example.org"), a(Some("Ann"), "ann@example.org"), a(None, "cy@x.org")];
        let text = format_list(&people);
        assert_eq!(text, r#""Lee, Bo" <bo@example.org>, Ann <ann@example.org>, cy@x.org"#);
        assert_eq!(parse_list(&text).unwrap(), people);
    }

    #[test]
    fn bad_entries_are_named() {
        assert_eq!(parse_list("ann@example.org, bob"), Err(AddressError::Invalid("bob".into())));
        assert_eq!(
            parse_list("x@y.org, Ann <ann@example.org"),
            Err(AddressError::Unbalanced("Ann <ann@example.org".into()))
        );
        assert_eq!(parse_list(r#""Ann <a@b.org>"#), Err(AddressError::Unbalanced(r#""Ann <a@b.org>"#.into())));
        for bad in ["@x.org", "a@", "a b@x.org", "a@x..org.", "a@@x.org"] {
            assert!(parse_list(bad).is_err(), "{bad}");
        }
    }
}
