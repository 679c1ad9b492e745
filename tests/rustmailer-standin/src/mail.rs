//! The stand-in's in-memory accounts, folders and messages, seeded with realistic mail.

use std::collections::{BTreeMap, BTreeSet};

use crate::pb;

pub const DELIMITER: &str = "/";
/// Seeded messages' dates count back from here (2026-11-20 09:00 UTC), one hour apart.
const SEED_EPOCH_MS: i64 = 1_795_165_200_000;

#[derive(Clone)]
pub struct Attachment {
    pub id: String,
    pub filename: String,
    pub mime: String,
    pub content: Vec<u8>,
    pub inline: bool,
    pub content_id: Option<String>,
}

#[derive(Clone)]
pub struct Mail {
    pub uid: u32,
    pub message_id: String,
    pub thread_id: String,
    pub from: (Option<String>, String),
    pub to: Vec<(Option<String>, String)>,
    pub cc: Vec<(Option<String>, String)>,
    pub subject: String,
    pub date_ms: i64,
    pub internal_date_ms: i64,
    pub flags: BTreeSet<i32>,
    /// Flags of the client's naming (CUSTOM), kept where the account's server allows them.
    pub custom_flags: BTreeSet<String>,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
    pub in_reply_to: Option<String>,
    pub references: Vec<String>,
}

pub struct Mailbox {
    pub id: u64,
    pub name: String,
    pub special: Option<pb::AttributeEnum>,
    pub uid_next: u32,
    pub uid_validity: u32,
    pub mails: BTreeMap<u32, Mail>,
}

impl Mailbox {
    pub fn new(id: u64, name: &str, special: Option<pb::AttributeEnum>) -> Mailbox {
        Mailbox {
            id,
            name: name.to_owned(),
            special,
            uid_next: 1,
            uid_validity: 1_700_000_000 + id as u32,
            mails: BTreeMap::new(),
        }
    }

    pub fn append(&mut self, mut mail: Mail) -> u32 {
        mail.uid = self.uid_next;
        self.uid_next += 1;
        let uid = mail.uid;
        self.mails.insert(uid, mail);
        uid
    }

    pub fn unseen(&self) -> u32 {
        self.mails.values().filter(|m| !m.flags.contains(&(pb::EmailFlag::Seen as i32))).count() as u32
    }

    /// Messages newest first (or oldest first when `desc` is false), as ListMessages pages them.
    pub fn sorted(&self, desc: bool) -> Vec<&Mail> {
        let mut mails: Vec<&Mail> = self.mails.values().collect();
        mails.sort_by_key(|m| (m.internal_date_ms, m.uid));
        if desc {
            mails.reverse();
        }
        mails
    }
}

pub struct Account {
    pub id: u64,
    pub email: String,
    pub name: String,
    pub created_at: i64,
    pub mailboxes: Vec<Mailbox>,
    pub next_mailbox_id: u64,
    /// Whether its IMAP server keeps flags of the client's naming (`\*` in PERMANENTFLAGS).
    pub custom_flags: bool,
}

impl Account {
    pub fn new(id: u64, email: &str, name: &str) -> Account {
        let mut account = Account {
            id,
            email: email.into(),
            name: name.into(),
            created_at: SEED_EPOCH_MS - 90 * 86_400_000,
            mailboxes: vec![],
            next_mailbox_id: id * 1000 + 1,
            custom_flags: true,
        };
        use pb::AttributeEnum as A;
        for (name, special) in [
            ("INBOX", None),
            ("Drafts", Some(A::Drafts)),
            ("Sent", Some(A::Sent)),
            ("Archive", Some(A::Archive)),
            ("Junk", Some(A::Junk)),
            ("Trash", Some(A::Trash)),
        ] {
            account.add_mailbox(name, special);
        }
        account
    }

    pub fn add_mailbox(&mut self, name: &str, special: Option<pb::AttributeEnum>) -> &mut Mailbox {
        let id = self.next_mailbox_id;
        self.next_mailbox_id += 1;
        self.mailboxes.push(Mailbox::new(id, name, special));
        self.mailboxes.last_mut().expect("just pushed")
    }

    pub fn mailbox(&self, name: &str) -> Option<&Mailbox> {
        self.mailboxes.iter().find(|m| m.name == name)
    }

    pub fn mailbox_mut(&mut self, name: &str) -> Option<&mut Mailbox> {
        self.mailboxes.iter_mut().find(|m| m.name == name)
    }

    pub fn special(&mut self, attr: pb::AttributeEnum) -> Option<&mut Mailbox> {
        self.mailboxes.iter_mut().find(|m| m.special == Some(attr))
    }
}

pub fn new_mail(from: (&str, &str), to: &str, subject: &str, text: &str, date_ms: i64) -> Mail {
    let message_id = format!("{}.{}@standin.example", date_ms, subject.len());
    Mail {
        uid: 0,
        thread_id: format!("t-{message_id}"),
        message_id,
        from: (Some(from.0.to_owned()), from.1.to_owned()),
        to: vec![(None, to.to_owned())],
        cc: vec![],
        subject: subject.to_owned(),
        date_ms,
        internal_date_ms: date_ms,
        flags: BTreeSet::new(),
        custom_flags: BTreeSet::new(),
        text: text.to_owned(),
        html: None,
        attachments: vec![],
        in_reply_to: None,
        references: vec![],
    }
}

/// Two accounts: alice (the demo mailbox: a thread, HTML, an attachment, read and flagged mail, and a
/// `Bulk` folder of `bulk` messages for paging) and bob (a plain IMAP account).
pub fn seed(bulk: u32) -> Vec<Account> {
    let mut alice = Account::new(1, "alice@example.org", "Alice Example");
    let me = "alice@example.org";
    let mut at = SEED_EPOCH_MS - 48 * 3_600_000;
    let mut next = || {
        at += 3_600_000;
        at
    };
    {
        let inbox = alice.mailbox_mut("INBOX").expect("seeded");
        let mut welcome = new_mail(
            ("Petrel Team", "team@petrel.example"),
            me,
            "Welcome to RustMailer via Petrel",
            "Hello Alice,\n\nthis mailbox lives in the RustMailer stand-in.\n",
            next(),
        );
        welcome.flags.insert(pb::EmailFlag::Seen as i32);
        inbox.append(welcome);

        let first = new_mail(
            ("Bob Builder", "bob@example.org"),
            me,
            "Quarterly report",
            "Hi Alice,\n\nthe quarterly report is attached.\n\nBob\n",
            next(),
        );
        let thread = first.thread_id.clone();
        let first_id = first.message_id.clone();
        let mut first = first;
        first.attachments.push(Attachment {
            id: "att-1".into(),
            filename: "report.csv".into(),
            mime: "text/csv".into(),
            content: b"quarter,revenue\nQ1,100\nQ2,140\nQ3,175\n".to_vec(),
            inline: false,
            content_id: None,
        });
        inbox.append(first);
        let mut reply = new_mail(
            ("Carol Chen", "carol@example.org"),
            me,
            "Re: Quarterly report",
            "Numbers look good.\n\n> the quarterly report is attached.\n",
            next(),
        );
        reply.thread_id = thread;
        reply.in_reply_to = Some(first_id.clone());
        reply.references = vec![first_id];
        reply.flags.insert(pb::EmailFlag::EmailFlagged as i32);
        inbox.append(reply);

        let mut news = new_mail(
            ("Newsletter", "news@shop.example"),
            me,
            "Autumn offers",
            "Our autumn offers, in plain text.",
            next(),
        );
        news.html = Some(
            "<html><body><h1>Autumn offers</h1><p>Up to <b>30%</b> off.</p><img src=\"https://tracker.example/pixel.gif\" width=1 height=1>\
             <script>alert(1)</script></body></html>"
                .into(),
        );
        inbox.append(news);
        for i in 1..=6 {
            let m = new_mail(
                ("Dave Data", "dave@example.org"),
                me,
                &format!("Standup notes {i}"),
                &format!("Notes of standup {i}: shipped the invoice parser.\n"),
                next(),
            );
            inbox.append(m);
        }
    }
    {
        let bulk_box = alice.add_mailbox("Bulk", None);
        for i in 0..bulk {
            let m = new_mail(
                ("Bulk Sender", "bulk@example.net"),
                me,
                &format!("Bulk message {i:05}"),
                &format!("Body of bulk message {i}.\n"),
                SEED_EPOCH_MS - 200 * 86_400_000 + i as i64 * 60_000,
            );
            bulk_box.append(m);
        }
    }
    let mut bob = Account::new(2, "bob@example.org", "Bob Builder");
    // Bob's IMAP server keeps only the system flags: no labels there.
    bob.custom_flags = false;
    bob.mailbox_mut("INBOX").expect("seeded").append(new_mail(
        ("Alice Example", me),
        "bob@example.org",
        "Lunch?",
        "Lunch on Friday?\n",
        next(),
    ));
    vec![alice, bob]
}
