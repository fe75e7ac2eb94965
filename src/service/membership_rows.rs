//! The membership rows themselves, set-based: adding and deleting them in one statement each and
//! announcing what changed. Assignment and removal, segment deletion, influencer deletion and
//! automations all end or start memberships through these two.

use entity::{enums::MembershipSource, influencer, segment_membership};
use sea_orm::{
    ActiveEnum, ConnectionTrait, QueryFilter,
    sea_query::{Expr, OnConflict, Query},
};

use super::{
    clock::now,
    errors::ServiceResult,
    events::{ChangeKind, MembershipBatch},
    id_list::any_of,
    scope::{Scoped, Tx},
};

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
    if influencer_ids.is_empty() {
        return Ok(0);
    }
    let named = any_of(
        tx.backend(),
        Expr::col((influencer::Entity, influencer::Column::Id)),
        influencer_ids.iter().copied(),
    );
    insert_memberships_where(tx, segment_id, named, source, automation_id).await
}

/// Adds to a segment every influencer of the workspace that `matching` (a condition on the
/// `influencer` table) selects, in one statement, as [`insert_memberships`] does for a list of
/// ids: the whole roster takes the same one statement as ten influencers.
pub(crate) async fn insert_memberships_where(
    tx: &mut Tx<'_>,
    segment_id: i64,
    matching: sea_orm::sea_query::SimpleExpr,
    source: MembershipSource,
    automation_id: Option<i64>,
) -> ServiceResult<usize> {
    use segment_membership::Column as M;
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
        .and_where(matching)
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
/// (`DELETE ... RETURNING`), and puts what it deleted in the outbox; returns how many it
/// deleted.
pub(crate) async fn delete_memberships(
    tx: &mut Tx<'_>,
    filter: sea_orm::Condition,
) -> ServiceResult<usize> {
    use std::collections::BTreeMap;
    let deleted = tx
        .delete_many::<segment_membership::Entity>()
        .filter(filter)
        .exec_with_returning(tx.conn())
        .await?;
    let count = deleted.len();
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
    Ok(count)
}
