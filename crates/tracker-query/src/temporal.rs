//! Reading dates, date-times and durations, and turning temporal operands into intervals.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, NaiveDateTime, TimeDelta, Utc};

use crate::ast::{Duration, Function, FunctionCall, LiteralKind};

/// The reference's date formats, in the order it lists them.
const DATE_FORMATS: [&str; 4] = ["%m/%d/%Y", "%d.%m.%Y", "%d-%m-%Y", "%Y-%m-%d"];
const DATETIME_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
];

fn looks_like_date(s: &str) -> bool {
    (8..=10).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'/' | b'.' | b'-'))
        && s.bytes().any(|b| !b.is_ascii_digit())
}

pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    if !looks_like_date(s) {
        return None;
    }
    first_reading(s, &DATE_FORMATS, NaiveDate::parse_from_str)
}

pub(crate) fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    if !(16..=19).contains(&s.len()) || !s.is_ascii() {
        return None;
    }
    first_reading(s, &DATETIME_FORMATS, NaiveDateTime::parse_from_str)
}

/// `s` read by the first of `formats` that reads it.
fn first_reading<T: Datelike>(
    s: &str,
    formats: &[&str],
    parse: fn(&str, &str) -> chrono::ParseResult<T>,
) -> Option<T> {
    formats
        .iter()
        .find_map(|f| parse(s, f).ok())
        // chrono accepts 1- and 5-digit years; the reference only means 4.
        .filter(|d| (1000..=9999).contains(&d.year()))
}

/// `"XXw XXd XXh XXm XXs"`, components in any order, spaces optional (`12h`, `3d5h`).
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let mut d = Duration::default();
    let mut any = false;
    let mut chars = s.trim().chars().peekable();
    while chars.peek().is_some() {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut n: i64 = 0;
        let mut digits = 0;
        while let Some(c) = chars.peek().and_then(|c| c.to_digit(10)) {
            n = n.checked_mul(10)?.checked_add(i64::from(c))?;
            digits += 1;
            chars.next();
        }
        if digits == 0 || digits > 9 {
            return None;
        }
        let slot = match chars.next()?.to_ascii_lowercase() {
            'w' => &mut d.weeks,
            'd' => &mut d.days,
            'h' => &mut d.hours,
            'm' => &mut d.minutes,
            's' => &mut d.seconds,
            _ => return None,
        };
        *slot += n;
        any = true;
    }
    any.then_some(d)
}

fn parse_number(s: &str) -> Option<f64> {
    let body = s.strip_prefix('-').unwrap_or(s);
    let mut parts = body.splitn(2, '.');
    let int = parts.next()?;
    let frac = parts.next();
    let ok = !int.is_empty()
        && int.len() <= 15
        && int.bytes().all(|b| b.is_ascii_digit())
        && frac.is_none_or(|f| {
            !f.is_empty() && f.len() <= 15 && f.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        s.parse().ok()
    } else {
        None
    }
}

/// Decides how a literal may also be read (the text is always kept too).
pub(crate) fn classify(text: &str, quoted: bool) -> LiteralKind {
    if !quoted && text.len() > 1 {
        if let Some(login) = text.strip_suffix('@') {
            return LiteralKind::Login(login.to_string());
        }
    }
    if let Some(d) = parse_date(text) {
        return LiteralKind::Date(d);
    }
    if let Some(d) = parse_datetime(text) {
        return LiteralKind::DateTime(d);
    }
    if let Some(n) = parse_number(text) {
        return LiteralKind::Number(n);
    }
    if let Some(d) = parse_duration(text) {
        return LiteralKind::Duration(d);
    }
    LiteralKind::Text
}

/// A half-open stretch of time `[start, end)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interval {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

pub(crate) fn day(d: NaiveDate) -> Interval {
    let start = d.and_time(chrono::NaiveTime::MIN).and_utc();
    Interval {
        start,
        // Saturate at the end of chrono's calendar instead of panicking on NaiveDate::MAX.
        end: start
            .checked_add_signed(TimeDelta::days(1))
            .unwrap_or(DateTime::<Utc>::MAX_UTC),
    }
}

fn span_dates(from: NaiveDate, to: NaiveDate) -> Interval {
    Interval {
        start: day(from).start,
        end: day(to).start,
    }
}

pub(crate) fn literal_interval(kind: &LiteralKind) -> Option<Interval> {
    match kind {
        LiteralKind::Date(d) => Some(day(*d)),
        LiteralKind::DateTime(t) => {
            let start = t.and_utc();
            Some(Interval {
                start,
                end: start.checked_add_signed(TimeDelta::seconds(1))?,
            })
        }
        _ => None,
    }
}

/// The interval a temporal function call stands for at `now`; `None` for `me()`/`group()` or if
/// the arithmetic runs off chrono's calendar.
pub(crate) fn function_interval(call: &FunctionCall, now: DateTime<Utc>) -> Option<Interval> {
    let today = now.date_naive();
    let base = match &call.function {
        Function::Now => {
            let minute = now.timestamp().div_euclid(60) * 60;
            let start = DateTime::from_timestamp(minute, 0)?;
            Interval {
                start,
                end: start.checked_add_signed(TimeDelta::minutes(1))?,
            }
        }
        Function::Today => day(today),
        Function::Week => {
            let monday = today
                .checked_sub_days(Days::new(u64::from(today.weekday().num_days_from_monday())))?;
            span_dates(monday, monday.checked_add_days(Days::new(7))?)
        }
        Function::Month => {
            let first = today.with_day(1)?;
            span_dates(first, first.checked_add_months(Months::new(1))?)
        }
        Function::Quarter => {
            let first = NaiveDate::from_ymd_opt(today.year(), (today.month0() / 3) * 3 + 1, 1)?;
            span_dates(first, first.checked_add_months(Months::new(3))?)
        }
        Function::Year => {
            let first = NaiveDate::from_ymd_opt(today.year(), 1, 1)?;
            span_dates(first, first.checked_add_months(Months::new(12))?)
        }
        Function::Me | Function::Group(_) => return None,
    };
    call.shifts.iter().try_fold(base, |acc, s| {
        let delta = s.by.to_time_delta();
        let delta = if s.negative { -delta } else { delta };
        Some(Interval {
            start: acc.start.checked_add_signed(delta)?,
            end: acc.end.checked_add_signed(delta)?,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_four_reference_date_formats_mean_the_same_day() {
        let want = NaiveDate::from_ymd_opt(2017, 4, 30);
        for s in ["04/30/2017", "30.04.2017", "30-04-2017", "2017-04-30"] {
            assert_eq!(parse_date(s), want, "{s}");
        }
    }

    #[test]
    fn a_duration_sums_its_components() {
        let d = parse_duration("3d 5h 32m").unwrap();
        assert_eq!(d.total_seconds(), 3 * 86_400 + 5 * 3_600 + 32 * 60);
        assert_eq!(parse_duration("1w 1d").unwrap().total_seconds(), 8 * 86_400);
        assert_eq!(parse_duration("12x"), None);
        assert_eq!(parse_duration(""), None);
    }
}
