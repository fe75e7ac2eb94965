//! What a filter's conditions on an influencer's own fields tell, on the row alone.
//!
//! A filter is a boolean function of its conditions (`anyOf`, `allOf` and `not` only combine
//! them). Its conditions on the influencer's own fields (platform, niche, follower count) are
//! decided here, on the row; the others read other tables (memberships, engagement), or are
//! left to the SQL condition (`search`, `createdAt`: matched as the database compares text and
//! instants, not decided twice in two languages).
//!
//! - [`read_the_same`]: whether no filter can tell two versions of a row apart (an email
//!   change).
//! - [`InfluencerFilter::may_flip`]: whether an edit of the row can change the verdict. Only a
//!   condition that changes can, and an edit of the row leaves memberships and engagement as
//!   they were (`createdAt` never changes). An update that moves a follower count from 12k to
//!   15k changes nothing for a rule on "at least 100k", so that rule is not evaluated.
//!   Memberships that the same write changes through other rules are followed by those rules'
//!   dependents (`rules::follow`), not here.
//! - [`InfluencerFilter::decided_by_row`]: the verdict, when the row's own fields decide it
//!   whatever the other conditions say (a rule on "at least 100k and in segment S" is false for
//!   a row of 15k). Unknown conditions combine as in three-valued logic.

use entity::influencer;

use super::input::{InfluencerFilter, IntRange};

/// Whether every field a filter reads is the same in both versions of a row, as filters read
/// them (the niche and the names by their keys): no filter can tell them apart.
pub fn read_the_same(before: &influencer::Model, after: &influencer::Model) -> bool {
    before.platform == after.platform
        && before.niche_key == after.niche_key
        && before.follower_count == after.follower_count
        && before.handle_key == after.handle_key
        && before.display_name_key == after.display_name_key
}

impl InfluencerFilter {
    /// Whether some condition of the filter, at any level, holds for one version of the
    /// influencer and not for the other. `false` means the filter's verdict is the same for both.
    pub fn may_flip(&self, before: &influencer::Model, after: &influencer::Model) -> bool {
        self.levels()
            .into_iter()
            .any(|level| level.own_condition_flips(before, after))
    }

    /// The filter's verdict on `row` when the row's own fields decide it, `None` when it
    /// depends on a condition decided elsewhere (in the database).
    pub fn decided_by_row(&self, row: &influencer::Model) -> Option<bool> {
        let fields = self.field_conditions(row).into_iter().flatten().map(Some);
        let elsewhere = self.has_conditions_elsewhere().then_some(None);
        // As `filter::condition` composes them: a level is all of its conditions, `anyOf` of
        // none is false, `allOf` of none is true.
        let any_of = self.any_of.as_ref().map(|filters| {
            filters
                .iter()
                .map(|f| f.decided_by_row(row))
                .fold(Some(false), or)
        });
        let all_of = self.all_of.iter().flatten().map(|f| f.decided_by_row(row));
        let not = self.not.as_ref().map(|f| f.decided_by_row(row).map(|v| !v));
        fields
            .chain(elsewhere)
            .chain(any_of)
            .chain(all_of)
            .chain(not)
            .fold(Some(true), and)
    }

    /// This level's conditions (not its nested filters') on the fields decided here: platform,
    /// niche, follower count, each `None` when not given.
    fn field_conditions(&self, row: &influencer::Model) -> [Option<bool>; 3] {
        [
            self.platform_in
                .as_ref()
                .map(|platforms| platforms.contains(&row.platform)),
            self.niche_in
                .as_ref()
                .map(|keys| row.niche_key.as_ref().is_some_and(|key| keys.contains(key))),
            self.follower_count
                .map(|range| within(range, row.follower_count)),
        ]
    }

    /// Whether this level has a condition decided in the database.
    fn has_conditions_elsewhere(&self) -> bool {
        self.created_at.is_some()
            || self.search.is_some()
            || self.in_any_segment.is_some()
            || self.in_all_segments.is_some()
            || self.in_no_segment.is_some()
            || self.unassigned.is_some()
            || self.engaged.is_some()
    }

    /// Whether one of this level's own conditions (not its nested filters) flips.
    fn own_condition_flips(&self, before: &influencer::Model, after: &influencer::Model) -> bool {
        self.field_conditions(before) != self.field_conditions(after)
            // The search is matched as the SQL condition matches it (a substring of a key, with
            // the database's own case rules); a change of either name is taken as a change of
            // its verdict.
            || self.search.is_some()
                && (before.handle_key != after.handle_key
                    || before.display_name_key != after.display_name_key)
    }
}

/// Three-valued `and`: false if either is false, unknown if either is unknown.
fn and(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(false), _) | (_, Some(false)) => Some(false),
        (Some(true), Some(true)) => Some(true),
        _ => None,
    }
}

/// Three-valued `or`: true if either is true, unknown if either is unknown.
fn or(a: Option<bool>, b: Option<bool>) -> Option<bool> {
    match (a, b) {
        (Some(true), _) | (_, Some(true)) => Some(true),
        (Some(false), Some(false)) => Some(false),
        _ => None,
    }
}

/// The range condition as the SQL condition decides it: a missing count fails it.
fn within(range: IntRange, count: Option<i32>) -> bool {
    count.is_some_and(|n| {
        range.min.is_none_or(|min| n >= min) && range.max.is_none_or(|max| n <= max)
    })
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use entity::enums::Platform;

    use super::*;
    use crate::service::filter::{FilterInput, parse};

    fn influencer() -> influencer::Model {
        influencer::Model {
            workspace_id: 1,
            id: 1,
            handle: "ana".into(),
            handle_key: "ana".into(),
            platform: Platform::Instagram,
            display_name: Some("Ana".into()),
            display_name_key: Some("ana".into()),
            email: None,
            niche: Some("Food".into()),
            niche_key: Some("food".into()),
            follower_count: Some(12_000),
            created_at: Utc::now(),
        }
    }

    fn filter(json: serde_json::Value) -> InfluencerFilter {
        let input: FilterInput = serde_json::from_value(json).expect("a filter input");
        parse(input, &["filter"]).expect("a valid filter")
    }

    fn with(change: impl FnOnce(&mut influencer::Model)) -> influencer::Model {
        let mut after = influencer();
        change(&mut after);
        after
    }

    #[test]
    fn a_count_that_stays_on_one_side_of_every_bound_flips_nothing() {
        let rule = filter(serde_json::json!({ "followerCount": { "min": 100000 } }));
        assert!(!rule.may_flip(&influencer(), &with(|m| m.follower_count = Some(15_000))));
        assert!(rule.may_flip(&influencer(), &with(|m| m.follower_count = Some(100_000))));
        assert!(!rule.may_flip(&influencer(), &with(|m| m.follower_count = None)));
        let band = filter(serde_json::json!({ "followerCount": { "min": 10000, "max": 20000 } }));
        assert!(band.may_flip(&influencer(), &with(|m| m.follower_count = Some(20_001))));
        assert!(band.may_flip(&influencer(), &with(|m| m.follower_count = None)));
        assert!(!band.may_flip(&influencer(), &with(|m| m.follower_count = Some(20_000))));
    }

    #[test]
    fn platform_and_niche_flip_only_across_the_list() {
        let platforms = filter(serde_json::json!({ "platformIn": ["INSTAGRAM", "TIKTOK"] }));
        assert!(!platforms.may_flip(&influencer(), &with(|m| m.platform = Platform::Tiktok)));
        assert!(platforms.may_flip(&influencer(), &with(|m| m.platform = Platform::Youtube)));
        let niches = filter(serde_json::json!({ "nicheIn": ["Food", "Travel"] }));
        assert!(!niches.may_flip(
            &influencer(),
            &with(|m| m.niche_key = Some("travel".into()))
        ));
        assert!(niches.may_flip(&influencer(), &with(|m| m.niche_key = None)));
        assert!(niches.may_flip(&influencer(), &with(|m| m.niche_key = Some("tech".into()))));
    }

    #[test]
    fn a_condition_flips_at_any_depth_and_under_not() {
        let nested = filter(serde_json::json!({
            "anyOf": [{ "not": { "allOf": [{ "followerCount": { "max": 50000 } }] } }]
        }));
        assert!(nested.may_flip(&influencer(), &with(|m| m.follower_count = Some(60_000))));
        assert!(!nested.may_flip(&influencer(), &with(|m| m.follower_count = Some(40_000))));
    }

    #[test]
    fn a_name_change_flips_a_search_and_nothing_else() {
        let search = filter(serde_json::json!({ "search": "an" }));
        let renamed = with(|m| m.display_name_key = Some("anna".into()));
        assert!(search.may_flip(&influencer(), &renamed));
        assert!(!search.may_flip(&influencer(), &with(|m| m.follower_count = None)));
        let other = filter(serde_json::json!({ "followerCount": { "min": 1 } }));
        assert!(!other.may_flip(&influencer(), &renamed));
    }

    #[test]
    fn conditions_on_other_tables_never_flip_on_an_edit() {
        let rule = filter(serde_json::json!({
            "unassigned": true,
            "engaged": { "withinDays": 7 },
            "createdAt": { "from": "2020-01-01T00:00:00Z" }
        }));
        let everything = with(|m| {
            m.platform = Platform::Youtube;
            m.niche_key = None;
            m.follower_count = Some(1);
            m.handle_key = "bob".into();
        });
        assert!(!rule.may_flip(&influencer(), &everything));
    }

    #[test]
    fn the_row_decides_what_its_fields_settle_whatever_the_rest_says() {
        let row = influencer();
        let big_in_s = filter(serde_json::json!({
            "followerCount": { "min": 100000 }, "inAnySegment": [1]
        }));
        assert_eq!(big_in_s.decided_by_row(&row), Some(false));
        let big = with(|m| m.follower_count = Some(150_000));
        assert_eq!(big_in_s.decided_by_row(&big), None);

        let food_or_in_s = filter(serde_json::json!({
            "anyOf": [{ "nicheIn": ["Food"] }, { "inAnySegment": [1] }]
        }));
        assert_eq!(food_or_in_s.decided_by_row(&row), Some(true));
        let tech = with(|m| m.niche_key = Some("tech".into()));
        assert_eq!(food_or_in_s.decided_by_row(&tech), None);

        let not_big = filter(serde_json::json!({ "not": { "followerCount": { "min": 100000 } } }));
        assert_eq!(not_big.decided_by_row(&row), Some(true));
        assert_eq!(not_big.decided_by_row(&big), Some(false));
        let not_in_s = filter(serde_json::json!({ "not": { "inAnySegment": [1] } }));
        assert_eq!(not_in_s.decided_by_row(&row), None);

        for elsewhere in [
            serde_json::json!({ "search": "an" }),
            serde_json::json!({ "createdAt": { "from": "2020-01-01T00:00:00Z" } }),
            serde_json::json!({ "engaged": {} }),
            serde_json::json!({ "platformIn": ["INSTAGRAM"], "inNoSegment": [1] }),
        ] {
            assert_eq!(
                filter(elsewhere.clone()).decided_by_row(&row),
                None,
                "{elsewhere}"
            );
        }
        assert_eq!(
            filter(serde_json::json!({ "platformIn": ["X"], "search": "an" })).decided_by_row(&row),
            Some(false)
        );
    }

    #[test]
    fn empty_compositions_decide_as_the_sql_condition_does() {
        let row = influencer();
        assert_eq!(InfluencerFilter::default().decided_by_row(&row), Some(true));
        let none_of = InfluencerFilter {
            any_of: Some(Vec::new()),
            ..InfluencerFilter::default()
        };
        assert_eq!(none_of.decided_by_row(&row), Some(false));
        let all_of_none = InfluencerFilter {
            all_of: Some(Vec::new()),
            ..InfluencerFilter::default()
        };
        assert_eq!(all_of_none.decided_by_row(&row), Some(true));
    }

    #[test]
    fn bounds_are_inclusive_and_an_unknown_under_not_stays_unknown() {
        let row = influencer();
        let at = |range: serde_json::Value| {
            filter(serde_json::json!({ "followerCount": range })).decided_by_row(&row)
        };
        assert_eq!(at(serde_json::json!({ "min": 12000 })), Some(true));
        assert_eq!(at(serde_json::json!({ "max": 12000 })), Some(true));
        assert_eq!(at(serde_json::json!({ "max": 11999 })), Some(false));
        assert_eq!(at(serde_json::json!({ "min": 12001 })), Some(false));
        let settled = filter(serde_json::json!({
            "not": { "anyOf": [{ "followerCount": { "max": 12000 } }, { "inAnySegment": [1] }] }
        }));
        assert_eq!(settled.decided_by_row(&row), Some(false));
        let open = filter(serde_json::json!({
            "not": { "anyOf": [{ "followerCount": { "max": 11999 } }, { "inAnySegment": [1] }] }
        }));
        assert_eq!(open.decided_by_row(&row), None);
    }
}
