//! The account's storage in the folder pane: how much is used, and a warning from 90% (mail to a
//! full account bounces). Shown only where the server reports a limit.

use leptos::prelude::*;
use leptos::task::spawn_local_scoped_with_cancellation;

use super::context::MailContext;
use super::format::human_size;
use crate::mail::quota::Quota;

#[component]
pub fn QuotaMeter() -> impl IntoView {
    let ctx = MailContext::get();
    let quota = RwSignal::new(None::<Quota>);
    // Mail arriving or leaving changes the folders' totals: only then is it asked again.
    let stored = Memo::new(move |_| ctx.mailboxes.with(|all| all.iter().map(|m| m.total_emails).sum::<u64>()));
    Effect::new(move |_| {
        ctx.connection.track();
        // Read, not `track()`ed: a memo only computes (and follows its sources) when read.
        let _total = stored.get();
        let Some(backend) = ctx.engine.with_value(|e| e.backend()) else { return };
        spawn_local_scoped_with_cancellation(async move {
            // A failure keeps what was shown: the next change asks again. Set only when it
            // changed, so the warning is not announced again on every refresh.
            if let Ok(q) = backend.quota().await {
                if quota.get_untracked() != q {
                    quota.set(q);
                }
            }
        });
    });
    move || {
        quota.get().map(|q| {
            let said = format!("{} of {} used", human_size(q.used), human_size(q.limit));
            view! {
                <div class="quota" class:warn=q.warns() id="quota">
                    <meter min="0" max="100" high="90" value=q.percent().to_string() aria-label="Storage used">
                        {format!("{}%", q.percent())}
                    </meter>
                    <span class="quota-text">{said}</span>
                    {q
                        .warns()
                        .then(|| {
                            view! {
                                <p class="quota-warning" role="status">
                                    {format!(
                                        "Your mailbox is {}% full: delete or archive mail, or new mail may bounce.",
                                        q.percent(),
                                    )}
                                </p>
                            }
                        })}
                </div>
            }
        })
    }
}
