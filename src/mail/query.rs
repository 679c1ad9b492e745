//! What a message list shows: a filter, a sort and threading. Also the search-box syntax
//! (`from:ann subject:"q3 plan" has:attachment before:2026-01-01 in:Archive words`).

use serde::{Deserialize, Serialize};

use super::model::EmailSummary;

/// The conditions of a list or a search; all given conditions must hold (RFC 8621 §4.4.1 names).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[serde(rename_all = "camelCase")]
pub struct Filter {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub in_mailbox: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_attachment: Option<bool>,
    /// Received before this instant (RFC 3339 UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// Received at or after this instant (RFC 3339 UTC).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub after: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub has_keyword: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_keyword: Option<String>,
}

impl Filter {
    pub fn in_mailbox(id: &str) -> Filter {
        Filter { in_mailbox: Some(id.to_owned()), ..Filter::default() }
    }

    /// Whether a message still belongs in a list with this filter, as far as the local copy can
    /// tell: `None` when it depends on something only the server knows (text search, say).
    pub fn admits(&self, email: &EmailSummary) -> Option<bool> {
        if let Some(m) = &self.in_mailbox {
            if !email.in_mailbox(m) {
                return Some(false);
            }
        }
        if let Some(k) = &self.has_keyword {
            if !email.has_keyword(k) {
                return Some(false);
            }
        }
        if let Some(k) = &self.not_keyword {
            if email.has_keyword(k) {
                return Some(false);
            }
        }
        let server_side = self.text.is_some() || self.from.is_some() || self.to.is_some() || self.subject.is_some();
        if server_side {
            None
        } else {
            Some(true)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
pub enum SortBy {
    #[default]
    ReceivedAt,
    SentAt,
    From,
    Subject,
    Size,
}

impl SortBy {
    pub fn jmap_property(self) -> &'static str {
        match self {
            SortBy::ReceivedAt => "receivedAt",
            SortBy::SentAt => "sentAt",
            SortBy::From => "from",
            SortBy::Subject => "subject",
            SortBy::Size => "size",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Hash)]
pub struct MailQuery {
    pub filter: Filter,
    pub sort: SortBy,
    pub ascending: bool,
    /// One row per conversation (its newest message).
    pub threads: bool,
}

impl MailQuery {
    /// A mailbox newest first, one row per conversation: what opening a folder shows.
    pub fn mailbox(id: &str) -> MailQuery {
        MailQuery { filter: Filter::in_mailbox(id), sort: SortBy::ReceivedAt, ascending: false, threads: true }
    }

    /// A stable name for this query, used as its key in the store and the offline cache.
    pub fn key(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Why a search could not be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchSyntaxError {
    #[error("\"{value}\" is not a date: write it as YYYY-MM-DD")]
    BadDate { value: String },
    #[error("\"{0}\" is not a label name")]
    UnknownLabel(String),
    #[error("there is no folder called \"{0}\"")]
    UnknownFolder(String),
    #[error("\"has:{0}\" is not known: try has:attachment")]
    UnknownHas(String),
    #[error("a quote is not closed")]
    OpenQuote,
}

/// Parses the search box. `folder_id` resolves `in:` names to mailbox ids.
/// The folder a search's `in:` names: by its name (any case) or its role ("in:sent").
pub fn folder_named(mailboxes: &[super::Mailbox], name: &str) -> Option<String> {
    mailboxes
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(name) || m.role.to_jmap() == Some(&name.to_lowercase()))
        .map(|m| m.id.clone())
}

/// `label_keyword` resolves `label:` names (the user's labels); other names are taken as the
/// label's own name or another client's keyword.
pub fn parse_search(
    input: &str,
    folder_id: impl Fn(&str) -> Option<String>,
    label_keyword: impl Fn(&str) -> Option<String>,
) -> Result<Filter, SearchSyntaxError> {
    let mut filter = Filter::default();
    let mut words: Vec<String> = Vec::new();
    for token in tokens(input)? {
        let Some((key, value)) = token.split_once(':').filter(|(k, v)| !v.is_empty() && known_key(k)) else {
            words.push(token);
            continue;
        };
        let value = value.to_owned();
        match key.to_ascii_lowercase().as_str() {
            "from" => filter.from = Some(value),
            "to" => filter.to = Some(value),
            "subject" => filter.subject = Some(value),
            "has" if value.eq_ignore_ascii_case("attachment") => filter.has_attachment = Some(true),
            "has" => return Err(SearchSyntaxError::UnknownHas(value)),
            "before" => filter.before = Some(day_start(&value)?),
            "after" => filter.after = Some(day_start(&value)?),
            "in" => filter.in_mailbox = Some(folder_id(&value).ok_or(SearchSyntaxError::UnknownFolder(value))?),
            "label" => {
                let keyword = label_keyword(&value).or_else(|| super::labels::keyword_for(&value).ok());
                filter.has_keyword = Some(keyword.ok_or(SearchSyntaxError::UnknownLabel(value))?);
            }
            "is" if value.eq_ignore_ascii_case("unread") => filter.not_keyword = Some(super::keyword::SEEN.to_owned()),
            "is" if value.eq_ignore_ascii_case("flagged") => {
                filter.has_keyword = Some(super::keyword::FLAGGED.to_owned())
            }
            _ => words.push(token),
        }
    }
    if !words.is_empty() {
        filter.text = Some(words.join(" "));
    }
    Ok(filter)
}

fn known_key(key: &str) -> bool {
    ["from", "to", "subject", "has", "before", "after", "in", "is", "label"].iter().any(|k| k.eq_ignore_ascii_case(key))
}

/// Splits on spaces, keeping `"quoted phrases"` (also after `key:`) together.
fn tokens(input: &str) -> Result<Vec<String>, SearchSyntaxError> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in input.chars() {
        match c {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if quoted {
        return Err(SearchSyntaxError::OpenQuote);
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// `2026-01-31` as the UTC instant that day starts.
fn day_start(value: &str) -> Result<String, SearchSyntaxError> {
    let bad = || SearchSyntaxError::BadDate { value: value.to_owned() };
    let parts: Vec<&str> = value.split('-').collect();
    let [y, m, d] = parts[..] else { return Err(bad()) };
    let (y, m, d): (u32, u32, u32) =
        (y.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?, d.parse().map_err(|_| bad())?);
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > days[m as usize - 1] {
        return Err(bad());
    }
    Ok(format!("{y:04}-{m:02}-{d:02}T00:00:00Z"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn folders(name: &str) -> Option<String> {
        (name.eq_ignore_ascii_case("archive")).then(|| "mb-archive".to_owned())
    }

    #[test]
    fn in_names_a_folder_by_name_or_role() {
        let boxes: Vec<super::super::Mailbox> = serde_json::from_value(serde_json::json!([
            { "id": "s1", "name": "Sent Items", "role": "sent" },
            { "id": "p1", "name": "Projects" }
        ]))
        .expect("mailboxes");
        assert_eq!(folder_named(&boxes, "sent").as_deref(), Some("s1"), "Stalwart's Sent Items by its role");
        assert_eq!(folder_named(&boxes, "sent items").as_deref(), Some("s1"));
        assert_eq!(folder_named(&boxes, "PROJECTS").as_deref(), Some("p1"));
        assert_eq!(folder_named(&boxes, "trash"), None);
    }

    fn no_labels(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn labels_by_their_name_or_keyword() {
        let known = |name: &str| (name.eq_ignore_ascii_case("Job")).then(|| "work".to_owned());
        assert_eq!(parse_search("label:job", folders, known).unwrap().has_keyword.as_deref(), Some("work"));
        assert_eq!(
            parse_search("label:\"Reading list\"", folders, known).unwrap().has_keyword.as_deref(),
            Some("reading_list")
        );
        assert_eq!(parse_search("label:\" \"", folders, known), Err(SearchSyntaxError::UnknownLabel(" ".into())));
    }

    #[test]
    fn search_box_operators_and_words() {
        let f = parse_search(
            r#"from:ann subject:"q3 plan" has:attachment after:2026-02-28 in:Archive budget  draft"#,
            folders,
            no_labels,
        )
        .unwrap();
        assert_eq!(f.from.as_deref(), Some("ann"));
        assert_eq!(f.subject.as_deref(), Some("q3 plan"));
        assert_eq!(f.has_attachment, Some(true));
        assert_eq!(f.after.as_deref(), Some("2026-02-28T00:00:00Z"));
        assert_eq!(f.in_mailbox.as_deref(), Some("mb-archive"));
        assert_eq!(f.text.as_deref(), Some("budget draft"));
        // A colon that is not an operator stays a word.
        assert_eq!(parse_search("re:lunch 10:30", folders, no_labels).unwrap().text.as_deref(), Some("re:lunch 10:30"));
    }

    #[test]
    fn bad_search_input_is_explained() {
        assert_eq!(
            parse_search("before:2026-02-30", folders, no_labels),
            Err(SearchSyntaxError::BadDate { value: "2026-02-30".into() })
        );
        assert_eq!(
            parse_search("before:yesterday", folders, no_labels),
            Err(SearchSyntaxError::BadDate { value: "yesterday".into() })
        );
        assert_eq!(
            parse_search("in:Nowhere", folders, no_labels),
            Err(SearchSyntaxError::UnknownFolder("Nowhere".into()))
        );
        assert_eq!(parse_search("has:pony", folders, no_labels), Err(SearchSyntaxError::UnknownHas("pony".into())));
        assert_eq!(parse_search("subject:\"open", folders, no_labels), Err(SearchSyntaxError::OpenQuote));
    }

    #[test]
    fn local_filter_knows_what_only_the_server_can_tell() {
        let mut e = EmailSummary { id: "M".into(), ..Default::default() };
        e.mailbox_ids.insert("in".into(), true);
        assert_eq!(Filter::in_mailbox("in").admits(&e), Some(true));
        assert_eq!(Filter::in_mailbox("other").admits(&e), Some(false));
        let text = Filter { text: Some("x".into()), ..Filter::in_mailbox("in") };
        assert_eq!(text.admits(&e), None);
        assert_ne!(MailQuery::mailbox("a").key(), MailQuery::mailbox("b").key());
    }
}
