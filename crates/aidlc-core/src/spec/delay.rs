//! The label delay: how long after a prediction its true label becomes known, written as a
//! duration such as `1d`, `90d`, `12h`, `30m` or `1d12h`.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Seconds per unit, largest first, so that printing picks the largest unit that fits.
const UNITS: [(char, u64); 5] = [
    ('w', 7 * 24 * 3600),
    ('d', 24 * 3600),
    ('h', 3600),
    ('m', 60),
    ('s', 1),
];

/// How long a label takes to arrive after the prediction it judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct LabelDelay {
    /// The delay in seconds.
    pub seconds: u64,
}

impl LabelDelay {
    /// Parses one or more `<whole number><unit>` parts, units `w`, `d`, `h`, `m`, `s`
    /// (`m` is minutes). Parts add up: `1d12h` is 36 hours. Spaces between parts are allowed.
    pub fn parse(text: &str) -> Result<LabelDelay, String> {
        let mut rest = text.trim();
        if rest.is_empty() {
            return Err("a duration needs a number and a unit, such as \"1d\"".into());
        }
        let mut seconds: u64 = 0;
        while !rest.is_empty() {
            let digits = rest
                .find(|c: char| !c.is_ascii_digit())
                .unwrap_or(rest.len());
            if digits == 0 {
                return Err(format!(
                    "expected a whole number at `{rest}`; write durations like \"90d\", \"12h\" or \"30m\""
                ));
            }
            let amount: u64 = rest[..digits]
                .parse()
                .map_err(|_| format!("`{}` is too large", &rest[..digits]))?;
            let after = &rest[digits..];
            let Some(unit) = after.chars().next() else {
                return Err(format!(
                    "`{amount}` has no unit; add one of w (weeks), d (days), h (hours), m (minutes), s (seconds)"
                ));
            };
            let Some(&(_, size)) = UNITS.iter().find(|(u, _)| *u == unit) else {
                let hint = if unit == '.' {
                    "; use whole numbers of a smaller unit, such as \"36h\" for 1.5 days"
                } else {
                    ""
                };
                return Err(format!(
                    "unknown unit `{unit}`: expected w, d, h, m or s{hint}"
                ));
            };
            seconds = amount
                .checked_mul(size)
                .and_then(|part| seconds.checked_add(part))
                .ok_or_else(|| "the duration is too large".to_string())?;
            rest = after[unit.len_utf8()..].trim_start();
        }
        Ok(LabelDelay { seconds })
    }
}

impl fmt::Display for LabelDelay {
    /// The shortest form in the largest units, such as `1d12h`; `0s` for no delay.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.seconds == 0 {
            return f.write_str("0s");
        }
        let mut rest = self.seconds;
        for (unit, size) in UNITS {
            if rest >= size {
                write!(f, "{}{unit}", rest / size)?;
                rest %= size;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_documented_forms() {
        for (text, seconds) in [
            ("1d", 86_400),
            ("90d", 90 * 86_400),
            ("12h", 43_200),
            ("30m", 1_800),
            ("45s", 45),
            ("2w", 14 * 86_400),
            ("1d12h", 129_600),
            (" 1d 30m ", 88_200),
            ("0d", 0),
        ] {
            assert_eq!(
                LabelDelay::parse(text),
                Ok(LabelDelay { seconds }),
                "{text}"
            );
        }
    }

    #[test]
    fn rejects_what_it_cannot_read() {
        for (text, fragment) in [
            ("", "needs a number"),
            ("d", "whole number"),
            ("12", "no unit"),
            ("1.5d", "whole numbers of a smaller unit"),
            ("3y", "unknown unit `y`"),
            ("1D", "unknown unit `D`"),
            ("99999999999999999999d", "too large"),
            ("999999999999999w", "too large"),
        ] {
            let err = LabelDelay::parse(text).unwrap_err();
            assert!(err.contains(fragment), "{text}: {err}");
        }
    }

    #[test]
    fn prints_in_the_largest_units() {
        for seconds in [0, 1, 59, 60, 3_600, 86_400, 129_600, 14 * 86_400 + 61] {
            let delay = LabelDelay { seconds };
            assert_eq!(LabelDelay::parse(&delay.to_string()), Ok(delay));
        }
        assert_eq!(LabelDelay { seconds: 129_600 }.to_string(), "1d12h");
    }
}
