//! The domain: plain async functions over SeaORM. Every write is one transaction that commits only
//! when the whole operation succeeded; nothing here knows about GraphQL.

pub mod automations;
pub mod campaigns;
pub mod engagement;
pub mod errors;
pub mod influencers;
pub mod memberships;
pub mod pagination;
pub mod reads;
pub mod segments;
pub mod validate;

use chrono::{DateTime, SubsecRound, Utc};

pub use errors::{InputError, InputErrorCode, ServiceError, ServiceResult};

/// The workspace a request acts for. Every read and write is filtered by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkspaceId(pub i64);

/// The current time at microsecond precision, the finest PostgreSQL stores, so a value reads back
/// the same from either backend.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Most ids one bulk input (`influencerIds`) may carry.
pub const MAX_BULK_IDS: usize = 10_000;
