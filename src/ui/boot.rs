//! What the first module shows by itself: the sign-in form, at once, while the rest of the app
//! (everything signed-in mail needs: the shell, JMAP, the engine, the offline cache) arrives as a
//! chunk of its own in a release build. The form works meanwhile: a sign-in submitted before the
//! app has loaded waits for it, then goes ahead.
//!
//! The app takes over when it has something to do: on submit; when the gateway offers a demo
//! account (it signs in by itself); or when the last server signed in to is out of reach (it
//! opens that account's cached mail). Otherwise the form stays as it is, so nothing the user
//! types is ever thrown away by a swap. A chunk that cannot be fetched leaves the form up and
//! says so there when the user submits; submitting again tries again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use serde::Deserialize;

use super::account::{server_reachable, SignInAttempt};
use super::app::App;
use super::remembered;
use super::sign_in::SignInForm;
use crate::auth::Credentials;
use crate::mail::error::sentence;
use crate::mail::MailError;
use crate::net::{fetch, HttpRequest};

/// The app's chunk hands back the function that renders it: nothing in this module calls into the
/// chunk directly (a direct call would pull its code back into the first module).
type Render = fn(AppStart) -> AnyView;

/// The chunk could not be fetched (the loader logs the details to the console).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Unloaded;

#[cfg(feature = "split")]
impl From<wasm_split_helpers::SplitLoaderError> for Unloaded {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> Unloaded {
        Unloaded
    }
}

/// How the app starts once loaded.
#[derive(Clone, Default)]
struct AppStart {
    /// Typed into this form, or the demo gateway's account.
    first_attempt: Option<SignInAttempt>,
    /// The last server is out of reach: open its cached mail.
    offline_start: bool,
}

#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(app, fallible))]
fn app() -> Result<Render, Unloaded> {
    Ok(|start| view! { <App offline_start=start.offline_start first_attempt=start.first_attempt /> }.into_any())
}

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

/// What the app starts with, if it should start by itself rather than wait for the form.
async fn start_by_itself() -> Option<AppStart> {
    if let Some(demo) = demo_login().await {
        return Some(AppStart { first_attempt: Some(demo), offline_start: false });
    }
    let last = remembered::load()?;
    (!server_reachable(&last.server).await).then_some(AppStart { first_attempt: None, offline_start: true })
}

#[component]
pub fn Boot() -> impl IntoView {
    // Before the first paint: the user's theme, and the service worker (it keeps every chunk for
    // offline starts, and says when a new version waits).
    super::prefs::apply_theme(super::prefs::load().theme);
    let update_ready = RwSignal::new(false);
    super::pwa::register(update_ready);
    let loaded = RwSignal::new(None::<Render>);
    // Set once the app has something to do: it takes over as soon as it has loaded.
    let wanted = RwSignal::new(None::<AppStart>);
    let handed_over = RwSignal::new(false);
    let pending = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let hand_over_if_ready = move || {
        if loaded.with_untracked(Option::is_some) && wanted.with_untracked(Option::is_some) {
            handed_over.set(true);
        }
    };
    let load = move || {
        spawn_local(async move {
            #[cfg(feature = "split")]
            let result = app().await;
            #[cfg(not(feature = "split"))]
            let result = app();
            match result {
                Ok(render) => {
                    loaded.set(Some(render));
                    hand_over_if_ready();
                }
                // Said to someone waiting on a sign-in; the next submit tries again.
                Err(Unloaded) if pending.get_untracked() => {
                    wanted.set(None);
                    pending.set(false);
                    error.set(Some(sentence(&MailError::Unloaded("Petrel").to_string())));
                }
                Err(Unloaded) => {}
            }
        })
    };
    load();
    spawn_local(async move {
        if let Some(start) = start_by_itself().await {
            if wanted.with_untracked(Option::is_none) {
                wanted.set(Some(start));
                hand_over_if_ready();
            }
        }
    });
    let submit = move |attempt: SignInAttempt| {
        wanted.set(Some(AppStart { first_attempt: Some(attempt), offline_start: false }));
        if loaded.with_untracked(Option::is_some) {
            handed_over.set(true);
        } else {
            pending.set(true);
            error.set(None);
            load();
        }
    };
    let app_view = move || {
        let render = loaded.get_untracked()?;
        Some(render(wanted.get_untracked().unwrap_or_default()))
    };
    view! {
        <super::pwa::UpdateBanner ready=update_ready />
        <Show when=move || !handed_over.get() fallback=app_view>
            <SignInForm on_submit=Callback::new(submit) pending=pending.into() error=error.into() />
        </Show>
    }
}
