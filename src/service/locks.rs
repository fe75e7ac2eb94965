//! Row locks that make what a write checked stay true until it commits.
//!
//! A write that refers to another row (an assignment to its segment, an engagement to its
//! influencer) reads that row with `FOR KEY SHARE`; a write that changes a row reads it with
//! `FOR NO KEY UPDATE`; a delete reads the row it deletes with `FOR UPDATE` before anything else.
//! `FOR UPDATE` conflicts with the other two, so on PostgreSQL a delete and the writes that refer
//! to or change its row run one after the other, whichever locked first:
//!
//! - the write first: the delete waits for it to commit, then sees (and deletes, announcing it)
//!   whatever the write made;
//! - the delete first: the write's locking read waits for the delete to commit and then finds no
//!   row, so the write reports NOT_FOUND before writing anything.
//!
//! References and changes do not conflict with each other (a rename does not wait for an
//! assignment), and references never wait for each other, so the order a write takes them in
//! does not matter; rows of one table are locked in id order all the same. Where a write both
//! refers to a row and changes another, it takes them in the order the delete of the first takes
//! its own locks (updateAutomation: the target segment, then the automation, as deleteSegment
//! does), so the two cannot deadlock; a deadlock the database still finds is retried
//! (`Scope::write`). SQLite has no row locks (the clause is left out), and needs none: its
//! writers run one at a time from `BEGIN IMMEDIATE`.
//!
//! Beside row locks, [`workspace_lock`] takes a PostgreSQL advisory lock keyed by a class and the
//! workspace, for work that must take turns per workspace rather than per row (rules and the
//! writes that follow them; the periodic refresh of rolling rules).

use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DbErr, QueryFilter, QueryOrder, QuerySelect,
    Statement, sea_query::LockType,
};

use super::{
    errors::InputError,
    reads::by_id::id_select,
    scope::{Identified, Scoped},
};

/// The row of `E` with this id in the workspace, locked against deletion (`FOR KEY SHARE`) for
/// a write that refers to it.
pub(crate) async fn referred<E, S>(s: &S, id: i64) -> Result<Option<E::Model>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    one::<E, S>(s, id, LockType::KeyShare).await
}

/// The row of `E` with this id in the workspace, locked (`FOR NO KEY UPDATE`) for a write that
/// changes it.
pub(crate) async fn changed<E, S>(s: &S, id: i64) -> Result<Option<E::Model>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    one::<E, S>(s, id, LockType::NoKeyUpdate).await
}

/// The row of `E` with this id in the workspace, locked (`FOR UPDATE`) for the write that
/// deletes it: it waits for every write that refers to or changes the row, and they wait for it.
pub(crate) async fn deleted<E, S>(s: &S, id: i64) -> Result<Option<E::Model>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    one::<E, S>(s, id, LockType::Update).await
}

async fn one<E, S>(s: &S, id: i64, lock: LockType) -> Result<Option<E::Model>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    s.find::<E>()
        .filter(E::id_column().eq(id))
        .lock(lock)
        .one(s.conn())
        .await
}

/// Which of these ids name a row of `E` in the workspace, each locked against deletion
/// (`FOR KEY SHARE`).
pub(crate) async fn referred_ids<E, S>(s: &S, ids: &[i64]) -> Result<HashSet<i64>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    locked_ids::<E, S>(s, ids, LockType::KeyShare).await
}

/// Locks the rows of `E` with these ids for a write that changes what depends on them
/// (`FOR NO KEY UPDATE`): two such writes on the same rows run one after the other. References
/// (`FOR KEY SHARE`) do not wait for it. No statement on SQLite, whose writers take turns anyway.
pub(crate) async fn changed_ids<E, S>(s: &S, ids: &[i64]) -> Result<(), DbErr>
where
    E: Identified,
    S: Scoped,
{
    if s.backend() == DatabaseBackend::Postgres {
        locked_ids::<E, S>(s, ids, LockType::NoKeyUpdate).await?;
    }
    Ok(())
}

/// The ids of `E` among these that exist in the workspace, locked with `lock` in id order, so
/// that two writes locking overlapping sets cannot deadlock.
async fn locked_ids<E, S>(s: &S, ids: &[i64], lock: LockType) -> Result<HashSet<i64>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    let unique = super::validate::dedup(ids);
    if unique.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(id_select::<E, S>(s, unique)
        .order_by_asc(E::id_column())
        .lock(lock)
        .into_tuple::<i64>()
        .all(s.conn())
        .await?
        .into_iter()
        .collect())
}

/// Takes the advisory lock `(class, workspace)` until the transaction ends, unless someone holds
/// it (no wait); returns whether it was taken. Always true on SQLite, which has no such locks and
/// runs one writer at a time. The workspace's low 32 bits are the second key: two workspaces that
/// share them share the lock, and at worst skip a turn.
pub(crate) async fn try_workspace_lock<S: Scoped>(s: &S, class: i32) -> Result<bool, DbErr> {
    if s.backend() != DatabaseBackend::Postgres {
        return Ok(true);
    }
    let row = s
        .conn()
        .query_one_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_try_advisory_xact_lock($1, $2) AS taken",
            [class.into(), (s.workspace().0 as i32).into()],
        ))
        .await?;
    match row {
        Some(row) => row.try_get("", "taken"),
        None => Ok(false),
    }
}

/// NOT_FOUND errors for the ids that name no row of `E` in the workspace, each naming its
/// position in the input list at `field`; the rows found stay locked against deletion (see
/// [`referred_ids`]). One query, whatever the number of ids.
pub(crate) async fn missing_referred<E, S>(
    s: &S,
    ids: &[i64],
    field: &[&str],
    what: &str,
) -> Result<Vec<InputError>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    let found = referred_ids::<E, S>(s, ids).await?;
    Ok(super::reads::by_id::not_found(ids, &found, field, what))
}
