//! The roster filter as clients send it (`InfluencerFilter` and its ranges), decoded into the
//! service's [`FilterInput`] and checked there.

use async_graphql::{Context, ErrorExtensions, ID, InputObject, Result};

use super::{
    context::scope,
    enums::{EngagementKind, Platform},
    errors::internal,
    ids::{self, Kind},
    scalars::DateTime,
};
use crate::{
    errors::{Code, graphql::error_with_code},
    service::{
        InputError,
        filter::{self, EngagedInput, FilterInput, InfluencerFilter, IntRange, TimeRange},
    },
};

/// Conditions on influencers. All fields given must hold (AND). `anyOf` holds when at least one
/// of its filters holds, `allOf` when all do, `not` when its filter does not. An empty filter
/// matches the whole roster.
///
/// Every condition either holds or does not: an influencer without a niche or a follower count
/// fails `nicheIn` and `followerCount`, and so passes their `not`. An empty list in `platformIn`,
/// `nicheIn`, `inAnySegment` or `anyOf` matches nobody; in `inAllSegments`, `inNoSegment` or
/// `allOf`, everybody. At most 5 levels of nesting, 50 conditions in all, and 1,000 values in
/// a list.
#[derive(InputObject, Clone, Default)]
#[graphql(name = "InfluencerFilter")]
pub struct InfluencerFilterInput {
    /// Publishes on one of these platforms.
    pub platform_in: Option<Vec<Platform>>,
    /// Niche equal to one of these, ignoring case.
    pub niche_in: Option<Vec<String>>,
    /// Follower count within these bounds (an influencer without one is outside any range).
    pub follower_count: Option<IntRangeInput>,
    /// Added to the roster within this time range.
    pub created_at: Option<DateTimeRangeInput>,
    /// Handle or display name contains this, ignoring case.
    pub search: Option<String>,
    /// Member of at least one of these segments.
    pub in_any_segment: Option<Vec<ID>>,
    /// Member of every one of these segments.
    pub in_all_segments: Option<Vec<ID>>,
    /// Member of none of these segments.
    pub in_no_segment: Option<Vec<ID>>,
    /// True: in no segment (the Unassigned folder); false: in at least one.
    pub unassigned: Option<bool>,
    /// Has engaged in this way (wrap it in `not` for "has not").
    pub engaged: Option<EngagementConditionInput>,
    /// At least one of these filters holds.
    pub any_of: Option<Vec<InfluencerFilterInput>>,
    /// Every one of these filters holds.
    pub all_of: Option<Vec<InfluencerFilterInput>>,
    /// This filter does not hold.
    pub not: Option<Box<InfluencerFilterInput>>,
}

/// Inclusive bounds; either may be left out.
#[derive(InputObject, Clone, Copy, Default)]
#[graphql(name = "IntRange")]
pub struct IntRangeInput {
    /// The smallest value that matches.
    pub min: Option<i32>,
    /// The largest value that matches; not less than `min`.
    pub max: Option<i32>,
}

/// `from` inclusive, `to` exclusive; either may be left out.
#[derive(InputObject, Clone, Copy, Default)]
#[graphql(name = "DateTimeRange")]
pub struct DateTimeRangeInput {
    /// The earliest time that matches.
    pub from: Option<DateTime>,
    /// The first time that no longer matches; later than `from`.
    pub to: Option<DateTime>,
}

/// An engagement event that exists. All fields given must hold.
#[derive(InputObject, Clone, Default)]
#[graphql(name = "EngagementCondition")]
pub struct EngagementConditionInput {
    /// The event is one of these kinds.
    pub kinds: Option<Vec<EngagementKind>>,
    /// The event belongs to this campaign.
    pub campaign_id: Option<ID>,
    /// At or after this time.
    pub since: Option<DateTime>,
    /// Within the last N days, a rolling window: 1 to 3650.
    pub within_days: Option<i32>,
}

/// Decodes the ids of a filter found at `path`, collecting an error for each id that is not
/// one of the kind its field takes.
fn decode(
    input: InfluencerFilterInput,
    path: &[String],
    errors: &mut Vec<InputError>,
) -> FilterInput {
    let at = |field: &str| {
        let mut p = path.to_vec();
        p.push(field.to_owned());
        p
    };
    let mut ids_of = |list: Option<Vec<ID>>, field: &str, kind: Kind| {
        list.map(|ids| {
            let field = at(field);
            let parts: Vec<&str> = field.iter().map(String::as_str).collect();
            ids::decode_list(&ids, kind, &parts).unwrap_or_else(|mut bad| {
                errors.append(&mut bad);
                Vec::new()
            })
        })
    };
    let in_any_segment = ids_of(input.in_any_segment, "inAnySegment", Kind::Segment);
    let in_all_segments = ids_of(input.in_all_segments, "inAllSegments", Kind::Segment);
    let in_no_segment = ids_of(input.in_no_segment, "inNoSegment", Kind::Segment);
    let engaged = input.engaged.map(|engaged| {
        let field = {
            let mut p = at("engaged");
            p.push("campaignId".to_owned());
            p
        };
        let parts: Vec<&str> = field.iter().map(String::as_str).collect();
        let campaign_id = engaged.campaign_id.and_then(|id| {
            ids::decode(&id, Kind::Campaign, &parts)
                .map_err(|error| errors.push(error))
                .ok()
        });
        EngagedInput {
            kinds: engaged
                .kinds
                .map(|kinds| kinds.into_iter().map(Into::into).collect()),
            campaign_id,
            since: engaged.since.map(|t| t.0),
            within_days: engaged.within_days,
        }
    });
    let mut nested = |filters: Vec<InfluencerFilterInput>, field: &str| {
        let field = at(field);
        filters
            .into_iter()
            .enumerate()
            .map(|(index, filter)| {
                let mut p = field.clone();
                p.push(index.to_string());
                decode(filter, &p, errors)
            })
            .collect::<Vec<_>>()
    };
    let any_of = input.any_of.map(|f| nested(f, "anyOf"));
    let all_of = input.all_of.map(|f| nested(f, "allOf"));
    let not = input.not.map(|f| Box::new(decode(*f, &at("not"), errors)));
    FilterInput {
        platform_in: input
            .platform_in
            .map(|platforms| platforms.into_iter().map(Into::into).collect()),
        niche_in: input.niche_in,
        follower_count: input.follower_count.map(|r| IntRange {
            min: r.min,
            max: r.max,
        }),
        created_at: input.created_at.map(|r| TimeRange {
            from: r.from.map(|t| t.0),
            to: r.to.map(|t| t.0),
        }),
        search: input.search,
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

/// A filter at `path` with its ids decoded (as a rule is stored); the service checks the rest.
pub fn input(input: InfluencerFilterInput, path: &[&str]) -> Result<FilterInput, Vec<InputError>> {
    let mut errors = Vec::new();
    let path_owned: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
    let raw = decode(input, &path_owned, &mut errors);
    if errors.is_empty() {
        Ok(raw)
    } else {
        Err(errors)
    }
}

/// A stored filter as clients write it, to send back as is: global ids for its segments and
/// campaigns.
pub fn to_json(input: &FilterInput) -> serde_json::Value {
    fn encode_ids(value: &mut serde_json::Value) {
        let Some(object) = value.as_object_mut() else {
            return;
        };
        for field in ["inAnySegment", "inAllSegments", "inNoSegment"] {
            if let Some(serde_json::Value::Array(ids)) = object.get_mut(field) {
                for id in ids {
                    if let Some(n) = id.as_i64() {
                        *id = ids::encode(Kind::Segment, n).0.into();
                    }
                }
            }
        }
        if let Some(campaign) = object
            .get_mut("engaged")
            .and_then(|e| e.get_mut("campaignId"))
            && let Some(n) = campaign.as_i64()
        {
            *campaign = ids::encode(Kind::Campaign, n).0.into();
        }
        for field in ["anyOf", "allOf"] {
            if let Some(serde_json::Value::Array(nested)) = object.get_mut(field) {
                nested.iter_mut().for_each(encode_ids);
            }
        }
        if let Some(nested) = object.get_mut("not") {
            encode_ids(nested);
        }
    }
    let mut value = serde_json::to_value(input).expect("a filter always serializes");
    encode_ids(&mut value);
    value
}

/// A filter in a mutation's input at `path`: decoded and checked, with every problem as an
/// input error at its path. Whether the ids it names exist is checked in the write.
pub fn decoded(
    input: InfluencerFilterInput,
    path: &[&str],
) -> Result<InfluencerFilter, Vec<InputError>> {
    let mut errors = Vec::new();
    let path_owned: Vec<String> = path.iter().map(|s| (*s).to_owned()).collect();
    let raw = decode(input, &path_owned, &mut errors);
    match filter::parse(raw, path) {
        Ok(filter) if errors.is_empty() => Ok(filter),
        Ok(_) => Err(errors),
        Err(more) => {
            errors.extend(more);
            Err(errors)
        }
    }
}

/// A filter given as a query argument named `argument`: decoded, checked, and its segment and
/// campaign ids looked up. Any problem is a BAD_USER_INPUT error that lists each one with its
/// path and reason (`INVALID`, `TOO_MANY`, `NOT_FOUND`).
pub async fn argument(
    ctx: &Context<'_>,
    input: InfluencerFilterInput,
    argument: &str,
) -> Result<InfluencerFilter> {
    let filter = decoded(input, &[argument]).map_err(refused)?;
    let missing = filter::missing_references(scope(ctx)?, &filter, &[argument])
        .await
        .map_err(internal)?;
    if missing.is_empty() {
        Ok(filter)
    } else {
        Err(refused(missing))
    }
}

/// The BAD_USER_INPUT error for a query argument's problems.
fn refused(errors: Vec<InputError>) -> async_graphql::Error {
    let message = errors
        .iter()
        .map(|e| format!("{}: {}", e.field.join("."), e.message))
        .collect::<Vec<_>>()
        .join("; ");
    let problems: Vec<serde_json::Value> = errors
        .iter()
        .map(|e| serde_json::json!({ "field": e.field, "code": e.code.as_str(), "message": e.message }))
        .collect();
    let problems = async_graphql::Value::from_json(problems.into()).expect("plain JSON");
    error_with_code(message, Code::BadUserInput).extend_with(|_, ext| ext.set("problems", problems))
}
