//! The `DateTime` scalar.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use chrono::{SecondsFormat, SubsecRound, Utc};

/// RFC 3339 timestamp in UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DateTime(pub chrono::DateTime<Utc>);

/// RFC 3339 timestamp in UTC, e.g. "2026-11-30T09:15:00Z". Input may carry any offset; it is
/// converted to UTC and kept to the microsecond.
#[Scalar(name = "DateTime")]
impl ScalarType for DateTime {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => chrono::DateTime::parse_from_rfc3339(text)
                .map(|t| DateTime(t.with_timezone(&Utc).trunc_subsecs(6)))
                .map_err(|_| {
                    InputValueError::custom(format!("\"{text}\" is not an RFC 3339 timestamp"))
                }),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_rfc3339_opts(SecondsFormat::AutoSi, true))
    }
}

impl From<chrono::DateTime<Utc>> for DateTime {
    fn from(value: chrono::DateTime<Utc>) -> Self {
        Self(value)
    }
}
