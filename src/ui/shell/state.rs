//! The shell's state, one `Copy` value in context: what the main pane shows, the open message, the
//! list's selection and sort, the dialog, the composer and the undo-send offer; and the intents
//! that change it, for the top bar, the panes and the keys alike.

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mail::error::sentence;
use crate::mail::query::{folder_named, parse_search};
use crate::mail::quoting::{answer, ReplyKind};
use crate::mail::{Draft, EmailSummary, MailQuery, Message, Role, SortBy};
use crate::ui::compose::Queued;
use crate::ui::context::MailContext;
use crate::ui::mail_actions::{self, Batch};
use crate::ui::sanitize::html_to_text;
use crate::ui::selection::Selection;

/// What the main pane shows.
#[derive(Clone, Debug, PartialEq)]
pub enum Page {
    Folder(String),
    Search {
        text: String,
        query: MailQuery,
    },
    Outbox,
    Settings,
    /// The filters, with a rule to start editing ("Filter like this", "Block sender").
    Filters(Option<crate::mail::filters::Rule>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Dialog {
    Move(Vec<String>),
    Labels(Vec<String>),
    Snooze(Vec<String>),
    Help,
}

#[derive(Clone, Copy)]
pub struct ShellState {
    pub page: RwSignal<Page>,
    /// The open message: its id and its conversation's.
    pub opened: RwSignal<Option<(String, String)>>,
    pub selection: RwSignal<Selection>,
    /// The rows in view, with their positions: the keys and batch actions read them.
    pub visible: RwSignal<Vec<(u64, EmailSummary)>>,
    pub dialog: RwSignal<Option<Dialog>>,
    /// The conversation shown as it prints (its message and conversation ids), over the app.
    pub printing: RwSignal<Option<(String, String)>>,
    pub composing: RwSignal<Option<Draft>>,
    /// A message just handed to the outbox, while it can still be taken back.
    pub undo_send: RwSignal<Option<Queued>>,
    /// The list's order: by what, and whether ascending.
    pub sort: RwSignal<(SortBy, bool)>,
    pub search_text: RwSignal<String>,
    pub search_field: NodeRef<leptos::html::Input>,
}

impl ShellState {
    pub fn new(first_page: Page) -> ShellState {
        ShellState {
            page: RwSignal::new(first_page),
            opened: RwSignal::new(None),
            selection: RwSignal::new(Selection::default()),
            visible: RwSignal::new(Vec::new()),
            dialog: RwSignal::new(None),
            printing: RwSignal::new(None),
            composing: RwSignal::new(None),
            undo_send: RwSignal::new(None),
            sort: RwSignal::new((SortBy::ReceivedAt, false)),
            search_text: RwSignal::new(String::new()),
            search_field: NodeRef::new(),
        }
    }

    pub fn get() -> ShellState {
        expect_context::<ShellState>()
    }

    /// The folder shown, when the page is one.
    pub fn folder(&self) -> Option<String> {
        match self.page.get() {
            Page::Folder(id) => Some(id),
            _ => None,
        }
    }

    /// The list the page shows, in the order chosen (conversations when the preference says so).
    pub fn query(&self, ctx: &MailContext) -> Option<MailQuery> {
        match self.page.get() {
            Page::Folder(id) => {
                let (by, ascending) = self.sort.get();
                let threads = ctx.prefs.with(|p| p.threaded);
                Some(MailQuery { sort: by, ascending, threads, ..MailQuery::mailbox(&id) })
            }
            Page::Search { query, .. } => Some(query),
            _ => None,
        }
    }

    /// Another page: any open message closes.
    pub fn show(&self, page: Page) {
        self.opened.set(None);
        self.page.set(page);
    }

    pub fn open(&self, email: &EmailSummary) {
        self.opened.set(Some((email.id.clone(), email.thread_id.clone())));
    }

    /// Spam, or Not spam when the folder shown is Junk (where `!` and the batch bar take mail out).
    pub fn spam_batch(&self, ctx: &MailContext) -> Batch {
        let in_junk = self.folder().is_some_and(|id| ctx.role_id(Role::Junk).as_deref() == Some(id.as_str()));
        if in_junk {
            Batch::NotSpam
        } else {
            Batch::Spam
        }
    }

    pub fn go_role(&self, ctx: &MailContext, role: Role) {
        if let Some(id) = ctx.role_id(role) {
            self.show(Page::Folder(id));
        }
    }

    /// The message on the keyboard's row.
    pub fn cursor_email(&self) -> Option<EmailSummary> {
        let cursor = self.selection.with_untracked(|s| s.cursor)?;
        self.visible.with_untracked(|v| v.iter().find(|(p, _)| *p == cursor).map(|(_, e)| e.clone()))
    }

    /// The open message, else the keyboard's row.
    fn current_id(&self) -> Option<String> {
        self.opened.get_untracked().map(|(id, _)| id).or_else(|| self.cursor_email().map(|e| e.id))
    }

    /// What a batch action acts on: chosen rows, else the open message, else the keyboard's row;
    /// a conversation row stands for its messages in this folder.
    pub fn targets(&self, ctx: &MailContext) -> Vec<String> {
        let base = self.selection.with_untracked(|s| s.targets(self.current_id()));
        let folder = match self.page.get_untracked() {
            Page::Folder(id) => Some(id),
            _ => None,
        };
        if !ctx.prefs.with_untracked(|p| p.threaded) || folder.is_none() {
            return base;
        }
        ctx.engine.with_value(|e| e.read(|s| s.with_conversations(&base, folder.as_deref())))
    }

    pub fn batch(&self, ctx: &MailContext, batch: Batch) {
        let ids = self.targets(ctx);
        let leaves = matches!(batch, Batch::Archive | Batch::Delete | Batch::Spam | Batch::NotSpam | Batch::MoveTo(_));
        mail_actions::run(ctx, batch, ids.clone());
        if leaves {
            if self.opened.get_untracked().is_some_and(|(id, _)| ids.contains(&id)) {
                self.opened.set(None);
            }
            self.selection.update(|s| s.chosen.clear());
        }
    }

    /// Opens the composer answering `message`.
    pub fn answer(&self, ctx: &MailContext, message: &Message, kind: ReplyKind) {
        let me = ctx.me.get_value();
        self.composing.set(Some(answer(message, kind, &me, &html_to_text)));
    }

    /// Answers the open message (or the keyboard's row), fetched whole first.
    pub fn answer_current(&self, ctx: MailContext, kind: ReplyKind) {
        let Some(id) = self.current_id() else { return };
        let (state, engine) = (*self, ctx.engine.get_value());
        spawn_local(async move {
            match engine.message(&id).await {
                // The shell may be gone by now (another account shown): then nothing opens.
                Ok(m) if ctx.me.try_get_value().is_some() => state.answer(&ctx, &m, kind),
                Ok(_) => {}
                Err(e) => ctx.notice.set(Some(sentence(&e.to_string()))),
            }
        });
    }

    /// Runs a search typed in the search field (`in:` names folders by name or role, `label:`
    /// labels by name).
    pub fn search(&self, ctx: &MailContext, text: &str) {
        let text = text.trim().to_owned();
        if text.is_empty() {
            return;
        }
        let folders = ctx.mailboxes.get_untracked();
        let labels = ctx.prefs.with_untracked(|p| p.labels.clone());
        let label_keyword =
            |name: &str| labels.iter().find(|l| l.name.eq_ignore_ascii_case(name)).map(|l| l.keyword.clone());
        match parse_search(&text, |name| folder_named(&folders, name), label_keyword) {
            Ok(filter) => self.show(Page::Search {
                text,
                query: MailQuery { filter, sort: SortBy::ReceivedAt, ascending: false, threads: false },
            }),
            Err(e) => ctx.notice.set(Some(sentence(&format!("the search could not be read: {e}")))),
        }
    }
}
