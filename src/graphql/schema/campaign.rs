//! Campaigns: outreach aimed at the influencers of some segments.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::{
    connection::{Conn, Total, connection, page},
    context::scope,
    enums::CampaignStatus,
    errors::{UserError, internal},
    ids::{self, Kind},
    loaders::{AudienceOf, AutomationsOf, InfluencerPage, loader},
    mutation::{both, delete_by_id, mutate, one, refused},
    objects::{Automation, Campaign, Influencer, Segment, load_campaign, load_segments},
    scalars::DateTime,
};
use crate::service::{
    campaigns::{self, CampaignChanges},
    reads::{self, InfluencerSet},
};

/// Outreach to the influencers of one or more segments.
#[Object]
impl Campaign {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Campaign, self.0.id)
    }

    /// 1 to 120 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Where the campaign is in its life; new campaigns are DRAFT.
    async fn status(&self) -> CampaignStatus {
        self.0.status.into()
    }

    /// When the campaign was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// The segments whose influencers this campaign reaches.
    #[graphql(complexity = "crate::graphql::schema::complexity::list_cost(child_complexity)")]
    async fn audience(&self, ctx: &Context<'_>) -> Result<Vec<Segment>> {
        let segment_ids = loader(ctx)?
            .load_one(AudienceOf(self.0.id))
            .await
            .map_err(internal)?
            .unwrap_or_default();
        load_segments(ctx, &segment_ids).await
    }

    /// Influencers in any audience segment, each once, oldest first.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    async fn recipients(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Influencer>> {
        let set = InfluencerSet::RecipientsOf(self.0.id);
        let page = page(ctx, first, after, last, before)?;
        let result = loader(ctx)?
            .load_one(InfluencerPage(set.clone(), page))
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(connection(result, Total::Influencers(set), Influencer))
    }

    /// The campaign's automations, oldest first.
    #[graphql(complexity = "crate::graphql::schema::complexity::list_cost(child_complexity)")]
    async fn automations(&self, ctx: &Context<'_>) -> Result<Vec<Automation>> {
        Ok(loader(ctx)?
            .load_one(AutomationsOf(self.0.id))
            .await
            .map_err(internal)?
            .unwrap_or_default()
            .into_iter()
            .map(Automation)
            .collect())
    }
}

#[derive(Default)]
pub struct CampaignQuery;

#[Object]
impl CampaignQuery {
    /// One campaign by id; null when no campaign of this workspace has it.
    async fn campaign(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Campaign>> {
        match ids::lookup(&id, Kind::Campaign) {
            Some(id) => load_campaign(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The workspace's campaigns, oldest first.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    async fn campaigns(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Campaign>> {
        let page = page(ctx, first, after, last, before)?;
        let result = reads::campaign_page(scope(ctx)?, page)
            .await
            .map_err(internal)?;
        Ok(connection(result, Total::Campaigns, Campaign))
    }
}

/// A campaign to create.
#[derive(InputObject)]
pub struct CreateCampaignInput {
    /// 1 to 120 characters after trimming.
    pub name: String,
    /// The segments whose influencers the campaign reaches.
    pub audience_segment_ids: Option<Vec<ID>>,
}

/// Result of `createCampaign`.
#[derive(SimpleObject, Default)]
pub struct CreateCampaignPayload {
    /// The new campaign, in DRAFT.
    pub campaign: Option<Campaign>,
    /// Why nothing was created, if so.
    pub user_errors: Vec<UserError>,
}

/// Changes to a campaign; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateCampaignInput {
    pub id: ID,
    /// New name, 1 to 120 characters.
    pub name: Option<String>,
    /// New status.
    pub status: Option<CampaignStatus>,
    /// The new audience; replaces the old one.
    pub audience_segment_ids: Option<Vec<ID>>,
}

/// Result of `updateCampaign`.
#[derive(SimpleObject, Default)]
pub struct UpdateCampaignPayload {
    /// The campaign as it is now.
    pub campaign: Option<Campaign>,
    /// Why nothing was changed, if so.
    pub user_errors: Vec<UserError>,
}

refused!(
    CreateCampaignPayload,
    DeleteCampaignPayload,
    UpdateCampaignPayload,
);

/// The campaign to delete.
#[derive(InputObject)]
pub struct DeleteCampaignInput {
    pub id: ID,
}

/// Result of `deleteCampaign`.
#[derive(SimpleObject, Default)]
pub struct DeleteCampaignPayload {
    /// The id of the deleted campaign.
    pub deleted_campaign_id: Option<ID>,
    /// Why nothing was deleted, if so.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct CampaignMutation;

#[Object]
impl CampaignMutation {
    /// Creates a campaign aimed at the influencers of some segments.
    async fn create_campaign(
        &self,
        ctx: &Context<'_>,
        input: CreateCampaignInput,
    ) -> Result<CreateCampaignPayload> {
        let max = crate::graphql::runtime::limits::of(ctx).max_bulk_ids;
        let audience = input.audience_segment_ids.unwrap_or_default();
        let segment_ids = ids::decode_bulk(
            &audience,
            Kind::Segment,
            &["input", "audienceSegmentIds"],
            max,
        );
        mutate(
            ctx,
            segment_ids,
            async move |tx, segment_ids| campaigns::create(tx, &input.name, segment_ids).await,
            async |model| {
                Ok(CreateCampaignPayload {
                    campaign: Some(Campaign(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Renames a campaign, changes its status, or replaces its audience.
    async fn update_campaign(
        &self,
        ctx: &Context<'_>,
        input: UpdateCampaignInput,
    ) -> Result<UpdateCampaignPayload> {
        let max = crate::graphql::runtime::limits::of(ctx).max_bulk_ids;
        let id = one(ids::decode(&input.id, Kind::Campaign, &["input", "id"]));
        let audience = input
            .audience_segment_ids
            .map(|list| {
                ids::decode_bulk(&list, Kind::Segment, &["input", "audienceSegmentIds"], max)
            })
            .transpose();
        let changes = both(id, audience).map(|(id, audience)| {
            let changes = CampaignChanges {
                name: input.name,
                status: input.status.map(Into::into),
                audience_segment_ids: audience,
            };
            (id, changes)
        });
        mutate(
            ctx,
            changes,
            async move |tx, (id, changes)| campaigns::update(tx, *id, changes).await,
            async |model| {
                Ok(UpdateCampaignPayload {
                    campaign: Some(Campaign(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Deletes a campaign with its automations and engagement events. Influencers keep the
    /// segments its automations put them in.
    async fn delete_campaign(
        &self,
        ctx: &Context<'_>,
        input: DeleteCampaignInput,
    ) -> Result<DeleteCampaignPayload> {
        delete_by_id(
            ctx,
            &input.id,
            Kind::Campaign,
            async |tx, id| campaigns::delete(tx, id).await,
            |id| DeleteCampaignPayload {
                deleted_campaign_id: Some(id),
                ..Default::default()
            },
        )
        .await
    }
}
