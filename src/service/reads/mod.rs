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

use entity::{automation, campaign, engagement_event, influencer, segment};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, SelectStatement, SimpleExpr},
};

use super::{
    InputError, InputErrorCode, WorkspaceId, id_list::column_any_of, pagination::Keyed, validate,
};

/// Entities owned by a workspace and keyed by a 64-bit `id`.
pub trait Scoped: EntityTrait {
    fn workspace_column() -> Self::Column;
    fn id_column() -> Self::Column;
    fn model_id(model: &Self::Model) -> i64;
}

macro_rules! scoped {
    ($($module:ident),*) => {$(
        impl Scoped for $module::Entity {
            fn workspace_column() -> Self::Column {
                $module::Column::WorkspaceId
            }
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn model_id(model: &Self::Model) -> i64 {
                model.id
            }
        }

        impl Keyed for $module::Model {
            fn key(&self) -> i64 {
                self.id
            }
        }
    )*};
}

scoped!(influencer, segment, campaign, automation, engagement_event);

/// The rows of `E` with these ids in the workspace; ids of nothing (or of another workspace) are
/// simply absent.
pub async fn by_ids<E, C>(db: &C, ws: WorkspaceId, ids: &[i64]) -> Result<Vec<E::Model>, DbErr>
where
    E: Scoped,
    C: ConnectionTrait,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    E::find()
        .filter(E::workspace_column().eq(ws.0))
        .filter(column_any_of(
            db.get_database_backend(),
            E::id_column(),
            ids.iter().copied(),
        ))
        .all(db)
        .await
}

/// One row of `E` by id in the workspace.
pub async fn by_id<E, C>(db: &C, ws: WorkspaceId, id: i64) -> Result<Option<E::Model>, DbErr>
where
    E: Scoped,
    C: ConnectionTrait,
{
    E::find()
        .filter(E::workspace_column().eq(ws.0))
        .filter(E::id_column().eq(id))
        .one(db)
        .await
}

/// NOT_FOUND errors for the ids that name no row of `E` in the workspace, each naming its
/// position in the input list at `field`. One query, whatever the number of ids.
pub async fn missing<E, C>(
    conn: &C,
    ws: WorkspaceId,
    ids: &[i64],
    field: &[&str],
    what: &str,
) -> Result<Vec<InputError>, DbErr>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let unique = validate::dedup(ids);
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashSet<i64> = E::find()
        .select_only()
        .column(E::id_column())
        .filter(E::workspace_column().eq(ws.0))
        .filter(column_any_of(
            conn.get_database_backend(),
            E::id_column(),
            unique,
        ))
        .into_tuple::<i64>()
        .all(conn)
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

/// `key_column LIKE '%key%'`: whether the search term's key ([`validate::name_key`]: Unicode
/// case folding and NFC, computed here) is part of a stored key, with the term's wildcards
/// escaped. Both sides are folded in Rust, so SQLite (whose `LOWER` knows only ASCII) and
/// PostgreSQL match the same rows. A term with NUL, which no stored text holds and PostgreSQL
/// refuses as a parameter, matches nothing.
fn contains(key_column: Expr, term: &str) -> SimpleExpr {
    if term.contains('\0') {
        return Expr::cust("1 = 0");
    }
    let escaped = validate::name_key(term)
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
