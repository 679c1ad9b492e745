//! Live updates for a RustMailer account. The gateway relays RustMailer's event hooks as an SSE
//! stream (`/rustmailer/events?account=N`, read through `fetch` so it carries the token); without
//! one (a gateway without webhooks, or Envoy) the account is polled: ListMailboxes is cheap and
//! its counts (exists, unseen, uid_next) show new and read mail.

use std::rc::Rc;

use futures_util::future::{select, Either, FutureExt};

use super::client::RustMailer;
use crate::jmap::push::live::{PushHandle, Stop};
use crate::jmap::push::sse::SseParser;
use crate::net::backoff::Backoff;
use crate::net::{fetch_stream, sleep, HttpRequest};

#[derive(Debug, Clone, PartialEq)]
pub enum RustMailerPush {
    /// The event stream is open: events arrive as they happen.
    Connected,
    /// An event hook: `kind` is RustMailer's event type (EMAIL_ADDED_TO_FOLDER, ...).
    Event { kind: String, data: String },
    /// No stream: time to look for changes (the caller syncs).
    Poll,
    /// The stream is not there or broke; polling until it is back.
    Disconnected { reason: String, retry_in_ms: u64 },
}

/// What to tell the user when RustMailer reports (an `EMAIL_SENDING_ERROR` event) that a mail it
/// took could not be sent. `subject_of` finds the subject of a mail Petrel sent, by Message-ID.
pub fn sending_error_text(data: &str, subject_of: impl Fn(&str) -> Option<String>) -> String {
    let event: serde_json::Value = serde_json::from_str(data).unwrap_or_default();
    let payload = &event["payload"];
    let message_id = payload["message_id"].as_str().unwrap_or("").trim_matches(['<', '>']);
    let reason = payload["error"].as_str().unwrap_or("no reason given");
    match subject_of(message_id) {
        Some(s) => format!("RustMailer could not deliver “{s}”: {reason}"),
        None => format!("RustMailer could not deliver a message: {reason}"),
    }
}

pub struct PushOptions {
    pub poll_interval_ms: u32,
    pub backoff: Backoff,
    /// The gateway sends a comment every 20 s: silence for this long means the stream stalled.
    pub stall_ms: u32,
    pub max_frame: usize,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            poll_interval_ms: 30_000,
            backoff: Backoff::new(1_000, 60_000),
            stall_ms: 50_000,
            max_frame: 256 * 1024,
        }
    }
}

enum Ended {
    /// This gateway has no event stream: poll for good.
    Absent(String),
    Broken(String),
}

async fn run_stream(
    client: &RustMailer,
    account_id: u64,
    options: &PushOptions,
    on_event: &dyn Fn(RustMailerPush),
) -> Ended {
    let url = format!("{}/rustmailer/events?account={account_id}", client.base_url());
    let mut request = HttpRequest::get(url).header("accept", "text/event-stream");
    if let Some(token) = client.token() {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let mut response = match fetch_stream(request).await {
        Ok(r) => r,
        Err(e) => return Ended::Broken(e.to_string()),
    };
    if response.status == 404 {
        return Ended::Absent("the gateway relays no RustMailer events".into());
    }
    if response.status != 200 || !response.content_type.as_deref().is_some_and(|ct| ct.starts_with("text/event-stream"))
    {
        return Ended::Broken(format!("the event stream answered HTTP {}", response.status));
    }
    on_event(RustMailerPush::Connected);
    let mut parser = SseParser::new(options.max_frame);
    loop {
        let chunk = match select(response.next_chunk().boxed_local(), sleep(options.stall_ms).boxed_local()).await {
            Either::Left((Some(Ok(chunk)), _)) => chunk,
            Either::Left((Some(Err(e)), _)) => return Ended::Broken(e.to_string()),
            Either::Left((None, _)) => return Ended::Broken("the gateway closed the event stream".into()),
            Either::Right(_) => return Ended::Broken("the event stream stalled".into()),
        };
        let events = match parser.feed(&chunk) {
            Ok(events) => events,
            Err(e) => return Ended::Broken(e.to_string()),
        };
        for event in events {
            match event.event.as_str() {
                "ready" => {}
                // Events were lost for us at the gateway: look at everything again.
                "resync" => on_event(RustMailerPush::Poll),
                kind => on_event(RustMailerPush::Event { kind: kind.to_owned(), data: event.data }),
            }
        }
    }
}

/// Starts updates for one account; `on_event` hears everything.
pub fn start(
    client: RustMailer,
    account_id: u64,
    options: PushOptions,
    on_event: impl Fn(RustMailerPush) + 'static,
) -> PushHandle {
    let stop = Stop::default();
    let task_stop = stop.clone();
    wasm_bindgen_futures::spawn_local(async move {
        let on_event: Rc<dyn Fn(RustMailerPush)> = Rc::new(on_event);
        let mut failures: u32 = 0;
        let mut stream_absent = false;
        while !task_stop.stopped() {
            let wait_ms = if stream_absent {
                options.poll_interval_ms as u64
            } else {
                let run = run_stream(&client, account_id, &options, &*on_event).boxed_local();
                let ended = match select(run, task_stop.wait().boxed_local()).await {
                    Either::Left((ended, _)) => ended,
                    Either::Right(_) => return,
                };
                let (reason, delay) = match ended {
                    Ended::Absent(reason) => {
                        stream_absent = true;
                        (reason, options.poll_interval_ms as u64)
                    }
                    Ended::Broken(reason) => {
                        let delay = options.backoff.delay_ms(failures, js_sys::Math::random());
                        failures = failures.saturating_add(1);
                        (reason, delay)
                    }
                };
                on_event(RustMailerPush::Disconnected { reason, retry_in_ms: delay });
                // Whatever happened while the stream was down is found by one look now.
                on_event(RustMailerPush::Poll);
                delay
            };
            if let Either::Right(_) =
                select(sleep(wait_ms.min(u32::MAX as u64) as u32).boxed_local(), task_stop.wait().boxed_local()).await
            {
                return;
            }
            if stream_absent {
                on_event(RustMailerPush::Poll);
            }
        }
    });
    PushHandle { stop }
}
