//! Reads: lookups by id, the sets that connections page over, and the batched relation queries the
//! GraphQL DataLoaders call. Every query is filtered by the workspace.
//!
//! [`by_id`] holds the lookups by id that every entity shares; the rest is split by what it
//! reads: [`influencers`] (sets of influencers and their pages, memberships), [`segments`],
//! [`campaigns`] (with their audiences and automations), [`counts`] (the counts connections and
//! DataLoaders serve, some kept in the count cache) and [`workspace`]. [`sql`] holds the
//! expressions they share.

pub mod by_id;
pub mod campaigns;
pub mod counts;
pub mod groups;
pub mod history;
pub mod influencers;
pub mod segments;
pub(crate) mod sql;
pub mod workspace;

pub use super::influencer_set::InfluencerSet;
pub use by_id::{by_id, by_ids, missing};
pub use campaigns::{audiences, automations_of, campaign_page, count_campaigns};
pub use counts::{count_influencers, member_counts, recipient_counts};
pub use influencers::{influencer_pages, memberships_of_influencers};
pub use segments::{SegmentList, count_segments, segment_page};
pub use workspace::default_workspace;
