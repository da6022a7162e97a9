//! UTC timestamps as Ironclad writes them (`2016-11-17T00:37:22.318Z`, offsets accepted), as
//! milliseconds since the Unix epoch. Cursors compare instants, never strings, because
//! Ironclad mixes `…Z` and `….000Z` forms and offsets.

/// Milliseconds since 1970-01-01T00:00:00Z.
pub type Millis = i64;

/// The wall clock (WASI `wall-clock` in the component, the OS natively).
pub fn now() -> Millis {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as Millis)
        .unwrap_or(0)
}

/// Parse `YYYY-MM-DD[THH:MM[:SS[.fff…]]][Z|±HH:MM]`; a date alone is midnight UTC.
pub fn parse(text: &str) -> Option<Millis> {
    let b = text.trim().as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let digits = b.get(range)?;
        digits.iter().all(u8::is_ascii_digit).then(|| {
            digits
                .iter()
                .fold(0i64, |n, d| n * 10 + i64::from(d - b'0'))
        })
    };
    let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !(1..=12).contains(&month) {
        return None;
    }
    if !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    if b.len() == 10 {
        return Some(ms);
    }
    if !matches!(b.get(10), Some(b'T' | b't' | b' ')) || b.get(13) != Some(&b':') {
        return None;
    }
    let (hour, minute) = (num(11..13)?, num(14..16)?);
    let mut i = 16;
    let mut second = 0;
    if b.get(i) == Some(&b':') {
        second = num(17..19)?;
        i = 19;
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    ms += ((hour * 60 + minute) * 60 + second) * 1000;
    if b.get(i) == Some(&b'.') {
        let start = i + 1;
        i = start;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        if i == start {
            return None;
        }
        // Milliseconds: the first three digits, right-padded.
        let frac = &b[start..i.min(start + 3)];
        let value = frac.iter().fold(0i64, |n, d| n * 10 + i64::from(d - b'0'));
        ms += value * 10i64.pow(3 - frac.len() as u32);
    }
    match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => Some(ms),
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let offset = (num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?) * 60_000;
            Some(if *sign == b'+' {
                ms - offset
            } else {
                ms + offset
            })
        }
        _ => None,
    }
}

/// `2016-11-17T00:37:22.318Z`.
pub fn format(ms: Millis) -> String {
    let days = ms.div_euclid(86_400_000);
    let rem = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3_600_000,
        rem / 60_000 % 60,
        rem / 1000 % 60,
        rem % 1000
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 (Howard Hinnant's algorithm).
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
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ironclad_forms_parse_to_the_same_instant() {
        let z = parse("2016-11-17T00:37:22.318Z").unwrap();
        assert_eq!(format(z), "2016-11-17T00:37:22.318Z");
        assert_eq!(parse("2016-11-17T01:37:22.318+01:00"), Some(z));
        assert_eq!(parse("2016-11-16T23:37:22.3180-01:00"), Some(z));
        assert_eq!(
            parse("2016-11-17T00:37:22.318+0100"),
            None,
            "offsets need a colon"
        );
        assert_eq!(
            parse("2018-05-08T17:28:10Z").map(format).unwrap(),
            "2018-05-08T17:28:10.000Z"
        );
        assert_eq!(parse("2018-05-08T17:28:10.5Z").unwrap() % 1000, 500);
        assert_eq!(parse("2018-05-08T17:28:10.123456Z").unwrap() % 1000, 123);
        assert_eq!(parse("1970-01-01"), Some(0));
        assert_eq!(
            parse("2024-02-29T00:00:00Z").map(format).unwrap(),
            "2024-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn garbage_is_refused() {
        for bad in [
            "",
            "yesterday",
            "2023-02-29",
            "2024-13-01",
            "2024-01-01T25:00:00Z",
            "2024-01-01T10:00:00",
            "2024-01-01T10:00:00.Z",
            "2024-01-01T10:00:00Zjunk",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn round_trips_across_eras() {
        for ms in [
            0,
            1,
            -1,
            951_782_400_000,
            4_102_444_800_123,
            -62_135_596_800_000,
        ] {
            assert_eq!(parse(&format(ms)), Some(ms), "{ms}");
        }
    }
}
