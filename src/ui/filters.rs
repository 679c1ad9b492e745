//! Filters: the rules the server applies to mail as it arrives (Petrel's Sieve script, see
//! `mail::filters`), edited as rules or as Sieve. Reached from Settings and from a message
//! ("Filter like this", "Block sender").

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::alert::Alert;
use super::context::MailContext;
use crate::mail::error::sentence;
use crate::mail::filters::{self, Condition, Field, Filters, Rule, RuleAction, ScriptProblem, TextTest};

/// What the page has loaded.
#[derive(Clone)]
enum Loaded {
    Loading,
    Failed(String),
    Ready(Filters),
}

#[component]
pub fn FiltersPage(start_with: Option<Rule>) -> impl IntoView {
    let ctx = MailContext::get();
    let loaded = RwSignal::new(Loaded::Loading);
    // The rule in the editor: its place in the list (None: new) and the rule.
    let editing = RwSignal::new(start_with.map(|r| (None::<usize>, r)));
    let keep_other = RwSignal::new(true);
    let said = RwSignal::new(String::new());
    let problem = RwSignal::new(None::<String>);
    // One save at a time, each from what the last one left: a change made while a save is on its
    // way would be built from the script before it, and undo it.
    let busy = RwSignal::new(false);
    // Where focus goes when a save closes the editor (its Save button is gone): the line saying
    // what happened, so a keyboard user hears it and goes on from the page's top.
    let status = NodeRef::<leptos::html::P>::new();
    // Answers that come after the page closed are dropped (`try_set`).
    let reload = move || {
        let connection = ctx.connection.get_untracked();
        let digests = ctx.digests.get_value();
        spawn_local(async move {
            let _ = loaded.try_set(match connection.filters(&*digests).await {
                Ok(f) => Loaded::Ready(f),
                Err(e) => Loaded::Failed(sentence(&e.to_string())),
            });
            let _ = busy.try_set(false);
        });
    };
    reload();
    // Writes `text` as Petrel's script; `done` says what changed once the server has it.
    // `on_problem`: the Sieve editor's, whose text is saved as written (keeping another active
    // script running when the user said so).
    let store = move |text: String, done: String, on_problem: Option<RwSignal<Option<ScriptProblem>>>| {
        let Some(Loaded::Ready(current)) = loaded.try_get_untracked() else { return };
        if busy.get_untracked() {
            said.set("Wait a moment: the last change is still being saved.".into());
            return;
        }
        let text = match current.other_active.as_deref() {
            Some(other) if on_problem.is_some() && keep_other.get_untracked() && current.caps.has("include") => {
                let mut script = filters::read_script(&text, &current.caps);
                if script.includes(other) {
                    text
                } else {
                    script.include(other);
                    filters::write_script(&script, &current.caps).unwrap_or(text)
                }
            }
            _ => text,
        };
        busy.set(true);
        said.set("Saving…".into());
        problem.set(None);
        let connection = ctx.connection.get_untracked();
        let digests = ctx.digests.get_value();
        spawn_local(async move {
            let answer = connection.save_filters(current.script_id.as_deref(), &text, &*digests).await;
            if !matches!(answer, Ok(Ok(()))) {
                let _ = busy.try_set(false);
            }
            let (text, failure) = match answer {
                Ok(Ok(())) => {
                    let was_editing = editing.try_with_untracked(Option::is_some).unwrap_or(false);
                    if editing.try_set(None).is_none() {
                        reload();
                        if let Some(line) = status.get_untracked().filter(|_| was_editing) {
                            super::focus::focus_after_render(&line);
                        }
                    }
                    (done, None)
                }
                Ok(Err(p)) => {
                    let failure = format!("The server refused the filters: {}", sentence(&p.message));
                    if let Some(target) = on_problem {
                        let _ = target.try_set(Some(p));
                    }
                    (String::new(), Some(failure))
                }
                Err(e) => (String::new(), Some(format!("The filters were not saved: {}", sentence(&e.to_string())))),
            };
            let _ = said.try_set(text);
            let _ = problem.try_set(failure);
        });
    };
    // Saves the rules as `rules`, keeping the script's other Sieve.
    let save_rules = move |rules: Vec<Rule>, done: String| {
        let Loaded::Ready(mut current) = loaded.get_untracked() else { return };
        current.script.set_rules(rules);
        let can_keep = current.caps.has("include");
        if let Some(other) = current.other_active.as_deref().filter(|_| can_keep && keep_other.get_untracked()) {
            current.script.include(other);
        }
        match filters::write_script(&current.script, &current.caps) {
            Ok(text) => store(text, done, None),
            Err(e) => problem.set(Some(sentence(&e.to_string()))),
        }
    };
    let rules = move || match loaded.get() {
        Loaded::Ready(f) => f.script.rules().cloned().collect::<Vec<_>>(),
        _ => Vec::new(),
    };
    view! {
        <section class="settings filters" aria-labelledby="filters-title">
            <h2 id="filters-title">"Filters"</h2>
            <p class="hint">"The server applies these rules to mail as it arrives, also while Petrel is closed."</p>
            <Alert text=problem />
            <p role="status" class="filters-status" tabindex="-1" node_ref=status>
                {move || said.get()}
            </p>
            {move || match loaded.get() {
                Loaded::Loading => view! { <p>"Loading the filters…"</p> }.into_any(),
                Loaded::Failed(reason) => {
                    view! {
                        <p class="notice" role="alert">
                            {reason}
                        </p>
                    }
                        .into_any()
                }
                Loaded::Ready(f) => {
                    let other = f.other_active.clone().filter(|name| !f.script.includes(name));
                    let other_sieve = f.script.other_sieve();
                    let can_keep = f.caps.has("include");
                    let included = f.script.included();
                    let caps = f.caps.clone();
                    // `include` (RFC 6609) is how the other script keeps running.
                    view! {
                        {other
                            .map(|name| {
                                view! {
                                    <fieldset class="other-script">
                                        <legend>"Filters made elsewhere"</legend>
                                        <p>
                                            {format!(
                                                "The server now runs the filter script “{name}”, made in another app. Saving Petrel's filters makes them the ones the server runs.",
                                            )}
                                        </p>
                                        {can_keep
                                            .then(|| {
                                                view! {
                                                    <label class="checkbox">
                                                        <input
                                                            type="checkbox"
                                                            id="filters-keep-other"
                                                            prop:checked=keep_other
                                                            on:change=move |_| keep_other.update(|k| *k = !*k)
                                                        />
                                                        {format!(
                                                            "Keep running the rules of “{name}” after Petrel's",
                                                        )}
                                                    </label>
                                                }
                                            })}
                                        {move || {
                                            (!can_keep || !keep_other.get())
                                                .then(|| {
                                                    view! {
                                                        <p class="notice">
                                                            {format!(
                                                                "Saving will turn “{name}” off: its rules will stop working.",
                                                            )}
                                                        </p>
                                                    }
                                                })
                                        }}
                                    </fieldset>
                                }
                            })}
                        <fieldset>
                            <legend>"Rules"</legend>
                            {move || {
                                let list = rules();
                                if list.is_empty() {
                                    return view! { <p class="empty">"No rules yet."</p> }.into_any();
                                }
                                let count = list.len();
                                view! {
                                    <ol class="rule-list">
                                        {list
                                            .into_iter()
                                            .enumerate()
                                            .map(|(i, rule)| {
                                                let summary = describe(&rule);
                                                let name = rule.name.clone();
                                                let edit_rule = rule.clone();
                                                let moved = move |by: isize| {
                                                    let mut all = rules();
                                                    let to = i as isize + by;
                                                    if (0..all.len() as isize).contains(&to) {
                                                        all.swap(i, to as usize);
                                                        save_rules(all, "The order of the rules is saved.".into());
                                                    }
                                                };
                                                let delete = {
                                                    let name = name.clone();
                                                    move |_: ()| {
                                                        let mut all = rules();
                                                        all.remove(i);
                                                        save_rules(all, format!("The rule “{name}” is deleted."));
                                                    }
                                                };
                                                let edit = Callback::new(move |_| {
                                                    editing.set(Some((Some(i), edit_rule.clone())))
                                                });
                                                view! {
                                                    <li class="rule">
                                                        <strong class="rule-name">{name.clone()}</strong>
                                                        <span class="rule-summary">{summary}</span>
                                                        <span class="rule-buttons">
                                                            {button(
                                                                "rule-edit",
                                                                "Edit",
                                                                format!("Edit “{name}”"),
                                                                false,
                                                                edit,
                                                            )}
                                                            {button(
                                                                "rule-up",
                                                                "↑",
                                                                format!("Move “{name}” up"),
                                                                i == 0,
                                                                Callback::new(move |_| moved(-1)),
                                                            )}
                                                            {button(
                                                                "rule-down",
                                                                "↓",
                                                                format!("Move “{name}” down"),
                                                                i + 1 == count,
                                                                Callback::new(move |_| moved(1)),
                                                            )}
                                                            {button(
                                                                "rule-delete",
                                                                "Delete",
                                                                format!("Delete “{name}”"),
                                                                false,
                                                                Callback::new(delete),
                                                            )}
                                                        </span>
                                                    </li>
                                                }
                                            })
                                            .collect_view()}
                                    </ol>
                                }
                                    .into_any()
                            }}
                            {included
                                .into_iter()
                                .map(|name| {
                                    view! {
                                        <p class="hint included-script">
                                            {format!(
                                                "After these, the server also runs the rules of “{name}”, a script made elsewhere, as it is.",
                                            )}
                                        </p>
                                    }
                                })
                                .collect_view()}
                            {(other_sieve > 0)
                                .then(|| {
                                    view! {
                                        <p class="hint">
                                            {format!(
                                                "The script also holds Sieve written by hand ({other_sieve} {}): it is kept as it is and runs in its place. See it under “Edit as Sieve”.",
                                                if other_sieve == 1 { "part" } else { "parts" },
                                            )}
                                        </p>
                                    }
                                })}
                            <button
                                type="button"
                                id="filter-new"
                                on:click=move |_| {
                                    editing
                                        .set(
                                            Some((
                                                None,
                                                Rule {
                                                    name: String::new(),
                                                    match_all: true,
                                                    conditions: Vec::new(),
                                                    actions: Vec::new(),
                                                },
                                            )),
                                        )
                                }
                            >
                                "New rule"
                            </button>
                        </fieldset>
                        {move || {
                            editing
                                .get()
                                .map(|(at, rule)| {
                                    let caps = caps.clone();
                                    let on_save = Callback::new(move |rule: Rule| {
                                        let mut all = rules();
                                        let name = rule.name.clone();
                                        match at {
                                            Some(i) if i < all.len() => all[i] = rule,
                                            _ => all.push(rule),
                                        }
                                        save_rules(
                                            all,
                                            format!(
                                                "The rule “{name}” is saved; the server applies it to new mail.",
                                            ),
                                        );
                                    });
                                    view! {
                                        <RuleEditor
                                            rule=rule
                                            caps=caps
                                            on_save=on_save
                                            on_cancel=Callback::new(move |_| editing.set(None))
                                        />
                                    }
                                })
                        }}
                        <SieveEditor text=f.text.clone() store=store said=said />
                    }
                        .into_any()
                }
            }}
        </section>
    }
}

/// A button that says `text` (and `aria_label` to assistive technology).
fn button(class: &'static str, text: &'static str, aria_label: String, disabled: bool, on: Callback<()>) -> AnyView {
    view! {
        <button type="button" class=class aria-label=aria_label disabled=disabled on:click=move |_| on.run(())>
            {text}
        </button>
    }
    .into_any()
}

/// A rule in words, for the list.
fn describe(rule: &Rule) -> String {
    let conditions: Vec<String> = rule
        .conditions
        .iter()
        .map(|c| match c {
            Condition::Header { field, test, value } => {
                let test = match test {
                    TextTest::Contains => "contains",
                    TextTest::DoesNotContain => "does not contain",
                    TextTest::Is => "is",
                };
                format!("{} {test} “{value}”", field.label())
            }
            Condition::LargerThan { bytes } => format!("larger than {}", super::format::human_size(*bytes)),
            Condition::SmallerThan { bytes } => format!("smaller than {}", super::format::human_size(*bytes)),
            Condition::HasAttachment => "has an attachment".to_owned(),
        })
        .collect();
    let actions: Vec<String> = rule
        .actions
        .iter()
        .map(|a| match a {
            RuleAction::MoveTo { name, .. } => format!("move to {name}"),
            RuleAction::MarkRead => "mark read".to_owned(),
            RuleAction::Flag => "flag".to_owned(),
            RuleAction::Label { name, .. } => format!("label “{name}”"),
            RuleAction::Forward { to } => format!("forward to {to}"),
            RuleAction::Discard => "delete at once".to_owned(),
            RuleAction::Stop => "stop".to_owned(),
        })
        .collect();
    let when = match conditions.len() {
        0 => "All mail".to_owned(),
        _ => format!("If {}", conditions.join(if rule.match_all { " and " } else { " or " })),
    };
    format!("{when}: {}.", actions.join(", "))
}

/// One editable row: a condition or an action, as the form holds it.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    key: u32,
    kind: String,
    test: String,
    value: String,
}

fn condition_row(key: u32, c: &Condition) -> Row {
    let row = |kind: &str, test: &str, value: String| Row { key, kind: kind.into(), test: test.into(), value };
    match c {
        Condition::Header { field, test, value } => {
            let test = match test {
                TextTest::Contains => "contains",
                TextTest::DoesNotContain => "does-not-contain",
                TextTest::Is => "is",
            };
            row(field.header(), test, value.clone())
        }
        Condition::LargerThan { bytes } => row("larger", "", (bytes / 1024).to_string()),
        Condition::SmallerThan { bytes } => row("smaller", "", (bytes / 1024).to_string()),
        Condition::HasAttachment => row("attachment", "", String::new()),
    }
}

fn action_row(key: u32, a: &RuleAction) -> Row {
    let row = |kind: &str, value: String| Row { key, kind: kind.into(), test: String::new(), value };
    match a {
        RuleAction::MoveTo { mailbox_id, .. } => row("move", mailbox_id.clone()),
        RuleAction::MarkRead => row("read", String::new()),
        RuleAction::Flag => row("flag", String::new()),
        RuleAction::Label { name, .. } => row("label", name.clone()),
        RuleAction::Forward { to } => row("forward", to.clone()),
        RuleAction::Discard => row("discard", String::new()),
        RuleAction::Stop => row("stop", String::new()),
    }
}

/// The rows back as a condition; a size that is not a number is said so.
fn condition_of(row: &Row) -> Result<Condition, String> {
    let kilobytes = || {
        row.value
            .trim()
            .parse::<u64>()
            .map(|kb| kb.saturating_mul(1024))
            .map_err(|_| format!("“{}” is not a size: type a whole number of kilobytes.", row.value.trim()))
    };
    Ok(match row.kind.as_str() {
        "larger" => Condition::LargerThan { bytes: kilobytes()? },
        "smaller" => Condition::SmallerThan { bytes: kilobytes()? },
        "attachment" => Condition::HasAttachment,
        header => Condition::Header {
            field: Field::parse(header).unwrap_or(Field::From),
            test: match row.test.as_str() {
                "does-not-contain" => TextTest::DoesNotContain,
                "is" => TextTest::Is,
                _ => TextTest::Contains,
            },
            value: row.value.clone(),
        },
    })
}

/// The row as an action; `known_label` gives the keyword of a label the user made by that name.
fn action_of(
    row: &Row,
    folder_name: impl Fn(&str) -> Option<String>,
    known_label: impl Fn(&str) -> Option<String>,
) -> Result<RuleAction, String> {
    Ok(match row.kind.as_str() {
        "move" => {
            let name = folder_name(&row.value).ok_or("Choose the folder to move mail to.")?;
            RuleAction::MoveTo { mailbox_id: row.value.clone(), name }
        }
        "read" => RuleAction::MarkRead,
        "flag" => RuleAction::Flag,
        "label" => {
            let name = row.value.trim().to_owned();
            RuleAction::Label { keyword: known_label(&name), name }
        }
        "forward" => RuleAction::Forward { to: row.value.trim().to_owned() },
        "discard" => RuleAction::Discard,
        _ => RuleAction::Stop,
    })
}

const CONDITION_KINDS: [(&str, &str); 8] = [
    ("from", "From"),
    ("to", "To"),
    ("cc", "Cc"),
    ("subject", "Subject"),
    ("list-id", "List-Id"),
    ("larger", "Size is over (KB)"),
    ("smaller", "Size is under (KB)"),
    ("attachment", "Has an attachment"),
];

const ACTION_KINDS: [(&str, &str); 7] = [
    ("move", "Move to folder"),
    ("read", "Mark as read"),
    ("flag", "Flag"),
    ("label", "Add label"),
    ("forward", "Forward a copy to"),
    ("discard", "Delete at once (no Trash)"),
    ("stop", "Stop: no later rule applies"),
];

#[component]
fn RuleEditor(
    rule: Rule,
    caps: filters::SieveCapabilities,
    on_save: Callback<Rule>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let ctx = MailContext::get();
    let next_key = StoredValue::new(1000u32);
    let fresh = move || {
        next_key.update_value(|k| *k += 1);
        next_key.get_value()
    };
    let can_forward = caps.can_forward();
    let name = RwSignal::new(rule.name.clone());
    let match_all = RwSignal::new(rule.match_all);
    let conditions =
        RwSignal::new(rule.conditions.iter().enumerate().map(|(i, c)| condition_row(i as u32, c)).collect::<Vec<_>>());
    let actions =
        RwSignal::new(rule.actions.iter().enumerate().map(|(i, a)| action_row(500 + i as u32, a)).collect::<Vec<_>>());
    if conditions.with_untracked(Vec::is_empty) {
        conditions.set(vec![Row { key: fresh(), kind: "from".into(), test: "contains".into(), value: String::new() }]);
    }
    if actions.with_untracked(Vec::is_empty) {
        actions.set(vec![Row { key: fresh(), kind: "move".into(), test: String::new(), value: String::new() }]);
    }
    let error = RwSignal::new(None::<String>);
    let heading = NodeRef::<leptos::html::H3>::new();
    Effect::new(move |_| {
        if let Some(h) = heading.get() {
            super::focus::focus_after_render(&h);
        }
    });
    let folders = move || {
        ctx.mailboxes
            .with(|all| crate::mail::mailbox::build_tree(all))
            .into_iter()
            .flat_map(flatten)
            .collect::<Vec<_>>()
    };
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let folder_name =
            |id: &str| ctx.mailboxes.with_untracked(|all| all.iter().find(|m| m.id == id).map(|m| m.name.clone()));
        let known_label = |name: &str| {
            ctx.prefs.with_untracked(|p| {
                p.labels.iter().find(|l| l.name.eq_ignore_ascii_case(name)).map(|l| l.keyword.clone())
            })
        };
        let built = (|| -> Result<Rule, String> {
            let conditions =
                conditions.with_untracked(|rows| rows.iter().map(condition_of).collect::<Result<Vec<_>, _>>())?;
            let actions = actions.with_untracked(|rows| {
                rows.iter().map(|r| action_of(r, folder_name, known_label)).collect::<Result<Vec<_>, _>>()
            })?;
            let typed = name.get_untracked().trim().to_owned();
            let rule = Rule {
                name: if typed.is_empty() { "Rule".to_owned() } else { typed },
                match_all: match_all.get_untracked(),
                conditions,
                actions,
            };
            filters::check(&rule, &caps).map_err(|e| sentence(&e.to_string()))?;
            Ok(rule)
        })();
        match built {
            Ok(rule) => {
                error.set(None);
                on_save.run(rule);
            }
            Err(reason) => error.set(Some(reason)),
        }
    };
    let add = move |list: RwSignal<Vec<Row>>, kind: &str, test: &str| {
        let key = fresh();
        list.update(|rows| rows.push(Row { key, kind: kind.into(), test: test.into(), value: String::new() }))
    };
    view! {
        <form class="rule-editor" on:submit=save aria-labelledby="rule-editor-title">
            <h3 id="rule-editor-title" tabindex="-1" node_ref=heading>
                {if rule.name.is_empty() { "New rule".to_owned() } else { format!("Rule “{}”", rule.name) }}
            </h3>
            <label for="rule-name">"Name"</label>
            <input id="rule-name" type="text" prop:value=name on:input=move |ev| name.set(event_target_value(&ev)) />
            <label for="rule-match">"Apply when"</label>
            <select id="rule-match" on:change=move |ev| match_all.set(event_target_value(&ev) == "all")>
                <option value="all" selected=move || match_all.get()>
                    "every condition holds"
                </option>
                <option value="any" selected=move || !match_all.get()>
                    "any condition holds"
                </option>
            </select>
            <fieldset class="rule-rows">
                <legend>"Conditions"</legend>
                {move || {
                    conditions
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(n, row)| {
                            let parameter = match row.kind.as_str() {
                                "attachment" => Parameter::Nothing,
                                "larger" | "smaller" => {
                                    Parameter::Text {
                                        label: "value",
                                        numeric: true,
                                    }
                                }
                                _ => Parameter::Test,
                            };
                            let kinds = CONDITION_KINDS.iter().map(|&(v, l)| (v.to_owned(), l.to_owned())).collect();
                            row_view(conditions, row, n, "Condition", kinds, parameter)
                        })
                        .collect_view()
                }}
                <button type="button" id="rule-add-condition" on:click=move |_| add(conditions, "subject", "contains")>
                    "Add a condition"
                </button>
                <p class="hint">"No condition: the rule applies to all mail."</p>
            </fieldset>
            <fieldset class="rule-rows">
                <legend>"Actions"</legend>
                {move || {
                    actions
                        .get()
                        .into_iter()
                        .enumerate()
                        .map(|(n, row)| {
                            let parameter = match row.kind.as_str() {
                                "move" => Parameter::Folder(folders()),
                                "label" => {
                                    Parameter::Text {
                                        label: "label",
                                        numeric: false,
                                    }
                                }
                                "forward" => {
                                    Parameter::Text {
                                        label: "address",
                                        numeric: false,
                                    }
                                }
                                _ => Parameter::Nothing,
                            };
                            let kinds = ACTION_KINDS
                                .iter()
                                .filter(|(value, _)| *value != "forward" || can_forward)
                                .map(|&(v, l)| (v.to_owned(), l.to_owned()))
                                .collect();
                            row_view(actions, row, n, "Action", kinds, parameter)
                        })
                        .collect_view()
                }}
                <button type="button" id="rule-add-action" on:click=move |_| add(actions, "read", "")>
                    "Add an action"
                </button>
            </fieldset>
            <Alert text=error />
            <div class="rule-editor-buttons">
                <button type="submit" class="primary" id="rule-save">
                    "Save rule"
                </button>
                <button type="button" id="rule-cancel" on:click=move |_| on_cancel.run(())>
                    "Cancel"
                </button>
            </div>
        </form>
    }
}

/// What follows a row's first choice.
enum Parameter {
    Nothing,
    /// How a header is tested, then the text.
    Test,
    Text {
        label: &'static str,
        numeric: bool,
    },
    Folder(Vec<(String, String)>),
}

/// Changes the row `key` of `list`; `redraw` when the row's shape changes (its kind).
fn edit_row(list: RwSignal<Vec<Row>>, key: u32, redraw: bool, change: impl FnOnce(&mut Row)) {
    let apply = |rows: &mut Vec<Row>| {
        if let Some(r) = rows.iter_mut().find(|r| r.key == key) {
            change(r);
        }
    };
    if redraw {
        list.update(apply)
    } else {
        list.update_untracked(apply)
    }
}

/// A select's options, `selected` chosen.
fn options(choices: Vec<(String, String)>, selected: &str) -> AnyView {
    choices
        .into_iter()
        .map(|(value, label)| {
            let chosen = value == selected;
            view! {
                <option value=value selected=chosen>
                    {label}
                </option>
            }
        })
        .collect_view()
        .into_any()
}

/// One editable row, a condition or an action: its kind, its parameter, a remove button.
fn row_view(
    list: RwSignal<Vec<Row>>,
    row: Row,
    n: usize,
    noun: &'static str,
    kinds: Vec<(String, String)>,
    parameter: Parameter,
) -> AnyView {
    let key = row.key;
    let label = |what: &str| format!("{noun} {}{what}", n + 1);
    let text_input = |class: &'static str, what: &'static str, numeric: bool| {
        view! {
            <input
                type="text"
                class=class
                inputmode=if numeric { "numeric" } else { "text" }
                aria-label=label(&format!(": {what}"))
                prop:value=row.value.clone()
                on:input=move |ev| {
                    let v = event_target_value(&ev);
                    edit_row(list, key, false, |r| r.value = v)
                }
            />
        }
        .into_any()
    };
    let parameter = match parameter {
        Parameter::Nothing => ().into_any(),
        Parameter::Test => {
            let tests = [("contains", "contains"), ("does-not-contain", "does not contain"), ("is", "is exactly")];
            let tests = tests.iter().map(|&(v, l)| (v.to_owned(), l.to_owned())).collect();
            view! {
                <select
                    class="condition-test"
                    aria-label=label(": how")
                    on:change=move |ev| {
                        let t = event_target_value(&ev);
                        edit_row(list, key, false, |r| r.test = t)
                    }
                >
                    {options(tests, &row.test)}
                </select>
                {text_input("condition-value", "value", false)}
            }
            .into_any()
        }
        Parameter::Text { label: what, numeric } => {
            let class = if noun == "Condition" { "condition-value" } else { "action-value" };
            text_input(class, what, numeric)
        }
        Parameter::Folder(folders) => {
            let mut choices = vec![(String::new(), "Choose a folder".to_owned())];
            choices.extend(folders);
            view! {
                <select
                    class="action-folder"
                    aria-label=label(": folder")
                    on:change=move |ev| {
                        let v = event_target_value(&ev);
                        edit_row(list, key, false, |r| r.value = v)
                    }
                >
                    {options(choices, &row.value)}
                </select>
            }
            .into_any()
        }
    };
    let kind_class = if noun == "Condition" { "condition-kind" } else { "action-kind" };
    view! {
        <div class="rule-row">
            <select
                class=kind_class
                aria-label=label("")
                on:change=move |ev| {
                    let kind = event_target_value(&ev);
                    edit_row(
                        list,
                        key,
                        true,
                        |r| {
                            r.kind = kind;
                            r.value.clear();
                            if r.test.is_empty() {
                                r.test = "contains".into();
                            }
                        },
                    )
                }
            >
                {options(kinds, &row.kind)}
            </select>
            {parameter}
            <button
                type="button"
                aria-label=format!("Remove {} {}", noun.to_lowercase(), n + 1)
                on:click=move |_| list.update(|rows| rows.retain(|r| r.key != key))
            >
                "×"
            </button>
        </div>
    }
    .into_any()
}

/// The folders as (id, indented name), in the tree's order.
fn flatten(node: crate::mail::MailboxNode) -> Vec<(String, String)> {
    let mut out = vec![(node.mailbox.id.clone(), format!("{}{}", "  ".repeat(node.depth), node.mailbox.name))];
    for child in node.children {
        out.extend(flatten(child));
    }
    out
}

/// Petrel's script as Sieve: checked by the server (SieveScript/validate) before it is saved, its
/// errors shown at their lines.
#[component]
fn SieveEditor<S>(text: String, store: S, said: RwSignal<String>) -> impl IntoView
where
    S: Fn(String, String, Option<RwSignal<Option<ScriptProblem>>>) + Copy + Send + Sync + 'static,
{
    let ctx = MailContext::get();
    let draft = RwSignal::new(text);
    let verdict = RwSignal::new(None::<Result<(), ScriptProblem>>);
    let problem = RwSignal::new(None::<ScriptProblem>);
    let area = NodeRef::<leptos::html::Textarea>::new();
    Effect::new(move |_| {
        if let Some(p) = problem.get() {
            verdict.set(Some(Err(p)));
        }
    });
    // Selects the line at fault, so the cursor is where the mending starts.
    let show_line = move |line: u32| {
        // Called after an answer: the editor may be gone by then.
        let Some(text) = draft.try_get_untracked() else { return };
        let Some(area) = area.get_untracked() else { return };
        let start: usize = text.split_inclusive('\n').take(line as usize - 1).map(|l| l.encode_utf16().count()).sum();
        let length =
            text.split_inclusive('\n').nth(line as usize - 1).map(|l| l.trim_end().encode_utf16().count()).unwrap_or(0);
        let _ = area.focus();
        let _ = area.set_selection_range(start as u32, (start + length) as u32);
    };
    let check = move |then_save: bool| {
        let text = draft.get_untracked();
        verdict.set(None);
        if then_save {
            said.set("Checking the script…".into());
        }
        let connection = ctx.connection.get_untracked();
        let digests = ctx.digests.get_value();
        spawn_local(async move {
            let found = match connection.check_sieve(&text, &*digests).await {
                Ok(None) if then_save => {
                    store(text, "The Sieve script is saved and active.".into(), Some(problem));
                    return;
                }
                Ok(None) => Ok(()),
                Ok(Some(p)) => Err(p),
                Err(e) => Err(ScriptProblem { line: None, message: e.to_string() }),
            };
            if let Err(ScriptProblem { line: Some(line), .. }) = &found {
                show_line(*line);
            }
            if then_save {
                let _ = said.try_set(String::new());
            }
            let _ = verdict.try_set(Some(found));
        });
    };
    view! {
        <details class="sieve-editor">
            <summary>"Edit as Sieve"</summary>
            <p class="hint">
                "The whole script Petrel keeps on the server. Rules Petrel wrote read back as rules while their lines stay as written; anything else is kept as it is."
            </p>
            <label for="sieve-text">"Sieve script"</label>
            <textarea
                id="sieve-text"
                rows="16"
                spellcheck="false"
                node_ref=area
                prop:value=draft
                aria-describedby="sieve-verdict"
                on:input=move |ev| {
                    draft.set(event_target_value(&ev));
                    verdict.set(None);
                }
            ></textarea>
            <div id="sieve-verdict" role="status">
                {move || match verdict.get() {
                    None => ().into_any(),
                    Some(Ok(())) => view! { <p class="sieve-ok">"The server accepts this script."</p> }.into_any(),
                    Some(Err(p)) => {
                        let at = p.line;
                        let quoted = at
                            .and_then(|n| draft.with_untracked(|t| t.lines().nth(n as usize - 1).map(str::to_owned)));
                        view! {
                            <div class="sieve-error">
                                <p>
                                    {match at {
                                        Some(n) => format!("Line {n}: {}", sentence(&p.message)),
                                        None => sentence(&p.message),
                                    }}
                                </p>
                                {quoted.map(|line| view! { <pre class="sieve-line">{line}</pre> })}
                            </div>
                        }
                            .into_any()
                    }
                }}
            </div>
            <div class="rule-editor-buttons">
                <button type="button" id="sieve-check" on:click=move |_| check(false)>
                    "Check"
                </button>
                <button type="button" class="primary" id="sieve-save" on:click=move |_| check(true)>
                    "Save script"
                </button>
            </div>
        </details>
    }
}
