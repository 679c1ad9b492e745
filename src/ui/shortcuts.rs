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
    Spam,
    Search,
    GoInbox,
    GoSent,
    GoDrafts,
    Undo,
    Help,
    Escape,
}

/// The table the help dialog shows: keys as written, and what they do.
pub const HELP: &[(&str, &str)] = &[
    ("j / k", "next / previous message"),
    ("o or Enter", "open the message"),
    ("u", "back to the list"),
    ("x", "select or unselect the message"),
    ("I / U", "mark read / unread"),
    ("r / a / f", "reply / reply all / forward"),
    ("c", "write a new message"),
    ("e", "archive"),
    ("#", "delete"),
    ("s", "flag or unflag"),
    ("m", "move to a folder"),
    ("!", "report as spam"),
    ("z", "undo the last action"),
    ("/", "search"),
    ("g then i / s / d", "go to Inbox / Sent / Drafts"),
    ("?", "this list"),
    ("Esc", "close a dialog or the message"),
];

/// What a key press means. `after_g` is true when the previous key was a lone `g` (two-key
/// shortcuts); modifier combinations belong to the browser and are never taken.
pub fn command_for(key: &str, ctrl_or_meta: bool, alt: bool, after_g: bool) -> Option<Command> {
    if ctrl_or_meta || alt {
        return None;
    }
    if after_g {
        return match key {
            "i" => Some(Command::GoInbox),
            "s" => Some(Command::GoSent),
            "d" => Some(Command::GoDrafts),
            _ => None,
        };
    }
    Some(match key {
        "j" | "ArrowDown" => Command::Next,
        "k" | "ArrowUp" => Command::Previous,
        "o" | "Enter" => Command::Open,
        "u" => Command::BackToList,
        "x" => Command::ToggleSelect,
        "I" => Command::MarkRead,
        "U" => Command::MarkUnread,
        "r" => Command::Reply,
        "a" => Command::ReplyAll,
        "f" => Command::Forward,
        "c" => Command::Compose,
        "e" => Command::Archive,
        "#" => Command::Delete,
        "s" => Command::ToggleFlag,
        "m" => Command::Move,
        "!" => Command::Spam,
        "z" => Command::Undo,
        "/" => Command::Search,
        "?" => Command::Help,
        "Escape" => Command::Escape,
        _ => return None,
    })
}
