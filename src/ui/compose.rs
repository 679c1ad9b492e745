//! Writing a message: identity, recipients with completion, subject, plain or rich text,
//! attachments (picker or drop, hashed and uploaded with progress), a draft saved to the server as
//! you type, priority, send now (after the undo window) or later. Sending hands the message to the
//! outbox; nothing is sent from here.

use std::rc::Rc;

use futures_util::lock::Mutex;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;

use super::address_field::AddressField;
use super::context::MailContext;
use super::format::human_size;
use super::sanitize::html_to_text;
use crate::jmap::blob_io::Progress;
use crate::mail::address::{format_list, parse_list};
use crate::mail::error::sentence;
use crate::mail::{Action, Address, BodyPart, Draft, Identity, MailError, Role};
use crate::outbox::dispatcher::Outbox;
use crate::outbox::Priority;

/// What the outbox said after "Send": the job, and until when it can be undone.
#[derive(Clone, Debug, PartialEq)]
pub struct Queued {
    pub job_id: String,
    pub subject: String,
    pub send_at_ms: f64,
    pub scheduled: bool,
}

/// Drafts are saved this long after the last keystroke.
const DRAFT_DEBOUNCE_MS: u64 = 1500;

fn field(value: RwSignal<String>) -> impl Fn(leptos::ev::Event) + Copy {
    move |ev| value.set(event_target_value(&ev))
}

/// A file on its way to the server.
#[derive(Clone, Debug, PartialEq)]
struct Upload {
    key: u32,
    name: String,
    size: u64,
    /// 0..=1; hashing is the first half, sending the second.
    progress: f64,
    done: Option<BodyPart>,
    error: Option<String>,
}

/// Checks what the form holds and builds the message from it: one argument a field of the form.
#[allow(clippy::too_many_arguments)]
pub fn build_draft(
    from: Option<&Identity>,
    to: &str,
    cc: &str,
    bcc: &str,
    subject: &str,
    text: String,
    html: Option<String>,
    attachments: Vec<BodyPart>,
) -> Result<Draft, String> {
    let draft = Draft {
        identity_id: from.map(|i| i.id.clone()),
        from: from
            .map(|i| vec![Address { name: (!i.name.is_empty()).then(|| i.name.clone()), email: i.email.clone() }])
            .unwrap_or_default(),
        to: parse_list(to).map_err(|e| format!("To: {e}"))?,
        cc: parse_list(cc).map_err(|e| format!("Cc: {e}"))?,
        bcc: parse_list(bcc).map_err(|e| format!("Bcc: {e}"))?,
        subject: subject.trim().to_owned(),
        text_body: text,
        html_body: html,
        attachments,
        ..Draft::default()
    };
    Ok(draft)
}

#[component]
pub fn Compose(
    outbox: StoredValue<Rc<Outbox>, LocalStorage>,
    account: String,
    /// What to start from: empty, a reply, a forward, a mailto: link.
    initial: Draft,
    on_close: Callback<()>,
    on_queued: Callback<Queued>,
) -> impl IntoView {
    let ctx = MailContext::get();
    let to = RwSignal::new(format_list(&initial.to));
    let cc = RwSignal::new(format_list(&initial.cc));
    let bcc = RwSignal::new(format_list(&initial.bcc));
    let show_cc = RwSignal::new(!initial.cc.is_empty() || !initial.bcc.is_empty());
    let subject = RwSignal::new(initial.subject.clone());
    let body = RwSignal::new(initial.text_body.clone());
    let rich = RwSignal::new(false);
    let priority = RwSignal::new("normal".to_owned());
    let receipt = RwSignal::new(initial.request_receipt);
    let send_at = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let draft_status = RwSignal::new(String::new());
    let busy = RwSignal::new(false);
    let identities = RwSignal::new(Vec::<Identity>::new());
    let identity = RwSignal::new(None::<String>);
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let dragging = RwSignal::new(false);
    let editor = NodeRef::<leptos::html::Div>::new();
    let threading = StoredValue::new((initial.in_reply_to.clone(), initial.references.clone()));
    let account = StoredValue::new(account);
    // The saved draft's id; the lock keeps a save and the send from crossing.
    let saved_draft = StoredValue::new_local(Rc::new(Mutex::new(None::<String>)));
    let closed = StoredValue::new(false);
    let edits = RwSignal::new(0u32);
    let is_reply = !initial.in_reply_to.is_empty();
    let people = ctx.engine.with_value(|e| e.read(|s| s.known_addresses(500)));
    let people = StoredValue::new(people);

    // Identities (and the signature of the one chosen) from the server.
    {
        let engine = ctx.engine.get_value();
        // Goes with the composer: closed before the answer, nothing is filled in.
        leptos::task::spawn_local_scoped_with_cancellation(async move {
            let Some(backend) = engine.backend() else { return };
            if let Ok(list) = backend.identities().await {
                if let Some(first) = list.first() {
                    identity.set(Some(first.id.clone()));
                    let signature = ctx.prefs.with_untracked(|p| p.signature_for(first));
                    if !signature.trim().is_empty() {
                        let sig = format!("\n\n-- \n{}", signature.trim_end());
                        // Above the quote in a reply, at the end of a new message.
                        body.update(|b| if is_reply { *b = format!("{sig}{b}") } else { b.push_str(&sig) });
                    }
                }
                identities.set(list);
            }
        });
    }
    let current_identity =
        move || identity.with(|id| identities.with(|all| all.iter().find(|i| Some(&i.id) == id.as_ref()).cloned()));

    let html_of_editor = move || editor.get_untracked().map(|e| e.inner_html());
    let collect = move || -> Result<Draft, String> {
        let (text, html) = if rich.get_untracked() {
            let html = html_of_editor().unwrap_or_default();
            (html_to_text(&html), Some(html))
        } else {
            (body.get_untracked(), None)
        };
        let attachments = uploads.with_untracked(|u| u.iter().filter_map(|u| u.done.clone()).collect());
        let mut draft = build_draft(
            current_identity().as_ref(),
            &to.get_untracked(),
            &cc.get_untracked(),
            &bcc.get_untracked(),
            &subject.get_untracked(),
            text,
            html,
            attachments,
        )?;
        let (in_reply_to, references) = threading.get_value();
        draft.in_reply_to = in_reply_to;
        draft.references = references;
        draft.request_receipt = receipt.get_untracked();
        Ok(draft)
    };

    // Debounced draft saving: each edit restarts the wait.
    let save_draft = move || {
        let Ok(draft) = collect() else { return };
        let drafts = ctx.role_id(Role::Drafts);
        let (engine, lock) = (ctx.engine.get_value(), saved_draft.get_value());
        spawn_local(async move {
            let (Some(backend), Some(drafts)) = (engine.backend(), drafts) else { return };
            let mut saved = lock.lock().await;
            // Sent, discarded or gone while waiting for the lock: nothing to save.
            if closed.try_get_value().unwrap_or(true) {
                return;
            }
            draft_status.set("Saving draft…".into());
            match backend.save_draft(&draft, &drafts, saved.as_deref()).await {
                Ok(id) => {
                    *saved = Some(id);
                    let now = js_sys::Date::new_0();
                    draft_status.set(format!("Draft saved at {:02}:{:02}", now.get_hours(), now.get_minutes()));
                }
                Err(MailError::Unsupported(_)) => {
                    draft_status.set("This server does not keep drafts: send or keep this window open.".into())
                }
                Err(e) => draft_status.set(sentence(&format!("the draft was not saved: {e}"))),
            }
        });
    };
    Effect::new(move |previous: Option<u32>| {
        let n = edits.get();
        if previous.is_some() && n > 0 {
            set_timeout(
                move || {
                    // The composer may be gone by now (sent, discarded): then its signals are too.
                    if edits.try_get_untracked() == Some(n) && closed.try_get_value() == Some(false) {
                        save_draft()
                    }
                },
                std::time::Duration::from_millis(DRAFT_DEBOUNCE_MS),
            );
        }
        n
    });
    let edited = move |_| edits.update(|n| *n += 1);

    let add_files = move |files: web_sys::FileList| {
        for i in 0..files.length() {
            let Some(file) = files.get(i) else { continue };
            let key = (js_sys::Math::random() * 1e9) as u32;
            uploads.update(|u| {
                u.push(Upload {
                    key,
                    name: file.name(),
                    size: file.size() as u64,
                    progress: 0.0,
                    done: None,
                    error: None,
                })
            });
            let (connection, digests) = (ctx.connection.get_untracked(), ctx.digests.get_value());
            spawn_local(async move {
                let set = move |f: &dyn Fn(&mut Upload)| {
                    uploads.update(|list| {
                        if let Some(u) = list.iter_mut().find(|u| u.key == key) {
                            f(u)
                        }
                    })
                };
                let progress = move |p: Progress| {
                    let fraction = match p {
                        Progress::Hashing { done, total } => 0.5 * done as f64 / total.max(1) as f64,
                        Progress::Uploading { done, total } => 0.5 + 0.5 * done as f64 / total.max(1) as f64,
                    };
                    set(&|u| u.progress = fraction);
                };
                match connection.upload(&file, &*digests, &progress).await {
                    Ok(part) => set(&|u| {
                        u.progress = 1.0;
                        u.done = Some(part.clone());
                    }),
                    Err(e) => set(&|u| u.error = Some(sentence(&e.to_string()))),
                }
                edits.update(|n| *n += 1);
            });
        }
    };
    let uploading = move || uploads.with(|u| u.iter().any(|u| u.done.is_none() && u.error.is_none()));

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = match collect() {
            Ok(d) if d.to.is_empty() && d.cc.is_empty() && d.bcc.is_empty() => {
                return error.set(Some("Add at least one recipient.".into()))
            }
            Ok(d) => d,
            Err(e) => return error.set(Some(e)),
        };
        if uploading() {
            return error.set(Some("Wait for the attachments to finish uploading.".into()));
        }
        let now = js_sys::Date::now();
        let chosen = send_at.get_untracked();
        let (delay_ms, scheduled) = if chosen.is_empty() {
            (outbox.with_value(|o| o.policy().undo_window_ms), false)
        } else {
            // datetime-local is the user's local time; Date parses it so.
            let at = js_sys::Date::new(&chosen.clone().into()).get_time();
            if !at.is_finite() || at <= now {
                return error.set(Some("Choose a time in the future to send later.".into()));
            }
            ((at - now) as u64, true)
        };
        let priority = match priority.get_untracked().as_str() {
            "critical" => Priority::Critical,
            "high" => Priority::High,
            "low" => Priority::Low,
            _ => Priority::Normal,
        };
        let subject_text = draft.subject.clone();
        let (outbox, lock) = (outbox.get_value(), saved_draft.get_value());
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            // After any save in flight: the outbox replaces the saved draft it knows.
            let saved = lock.lock().await;
            match outbox.enqueue(&account.get_value(), draft, priority, saved.clone(), delay_ms).await {
                Ok(job_id) => {
                    closed.set_value(true);
                    on_queued.run(Queued {
                        job_id,
                        subject: subject_text,
                        send_at_ms: now + delay_ms as f64,
                        scheduled,
                    })
                }
                Err(e) => error.set(Some(sentence(&e.to_string()))),
            }
            busy.set(false);
        });
    };
    let discard = move |_| {
        closed.set_value(true);
        let lock = saved_draft.get_value();
        spawn_local(async move {
            let saved = lock.lock().await.clone();
            if let Some(id) = saved {
                ctx.act(vec![Action::Destroy { ids: vec![id] }], None, vec![]);
            }
        });
        on_close.run(());
    };
    let title = if is_reply {
        "Reply"
    } else if initial.subject.starts_with("Fwd:") {
        "Forward"
    } else {
        "New message"
    };
    let first_focus = NodeRef::<leptos::html::Input>::new();
    Effect::new(move |_| {
        if let Some(input) = first_focus.get() {
            let _ = input.focus();
        }
    });

    view! {
        <section
            class="compose card"
            class:dragging=move || dragging.get()
            role="dialog"
            aria-modal="false"
            aria-labelledby="compose-title"
            on:dragover=move |ev: leptos::ev::DragEvent| {
                if ev.data_transfer().is_some_and(|d| d.types().includes(&"Files".into(), 0)) {
                    ev.prevent_default();
                    dragging.set(true);
                }
            }
            on:dragleave=move |_| dragging.set(false)
            on:drop=move |ev: leptos::ev::DragEvent| {
                dragging.set(false);
                if let Some(files) = ev.data_transfer().and_then(|d| d.files()).filter(|f| f.length() > 0) {
                    ev.prevent_default();
                    add_files(files);
                }
            }
            on:keydown=move |ev: leptos::ev::KeyboardEvent| {
                if ev.key() == "Escape" {
                    discard(())
                }
            }
        >
            <form id="compose" on:submit=submit on:input=edited novalidate=true>
                <h2 id="compose-title">{title}</h2>
                {move || {
                    (identities.with(|i| i.len() > 1))
                        .then(|| {
                            view! {
                                <label for="compose-from">"From"</label>
                                <select
                                    id="compose-from"
                                    on:change=move |ev| identity.set(Some(event_target_value(&ev)))
                                >
                                    {identities
                                        .get()
                                        .into_iter()
                                        .map(|i| {
                                            view! {
                                                <option value=i
                                                    .id
                                                    .clone()>{format!("{} <{}>", i.name, i.email)}</option>
                                            }
                                        })
                                        .collect_view()}
                                </select>
                            }
                        })
                }}
                <label for="compose-to">"To"</label>
                <AddressField id="compose-to" value=to people=people input_ref=first_focus />
                {move || {
                    if show_cc.get() {
                        view! {
                            <label for="compose-cc">"Cc"</label>
                            <AddressField id="compose-cc" value=cc people=people input_ref=NodeRef::new() />
                            <label for="compose-bcc">"Bcc"</label>
                            <AddressField id="compose-bcc" value=bcc people=people input_ref=NodeRef::new() />
                        }
                            .into_any()
                    } else {
                        view! {
                            <button type="button" class="link show-cc" on:click=move |_| show_cc.set(true)>
                                "Cc / Bcc"
                            </button>
                        }
                            .into_any()
                    }
                }}
                <label for="compose-subject">"Subject"</label>
                <input id="compose-subject" name="subject" type="text" on:input=field(subject) prop:value=subject />
                <div class="editor-bar" role="toolbar" aria-label="Formatting">
                    <label class="checkbox">
                        <input
                            type="checkbox"
                            id="compose-rich"
                            prop:checked=rich
                            on:change=move |_| {
                                if rich.get_untracked() {
                                    body.set(html_of_editor().map(|h| html_to_text(&h)).unwrap_or_default());
                                }
                                rich.update(|r| *r = !*r);
                            }
                        />
                        "Rich text"
                    </label>
                    {move || {
                        rich.get()
                            .then(|| {
                                view! {
                                    <button type="button" aria-label="Bold" on:click=move |_| format_command("bold")>
                                        <b>"B"</b>
                                    </button>
                                    <button
                                        type="button"
                                        aria-label="Italic"
                                        on:click=move |_| format_command("italic")
                                    >
                                        <i>"I"</i>
                                    </button>
                                    <button
                                        type="button"
                                        aria-label="Bulleted list"
                                        on:click=move |_| format_command("insertUnorderedList")
                                    >
                                        "• List"
                                    </button>
                                    <button type="button" aria-label="Quote" on:click=move |_| format_command("indent")>
                                        "❝"
                                    </button>
                                }
                            })
                    }}
                </div>
                {move || {
                    if rich.get() {
                        let start = body.get_untracked();
                        view! {
                            <div
                                id="compose-editor"
                                class="rich-editor"
                                contenteditable="true"
                                role="textbox"
                                aria-multiline="true"
                                aria-label="Message"
                                node_ref=editor
                            >
                                {start.lines().map(|l| view! { <div>{l.to_owned()}<br /></div> }).collect_view()}
                            </div>
                        }
                            .into_any()
                    } else {
                        view! {
                            <label for="compose-body" class="visually-hidden">
                                "Message"
                            </label>
                            <textarea
                                id="compose-body"
                                name="body"
                                rows="12"
                                on:input=field(body)
                                prop:value=body
                            ></textarea>
                        }
                            .into_any()
                    }
                }}
                <div class="attach-row">
                    <label class="button" for="compose-files">
                        "Attach files"
                    </label>
                    <input
                        id="compose-files"
                        class="visually-hidden"
                        type="file"
                        multiple=true
                        on:change=move |ev| {
                            if let Some(input) = ev
                                .target()
                                .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
                            {
                                if let Some(files) = input.files() {
                                    add_files(files);
                                }
                                input.set_value("");
                            }
                        }
                    />
                    <span class="hint">"or drop them here"</span>
                </div>
                <ul class="uploads" aria-live="polite">
                    <For
                        each=move || uploads.get()
                        key=|u| (u.key, (u.progress * 100.0) as u32, u.error.is_some(), u.done.is_some())
                        children=move |u| {
                            let key = u.key;
                            view! {
                                <li
                                    class="upload"
                                    data-name=u.name.clone()
                                    class:failed=u.error.is_some()
                                    class:done=u.done.is_some()
                                >
                                    <span class="name">{u.name.clone()}</span>
                                    <span class="meta">{human_size(u.size)}</span>
                                    {match (&u.done, &u.error) {
                                        (_, Some(e)) => view! { <span class="error">{e.clone()}</span> }.into_any(),
                                        (Some(_), _) => view! { <span class="ok">"Attached"</span> }.into_any(),
                                        _ => {
                                            view! {
                                                <progress
                                                    max="100"
                                                    value=((u.progress * 100.0).round() as u32).to_string()
                                                    aria-label=format!("Uploading {}", u.name)
                                                ></progress>
                                            }
                                                .into_any()
                                        }
                                    }}
                                    <button
                                        type="button"
                                        class="remove"
                                        aria-label=format!("Remove {}", u.name)
                                        on:click=move |_| {
                                            uploads.update(|l| l.retain(|x| x.key != key));
                                            edits.update(|n| *n += 1);
                                        }
                                    >
                                        "×"
                                    </button>
                                </li>
                            }
                        }
                    />
                </ul>
                <div class="compose-options">
                    <label for="compose-priority">"Priority"</label>
                    <select id="compose-priority" on:change=field(priority)>
                        <option value="critical">"Critical"</option>
                        <option value="high">"High"</option>
                        <option value="normal" selected=true>
                            "Normal"
                        </option>
                        <option value="low">"Low"</option>
                    </select>
                    <label for="compose-send-at">"Send later"</label>
                    <input id="compose-send-at" type="datetime-local" on:input=field(send_at) prop:value=send_at />
                    <label class="checkbox">
                        <input type="checkbox" id="compose-receipt" bind:checked=receipt />
                        "Ask for a read receipt"
                    </label>
                </div>
                <p class="error" role="alert">
                    {move || error.get()}
                </p>
                <div class="actions">
                    <button id="compose-send" type="submit" class="primary" disabled=move || busy.get() || uploading()>
                        {move || if send_at.get().is_empty() { "Send" } else { "Schedule" }}
                    </button>
                    <button type="button" id="compose-discard" on:click=move |_| discard(())>
                        "Discard"
                    </button>
                    <span class="draft-status" role="status">
                        {move || draft_status.get()}
                    </span>
                </div>
            </form>
        </section>
    }
}

/// Rich-text formatting through the browser's editing commands (the editor is our own page's
/// content, not mail: no script reaches it).
fn format_command(command: &str) {
    if let Some(doc) =
        web_sys::window().and_then(|w| w.document()).and_then(|d| d.dyn_into::<web_sys::HtmlDocument>().ok())
    {
        let _ = doc.exec_command(command);
    }
}
