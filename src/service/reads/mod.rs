//! Reads: lookups by id, the sets that connections page over, and the batched relation queries the
//! GraphQL DataLoaders call. Every query is filtered by the workspace.
//!
//! This module holds the lookups by id that every entity shares; the rest is split by what it
//! reads: [`influencers`] (sets of influencers and their pages, memberships), [`segments`],
//! [`campaigns`] (with their audiences and automations), [`counts`] (the counts connections and
//! DataLoaders serve, some kept in the count cache) and [`workspace`].

pub mod campaigns;
pub mod counts;
pub mod influencers;
pub mod segments;
pub mod workspace;

pub use campaigns::{audiences, automations_of, campaign_page, count_campaigns};
pub use counts::{count_influencers, member_counts, recipient_counts};
pub use influencers::{InfluencerSet, influencer_pages, memberships_of_influencers};
pub use segments::{count_segments, segment_page};
pub use workspace::default_workspace;

use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, SelectStatement, SimpleExpr},
};

use super::{
    InputError, InputErrorCode, Scoped, id_list::column_any_of, scope::Identified,
    text::SearchTerm, validate,
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
    let unique = validate::dedup(ids);
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashSet<i64> = s
        .find::<E>()
        .select_only()
        .column(E::id_column())
        .filter(column_any_of(s.backend(), E::id_column(), unique))
        .into_tuple::<i64>()
        .all(s.conn())
        .await?
        .into_iter()
        .collect();
    Ok(not_found(ids, &found, field, what))
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

fn col<C: sea_orm::IdenStatic>(table: impl sea_orm::IdenStatic, column: C) -> Expr {
    Expr::col((table, column))
}

/// `key_column LIKE '%key%'`: whether the search term's key (Unicode case folding and NFC,
/// computed here) is part of a stored key, with the term's wildcards escaped. Both sides are
/// folded in Rust, so SQLite (whose `LOWER` knows only ASCII) and PostgreSQL match the same rows.
fn contains(key_column: Expr, term: &SearchTerm) -> SimpleExpr {
    let escaped = term
        .key()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    key_column.like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

async fn count<C: ConnectionTrait>(db: &C, base: &mut SelectStatement) -> Result<i64, DbErr> {
    base.clear_selects()
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"));
    let row = db.query_one(&*base).await?;
    match row {
        Some(row) => row.try_get("", "n"),
        None => Ok(0),
    }
}
