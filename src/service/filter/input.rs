//! The filter as it arrives and as it is checked: [`FilterInput`] (what the caller sent, ids
//! decoded; also how a rule is stored) and [`InfluencerFilter`] (checked by [`parse`]).

use chrono::{DateTime, Utc};
use entity::enums::{EngagementKind, Platform};

use crate::service::{
    errors::{InputError, InputErrorCode},
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

/// A filter as the caller sent it, ids already decoded. [`parse`] checks it. A RULE segment
/// stores its rule in this form, as JSON (fields left out when not given).
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FilterInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_in: Option<Vec<Platform>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub niche_in: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub follower_count: Option<IntRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<TimeRange>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub search: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_any_segment: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_all_segments: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub in_no_segment: Option<Vec<i64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unassigned: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engaged: Option<EngagedInput>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub any_of: Option<Vec<FilterInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub all_of: Option<Vec<FilterInput>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub not: Option<Box<FilterInput>>,
}

/// An engagement condition as the caller sent it.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EngagedInput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kinds: Option<Vec<EngagementKind>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub campaign_id: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub within_days: Option<i32>,
}

/// Inclusive bounds; either may be missing.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct IntRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<i32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<i32>,
}

/// `from` inclusive, `to` exclusive; either may be missing.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(deny_unknown_fields)]
pub struct TimeRange {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
pub(super) struct Path(pub(super) Vec<String>);

impl Path {
    pub(super) fn join(&self, field: &str) -> Path {
        let mut next = self.0.clone();
        next.push(field.to_owned());
        Path(next)
    }

    pub(super) fn index(&self, index: usize) -> Path {
        self.join(&index.to_string())
    }

    pub(super) fn error(&self, code: InputErrorCode, message: impl Into<String>) -> InputError {
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
    let platform_in = input.platform_in.inspect(|platforms| {
        within_values(platforms.len(), &path.join("platformIn"), errors);
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
    let not = input.not.map(|f| {
        let at = path.join("not");
        if nested_too_deep {
            errors.push(at.error(
                InputErrorCode::TooMany,
                format!("filters nest at most {MAX_DEPTH} levels deep"),
            ));
            return Box::default();
        }
        Box::new(parse_level(*f, &at, depth + 1, errors))
    });
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

impl InfluencerFilter {
    /// Every level of the filter, this one first.
    pub(super) fn levels(&self) -> Vec<&InfluencerFilter> {
        let mut all = vec![self];
        let mut next = 0;
        while next < all.len() {
            let level = all[next];
            all.extend(level.any_of.iter().flatten());
            all.extend(level.all_of.iter().flatten());
            all.extend(level.not.as_deref());
            next += 1;
        }
        all
    }

    /// The segments the filter names, at any level.
    pub fn named_segments(&self) -> std::collections::BTreeSet<i64> {
        self.levels()
            .into_iter()
            .flat_map(|f| {
                [&f.in_any_segment, &f.in_all_segments, &f.in_no_segment]
                    .into_iter()
                    .flatten()
                    .flatten()
                    .copied()
            })
            .collect()
    }

    /// The campaigns the filter names, at any level.
    pub fn named_campaigns(&self) -> std::collections::BTreeSet<i64> {
        self.levels()
            .into_iter()
            .filter_map(|f| f.engaged.as_ref()?.campaign_id)
            .collect()
    }

    /// Whether a condition reads engagement.
    pub fn uses_engagement(&self) -> bool {
        self.levels().into_iter().any(|f| f.engaged.is_some())
    }

    /// Whether a condition has a rolling window, whose matches move with the clock.
    pub fn uses_rolling_window(&self) -> bool {
        self.levels()
            .into_iter()
            .any(|f| f.engaged.as_ref().is_some_and(|e| e.within_days.is_some()))
    }

    /// The path of the first `unassigned` condition, if any, below `path`.
    pub fn unassigned_path(&self, path: &[&str]) -> Option<Vec<String>> {
        fn find(filter: &InfluencerFilter, path: &Path) -> Option<Vec<String>> {
            if filter.unassigned.is_some() {
                return Some(path.join("unassigned").0);
            }
            for (field, filters) in [("anyOf", &filter.any_of), ("allOf", &filter.all_of)] {
                for (index, nested) in filters.iter().flatten().enumerate() {
                    if let Some(found) = find(nested, &path.join(field).index(index)) {
                        return Some(found);
                    }
                }
            }
            find(filter.not.as_deref()?, &path.join("not"))
        }
        find(self, &Path(path.iter().map(|s| (*s).to_owned()).collect()))
    }
}
