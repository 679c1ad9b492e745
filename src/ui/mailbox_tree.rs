//! The folder tree: role icons, nesting, unread counts, mail dropped onto a folder moves there;
//! and the tools to create, rename and delete folders.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::context::MailContext;
use super::icons::RoleIcon;
use super::mail_actions::{self, Batch};
use super::message_list::DRAG_TYPE;
use crate::mail::engine::ActOutcome;
use crate::mail::error::sentence;
use crate::mail::mailbox::{build_tree, flatten};
use crate::mail::{Action, Mailbox, Role};

/// The role as the page names it (`data-role`), "folder" for none.
fn role_name(role: Role) -> &'static str {
    role.to_jmap().unwrap_or("folder")
}

#[component]
pub fn MailboxTree(
    mailboxes: Signal<Vec<Mailbox>>,
    selected: Signal<Option<String>>,
    on_select: Callback<String>,
) -> impl IntoView {
    let ctx = MailContext::get();
    let drop_target = RwSignal::new(None::<String>);
    let rows = move || {
        let boxes = mailboxes.get();
        let tree = build_tree(&boxes);
        flatten(&tree).into_iter().map(|node| (node.mailbox.clone(), node.depth)).collect::<Vec<_>>()
    };
    view! {
        <ul class="mailbox-tree" role="tree" aria-label="Folders">
            <For
                each=rows
                key=|(m, depth)| (m.id.clone(), *depth, m.name.clone(), m.unread_emails)
                children=move |(mailbox, depth)| {
                    let id = mailbox.id.clone();
                    let is_selected = {
                        let id = id.clone();
                        Signal::derive(move || selected.get().as_deref() == Some(id.as_str()))
                    };
                    let is_target = {
                        let id = id.clone();
                        move || drop_target.get().as_deref() == Some(id.as_str())
                    };
                    let unread = mailbox.unread_emails;
                    let (id_click, id_over, id_drop) = (id.clone(), id.clone(), id.clone());
                    view! {
                        <li
                            role="treeitem"
                            class="mailbox"
                            data-role=role_name(mailbox.role)
                            data-name=mailbox.name.clone()
                            data-depth=depth.to_string()
                            aria-selected=move || is_selected.get().to_string()
                        >
                            <button
                                type="button"
                                class="mailbox-button"
                                class:selected=is_selected
                                class:drop-target=is_target
                                aria-current=move || is_selected.get().then_some("page")
                                on:click=move |_| on_select.run(id_click.clone())
                                on:dragover=move |ev: leptos::ev::DragEvent| {
                                    if ev.data_transfer().is_some_and(|d| d.types().includes(&DRAG_TYPE.into(), 0)) {
                                        ev.prevent_default();
                                        drop_target.set(Some(id_over.clone()));
                                    }
                                }
                                on:dragleave=move |_| drop_target.set(None)
                                on:drop=move |ev: leptos::ev::DragEvent| {
                                    drop_target.set(None);
                                    let ids: Option<Vec<String>> = ev
                                        .data_transfer()
                                        .and_then(|d| d.get_data(DRAG_TYPE).ok())
                                        .and_then(|raw| serde_json::from_str(&raw).ok());
                                    if let Some(ids) = ids {
                                        ev.prevent_default();
                                        mail_actions::run(&ctx, Batch::MoveTo(id_drop.clone()), ids);
                                    }
                                }
                            >
                                <RoleIcon role=mailbox.role />
                                <span class="mailbox-name">{mailbox.name.clone()}</span>
                                {(unread > 0)
                                    .then(|| {
                                        view! {
                                            <span class="unread" aria-label=format!("{unread} unread")>
                                                {unread}
                                            </span>
                                        }
                                    })}
                            </button>
                        </li>
                    }
                }
            />
        </ul>
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Editing {
    Create,
    Rename,
}

/// New folder (inside the selected one, or at the top), rename and delete of the selected folder.
#[component]
pub fn FolderTools(selected: Signal<Option<String>>) -> impl IntoView {
    let ctx = MailContext::get();
    let editing = RwSignal::new(None::<Editing>);
    let name = RwSignal::new(String::new());
    let input = NodeRef::<leptos::html::Input>::new();
    let current = move || {
        let id = selected.get()?;
        ctx.mailboxes.with(|all| all.iter().find(|m| m.id == id).cloned())
    };
    // Role folders (Inbox, Sent...) are the account's structure: not renamed or deleted here.
    let own_folder = move || current().filter(|m| m.role == Role::Other);
    Effect::new(move |_| {
        if editing.get().is_some() {
            if let Some(i) = input.get() {
                let _ = i.focus();
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = name.get_untracked().trim().to_owned();
        if text.is_empty() || text.contains('/') {
            ctx.notice.set(Some("Give the folder a name (without “/”).".into()));
            return;
        }
        match editing.get_untracked() {
            Some(Editing::Create) => {
                let parent = selected.get_untracked();
                let engine = ctx.engine.get_value();
                spawn_local(async move {
                    let (_, outcome) = engine.create_mailbox(&text, parent).await;
                    match outcome {
                        ActOutcome::Refused(e) => ctx.notice.set(Some(sentence(&e.to_string()))),
                        _ => ctx.status.set(Some(format!("Folder “{text}” created."))),
                    }
                });
            }
            Some(Editing::Rename) => {
                if let Some(m) = current() {
                    ctx.act(
                        vec![Action::RenameMailbox { id: m.id, name: text.clone() }],
                        Some(format!("Folder renamed to “{text}”.")),
                        vec![],
                    );
                }
            }
            None => {}
        }
        editing.set(None);
    };
    let delete = move |_| {
        let Some(m) = own_folder() else { return };
        let question = format!("Delete the folder “{}” and the {} messages in it?", m.name, m.total_emails);
        let sure = web_sys::window().and_then(|w| w.confirm_with_message(&question).ok()).unwrap_or(false);
        if sure {
            ctx.act(vec![Action::DestroyMailbox { id: m.id }], Some(format!("Folder “{}” deleted.", m.name)), vec![]);
        }
    };
    view! {
        <div class="folder-tools">
            {move || match editing.get() {
                Some(mode) => {
                    view! {
                        <form class="folder-form" on:submit=submit>
                            <label for="folder-name">
                                {if mode == Editing::Create { "New folder name" } else { "New name" }}
                            </label>
                            <input
                                id="folder-name"
                                type="text"
                                node_ref=input
                                prop:value=name
                                on:input=move |ev| name.set(event_target_value(&ev))
                                on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                                    if ev.key() == "Escape" {
                                        editing.set(None)
                                    }
                                }
                            />
                            <button type="submit" class="primary">
                                {if mode == Editing::Create { "Create" } else { "Rename" }}
                            </button>
                            <button type="button" on:click=move |_| editing.set(None)>
                                "Cancel"
                            </button>
                        </form>
                    }
                        .into_any()
                }
                None => {
                    view! {
                        <div class="folder-buttons">
                            <button
                                type="button"
                                id="new-folder"
                                class="link"
                                on:click=move |_| {
                                    name.set(String::new());
                                    editing.set(Some(Editing::Create))
                                }
                            >
                                "+ New folder"
                            </button>
                            {move || {
                                own_folder()
                                    .map(|m| {
                                        view! {
                                            <button
                                                type="button"
                                                id="rename-folder"
                                                class="link"
                                                on:click=move |_| {
                                                    name.set(m.name.clone());
                                                    editing.set(Some(Editing::Rename))
                                                }
                                            >
                                                "Rename"
                                            </button>
                                            <button
                                                type="button"
                                                id="delete-folder"
                                                class="link danger"
                                                on:click=delete
                                            >
                                                "Delete"
                                            </button>
                                        }
                                    })
                            }}
                        </div>
                    }
                        .into_any()
                }
            }}
        </div>
    }
}
