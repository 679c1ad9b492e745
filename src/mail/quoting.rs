//! Quoted text: finding it in a plain-text body (the reader folds it) and writing it for a reply
//! or a forward (the composer starts from it). Plain data, no DOM.

use super::model::{Address, Draft, Message};

/// A run of lines of a plain-text body, quoted (`> `, and the "On … wrote:" line before it) or not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextBlock {
    pub quoted: bool,
    pub text: String,
}

fn is_quote_line(line: &str) -> bool {
    line.trim_start().starts_with('>')
}

/// An attribution line ("On Mon, Ann wrote:", "Le … a écrit :", "Am … schrieb …:") ends in a colon
/// and names writing; it belongs with the quote that follows.
fn is_attribution(line: &str) -> bool {
    let l = line.trim().to_lowercase();
    l.ends_with(':') && ["wrote", "écrit", "schrieb", "escribió", "scritto", "schreef"].iter().any(|w| l.contains(w))
}

/// Splits a plain-text body into quoted and unquoted runs, in order. Blank lines between two
/// quoted runs stay inside the quote so it folds as one.
pub fn split_quotes(text: &str) -> Vec<TextBlock> {
    let lines: Vec<&str> = text.lines().collect();
    let quoted_at = |i: usize| -> bool {
        if is_quote_line(lines[i]) {
            return true;
        }
        // An attribution directly (or after one blank line) above a quote.
        if is_attribution(lines[i]) {
            let next = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
            return next.is_some_and(|l| is_quote_line(l));
        }
        if lines[i].trim().is_empty() {
            let before = lines[..i].iter().rev().find(|l| !l.trim().is_empty());
            let after = lines[i + 1..].iter().find(|l| !l.trim().is_empty());
            return before.is_some_and(|l| is_quote_line(l)) && after.is_some_and(|l| is_quote_line(l));
        }
        false
    };
    let mut blocks: Vec<TextBlock> = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let quoted = quoted_at(i);
        match blocks.last_mut() {
            Some(b) if b.quoted == quoted => {
                b.text.push('\n');
                b.text.push_str(line);
            }
            _ => blocks.push(TextBlock { quoted, text: (*line).to_owned() }),
        }
    }
    blocks
}

/// `Re: subject`, without stacking prefixes.
pub fn reply_subject(subject: &str) -> String {
    prefixed("Re:", subject, &["re:", "aw:", "sv:"])
}

/// `Fwd: subject`, without stacking prefixes.
pub fn forward_subject(subject: &str) -> String {
    prefixed("Fwd:", subject, &["fwd:", "fw:"])
}

fn prefixed(prefix: &str, subject: &str, known: &[&str]) -> String {
    let s = subject.trim();
    let lower = s.to_lowercase();
    if known.iter().any(|k| lower.starts_with(k)) {
        s.to_owned()
    } else {
        format!("{prefix} {s}")
    }
}

fn mailbox(a: &Address) -> String {
    match a.name.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => format!("{name} <{}>", a.email),
        None => a.email.clone(),
    }
}

fn list(addresses: &[Address]) -> String {
    addresses.iter().map(mailbox).collect::<Vec<_>>().join(", ")
}

/// The body to quote: the plain text, or the HTML's text when that is all there is.
fn body_text(message: &Message, html_as_text: &dyn Fn(&str) -> String) -> String {
    match (&message.text_body, &message.html_body) {
        (Some(t), _) if !t.trim().is_empty() => t.clone(),
        (_, Some(h)) => html_as_text(h),
        _ => String::new(),
    }
}

/// Which replies a message gets: to its sender (or Reply-To), or to everyone on it but me.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyKind {
    Reply,
    ReplyAll,
    Forward,
}

/// A draft answering `message`: recipients, subject, threading headers and the quoted body.
/// `me` are the user's own addresses (never replied to); `html_as_text` turns an HTML-only body
/// into text (the browser's parser does it in the app).
pub fn answer(message: &Message, kind: ReplyKind, me: &[String], html_as_text: &dyn Fn(&str) -> String) -> Draft {
    let s = &message.summary;
    let is_me = |a: &Address| me.iter().any(|m| m.eq_ignore_ascii_case(&a.email));
    let date = message.sent_at.as_deref().unwrap_or(&s.received_at);
    let date = date.get(..16).unwrap_or(date).replace('T', " ");
    let body = body_text(message, html_as_text);
    let mut draft = Draft::default();
    match kind {
        ReplyKind::Forward => {
            draft.subject = forward_subject(&s.subject);
            draft.text_body = format!(
                "\n\n---------- Forwarded message ----------\nFrom: {}\nDate: {date}\nSubject: {}\nTo: {}\n{}\n{body}",
                list(&s.from),
                s.subject,
                list(&s.to),
                if message.cc.is_empty() { String::new() } else { format!("Cc: {}\n", list(&message.cc)) },
            );
        }
        ReplyKind::Reply | ReplyKind::ReplyAll => {
            draft.subject = reply_subject(&s.subject);
            let mut to: Vec<Address> =
                if message.reply_to.is_empty() { s.from.clone() } else { message.reply_to.clone() };
            // Replying to my own sent mail goes to its recipients.
            if to.iter().all(is_me) && !s.to.is_empty() {
                to = s.to.clone();
            }
            let mut cc = Vec::new();
            if kind == ReplyKind::ReplyAll {
                for a in s.to.iter().chain(&message.cc) {
                    let seen = to.iter().chain(&cc).any(|b: &Address| b.email.eq_ignore_ascii_case(&a.email));
                    if !seen && !is_me(a) {
                        cc.push(a.clone());
                    }
                }
            }
            draft.to = to;
            draft.cc = cc;
            let quoted: String =
                body.lines().map(|l| if l.starts_with('>') { format!(">{l}\n") } else { format!("> {l}\n") }).collect();
            let who = s.from.first().map(mailbox).unwrap_or_else(|| "someone".to_owned());
            draft.text_body = format!("\n\nOn {date}, {who} wrote:\n{quoted}");
            draft.in_reply_to = message.message_id.clone();
            draft.references = message.references.iter().chain(&message.message_id).cloned().collect();
        }
    }
    draft
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mail::EmailSummary;

    fn addr(name: &str, email: &str) -> Address {
        Address { name: (!name.is_empty()).then(|| name.to_owned()), email: email.to_owned() }
    }

    fn message() -> Message {
        Message {
            summary: EmailSummary {
                id: "M1".into(),
                subject: "Q3 plan".into(),
                from: vec![addr("Ann", "ann@example.org")],
                to: vec![addr("", "me@example.org"), addr("Bob", "bob@example.org")],
                received_at: "2026-11-20T09:30:00Z".into(),
                ..Default::default()
            },
            cc: vec![addr("", "carol@example.org"), addr("", "ME@example.org")],
            message_id: vec!["m1@example.org".into()],
            references: vec!["m0@example.org".into()],
            text_body: Some("Hello\n> earlier words\nBye".into()),
            ..Default::default()
        }
    }

    #[test]
    fn quotes_fold_with_their_attribution_and_inner_blank_lines() {
        let text = "Thanks!\n\nOn Mon, Ann wrote:\n> one\n>\n\n> two\nMy answer\n> tail";
        let blocks = split_quotes(text);
        let shape: Vec<(bool, &str)> = blocks.iter().map(|b| (b.quoted, b.text.as_str())).collect();
        assert_eq!(
            shape,
            vec![
                (false, "Thanks!\n"),
                (true, "On Mon, Ann wrote:\n> one\n>\n\n> two"),
                (false, "My answer"),
                (true, "> tail")
            ]
        );
        assert_eq!(split_quotes("no quotes here"), vec![TextBlock { quoted: false, text: "no quotes here".into() }]);
        // A colon line that is not followed by a quote is just text.
        assert!(split_quotes("Ann wrote:\nnothing quoted").iter().all(|b| !b.quoted));
    }

    #[test]
    fn subjects_do_not_stack_prefixes() {
        assert_eq!(reply_subject("Hi"), "Re: Hi");
        assert_eq!(reply_subject("RE: Hi"), "RE: Hi");
        assert_eq!(forward_subject("Fw: Hi"), "Fw: Hi");
        assert_eq!(forward_subject(" Hi "), "Fwd: Hi");
    }

    #[test]
    fn reply_all_leaves_me_out_and_threads() {
        let me = vec!["me@example.org".to_owned()];
        let d = answer(&message(), ReplyKind::ReplyAll, &me, &|h| h.to_owned());
        assert_eq!(d.to, vec![addr("Ann", "ann@example.org")]);
        assert_eq!(
            d.cc.iter().map(|a| a.email.as_str()).collect::<Vec<_>>(),
            vec!["bob@example.org", "carol@example.org"]
        );
        assert_eq!(d.subject, "Re: Q3 plan");
        assert_eq!(d.in_reply_to, vec!["m1@example.org"]);
        assert_eq!(d.references, vec!["m0@example.org", "m1@example.org"]);
        assert!(
            d.text_body
                .contains("On 2026-11-20 09:30, Ann <ann@example.org> wrote:\n> Hello\n>> earlier words\n> Bye\n"),
            "{}",
            d.text_body
        );
        let plain = answer(&message(), ReplyKind::Reply, &me, &|h| h.to_owned());
        assert!(plain.cc.is_empty());
    }

    #[test]
    fn reply_to_wins_and_my_own_mail_replies_to_its_recipients() {
        let me = vec!["ann@example.org".to_owned()];
        let d = answer(&message(), ReplyKind::Reply, &me, &|h| h.to_owned());
        assert_eq!(d.to.len(), 2, "my own message: reply to whom it went");
        let mut m = message();
        m.reply_to = vec![addr("", "list@example.org")];
        assert_eq!(answer(&m, ReplyKind::Reply, &[], &|h| h.to_owned()).to, vec![addr("", "list@example.org")]);
    }

    #[test]
    fn forward_carries_headers_and_html_only_bodies() {
        let mut m = message();
        m.text_body = None;
        m.html_body = Some("<p>Rich</p>".into());
        let d = answer(&m, ReplyKind::Forward, &[], &|_| "Rich".to_owned());
        assert_eq!(d.subject, "Fwd: Q3 plan");
        assert!(d.to.is_empty() && d.in_reply_to.is_empty());
        assert!(
            d.text_body.contains("From: Ann <ann@example.org>\n")
                && d.text_body.contains("Cc: carol@example.org, ME@example.org\n")
        );
        assert!(d.text_body.ends_with("Rich"));
    }
}
