//! The folder tree: role icons, nesting and unread counts.

use leptos::prelude::*;

use super::icons::RoleIcon;
use crate::mail::mailbox::{build_tree, flatten};
use crate::mail::{Mailbox, Role};

/// The role as the page names it (`data-role`), "folder" for none.
fn role_name(role: Role) -> &'static str {
    role.to_jmap().unwrap_or("folder")
}

#[component]
pub fn MailboxTree(mailboxes: Signal<Vec<Mailbox>>, selected: RwSignal<Option<String>>) -> impl IntoView {
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
                        move || selected.get().as_deref() == Some(id.as_str())
                    };
                    let unread = mailbox.unread_emails;
                    view! {
                        <li role="treeitem" class="mailbox" data-role=role_name(mailbox.role)
                            data-depth=depth.to_string() aria-selected=move || is_selected().to_string()>
                            <button type="button" class="mailbox-button"
                                class:selected=is_selected.clone()
                                on:click=move |_| selected.set(Some(id.clone()))>
                                <RoleIcon role=mailbox.role />
                                <span class="mailbox-name">{mailbox.name.clone()}</span>
                                {(unread > 0).then(|| view! {
                                    <span class="unread" aria-label=format!("{unread} unread")>{unread}</span>
                                })}
                            </button>
                        </li>
                    }
                }
            />
        </ul>
    }
}
