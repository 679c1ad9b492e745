//! The shell's dialogs over one [`Modal`]: a backdrop that closes it, Escape that closes it, and
//! focus moved inside when it opens (to the element marked `data-autofocus`).

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::state::{Dialog, ShellState};
use crate::ui::context::MailContext;
use crate::ui::labels::LabelDialogBody;
use crate::ui::mail_actions::Batch;
use crate::ui::shortcuts::HELP;
use crate::ui::snooze::SnoozeDialogBody;

/// The dialog the shell's state asks for, if any.
#[component]
pub fn ShellDialogs() -> impl IntoView {
    let (state, ctx) = (ShellState::get(), MailContext::get());
    let close = Callback::new(move |_| state.dialog.set(None));
    move || {
        state.dialog.get().map(|d| match d {
            Dialog::Move(ids) => {
                let on_done = Callback::new(move |to: Option<String>| {
                    state.dialog.set(None);
                    if let Some(to) = to {
                        state.batch(&ctx, Batch::MoveTo(to));
                    }
                });
                view! { <MoveDialog ids=ids on_done=on_done /> }.into_any()
            }
            Dialog::Help => view! { <HelpDialog on_close=close /> }.into_any(),
            Dialog::Snooze(ids) => view! {
                <Modal labelled_by="snooze-title" on_close=close>
                    <SnoozeDialogBody ids=ids on_close=close />
                </Modal>
            }
            .into_any(),
            Dialog::Labels(ids) => view! {
                <Modal labelled_by="labels-title" on_close=close>
                    <LabelDialogBody ids=ids on_close=close />
                </Modal>
            }
            .into_any(),
        })
    }
}

#[component]
fn Modal(
    /// The id of the dialog's heading.
    labelled_by: &'static str,
    on_close: Callback<()>,
    /// Keys other than Escape, for the dialog's own use.
    #[prop(optional)]
    on_key: Option<Callback<leptos::ev::KeyboardEvent>>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Div>::new();
    Effect::new(move |_| {
        let Some(dialog) = dialog.get() else { return };
        let first = dialog.query_selector("[data-autofocus]").ok().flatten();
        if let Some(el) = first.and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok()) {
            let _ = el.focus();
        }
    });
    view! {
        <div class="dialog-backdrop" on:click=move |_| on_close.run(())>
            <div
                class="dialog card"
                role="dialog"
                aria-modal="true"
                aria-labelledby=labelled_by
                node_ref=dialog
                on:click=|ev| ev.stop_propagation()
                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                    if ev.key() == "Escape" { on_close.run(()) } else if let Some(on_key) = on_key { on_key.run(ev) }
                }
            >
                {children()}
            </div>
        </div>
    }
}

/// Picking a folder to move messages to: type to filter, arrows and Enter, or click.
#[component]
fn MoveDialog(ids: Vec<String>, on_done: Callback<Option<String>>) -> impl IntoView {
    let ctx = MailContext::get();
    let filter = RwSignal::new(String::new());
    let active = RwSignal::new(0usize);
    let folders = move || {
        let f = filter.get().to_lowercase();
        ctx.mailboxes.with(|all| {
            all.iter()
                .filter(|m| m.name.to_lowercase().contains(&f))
                .map(|m| (m.id.clone(), m.name.clone()))
                .collect::<Vec<_>>()
        })
    };
    let on_key = Callback::new(move |ev: leptos::ev::KeyboardEvent| {
        // The arrows and Enter belong to the filter; Enter on a focused folder or Cancel is the
        // button's own.
        let from_filter =
            ev.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()).is_some_and(|el| el.id() == "move-filter");
        if !from_filter {
            return;
        }
        let count = folders().len();
        match ev.key().as_str() {
            "ArrowDown" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = (*a + 1) % count)
            }
            "ArrowUp" if count > 0 => {
                ev.prevent_default();
                active.update(|a| *a = (*a + count - 1) % count)
            }
            "Enter" => {
                ev.prevent_default();
                if let Some((id, _)) = folders().get(active.get_untracked()) {
                    on_done.run(Some(id.clone()))
                }
            }
            _ => {}
        }
    });
    let n = ids.len();
    view! {
        <Modal labelled_by="move-title" on_close=Callback::new(move |_| on_done.run(None)) on_key=on_key>
            <h2 id="move-title">
                {format!("Move {} to…", if n == 1 { "1 message".to_owned() } else { format!("{n} messages") })}
            </h2>
            <label class="visually-hidden" for="move-filter">
                "Folder name"
            </label>
            <input
                id="move-filter"
                type="text"
                aria-describedby="move-pick"
                placeholder="Folder name"
                data-autofocus=""
                prop:value=filter
                on:input=move |ev| {
                    filter.set(event_target_value(&ev));
                    active.set(0);
                }
            />
            // What Enter in the filter picks, said with the field (the highlight is only seen).
            <p id="move-pick" class="visually-hidden">
                {move || {
                    folders()
                        .get(active.get())
                        .map(|(_, name)| format!("Enter moves to {name}; the arrows pick another."))
                        .unwrap_or_else(|| "No folder has that name.".to_owned())
                }}
            </p>
            // Buttons, each reachable by Tab as well as by the arrows from the filter (Enter picks the
            // highlighted one).
            <ul class="folder-choices" aria-label="Folders">
                {move || {
                    folders()
                        .into_iter()
                        .enumerate()
                        .map(|(i, (id, name))| {
                            view! {
                                <li>
                                    <button
                                        type="button"
                                        class="folder-choice"
                                        data-name=name.clone()
                                        class:active=move || active.get() == i
                                        on:click=move |_| on_done.run(Some(id.clone()))
                                    >
                                        {name.clone()}
                                    </button>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
            <button type="button" on:click=move |_| on_done.run(None)>
                "Cancel"
            </button>
        </Modal>
    }
}

/// The keyboard shortcuts, from the one table the keys are read from.
#[component]
fn HelpDialog(on_close: Callback<()>) -> impl IntoView {
    view! {
        <Modal labelled_by="help-title" on_close=on_close>
            <h2 id="help-title">"Keyboard shortcuts"</h2>
            <dl class="shortcuts">
                {HELP
                    .iter()
                    .map(|s| {
                        view! {
                            <dt>
                                <kbd>{s.keys}</kbd>
                            </dt>
                            <dd>{s.does}</dd>
                        }
                    })
                    .collect_view()}
            </dl>
            <button type="button" data-autofocus="" on:click=move |_| on_close.run(())>
                "Close"
            </button>
        </Modal>
    }
}
