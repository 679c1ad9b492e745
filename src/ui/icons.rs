//! Small inline SVG icons (no icon font, no extra request).

use leptos::prelude::*;

use crate::mail::Role;

fn role_path(role: Role) -> &'static str {
    match role {
        Role::Inbox => "M3 13h5l2 3h4l2-3h5M3 13l3-8h12l3 8v6H3z",
        Role::Drafts => "M4 20h4L19 9l-4-4L4 16z",
        Role::Sent => "M3 11l18-8-8 18-2-8z",
        Role::Archive => "M3 4h18v4H3zM5 8v12h14V8M10 12h4",
        Role::Junk => "M12 3l9 16H3zM12 10v4M12 17v.5",
        Role::Trash => "M4 7h16M9 7V4h6v3M6 7l1 13h10l1-13",
        Role::Other => "M3 6h6l2 2h10v11H3z",
    }
}

#[component]
pub fn RoleIcon(role: Role) -> impl IntoView {
    view! {
        <svg class="icon" viewBox="0 0 24 24" aria-hidden="true" focusable="false">
            <path d=role_path(role) />
        </svg>
    }
}
