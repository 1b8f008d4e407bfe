//! Instants read from data columns: ISO-8601 dates and date-times as UTC milliseconds, so splits
//! and point-in-time joins compare times without a calendar library.
//!
//! A value without a time-zone offset is taken to be UTC, as Feast does (a naive timestamp is
//! UTC). Numeric columns are taken as already being instants in milliseconds (or any ordinal time
//! the caller uses consistently); their values are rounded down to whole numbers.

use crate::column::Column;

const MS_PER_DAY: i64 = 86_400_000;

/// Days from 1970-01-01 to the given proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Reads `n` ASCII digits at the start of `s` as a number.
fn digits(s: &[u8], n: usize) -> Option<i64> {
    if s.len() < n || !s[..n].iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(
        s[..n]
            .iter()
            .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')),
    )
}

/// Parses `YYYY-MM-DD`, optionally followed by `T` or a space and `HH:MM[:SS[.fraction]]`, and
/// an optional `Z` or `±HH:MM` offset. Returns milliseconds since the Unix epoch (UTC).
pub fn parse_instant_ms(text: &str) -> Option<i64> {
    let s = text.trim().as_bytes();
    let year = digits(s, 4)?;
    if s.get(4) != Some(&b'-') || s.get(7) != Some(&b'-') {
        return None;
    }
    let month = digits(&s[5..], 2)?;
    let day = digits(&s[8..], 2)?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * MS_PER_DAY;
    let mut rest = &s[10..];
    if rest.is_empty() {
        return Some(ms);
    }
    if rest[0] != b'T' && rest[0] != b' ' {
        return None;
    }
    rest = &rest[1..];
    let hour = digits(rest, 2)?;
    if rest.get(2) != Some(&b':') {
        return None;
    }
    let minute = digits(&rest[3..], 2)?;
    rest = &rest[5..];
    let mut second = 0;
    let mut millis = 0;
    if rest.first() == Some(&b':') {
        second = digits(&rest[1..], 2)?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            // Only milliseconds are kept; finer digits are truncated.
            let kept = n.min(3);
            millis = digits(&rest[1..], kept)? * 10i64.pow(3 - kept as u32);
            rest = &rest[1 + n..];
        }
    }
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    ms += ((hour * 60 + minute) * 60 + second) * 1000 + millis;
    match rest {
        [] | [b'Z'] | [b'z'] => Some(ms),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let oh = digits(tail, 2)?;
            let om = match tail.get(2) {
                Some(b':') => digits(&tail[3..], 2).filter(|_| tail.len() == 5)?,
                None => 0,
                Some(_) => digits(&tail[2..], 2).filter(|_| tail.len() == 4)?,
            };
            let offset = (oh * 60 + om) * 60_000;
            Some(if *sign == b'+' {
                ms - offset
            } else {
                ms + offset
            })
        }
        _ => None,
    }
}

/// Formats milliseconds since the epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`, for reports.
pub fn format_instant_ms(ms: i64) -> String {
    let days = ms.div_euclid(MS_PER_DAY);
    let in_day = ms.rem_euclid(MS_PER_DAY);
    // Inverse of `days_from_civil`.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s, milli) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}.{milli:03}Z")
}

/// The instants of a column: text parsed with [`parse_instant_ms`], numbers taken as
/// milliseconds. A missing value is `None`; a text value that is not an instant is an error
/// naming the row (from 0) and the value.
pub fn instants(column: &Column) -> Result<Vec<Option<i64>>, (usize, String)> {
    match column {
        Column::Numeric(values) => Ok(values
            .iter()
            .map(|v| v.is_finite().then(|| v.floor() as i64))
            .collect()),
        Column::Categorical(values) => values
            .iter()
            .enumerate()
            .map(|(row, v)| match v {
                None => Ok(None),
                Some(text) => parse_instant_ms(text)
                    .map(Some)
                    .ok_or_else(|| (row, text.clone())),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_date_times_are_utc_milliseconds() {
        assert_eq!(parse_instant_ms("1970-01-01"), Some(0));
        assert_eq!(parse_instant_ms("1970-01-02"), Some(MS_PER_DAY));
        assert_eq!(parse_instant_ms("1997-01-01"), Some(852_076_800_000));
        assert_eq!(
            parse_instant_ms("1997-01-01T01:00:00Z"),
            Some(852_076_800_000 + 3_600_000)
        );
        assert_eq!(
            parse_instant_ms("1997-01-01 02:00:00+01:00"),
            Some(852_076_800_000 + 3_600_000)
        );
        assert_eq!(
            parse_instant_ms("2000-02-29T00:00:00.250"),
            Some(951_782_400_250)
        );
        assert_eq!(parse_instant_ms("1999-02-29"), None);
        assert_eq!(parse_instant_ms("19970101"), None);
        assert_eq!(parse_instant_ms("1997-01-01x"), None);
    }

    #[test]
    fn formatting_inverts_parsing() {
        for text in [
            "1969-12-31T23:59:59.999Z",
            "2024-02-29T12:34:56.789Z",
            "1997-01-01T00:00:00.000Z",
        ] {
            assert_eq!(format_instant_ms(parse_instant_ms(text).unwrap()), text);
        }
    }
}
