//! Tracker's timestamp format, `2017-06-11T05:16:01.339+0000`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serializer};

pub const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.3f%z";

/// Formats a UTC time; written out by hand because chrono's formatter
/// interprets `FORMAT` on every call, a cost every rendered object pays.
pub fn format(t: &DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}+0000",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.timestamp_subsec_millis().min(999)
    )
}

pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_str(s, FORMAT)
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// `#[serde(with = "tracker_api::time::option")]` for optional Tracker timestamps.
pub mod option {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        let s: Option<String> = Option::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) => parse(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("bad timestamp {s:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_hand_written_format_agrees_with_chrono() {
        for secs in [0i64, 1_500_000_000, 1_700_000_123, 4_102_444_799] {
            let t = Utc.timestamp_opt(secs, 987_654_321).unwrap();
            assert_eq!(format(&t), t.format(FORMAT).to_string());
        }
    }

    #[test]
    fn formats_with_milliseconds_and_a_colonless_offset() {
        let t = Utc.with_ymd_and_hms(2017, 6, 11, 5, 16, 1).unwrap()
            + chrono::Duration::milliseconds(339);
        assert_eq!(format(&t), "2017-06-11T05:16:01.339+0000");
        assert_eq!(parse("2017-06-11T05:16:01.339+0000"), Some(t));
    }
}
