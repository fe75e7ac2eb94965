//! Lookups by id that every entity shares, and the NOT_FOUND errors for ids that name nothing.

use std::collections::HashSet;

use sea_orm::{ColumnTrait, DbErr, QueryFilter, QuerySelect};

use crate::service::{
    errors::{InputError, InputErrorCode},
    id_list::column_any_of,
    scope::{Identified, Scoped},
    validate,
};

/// The rows of `E` with these ids in the workspace; ids of nothing (or of another workspace) are
/// simply absent.
#[tracing::instrument(name = "reads::by_ids", level = "debug", skip_all, fields(workspace = s.workspace().0, ids = ids.len()))]
pub async fn by_ids<E, S>(s: &S, ids: &[i64]) -> Result<Vec<E::Model>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    s.find::<E>()
        .filter(column_any_of(
            s.backend(),
            E::id_column(),
            ids.iter().copied(),
        ))
        .all(s.conn())
        .await
}

/// One row of `E` by id in the workspace.
#[tracing::instrument(name = "reads::by_id", level = "debug", skip_all, fields(workspace = s.workspace().0, id))]
pub async fn by_id<E, S>(s: &S, id: i64) -> Result<Option<E::Model>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    s.find::<E>()
        .filter(E::id_column().eq(id))
        .one(s.conn())
        .await
}

/// NOT_FOUND errors for the ids that name no row of `E` in the workspace, each naming its
/// position in the input list at `field`. One query, whatever the number of ids.
#[tracing::instrument(name = "reads::missing", level = "debug", skip_all, fields(workspace = s.workspace().0, ids = ids.len()))]
pub async fn missing<E, S>(
    s: &S,
    ids: &[i64],
    field: &[&str],
    what: &str,
) -> Result<Vec<InputError>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    let found = existing_ids::<E, S>(s, ids).await?;
    Ok(not_found(ids, &found, field, what))
}

/// Which of these ids name a row of `E` in the workspace. One query, none for no ids.
pub async fn existing_ids<E, S>(s: &S, ids: &[i64]) -> Result<HashSet<i64>, DbErr>
where
    E: Identified,
    S: Scoped,
{
    let unique = validate::dedup(ids);
    if unique.is_empty() {
        return Ok(HashSet::new());
    }
    Ok(id_select::<E, S>(s, unique)
        .into_tuple::<i64>()
        .all(s.conn())
        .await?
        .into_iter()
        .collect())
}

/// `SELECT id FROM E WHERE id IN (ids)` in the workspace: what [`existing_ids`] reads, and what
/// the row locks of `locks` lock.
pub(crate) fn id_select<E, S>(s: &S, ids: Vec<i64>) -> sea_orm::Select<E>
where
    E: Identified,
    S: Scoped,
{
    s.find::<E>()
        .select_only()
        .column(E::id_column())
        .filter(column_any_of(s.backend(), E::id_column(), ids))
}

/// NOT_FOUND errors for the ids not among `found`, each naming its position in the input list
/// at `field`.
pub(crate) fn not_found(
    ids: &[i64],
    found: &HashSet<i64>,
    field: &[&str],
    what: &str,
) -> Vec<InputError> {
    ids.iter()
        .enumerate()
        .filter(|(_, id)| !found.contains(id))
        .map(|(index, _)| {
            InputError::at_index(
                InputErrorCode::NotFound,
                field,
                index,
                format!("no {what} has this id"),
            )
        })
        .collect()
}
