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
pub mod segments;
pub mod validate;

use chrono::{DateTime, SubsecRound, Utc};
use sea_orm::{
    DatabaseConnection, DatabaseTransaction, DbErr, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};

pub use errors::{InputError, InputErrorCode, ServiceError, ServiceResult};

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

/// Starts the transaction of a write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`: a
/// deferred transaction that reads first and writes later fails at once with SQLITE_BUSY when
/// another writer committed in between, while an immediate one waits its turn (busy timeout).
/// PostgreSQL ignores the mode.
pub(crate) async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// Runs a write again (up to three times in all) when the database aborted it for a deadlock or a
/// serialization conflict with a concurrent write, so clients never see those. Each attempt is a
/// whole new transaction. A write that failed because something it names was deleted meanwhile
/// reports NOT_FOUND (see `errors::on_vanished_reference`).
pub async fn retrying<T, F, Fut>(mut operation: F) -> ServiceResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ServiceResult<T>>,
{
    let mut attempt = 1;
    loop {
        match operation().await {
            Err(ServiceError::Db(error)) if attempt < 3 && is_conflict(&error) => {
                tracing::warn!(attempt, error = %error, "write conflict; retrying");
                attempt += 1;
            }
            other => return other.map_err(errors::on_vanished_reference),
        }
    }
}

/// PostgreSQL's deadlock_detected (40P01) and serialization_failure (40001); SQLite's busy
/// database once its busy timeout ran out.
fn is_conflict(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match error {
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                Sqlx::Database(db) => {
                    matches!(db.code().as_deref(), Some("40P01" | "40001" | "5" | "517"))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

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

tokio::task_local! {
    /// The deadline of the request being executed, when the HTTP layer set one.
    pub static DEADLINE: std::sync::Arc<Deadline>;
}

/// Commits a write's transaction for workspace `ws`, unless its request's deadline has passed
/// (then it is rolled back and the request answered as timed out). The application's counts kept
/// for the workspace (`counts`) are forgotten once it commits.
pub(crate) async fn commit(
    txn: DatabaseTransaction,
    ws: WorkspaceId,
    counts: &count_cache::CountCache,
) -> Result<(), DbErr> {
    let allowed = DEADLINE
        .try_with(|deadline| deadline.begin_commit())
        .unwrap_or(true);
    if allowed {
        txn.commit().await?;
        counts.forget_workspace(ws.0);
        Ok(())
    } else {
        txn.rollback().await?;
        Err(DbErr::Custom(
            "the request's deadline passed before commit".into(),
        ))
    }
}
