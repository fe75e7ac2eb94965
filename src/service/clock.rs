//! The time writes record.

use chrono::{DateTime, SubsecRound, Utc};

/// The current time at microsecond precision, the finest PostgreSQL stores, so a value reads back
/// the same from either backend.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}
