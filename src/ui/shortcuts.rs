//! Keyboard shortcuts: which key does what, as data (the shell listens and carries commands out;
//! the help dialog lists this same table, so the two cannot drift apart).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command {
    Next,
    Previous,
    Open,
    BackToList,
    ToggleSelect,
    MarkRead,
    MarkUnread,
    Reply,
    ReplyAll,
    Forward,
    Compose,
    Archive,
    Delete,
    ToggleFlag,
    Move,
    /// Label or unlabel the chosen mail (a picker).
    Label,
    Snooze,
    Spam,
    Search,
    GoInbox,
    GoSent,
    GoDrafts,
    Undo,
    Help,
    Escape,
}

/// One row of the help dialog and the keys behind it.
pub struct Shortcut {
    /// The keys as the help dialog writes them.
    pub keys: &'static str,
    /// What they do, as the help dialog says it.
    pub does: &'static str,
    /// Each key (as `KeyboardEvent.key` names it) and its command.
    pub bindings: &'static [(&'static str, Command)],
    /// Keys that count only right after a lone `g` (two-key shortcuts).
    pub after_g: bool,
}

const fn row(keys: &'static str, does: &'static str, bindings: &'static [(&'static str, Command)]) -> Shortcut {
    Shortcut { keys, does, bindings, after_g: false }
}

/// The one table of shortcuts: the help dialog lists it and [`command_for`] reads it, so the two
/// cannot drift apart.
pub const HELP: &[Shortcut] = &[
    row(
        "j / k",
        "next / previous message",
        &[("j", Command::Next), ("ArrowDown", Command::Next), ("k", Command::Previous), ("ArrowUp", Command::Previous)],
    ),
    row("o or Enter", "open the message", &[("o", Command::Open), ("Enter", Command::Open)]),
    row("u", "back to the list", &[("u", Command::BackToList)]),
    row("x", "select or unselect the message", &[("x", Command::ToggleSelect)]),
    row("I / U", "mark read / unread", &[("I", Command::MarkRead), ("U", Command::MarkUnread)]),
    row(
        "r / a / f",
        "reply / reply all / forward",
        &[("r", Command::Reply), ("a", Command::ReplyAll), ("f", Command::Forward)],
    ),
    row("c", "write a new message", &[("c", Command::Compose)]),
    row("e", "archive", &[("e", Command::Archive)]),
    row("#", "delete", &[("#", Command::Delete)]),
    row("s", "flag or unflag", &[("s", Command::ToggleFlag)]),
    row("m", "move to a folder", &[("m", Command::Move)]),
    row("l", "label or unlabel", &[("l", Command::Label)]),
    row("b", "snooze: back in the Inbox later", &[("b", Command::Snooze)]),
    row("!", "report as spam (in Junk: not spam)", &[("!", Command::Spam)]),
    row("z", "undo the last action", &[("z", Command::Undo)]),
    row("/", "search", &[("/", Command::Search)]),
    Shortcut {
        keys: "g then i / s / d",
        does: "go to Inbox / Sent / Drafts",
        bindings: &[("i", Command::GoInbox), ("s", Command::GoSent), ("d", Command::GoDrafts)],
        after_g: true,
    },
    row("?", "this list", &[("?", Command::Help)]),
    row("Esc", "close a dialog or the message", &[("Escape", Command::Escape)]),
];

/// What a key press means. `after_g` is true when the previous key was a lone `g` (two-key
/// shortcuts); modifier combinations belong to the browser and are never taken.
pub fn command_for(key: &str, ctrl_or_meta: bool, alt: bool, after_g: bool) -> Option<Command> {
    if ctrl_or_meta || alt {
        return None;
    }
    HELP.iter()
        .filter(|s| s.after_g == after_g)
        .flat_map(|s| s.bindings)
        .find(|(k, _)| *k == key)
        .map(|(_, command)| *command)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_a_key_and_a_line_in_the_help() {
        use Command::*;
        let all = [
            Next,
            Previous,
            Open,
            BackToList,
            ToggleSelect,
            MarkRead,
            MarkUnread,
            Reply,
            ReplyAll,
            Forward,
            Compose,
            Archive,
            Delete,
            ToggleFlag,
            Move,
            Label,
            Snooze,
            Spam,
            Search,
            GoInbox,
            GoSent,
            GoDrafts,
            Undo,
            Help,
            Escape,
        ];
        for command in all {
            let row = HELP.iter().find(|s| s.bindings.iter().any(|(_, c)| *c == command));
            let row = row.unwrap_or_else(|| panic!("{command:?} has no key"));
            let (key, _) = row.bindings.iter().find(|(_, c)| *c == command).expect("its binding");
            assert_eq!(command_for(key, false, false, row.after_g), Some(command), "{key} does what the help says");
        }
    }

    #[test]
    fn a_key_means_one_thing_and_modifiers_belong_to_the_browser() {
        for after_g in [false, true] {
            let mut keys: Vec<&str> =
                HELP.iter().filter(|s| s.after_g == after_g).flat_map(|s| s.bindings).map(|(k, _)| *k).collect();
            let count = keys.len();
            keys.sort();
            keys.dedup();
            assert_eq!(keys.len(), count, "no key is bound twice");
        }
        assert_eq!(command_for("s", false, false, false), Some(Command::ToggleFlag));
        assert_eq!(command_for("s", false, false, true), Some(Command::GoSent));
        assert_eq!(command_for("s", true, false, false), None);
        assert_eq!(command_for("s", false, true, false), None);
        assert_eq!(command_for("q", false, false, false), None);
    }
}
