//! Snooze: mail leaves the Inbox and comes back at a time. Where the server does it (Cyrus's
//! `snoozed`) it is the server's; elsewhere Petrel files the mail in a Snoozed folder with the time
//! in a keyword (`$petrel-snoozed-20261207t080000z`), so any tab or device can bring it back.

/// The prefix of the keyword that carries a snoozed message's time.
pub const KEYWORD_PREFIX: &str = "$petrel-snoozed-";
/// The folder Petrel files snoozed mail in when the server does not snooze.
pub const FOLDER: &str = "Snoozed";

use super::time::rfc3339;

const DAY_MS: i64 = 86_400_000;
const MORNING_MS: i64 = 8 * 3_600_000;

/// The choices a user has besides a time of their own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// 08:00 tomorrow, local time.
    TomorrowMorning,
    /// 08:00 next Monday, local time.
    NextWeek,
}

/// When a preset ends: `now_ms` in UTC, `offset_minutes` the local zone's offset east of UTC.
pub fn until(preset: Preset, now_ms: i64, offset_minutes: i32) -> String {
    let offset = i64::from(offset_minutes) * 60_000;
    let today = (now_ms + offset).div_euclid(DAY_MS);
    let days_ahead = match preset {
        Preset::TomorrowMorning => 1,
        Preset::NextWeek => {
            // 1970-01-01 was a Thursday: Monday is 0 here.
            let weekday = (today + 3).rem_euclid(7);
            7 - weekday
        }
    };
    rfc3339((today + days_ahead) * DAY_MS + MORNING_MS - offset)
}

/// The keyword that carries `until` (RFC 3339, UTC, to the second).
pub fn keyword(until: &str) -> String {
    let compact: String = until.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    format!("{KEYWORD_PREFIX}{}", compact.to_ascii_lowercase())
}

/// The time a snooze keyword carries, as RFC 3339; `None` for any other keyword.
pub fn until_of(keyword: &str) -> Option<String> {
    let c = keyword.strip_prefix(KEYWORD_PREFIX)?.to_ascii_uppercase();
    let ok = c.len() == 16 && c.as_bytes()[8] == b'T' && c.ends_with('Z');
    let digits = |r: std::ops::Range<usize>| c.get(r).filter(|s| s.bytes().all(|b| b.is_ascii_digit()));
    if !ok {
        return None;
    }
    Some(format!(
        "{}-{}-{}T{}:{}:{}Z",
        digits(0..4)?,
        digits(4..6)?,
        digits(6..8)?,
        digits(9..11)?,
        digits(11..13)?,
        digits(13..15)?
    ))
}

/// Whether a snooze until `until` is over at `now` (both RFC 3339 UTC to the second, which
/// compare as text).
pub fn is_due(until: &str, now: &str) -> bool {
    until <= now
}

#[cfg(test)]
mod tests {
    use super::*;

    // 2026-12-06T15:30:00Z, a Sunday.
    const SUNDAY: i64 = 1_796_571_000_000;

    #[test]
    fn presets_are_local_mornings() {
        assert_eq!(until(Preset::TomorrowMorning, SUNDAY, 0), "2026-12-07T08:00:00Z");
        // Berlin (UTC+1): 08:00 there is 07:00 UTC.
        assert_eq!(until(Preset::TomorrowMorning, SUNDAY, 60), "2026-12-07T07:00:00Z");
        // New York (UTC-5) at 15:30 UTC is still Sunday morning: tomorrow is Monday 13:00 UTC.
        assert_eq!(until(Preset::TomorrowMorning, SUNDAY, -300), "2026-12-07T13:00:00Z");
        // Tokyo (UTC+9): already 00:30 Monday there, so tomorrow is Tuesday.
        assert_eq!(until(Preset::TomorrowMorning, SUNDAY, 540), "2026-12-07T23:00:00Z");
        assert_eq!(until(Preset::NextWeek, SUNDAY, 0), "2026-12-07T08:00:00Z", "Sunday: Monday is next week");
        assert_eq!(until(Preset::NextWeek, SUNDAY + DAY_MS, 0), "2026-12-14T08:00:00Z", "Monday: a week on");
        assert_eq!(until(Preset::NextWeek, SUNDAY, 540), "2026-12-13T23:00:00Z", "Monday in Tokyo");
    }

    #[test]
    fn the_time_travels_in_a_keyword() {
        let k = keyword("2026-12-07T08:00:00Z");
        assert_eq!(k, "$petrel-snoozed-20261207t080000z");
        assert!(k.len() <= 255 && !k.contains(['(', ')', '{', ']', '%', '*', '"', '\\', ' ']));
        assert_eq!(until_of(&k).as_deref(), Some("2026-12-07T08:00:00Z"));
        assert_eq!(until_of("$petrel-snoozed-2026120xt080000z"), None);
        assert_eq!(until_of("$petrel-snoozed-"), None);
        assert_eq!(until_of("$seen"), None);
        assert!(is_due("2026-12-07T08:00:00Z", "2026-12-07T08:00:00Z"));
        assert!(!is_due("2026-12-07T08:00:01Z", "2026-12-07T08:00:00Z"));
    }
}
