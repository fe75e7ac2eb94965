//! Counts: of an influencer set, of segments' members (both may come from the count cache), and
//! of campaigns' recipients.

use std::collections::HashMap;

use entity::{campaign_audience, segment_membership};
use sea_orm::{
    ConnectionTrait, DbErr, FromQueryResult,
    sea_query::{Alias, Expr, ExprTrait, Func, JoinType, Query, SelectStatement},
};

use super::{
    influencers::influencer_base,
    sql::{col, count},
};
use crate::service::influencer_set::InfluencerSet;
use crate::service::{
    count_cache,
    id_list::any_of,
    scope::{Scope, Scoped},
};

/// How many influencers a set holds. Exact, except that a count which took longer than
/// [`count_cache::SLOW`] to compute (Unassigned on a roster of a million) is reused for up to
/// [`count_cache::FRESH_FOR`] and then recounted in the background; see [`count_cache`].
#[tracing::instrument(name = "reads::count_influencers", level = "debug", skip_all, fields(workspace = scope.workspace().0))]
pub async fn count_influencers(scope: &Scope, set: &InfluencerSet) -> Result<i64, DbErr> {
    let (counts, ws) = (scope.counts(), scope.workspace());
    let key = count_cache::Key::Influencers(ws.0, set.clone());
    match counts.lookup(&key) {
        count_cache::Lookup::Kept(n) => return Ok(n),
        count_cache::Lookup::Stale(n) => {
            let (scope, set) = (scope.clone(), set.clone());
            counts.remake_in_background(
                ws.0,
                async move { count_set(&scope, &set).await },
                move |n| vec![(key, n.copied())],
            );
            return Ok(n);
        }
        count_cache::Lookup::Missing => {}
    }
    // Nothing kept yet: requests arriving together take turns, and those after the first take
    // its count (kept when it was slow, or just made), instead of all scanning at once and
    // holding every pooled connection for seconds, or counting one after the other.
    let waiting_since = std::time::Instant::now();
    let gate = counts.gate(&key);
    let _turn = gate.lock().await;
    if let Some(n) = counts
        .fresh(&key)
        .or_else(|| counts.counted_since(&key, waiting_since))
    {
        return Ok(n);
    }
    counts
        .make(ws.0, count_set(scope, set), |n| vec![(key, n.copied())])
        .await
}

/// Counts a set, uncached.
async fn count_set(scope: &Scope, set: &InfluencerSet) -> Result<i64, DbErr> {
    count_now(scope, set).await
}

/// The influencers in `set` counted now on `s`'s connection, never from the kept counts: for a
/// figure that must agree with rows read in the same transaction.
pub async fn count_now<S: Scoped>(s: &S, set: &InfluencerSet) -> Result<i64, DbErr> {
    count(s.conn(), &mut influencer_base(s, set).all_rows()).await
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
#[tracing::instrument(name = "reads::member_counts", level = "debug", skip_all, fields(workspace = scope.workspace().0, segments = segment_ids.len()))]
pub async fn member_counts(scope: &Scope, segment_ids: &[i64]) -> Result<HashMap<i64, i64>, DbErr> {
    let (cache, ws) = (scope.counts(), scope.workspace());
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
            let scope = scope.clone();
            let ids = stale.clone();
            cache.remake_in_background(
                ws.0,
                async move { count_members(&scope, &ids).await },
                move |found| member_outcome(&stale, found, key),
            );
        }
        return Ok(counts);
    }
    // A statement runs anyway: it recounts the stale ones too.
    missing.append(&mut stale);
    let counted = cache
        .make(ws.0, count_members(scope, &missing), |found| {
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

async fn count_members(scope: &Scope, segment_ids: &[i64]) -> Result<HashMap<i64, i64>, DbErr> {
    use segment_membership::Column as M;
    let statement = Query::select()
        .expr_as(
            col(segment_membership::Entity, M::SegmentId),
            Alias::new("key"),
        )
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"))
        .from(segment_membership::Entity)
        .and_where(scope.owns::<segment_membership::Entity>())
        .and_where(any_of(
            scope.backend(),
            col(segment_membership::Entity, M::SegmentId),
            segment_ids.iter().copied(),
        ))
        .group_by_col((segment_membership::Entity, M::SegmentId))
        .to_owned();
    key_counts(scope.conn(), &statement).await
}

/// Distinct recipients of these campaigns; a campaign with none is absent.
#[tracing::instrument(name = "reads::recipient_counts", level = "debug", skip_all, fields(workspace = s.workspace().0, campaigns = campaign_ids.len()))]
pub async fn recipient_counts<S: Scoped>(
    s: &S,
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
        .and_where(s.owns::<campaign_audience::Entity>())
        .and_where(any_of(
            s.backend(),
            col(campaign_audience::Entity, A::CampaignId),
            campaign_ids.iter().copied(),
        ))
        .group_by_col((campaign_audience::Entity, A::CampaignId))
        .to_owned();
    key_counts(s.conn(), &statement).await
}
