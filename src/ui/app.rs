//! The app's top level: signed out shows the sign-in form, signed in shows the mail shell.

use leptos::prelude::*;
use leptos::task::spawn_local;

use std::rc::Rc;

use super::account::{sign_in, Connection, SignInAttempt, SignedIn, CACHE_NAME};
use super::remembered::{self, LastSignIn};
use super::shell::{AccountChoice, MailShell};
use super::sign_in::SignInForm;
use crate::cache::offline::KnownAccount;
use crate::cache::OfflineCache;
use crate::mail::error::sentence;

/// Of the accounts cached on this device, the one a sign-in (server and username) names.
fn named_by<'a>(known: &'a [KnownAccount], sign_in: &LastSignIn) -> Option<&'a KnownAccount> {
    known.iter().find(|k| k.server == sign_in.server && k.username == sign_in.username)
}

/// Unread mail in an account's folders that count (Inbox and other non-special folders).
fn unread_of(account: &SignedIn) -> u64 {
    account.engine.read(|s| s.mailboxes().iter().filter(|m| m.role.counts_unread()).map(|m| m.unread_emails).sum())
}

#[component]
pub fn App(
    /// With the server unreachable, open the last account from the offline cache (the installed
    /// app's offline start). Off in component tests, which start from a clean sign-in.
    #[prop(optional)]
    offline_start: bool,
    /// A sign-in asked for before the app had loaded (typed into the first module's form, or the
    /// demo gateway's account): it goes ahead at once, in place of the offline start.
    #[prop(default = None)]
    first_attempt: Option<SignInAttempt>,
) -> impl IntoView {
    // Clients hold JS handles (!Send): local signals. Several accounts can be signed in at once;
    // one is shown.
    let accounts = RwSignal::new_local(Vec::<SignedIn>::new());
    let current = RwSignal::new(None::<String>);
    let adding = RwSignal::new(false);
    let counts_changed = RwSignal::new(0u64);
    let seen_unread = StoredValue::new(std::collections::HashMap::<String, u64>::new());
    let error = RwSignal::new(None::<String>);
    let pending = RwSignal::new(false);
    // Kept until an account is shown, so a mailto: link survives signing in.
    let intent = StoredValue::new(super::pwa::take_launch_intent());
    super::background_send::hand_over_on_leave();

    // Shows an account's cached mail at once, before its server answers (a warm start paints
    // without waiting for the network); the sign-in then makes it live in place. Returns it.
    let show_cached = move |known: KnownAccount, cache: Rc<OfflineCache>| async move {
        if accounts.with_untracked(|l| l.iter().any(|a| a.key == known.key)) {
            return None;
        }
        let cached = super::account::open_offline(&known, cache, true).await?;
        if accounts.with_untracked(|l| l.iter().any(|a| a.key == cached.key)) {
            return None;
        }
        accounts.update(|l| l.push(cached.clone()));
        current.set(Some(cached.key.clone()));
        adding.set(false);
        Some(cached)
    };

    let open_offline_if_unreachable = move || async move {
        let Some(cache) = OfflineCache::open(CACHE_NAME).await.ok().map(Rc::new) else { return };
        // The account signed in to last, else any with cached mail.
        let known = cache.accounts().await.unwrap_or_default();
        let last = remembered::load().unwrap_or_default();
        let Some(known) = named_by(&known, &last).or(known.first()).cloned() else { return };
        if super::account::server_reachable(&known.server).await {
            return;
        }
        if let Some(offline) = super::account::open_offline(&known, cache, false).await {
            // A sign-in that finished meanwhile wins.
            if accounts.with_untracked(|l| l.is_empty()) {
                let key = offline.key.clone();
                accounts.update(|l| l.push(offline));
                current.set(Some(key));
            }
        }
    };

    let attempt_sign_in = move |attempt: SignInAttempt| {
        pending.set(true);
        error.set(None);
        spawn_local(async move {
            let remember = LastSignIn {
                server: attempt.server.clone(),
                username: attempt.credentials.username().unwrap_or("").to_owned(),
            };
            let cache = OfflineCache::open(CACHE_NAME).await.ok().map(Rc::new);
            let mut shown_early = None;
            if let Some(cache) = &cache {
                let known = cache.accounts().await.unwrap_or_default();
                if let Some(k) = named_by(&known, &remember).cloned() {
                    shown_early = show_cached(k, cache.clone()).await;
                }
            }
            match sign_in(attempt, cache, shown_early.clone()).await {
                Ok(signed_in) => {
                    remembered::save(&remember);
                    let key = signed_in.key.clone();
                    let in_place = shown_early.as_ref().is_some_and(|s| s.key == key);
                    // Became live in place (its connection is a signal): the list takes the
                    // live account without rebuilding the view on screen.
                    let replace = |list: &mut Vec<SignedIn>| {
                        list.retain(|a| a.key != key);
                        list.push(signed_in);
                    };
                    if in_place {
                        accounts.update_untracked(replace);
                    } else {
                        accounts.update(|l| {
                            // Cached under another name than the server gives it now: the cached view goes.
                            if let Some(early) = &shown_early {
                                l.retain(|a| a.key != early.key);
                            }
                            replace(l);
                        });
                        current.set(Some(key));
                    }
                    adding.set(false);
                }
                Err(e) => {
                    match shown_early {
                        // The server is out of reach: the cached copy stays, as an offline start.
                        Some(early) if e.is_unreachable() => {
                            early.connection.update(|c| {
                                if let Connection::Offline { connecting, .. } = c {
                                    *connecting = false;
                                }
                            });
                        }
                        // Refused (a wrong password): the cached copy goes and the form says why.
                        Some(early) => {
                            accounts.update(|l| l.retain(|a| !(a.key == early.key && a.is_connecting())));
                            current.set(accounts.with_untracked(|l| l.first().map(|a| a.key.clone())));
                            adding.set(true);
                        }
                        None => {}
                    }
                    error.set(Some(sentence(&e.to_string())));
                }
            }
            pending.set(false);
        });
    };

    // The start: a sign-in already asked for; else, with the server out of reach, the last
    // account from this device (offline start); else the sign-in form.
    let prefill = first_attempt.clone();
    match first_attempt {
        Some(attempt) => attempt_sign_in(attempt),
        None if offline_start => spawn_local(open_offline_if_unreachable()),
        None => {}
    }

    let choices = Signal::derive(move || {
        counts_changed.track();
        accounts.with(|list| {
            list.iter()
                .map(|a| AccountChoice { key: a.key.clone(), label: a.display_name(), unread: unread_of(a) })
                .collect::<Vec<_>>()
        })
    });
    let shown = Memo::new(move |_| {
        let key = current.get()?;
        (!adding.get()).then_some(key)
    });
    view! {
        {move || match shown.get().and_then(|key| accounts.with(|l| l.iter().find(|a| a.key == key).cloned())) {
            None => {
                view! {
                    <SignInForm
                        on_submit=Callback::new(attempt_sign_in)
                        pending=pending.into()
                        error=error.into()
                        can_cancel=Signal::derive(move || accounts.with(|l| !l.is_empty()))
                        on_cancel=Callback::new(move |_| adding.set(false))
                        prefill=prefill.clone()
                    />
                }
                    .into_any()
            }
            Some(signed_in) => {
                let key = signed_in.key.clone();
                let launch_intent = intent.try_update_value(|i| i.take()).flatten();
                // The shell holds a mailto:/compose intent until its account is live.
                view! {
                    <MailShell
                        account=signed_in
                        accounts=choices
                        intent=launch_intent
                        on_switch=Callback::new(move |k: String| current.set(Some(k)))
                        on_add_account=Callback::new(move |_| {
                            error.set(None);
                            adding.set(true)
                        })
                        on_unread=Callback::new({
                            let key = key.clone();
                            move |n: u64| {
                                if seen_unread
                                    .try_update_value(|m| m.insert(key.clone(), n) != Some(n))
                                    .unwrap_or(false)
                                {
                                    counts_changed.update(|c| *c += 1);
                                }
                            }
                        })
                        on_sign_out=Callback::new(move |_| {
                            accounts.update(|l| l.retain(|a| a.key != key));
                            current.set(accounts.with_untracked(|l| l.first().map(|a| a.key.clone())));
                        })
                    />
                }
                    .into_any()
            }
        }}
    }
}
