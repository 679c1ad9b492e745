//! The page's one live region for what happens without a click: new mail, what an action did
//! (and that it can be undone), a send that failed, the connection going and coming back. Each
//! event is said once: the region's text changes only when [`Announcer::say`] is called, never
//! because something re-rendered. The status lines the eye reads are not live regions themselves,
//! so nothing is read twice.

use leptos::prelude::*;

#[derive(Clone, Copy)]
pub struct Announcer {
    said: RwSignal<String>,
    /// Said in this turn of the event loop: a screen reader reads the region once it settles, so
    /// two events in one turn are said together rather than the first lost.
    pending: StoredValue<Vec<String>>,
}

impl Announcer {
    pub fn new() -> Announcer {
        Announcer { said: RwSignal::new(String::new()), pending: StoredValue::new(Vec::new()) }
    }

    /// Says `text` once, politely (after what the screen reader is reading).
    pub fn say(&self, text: &str) {
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let first = self
            .pending
            .try_update_value(|pending| {
                pending.push(text.to_owned());
                pending.len() == 1
            })
            .unwrap_or(false);
        if first {
            let this = *self;
            set_timeout(move || this.flush(), std::time::Duration::ZERO);
        }
    }

    fn flush(&self) {
        let Some(texts) = self.pending.try_update_value(std::mem::take) else { return };
        let text = texts.join(" ");
        // The same words twice are two events: a trailing no-break space makes the region change,
        // so it is read again.
        self.said.try_update(|said| {
            *said = if *said == text { format!("{text}\u{a0}") } else { text };
        });
    }
}

/// The live region [`Announcer::say`] speaks through, visually hidden.
#[component]
pub fn AnnouncerRegion(announcer: Announcer) -> impl IntoView {
    view! {
        <div id="announcer" class="visually-hidden" role="status" aria-live="polite" aria-atomic="true">
            {move || announcer.said.get()}
        </div>
    }
}
