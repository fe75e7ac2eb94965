//! DataLoaders: every relation a query can fan out over is fetched in one statement per batch,
//! so a query's statement count depends on its shape, not on how many objects it returns.
//!
//! One [`AppLoader`] is made per request (it carries the request's workspace), inside a
//! [`Batcher`] that gathers each level's keys (see `batching`). It does not cache: after a
//! mutation in the same request, reads see the new state.

use std::collections::HashMap;

use async_graphql::{Context, dataloader::Loader};
use entity::{
    automation, campaign, engagement_event, influencer, segment, segment_group, segment_membership,
};
use sea_orm::DbErr;

use crate::graphql::runtime::batching::Batcher;
use crate::{
    observability::observe_batch,
    service::{
        Scope,
        pagination::{Page, PageResult},
        reads::{self, InfluencerSet},
        scope::Identified,
    },
};

/// Most keys one batch sends to the database: the size of an `IN` list. A page holds at most
/// 100 items, so one level of a query holds at most 100 parents x 100 children: one batch, so
/// the statements of a query stay the same however many objects it returns. 10,000 bound
/// parameters are within both SQLite's (32,766) and PostgreSQL's (65,535) limits.
const MAX_BATCH: usize = 10_000;

/// Most pages fetched by one `UNION ALL`: each page is up to two compound terms, and SQLite
/// allows 500 terms per compound SELECT.
const MAX_PAGES_PER_STATEMENT: usize = 200;

/// The request's loader: its workspace scope, which every query goes through.
pub struct AppLoader {
    scope: Scope,
}

impl AppLoader {
    pub fn batcher(scope: Scope) -> Batcher<Self> {
        Batcher::new(Self { scope }, MAX_BATCH)
    }
}

/// The request's loader, from the GraphQL context.
pub fn loader<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Batcher<AppLoader>> {
    ctx.data::<Batcher<AppLoader>>()
}

macro_rules! by_id_loaders {
    ($($key:ident => $module:ident),* $(,)?) => {$(
        /// Loads one row by database id.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub struct $key(pub i64);

        impl Loader<$key> for AppLoader {
            type Value = $module::Model;
            type Error = DbErr;

            async fn load(&self, keys: &[$key]) -> Result<HashMap<$key, Self::Value>, DbErr> {
                observe_batch(stringify!($key), keys.len());
                let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
                let rows = reads::by_ids::<$module::Entity, _>(&self.scope, &ids).await?;
                Ok(rows
                    .into_iter()
                    .map(|row| ($key(<$module::Entity as Identified>::model_id(&row)), row))
                    .collect())
            }
        }
    )*};
}

by_id_loaders! {
    InfluencerById => influencer,
    SegmentById => segment,
    CampaignById => campaign,
    AutomationById => automation,
    EventById => engagement_event,
    GroupById => segment_group,
}

/// The group a segment is in, if any.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GroupOf(pub i64);

impl Loader<GroupOf> for AppLoader {
    type Value = i64;
    type Error = DbErr;

    async fn load(&self, keys: &[GroupOf]) -> Result<HashMap<GroupOf, i64>, DbErr> {
        observe_batch("GroupOf", keys.len());
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let found = reads::groups::groups_of_segments(&self.scope, &ids).await?;
        Ok(found
            .into_iter()
            .map(|(segment, group)| (GroupOf(segment), group))
            .collect())
    }
}

/// A group's segments, in its order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SegmentsOf(pub i64);

impl Loader<SegmentsOf> for AppLoader {
    type Value = Vec<segment::Model>;
    type Error = DbErr;

    async fn load(&self, keys: &[SegmentsOf]) -> Result<HashMap<SegmentsOf, Self::Value>, DbErr> {
        observe_batch("SegmentsOf", keys.len());
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = reads::groups::segments_of_groups(&self.scope, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (SegmentsOf(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

/// The memberships of an influencer, each with its segment (empty when Unassigned).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MembershipsOf(pub i64);

impl Loader<MembershipsOf> for AppLoader {
    type Value = Vec<(segment_membership::Model, segment::Model)>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[MembershipsOf],
    ) -> Result<HashMap<MembershipsOf, Self::Value>, DbErr> {
        observe_batch("MembershipsOf", keys.len());
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = reads::memberships_of_influencers(&self.scope, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (MembershipsOf(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

/// How many members a segment has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MemberCount(pub i64);

impl Loader<MemberCount> for AppLoader {
    type Value = i64;
    type Error = DbErr;

    async fn load(&self, keys: &[MemberCount]) -> Result<HashMap<MemberCount, i64>, DbErr> {
        observe_batch("MemberCount", keys.len());
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let counts = reads::member_counts(&self.scope, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (MemberCount(id), counts.get(&id).copied().unwrap_or(0)))
            .collect())
    }
}

/// How many distinct influencers a campaign reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecipientCount(pub i64);

impl Loader<RecipientCount> for AppLoader {
    type Value = i64;
    type Error = DbErr;

    async fn load(&self, keys: &[RecipientCount]) -> Result<HashMap<RecipientCount, i64>, DbErr> {
        observe_batch("RecipientCount", keys.len());
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let counts = reads::recipient_counts(&self.scope, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (RecipientCount(id), counts.get(&id).copied().unwrap_or(0)))
            .collect())
    }
}

/// The audience segment ids of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AudienceOf(pub i64);

impl Loader<AudienceOf> for AppLoader {
    type Value = Vec<i64>;
    type Error = DbErr;

    async fn load(&self, keys: &[AudienceOf]) -> Result<HashMap<AudienceOf, Vec<i64>>, DbErr> {
        observe_batch("AudienceOf", keys.len());
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = reads::audiences(&self.scope, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (AudienceOf(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

/// The automations of a campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AutomationsOf(pub i64);

impl Loader<AutomationsOf> for AppLoader {
    type Value = Vec<automation::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[AutomationsOf],
    ) -> Result<HashMap<AutomationsOf, Self::Value>, DbErr> {
        observe_batch("AutomationsOf", keys.len());
        let ids: Vec<i64> = keys.iter().map(|k| k.0).collect();
        let mut found = reads::automations_of(&self.scope, &ids).await?;
        Ok(ids
            .into_iter()
            .map(|id| (AutomationsOf(id), found.remove(&id).unwrap_or_default()))
            .collect())
    }
}

/// One page of an influencer set: the members of a segment, or a campaign's recipients. Pages of
/// many segments (even with different cursors) load in one statement.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct InfluencerPage(pub InfluencerSet, pub Page);

impl Loader<InfluencerPage> for AppLoader {
    type Value = PageResult<influencer::Model>;
    type Error = DbErr;

    async fn load(
        &self,
        keys: &[InfluencerPage],
    ) -> Result<HashMap<InfluencerPage, Self::Value>, DbErr> {
        observe_batch("InfluencerPage", keys.len());
        let mut found = HashMap::with_capacity(keys.len());
        for chunk in keys.chunks(MAX_PAGES_PER_STATEMENT) {
            let requests: Vec<(InfluencerSet, Page)> =
                chunk.iter().map(|k| (k.0.clone(), k.1.clone())).collect();
            let pages = reads::influencer_pages(&self.scope, &requests).await?;
            found.extend(chunk.iter().cloned().zip(pages));
        }
        Ok(found)
    }
}
