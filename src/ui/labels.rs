//! Labels in the UI: chips on rows and in the reader, the picker (`l`), the folder pane's list
//! (a search by label) and their settings. The keywords are the server's; names and colours are
//! this device's prefs (`mail::labels`).

use std::collections::BTreeMap;

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::context::MailContext;
use super::prefs;
use crate::mail::labels::{self, Label, COLOURS};
use crate::mail::store::Row;
use crate::mail::{Action, Filter, MailQuery, SortBy};

/// Mail that loses a deleted label at once (more keeps it: the server has no bulk change).
const MAX_RELABEL: u64 = 1000;

/// Whether labels can be set here: not where the server keeps no flags of the user's naming
/// (RustMailer over an IMAP server without `\*` in PERMANENTFLAGS). Offline, changes wait.
pub fn offered(ctx: &MailContext) -> bool {
    ctx.mailboxes.track();
    ctx.engine.with_value(|e| e.backend().is_none_or(|b| b.offers_labels()))
}

fn chip(label: Label) -> AnyView {
    view! { <span class=format!("label-chip label-colour-{}", label.colour)>{label.name}</span> }.into_any()
}

/// The labels of a message, as chips (they follow renames and recolouring at once).
pub fn label_chips(keywords: BTreeMap<String, bool>) -> impl IntoView {
    let ctx = MailContext::get();
    move || {
        let found = ctx.prefs.with(|p| labels::labels_of(&keywords, &p.labels));
        (!found.is_empty()).then(|| {
            view! { <span class="labels">{found.into_iter().map(chip).collect_view()}</span> }
        })
    }
}

/// Labels `ids` with `label` (`on`) or takes it off, with an undo.
fn apply(ctx: &MailContext, ids: &[String], label: &Label, on: bool) {
    let change = |on| vec![Action::SetKeyword { ids: ids.to_vec(), keyword: label.keyword.clone(), on }];
    let n = ids.len();
    let mail = if n == 1 { "1 message".to_owned() } else { format!("{n} messages") };
    let said = if on {
        format!("Labelled {mail} “{}”.", label.name)
    } else {
        format!("Took “{}” off {mail}.", label.name)
    };
    ctx.act(change(on), Some(said), change(!on));
}

/// The picker: each label with a checkbox (ticked when every message chosen has it), and a new
/// label made and applied in one go.
#[component]
pub fn LabelDialogBody(ids: Vec<String>, on_close: Callback<()>) -> impl IntoView {
    let ctx = MailContext::get();
    let ids = StoredValue::new(ids);
    let new_name = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    // Every label known here and every label already on the chosen mail.
    let choices = move || {
        ctx.version.track();
        let keywords: Vec<BTreeMap<String, bool>> = ids.with_value(|ids| {
            ctx.engine.with_value(|e| e.read(|s| ids.iter().filter_map(|id| s.email(id)).map(|m| m.keywords).collect()))
        });
        ctx.prefs.with(|p| {
            let mut all = p.labels.clone();
            for k in &keywords {
                for l in labels::labels_of(k, &p.labels) {
                    if !all.iter().any(|a| a.keyword == l.keyword) {
                        all.push(l);
                    }
                }
            }
            all.sort_by_key(|l| l.name.to_lowercase());
            all.into_iter()
                .map(|l| {
                    let everywhere = !keywords.is_empty() && keywords.iter().all(|k| k.get(&l.keyword) == Some(&true));
                    (l, everywhere)
                })
                .collect::<Vec<_>>()
        })
    };
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let made = ctx.prefs.with_untracked(|p| labels::create(&p.labels, &new_name.get_untracked(), 6));
        match made {
            Ok(label) => {
                prefs::change(ctx.prefs, |p| p.labels.push(label.clone()));
                ids.with_value(|ids| apply(&ctx, ids, &label, true));
                new_name.set(String::new());
                error.set(None);
            }
            Err(e) => error.set(Some(crate::mail::error::sentence(&e.to_string()))),
        }
    };
    view! {
        <h2 id="labels-title">"Labels"</h2>
        <ul class="label-choices">
            {move || {
                choices()
                    .into_iter()
                    .map(|(label, everywhere)| {
                        let toggled = label.clone();
                        view! {
                            <li>
                                <label class="checkbox">
                                    <input
                                        type="checkbox"
                                        class="label-choice"
                                        data-keyword=label.keyword.clone()
                                        prop:checked=everywhere
                                        on:change=move |_| ids.with_value(|ids| apply(&ctx, ids, &toggled, !everywhere))
                                    />
                                    {chip(label)}
                                </label>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <form class="label-new" on:submit=create>
            <label for="label-new-name">"New label"</label>
            <input
                id="label-new-name"
                type="text"
                data-autofocus
                prop:value=new_name
                on:input=move |ev| new_name.set(event_target_value(&ev))
            />
            <button type="submit" id="label-new-add">
                "Add"
            </button>
        </form>
        <super::alert::Alert text=error />
        <button type="button" id="labels-close" on:click=move |_| on_close.run(())>
            "Done"
        </button>
    }
}

/// The folder pane's labels: each opens the mail that has it (`on_pick` gets the label).
#[component]
pub fn LabelNav(on_pick: Callback<Label>) -> impl IntoView {
    let ctx = MailContext::get();
    move || {
        let known = if offered(&ctx) { ctx.prefs.with(|p| p.labels.clone()) } else { Vec::new() };
        (!known.is_empty()).then(|| {
            view! {
                <nav class="label-nav" aria-label="Labels">
                    <h3>"Labels"</h3>
                    {known
                        .into_iter()
                        .map(|l| {
                            let picked = l.clone();
                            view! {
                                <button
                                    type="button"
                                    class="label-nav-button"
                                    on:click=move |_| on_pick.run(picked.clone())
                                >
                                    {chip(l)}
                                </button>
                            }
                        })
                        .collect_view()}
                </nav>
            }
        })
    }
}

/// Settings: make, rename, recolour and delete labels.
#[component]
pub fn LabelSettings() -> impl IntoView {
    let ctx = MailContext::get();
    let new_name = RwSignal::new(String::new());
    let said = RwSignal::new(String::new());
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        match ctx.prefs.with_untracked(|p| labels::create(&p.labels, &new_name.get_untracked(), 6)) {
            Ok(label) => {
                said.set(format!("Label “{}” made.", label.name));
                prefs::change(ctx.prefs, |p| p.labels.push(label));
                new_name.set(String::new());
            }
            Err(e) => said.set(crate::mail::error::sentence(&e.to_string())),
        }
    };
    let colour_choices = |selected: u8| {
        COLOURS
            .iter()
            .enumerate()
            .map(|(i, name)| {
                view! {
                    <option value=i.to_string() selected=i == selected as usize>
                        {*name}
                    </option>
                }
            })
            .collect_view()
    };
    view! {
        <ul class="label-settings">
            {move || {
                ctx.prefs
                    .with(|p| p.labels.clone())
                    .into_iter()
                    .map(|l| {
                        let (keyword, keyword2, keyword3) = (l.keyword.clone(), l.keyword.clone(), l.keyword.clone());
                        let name = l.name.clone();
                        view! {
                            <li class="label-setting">
                                {chip(l.clone())}
                                <input
                                    type="text"
                                    class="label-rename"
                                    aria-label=format!("Name of “{name}”")
                                    prop:value=l.name.clone()
                                    on:change=move |ev| {
                                        let to = event_target_value(&ev);
                                        let mut all = ctx.prefs.with_untracked(|p| p.labels.clone());
                                        match labels::rename(&mut all, &keyword, &to) {
                                            Ok(()) => {
                                                prefs::change(ctx.prefs, |p| p.labels = all);
                                                said.set(format!("Renamed to “{}”.", to.trim()));
                                            }
                                            Err(e) => said.set(crate::mail::error::sentence(&e.to_string())),
                                        }
                                    }
                                />
                                <select
                                    class="label-colour"
                                    aria-label=format!("Colour of “{name}”")
                                    on:change=move |ev| {
                                        let colour = event_target_value(&ev).parse().unwrap_or(0);
                                        prefs::change(
                                            ctx.prefs,
                                            |p| {
                                                if let Some(l) = p.labels.iter_mut().find(|l| l.keyword == keyword2) {
                                                    l.colour = colour;
                                                }
                                            },
                                        );
                                    }
                                >
                                    {colour_choices(l.colour)}
                                </select>
                                <button
                                    type="button"
                                    class="label-delete"
                                    aria-label=format!("Delete “{name}”")
                                    on:click=move |_| {
                                        let keyword = keyword3.clone();
                                        let name = name.clone();
                                        spawn_local(async move { delete(ctx, keyword, name, said).await });
                                    }
                                >
                                    "Delete"
                                </button>
                            </li>
                        }
                    })
                    .collect_view()
            }}
        </ul>
        <form class="label-new" on:submit=create>
            <label for="label-settings-new">"New label"</label>
            <input
                id="label-settings-new"
                type="text"
                prop:value=new_name
                on:input=move |ev| new_name.set(event_target_value(&ev))
            />
            <button type="submit" id="label-settings-add">
                "Add"
            </button>
        </form>
        <p role="status" class="label-status">
            {move || said.get()}
        </p>
    }
}

/// Deletes a label: off every message that has it (up to [`MAX_RELABEL`], with an undo), then
/// out of the prefs.
async fn delete(ctx: MailContext, keyword: String, name: String, said: RwSignal<String>) {
    let query = MailQuery {
        filter: Filter { has_keyword: Some(keyword.clone()), ..Default::default() },
        sort: SortBy::ReceivedAt,
        ascending: false,
        threads: false,
    };
    let engine = ctx.engine.get_value();
    if let Err(e) = engine.show(&query, 0, MAX_RELABEL).await {
        let _ = said.try_set(format!("The label “{name}” is kept: the mail that has it could not be found ({e})."));
        return;
    }
    // Settings may have closed, or the account changed, while the server answered.
    if ctx.prefs.try_get_untracked().is_none() {
        return;
    }
    let ids: Vec<String> = engine.read(|s| {
        s.rows(&query, 0, MAX_RELABEL)
            .into_iter()
            .filter_map(|r| match r {
                Row::Loaded(e) => Some(e.id),
                Row::Loading { .. } => None,
            })
            .collect()
    });
    let label = Label { keyword: keyword.clone(), name: name.clone(), colour: 0 };
    if !ids.is_empty() {
        apply(&ctx, &ids, &label, false);
    }
    prefs::change(ctx.prefs, |p| p.labels.retain(|l| l.keyword != keyword));
    let _ = said.try_set(format!("Label “{name}” deleted."));
}
