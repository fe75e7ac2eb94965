//! The filter in SQL: the ids it names looked up ([`missing_references`]) and the filter as one
//! condition on the `influencer` table ([`condition`]).

use chrono::{DateTime, Duration, Utc};
use entity::{engagement_event, influencer, segment, segment_membership};
use sea_orm::{
    ActiveEnum, DbErr,
    sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr},
};

use super::input::{Engaged, InfluencerFilter, Path};
use crate::service::{
    errors::{InputError, InputErrorCode},
    id_list::one_of,
    reads::{
        by_id::existing_ids,
        sql::{col, contains},
    },
    scope::Scoped,
};

/// The segments and campaigns a filter names, each with its path.
fn references(
    filter: &InfluencerFilter,
    path: &Path,
    segments: &mut Vec<(i64, Path)>,
    campaigns: &mut Vec<(i64, Path)>,
) {
    for (field, ids) in [
        ("inAnySegment", &filter.in_any_segment),
        ("inAllSegments", &filter.in_all_segments),
        ("inNoSegment", &filter.in_no_segment),
    ] {
        for (index, id) in ids.iter().flatten().enumerate() {
            segments.push((*id, path.join(field).index(index)));
        }
    }
    if let Some(id) = filter.engaged.as_ref().and_then(|e| e.campaign_id) {
        campaigns.push((id, path.join("engaged").join("campaignId")));
    }
    for (field, filters) in [("anyOf", &filter.any_of), ("allOf", &filter.all_of)] {
        for (index, nested) in filters.iter().flatten().enumerate() {
            references(nested, &path.join(field).index(index), segments, campaigns);
        }
    }
    if let Some(nested) = &filter.not {
        references(nested, &path.join("not"), segments, campaigns);
    }
}

/// NOT_FOUND errors for the segment and campaign ids of a filter (at `path`) that name nothing
/// in the workspace: another workspace's ids are the same as ids of nothing. Two queries at
/// most, whatever the filter.
pub async fn missing_references<S: Scoped>(
    s: &S,
    filter: &InfluencerFilter,
    path: &[&str],
) -> Result<Vec<InputError>, DbErr> {
    let path = Path(path.iter().map(|s| (*s).to_owned()).collect());
    let (mut segments, mut campaigns) = (Vec::new(), Vec::new());
    references(filter, &path, &mut segments, &mut campaigns);
    let mut errors = Vec::new();
    for (named, what, found) in [
        (
            &segments,
            "segment",
            existing::<segment::Entity, S>(s, &segments).await?,
        ),
        (
            &campaigns,
            "campaign",
            existing::<entity::campaign::Entity, S>(s, &campaigns).await?,
        ),
    ] {
        for (id, at) in named {
            if !found.contains(id) {
                errors.push(at.error(InputErrorCode::NotFound, format!("no {what} has this id")));
            }
        }
    }
    Ok(errors)
}

async fn existing<E, S>(
    s: &S,
    named: &[(i64, Path)],
) -> Result<std::collections::HashSet<i64>, DbErr>
where
    E: crate::service::scope::Identified,
    S: Scoped,
{
    let ids: Vec<i64> = named.iter().map(|(id, _)| *id).collect();
    existing_ids::<E, S>(s, &ids).await
}

/// The filter as one condition on the `influencer` table of the statement it goes into
/// (unaliased), evaluated at `now` (for `withinDays`).
pub fn condition<S: Scoped>(s: &S, filter: &InfluencerFilter, now: DateTime<Utc>) -> SimpleExpr {
    use influencer::Column as I;
    let mut all: Vec<SimpleExpr> = Vec::new();
    let column = |c: I| col(influencer::Entity, c);
    if let Some(platforms) = &filter.platform_in {
        let values: Vec<String> = platforms.iter().map(|p| p.to_value()).collect();
        all.push(one_of(s.backend(), column(I::Platform), values));
    }
    if let Some(keys) = &filter.niche_in {
        all.push(column(I::NicheKey).is_not_null().and(one_of(
            s.backend(),
            column(I::NicheKey),
            keys.clone(),
        )));
    }
    if let Some(range) = filter.follower_count {
        let mut held = column(I::FollowerCount).is_not_null();
        if let Some(min) = range.min {
            held = held.and(column(I::FollowerCount).gte(min));
        }
        if let Some(max) = range.max {
            held = held.and(column(I::FollowerCount).lte(max));
        }
        all.push(held);
    }
    if let Some(range) = filter.created_at {
        if let Some(from) = range.from {
            all.push(column(I::CreatedAt).gte(from));
        }
        if let Some(to) = range.to {
            all.push(column(I::CreatedAt).lt(to));
        }
    }
    if let Some(term) = &filter.search {
        all.push(
            contains(column(I::HandleKey), term).or(column(I::DisplayNameKey)
                .is_not_null()
                .and(contains(column(I::DisplayNameKey), term))),
        );
    }
    if let Some(ids) = &filter.in_any_segment {
        all.push(Expr::exists(memberships(s, Some(ids))));
    }
    if let Some(ids) = &filter.in_all_segments
        && !ids.is_empty()
    {
        let mut count = memberships(s, Some(ids));
        count.clear_selects().expr(Expr::cust("COUNT(*)"));
        all.push(
            Expr::expr(SimpleExpr::SubQuery(None, Box::new(count.into()))).eq(ids.len() as i64),
        );
    }
    if let Some(ids) = &filter.in_no_segment {
        all.push(Expr::exists(memberships(s, Some(ids))).not());
    }
    if let Some(unassigned) = filter.unassigned {
        let any = Expr::exists(memberships(s, None));
        all.push(if unassigned { any.not() } else { any });
    }
    if let Some(engaged) = &filter.engaged {
        all.push(Expr::exists(engagements(s, engaged, now)));
    }
    if let Some(filters) = &filter.any_of {
        all.push(
            filters
                .iter()
                .map(|f| condition(s, f, now))
                .reduce(SimpleExpr::or)
                .unwrap_or_else(|| Expr::val(false)),
        );
    }
    if let Some(filters) = &filter.all_of {
        all.extend(filters.iter().map(|f| condition(s, f, now)));
    }
    if let Some(filter) = &filter.not {
        all.push(condition(s, filter, now).not());
    }
    all.into_iter()
        .reduce(SimpleExpr::and)
        .unwrap_or_else(|| Expr::val(true))
}

/// `SELECT 1 FROM segment_membership fm WHERE` it is the outer influencer's
/// `[AND fm.segment_id IN (ids)]`.
///
/// The subqueries here are correlated on the influencer's id alone, as Unassigned's anti-join
/// is: a membership or an event refers to its influencer by `(workspace_id, influencer_id)`, so
/// those of the outer influencer (already in the workspace) are the workspace's by the database's
/// own keys. A bound workspace condition here would add nothing but a worse plan: without
/// statistics SQLite then searched the primary key by workspace, a scan of every membership for
/// each influencer, instead of the `(influencer_id, segment_id)` index.
fn memberships<S: Scoped>(s: &S, ids: Option<&[i64]>) -> sea_orm::sea_query::SelectStatement {
    use segment_membership::Column as M;
    let alias = Alias::new("fm");
    let mut query = Query::select();
    query
        .expr(Expr::val(1))
        .from_as(segment_membership::Entity, alias.clone())
        .and_where(
            Expr::col((alias.clone(), M::InfluencerId))
                .equals((influencer::Entity, influencer::Column::Id)),
        );
    if let Some(ids) = ids {
        query.and_where(one_of(
            s.backend(),
            Expr::col((alias, M::SegmentId)),
            ids.to_vec(),
        ));
    }
    query
}

/// `SELECT 1 FROM engagement_event fe WHERE` it is the outer influencer's (see [`memberships`]
/// for why the id is enough) and has every property the condition gives.
fn engagements<S: Scoped>(
    s: &S,
    engaged: &Engaged,
    now: DateTime<Utc>,
) -> sea_orm::sea_query::SelectStatement {
    use engagement_event::Column as E;
    let alias = Alias::new("fe");
    let at = |c: E| Expr::col((alias.clone(), c));
    let mut query = Query::select();
    query
        .expr(Expr::val(1))
        .from_as(engagement_event::Entity, alias.clone())
        .and_where(at(E::InfluencerId).equals((influencer::Entity, influencer::Column::Id)));
    if let Some(kinds) = &engaged.kinds {
        let values: Vec<String> = kinds.iter().map(|k| k.to_value()).collect();
        query.and_where(one_of(s.backend(), at(E::Kind), values));
    }
    if let Some(campaign) = engaged.campaign_id {
        query.and_where(at(E::CampaignId).eq(campaign));
    }
    if let Some(since) = engaged.since {
        query.and_where(at(E::OccurredAt).gte(since));
    }
    if let Some(days) = engaged.within_days {
        query.and_where(at(E::OccurredAt).gte(now - Duration::days(i64::from(days))));
    }
    query
}
