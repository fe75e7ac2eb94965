//! The domain: plain async functions over SeaORM. Every write is one transaction that commits only
//! when the whole operation succeeded; nothing here knows about GraphQL.

pub mod auth;
pub mod automations;
pub mod campaigns;
pub mod count_cache;
pub mod engagement;
pub mod errors;
pub mod events;
pub mod id_list;
pub mod influencers;
pub(crate) mod locks;
pub mod memberships;
pub mod pagination;
pub mod profile;
pub mod reads;
pub mod scope;
pub mod segments;
pub mod text;
pub mod validate;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{DatabaseTransaction, DbErr};

pub use errors::{InputError, InputErrorCode, ServiceError, ServiceResult};
pub use scope::{Scope, Scoped, Tx};

/// The workspace a request acts for. Every read and write is filtered by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkspaceId(pub i64);

/// The current time at microsecond precision, the finest PostgreSQL stores, so a value reads back
/// the same from either backend.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The most ids one operation can take at all: each id is one bound parameter, and SQLite allows
/// 32,766 per statement. The configured limit may not exceed it.
pub const HARD_MAX_BULK_IDS: usize = 30_000;

/// The deadline of the request a write runs in, shared between the HTTP layer (which gives up
/// on a request past it) and [`commit`] (which must not commit a request that was given up on,
/// nor let one be given up on once it has committed).
#[derive(Debug, Default)]
pub struct Deadline {
    state: std::sync::atomic::AtomicU8,
}

const OPEN: u8 = 0;
const COMMITTED: u8 = 1;
const EXPIRED: u8 = 2;

impl Deadline {
    /// Marks the deadline passed, unless a write already committed; returns whether it did.
    pub fn expire(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        matches!(
            self.state.compare_exchange(OPEN, EXPIRED, SeqCst, SeqCst),
            Ok(_) | Err(EXPIRED)
        )
    }

    /// Records that a write is about to commit; false when the deadline passed first.
    fn begin_commit(&self) -> bool {
        use std::sync::atomic::Ordering::SeqCst;
        matches!(
            self.state.compare_exchange(OPEN, COMMITTED, SeqCst, SeqCst),
            Ok(_) | Err(COMMITTED)
        )
    }
}

/// Commits a write's transaction for workspace `ws`, unless its request's deadline has passed
/// (then it is rolled back and the request answered as timed out). The application's counts kept
/// for the workspace (`counts`, when the write changed anything) are forgotten once it commits.
pub(crate) async fn commit(
    txn: DatabaseTransaction,
    ws: WorkspaceId,
    counts: Option<&count_cache::CountCache>,
    deadline: Option<&Deadline>,
) -> Result<(), DbErr> {
    let allowed = deadline.is_none_or(Deadline::begin_commit);
    if allowed {
        txn.commit().await?;
        if let Some(counts) = counts {
            counts.forget_workspace(ws.0);
        }
        Ok(())
    } else {
        txn.rollback().await?;
        Err(DbErr::Custom(
            "the request's deadline passed before commit".into(),
        ))
    }
}
