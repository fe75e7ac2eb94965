//! The sets of influencers that connections page over and counts count.

use std::sync::Arc;

use super::{filter::input::InfluencerFilter, text::SearchTerm};

/// A set of influencers that a connection pages over.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InfluencerSet {
    /// The whole roster, optionally narrowed by a search on handle and display name and by a
    /// filter.
    Roster {
        search: Option<SearchTerm>,
        filter: Option<Arc<InfluencerFilter>>,
    },
    /// Influencers in no segment: the derived "Unassigned" folder.
    Unassigned,
    /// Members of one segment.
    InSegment(i64),
    /// Influencers in any audience segment of one campaign, each once.
    RecipientsOf(i64),
}
