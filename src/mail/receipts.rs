//! Read receipts that came back: RFC 8098 reports (`message/disposition-notification`), matched to
//! the sent message by the Original-Message-ID they carry. Servers put nothing else in common
//! (Cyrus's `MDN/send` writes no References), so the report's own fields are read here, from the
//! report part's text, whichever protocol fetched it.

use super::model::{bare_message_id, Address, BodyPart};

/// The largest report part read: a report is a few lines; anything larger is not one.
pub const MAX_REPORT_BYTES: u64 = 16 * 1024;

/// A mail that may be a receipt: its id, when it came, and its report part.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportMail {
    pub email_id: String,
    pub received_at: String,
    pub report: BodyPart,
}

/// What one report says.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    /// Whose mail program sent it (Final-Recipient), e.g. "bob@example.org".
    pub recipient: String,
    /// The disposition type, lowercase: "displayed", "deleted", "dispatched" or "processed".
    pub disposition: String,
    /// Original-Message-ID, without its angle brackets.
    pub original_message_id: String,
}

impl Receipt {
    /// The report as a user reads it.
    pub fn describe(&self) -> String {
        match self.disposition.as_str() {
            "displayed" => format!("Displayed to {}", self.recipient),
            "deleted" => format!("Deleted by {} without being displayed", self.recipient),
            other => format!("{}: {other}", self.recipient),
        }
    }

    /// Whether this report is about the message with `message_id` (brackets or not) and comes
    /// from one of its `recipients`: anyone who saw the Message-ID can write a report, and RFC
    /// 8098 (section 6) warns of forged ones; a report naming someone the mail never went to is not shown.
    pub fn is_for(&self, message_id: &str, recipients: &[Address]) -> bool {
        !self.original_message_id.is_empty()
            && self.original_message_id == bare_message_id(message_id)
            && recipients.iter().any(|a| a.email.eq_ignore_ascii_case(&self.recipient))
    }
}

/// Reads a report part (RFC 8098 section 3.1): header-like fields, folded lines joined, names in
/// any case. `None` when it names no original message or no disposition: nothing to show.
pub fn parse_report(text: &str) -> Option<Receipt> {
    let mut fields: Vec<(String, String)> = Vec::new();
    for line in text.lines() {
        if line.starts_with([' ', '\t']) {
            if let Some((_, value)) = fields.last_mut() {
                value.push(' ');
                value.push_str(line.trim());
            }
        } else if let Some((name, value)) = line.split_once(':') {
            fields.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
        }
    }
    let field = |name: &str| fields.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str());
    let original_message_id = bare_message_id(field("original-message-id")?).to_owned();
    // "manual-action/MDN-sent-manually; displayed", perhaps with "/modifier" after the type.
    let (_, kind) = field("disposition")?.split_once(';')?;
    let disposition = kind.split('/').next().unwrap_or_default().trim().to_ascii_lowercase();
    // "rfc822; bob@example.org": the address after the type.
    let recipient = field("final-recipient").map(|v| v.split_once(';').map_or(v, |(_, a)| a).trim().to_owned());
    if original_message_id.is_empty() || disposition.is_empty() {
        return None;
    }
    Some(Receipt { recipient: recipient.unwrap_or_else(|| "the recipient".into()), disposition, original_message_id })
}

#[cfg(test)]
mod tests {
    use super::*;

    const CYRUS: &str = "Final-Recipient: rfc822; bob@example.org\r\nOriginal-Message-ID: <orig-123@example.com>\r\n\
                         Disposition: manual-action/MDN-sent-manually; displayed\r\n";

    #[test]
    fn reads_a_report_as_cyrus_writes_it() {
        let r = parse_report(CYRUS).expect("a report");
        assert_eq!(r.recipient, "bob@example.org");
        assert_eq!(r.disposition, "displayed");
        let to = [Address { name: None, email: "Bob@Example.org".into() }];
        assert!(r.is_for("<orig-123@example.com>", &to) && r.is_for("orig-123@example.com", &to));
        assert!(!r.is_for("<other@example.com>", &to), "another message");
        let elsewhere = [Address { name: None, email: "carol@example.org".into() }];
        assert!(!r.is_for("<orig-123@example.com>", &elsewhere), "from someone the mail never went to");
        assert_eq!(r.describe(), "Displayed to bob@example.org");
    }

    #[test]
    fn folding_case_and_modifiers() {
        let text = "reporting-ua: mail.example.net; Mailer\nfinal-RECIPIENT: rfc822;\n  ann@example.net\n\
                    ORIGINAL-message-id: <x@y>\ndisposition: automatic-action/MDN-sent-automatically;\n deleted/error\n";
        let r = parse_report(text).expect("a report");
        assert_eq!((r.recipient.as_str(), r.disposition.as_str()), ("ann@example.net", "deleted"));
        assert_eq!(r.describe(), "Deleted by ann@example.net without being displayed");
    }

    #[test]
    fn not_a_report() {
        assert_eq!(parse_report(""), None);
        assert_eq!(parse_report("Disposition: manual-action/MDN-sent-manually; displayed\n"), None, "no original");
        assert_eq!(parse_report("Original-Message-ID: <a@b>\nDisposition: displayed\n"), None, "no type after ;");
        assert_eq!(parse_report("Original-Message-ID: <>\nDisposition: m/s; displayed\n"), None, "an empty id");
        let unnamed = parse_report("Original-Message-ID: <a@b>\nDisposition: m/s; processed\n").expect("a report");
        assert_eq!(unnamed.describe(), "the recipient: processed");
    }
}
