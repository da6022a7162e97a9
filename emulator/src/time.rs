//! ISO-8601 timestamps without a date library: Ironclad serialises instants as
//! `2016-11-17T00:37:22.318Z` (UTC, milliseconds) and accepts several date formats on input.

use std::time::{SystemTime, UNIX_EPOCH};

pub const DAY_MS: i64 = 86_400_000;

/// Milliseconds since the Unix epoch, from the system clock.
pub fn system_now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_ms(ms: i64) -> String {
    let days = ms.div_euclid(DAY_MS);
    let rem = ms.rem_euclid(DAY_MS);
    let (y, m, d) = civil_from_days(days);
    let (h, min, s, milli) = (
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{min:02}:{s:02}.{milli:03}Z")
}

/// Parse `YYYY-MM-DD`, or that followed by `T` (or a space) and `HH:MM[:SS[.fff]]` with an
/// optional `Z` / `±HH:MM` / `±HHMM` offset (none means UTC). Returns epoch milliseconds.
pub fn parse(text: &str) -> Option<i64> {
    let s = text.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let year: i64 = digits(&s[0..4])?;
    let month: i64 = digits(&s[5..7])?;
    let day: i64 = digits(&s[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let date_ms = days_from_civil(year, month, day) * DAY_MS;
    let rest = &s[10..];
    if rest.is_empty() {
        return Some(date_ms);
    }
    let rest = rest
        .strip_prefix('T')
        .or_else(|| rest.strip_prefix('t'))
        .or_else(|| rest.strip_prefix(' '))?;
    let (clock, offset_ms) = split_offset(rest)?;
    let mut parts = clock.splitn(3, ':');
    let hour: i64 = digits(parts.next()?)?;
    let minute: i64 = digits(parts.next()?)?;
    let (second, millis) = match parts.next() {
        None => (0, 0),
        Some(sec) => {
            let (whole, frac) = sec.split_once('.').unwrap_or((sec, ""));
            let second: i64 = digits(whole)?;
            let millis = if frac.is_empty() {
                0
            } else {
                if !frac.bytes().all(|c| c.is_ascii_digit()) {
                    return None;
                }
                // The first three digits, right-padded with zeros (`.5` is 500 ms).
                frac.bytes()
                    .chain(std::iter::repeat(b'0'))
                    .take(3)
                    .fold(0, |ms, c| ms * 10 + i64::from(c - b'0'))
            };
            (second, millis)
        }
    };
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(date_ms + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offset_ms)
}

/// Normalise any accepted timestamp to the canonical form.
pub fn normalize(text: &str) -> Option<String> {
    parse(text).map(format_ms)
}

/// Midnight UTC of the given civil date.
pub fn date_ms(year: i64, month: i64, day: i64) -> Option<i64> {
    ((1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month))
        .then(|| days_from_civil(year, month, day) * DAY_MS)
}

fn split_offset(rest: &str) -> Option<(&str, i64)> {
    if let Some(clock) = rest.strip_suffix('Z').or_else(|| rest.strip_suffix('z')) {
        return Some((clock, 0));
    }
    // An offset sign can only appear after the `HH:MM` part.
    match rest
        .char_indices()
        .skip(5)
        .find(|(_, c)| *c == '+' || *c == '-')
    {
        None => Some((rest, 0)),
        Some((i, sign)) => {
            let off = rest[i + 1..].replace(':', "");
            if off.len() != 4 {
                return None;
            }
            let (h, m): (i64, i64) = (digits(&off[..2])?, digits(&off[2..])?);
            let ms = (h * 60 + m) * 60_000;
            Some((&rest[..i], if sign == '+' { ms } else { -ms }))
        }
    }
}

fn digits(s: &str) -> Option<i64> {
    (!s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

// Howard Hinnant's civil-date algorithms.
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_offsets() {
        let ms = parse("2016-11-17T00:37:22.318Z").unwrap();
        assert_eq!(format_ms(ms), "2016-11-17T00:37:22.318Z");
        assert_eq!(
            parse("2021-05-11T17:16:53-07:00"),
            parse("2021-05-12T00:16:53Z")
        );
        assert_eq!(parse("2018-03-10"), parse("2018-03-10T00:00:00.000Z"));
        assert_eq!(parse("2018-03-10T00:00"), parse("2018-03-10T00:00:00Z"));
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            format_ms(parse("2024-02-29T23:59:59.9Z").unwrap()),
            "2024-02-29T23:59:59.900Z"
        );
        for bad in [
            "",
            "2018-13-01",
            "2023-02-29",
            "yesterday",
            "2018-03-10T25:00Z",
            "2018-03-10Tnoon",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
