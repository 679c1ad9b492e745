//! A recipients field that completes the address being typed (the part after the last comma)
//! from people the user has mailed or heard from. Arrow keys move, Enter or Tab takes one.

use leptos::prelude::*;

use crate::mail::Address;

/// Up to `limit` people whose name or address contains what is typed after the last separator.
pub fn suggestions(people: &[Address], typed: &str, limit: usize) -> Vec<Address> {
    let current = typed.rsplit([',', ';']).next().unwrap_or("").trim().to_lowercase();
    if current.is_empty() {
        return Vec::new();
    }
    let already: Vec<String> = typed.to_lowercase().split([',', ';']).map(|s| s.trim().to_owned()).collect();
    people
        .iter()
        .filter(|a| {
            a.email.to_lowercase().contains(&current)
                || a.name.as_deref().is_some_and(|n| n.to_lowercase().contains(&current))
        })
        .filter(|a| !already.iter().any(|t| t.contains(&a.email.to_lowercase())))
        .take(limit)
        .cloned()
        .collect()
}

/// `typed` with its last, unfinished entry replaced by `chosen`.
pub fn complete(typed: &str, chosen: &Address) -> String {
    let keep = typed.rfind([',', ';']).map(|i| &typed[..=i]).unwrap_or("");
    let entry = crate::mail::address::format_list(std::slice::from_ref(chosen));
    if keep.is_empty() {
        format!("{entry}, ")
    } else {
        format!("{keep} {entry}, ")
    }
}

#[component]
pub fn AddressField(
    id: &'static str,
    value: RwSignal<String>,
    people: StoredValue<Vec<Address>>,
    input_ref: NodeRef<leptos::html::Input>,
) -> impl IntoView {
    let open = RwSignal::new(false);
    let active = RwSignal::new(0usize);
    let list = Memo::new(move |_| people.with_value(|p| suggestions(p, &value.get(), 6)));
    let listbox_id = format!("{id}-suggestions");
    let take = move |i: usize| {
        if let Some(a) = list.with_untracked(|l| l.get(i).cloned()) {
            value.update(|v| *v = complete(v, &a));
            open.set(false);
        }
    };
    let keydown = move |ev: leptos::ev::KeyboardEvent| {
        let n = list.with_untracked(|l| l.len());
        if !open.get_untracked() || n == 0 {
            return;
        }
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                active.update(|a| *a = (*a + 1) % n);
            }
            "ArrowUp" => {
                ev.prevent_default();
                active.update(|a| *a = (*a + n - 1) % n);
            }
            "Enter" | "Tab" => {
                ev.prevent_default();
                take(active.get_untracked());
            }
            "Escape" => {
                ev.stop_propagation();
                open.set(false);
            }
            _ => {}
        }
    };
    let expanded = move || open.get() && list.with(|l| !l.is_empty());
    view! {
        <div class="address-field">
            <input
                id=id
                name=id
                type="text"
                autocomplete="off"
                spellcheck="false"
                node_ref=input_ref
                role="combobox"
                aria-autocomplete="list"
                aria-controls=listbox_id.clone()
                aria-expanded=move || expanded().to_string()
                prop:value=value
                on:input=move |ev| {
                    value.set(event_target_value(&ev));
                    active.set(0);
                    open.set(true);
                }
                on:keydown=keydown
                on:blur=move |_| open.set(false)
            />
            <ul id=listbox_id class="suggestions" role="listbox" class:hidden=move || !expanded()>
                {move || {
                    list.get()
                        .into_iter()
                        .enumerate()
                        .map(|(i, a)| {
                            let label = match &a.name {
                                Some(n) if !n.is_empty() => format!("{n} <{}>", a.email),
                                _ => a.email.clone(),
                            };
                            view! {
                                <li
                                    role="option"
                                    aria-selected=move || (active.get() == i).to_string()
                                    class:active=move || active.get() == i
                                    // mousedown, not click: the input's blur would close the list first.
                                    on:mousedown=move |ev| {
                                        ev.prevent_default();
                                        take(i);
                                    }
                                >
                                    {label}
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </div>
    }
}
