//! The top bar: search, the link's status, the account switcher, Write, Settings, the shortcuts
//! and sign-out.

use leptos::prelude::*;

use crate::mail::Draft;
use crate::ui::context::MailContext;

use super::live::LiveStatus;
use super::state::{Dialog, Page, ShellState};
use super::AccountChoice;

#[component]
pub fn TopBar(
    account_key: String,
    account_label: String,
    accounts: Signal<Vec<AccountChoice>>,
    live: LiveStatus,
    on_switch: Callback<String>,
    on_add_account: Callback<()>,
    on_sign_out: Callback<()>,
) -> impl IntoView {
    let (state, ctx) = (ShellState::get(), MailContext::get());
    let search_field = state.search_field;
    view! {
        <header class="topbar">
            <span class="brand">"Petrel"</span>
            <form
                class="search"
                role="search"
                on:submit=move |ev: leptos::ev::SubmitEvent| {
                    ev.prevent_default();
                    state.search(&ctx, &state.search_text.get_untracked());
                }
            >
                <label class="visually-hidden" for="search">
                    "Search mail"
                </label>
                <input
                    id="search"
                    type="search"
                    placeholder="Search (from: to: subject: has:attachment before: after: in:)"
                    node_ref=search_field
                    prop:value=state.search_text
                    on:input=move |ev| state.search_text.set(event_target_value(&ev))
                    on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                        if ev.key() == "Escape" {
                            if let Some(i) = search_field.get_untracked() {
                                let _ = i.blur();
                            }
                        }
                    }
                />
            </form>
            <span class="live-status" class:offline=move || !live.online.get()>
                {move || live.text.get()}
            </span>
            <AccountSwitcher
                current=account_key
                label=account_label
                accounts=accounts
                on_switch=on_switch
                on_add=on_add_account
            />
            <button
                type="button"
                id="compose-button"
                class="primary"
                aria-keyshortcuts="c"
                on:click=move |_| state.composing.set(Some(Draft::default()))
            >
                "Write"
            </button>
            <button
                type="button"
                id="settings-button"
                class="plain"
                aria-pressed=move || (state.page.get() == Page::Settings).to_string()
                on:click=move |_| state.show(Page::Settings)
            >
                "Settings"
            </button>
            <button
                type="button"
                id="help-button"
                class="plain"
                aria-label="Keyboard shortcuts"
                aria-keyshortcuts="?"
                on:click=move |_| state.dialog.set(Some(Dialog::Help))
            >
                "?"
            </button>
            <button type="button" class="sign-out" on:click=move |_| on_sign_out.run(())>
                "Sign out"
            </button>
        </header>
    }
}

#[component]
fn AccountSwitcher(
    current: String,
    label: String,
    accounts: Signal<Vec<AccountChoice>>,
    on_switch: Callback<String>,
    on_add: Callback<()>,
) -> impl IntoView {
    let total = move || accounts.with(|a| a.iter().map(|c| c.unread).sum::<u64>());
    view! {
        <div class="account-switcher">
            <label class="visually-hidden" for="account-select">
                "Account"
            </label>
            <select
                id="account-select"
                class="account-name"
                on:change=move |ev| {
                    let key = event_target_value(&ev);
                    if key == "+add" { on_add.run(()) } else { on_switch.run(key) }
                }
            >
                {move || {
                    accounts
                        .get()
                        .into_iter()
                        .map(|a| {
                            let text = if a.unread > 0 {
                                format!("{} ({})", a.label, a.unread)
                            } else {
                                a.label.clone()
                            };
                            view! {
                                <option value=a.key.clone() selected=a.key == current>
                                    {text}
                                </option>
                            }
                        })
                        .collect_view()
                }}
                {move || {
                    accounts.with(|a| a.is_empty()).then(|| view! { <option selected=true>{label.clone()}</option> })
                }}
                <option value="+add">"Add an account…"</option>
            </select>
            {move || {
                (accounts.with(|a| a.len() > 1) && total() > 0)
                    .then(|| {
                        view! {
                            <span class="unified-unread" title="Unread in all accounts">
                                {total()}
                            </span>
                        }
                    })
            }}
        </div>
    }
}
