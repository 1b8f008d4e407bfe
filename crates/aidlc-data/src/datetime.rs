//! Dates and timestamps in text: ISO 8601-like values read as milliseconds since the Unix epoch
//! (UTC), and written back in ISO form.
//!
//! Accepted: `YYYY-MM-DD` (or with `/`), optionally followed by `T` or a blank, `HH:MM`,
//! optional `:SS` and fraction, and an optional `Z` or `±HH:MM` / `±HHMM` offset. A value
//! without an offset is taken as UTC, so that the same file always gives the same instants.

/// Reads a date or timestamp; `None` when the text is not one.
pub fn parse_datetime_ms(text: &str) -> Option<i64> {
    let s = text.trim_ascii().as_bytes();
    if s.len() < 10 {
        return None;
    }
    let year = digits(&s[0..4])?;
    let sep = s[4];
    if (sep != b'-' && sep != b'/') || s[7] != sep {
        return None;
    }
    let month = digits(&s[5..7])?;
    let day = digits(&s[8..10])?;
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * 86_400_000;
    let mut rest = &s[10..];
    if rest.is_empty() {
        return Some(ms);
    }
    if rest[0] != b'T' && rest[0] != b' ' {
        return None;
    }
    rest = &rest[1..];
    if rest.len() < 5 || rest[2] != b':' {
        return None;
    }
    let hour = digits(&rest[0..2])?;
    let minute = digits(&rest[3..5])?;
    if hour > 23 || minute > 59 {
        return None;
    }
    ms += (hour * 3600 + minute * 60) * 1000;
    rest = &rest[5..];
    if rest.len() >= 3 && rest[0] == b':' {
        let second = digits(&rest[1..3])?;
        if second > 60 {
            return None;
        }
        ms += second * 1000;
        rest = &rest[3..];
        if !rest.is_empty() && (rest[0] == b'.' || rest[0] == b',') {
            let n = rest[1..].iter().take_while(|b| b.is_ascii_digit()).count();
            if n == 0 {
                return None;
            }
            let frac = &rest[1..1 + n];
            let mut millis = 0i64;
            for (i, &b) in frac.iter().take(3).enumerate() {
                millis += (b - b'0') as i64 * 10i64.pow(2 - i as u32);
            }
            ms += millis;
            rest = &rest[1 + n..];
        }
    }
    match rest {
        [] | [b'Z'] | [b'z'] => Some(ms),
        [sign @ (b'+' | b'-'), tail @ ..] => {
            let (h, m) = match tail {
                [a, b, b':', c, d] | [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                [a, b] => (digits(&[*a, *b])?, 0),
                _ => return None,
            };
            let offset = (h * 3600 + m * 60) * 1000;
            Some(if *sign == b'+' {
                ms - offset
            } else {
                ms + offset
            })
        }
        _ => None,
    }
}

/// Writes an instant as `YYYY-MM-DDTHH:MM:SS.sssZ`.
pub fn format_datetime_ms(ms: i64) -> String {
    let days = ms.div_euclid(86_400_000);
    let in_day = ms.rem_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    let (hour, minute, second, millis) = (
        in_day / 3_600_000,
        in_day / 60_000 % 60,
        in_day / 1000 % 60,
        in_day % 1000,
    );
    format!("{y:04}-{m:02}-{d:02}T{hour:02}:{minute:02}:{second:02}.{millis:03}Z")
}

fn digits(bytes: &[u8]) -> Option<i64> {
    let mut value = 0i64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + (b - b'0') as i64;
    }
    Some(value)
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_timestamps_round_trip() {
        assert_eq!(parse_datetime_ms("1970-01-01"), Some(0));
        assert_eq!(parse_datetime_ms("1970-01-02"), Some(86_400_000));
        let t = parse_datetime_ms("2018-01-01 00:08:43.152").unwrap();
        assert_eq!(format_datetime_ms(t), "2018-01-01T00:08:43.152Z");
        assert_eq!(
            parse_datetime_ms("2018-01-01T02:00:00+02:00"),
            parse_datetime_ms("2018-01-01T00:00:00Z")
        );
        assert_eq!(format_datetime_ms(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(
            format_datetime_ms(parse_datetime_ms("2024/02/29").unwrap()),
            "2024-02-29T00:00:00.000Z"
        );
    }

    #[test]
    fn non_dates_are_rejected() {
        for text in [
            "",
            "1997",
            "2023-02-29",
            "2023-13-01",
            "hello world",
            "2023-01-01X",
            "12.5",
        ] {
            assert_eq!(parse_datetime_ms(text), None, "{text}");
        }
    }
}
