//! Labels: names the user gives mail, stored on the server as keywords (RFC 8621 §4.1.1) that
//! IMAP clients see as flags. Names and colours are kept on the device (a label is renamed or
//! recoloured there, its keyword stays); keywords from other clients show as labels named by
//! their keyword.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// A label the user made: its keyword on the server, its name and colour here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    pub keyword: String,
    pub name: String,
    /// An index into [`COLOURS`].
    pub colour: u8,
}

/// The colours a label can have (the CSS draws `label-colour-<index>`).
pub const COLOURS: [&str; 8] = ["Grey", "Red", "Orange", "Yellow", "Green", "Teal", "Blue", "Purple"];

/// Keywords other clients set that are state, not labels (Thunderbird's junk marks, ...).
const NOT_LABELS: [&str; 5] = ["junk", "nonjunk", "notjunk", "forwarded", "mdnsent"];

/// Whether a keyword is a label: not one of the system's (`$seen`, `$junk`, ...) nor a client's state.
pub fn is_label(keyword: &str) -> bool {
    !keyword.starts_with('$')
        && !keyword.starts_with('\\')
        && !NOT_LABELS.iter().any(|k| k.eq_ignore_ascii_case(keyword))
}

/// The labels on a message, in name order: named and coloured as the user made them, else by
/// their keyword (grey).
pub fn labels_of(keywords: &BTreeMap<String, bool>, known: &[Label]) -> Vec<Label> {
    let mut found: Vec<Label> = keywords
        .iter()
        .filter(|(k, on)| **on && is_label(k))
        .map(|(k, _)| {
            known.iter().find(|l| l.keyword.eq_ignore_ascii_case(k)).cloned().unwrap_or_else(|| Label {
                keyword: k.clone(),
                name: k.clone(),
                colour: 0,
            })
        })
        .collect();
    found.sort_by_key(|l| l.name.to_lowercase());
    found
}

/// A new label named `name`: refused when the name is taken or makes no keyword.
pub fn create(known: &[Label], name: &str, colour: u8) -> Result<Label, LabelError> {
    let name = name.trim();
    let keyword = keyword_for(name)?;
    if !is_label(&keyword) {
        return Err(LabelError::Reserved(name.to_owned()));
    }
    if known.iter().any(|l| l.name.eq_ignore_ascii_case(name) || l.keyword == keyword) {
        return Err(LabelError::Taken(name.to_owned()));
    }
    Ok(Label { keyword, name: name.to_owned(), colour: colour % COLOURS.len() as u8 })
}

/// Renames the label `keyword` (its keyword stays, so no mail changes).
pub fn rename(known: &mut [Label], keyword: &str, name: &str) -> Result<(), LabelError> {
    let name = name.trim();
    keyword_for(name)?;
    if known.iter().any(|l| l.keyword != keyword && l.name.eq_ignore_ascii_case(name)) {
        return Err(LabelError::Taken(name.to_owned()));
    }
    if let Some(label) = known.iter_mut().find(|l| l.keyword == keyword) {
        label.name = name.to_owned();
    }
    Ok(())
}

/// What a label name cannot be made into a keyword for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    #[error("a label needs a name")]
    Empty,
    #[error("the label name is too long to keep on the server: shorten it")]
    TooLong,
    #[error("there is already a label called \"{0}\"")]
    Taken(String),
    #[error("\"{0}\" is a name other mail programs use for their own marks: choose another")]
    Reserved(String),
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
    fn labels_are_made_renamed_and_read_off_mail() {
        let mut known = vec![create(&[], "Work", 6).unwrap()];
        assert_eq!(known[0], Label { keyword: "work".into(), name: "Work".into(), colour: 6 });
        assert_eq!(create(&known, " work ", 1), Err(LabelError::Taken("work".into())));
        assert_eq!(create(&known, "", 1), Err(LabelError::Empty));
        assert_eq!(
            create(&known, "Junk", 1),
            Err(LabelError::Reserved("Junk".into())),
            "it would hide, and mean spam elsewhere"
        );
        known.push(create(&known, "Receipts", 9).unwrap());
        assert_eq!(known[1].colour, 1, "colours wrap");
        rename(&mut known, "work", "Job").unwrap();
        assert_eq!((known[0].keyword.as_str(), known[0].name.as_str()), ("work", "Job"));
        assert_eq!(rename(&mut known, "work", "receipts"), Err(LabelError::Taken("receipts".into())));
        let keywords: BTreeMap<String, bool> = [
            ("$seen", true),
            ("work", true),
            ("zeta", true),
            ("NonJunk", true),
            ("receipts", false),
            ("$label1", true),
        ]
        .into_iter()
        .map(|(k, on)| (k.to_owned(), on))
        .collect();
        let names: Vec<String> = labels_of(&keywords, &known).into_iter().map(|l| l.name).collect();
        assert_eq!(names, ["Job", "zeta"], "system keywords, client state and unset ones are not labels");
    }

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
