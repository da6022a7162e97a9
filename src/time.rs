//! UTC timestamps as Ironclad writes them (`2016-11-17T00:37:22.318Z`, offsets accepted), as
//! milliseconds since the Unix epoch. Cursors compare instants, never strings, because
//! Ironclad mixes `…Z` and `….000Z` forms and offsets.
//!
//! The grammar is ours: Ironclad's forms, and nothing a cursor would not read back. The
//! calendar is jiff's, through `jiff-core`, the crate of primitives jiff itself is built on
//! (the emulator uses jiff proper). jiff's own API reaches days-to-date only through its
//! span arithmetic, which costs the component 130–145 KB, or through its `Timestamp`,
//! whose range stops a day short of 9999-12-31; `jiff-core` does it in about 1 KB
//! over the whole calendar.

use jiff_core::civil::{Date, UnixEpochDay};

const DAY_MS: Millis = 86_400_000;

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
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return None;
    }
    // Two digits fit an i8, four an i16; a month or day the calendar lacks is an error.
    let date = Date::new(num(0..4)? as i16, num(5..7)? as i8, num(8..10)? as i8).ok()?;
    let mut ms = Millis::from(date.to_unix_epoch_day().day()) * DAY_MS;
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
    let ms = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => ms,
        Some(sign @ (b'+' | b'-')) if b.len() == i + 6 && b[i + 3] == b':' => {
            let offset = (num(i + 1..i + 3)? * 60 + num(i + 4..i + 6)?) * 60_000;
            if *sign == b'+' {
                ms - offset
            } else {
                ms + offset
            }
        }
        _ => return None,
    };
    // An offset can carry 9999-12-31 past the last year [`format`] can write; such an instant
    // would not read back, so it is refused here rather than in a cursor later.
    utc_date(ms).map(|_| ms)
}

/// `2016-11-17T00:37:22.318Z`. Every instant [`parse`] or [`now`] gives is within the
/// calendar's years (±9999); one beyond is written as the calendar's first or last day.
pub fn format(ms: Millis) -> String {
    let date = utc_date(ms).unwrap_or(if ms < 0 { Date::MIN } else { Date::MAX });
    let clock = ms.rem_euclid(DAY_MS);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        date.year(),
        date.month(),
        date.day(),
        clock / 3_600_000,
        clock / 60_000 % 60,
        clock / 1000 % 60,
        clock % 1000
    )
}

/// The UTC date of the instant `ms`; None beyond the calendar's years.
fn utc_date(ms: Millis) -> Option<Date> {
    let day = i32::try_from(ms.div_euclid(DAY_MS)).ok()?;
    Some(UnixEpochDay::new(day).ok()?.to_date())
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

    #[test]
    fn the_calendars_last_instant_reads_back_and_nothing_past_it_is_read() {
        let last = "9999-12-31T23:59:59.999Z";
        assert_eq!(parse(last).map(format).as_deref(), Some(last));
        assert_eq!(
            parse("9999-12-31T23:00:00-05:00"),
            None,
            "year 10000 in UTC"
        );
    }
}
