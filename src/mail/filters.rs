//! Filters: rules the mail server applies as mail arrives, kept in a Sieve script of Petrel's own
//! (RFC 5228). Each rule is written as Sieve behind a comment that carries the rule as JSON, so
//! the script reads back into the same rules. Anything else in the script (a rule edited by hand,
//! Sieve written in the raw editor) is kept as written, in its place; a rule whose Sieve no longer
//! matches its comment is such text.

use serde::{Deserialize, Serialize};

use super::labels;

/// The name of Petrel's script on the server.
pub const SCRIPT_NAME: &str = "petrel";
const HEADER: &str =
    "# Petrel's filters. Rules between \"# petrel-rule\" and \"# petrel-end\" are edited in Petrel; the rest is kept as written.";
const RULE_MARK: &str = "# petrel-rule ";
const END_MARK: &str = "# petrel-end";
/// Longer condition values are refused: a header test on megabytes helps nobody.
const MAX_VALUE_CHARS: usize = 500;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    pub name: String,
    /// Every condition must hold; otherwise any one is enough.
    pub match_all: bool,
    pub conditions: Vec<Condition>,
    pub actions: Vec<RuleAction>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "if", rename_all = "kebab-case")]
pub enum Condition {
    Header { field: Field, test: TextTest, value: String },
    LargerThan { bytes: u64 },
    SmallerThan { bytes: u64 },
    HasAttachment,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Field {
    From,
    To,
    Cc,
    Subject,
    ListId,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TextTest {
    Contains,
    DoesNotContain,
    /// For address fields: the address itself, exactly (any case).
    Is,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "do", rename_all = "kebab-case")]
pub enum RuleAction {
    /// The folder's id (Sieve's `:mailboxid`, RFC 9042) and its name, for servers without it.
    MoveTo {
        mailbox_id: String,
        name: String,
    },
    MarkRead,
    Flag,
    /// `keyword`: the label's keyword where the user made the label (a renamed label keeps its
    /// first keyword); otherwise the one its name makes.
    Label {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        keyword: Option<String>,
    },
    /// A copy goes to `to`; the mail is also kept.
    Forward {
        to: String,
    },
    Discard,
    Stop,
}

impl Field {
    pub const ALL: [Field; 5] = [Field::From, Field::To, Field::Cc, Field::Subject, Field::ListId];

    pub fn header(self) -> &'static str {
        match self {
            Field::From => "from",
            Field::To => "to",
            Field::Cc => "cc",
            Field::Subject => "subject",
            Field::ListId => "list-id",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::From => "From",
            Field::To => "To",
            Field::Cc => "Cc",
            Field::Subject => "Subject",
            Field::ListId => "List-Id",
        }
    }

    pub fn parse(text: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.header() == text)
    }

    fn is_address(self) -> bool {
        matches!(self, Field::From | Field::To | Field::Cc)
    }
}

/// What a rule cannot be saved with, said so the user can mend it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    #[error("the rule \"{0}\" does nothing: give it an action")]
    NoAction(String),
    #[error("the rule \"{rule}\" tests {field} against nothing: type what to look for")]
    EmptyValue { rule: String, field: &'static str },
    #[error("the rule \"{0}\" has a value longer than 500 characters")]
    ValueTooLong(String),
    #[error("the rule \"{0}\" has a line break in a value or name; filters test one line")]
    LineBreak(String),
    #[error("the rule \"{rule}\" forwards to \"{to}\", which is not one email address")]
    ForwardAddress { rule: String, to: String },
    #[error("the rule \"{rule}\" names no folder to move to")]
    NoFolder { rule: String },
    #[error("the rule \"{rule}\": {reason}")]
    Label { rule: String, reason: String },
    #[error("this server's filters cannot {0}")]
    Unsupported(&'static str),
}

/// What the server's Sieve offers (its `sieveExtensions`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SieveCapabilities {
    pub extensions: Vec<String>,
    /// How many redirects one script may make; `None`: no stated limit.
    pub max_redirects: Option<u64>,
}

impl SieveCapabilities {
    pub fn has(&self, extension: &str) -> bool {
        self.extensions.iter().any(|e| e.eq_ignore_ascii_case(extension))
    }

    pub fn can_forward(&self) -> bool {
        self.max_redirects != Some(0)
    }
}

/// The account's filters as loaded: Petrel's script (empty when there is none yet) and what
/// saving it must know.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    pub script: FilterScript,
    /// The script's text as stored (what the raw editor starts from).
    pub text: String,
    pub caps: SieveCapabilities,
    /// The server's id of Petrel's script, once it exists.
    pub script_id: Option<String>,
    /// Another script that is active now: saving Petrel's turns it off unless Petrel's includes it.
    pub other_active: Option<String>,
}

/// One piece of Petrel's script, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    Rule(Rule),
    /// Sieve that is not one of Petrel's rules, kept as written.
    Sieve(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterScript {
    /// The extensions the script asked for, kept: its other Sieve may need them.
    pub requires: Vec<String>,
    pub parts: Vec<Part>,
}

impl FilterScript {
    pub fn rules(&self) -> impl Iterator<Item = &Rule> {
        self.parts.iter().filter_map(|p| match p {
            Part::Rule(r) => Some(r),
            Part::Sieve(_) => None,
        })
    }

    /// Pieces of Sieve the rules editor does not show: other than comments and `include`s.
    pub fn other_sieve(&self) -> usize {
        self.sieve_lines()
            .filter(|(_, line)| !line.starts_with('#') && included_name(line).is_none())
            .map(|(n, _)| n)
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    }

    /// The other scripts this one runs (`include`).
    pub fn included(&self) -> Vec<String> {
        self.sieve_lines().filter_map(|(_, line)| included_name(line)).collect()
    }

    /// The non-blank lines of the Sieve parts, trimmed, with their part's number.
    fn sieve_lines(&self) -> impl Iterator<Item = (usize, &str)> {
        self.parts.iter().enumerate().flat_map(|(n, p)| match p {
            Part::Sieve(s) => s.lines().map(str::trim).filter(|l| !l.is_empty()).map(|l| (n, l)).collect::<Vec<_>>(),
            Part::Rule(_) => Vec::new(),
        })
    }

    /// Replaces the rules with `rules`, in order, into the places the old rules held, so other
    /// Sieve keeps its place among them; rules beyond the old count go after the last old rule
    /// (or first, before any other Sieve, when there was none).
    pub fn set_rules(&mut self, rules: Vec<Rule>) {
        let last_rule = self.parts.iter().rposition(|p| matches!(p, Part::Rule(_)));
        let mut new = rules.into_iter();
        let mut parts = Vec::new();
        if last_rule.is_none() {
            parts.extend(new.by_ref().map(Part::Rule));
        }
        for (i, part) in std::mem::take(&mut self.parts).into_iter().enumerate() {
            match part {
                Part::Rule(_) => parts.extend(new.next().map(Part::Rule)),
                other => parts.push(other),
            }
            if Some(i) == last_rule {
                parts.extend(new.by_ref().map(Part::Rule));
            }
        }
        self.parts = parts;
    }

    /// Whether the script runs the server's script `name` (`include`, RFC 6609).
    pub fn includes(&self, name: &str) -> bool {
        let line = include_line(name);
        self.parts.iter().any(|p| matches!(p, Part::Sieve(s) if s.contains(line.trim_end())))
    }

    /// Runs the script `name` after Petrel's rules.
    pub fn include(&mut self, name: &str) {
        if !self.includes(name) {
            add_unique(&mut self.requires, "include");
            self.parts.push(Part::Sieve(include_line(name)));
        }
    }
}

/// The script an `include` line names.
fn included_name(line: &str) -> Option<String> {
    let statement = line.strip_prefix("include")?.trim_end().strip_suffix(';')?;
    quoted_strings(statement).pop()
}

fn include_line(name: &str) -> String {
    format!("include :personal {};\n", quote(name))
}

fn add_unique(list: &mut Vec<String>, item: &str) {
    if !list.iter().any(|e| e.eq_ignore_ascii_case(item)) {
        list.push(item.to_owned());
    }
}

/// A Sieve quoted string (RFC 5228 §2.4.2): backslash and quote escaped.
fn quote(text: &str) -> String {
    format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Checks a rule before it is written.
pub fn check(rule: &Rule, caps: &SieveCapabilities) -> Result<(), RuleError> {
    let name = || rule.name.clone();
    if rule.name.contains(['\r', '\n']) {
        return Err(RuleError::LineBreak(name()));
    }
    if rule.actions.is_empty() {
        return Err(RuleError::NoAction(name()));
    }
    for condition in &rule.conditions {
        if let Condition::Header { field, value, .. } = condition {
            if value.trim().is_empty() {
                return Err(RuleError::EmptyValue { rule: name(), field: field.label() });
            }
            if value.contains(['\r', '\n']) {
                return Err(RuleError::LineBreak(name()));
            }
            if value.chars().count() > MAX_VALUE_CHARS {
                return Err(RuleError::ValueTooLong(name()));
            }
        }
    }
    for action in &rule.actions {
        match action {
            RuleAction::Forward { to } => {
                if !caps.can_forward() {
                    return Err(RuleError::Unsupported("forward mail"));
                }
                let plain = to.trim();
                let (local, domain) = plain.split_once('@').unwrap_or(("", ""));
                let bad = |c: char| c.is_whitespace() || c.is_control() || "<>\",;()[]\\".contains(c);
                if local.is_empty() || !domain.contains('.') || domain.contains('@') || plain.contains(bad) {
                    return Err(RuleError::ForwardAddress { rule: name(), to: to.clone() });
                }
            }
            RuleAction::MoveTo { mailbox_id, name: folder } if mailbox_id.is_empty() && folder.is_empty() => {
                return Err(RuleError::NoFolder { rule: name() });
            }
            RuleAction::Label { name: label, keyword: None } => {
                labels::keyword_for(label).map_err(|e| RuleError::Label { rule: name(), reason: e.to_string() })?;
            }
            _ => {}
        }
    }
    Ok(())
}

/// The Sieve test for one condition, and the extensions it needs.
fn test(condition: &Condition, caps: &SieveCapabilities, needs: &mut Vec<String>) -> String {
    match condition {
        Condition::Header { field, test, value } => {
            let (header, value) = (quote(field.header()), quote(value.trim()));
            match test {
                TextTest::Contains => format!("header :contains {header} {value}"),
                TextTest::DoesNotContain => format!("not header :contains {header} {value}"),
                TextTest::Is if field.is_address() => format!("address :is :all {header} {value}"),
                TextTest::Is => format!("header :is {header} {value}"),
            }
        }
        Condition::LargerThan { bytes } => format!("size :over {bytes}"),
        Condition::SmallerThan { bytes } => format!("size :under {bytes}"),
        // A part that says it is an attachment (RFC 5703), else the server's own search (Cyrus),
        // else the usual shape of mail with attachments.
        Condition::HasAttachment if caps.has("mime") => {
            add_unique(needs, "mime");
            "header :mime :anychild :contains \"content-disposition\" \"attachment\"".to_owned()
        }
        Condition::HasAttachment if caps.has("vnd.cyrus.jmapquery") => {
            add_unique(needs, "vnd.cyrus.jmapquery");
            "jmapquery \"{\\\"hasAttachment\\\":true}\"".to_owned()
        }
        Condition::HasAttachment => "header :contains \"content-type\" \"multipart/mixed\"".to_owned(),
    }
}

/// A rule as Sieve (its `if` block), and the extensions it needs.
fn rule_sieve(rule: &Rule, caps: &SieveCapabilities) -> Result<(String, Vec<String>), RuleError> {
    check(rule, caps)?;
    let mut needs = Vec::new();
    let tests: Vec<String> = rule.conditions.iter().map(|c| test(c, caps, &mut needs)).collect();
    let condition = match tests.len() {
        0 => "true".to_owned(),
        1 => tests[0].clone(),
        _ => format!("{} ({})", if rule.match_all { "allof" } else { "anyof" }, tests.join(", ")),
    };
    let mut body = Vec::new();
    // Flags first: `fileinto` and the implicit keep store the flags set before them (RFC 5232).
    for action in &rule.actions {
        let flag = match action {
            RuleAction::MarkRead => "\\Seen".to_owned(),
            RuleAction::Flag => "\\Flagged".to_owned(),
            RuleAction::Label { keyword: Some(keyword), .. } => keyword.clone(),
            RuleAction::Label { name, keyword: None } => labels::keyword_for(name)
                .map_err(|e| RuleError::Label { rule: rule.name.clone(), reason: e.to_string() })?,
            _ => continue,
        };
        add_unique(&mut needs, "imap4flags");
        body.push(format!("addflag {};", quote(&flag)));
    }
    for action in &rule.actions {
        if let RuleAction::Forward { to } = action {
            if caps.has("copy") {
                add_unique(&mut needs, "copy");
                body.push(format!("redirect :copy {};", quote(to.trim())));
            } else {
                body.push(format!("redirect {};", quote(to.trim())));
                // A plain redirect cancels the implicit keep: keep it, the user asked to forward.
                if !rule.actions.iter().any(|a| matches!(a, RuleAction::MoveTo { .. } | RuleAction::Discard)) {
                    body.push("keep;".to_owned());
                }
            }
        }
    }
    for action in &rule.actions {
        match action {
            RuleAction::MoveTo { mailbox_id, name } => {
                add_unique(&mut needs, "fileinto");
                if caps.has("mailboxid") && !mailbox_id.is_empty() {
                    add_unique(&mut needs, "mailboxid");
                    // Stalwart wants "mailbox" declared for `:mailboxid` as well.
                    if caps.has("mailbox") {
                        add_unique(&mut needs, "mailbox");
                    }
                    body.push(format!("fileinto :mailboxid {} {};", quote(mailbox_id), quote(name)));
                } else {
                    body.push(format!("fileinto {};", quote(name)));
                }
            }
            RuleAction::Discard => {
                body.push("discard;".to_owned());
            }
            _ => {}
        }
    }
    if rule.actions.contains(&RuleAction::Stop) {
        body.push("stop;".to_owned());
    }
    let mut text = format!("if {condition} {{\n");
    for line in body {
        text.push_str("  ");
        text.push_str(&line);
        text.push('\n');
    }
    text.push_str("}\n");
    Ok((text, needs))
}

/// The whole script, ready to upload.
pub fn write_script(script: &FilterScript, caps: &SieveCapabilities) -> Result<String, RuleError> {
    let mut requires = script.requires.clone();
    let mut body = String::new();
    for part in &script.parts {
        match part {
            Part::Rule(rule) => {
                let (sieve, needs) = rule_sieve(rule, caps)?;
                for need in needs {
                    add_unique(&mut requires, &need);
                }
                let json = serde_json::to_string(rule).map_err(|_| RuleError::LineBreak(rule.name.clone()))?;
                body.push_str(RULE_MARK);
                body.push_str(&json);
                body.push('\n');
                body.push_str(&sieve);
                body.push_str(END_MARK);
                body.push('\n');
            }
            Part::Sieve(text) => {
                body.push_str(text);
                if !text.ends_with('\n') {
                    body.push('\n');
                }
            }
        }
    }
    let mut text = String::from(HEADER);
    text.push('\n');
    if !requires.is_empty() {
        let list: Vec<String> = requires.iter().map(|r| quote(r)).collect();
        text.push_str(&format!("require [{}];\n", list.join(", ")));
    }
    text.push_str(&body);
    Ok(text)
}

/// Where the first `;` outside a quoted string is on `line`.
fn statement_end(line: &str) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (at, c) in line.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            ';' if !quoted => return Some(at),
            _ => {}
        }
    }
    None
}

/// The quoted strings in a `require` statement.
fn quoted_strings(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '"' {
            continue;
        }
        let mut s = String::new();
        while let Some(c) = chars.next() {
            match c {
                '\\' => s.extend(chars.next()),
                '"' => break,
                c => s.push(c),
            }
        }
        out.push(s);
    }
    out
}

/// Reads a script back: Petrel's rules where their Sieve is as Petrel wrote it, everything else
/// as text. Never fails: what it cannot read is kept, not dropped.
pub fn read_script(text: &str, caps: &SieveCapabilities) -> FilterScript {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut script = FilterScript::default();
    let mut raw = String::new();
    let mut i = 0;
    // The head: Petrel's header, blank lines, comments and `require` statements (RFC 5228 puts
    // every require before any other command).
    while i < lines.len() {
        let line = lines[i].trim();
        if line == HEADER || line.is_empty() {
            i += 1;
        } else if line.starts_with("require") {
            let mut statement = String::new();
            let mut rest = String::new();
            while i < lines.len() {
                let line = lines[i];
                i += 1;
                match statement_end(line) {
                    // What follows the `;` on its line is Sieve of its own, kept.
                    Some(end) => {
                        statement.push_str(&line[..=end]);
                        rest = line[end + 1..].to_owned();
                        break;
                    }
                    None => statement.push_str(line),
                }
            }
            for name in quoted_strings(&statement) {
                add_unique(&mut script.requires, &name);
            }
            if !rest.trim().is_empty() {
                raw.push_str(rest.trim_start());
                break;
            }
        } else if line.starts_with('#') && !line.starts_with(RULE_MARK.trim_end()) {
            raw.push_str(lines[i]);
            i += 1;
        } else {
            break;
        }
    }
    while i < lines.len() {
        let line = lines[i];
        let rule = line.trim_end().strip_prefix(RULE_MARK).and_then(|json| serde_json::from_str::<Rule>(json).ok());
        let end = lines[i + 1..].iter().position(|l| l.trim_end() == END_MARK).map(|n| i + 1 + n);
        match (rule, end) {
            (Some(rule), Some(end)) => {
                let written: String = lines[i + 1..end].concat();
                let same = rule_sieve(&rule, caps).is_ok_and(|(sieve, _)| normalized(&sieve) == normalized(&written));
                if same {
                    if !raw.is_empty() {
                        script.parts.push(Part::Sieve(std::mem::take(&mut raw)));
                    }
                    script.parts.push(Part::Rule(rule));
                } else {
                    // Edited by hand since: kept as it now is.
                    raw.push_str(&lines[i..=end].concat());
                }
                i = end + 1;
            }
            _ => {
                raw.push_str(line);
                i += 1;
            }
        }
    }
    if !raw.trim().is_empty() {
        script.parts.push(Part::Sieve(raw));
    }
    script
}

fn normalized(text: &str) -> String {
    text.lines().map(str::trim_end).filter(|l| !l.is_empty()).collect::<Vec<_>>().join("\n")
}

/// The server's refusal of a script, with the line it points at where it says one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptProblem {
    pub line: Option<u32>,
    pub message: String,
}

impl ScriptProblem {
    /// A server's complaint, with the line it names; Cyrus's leading "line N:" is left to the
    /// line number, so it is not said twice.
    pub fn from_message(message: &str) -> ScriptProblem {
        let message = message.trim();
        let line = error_line(message);
        let rest = line
            .and_then(|n| {
                let lower = message.to_ascii_lowercase();
                let prefix = format!("line {n}");
                lower.starts_with(&prefix).then(|| message[prefix.len()..].trim_start_matches([':', ' ']).to_owned())
            })
            .filter(|rest| !rest.is_empty());
        ScriptProblem { line, message: rest.unwrap_or_else(|| message.to_owned()) }
    }
}

/// The line a server's complaint about a script points at ("line 3: syntax error" from Cyrus,
/// "... at line 3, column 27." from Stalwart).
pub fn error_line(description: &str) -> Option<u32> {
    let lower = description.to_ascii_lowercase();
    let at = lower.find("line ")? + "line ".len();
    let digits: String = lower[at..].chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok().filter(|n| *n > 0)
}

/// A new rule that files mail from `sender` (and, when given, with this subject) into a folder:
/// "Filter messages like this".
pub fn rule_like(sender: &str, subject: Option<&str>) -> Rule {
    let mut conditions = vec![Condition::Header { field: Field::From, test: TextTest::Is, value: sender.to_owned() }];
    if let Some(subject) = subject.map(str::trim).filter(|s| !s.is_empty()) {
        conditions.push(Condition::Header {
            field: Field::Subject,
            test: TextTest::Contains,
            value: subject.to_owned(),
        });
    }
    Rule { name: format!("Mail from {sender}"), match_all: true, conditions, actions: Vec::new() }
}

/// "Block sender": mail from `sender` goes straight to Trash, read (recoverable, unlike `discard`).
pub fn block_rule(sender: &str, trash_id: &str, trash_name: &str) -> Rule {
    Rule {
        name: format!("Block {sender}"),
        match_all: true,
        conditions: vec![Condition::Header { field: Field::From, test: TextTest::Is, value: sender.to_owned() }],
        actions: vec![
            RuleAction::MarkRead,
            RuleAction::MoveTo { mailbox_id: trash_id.to_owned(), name: trash_name.to_owned() },
            RuleAction::Stop,
        ],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cyrus() -> SieveCapabilities {
        let exts = ["fileinto", "imap4flags", "copy", "mailbox", "mailboxid", "include", "vnd.cyrus.jmapquery"];
        SieveCapabilities { extensions: exts.iter().map(|s| s.to_string()).collect(), max_redirects: None }
    }

    fn bare() -> SieveCapabilities {
        let exts = ["fileinto", "imap4flags"];
        SieveCapabilities { extensions: exts.iter().map(|s| s.to_string()).collect(), max_redirects: Some(0) }
    }

    fn newsletter_rule() -> Rule {
        Rule {
            name: "Newsletters \"weekly\"".into(),
            match_all: true,
            conditions: vec![
                Condition::Header { field: Field::From, test: TextTest::Contains, value: "news@example.com".into() },
                Condition::Header { field: Field::Subject, test: TextTest::DoesNotContain, value: "ur\"gent\\".into() },
                Condition::LargerThan { bytes: 1000 },
                Condition::HasAttachment,
            ],
            actions: vec![
                RuleAction::MoveTo { mailbox_id: "k9r3".into(), name: "Archive".into() },
                RuleAction::MarkRead,
                RuleAction::Label { name: "Reading list".into(), keyword: None },
                RuleAction::Forward { to: "me@example.net".into() },
                RuleAction::Stop,
            ],
        }
    }

    #[test]
    fn a_rule_becomes_sieve_with_flags_before_fileinto() {
        let script = FilterScript { requires: vec![], parts: vec![Part::Rule(newsletter_rule())] };
        let text = write_script(&script, &cyrus()).unwrap();
        assert!(text.contains(
            "require [\"vnd.cyrus.jmapquery\", \"imap4flags\", \"copy\", \"fileinto\", \"mailboxid\", \"mailbox\"];\n"
        ), "{text}");
        assert!(text.contains(
            "if allof (header :contains \"from\" \"news@example.com\", not header :contains \"subject\" \"ur\\\"gent\\\\\", size :over 1000, jmapquery \"{\\\"hasAttachment\\\":true}\") {\n"
        ), "{text}");
        let seen = text.find("addflag \"\\\\Seen\";").unwrap();
        let label = text.find("addflag \"reading_list\";").unwrap();
        let forward = text.find("redirect :copy \"me@example.net\";").unwrap();
        let file = text.find("fileinto :mailboxid \"k9r3\" \"Archive\";").unwrap();
        let stop = text.find("stop;").unwrap();
        assert!(seen < label && label < forward && forward < file && file < stop, "{text}");
    }

    #[test]
    fn rules_read_back_as_written_and_other_sieve_is_kept_in_place() {
        let before = "# written by hand\nif header :is \"x-spam\" \"yes\" { fileinto \"Junk\"; }\n";
        let script = FilterScript {
            requires: vec!["body".into()],
            parts: vec![
                Part::Sieve(before.into()),
                Part::Rule(newsletter_rule()),
                Part::Rule(block_rule("spam@example.com", "t1", "Trash")),
                Part::Sieve("vacation \"away\";\n".into()),
            ],
        };
        let text = write_script(&script, &cyrus()).unwrap();
        let back = read_script(&text, &cyrus());
        assert_eq!(back.parts, script.parts);
        assert_eq!(back.requires[0], "body");
        assert_eq!(write_script(&back, &cyrus()).unwrap(), text, "a second round trip changes nothing");
        assert_eq!(back.rules().count(), 2);
        assert_eq!(back.other_sieve(), 2);
    }

    #[test]
    fn a_rule_edited_by_hand_is_kept_as_sieve_and_crlf_is_read() {
        let script =
            FilterScript { requires: vec![], parts: vec![Part::Rule(block_rule("a@b.example", "t", "Trash"))] };
        let text = write_script(&script, &cyrus()).unwrap().replace("discard", "x").replace("stop;", "keep;");
        let back = read_script(&text.replace('\n', "\r\n"), &cyrus());
        assert_eq!(back.rules().count(), 0);
        assert!(matches!(&back.parts[..], [Part::Sieve(s)] if s.contains("keep;") && s.contains(RULE_MARK)));
    }

    #[test]
    fn unknown_sieve_from_the_server_is_kept_verbatim() {
        let foreign = "require [\"vnd.acme.future\", \"fileinto\"];\n/* a block\n comment */\nif acmetest :frob \"x\" text:\nmulti\nline\n.\n{ fileinto \"A\"; }\n# petrel-rule {not json\n";
        let back = read_script(foreign, &cyrus());
        assert_eq!(back.requires, vec!["vnd.acme.future".to_string(), "fileinto".to_string()]);
        assert_eq!(back.rules().count(), 0);
        let again = write_script(&back, &cyrus()).unwrap();
        assert!(again.contains("require [\"vnd.acme.future\", \"fileinto\"];\n"));
        assert!(again.ends_with(&foreign[foreign.find("/*").unwrap()..]), "{again}");
    }

    #[test]
    fn a_require_sharing_its_line_keeps_what_follows() {
        let text = "require \"fileinto\"; if header :contains \"subject\" \"a;b\" { fileinto \"X\"; }\nkeep;\n";
        let back = read_script(text, &cyrus());
        assert_eq!(back.requires, vec!["fileinto".to_string()]);
        let again = write_script(&back, &cyrus()).unwrap();
        assert!(again.contains("if header :contains \"subject\" \"a;b\" { fileinto \"X\"; }\nkeep;\n"), "{again}");
    }

    #[test]
    fn set_rules_keeps_other_sieve_around_them() {
        let mut script = FilterScript {
            requires: vec![],
            parts: vec![
                Part::Sieve("# a\n".into()),
                Part::Rule(block_rule("a@x.example", "t", "Trash")),
                Part::Sieve("# b\n".into()),
            ],
        };
        script.set_rules(vec![block_rule("c@x.example", "t", "Trash"), block_rule("d@x.example", "t", "Trash")]);
        let names: Vec<String> = script
            .parts
            .iter()
            .map(|p| match p {
                Part::Rule(r) => r.name.clone(),
                Part::Sieve(s) => s.trim().to_owned(),
            })
            .collect();
        assert_eq!(names, ["# a", "Block c@x.example", "Block d@x.example", "# b"]);
        // Sieve between two rules stays between them when the rules change.
        let mut between = FilterScript {
            requires: vec![],
            parts: vec![
                Part::Rule(block_rule("a@x.example", "t", "Trash")),
                Part::Sieve("# by hand\n".into()),
                Part::Rule(block_rule("b@x.example", "t", "Trash")),
            ],
        };
        between.set_rules(vec![
            block_rule("b@x.example", "t", "Trash"),
            block_rule("a@x.example", "t", "Trash"),
            block_rule("e@x.example", "t", "Trash"),
        ]);
        assert!(matches!(&between.parts[1], Part::Sieve(s) if s == "# by hand\n"));
        assert_eq!(
            between.rules().map(|r| r.name.as_str()).collect::<Vec<_>>(),
            ["Block b@x.example", "Block a@x.example", "Block e@x.example"]
        );
        script.include("roundcube");
        script.include("roundcube");
        assert!(script.includes("roundcube"));
        assert_eq!(script.included(), vec!["roundcube".to_string()]);
        assert_eq!(script.other_sieve(), 0, "comments and includes are not hand-written rules");
        let text = write_script(&script, &cyrus()).unwrap();
        assert_eq!(text.matches("include :personal \"roundcube\";").count(), 1);
        assert!(text.contains("\"include\""));
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        let mut rule = newsletter_rule();
        rule.actions.clear();
        assert!(matches!(check(&rule, &cyrus()), Err(RuleError::NoAction(_))));
        let mut rule = newsletter_rule();
        rule.conditions[0] = Condition::Header { field: Field::From, test: TextTest::Is, value: " ".into() };
        assert!(matches!(check(&rule, &cyrus()), Err(RuleError::EmptyValue { field: "From", .. })));
        rule.conditions[0] = Condition::Header { field: Field::To, test: TextTest::Is, value: "a\nb".into() };
        assert!(matches!(check(&rule, &cyrus()), Err(RuleError::LineBreak(_))));
        for to in ["not an address", "a@b", "<a@b.example>", "a@b.example, c@d.example"] {
            let rule = Rule { actions: vec![RuleAction::Forward { to: to.into() }], ..newsletter_rule() };
            assert!(matches!(check(&rule, &cyrus()), Err(RuleError::ForwardAddress { .. })), "{to}");
        }
        let rule = Rule { actions: vec![RuleAction::Forward { to: "me@example.net".into() }], ..newsletter_rule() };
        assert_eq!(check(&rule, &bare()), Err(RuleError::Unsupported("forward mail")));
        let rule = Rule { actions: vec![RuleAction::Label { name: "  ".into(), keyword: None }], ..newsletter_rule() };
        assert!(matches!(check(&rule, &cyrus()), Err(RuleError::Label { .. })));
    }

    #[test]
    fn servers_without_extensions_get_plain_sieve() {
        let rule = Rule {
            name: "r".into(),
            match_all: false,
            conditions: vec![
                Condition::HasAttachment,
                Condition::Header { field: Field::From, test: TextTest::Is, value: "a@b.example".into() },
            ],
            actions: vec![RuleAction::MoveTo { mailbox_id: "id".into(), name: "Lists".into() }],
        };
        let (sieve, needs) = rule_sieve(&rule, &bare()).unwrap();
        assert_eq!(
            sieve,
            "if anyof (header :contains \"content-type\" \"multipart/mixed\", address :is :all \"from\" \"a@b.example\") {\n  fileinto \"Lists\";\n}\n"
        );
        assert_eq!(needs, vec!["fileinto".to_string()]);
    }

    #[test]
    fn error_lines_from_cyrus_and_stalwart() {
        assert_eq!(error_line("line 3: syntax error\r\n"), Some(3));
        assert_eq!(error_line("Expected token \"';'\" but found \"}\" at line 12, column 27."), Some(12));
        assert_eq!(error_line("script too large"), None);
        assert_eq!(error_line("line 0"), None);
        assert_eq!(
            ScriptProblem::from_message("line 14: syntax error\r\n"),
            ScriptProblem { line: Some(14), message: "syntax error".into() }
        );
        let stalwart = ScriptProblem::from_message("Invalid Arguments at line 4, column 11.");
        assert_eq!((stalwart.line, stalwart.message.as_str()), (Some(4), "Invalid Arguments at line 4, column 11."));
    }
}
