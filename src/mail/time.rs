//! Instants as the model writes them: RFC 3339 in UTC, to the second (`2026-12-07T08:00:00Z`), to
//! and from epoch milliseconds. Plain arithmetic on the proleptic Gregorian calendar (Howard
//! Hinnant's civil-from-days and back): no clock and no time-zone database, so it runs and is
//! tested natively.

/// Epoch milliseconds as RFC 3339 UTC, whole seconds.
pub fn rfc3339(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let s = secs.rem_euclid(86_400);
    format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z", s / 3600, s / 60 % 60, s % 60)
}

/// RFC 3339 (as the search syntax and the model write them: `...Z`, or a bare date) to epoch ms.
pub fn parse_rfc3339_ms(text: &str) -> Option<i64> {
    let t = text.trim();
    let date = t.get(0..10)?;
    let mut parts = date.split('-');
    let (y, m, d): (i64, u32, u32) =
        (parts.next()?.parse().ok()?, parts.next()?.parse().ok()?, parts.next()?.parse().ok()?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    let mut secs = days_from_civil(y, m, d) * 86_400;
    if let Some(time) = t.get(11..19) {
        let mut hms = time.split(':').map(|x| x.parse::<i64>().ok());
        secs += hms.next()?? * 3600 + hms.next()?? * 60 + hms.next()??;
    }
    Some(secs * 1000)
}

/// Days since 1970-01-01 to a civil date.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_795_683_600_000), "2026-11-26T09:00:00Z");
        assert_eq!(parse_rfc3339_ms("2026-11-26T09:00:00Z"), Some(1_795_683_600_000));
        assert_eq!(parse_rfc3339_ms("2024-02-29"), Some(1_709_164_800_000));
        assert_eq!(parse_rfc3339_ms("2024-13-01"), None);
        assert_eq!(parse_rfc3339_ms("soon"), None);
        for ms in [951_782_400_000_i64, 4_102_444_799_000] {
            assert_eq!(parse_rfc3339_ms(&rfc3339(ms)), Some(ms));
        }
    }

    #[test]
    fn instants_read_as_dates() {
        assert_eq!(rfc3339(1_796_571_000_000), "2026-12-06T15:30:00Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1000), "1969-12-31T23:59:59Z");
    }
}
