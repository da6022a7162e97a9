//! ISO-8601 timestamps: Ironclad serialises instants as `2016-11-17T00:37:22.318Z` (UTC,
//! milliseconds) and accepts several date formats on input. The grammar of those inputs is
//! here; the calendar is jiff's, without a time-zone database (every instant is UTC), except
//! that parsing counts days by arithmetic (`epoch_day`).

use jiff::civil::{self, Date, DateTime};
use jiff::{SignedDuration, Span};

pub const DAY_MS: i64 = 86_400_000;

/// The Unix epoch, as a civil date and time in UTC.
const EPOCH: DateTime = civil::datetime(1970, 1, 1, 0, 0, 0, 0);

/// Milliseconds since the Unix epoch, from the system clock.
pub fn system_now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`.
pub fn format_ms(ms: i64) -> String {
    utc(ms).strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The UTC date and time of the instant `ms`. The emulator's instants come from its clock
/// and from [`parse`], which refuses any past the calendar's years (±9999); one beyond is
/// taken as the calendar's first or last instant.
pub fn utc(ms: i64) -> DateTime {
    within_calendar(ms).unwrap_or(if ms < 0 { DateTime::MIN } else { DateTime::MAX })
}

/// The instant of a UTC date and time.
pub fn instant(at: DateTime) -> i64 {
    at.duration_since(EPOCH).as_millis() as i64
}

fn within_calendar(ms: i64) -> Option<DateTime> {
    EPOCH.checked_add(SignedDuration::from_millis(ms)).ok()
}

/// Parse `YYYY-MM-DD`, or that followed by `T` (or a space) and `HH:MM[:SS[.fff]]` with an
/// optional `Z` / `±HH:MM` / `±HHMM` offset (none means UTC). Returns epoch milliseconds.
pub fn parse(text: &str) -> Option<i64> {
    let s = text.trim();
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    // The dashes put bytes 4, 5, 7 and 8 on character boundaries; byte 10 may not be.
    let date_ms = date_ms(digits(&s[0..4])?, digits(&s[5..7])?, digits(s.get(8..10)?)?)?;
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
    let ms = date_ms + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis - offset_ms;
    // An offset can carry 9999-12-31 past the calendar's last year, where [`format_ms`]
    // could not write it back.
    (first_ms()..=last_ms()).contains(&ms).then_some(ms)
}

/// The calendar's first instant (-9999-01-01T00:00:00.000Z) in epoch milliseconds.
fn first_ms() -> i64 {
    epoch_day(-9999, 1, 1) * DAY_MS
}

/// The calendar's last whole millisecond (9999-12-31T23:59:59.999Z).
fn last_ms() -> i64 {
    epoch_day(9999, 12, 31) * DAY_MS + DAY_MS - 1
}

/// Days from 1970-01-01 to a valid civil date (proleptic Gregorian), by arithmetic: a listing
/// parses a date per record per page, and jiff's span arithmetic made that most of the
/// emulator's time in a 10,000-record read. (The algorithm is Howard Hinnant's
/// `days_from_civil`; `epoch_days_match_jiff` checks it against jiff.)
fn epoch_day(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month_from_march = (month + 9) % 12;
    let day_of_year = (153 * month_from_march + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Normalise any accepted timestamp to the canonical form.
pub fn normalize(text: &str) -> Option<String> {
    parse(text).map(format_ms)
}

/// Midnight UTC of the given civil date; None for a date the calendar lacks.
pub fn date_ms(year: i64, month: i64, day: i64) -> Option<i64> {
    // jiff decides which dates exist (its constructor only checks); the arithmetic is ours.
    Date::new(
        year.try_into().ok()?,
        month.try_into().ok()?,
        day.try_into().ok()?,
    )
    .ok()?;
    Some(epoch_day(year, month, day) * DAY_MS)
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
            let (h, m): (i64, i64) = (digits(off.get(..2)?)?, digits(off.get(2..)?)?);
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

/// An ISO-8601 duration (`P1Y2M3W4DT5H6M7S`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Duration {
    years: i64,
    months: i64,
    weeks: i64,
    days: i64,
    hours: i64,
    minutes: i64,
    seconds: i64,
}

impl Duration {
    pub fn parse(text: &str) -> Option<Self> {
        let rest = text.strip_prefix('P')?;
        let (date, clock) = match rest.split_once('T') {
            Some((d, c)) if !c.is_empty() => (d, Some(c)),
            Some(_) => return None,
            None => (rest, None),
        };
        let mut d = Duration::default();
        let mut any = false;
        let mut read = |part: &str, units: &[(char, u8)]| -> Option<()> {
            let mut number = String::new();
            let mut last = 0u8;
            for c in part.chars() {
                if c.is_ascii_digit() {
                    number.push(c);
                    continue;
                }
                let &(_, rank) = units.iter().find(|(u, _)| *u == c)?;
                if number.is_empty() || rank <= last {
                    return None;
                }
                let n: i64 = number.parse().ok()?;
                match (c, units.len()) {
                    ('Y', 4) => d.years = n,
                    ('M', 4) => d.months = n,
                    ('W', 4) => d.weeks = n,
                    ('D', 4) => d.days = n,
                    ('H', 3) => d.hours = n,
                    ('M', 3) => d.minutes = n,
                    _ => d.seconds = n,
                }
                any = true;
                last = rank;
                number.clear();
            }
            number.is_empty().then_some(())
        };
        read(date, &[('Y', 1), ('M', 2), ('W', 3), ('D', 4)])?;
        if let Some(clock) = clock {
            read(clock, &[('H', 1), ('M', 2), ('S', 3)])?;
        }
        any.then_some(d)
    }

    /// `ms` plus this duration, calendar-wise (month ends clamp: Jan 31 + P1M = Feb 28/29);
    /// None when the sum is past the calendar's last year (9999).
    pub fn add_to(&self, ms: i64) -> Option<i64> {
        let span = Span::new()
            .try_years(self.years)
            .and_then(|s| s.try_months(self.months))
            .and_then(|s| s.try_weeks(self.weeks))
            .and_then(|s| s.try_days(self.days))
            .and_then(|s| s.try_hours(self.hours))
            .and_then(|s| s.try_minutes(self.minutes))
            .and_then(|s| s.try_seconds(self.seconds))
            .ok()?;
        utc(ms).checked_add(span).ok().map(instant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_days_match_jiff() {
        let mut date = civil::date(1600, 1, 1);
        let last = civil::date(2400, 12, 31);
        while date <= last {
            let (y, m, d) = (date.year().into(), date.month().into(), date.day().into());
            assert_eq!(date_ms(y, m, d), Some(instant(date.into())), "{date}");
            date = date.tomorrow().unwrap();
        }
        for (y, m, d) in [(-9999, 1, 1), (-1, 3, 1), (0, 2, 29), (9999, 12, 31)] {
            let date = civil::date(y, m, d);
            assert_eq!(
                date_ms(y.into(), m.into(), d.into()),
                Some(instant(date.into()))
            );
        }
        assert_eq!(first_ms(), instant(DateTime::MIN));
        assert_eq!(last_ms(), instant(DateTime::MAX));
    }

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
            "9999-12-31T23:00:00-05:00",
            "2018-03-1é",
            "2018-03-10T10:00+1é1",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
