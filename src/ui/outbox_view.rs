//! The Outbox: every message on its way, what became of it, and what the user can do about it
//! (cancel while it can still be taken back, send again after a failure).

use super::format::clock;
use std::rc::Rc;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::outbox::dispatcher::Outbox;
use crate::outbox::{Job, JobState, Stats};

/// Shown at most: the waiting ones and the most recent others.
const SHOWN: usize = 200;

/// What a job's row says of it at `now`.
pub fn describe(job: &Job, now: f64, max_attempts: u32) -> String {
    match job.state {
        JobState::Queued if job.attempts == 0 && job.is_held(now) => {
            format!("Scheduled for {}", clock(job.not_before_ms.max(job.send_at_ms.unwrap_or(0.0))))
        }
        // The server was out of reach last time: the mail waits for it, with no limit.
        JobState::Queued if job.attempts > 0 && job.unreached == job.attempts => format!(
            "Waiting for the server, next try at {}{}",
            clock(job.not_before_ms),
            job.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        ),
        JobState::Queued if job.attempts > 0 => format!(
            "Retrying at {} (attempt {} of {}){}",
            clock(job.not_before_ms),
            job.attempts - job.unreached + 1,
            max_attempts,
            job.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default()
        ),
        JobState::Queued => "Waiting to send".to_owned(),
        JobState::Sending => "Sending…".to_owned(),
        JobState::Sent => match job.held_until_ms {
            Some(t) if t > now => format!("Held by the server until {}", clock(t)),
            _ => format!("Sent at {}", clock(job.held_until_ms.or(job.sent_ms).unwrap_or(now))),
        },
        JobState::Failed => format!("Not sent: {}", job.last_error.as_deref().unwrap_or("gave up")),
        JobState::Cancelled => "Cancelled".to_owned(),
    }
}

fn summary(stats: &Stats) -> String {
    let mut text = format!(
        "{} waiting, {} sending, {} sent, {} failed, {} retries",
        stats.queued, stats.sending, stats.sent, stats.failed, stats.retries
    );
    if let Some(ms) = stats.average_latency_ms {
        // Tenths of a second in integers: no float formatting code in the wasm for one figure.
        let tenths = (ms / 100.0).round() as u64;
        text.push_str(&format!(", {}.{} s on average from Send to the server", tenths / 10, tenths % 10));
    }
    text
}

fn waiting_first(jobs: &mut [Job]) {
    let rank = |j: &Job| match j.state {
        JobState::Sending => 0,
        JobState::Queued => 1,
        JobState::Failed => 2,
        _ => 3,
    };
    jobs.sort_by(|a, b| rank(a).cmp(&rank(b)).then(b.enqueued_ms.total_cmp(&a.enqueued_ms)));
}

#[component]
pub fn OutboxView(
    outbox: StoredValue<Rc<Outbox>, LocalStorage>,
    version: Signal<u64>,
    on_error: Callback<String>,
) -> impl IntoView {
    // Held and scheduled rows change with the clock, not only with the queue: a second's tick.
    let tick = RwSignal::new(0u32);
    if let Ok(handle) =
        set_interval_with_handle(move || tick.update(|t| *t = t.wrapping_add(1)), std::time::Duration::from_secs(1))
    {
        on_cleanup(move || handle.clear());
    }
    let jobs = Memo::new(move |_| {
        version.track();
        tick.track();
        let mut jobs = outbox.with_value(|o| o.jobs());
        waiting_first(&mut jobs);
        jobs.truncate(SHOWN);
        jobs
    });
    let stats = move || {
        version.track();
        summary(&outbox.with_value(|o| o.stats()))
    };
    let max_attempts = outbox.with_value(|o| o.policy().max_attempts);
    let cancel = move |id: String| {
        let outbox = outbox.get_value();
        spawn_local(async move {
            if let Err(e) = outbox.cancel(&id).await {
                on_error.run(crate::mail::error::sentence(&e.to_string()));
            }
        });
    };
    let retry = move |id: String| {
        let outbox = outbox.get_value();
        spawn_local(async move { outbox.retry(&id).await });
    };

    // Each row with what it says now: a row is redrawn when its text changes.
    let rows = move || {
        jobs.get().into_iter().map(|j| (describe(&j, js_sys::Date::now(), max_attempts), j)).collect::<Vec<_>>()
    };

    view! {
        <section class="outbox" aria-labelledby="outbox-title">
            <h2 id="outbox-title">"Outbox"</h2>
            <p class="outbox-stats">{stats}</p>
            {move || {
                jobs.with(|list| list.is_empty()).then(|| view! { <p class="empty">"Nothing waiting to be sent."</p> })
            }}
            {move || {
                let waiting = jobs
                    .with(|list| list.iter().any(|j| matches!(j.state, JobState::Queued | JobState::Sending)));
                (waiting && !super::browser_support::background_sync())
                    .then(|| {
                        view! {
                            <p class="hint" id="outbox-after-close">
                                "Keep a Petrel tab open until this is sent: this browser cannot send in the background, so what still waits when the last tab closes goes when you next open Petrel."
                            </p>
                        }
                    })
            }}
            <ul class="outbox-jobs">
                <For each=rows key=|(text, j)| (j.id.clone(), j.revision, text.clone()) let:row>
                    {
                        let (state_text, job) = row;
                        let now = js_sys::Date::now();
                        let can_cancel = matches!(job.state, JobState::Queued | JobState::Failed)
                            || (job.state == JobState::Sent && job.held_until_ms.is_some_and(|t| t > now));
                        let can_retry = job.state == JobState::Failed;
                        let (cancel_id, retry_id) = (job.id.clone(), job.id.clone());
                        let recipients = job
                            .draft
                            .to
                            .iter()
                            .chain(&job.draft.cc)
                            .chain(&job.draft.bcc)
                            .map(|a| a.email.clone())
                            .collect::<Vec<_>>()
                            .join(", ");
                        view! {
                            <li
                                class="outbox-job"
                                data-state=format!("{:?}", job.state).to_lowercase()
                                data-job=job.id.clone()
                            >
                                <span class="subject">
                                    {if job.draft.subject.is_empty() {
                                        "(no subject)".to_owned()
                                    } else {
                                        job.draft.subject.clone()
                                    }}
                                </span>
                                <span class="recipients">{recipients}</span>
                                <span class="job-state">{state_text}</span>
                                {can_cancel
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="cancel"
                                                on:click=move |_| cancel(cancel_id.clone())
                                            >
                                                "Cancel sending"
                                            </button>
                                        }
                                    })}
                                {can_retry
                                    .then(|| {
                                        view! {
                                            <button
                                                type="button"
                                                class="retry"
                                                on:click=move |_| retry(retry_id.clone())
                                            >
                                                "Send again"
                                            </button>
                                        }
                                    })}
                            </li>
                        }
                    }
                </For>
            </ul>
        </section>
    }
}
