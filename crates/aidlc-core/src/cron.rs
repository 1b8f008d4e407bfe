//! Five-field cron schedules (`minute hour day-of-month month day-of-week`, UTC), as the
//! retraining policy writes them: numbers, `*`, `*/step`, ranges `a-b`, ranges with a step
//! `a-b/step` and lists `a,b`. Pure: callers pass the time in.

use serde::{Deserialize, Serialize};

/// A parsed schedule: for each field, which values match.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cron {
    pub text: String,
    minutes: Vec<bool>,
    hours: Vec<bool>,
    days: Vec<bool>,
    months: Vec<bool>,
    weekdays: Vec<bool>,
    /// Cron's rule: when both day fields are restricted, a day matches if either does.
    days_restricted: bool,
    weekdays_restricted: bool,
}

const FIELDS: [(&str, u32, u32); 5] = [
    ("minute", 0, 59),
    ("hour", 0, 23),
    ("day of month", 1, 31),
    ("month", 1, 12),
    ("day of week", 0, 7),
];

impl Cron {
    pub fn parse(text: &str) -> Result<Cron, String> {
        let parts: Vec<&str> = text.split_whitespace().collect();
        if parts.len() != 5 {
            return Err(format!(
                "a schedule has 5 fields (minute hour day-of-month month day-of-week), found {}",
                parts.len()
            ));
        }
        let mut sets = Vec::with_capacity(5);
        for (part, (name, lo, hi)) in parts.iter().zip(FIELDS) {
            sets.push(field(part, name, lo, hi)?);
        }
        let mut weekdays = sets.pop().unwrap_or_default();
        // 7 is Sunday too.
        if weekdays[7] {
            weekdays[0] = true;
        }
        let months = sets.pop().unwrap_or_default();
        let days = sets.pop().unwrap_or_default();
        let hours = sets.pop().unwrap_or_default();
        let minutes = sets.pop().unwrap_or_default();
        Ok(Cron {
            text: text.trim().to_string(),
            minutes,
            hours,
            days,
            months,
            weekdays,
            days_restricted: parts[2] != "*",
            weekdays_restricted: parts[4] != "*",
        })
    }

    /// Whether the minute that contains `ms` (milliseconds since the epoch, UTC) matches.
    pub fn matches(&self, ms: i64) -> bool {
        let minute_of_epoch = ms.div_euclid(60_000);
        let day = minute_of_epoch.div_euclid(1440);
        let minute_of_day = minute_of_epoch.rem_euclid(1440);
        let (_, month, dom) = civil_from_days(day);
        // 1970-01-01 was a Thursday (4).
        let weekday = (day + 4).rem_euclid(7) as usize;
        let day_ok = match (self.days_restricted, self.weekdays_restricted) {
            (true, true) => self.days[dom as usize] || self.weekdays[weekday],
            (true, false) => self.days[dom as usize],
            (false, true) => self.weekdays[weekday],
            (false, false) => true,
        };
        self.minutes[(minute_of_day % 60) as usize]
            && self.hours[(minute_of_day / 60) as usize]
            && self.months[month as usize]
            && day_ok
    }

    /// The first matching minute strictly after `ms`, within about four years.
    pub fn next_after(&self, ms: i64) -> Option<i64> {
        let first = ms.div_euclid(60_000) + 1;
        (first..first + 4 * 366 * 1440)
            .map(|minute| minute * 60_000)
            .find(|&at| self.matches(at))
    }
}

fn field(text: &str, name: &str, lo: u32, hi: u32) -> Result<Vec<bool>, String> {
    let mut set = vec![false; hi as usize + 1];
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>().ok().filter(|s| *s > 0).ok_or_else(|| {
                    format!("{name}: `{s}` is not a step (a whole number above 0)")
                })?,
            ),
            None => (item, 1),
        };
        let number = |t: &str| -> Result<u32, String> {
            let v: u32 = t
                .parse()
                .map_err(|_| format!("{name}: `{t}` is not a number"))?;
            if v < lo || v > hi {
                return Err(format!("{name}: {v} is outside {lo}-{hi}"));
            }
            Ok(v)
        };
        let (start, end) = match range {
            "*" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (number(a)?, number(b)?),
                None if step > 1 => (number(r)?, hi),
                None => {
                    let v = number(r)?;
                    (v, v)
                }
            },
        };
        if start > end {
            return Err(format!("{name}: the range {start}-{end} is empty"));
        }
        let mut v = start;
        while v <= end {
            set[v as usize] = true;
            v += step;
        }
    }
    Ok(set)
}

/// (year, month 1–12, day 1–31) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2025-12-07 03:00 UTC, a Sunday.
    const SUNDAY_3AM: i64 = 1_765_076_400_000;

    #[test]
    fn civil_dates_are_right() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(SUNDAY_3AM / 86_400_000), (2025, 12, 7));
    }

    #[test]
    fn schedules_match_their_minutes() {
        let weekly = Cron::parse("0 3 * * 1").unwrap();
        // The next Monday 03:00 is a day later.
        assert!(!weekly.matches(SUNDAY_3AM));
        let next = weekly.next_after(SUNDAY_3AM).unwrap();
        assert_eq!(next, SUNDAY_3AM + 86_400_000);
        assert!(weekly.matches(next + 59_999));
        let every_15 = Cron::parse("*/15 * * * *").unwrap();
        assert_eq!(every_15.next_after(0), Some(15 * 60_000));
        let sunday_as_7 = Cron::parse("0 0 * * 7").unwrap();
        assert!(sunday_as_7.matches(SUNDAY_3AM - 3 * 3_600_000));
    }

    #[test]
    fn bad_schedules_say_why() {
        assert!(Cron::parse("0 3 * *").unwrap_err().contains("5 fields"));
        assert!(
            Cron::parse("61 * * * *")
                .unwrap_err()
                .contains("outside 0-59")
        );
        assert!(Cron::parse("*/0 * * * *").unwrap_err().contains("step"));
        assert!(Cron::parse("5-1 * * * *").unwrap_err().contains("empty"));
    }
}
