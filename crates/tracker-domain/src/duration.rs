//! Tracker's durations: ISO 8601 periods (`PT1H30M`, `P1W`, `P2DT4H`) counted
//! in business time. The reference: "time spent is measured in business
//! weeks (5 days) and business days (8 hours)": `P5D` is answered as `P1W`.
//!
//! A duration is kept as whole seconds. Months and years, which the
//! reference's `PnYnMnDTnHnMnS` form allows but never defines, count as 4 and
//! 52 business weeks (docs/COMPATIBILITY.md records the choice).

use std::fmt;

/// Seconds in a business day (8 hours).
pub const DAY: i64 = 8 * 3600;
/// Seconds in a business week (5 business days).
pub const WEEK: i64 = 5 * DAY;
const MONTH: i64 = 4 * WEEK;
const YEAR: i64 = 52 * WEEK;

/// The longest duration accepted: 100 business years, far beyond any
/// record of work, and far from overflowing a sum of many records.
pub const MAX_SECONDS: i64 = 100 * YEAR;

/// A non-negative span of business time, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Duration(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("a duration is an ISO 8601 period such as PT1H30M, P1W or P2DT4H")]
    Malformed,
    #[error("a duration must not be longer than 100 years")]
    TooLong,
}

impl Duration {
    pub fn from_seconds(seconds: i64) -> Result<Self, DurationError> {
        if (0..=MAX_SECONDS).contains(&seconds) {
            Ok(Self(seconds))
        } else {
            Err(DurationError::TooLong)
        }
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    /// Parses `PnYnMnWnDTnHnMnS` (each part optional, at least one present;
    /// the last part may have a fraction, as ISO 8601 allows: `PT1.5H`).
    pub fn parse(text: &str) -> Result<Self, DurationError> {
        let rest = text
            .strip_prefix('P')
            .or_else(|| text.strip_prefix('p'))
            .ok_or(DurationError::Malformed)?;
        let mut total: f64 = 0.0;
        let mut in_time = false;
        let mut parts = 0;
        let mut number = String::new();
        let mut saw_fraction = false;
        // Units must come in order: each index must be greater than the last.
        let mut last_unit = 0;
        for c in rest.chars() {
            match c {
                '0'..='9' => number.push(c),
                '.' | ',' if !number.is_empty() && !number.contains('.') => number.push('.'),
                'T' | 't' if !in_time && number.is_empty() => in_time = true,
                _ => {
                    let (order, unit) = match (in_time, c.to_ascii_uppercase()) {
                        (false, 'Y') => (1, YEAR),
                        (false, 'M') => (2, MONTH),
                        (false, 'W') => (3, WEEK),
                        (false, 'D') => (4, DAY),
                        (true, 'H') => (5, 3600),
                        (true, 'M') => (6, 60),
                        (true, 'S') => (7, 1),
                        _ => return Err(DurationError::Malformed),
                    };
                    if number.is_empty() || order <= last_unit || saw_fraction {
                        return Err(DurationError::Malformed);
                    }
                    // Nineteen digits overflow nothing an f64 cannot hold
                    // roughly, and anything that long is over the limit.
                    if number.len() > 19 {
                        return Err(DurationError::TooLong);
                    }
                    let value: f64 = number.parse().map_err(|_| DurationError::Malformed)?;
                    saw_fraction = number.contains('.');
                    total += value * unit as f64;
                    if total > MAX_SECONDS as f64 {
                        return Err(DurationError::TooLong);
                    }
                    last_unit = order;
                    parts += 1;
                    number.clear();
                }
            }
        }
        // A trailing number without a unit, a `T` with nothing after it, or
        // no part at all (`P`).
        if !number.is_empty() || parts == 0 || (in_time && last_unit < 5) {
            return Err(DurationError::Malformed);
        }
        Self::from_seconds(total.round() as i64)
    }

    /// Adds two durations, saturating at the limit.
    pub fn saturating_add(self, other: Duration) -> Duration {
        Duration((self.0 + other.0).min(MAX_SECONDS))
    }

    pub fn saturating_sub(self, other: Duration) -> Duration {
        Duration((self.0 - other.0).max(0))
    }
}

/// Tracker's normal form: business weeks, days, then hours, minutes and
/// seconds; `PT0S` for nothing. `P5DT20M` prints as `P1WT20M`.
impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("PT0S");
        }
        let mut s = self.0;
        let weeks = s / WEEK;
        s %= WEEK;
        let days = s / DAY;
        s %= DAY;
        let (hours, minutes, seconds) = (s / 3600, s % 3600 / 60, s % 60);
        f.write_str("P")?;
        if weeks > 0 {
            write!(f, "{weeks}W")?;
        }
        if days > 0 {
            write!(f, "{days}D")?;
        }
        if hours + minutes + seconds > 0 {
            f.write_str("T")?;
            if hours > 0 {
                write!(f, "{hours}H")?;
            }
            if minutes > 0 {
                write!(f, "{minutes}M")?;
            }
            if seconds > 0 {
                write!(f, "{seconds}S")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(s: &str) -> String {
        Duration::parse(s)
            .map(|d| d.to_string())
            .unwrap_or_else(|e| format!("error: {e}"))
    }

    #[test]
    fn five_business_days_are_one_week_as_the_reference_says() {
        assert_eq!(norm("P5D"), "P1W");
        assert_eq!(norm("P5DT20M"), "P1WT20M");
        assert_eq!(norm("P6W"), "P6W");
        assert_eq!(norm("PT300M"), "PT5H");
        assert_eq!(norm("PT8H"), "P1D");
        assert_eq!(norm("PT9H"), "P1DT1H");
        assert_eq!(norm("P0Y0M30DT2H10M25S"), "P6WT2H10M25S");
        assert_eq!(norm("PT1H30M"), "PT1H30M");
        assert_eq!(norm("PT1.5H"), "PT1H30M");
        assert_eq!(norm("P1M"), "P4W");
        assert_eq!(norm("PT0S"), "PT0S");
    }

    #[test]
    fn malformed_periods_are_refused() {
        for bad in [
            "",
            "P",
            "PT",
            "1H",
            "PH",
            "P1H",
            "PT1D",
            "P1DT",
            "PT1M1H",
            "P1W1W",
            "PT1.5H30M",
            "P-1D",
            "PT1 H",
            "PT1HX",
            "P1.2.3D",
        ] {
            assert_eq!(
                Duration::parse(bad),
                Err(DurationError::Malformed),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn huge_periods_are_refused_without_overflow() {
        assert_eq!(Duration::parse("P101Y"), Err(DurationError::TooLong));
        assert_eq!(
            Duration::parse("PT99999999999999999999999S"),
            Err(DurationError::TooLong)
        );
        assert!(Duration::parse("P100Y").is_ok());
    }
}
