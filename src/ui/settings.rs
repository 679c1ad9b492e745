//! Settings: theme, remote images, list shape (kept on this device), the account's identities and
//! signatures, and its vacation response (kept on the server).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::account::Connection;
use super::context::MailContext;
use super::labels::LabelSettings;
use super::prefs::{self, Theme};
use crate::mail::error::sentence;
use crate::mail::{Identity, Vacation};

/// A checkbox over one of the prefs' switches, saved on this device as it changes; `on_off` runs
/// when the user switches it off.
#[component]
fn PrefCheckbox(
    id: &'static str,
    get: fn(&prefs::Prefs) -> bool,
    set: fn(&mut prefs::Prefs, bool),
    #[prop(optional)] on_off: Option<fn()>,
    children: Children,
) -> impl IntoView {
    let prefs = MailContext::get().prefs;
    let toggle = move |_| {
        let now = !prefs.with_untracked(get);
        prefs::change(prefs, |p| set(p, now));
        if let Some(on_off) = on_off.filter(|_| !now) {
            on_off();
        }
    };
    view! {
        <label class="checkbox">
            <input type="checkbox" id=id prop:checked=move || prefs.with(get) on:change=toggle />
            {children()}
        </label>
    }
}

#[component]
pub fn Settings(on_filters: Callback<()>) -> impl IntoView {
    let ctx = MailContext::get();
    let prefs = ctx.prefs;
    let change = move |f: &dyn Fn(&mut prefs::Prefs)| {
        prefs::change(prefs, |p| f(p));
    };
    let identities = RwSignal::new(None::<Result<Vec<Identity>, String>>);
    let vacation = RwSignal::new(None::<Result<Vacation, String>>);
    {
        let engine = ctx.engine.get_value();
        // Loads for this page only: leaving Settings cancels them.
        leptos::task::spawn_local_scoped_with_cancellation(async move {
            let Some(backend) = engine.backend() else { return };
            identities.set(Some(backend.identities().await.map_err(|e| sentence(&e.to_string()))));
            vacation.set(Some(backend.vacation().await.map_err(|e| sentence(&e.to_string()))));
        });
    }
    view! {
        <section class="settings" aria-labelledby="settings-title">
            <h2 id="settings-title">"Settings"</h2>
            <fieldset>
                <legend>"Appearance"</legend>
                <label for="theme">"Theme"</label>
                <select
                    id="theme"
                    on:change=move |ev| {
                        let t = Theme::parse(&event_target_value(&ev));
                        change(&|p| p.theme = t)
                    }
                >
                    {[Theme::System, Theme::Light, Theme::Dark]
                        .into_iter()
                        .map(|t| {
                            view! {
                                <option value=t.as_str() selected=move || prefs.with(|p| p.theme == t)>
                                    {match t {
                                        Theme::System => "Follow the system",
                                        Theme::Light => "Light",
                                        Theme::Dark => "Dark",
                                    }}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
                <PrefCheckbox id="pref-threaded" get=|p| p.threaded set=|p, on| p.threaded = on>
                    "Group messages into conversations"
                </PrefCheckbox>
            </fieldset>
            <fieldset>
                <legend>"Notifications"</legend>
                <label class="checkbox">
                    <input
                        type="checkbox"
                        id="pref-notify"
                        prop:checked=move || prefs.with(|p| p.notify_new_mail)
                        disabled=!super::browser_support::notifications()
                        aria-describedby="notify-support"
                        on:change=move |_| {
                            if prefs.with_untracked(|p| p.notify_new_mail) {
                                change(&|p| p.notify_new_mail = false);
                            } else {
                                super::notify::ask_permission(move |granted| {
                                    if granted {
                                        change(&|p| p.notify_new_mail = true);
                                    } else {
                                        prefs.update(|_| {});
                                        ctx.notice
                                            .set(
                                                Some(
                                                    "The browser did not allow notifications; allow them for this site in its settings."
                                                        .into(),
                                                ),
                                            );
                                    }
                                });
                            }
                        }
                    />
                    "Notify me of new mail while Petrel is in the background"
                </label>
                {(!super::browser_support::notifications())
                    .then(|| {
                        view! {
                            <p class="hint" id="notify-support">
                                "This browser does not offer notifications: new mail shows in the window's title and in the list."
                            </p>
                        }
                    })}
            </fieldset>
            <fieldset>
                <legend>"Read receipts"</legend>
                <PrefCheckbox
                    id="pref-never-receipts"
                    get=|p| p.never_send_receipts
                    set=|p, on| p.never_send_receipts = on
                >
                    "Never send read receipts"
                </PrefCheckbox>
                <p class="hint">
                    "When a message asks for a read receipt, Petrel asks you first; it never sends one on its own. With this on, it does not ask either."
                </p>
            </fieldset>
            <fieldset>
                <legend>"Sending"</legend>
                <PrefCheckbox
                    id="pref-send-after-close"
                    get=|p| p.send_after_close
                    set=|p, on| p.send_after_close = on
                    on_off=super::background_send::forget_all_grants
                >
                    "Finish sending after Petrel is closed"
                </PrefCheckbox>
                <p class="hint">
                    "While a message waits to go out, Petrel keeps this account's sign-in on this device so it can send when the server is back, even with every tab closed; it is deleted once nothing waits and when you sign out. Switch this off on a shared computer: waiting mail then goes when you next open Petrel."
                </p>
                {(!super::browser_support::background_sync())
                    .then(|| {
                        view! {
                            <p class="hint" id="send-after-close-support">
                                "This browser cannot wake Petrel to send in the background (it has no Background Sync): mail still waiting when you close the last Petrel tab is sent when you next open Petrel."
                            </p>
                        }
                    })}
            </fieldset>
            <fieldset>
                <legend>"Mail links"</legend>
                <p class="hint">"Open mailto: links from other sites and apps in Petrel."</p>
                <button
                    type="button"
                    id="register-mailto"
                    on:click=move |_| match super::pwa::register_mailto_handler() {
                        Ok(()) => ctx.status.set(Some("Your browser will ask to confirm Petrel for mail links.".into())),
                        Err(e) => ctx.notice.set(Some(format!("The browser did not accept Petrel for mail links: {e}"))),
                    }
                >
                    "Use Petrel for mail links"
                </button>
            </fieldset>
            <fieldset>
                <legend>"Privacy"</legend>
                <PrefCheckbox id="pref-remote" get=|p| p.remote_images_always set=|p, on| p.remote_images_always = on>
                    "Load remote images in every message (senders can then see when you read their mail)"
                </PrefCheckbox>
                {move || {
                    let senders: Vec<String> = prefs.with(|p| p.remote_image_senders.iter().cloned().collect());
                    (!senders.is_empty())
                        .then(|| {
                            view! {
                                <p>"Remote images always load from:"</p>
                                <ul class="allowed-senders">
                                    {senders
                                        .into_iter()
                                        .map(|s| {
                                            let who = s.clone();
                                            view! {
                                                <li>
                                                    {s.clone()}" "
                                                    <button
                                                        type="button"
                                                        class="link"
                                                        on:click=move |_| change(
                                                            &|p| {
                                                                p.remote_image_senders.remove(&who);
                                                            },
                                                        )
                                                    >
                                                        "Remove"
                                                    </button>
                                                </li>
                                            }
                                        })
                                        .collect_view()}
                                </ul>
                            }
                        })
                }}
            </fieldset>
            <fieldset>
                <legend>"Identities and signatures"</legend>
                {move || match identities.get() {
                    None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="notice">{e}</p> }.into_any(),
                    Some(Ok(list)) => {
                        view! {
                            <ul class="identities">
                                {list
                                    .into_iter()
                                    .enumerate()
                                    .map(|(n, i)| {
                                        let key = i.email.to_lowercase();
                                        let text = RwSignal::new(prefs.with_untracked(|p| p.signature_for(&i)));
                                        let field = format!("signature-{n}");
                                        view! {
                                            <li>
                                                <strong>
                                                    {if i.name.is_empty() {
                                                        i.email.clone()
                                                    } else {
                                                        format!("{} <{}>", i.name, i.email)
                                                    }}
                                                </strong>
                                                <label for=field.clone()>"Signature"</label>
                                                <textarea
                                                    id=field
                                                    class="signature-field"
                                                    rows="3"
                                                    prop:value=text
                                                    on:input=move |ev| text.set(event_target_value(&ev))
                                                ></textarea>
                                                <button
                                                    type="button"
                                                    class="save-signature"
                                                    on:click=move |_| {
                                                        let (key, value) = (key.clone(), text.get_untracked());
                                                        change(
                                                            &|p| {
                                                                p.signatures.insert(key.clone(), value.clone());
                                                            },
                                                        );
                                                        ctx.status.set(Some("Signature saved on this device.".into()));
                                                    }
                                                >
                                                    "Save signature"
                                                </button>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            <p class="hint">
                                "Petrel adds the signature of the identity you write from. It is kept on this device; the server's own signature is the starting point."
                            </p>
                        }
                            .into_any()
                    }
                }}
            </fieldset>
            <fieldset>
                <legend>"Vacation response"</legend>
                {move || match vacation.get() {
                    None => view! { <p class="loading">"Loading…"</p> }.into_any(),
                    Some(Err(e)) => view! { <p class="hint">{e}</p> }.into_any(),
                    Some(Ok(v)) => view! { <VacationForm initial=v /> }.into_any(),
                }}
            </fieldset>
            <fieldset>
                <legend>"Labels"</legend>
                <p class="hint">"Names and colours are kept on this device; the labels themselves on the server."</p>
                <LabelSettings />
            </fieldset>
            <fieldset>
                <legend>"Filters"</legend>
                {move || {
                    if ctx.connection.with(|c| c.offers_filters()) {
                        view! {
                            <p class="hint">
                                "Rules the server applies to mail as it arrives: file, label, forward, block."
                            </p>
                            <button type="button" id="filters-open" on:click=move |_| on_filters.run(())>
                                "Edit filters"
                            </button>
                        }
                            .into_any()
                    } else {
                        let offline = ctx.connection.with(|c| matches!(c, Connection::Offline { .. }));
                        view! {
                            <p class="hint" id="filters-unsupported">
                                {if offline {
                                    "Filters can be edited once Petrel reaches the server again."
                                } else {
                                    "This account's server offers no filters (rules applied as mail arrives)."
                                }}
                            </p>
                        }
                            .into_any()
                    }
                }}
            </fieldset>
        </section>
    }
}

#[component]
fn VacationForm(initial: Vacation) -> impl IntoView {
    let ctx = MailContext::get();
    let enabled = RwSignal::new(initial.is_enabled);
    let subject = RwSignal::new(initial.subject.clone().unwrap_or_default());
    let text = RwSignal::new(initial.text_body.clone().unwrap_or_default());
    let said = RwSignal::new(String::new());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if enabled.get_untracked() && text.get_untracked().trim().is_empty() {
            said.set("Write the reply people will get.".into());
            return;
        }
        let vacation = Vacation {
            is_enabled: enabled.get_untracked(),
            subject: Some(subject.get_untracked()).filter(|s| !s.trim().is_empty()),
            text_body: Some(text.get_untracked()),
            ..initial.clone()
        };
        let engine = ctx.engine.get_value();
        said.set("Saving…".into());
        spawn_local(async move {
            let Some(backend) = engine.backend() else { return };
            match backend.set_vacation(&vacation).await {
                Ok(()) => said.set(if vacation.is_enabled {
                    "Vacation response is on.".into()
                } else {
                    "Vacation response is off.".into()
                }),
                Err(e) => said.set(sentence(&e.to_string())),
            }
        });
    };
    view! {
        <form class="vacation" on:submit=save>
            <label class="checkbox">
                <input
                    type="checkbox"
                    id="vacation-on"
                    prop:checked=enabled
                    on:change=move |_| enabled.update(|e| *e = !*e)
                />
                "Reply automatically"
            </label>
            <label for="vacation-subject">"Subject"</label>
            <input
                id="vacation-subject"
                type="text"
                prop:value=subject
                on:input=move |ev| subject.set(event_target_value(&ev))
            />
            <label for="vacation-text">"Message"</label>
            <textarea
                id="vacation-text"
                rows="5"
                prop:value=text
                on:input=move |ev| text.set(event_target_value(&ev))
            ></textarea>
            <button type="submit" class="primary" id="vacation-save">
                "Save"
            </button>
            <p role="status">{move || said.get()}</p>
        </form>
    }
}
