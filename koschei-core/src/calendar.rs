//! Dates and times in UTC as users type and read them (`2025-06-01`, `2025-06-01 12:30`).
//!
//! This module is pure: it converts between [`SystemTime`] and text, with the proleptic
//! Gregorian calendar (Howard Hinnant's `days_from_civil` and `civil_from_days`).

use std::time::{Duration, SystemTime};

/// A date or time that is not one of the forms [`parse_utc`] reads.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid date `{input}`: {reason} (expected `YYYY-MM-DD`, `YYYY-MM-DD HH:MM` or `YYYY-MM-DDTHH:MM:SS`, in UTC, optionally followed by `Z`)"
)]
pub struct ParseError {
    /// The text given.
    pub input: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

/// Days from 1970-01-01 to `year-month-day`.
fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `(year, month, day)` of the day `days` after 1970-01-01.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    // month is 1..=12 and day 1..=31 by construction.
    (
        year,
        u32::try_from(month).unwrap_or(1),
        u32::try_from(day).unwrap_or(1),
    )
}

fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Seconds since the epoch (negative before it).
fn unix_seconds(t: SystemTime) -> i64 {
    match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).unwrap_or(i64::MAX),
        Err(e) => -i64::try_from(e.duration().as_secs()).unwrap_or(i64::MAX),
    }
}

/// `2025-06-01 12:30 UTC` (seconds are left out; a time before the epoch shows as such a
/// date too).
pub fn format_utc(t: SystemTime) -> String {
    let secs = unix_seconds(t);
    let (y, mo, d) = civil_from_days(secs.div_euclid(86_400));
    let sod = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{mo:02}-{d:02} {:02}:{:02} UTC",
        sod / 3600,
        sod % 3600 / 60
    )
}

fn number(s: &str, digits: usize, input: &str, reason: &'static str) -> Result<u32, ParseError> {
    if s.len() != digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ParseError {
            input: input.to_owned(),
            reason,
        });
    }
    s.parse().map_err(|_| ParseError {
        input: input.to_owned(),
        reason,
    })
}

/// Reads a time in UTC: `YYYY-MM-DD` (midnight), `YYYY-MM-DD HH:MM`, `YYYY-MM-DDTHH:MM`,
/// either with `:SS`, optionally followed by `Z`.
pub fn parse_utc(input: &str) -> Result<SystemTime, ParseError> {
    let bad = |reason| ParseError {
        input: input.to_owned(),
        reason,
    };
    let s = input.trim();
    let s = s.strip_suffix('Z').unwrap_or(s);
    let (date, time) = match s.split_once(['T', ' ']) {
        Some((d, t)) => (d, Some(t)),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let (Some(y), Some(m), Some(d), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("the date is not year-month-day"));
    };
    let year = i64::from(number(y, 4, input, "the year is not four digits")?);
    let month = number(m, 2, input, "the month is not two digits")?;
    let day = number(d, 2, input, "the day is not two digits")?;
    if !(1..=12).contains(&month) {
        return Err(bad("there is no such month"));
    }
    if day == 0 || day > days_in_month(year, month) {
        return Err(bad("there is no such day in that month"));
    }
    let (hour, minute, second) = match time {
        None => (0, 0, 0),
        Some(t) => {
            let fields: Vec<&str> = t.split(':').collect();
            let (h, mi, sec) = match fields.as_slice() {
                [h, mi] => (*h, *mi, None),
                [h, mi, sec] => (*h, *mi, Some(*sec)),
                _ => return Err(bad("the time is not hours:minutes[:seconds]")),
            };
            let hour = number(h, 2, input, "the hour is not two digits")?;
            let minute = number(mi, 2, input, "the minutes are not two digits")?;
            let second = match sec {
                Some(sec) => number(sec, 2, input, "the seconds are not two digits")?,
                None => 0,
            };
            if hour > 23 || minute > 59 || second > 59 {
                return Err(bad("the time of day is out of range"));
            }
            (hour, minute, second)
        }
    };
    let secs = days_from_civil(year, month, day) * 86_400
        + i64::from(hour) * 3600
        + i64::from(minute) * 60
        + i64::from(second);
    let Ok(secs) = u64::try_from(secs) else {
        return Err(bad("it is before 1970"));
    };
    Ok(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// A time's UTC civil fields (proleptic Gregorian; times before 1970 included).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Civil {
    /// Year.
    pub year: i64,
    /// Month, 1 to 12.
    pub month: u32,
    /// Day of the month, 1 to 31.
    pub day: u32,
    /// Hour, 0 to 23.
    pub hour: u32,
    /// Minute, 0 to 59.
    pub minute: u32,
    /// Second, 0 to 59.
    pub second: u32,
    /// Microseconds of the second (truncated).
    pub micros: u32,
}

/// Splits `t` into UTC civil fields: the one calendar conversion the crates share (the web's
/// times, Koji's `createdAfter` option, the CLI's dates).
pub fn civil(t: SystemTime) -> Civil {
    let (secs, micros) = match t.duration_since(SystemTime::UNIX_EPOCH) {
        Ok(d) => (
            i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2),
            d.subsec_micros(),
        ),
        Err(e) => {
            let d = e.duration();
            let s = i64::try_from(d.as_secs()).unwrap_or(i64::MAX / 2);
            if d.subsec_micros() == 0 {
                (-s, 0)
            } else {
                (-s - 1, 1_000_000 - d.subsec_micros())
            }
        }
    };
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    let to_u32 = |v: i64| u32::try_from(v).unwrap_or(0);
    Civil {
        year,
        month,
        day,
        hour: to_u32(rem / 3600),
        minute: to_u32(rem % 3600 / 60),
        second: to_u32(rem % 60),
        micros,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64) -> SystemTime {
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
    }

    #[test]
    fn reads_dates_and_times_in_utc() {
        // 2017-10-10 10:00 UTC, the original's model test clock.
        let cases = [
            ("2017-10-10", 1_507_593_600),
            ("2017-10-10 10:00", 1_507_629_600),
            ("2017-10-10T10:00:00Z", 1_507_629_600),
            ("2017-10-10T10:00:59", 1_507_629_659),
            ("  2000-02-29  ", 951_782_400),
            ("1970-01-01", 0),
            ("2026-12-31 23:59", 1_798_761_540),
        ];
        for (text, secs) in cases {
            assert_eq!(parse_utc(text), Ok(at(secs)), "{text}");
        }
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        let cases = [
            ("", "the date is not year-month-day"),
            ("tomorrow", "the date is not year-month-day"),
            ("2025-6-01", "the month is not two digits"),
            ("2025-13-01", "there is no such month"),
            ("2025-02-29", "there is no such day in that month"),
            ("2025-04-31", "there is no such day in that month"),
            ("2025-06-01 24:00", "the time of day is out of range"),
            ("2025-06-01 12", "the time is not hours:minutes[:seconds]"),
            ("2025-06-01T1:00", "the hour is not two digits"),
            ("2025-06-01-02", "the date is not year-month-day"),
            ("+202-06-01", "the year is not four digits"),
        ];
        for (text, reason) in cases {
            let e = parse_utc(text).unwrap_err();
            assert_eq!(e.reason, reason, "{text}");
            assert!(e.to_string().contains(&format!("`{text}`")), "{e}");
        }
    }

    #[test]
    fn formats_minutes_in_utc_and_round_trips() {
        assert_eq!(format_utc(at(1_507_629_659)), "2017-10-10 10:00 UTC");
        assert_eq!(format_utc(at(951_782_400)), "2000-02-29 00:00 UTC");
        assert_eq!(format_utc(SystemTime::UNIX_EPOCH), "1970-01-01 00:00 UTC");
        for secs in [0, 59 * 60, 951_868_800, 1_798_761_540, 4_102_444_800] {
            let text = format_utc(at(secs));
            let back = parse_utc(text.trim_end_matches(" UTC")).unwrap();
            assert_eq!(back, at(secs), "{text}");
        }
    }
}
