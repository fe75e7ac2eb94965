//! Whether an edit of an influencer's own fields can change a filter's verdict on it.
//!
//! A filter is a boolean function of its conditions (`anyOf`, `allOf` and `not` only combine
//! them), so its verdict on an influencer can change only if one of its conditions does. The
//! conditions on the influencer's own fields are decided here, on the two versions of the row;
//! the others read other tables (memberships, engagement), which an edit of the row leaves as
//! they were, and `createdAt` never changes. An update that moves a follower count from 12k to
//! 15k changes nothing for a rule on "at least 100k", so that rule need not be evaluated.

use entity::influencer;

use super::{InfluencerFilter, IntRange};

impl InfluencerFilter {
    /// Whether some condition of the filter, at any level, holds for one version of the
    /// influencer and not for the other. `false` means the filter's verdict is the same for both.
    pub fn may_flip(&self, before: &influencer::Model, after: &influencer::Model) -> bool {
        self.levels()
            .into_iter()
            .any(|level| level.own_condition_flips(before, after))
    }

    /// Whether one of this level's own conditions (not its nested filters) flips.
    fn own_condition_flips(&self, before: &influencer::Model, after: &influencer::Model) -> bool {
        let differs = |holds: &dyn Fn(&influencer::Model) -> bool| holds(before) != holds(after);
        self.platform_in
            .as_ref()
            .is_some_and(|platforms| differs(&|m| platforms.contains(&m.platform)))
            || self.niche_in.as_ref().is_some_and(|keys| {
                differs(&|m| m.niche_key.as_ref().is_some_and(|key| keys.contains(key)))
            })
            || self
                .follower_count
                .is_some_and(|range| differs(&|m| within(range, m.follower_count)))
            // The search is matched as the SQL condition matches it (a substring of a key, with
            // the database's own case rules); a change of either name is taken as a change of
            // its verdict rather than decided twice, in two languages.
            || self.search.is_some()
                && (before.handle_key != after.handle_key
                    || before.display_name_key != after.display_name_key)
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
}
