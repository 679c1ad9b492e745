//! Sizes and times as people read them, for every view that shows one.

/// Sizes as people read them. In integers: formatting floats would add ~11 KB of code to the wasm.
pub fn human_size(bytes: u64) -> String {
    const MB: u64 = 1024 * 1024;
    match bytes {
        b if b < 1024 => format!("{b} B"),
        b if b < MB - 512 => format!("{} KB", (b + 512) / 1024),
        b => {
            let tenths = (b * 10 + MB / 2) / MB;
            format!("{}.{} MB", tenths / 10, tenths % 10)
        }
    }
}

/// An RFC 3339 instant in the reader's own time zone and locale (as given, if unreadable).
pub fn local_time(rfc3339: &str) -> String {
    let date = js_sys::Date::new(&rfc3339.into());
    if date.get_time().is_nan() {
        return rfc3339.to_owned();
    }
    String::from(date.to_locale_string("default", &js_sys::Object::new()))
}

/// A moment (milliseconds since the epoch) as the time of day, in the reader's locale.
pub fn clock(ms: f64) -> String {
    let date = js_sys::Date::new(&ms.into());
    String::from(date.to_locale_time_string("default"))
}
