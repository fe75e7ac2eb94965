//! The roster filter: conditions on influencers, composed with `anyOf`, `allOf` and `not`,
//! checked once ([`parse`], [`missing_references`]) and compiled to one SQL condition
//! ([`condition`]) that pages, counts, assigns and removes use alike.
//!
//! Every condition is two-valued: it holds or it does not, never SQL's unknown. A missing niche
//! or follower count simply fails a niche or range condition, and so passes its `not`. This is
//! what makes `not` exact, and the same on SQLite and PostgreSQL.

use chrono::{DateTime, Duration, Utc};
use entity::{
    engagement_event,
    enums::{EngagementKind, Platform},
    influencer, segment, segment_membership,
};
use sea_orm::{
    ActiveEnum, DbErr,
    sea_query::{Alias, Expr, ExprTrait, Query, SimpleExpr},
};

use super::{
    errors::{InputError, InputErrorCode},
    id_list::any_of,
    reads::{
        by_id::existing_ids,
        sql::{col, contains},
    },
    scope::Scoped,
    text::{Niche, SearchTerm},
    validate,
};

/// Deepest nesting of `anyOf`, `allOf` and `not`: the top filter is level 1.
pub const MAX_DEPTH: usize = 5;
/// Most conditions in one filter, counted over all its levels (`anyOf`, `allOf` and `not` are
/// not conditions themselves).
pub const MAX_CONDITIONS: usize = 50;
/// Most values in one list of a filter.
pub const MAX_VALUES: usize = 1000;
/// Bounds of `withinDays`.
pub const WITHIN_DAYS: std::ops::RangeInclusive<i32> = 1..=3650;

/// A filter as the caller sent it, ids already decoded. [`parse`] checks it.
#[derive(Clone, Debug, Default)]
pub struct FilterInput {
    pub platform_in: Option<Vec<Platform>>,
    pub niche_in: Option<Vec<String>>,
    pub follower_count: Option<IntRange>,
    pub created_at: Option<TimeRange>,
    pub search: Option<String>,
    pub in_any_segment: Option<Vec<i64>>,
    pub in_all_segments: Option<Vec<i64>>,
    pub in_no_segment: Option<Vec<i64>>,
    pub unassigned: Option<bool>,
    pub engaged: Option<EngagedInput>,
    pub any_of: Option<Vec<FilterInput>>,
    pub all_of: Option<Vec<FilterInput>>,
    pub not: Option<Box<FilterInput>>,
}

/// An engagement condition as the caller sent it.
#[derive(Clone, Debug, Default)]
pub struct EngagedInput {
    pub kinds: Option<Vec<EngagementKind>>,
    pub campaign_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub within_days: Option<i32>,
}

/// Inclusive bounds; either may be missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct IntRange {
    pub min: Option<i32>,
    pub max: Option<i32>,
}

/// `from` inclusive, `to` exclusive; either may be missing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// A checked filter: every field given must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct InfluencerFilter {
    pub platform_in: Option<Vec<Platform>>,
    /// Niche keys ([`Niche::key`]).
    pub niche_in: Option<Vec<String>>,
    pub follower_count: Option<IntRange>,
    pub created_at: Option<TimeRange>,
    pub search: Option<SearchTerm>,
    pub in_any_segment: Option<Vec<i64>>,
    pub in_all_segments: Option<Vec<i64>>,
    pub in_no_segment: Option<Vec<i64>>,
    pub unassigned: Option<bool>,
    pub engaged: Option<Engaged>,
    pub any_of: Option<Vec<InfluencerFilter>>,
    pub all_of: Option<Vec<InfluencerFilter>>,
    pub not: Option<Box<InfluencerFilter>>,
}

/// A checked engagement condition: an engagement event with every property given exists.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct Engaged {
    pub kinds: Option<Vec<EngagementKind>>,
    pub campaign_id: Option<i64>,
    pub since: Option<DateTime<Utc>>,
    pub within_days: Option<i32>,
}

/// A path in the input, for errors.
#[derive(Clone)]
struct Path(Vec<String>);

impl Path {
    fn join(&self, field: &str) -> Path {
        let mut next = self.0.clone();
        next.push(field.to_owned());
        Path(next)
    }

    fn index(&self, index: usize) -> Path {
        self.join(&index.to_string())
    }

    fn error(&self, code: InputErrorCode, message: impl Into<String>) -> InputError {
        InputError {
            field: self.0.clone(),
            message: message.into(),
            code,
        }
    }

    fn parts(&self) -> Vec<&str> {
        self.0.iter().map(String::as_str).collect()
    }
}

/// Checks a filter found at `path` (e.g. `["input", "filter"]`), reporting every problem at
/// its own path: nesting deeper than [`MAX_DEPTH`], more than [`MAX_CONDITIONS`] conditions, a
/// list over [`MAX_VALUES`] values, a range whose bounds cross, `withinDays` outside
/// [`WITHIN_DAYS`], and text that names and searches refuse.
pub fn parse(input: FilterInput, path: &[&str]) -> Result<InfluencerFilter, Vec<InputError>> {
    let path = Path(path.iter().map(|s| (*s).to_owned()).collect());
    let mut errors = Vec::new();
    let conditions = count_conditions(&input);
    if conditions > MAX_CONDITIONS {
        errors.push(path.error(
            InputErrorCode::TooMany,
            format!("at most {MAX_CONDITIONS} conditions in a filter (got {conditions})"),
        ));
    }
    let filter = parse_level(input, &path, 1, &mut errors);
    if errors.is_empty() {
        Ok(filter)
    } else {
        Err(errors)
    }
}

/// The conditions of a filter, all levels together.
fn count_conditions(input: &FilterInput) -> usize {
    let own = [
        input.platform_in.is_some(),
        input.niche_in.is_some(),
        input.follower_count.is_some(),
        input.created_at.is_some(),
        input.search.is_some(),
        input.in_any_segment.is_some(),
        input.in_all_segments.is_some(),
        input.in_no_segment.is_some(),
        input.unassigned.is_some(),
        input.engaged.is_some(),
    ]
    .into_iter()
    .filter(|given| *given)
    .count();
    let nested: usize = input
        .any_of
        .iter()
        .chain(input.all_of.iter())
        .flatten()
        .chain(input.not.as_deref())
        .map(count_conditions)
        .sum();
    own + nested
}

fn parse_level(
    input: FilterInput,
    path: &Path,
    depth: usize,
    errors: &mut Vec<InputError>,
) -> InfluencerFilter {
    let list = |values: Option<Vec<i64>>, field: &str, errors: &mut Vec<InputError>| {
        let values = values?;
        within_values(values.len(), &path.join(field), errors);
        Some(validate::dedup(&values))
    };
    let in_any_segment = list(input.in_any_segment, "inAnySegment", errors);
    let in_all_segments = list(input.in_all_segments, "inAllSegments", errors);
    let in_no_segment = list(input.in_no_segment, "inNoSegment", errors);
    let platform_in = input.platform_in.map(|platforms| {
        within_values(platforms.len(), &path.join("platformIn"), errors);
        platforms
    });
    let niche_in = input.niche_in.map(|niches| {
        let at = path.join("nicheIn");
        within_values(niches.len(), &at, errors);
        let mut keys = Vec::with_capacity(niches.len());
        for (index, niche) in niches.iter().enumerate() {
            match Niche::parse(Some(niche), &at.index(index).parts()) {
                Ok(Some(niche)) => keys.push(niche.key()),
                Ok(None) => errors.push(
                    at.index(index)
                        .error(InputErrorCode::Invalid, "a niche must not be blank"),
                ),
                Err(error) => errors.push(error),
            }
        }
        keys
    });
    if let Some(IntRange {
        min: Some(min),
        max: Some(max),
    }) = input.follower_count
        && min > max
    {
        errors.push(path.join("followerCount").error(
            InputErrorCode::Invalid,
            format!("min ({min}) is greater than max ({max})"),
        ));
    }
    if let Some(TimeRange {
        from: Some(from),
        to: Some(to),
    }) = input.created_at
        && from >= to
    {
        errors.push(path.join("createdAt").error(
            InputErrorCode::Invalid,
            "from must be earlier than to (to is exclusive)",
        ));
    }
    let search = input
        .search
        .and_then(|raw| match SearchTerm::parse(Some(&raw)) {
            Ok(term) => term,
            Err(mut error) => {
                error.field = path.join("search").0;
                errors.push(error);
                None
            }
        });
    let engaged = input.engaged.map(|engaged| {
        let at = path.join("engaged");
        if let Some(kinds) = &engaged.kinds {
            within_values(kinds.len(), &at.join("kinds"), errors);
        }
        if let Some(days) = engaged.within_days
            && !WITHIN_DAYS.contains(&days)
        {
            errors.push(at.join("withinDays").error(
                InputErrorCode::Invalid,
                format!(
                    "withinDays must be {} to {} (got {days})",
                    WITHIN_DAYS.start(),
                    WITHIN_DAYS.end()
                ),
            ));
        }
        Engaged {
            kinds: engaged.kinds,
            campaign_id: engaged.campaign_id,
            since: engaged.since,
            within_days: engaged.within_days,
        }
    });
    let nested_too_deep = depth >= MAX_DEPTH;
    let nested = |filters: Vec<FilterInput>, field: &str, errors: &mut Vec<InputError>| {
        let at = path.join(field);
        if nested_too_deep {
            errors.push(at.error(
                InputErrorCode::TooMany,
                format!("filters nest at most {MAX_DEPTH} levels deep"),
            ));
            return Vec::new();
        }
        within_values(filters.len(), &at, errors);
        filters
            .into_iter()
            .enumerate()
            .map(|(index, filter)| parse_level(filter, &at.index(index), depth + 1, errors))
            .collect()
    };
    let any_of = input.any_of.map(|f| nested(f, "anyOf", errors));
    let all_of = input.all_of.map(|f| nested(f, "allOf", errors));
    let not = input
        .not
        .map(|f| nested(vec![*f], "not", errors).pop().unwrap_or_default())
        .map(Box::new);
    InfluencerFilter {
        platform_in,
        niche_in,
        follower_count: input.follower_count,
        created_at: input.created_at,
        search,
        in_any_segment,
        in_all_segments,
        in_no_segment,
        unassigned: input.unassigned,
        engaged,
        any_of,
        all_of,
        not,
    }
}

fn within_values(len: usize, at: &Path, errors: &mut Vec<InputError>) {
    if len > MAX_VALUES {
        errors.push(at.error(
            InputErrorCode::TooMany,
            format!("at most {MAX_VALUES} values in a list (got {len})"),
        ));
    }
}

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
    E: super::scope::Identified,
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
        all.push(column(I::Platform).is_in(values));
    }
    if let Some(keys) = &filter.niche_in {
        all.push(
            column(I::NicheKey)
                .is_not_null()
                .and(column(I::NicheKey).is_in(keys.iter().cloned())),
        );
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
                .unwrap_or_else(|| Expr::val(false).into()),
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
        .unwrap_or_else(|| Expr::val(true).into())
}

/// `SELECT 1 FROM segment_membership fm WHERE` it is the outer influencer's (in the workspace)
/// `[AND fm.segment_id IN (ids)]`.
fn memberships<S: Scoped>(s: &S, ids: Option<&[i64]>) -> sea_orm::sea_query::SelectStatement {
    use segment_membership::Column as M;
    let alias = Alias::new("fm");
    let mut query = Query::select();
    query
        .expr(Expr::val(1))
        .from_as(segment_membership::Entity, alias.clone())
        .and_where(s.owns_column((alias.clone(), M::WorkspaceId)))
        .and_where(
            Expr::col((alias.clone(), M::InfluencerId))
                .equals((influencer::Entity, influencer::Column::Id)),
        );
    if let Some(ids) = ids {
        query.and_where(any_of(
            s.backend(),
            Expr::col((alias, M::SegmentId)),
            ids.iter().copied(),
        ));
    }
    query
}

/// `SELECT 1 FROM engagement_event fe WHERE` it is the outer influencer's and has every
/// property the condition gives.
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
        .and_where(s.owns_column((alias.clone(), E::WorkspaceId)))
        .and_where(at(E::InfluencerId).equals((influencer::Entity, influencer::Column::Id)));
    if let Some(kinds) = &engaged.kinds {
        let values: Vec<String> = kinds.iter().map(|k| k.to_value()).collect();
        query.and_where(at(E::Kind).is_in(values));
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
