//! The app's top level: signed out shows the sign-in form, signed in shows the mail shell.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

use std::rc::Rc;

use super::account::{sign_in, SignInAttempt, SignedIn, CACHE_NAME};
use super::remembered::{self, LastSignIn};
use super::shell::MailShell;
use super::sign_in::SignInForm;
use crate::auth::Credentials;
use crate::cache::OfflineCache;
use crate::mail::error::sentence;
use crate::net::{fetch, HttpRequest};

/// What `/petrel-demo.json` holds when the gateway runs in demo mode.
#[derive(Deserialize)]
struct DemoLogin {
    server: String,
    login: String,
    password: String,
}

async fn demo_login() -> Option<SignInAttempt> {
    let response = fetch(HttpRequest::get("/petrel-demo.json").body_limit(4096)).await.ok()?;
    if response.status != 200 {
        return None;
    }
    let demo: DemoLogin = serde_json::from_slice(&response.body).ok()?;
    let server = if demo.server.is_empty() { remembered::page_origin() } else { demo.server };
    Some(SignInAttempt { server, credentials: Credentials::basic(demo.login, demo.password), kind: Default::default() })
}

#[component]
pub fn App(
    /// Ask the serving gateway for a demo account and sign in to it (the `run` command's mode).
    #[prop(optional)]
    demo_sign_in: bool,
) -> impl IntoView {
    // The client holds JS handles (!Send): a local signal.
    let account = RwSignal::new_local(None::<SignedIn>);
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);

    let attempt_sign_in = move |attempt: SignInAttempt| {
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            let remember = LastSignIn {
                server: attempt.server.clone(),
                username: attempt.credentials.username().unwrap_or("").to_owned(),
            };
            let cache = OfflineCache::open(CACHE_NAME).await.ok().map(Rc::new);
            match sign_in(attempt, cache).await {
                Ok(signed_in) => {
                    remembered::save(&remember);
                    account.set(Some(signed_in));
                }
                Err(e) => error.set(Some(sentence(&e.to_string()))),
            }
            pending.set(false);
        });
    };

    if demo_sign_in {
        pending.set(true);
        spawn_local(async move {
            match demo_login().await {
                Some(attempt) => attempt_sign_in(attempt),
                None => pending.set(false),
            }
        });
    }

    view! {
        {move || match account.get() {
            None => view! {
                <SignInForm on_submit=Callback::new(attempt_sign_in) pending=pending.into() error=error.into() />
            }.into_any(),
            Some(signed_in) => view! {
                <MailShell account=signed_in on_sign_out=Callback::new(move |_| account.set(None)) />
            }.into_any(),
        }}
    }
}
