//! Labels: names the user gives mail, stored on the server as keywords (RFC 8621 §4.1.1) that
//! IMAP clients see as flags.

/// What a label name cannot be made into a keyword for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("a label needs a name")]
    Empty,
    #[error("the label name is too long to keep on the server: shorten it")]
    TooLong,
}

/// RFC 8621's limit on a keyword.
const MAX_KEYWORD_BYTES: usize = 255;

/// The keyword a label is stored as: lowercase ASCII, no `$` first (those are the system's), none
/// of `( ) { ] % * " \` nor spaces. Letters, digits, `-` and `.` stay; a space becomes `_`; any
/// other byte is written `=xx` (its hex), so different names never share a keyword (case aside:
/// keywords ignore it).
pub fn keyword_for(name: &str) -> Result<String, LabelError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(LabelError::Empty);
    }
    let mut keyword = String::new();
    for c in name.to_lowercase().chars() {
        match c {
            'a'..='z' | '0'..='9' | '-' | '.' => keyword.push(c),
            ' ' => keyword.push('_'),
            other => {
                let mut bytes = [0; 4];
                for b in other.encode_utf8(&mut bytes).bytes() {
                    keyword.push_str(&format!("={b:02x}"));
                }
            }
        }
    }
    if keyword.len() > MAX_KEYWORD_BYTES {
        return Err(LabelError::TooLong);
    }
    Ok(keyword)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_imap_safe_distinct_keywords() {
        assert_eq!(keyword_for(" Reading list ").unwrap(), "reading_list");
        assert_eq!(keyword_for("Reading_list").unwrap(), "reading=5flist");
        assert_eq!(keyword_for("$junk").unwrap(), "=24junk");
        assert_eq!(keyword_for("Café (old) *").unwrap(), "caf=c3=a9_=28old=29_=2a");
        assert_eq!(keyword_for("a=b").unwrap(), "a=3db");
        assert_eq!(keyword_for("").unwrap_err(), LabelError::Empty);
        assert_eq!(keyword_for(&"x".repeat(255)).unwrap().len(), 255);
        assert_eq!(keyword_for(&"x".repeat(256)).unwrap_err(), LabelError::TooLong);
        assert_eq!(keyword_for(&"é".repeat(43)).unwrap_err(), LabelError::TooLong);
        for k in [keyword_for("Projects/2026 [Q1] % {x}").unwrap(), keyword_for(&"é".repeat(42)).unwrap()] {
            assert!(k.bytes().all(|b| (0x21..0x7f).contains(&b) && !b"(){]%*\"\\".contains(&b)), "{k}");
        }
    }
}
