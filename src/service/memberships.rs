//! Putting influencers into segments and taking them out, in bulk and set-based: a call with
//! 10,000 ids runs the same few statements as a call with one.

use entity::{enums::MembershipSource, influencer, segment, segment_membership};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, DatabaseConnection, EntityTrait, QueryFilter,
    sea_query::{Expr, ExprTrait, OnConflict, Query},
};

use super::{
    ServiceError, ServiceResult, WorkspaceId, now,
    reads::{self, by_id},
    segments::{self, SegmentTarget},
    validate,
};

/// The outcome of an assignment or removal: the segment and the (deduplicated) influencer ids
/// named in the input, in input order.
#[derive(Clone, Debug)]
pub struct MembershipChange {
    pub segment: segment::Model,
    pub influencer_ids: Vec<i64>,
}

/// Checks that every id names an influencer of the workspace; errors name each missing id's
/// position in the input list.
async fn ensure_influencers<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    ids: &[i64],
    field: &[&str],
) -> ServiceResult<()> {
    let missing =
        reads::missing::<influencer::Entity, _>(conn, ws, ids, field, "influencer").await?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Input(missing))
    }
}

/// Adds influencers to a segment in one statement (`INSERT ... SELECT ... ON CONFLICT DO
/// NOTHING`); memberships that exist already are left as they are. Returns how many were new.
pub(crate) async fn insert_memberships<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    segment_id: i64,
    influencer_ids: &[i64],
    source: MembershipSource,
    automation_id: Option<i64>,
) -> ServiceResult<u64> {
    use segment_membership::Column as M;
    if influencer_ids.is_empty() {
        return Ok(0);
    }
    let rows = Query::select()
        .expr(Expr::val(segment_id))
        .column(influencer::Column::Id)
        .column(influencer::Column::WorkspaceId)
        .expr(Expr::val(now()))
        .expr(Expr::val(source.to_value()))
        .expr(Expr::val(automation_id))
        .from(influencer::Entity)
        .and_where(Expr::col(influencer::Column::WorkspaceId).eq(ws.0))
        .and_where(Expr::col(influencer::Column::Id).is_in(influencer_ids.iter().copied()))
        // One lock order for every writer, so two overlapping bulk assignments cannot deadlock.
        .order_by(influencer::Column::Id, sea_orm::Order::Asc)
        .to_owned();
    let insert = Query::insert()
        .into_table(segment_membership::Entity)
        .columns([
            M::SegmentId,
            M::InfluencerId,
            M::WorkspaceId,
            M::AssignedAt,
            M::Source,
            M::AutomationId,
        ])
        .select_from(rows)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?
        .on_conflict(
            OnConflict::columns([M::SegmentId, M::InfluencerId])
                .do_nothing()
                .to_owned(),
        )
        .to_owned();
    Ok(conn.execute(&insert).await?.rows_affected())
}

/// Assigns influencers to an existing segment or to one created in the same transaction.
/// Assigning someone who is already a member changes nothing.
pub async fn assign(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    influencer_ids: &[i64],
    target: &SegmentTarget,
) -> ServiceResult<MembershipChange> {
    validate::bulk_size(
        influencer_ids.len(),
        super::HARD_MAX_BULK_IDS,
        &["input", "influencerIds"],
    )?;
    let txn = super::begin_write(db).await?;
    // Reads first: on PostgreSQL a failed insert (a name taken concurrently) aborts the
    // transaction, so nothing may run after `resolve`'s.
    let influencers =
        ensure_influencers(&txn, ws, influencer_ids, &["input", "influencerIds"]).await;
    let segment = segments::resolve(&txn, ws, target, &["input", "segment"]).await;
    let segment = match (segment, influencers) {
        (Ok(segment), Ok(())) => segment,
        (segment, influencers) => return Err(merge_errors(segment.err(), influencers.err())),
    };
    let unique = validate::dedup(influencer_ids);
    insert_memberships(
        &txn,
        ws,
        segment.id,
        &unique,
        MembershipSource::Manual,
        None,
    )
    .await?;
    super::commit(txn).await?;
    Ok(MembershipChange {
        segment,
        influencer_ids: unique,
    })
}

/// Removes influencers from a segment; those who were not members are left as they are.
pub async fn remove(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    influencer_ids: &[i64],
    segment_id: i64,
) -> ServiceResult<MembershipChange> {
    validate::bulk_size(
        influencer_ids.len(),
        super::HARD_MAX_BULK_IDS,
        &["input", "influencerIds"],
    )?;
    let txn = super::begin_write(db).await?;
    let influencers =
        ensure_influencers(&txn, ws, influencer_ids, &["input", "influencerIds"]).await;
    let segment = by_id::<segment::Entity, _>(&txn, ws, segment_id)
        .await?
        .ok_or_else(|| segments::not_found(&["input", "segmentId"]));
    let segment = match (segment, influencers) {
        (Ok(segment), Ok(())) => segment,
        (segment, influencers) => {
            return Err(merge_errors(
                segment.err().map(Into::into),
                influencers.err(),
            ));
        }
    };
    let unique = validate::dedup(influencer_ids);
    if !unique.is_empty() {
        segment_membership::Entity::delete_many()
            .filter(segment_membership::Column::WorkspaceId.eq(ws.0))
            .filter(segment_membership::Column::SegmentId.eq(segment.id))
            .filter(segment_membership::Column::InfluencerId.is_in(unique.iter().copied()))
            .exec(&txn)
            .await?;
    }
    super::commit(txn).await?;
    Ok(MembershipChange {
        segment,
        influencer_ids: unique,
    })
}

/// Both halves' input errors together, so the caller sees every problem at once; a database
/// error wins over input errors.
pub(crate) fn merge_errors(a: Option<ServiceError>, b: Option<ServiceError>) -> ServiceError {
    let mut input = Vec::new();
    for error in [a, b].into_iter().flatten() {
        match error {
            ServiceError::Db(e) => return ServiceError::Db(e),
            ServiceError::Input(errors) => input.extend(errors),
        }
    }
    ServiceError::Input(input)
}
