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

use std::collections::HashSet;

use sea_orm::{ColumnTrait, DbErr, QueryFilter, QueryOrder, QuerySelect, sea_query::LockType};

use super::{
    errors::InputError,
    id_list::column_any_of,
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
/// (`FOR KEY SHARE`), in id order so that two writes locking overlapping sets cannot deadlock.
async fn referred_ids<E, S>(s: &S, ids: &[i64]) -> Result<HashSet<i64>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    let unique = super::validate::dedup(ids);
    if unique.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(s.find::<E>()
        .select_only()
        .column(E::id_column())
        .filter(column_any_of(s.backend(), E::id_column(), unique))
        .order_by_asc(E::id_column())
        .lock(LockType::KeyShare)
        .into_tuple::<i64>()
        .all(s.conn())
        .await?
        .into_iter()
        .collect())
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
