//! The object types that other types return, declared apart from their fields: `Segment.influencers`
//! is `Influencer`, `Influencer.segments` is `Segment`, a campaign has automations and an
//! automation a campaign. Each type's fields are resolved in its own module (`segment`,
//! `influencer`, `campaign`, `automation`); declaring the types here lets those modules name each
//! other's types without importing each other, so no two of them form an import cycle.

use async_graphql::{Context, Result};
use entity::{
    automation, campaign, engagement_event, influencer, segment, segment_group,
    segment_membership_change,
};

use super::{
    errors::internal,
    loaders::{AutomationById, CampaignById, GroupById, InfluencerById, SegmentById, loader},
};

/// A rule of a campaign (fields in [`super::automation`]).
#[derive(Clone)]
pub struct Automation(pub automation::Model);

/// An outreach campaign (fields in [`super::campaign`]).
#[derive(Clone)]
pub struct Campaign(pub campaign::Model);

/// An influencer of the roster (fields in [`super::influencer`]).
#[derive(Clone)]
pub struct Influencer(pub influencer::Model);

/// A segment (fields in [`super::segment`]).
#[derive(Clone)]
pub struct Segment(pub segment::Model);

/// A folder or pipeline of segments (fields in [`super::group`]).
#[derive(Clone)]
pub struct SegmentGroup(pub segment_group::Model);

/// An influencer's engagement with a campaign (fields in [`super::automation`]).
#[derive(Clone)]
pub struct EngagementEvent(pub engagement_event::Model);

/// A recorded membership change (fields in [`super::history`]), with the influencer and segment
/// it names when they were read ahead for a batch of changes (a live feed reads them once per
/// batch, not once per change).
#[derive(Clone)]
pub struct SegmentMembershipChange(
    pub segment_membership_change::Model,
    pub Option<std::sync::Arc<ReadAhead>>,
);

/// The influencers and segments of a batch of changes, read in one statement each. A change
/// whose influencer or segment is not here (deleted since) has none.
#[derive(Default)]
pub struct ReadAhead {
    pub influencers: Option<std::collections::HashMap<i64, influencer::Model>>,
    pub segments: Option<std::collections::HashMap<i64, segment::Model>>,
}

impl SegmentMembershipChange {
    /// A change read on its own: its influencer and segment go through the loaders.
    pub fn alone(change: segment_membership_change::Model) -> Self {
        Self(change, None)
    }
}

/// One campaign through the request's loader.
pub async fn load_campaign(ctx: &Context<'_>, id: i64) -> Result<Option<Campaign>> {
    Ok(loader(ctx)?
        .load_one(CampaignById(id))
        .await
        .map_err(internal)?
        .map(Campaign))
}

/// One influencer through the request's loader.
pub async fn load_influencer(ctx: &Context<'_>, id: i64) -> Result<Option<Influencer>> {
    Ok(loader(ctx)?
        .load_one(InfluencerById(id))
        .await
        .map_err(internal)?
        .map(Influencer))
}

/// These influencers, in the order given (ids of nothing are skipped).
pub async fn load_influencers(ctx: &Context<'_>, ids: &[i64]) -> Result<Vec<Influencer>> {
    let mut found = loader(ctx)?
        .load_many(ids.iter().map(|id| InfluencerById(*id)))
        .await
        .map_err(internal)?;
    Ok(ids
        .iter()
        .filter_map(|id| found.remove(&InfluencerById(*id)))
        .map(Influencer)
        .collect())
}

/// These segments, in the order given (ids of nothing are skipped), in one batch.
pub async fn load_segments(ctx: &Context<'_>, ids: &[i64]) -> Result<Vec<Segment>> {
    let mut found = loader(ctx)?
        .load_many(ids.iter().map(|id| SegmentById(*id)))
        .await
        .map_err(internal)?;
    Ok(ids
        .iter()
        .filter_map(|id| found.remove(&SegmentById(*id)))
        .map(Segment)
        .collect())
}

/// One segment through the request's loader.
pub async fn load_segment(ctx: &Context<'_>, id: i64) -> Result<Option<Segment>> {
    Ok(loader(ctx)?
        .load_one(SegmentById(id))
        .await
        .map_err(internal)?
        .map(Segment))
}

/// One segment group through the request's loader.
pub async fn load_group(ctx: &Context<'_>, id: i64) -> Result<Option<SegmentGroup>> {
    Ok(loader(ctx)?
        .load_one(GroupById(id))
        .await
        .map_err(internal)?
        .map(SegmentGroup))
}

/// The automation with this id, when there is one and it still exists.
pub async fn load_automation(ctx: &Context<'_>, id: Option<i64>) -> Result<Option<Automation>> {
    let Some(id) = id else {
        return Ok(None);
    };
    Ok(loader(ctx)?
        .load_one(AutomationById(id))
        .await
        .map_err(internal)?
        .map(Automation))
}
