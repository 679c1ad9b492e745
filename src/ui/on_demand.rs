//! The screens a first visit does not need: the composer, settings and the outbox view. A release
//! build (the `split` feature) cuts each into a wasm chunk of its own, fetched after the first
//! paint ([`preload`]) or, at the latest, when first opened; a build without it links them in.
//!
//! Each chunk's entry hands back the function that renders its screen, so nothing else in the app
//! calls into the chunk directly (a direct call would pull the code back into the first module).
//! A chunk that cannot be fetched (offline before it was cached, or a new version deployed in
//! between) shows what failed and a Retry, never a panic.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::compose::{Compose, Queued};
use super::outbox_view::OutboxView;
use super::settings::Settings;
use crate::mail::error::sentence;
use crate::mail::{Draft, MailError};
use crate::outbox::dispatcher::Outbox;

/// What the composer is opened with.
#[derive(Clone)]
pub struct ComposeArgs {
    pub outbox: StoredValue<std::rc::Rc<Outbox>, LocalStorage>,
    pub account: String,
    pub initial: Draft,
    pub on_close: Callback<()>,
    pub on_queued: Callback<Queued>,
}

#[derive(Clone)]
pub struct OutboxArgs {
    pub outbox: StoredValue<std::rc::Rc<Outbox>, LocalStorage>,
    pub version: Signal<u64>,
    pub on_error: Callback<String>,
}

type Render<A> = fn(A) -> AnyView;

/// The chunk could not be fetched (the loader logs the details to the console).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unloaded;

#[cfg(feature = "split")]
impl From<wasm_split_helpers::SplitLoaderError> for Unloaded {
    fn from(_: wasm_split_helpers::SplitLoaderError) -> Unloaded {
        Unloaded
    }
}

#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(composer, fallible, preload(preload_composer)))]
fn composer() -> Result<Render<ComposeArgs>, Unloaded> {
    Ok(|a| {
        view! { <Compose outbox=a.outbox account=a.account initial=a.initial on_close=a.on_close on_queued=a.on_queued /> }
        .into_any()
    })
}

#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(settings, fallible, preload(preload_settings)))]
fn settings() -> Result<Render<()>, Unloaded> {
    Ok(|()| view! { <Settings /> }.into_any())
}

#[cfg_attr(feature = "split", wasm_split_helpers::wasm_split(outbox_view, fallible, preload(preload_outbox_view)))]
fn outbox_view() -> Result<Render<OutboxArgs>, Unloaded> {
    Ok(|a| view! { <OutboxView outbox=a.outbox version=a.version on_error=a.on_error /> }.into_any())
}

/// One screen's entry, loaded (split build) or at hand (unsplit).
macro_rules! entry {
    ($f:ident) => {{
        #[cfg(feature = "split")]
        let loaded = $f().await;
        #[cfg(not(feature = "split"))]
        let loaded = $f();
        loaded
    }};
}

/// Fetches every screen's chunk in the background, so opening one later does not wait: called once
/// the first screen has painted. Failures are left for the screen itself to show when opened.
pub fn preload() {
    #[cfg(feature = "split")]
    spawn_local(async {
        let _ = preload_composer().await;
        let _ = preload_settings().await;
        let _ = preload_outbox_view().await;
    });
}

/// Where a screen is about: the chunk loading, then the screen, or the failure and a Retry.
#[component]
fn OnDemand<A: Clone + Send + Sync + 'static>(
    /// How the screen reads in "Loading the composer…".
    what: &'static str,
    /// One fetch of the chunk: the function that renders the screen.
    load: fn() -> futures_util::future::LocalBoxFuture<'static, Result<Render<A>, Unloaded>>,
    args: A,
) -> impl IntoView {
    let loaded = RwSignal::new(None::<Result<Render<A>, Unloaded>>);
    let attempt = move || {
        loaded.set(None);
        spawn_local(async move { loaded.set(Some(load().await)) });
    };
    attempt();
    let loading = format!("Loading {what}…");
    let failed = sentence(&MailError::Unloaded(what).to_string());
    move || match loaded.get() {
        Some(Ok(render)) => render(args.clone()),
        None => pending(loading.clone()).into_any(),
        Some(Err(Unloaded)) => failure(failed.clone(), attempt).into_any(),
    }
}

fn pending(text: String) -> impl IntoView {
    view! {
        <p class="on-demand" role="status">
            {text}
        </p>
    }
}

fn failure(text: String, retry: impl Fn() + Copy + Send + Sync + 'static) -> impl IntoView {
    view! {
        <div class="on-demand notice" role="alert">
            <p>{text}</p>
            <button type="button" on:click=move |_| retry()>
                "Retry"
            </button>
        </div>
    }
}

#[component]
pub fn LazyCompose(args: ComposeArgs) -> impl IntoView {
    view! { <OnDemand what="the composer" load=|| Box::pin(async { entry!(composer) }) args=args /> }
}

#[component]
pub fn LazySettings() -> impl IntoView {
    view! { <OnDemand what="settings" load=|| Box::pin(async { entry!(settings) }) args=() /> }
}

#[component]
pub fn LazyOutboxView(args: OutboxArgs) -> impl IntoView {
    view! { <OnDemand what="the outbox" load=|| Box::pin(async { entry!(outbox_view) }) args=args /> }
}
