//! The sign-in screen: a JMAP server (username and a password or token) or a RustMailer behind
//! Petrel's gateway (gateway URL, access token, and which of its accounts).

use leptos::prelude::*;

use super::account::{ServerKind, SignInAttempt};
use super::remembered;
use crate::auth::Credentials;

#[component]
pub fn SignInForm(
    on_submit: Callback<SignInAttempt>,
    pending: Signal<bool>,
    error: Signal<Option<String>>,
    /// Adding another account: the form can be closed again.
    #[prop(optional, into)]
    can_cancel: Signal<bool>,
    #[prop(optional)] on_cancel: Option<Callback<()>>,
    /// A sign-in already under way (typed before the app had loaded): the form shows what it named.
    #[prop(default = None)]
    prefill: Option<SignInAttempt>,
) -> impl IntoView {
    let last = remembered::load().unwrap_or_default();
    let (last_server, last_username, token, for_rustmailer) = match prefill {
        Some(SignInAttempt { server, credentials, kind }) => {
            let token = matches!(credentials, Credentials::Bearer { .. });
            match kind {
                ServerKind::RustMailer { account } => (server, account, token, true),
                ServerKind::Jmap => (server, credentials.username().unwrap_or("").to_owned(), token, false),
            }
        }
        None => (last.server, last.username, false, false),
    };
    let server = RwSignal::new(if last_server.is_empty() { remembered::page_origin() } else { last_server });
    let username = RwSignal::new(last_username);
    let secret = RwSignal::new(String::new());
    let use_token = RwSignal::new(token && !for_rustmailer);
    let rustmailer = RwSignal::new(for_rustmailer);
    let form_error = RwSignal::new(None::<String>);
    // RustMailer always signs in with its access token.
    let token_only = move || use_token.get() || rustmailer.get();

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (server_value, user, secret_value) = (server.get(), username.get(), secret.get());
        let problem = if server_value.trim().is_empty() {
            Some(if rustmailer.get() {
                "Enter the address of Petrel's gateway in front of RustMailer."
            } else {
                "Enter your mail server's address."
            })
        } else if !token_only() && user.trim().is_empty() {
            Some("Enter your username.")
        } else if secret_value.is_empty() {
            Some(if token_only() { "Enter your access token." } else { "Enter your password." })
        } else {
            None
        };
        form_error.set(problem.map(str::to_owned));
        if problem.is_some() {
            return;
        }
        let (credentials, kind) = if rustmailer.get() {
            (Credentials::bearer(secret_value.trim()), ServerKind::RustMailer { account: user.trim().to_owned() })
        } else if use_token.get() {
            (Credentials::bearer(secret_value.trim()), ServerKind::Jmap)
        } else {
            (Credentials::basic(user.trim(), secret_value), ServerKind::Jmap)
        };
        on_submit.run(SignInAttempt { server: server_value.trim().to_owned(), credentials, kind });
    };

    let shown_error = move || form_error.get().or_else(|| error.get());
    view! {
        <main class="sign-in-page">
            <form id="sign-in" class="sign-in card" on:submit=submit novalidate=true aria-labelledby="sign-in-title">
                <h1 id="sign-in-title" class="brand">
                    "Petrel"
                </h1>
                <p class="subtitle">"Sign in to your mail"</p>
                <label for="server-kind">"Server type"</label>
                <select
                    id="server-kind"
                    name="server-kind"
                    prop:value=move || if rustmailer.get() { "rustmailer" } else { "jmap" }
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev) == "rustmailer";
                        if chosen {
                            crate::rustmailer::session::preload();
                        }
                        rustmailer.set(chosen)
                    }
                >
                    <option value="jmap" selected=true>
                        "JMAP (Fastmail, Stalwart, Cyrus)"
                    </option>
                    <option value="rustmailer">"RustMailer (through Petrel's gateway)"</option>
                </select>
                <label for="server">{move || if rustmailer.get() { "Gateway URL" } else { "Server" }}</label>
                <input
                    id="server"
                    name="server"
                    type="text"
                    inputmode="url"
                    autocomplete="url"
                    spellcheck="false"
                    placeholder="https://mail.example.com or you@example.com"
                    bind:value=server
                />
                <label for="username">
                    {move || if rustmailer.get() { "Account (address or id; empty for the first)" } else { "Username" }}
                </label>
                <input
                    id="username"
                    name="username"
                    type="text"
                    autocomplete="username"
                    spellcheck="false"
                    disabled=move || use_token.get() && !rustmailer.get()
                    bind:value=username
                />
                <label for="password">{move || if token_only() { "Access token" } else { "Password" }}</label>
                <input
                    id="password"
                    name="password"
                    type="password"
                    autocomplete=move || if token_only() { "off" } else { "current-password" }
                    bind:value=secret
                />
                <label class="checkbox" class:hidden=move || rustmailer.get()>
                    <input id="use-token" type="checkbox" bind:checked=use_token />
                    "Sign in with an access token instead"
                </label>
                <p class="error" role="alert" aria-live="assertive">
                    {shown_error}
                </p>
                <button id="sign-in-button" type="submit" class="primary" disabled=move || pending.get()>
                    {move || if pending.get() { "Signing in…" } else { "Sign in" }}
                </button>
                {move || {
                    (can_cancel.get())
                        .then(|| {
                            view! {
                                <button
                                    type="button"
                                    id="sign-in-cancel"
                                    on:click=move |_| {
                                        if let Some(c) = on_cancel {
                                            c.run(())
                                        }
                                    }
                                >
                                    "Back to my mail"
                                </button>
                            }
                        })
                }}
            </form>
        </main>
    }
}
