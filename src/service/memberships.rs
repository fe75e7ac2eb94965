//! Putting influencers into segments and taking them out, in bulk and set-based: a call with
//! 10,000 ids runs the same few statements as a call with one.

use entity::{enums::MembershipSource, influencer, segment, segment_membership};
use sea_orm::{
    ActiveEnum, ColumnTrait, ConnectionTrait, QueryFilter,
    sea_query::{Expr, OnConflict, Query},
};

use super::{
    Scoped, ServiceError, ServiceResult, Tx,
    events::{ChangeKind, MembershipBatch},
    id_list::{any_of, column_any_of},
    locks, now,
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

/// Checks that every id names an influencer of the workspace, and locks them against deletion
/// until the transaction ends; errors name each missing id's position in the input list.
async fn ensure_influencers<S: Scoped>(s: &S, ids: &[i64], field: &[&str]) -> ServiceResult<()> {
    let missing =
        locks::missing_referred::<influencer::Entity, _>(s, ids, field, "influencer").await?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Input(missing))
    }
}

/// Adds influencers to a segment in one statement (`INSERT ... SELECT ... ON CONFLICT DO
/// NOTHING RETURNING`); memberships that exist already are left as they are. The new ones go to
/// the outbox; returns how many there were.
pub(crate) async fn insert_memberships(
    tx: &mut Tx<'_>,
    segment_id: i64,
    influencer_ids: &[i64],
    source: MembershipSource,
    automation_id: Option<i64>,
) -> ServiceResult<usize> {
    use segment_membership::Column as M;
    if influencer_ids.is_empty() {
        return Ok(0);
    }
    let at = now();
    let rows = Query::select()
        .expr(Expr::val(segment_id))
        .column(influencer::Column::Id)
        .column(influencer::Column::WorkspaceId)
        .expr(Expr::val(at))
        .expr(Expr::val(source.to_value()))
        .expr(Expr::val(automation_id))
        .from(influencer::Entity)
        .and_where(tx.owns::<influencer::Entity>())
        .and_where(any_of(
            tx.backend(),
            Expr::col(influencer::Column::Id),
            influencer_ids.iter().copied(),
        ))
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
            OnConflict::columns([M::WorkspaceId, M::SegmentId, M::InfluencerId])
                .do_nothing()
                .to_owned(),
        )
        // Only the rows this statement inserted: the memberships that are new.
        .returning_col(M::InfluencerId)
        .to_owned();
    let added = tx
        .conn()
        .query_all(&insert)
        .await?
        .iter()
        .map(|row| row.try_get::<i64>("", "influencer_id"))
        .collect::<Result<Vec<_>, _>>()?;
    let count = added.len();
    let workspace_id = tx.workspace().0;
    tx.announce(MembershipBatch {
        workspace_id,
        segment_id,
        change: ChangeKind::Added,
        by_automation: source == MembershipSource::Automation,
        automation_id,
        at,
        influencer_ids: added,
    })
    .await?;
    Ok(count)
}

/// Deletes the memberships `filter` selects (within the workspace) in one statement
/// (`DELETE ... RETURNING`), and puts what it deleted in the outbox.
pub(crate) async fn delete_memberships(
    tx: &mut Tx<'_>,
    filter: sea_orm::Condition,
) -> ServiceResult<()> {
    use std::collections::BTreeMap;
    let deleted = tx
        .delete_many::<segment_membership::Entity>()
        .filter(filter)
        .exec_with_returning(tx.conn())
        .await?;
    let at = now();
    // One batch per segment and source, in a stable order.
    let mut batches: BTreeMap<(i64, bool, Option<i64>), Vec<i64>> = BTreeMap::new();
    for row in deleted {
        let by_automation = row.source == MembershipSource::Automation;
        batches
            .entry((row.segment_id, by_automation, row.automation_id))
            .or_default()
            .push(row.influencer_id);
    }
    for ((segment_id, by_automation, automation_id), mut influencer_ids) in batches {
        influencer_ids.sort_unstable();
        let workspace_id = tx.workspace().0;
        tx.announce(MembershipBatch {
            workspace_id,
            segment_id,
            change: ChangeKind::Removed,
            by_automation,
            automation_id,
            at,
            influencer_ids,
        })
        .await?;
    }
    Ok(())
}

/// Assigns influencers to an existing segment or to one created in the same transaction.
/// Assigning someone who is already a member changes nothing.
#[tracing::instrument(name = "memberships::assign", level = "debug", skip_all, fields(workspace = tx.workspace().0, influencers = influencer_ids.len()))]
pub async fn assign(
    tx: &mut Tx<'_>,
    influencer_ids: &[i64],
    target: &SegmentTarget,
) -> ServiceResult<MembershipChange> {
    validate::bulk_size(
        influencer_ids.len(),
        super::HARD_MAX_BULK_IDS,
        &["input", "influencerIds"],
    )?;
    // Reads first: on PostgreSQL a failed insert (a name taken concurrently) aborts the
    // transaction, so nothing may run after `resolve`'s.
    let influencers = ensure_influencers(tx, influencer_ids, &["input", "influencerIds"]).await;
    let segment = segments::resolve(tx, target, &["input", "segment"]).await;
    let segment = match (segment, influencers) {
        (Ok(segment), Ok(())) => segment,
        (segment, influencers) => return Err(merge_errors(segment.err(), influencers.err())),
    };
    let unique = validate::dedup(influencer_ids);
    insert_memberships(tx, segment.id, &unique, MembershipSource::Manual, None).await?;
    Ok(MembershipChange {
        segment,
        influencer_ids: unique,
    })
}

/// Removes influencers from a segment; those who were not members are left as they are.
#[tracing::instrument(name = "memberships::remove", level = "debug", skip_all, fields(workspace = tx.workspace().0, influencers = influencer_ids.len(), segment = segment_id))]
pub async fn remove(
    tx: &mut Tx<'_>,
    influencer_ids: &[i64],
    segment_id: i64,
) -> ServiceResult<MembershipChange> {
    validate::bulk_size(
        influencer_ids.len(),
        super::HARD_MAX_BULK_IDS,
        &["input", "influencerIds"],
    )?;
    let influencers = ensure_influencers(tx, influencer_ids, &["input", "influencerIds"]).await;
    let segment = locks::referred::<segment::Entity, _>(tx, segment_id)
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
        let backend = tx.backend();
        delete_memberships(
            tx,
            sea_orm::Condition::all()
                .add(segment_membership::Column::SegmentId.eq(segment.id))
                .add(column_any_of(
                    backend,
                    segment_membership::Column::InfluencerId,
                    unique.iter().copied(),
                )),
        )
        .await?;
    }
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
