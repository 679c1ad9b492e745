//! Writing a new message: recipients, subject, text, priority, send now (after the undo window)
//! or at a chosen time. The message goes to the outbox; nothing is sent from here.

use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::mail::address::parse_list;
use crate::mail::Draft;
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

fn field(value: RwSignal<String>) -> impl Fn(leptos::ev::Event) + Copy {
    move |ev| value.set(event_target_value(&ev))
}

#[component]
pub fn Compose(outbox: StoredValue<Rc<Outbox>, LocalStorage>, account: String, on_close: Callback<()>, on_queued: Callback<Queued>) -> impl IntoView {
    let to = RwSignal::new(String::new());
    let cc = RwSignal::new(String::new());
    let bcc = RwSignal::new(String::new());
    let subject = RwSignal::new(String::new());
    let body = RwSignal::new(String::new());
    let priority = RwSignal::new("normal".to_owned());
    let send_at = RwSignal::new(String::new());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let account = StoredValue::new(account);

    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let parsed = (|| -> Result<Draft, String> {
            let draft = Draft {
                to: parse_list(&to.get_untracked()).map_err(|e| format!("To: {e}"))?,
                cc: parse_list(&cc.get_untracked()).map_err(|e| format!("Cc: {e}"))?,
                bcc: parse_list(&bcc.get_untracked()).map_err(|e| format!("Bcc: {e}"))?,
                subject: subject.get_untracked().trim().to_owned(),
                text_body: body.get_untracked(),
                ..Draft::default()
            };
            if draft.to.is_empty() && draft.cc.is_empty() && draft.bcc.is_empty() {
                return Err("Add at least one recipient.".to_owned());
            }
            Ok(draft)
        })();
        let draft = match parsed {
            Ok(d) => d,
            Err(e) => return error.set(Some(e)),
        };
        let now = js_sys::Date::now();
        let chosen = send_at.get_untracked();
        let (delay_ms, scheduled) = if chosen.is_empty() {
            (outbox.with_value(|o| o.policy().undo_window_ms), false)
        } else {
            // datetime-local is the user's local time; Date parses it so.
            let at = js_sys::Date::new(&chosen.clone().into()).get_time();
            if !at.is_finite() || at <= now {
                return error.set(Some("Choose a time in the future to send later.".to_owned()));
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
        let outbox = outbox.get_value();
        busy.set(true);
        error.set(None);
        spawn_local(async move {
            match outbox.enqueue(&account.get_value(), draft, priority, None, delay_ms).await {
                Ok(job_id) => on_queued.run(Queued { job_id, subject: subject_text, send_at_ms: now + delay_ms as f64, scheduled }),
                Err(e) => error.set(Some(crate::mail::error::sentence(&e.to_string()))),
            }
            busy.set(false);
        });
    };

    view! {
        <section class="compose card" role="dialog" aria-modal="false" aria-labelledby="compose-title">
            <form id="compose" on:submit=submit novalidate=true>
                <h2 id="compose-title">"New message"</h2>
                <label for="compose-to">"To"</label>
                <input id="compose-to" name="to" type="text" autocomplete="email" multiple=true autofocus=true on:input=field(to) prop:value=to />
                <label for="compose-cc">"Cc"</label>
                <input id="compose-cc" name="cc" type="text" on:input=field(cc) prop:value=cc />
                <label for="compose-bcc">"Bcc"</label>
                <input id="compose-bcc" name="bcc" type="text" on:input=field(bcc) prop:value=bcc />
                <label for="compose-subject">"Subject"</label>
                <input id="compose-subject" name="subject" type="text" on:input=field(subject) prop:value=subject />
                <label for="compose-body" class="visually-hidden">"Message"</label>
                <textarea id="compose-body" name="body" rows="12" on:input=field(body) prop:value=body></textarea>
                <div class="compose-options">
                    <label for="compose-priority">"Priority"</label>
                    <select id="compose-priority" on:change=field(priority)>
                        <option value="critical">"Critical"</option>
                        <option value="high">"High"</option>
                        <option value="normal" selected=true>"Normal"</option>
                        <option value="low">"Low"</option>
                    </select>
                    <label for="compose-send-at">"Send later"</label>
                    <input id="compose-send-at" type="datetime-local" on:input=field(send_at) prop:value=send_at />
                </div>
                <p class="error" role="alert">{move || error.get()}</p>
                <div class="actions">
                    <button id="compose-send" type="submit" class="primary" disabled=move || busy.get()>
                        {move || if send_at.get().is_empty() { "Send" } else { "Schedule" }}
                    </button>
                    <button type="button" on:click=move |_| on_close.run(())>"Discard"</button>
                </div>
            </form>
        </section>
    }
}
