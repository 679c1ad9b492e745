//! The one way a view says that something went wrong: an alert paragraph, there while there is
//! something to say.

use leptos::prelude::*;

#[component]
pub fn Alert(#[prop(into)] text: Signal<Option<String>>) -> impl IntoView {
    move || {
        text.get().map(|t| {
            view! {
                <p class="notice" role="alert">
                    {t}
                </p>
            }
        })
    }
}
