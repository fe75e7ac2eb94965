//! Counts: of an influencer set, of segments' members (both may come from the count cache), and
//! of campaigns' recipients.

use std::collections::HashMap;

use entity::{campaign_audience, segment_membership};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr, FromQueryResult,
    sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement},
};

use super::{
    col, count,
    influencers::{InfluencerSet, influencer_base},
};
use crate::service::{
    WorkspaceId,
    count_cache::{self, CountCache},
    id_list::any_of,
};

/// How many influencers a set holds. Exact, except that a count which took longer than
/// [`count_cache::SLOW`] to compute (Unassigned on a roster of a million) is reused for up to
/// [`count_cache::FRESH_FOR`] and then recounted in the background; see [`count_cache`].
pub async fn count_influencers(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    set: &InfluencerSet,
) -> Result<i64, DbErr> {
    let key = count_cache::Key::Influencers(ws.0, set.clone());
    match counts.lookup(&key) {
        count_cache::Lookup::Kept(n) => return Ok(n),
        count_cache::Lookup::Stale(n) => {
            let (db, set) = (db.clone(), set.clone());
            counts.remake_in_background(
                ws.0,
                async move { count_set(&db, ws, &set).await },
                move |n| vec![(key, n.copied())],
            );
            return Ok(n);
        }
        count_cache::Lookup::Missing => {}
    }
    // Nothing kept yet: requests arriving together count one at a time, and those after the
    // first find its count kept (when it was slow), instead of all scanning at once and
    // holding every pooled connection for seconds.
    let gate = counts.gate(&key);
    let _turn = gate.lock().await;
    if let Some(n) = counts.fresh(&key) {
        return Ok(n);
    }
    counts
        .make(ws.0, count_set(db, ws, set), |n| vec![(key, n.copied())])
        .await
}

/// Counts a set, uncached.
async fn count_set(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    set: &InfluencerSet,
) -> Result<i64, DbErr> {
    let (mut base, page_key, without) = influencer_base(ws, set);
    if let Some(without) = without {
        base.and_where(without.filter(&page_key, &[]));
    }
    count(db, &mut base).await
}

#[derive(FromQueryResult)]
struct KeyCount {
    key: i64,
    n: i64,
}

async fn key_counts<C: ConnectionTrait>(
    db: &C,
    statement: &SelectStatement,
) -> Result<HashMap<i64, i64>, DbErr> {
    let rows = KeyCount::find_by_statement(db.get_database_backend().build(statement))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}

/// Member counts of these segments; a segment with no members is absent. Counts of big
/// segments may be a few seconds old (see [`count_cache`]); the others are counted in one
/// statement.
pub async fn member_counts(
    db: &DatabaseConnection,
    cache: &CountCache,
    ws: WorkspaceId,
    segment_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    let key = move |id: i64| count_cache::Key::Members(ws.0, id);
    let mut counts = HashMap::with_capacity(segment_ids.len());
    let (mut missing, mut stale) = (Vec::new(), Vec::new());
    for id in segment_ids {
        match cache.lookup(&key(*id)) {
            count_cache::Lookup::Kept(n) => {
                counts.insert(*id, n);
            }
            count_cache::Lookup::Stale(n) => {
                counts.insert(*id, n);
                stale.push(*id);
            }
            count_cache::Lookup::Missing => missing.push(*id),
        }
    }
    if missing.is_empty() {
        if !stale.is_empty() {
            // Only kept counts, some stale: served kept, the stale ones recounted in the
            // background.
            let db = db.clone();
            let ids = stale.clone();
            cache.remake_in_background(
                ws.0,
                async move { count_members(&db, ws, &ids).await },
                move |found| member_outcome(&stale, found, key),
            );
        }
        return Ok(counts);
    }
    // A statement runs anyway: it recounts the stale ones too.
    missing.append(&mut stale);
    let counted = cache
        .make(ws.0, count_members(db, ws, &missing), |found| {
            member_outcome(&missing, found, key)
        })
        .await?;
    counts.extend(counted);
    Ok(counts)
}

/// What a count of these segments' members found for each, keyed for the count cache (`None`
/// for each when the count failed; a segment the count did not return has no members).
fn member_outcome(
    ids: &[i64],
    found: Option<&HashMap<i64, i64>>,
    key: impl Fn(i64) -> count_cache::Key,
) -> Vec<(count_cache::Key, Option<i64>)> {
    ids.iter()
        .map(|id| {
            (
                key(*id),
                found.map(|found| found.get(id).copied().unwrap_or(0)),
            )
        })
        .collect()
}

async fn count_members(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    segment_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    use segment_membership::Column as M;
    let statement = Query::select()
        .expr_as(
            col(segment_membership::Entity, M::SegmentId),
            Alias::new("key"),
        )
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"))
        .from(segment_membership::Entity)
        .and_where(col(segment_membership::Entity, M::WorkspaceId).eq(ws.0))
        .and_where(any_of(
            db.get_database_backend(),
            col(segment_membership::Entity, M::SegmentId),
            segment_ids.iter().copied(),
        ))
        .group_by_col((segment_membership::Entity, M::SegmentId))
        .to_owned();
    key_counts(db, &statement).await
}

/// Distinct recipients of these campaigns; a campaign with none is absent.
pub async fn recipient_counts<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    use campaign_audience::Column as A;
    use segment_membership::Column as M;
    let statement = Query::select()
        .expr_as(
            col(campaign_audience::Entity, A::CampaignId),
            Alias::new("key"),
        )
        .expr_as(
            Func::count_distinct(col(segment_membership::Entity, M::InfluencerId)),
            Alias::new("n"),
        )
        .from(campaign_audience::Entity)
        .join(
            JoinType::InnerJoin,
            segment_membership::Entity,
            col(segment_membership::Entity, M::WorkspaceId)
                .equals((campaign_audience::Entity, A::WorkspaceId))
                .and(
                    col(segment_membership::Entity, M::SegmentId)
                        .equals((campaign_audience::Entity, A::SegmentId)),
                ),
        )
        .and_where(col(campaign_audience::Entity, A::WorkspaceId).eq(ws.0))
        .and_where(any_of(
            db.get_database_backend(),
            col(campaign_audience::Entity, A::CampaignId),
            campaign_ids.iter().copied(),
        ))
        .group_by_col((campaign_audience::Entity, A::CampaignId))
        .to_owned();
    key_counts(db, &statement).await
}
