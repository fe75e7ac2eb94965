//! The `DateTime` scalar.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{Datelike, SecondsFormat, SubsecRound, TimeDelta, Timelike, Utc};

/// RFC 3339 timestamp in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// The years a timestamp may fall in, once converted to UTC. Both backends store every instant
/// in this range and read it back as sent; outside it, one would write a year the other
/// refuses (PostgreSQL accepts year 10000, which RFC 3339 cannot express).
const YEARS: std::ops::RangeInclusive<i32> = 1970..=9999;

/// RFC 3339 timestamp in UTC, e.g. "2026-11-30T09:15:00Z". Input may carry any offset; it is
/// converted to UTC and kept to the microsecond. Years 1970 to 9999 (in UTC); a leap second
/// (`:60`) is read as the first instant of the next minute.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => parse_timestamp(text)
                .map(DateTime)
                .map_err(InputValueError::custom),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    /// Checked during validation too, so that a bad timestamp anywhere in a request (inside an
    /// input object, or in a variable) refuses the whole request before anything runs.
    fn is_valid(value: &Value) -> bool {
        matches!(value, Value::String(text) if parse_timestamp(text).is_ok())
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

/// An RFC 3339 timestamp as a UTC instant to the microsecond, or why it is not one we accept.
fn parse_timestamp(text: &str) -> Result<chrono::DateTime<Utc>, String> {
    let parsed = chrono::DateTime::parse_from_rfc3339(text)
        .map_err(|_| format!("\"{text}\" is not an RFC 3339 timestamp"))?
        .with_timezone(&Utc);
    // chrono keeps a leap second as nanoseconds past 1e9; PostgreSQL rolls it over to the next
    // second and SQLite would keep the text ":60". Rolling it over here gives both the same.
    let instant = match parsed.nanosecond().checked_sub(1_000_000_000) {
        Some(fraction) => {
            parsed
                .with_nanosecond(fraction)
                .expect("a fraction below one second")
                + TimeDelta::seconds(1)
        }
        None => parsed,
    }
    .trunc_subsecs(6);
    if !YEARS.contains(&instant.year()) {
        return Err(format!(
            "\"{text}\" is outside the accepted range: years {} to {} in UTC",
            YEARS.start(),
            YEARS.end()
        ));
    }
    Ok(instant)
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(value: chrono::DateTime<Utc>) -> Self {
        Self(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> Result<String, String> {
        parse_timestamp(text).map(|t| t.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }

    #[test]
    fn offsets_convert_to_utc_to_the_microsecond() {
        assert_eq!(
            utc("2026-01-02T03:04:05.123456789-05:30"),
            Ok("2026-01-02T08:34:05.123456Z".into())
        );
    }

    #[test]
    fn a_leap_second_is_the_first_instant_of_the_next_minute() {
        assert_eq!(
            utc("2016-12-31T23:59:60Z"),
            Ok("2017-01-01T00:00:00Z".into())
        );
        assert_eq!(
            utc("2016-12-31T23:59:60.5+00:00"),
            Ok("2017-01-01T00:00:00.500Z".into())
        );
    }

    #[test]
    fn years_outside_1970_to_9999_in_utc_are_refused() {
        for refused in [
            "9999-12-31T23:59:59-23:59",
            "1969-12-31T23:59:59Z",
            "1970-01-01T00:30:00+01:00",
            "0001-01-01T00:00:00Z",
        ] {
            assert!(utc(refused).is_err(), "{refused}");
        }
        assert_eq!(
            utc("1970-01-01T00:00:00Z"),
            Ok("1970-01-01T00:00:00Z".into())
        );
        assert_eq!(
            utc("9999-12-31T23:59:59.999999Z"),
            Ok("9999-12-31T23:59:59.999999Z".into())
        );
    }
}
