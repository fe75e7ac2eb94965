//! Automations and engagement: "when an influencer of this campaign opens, replies or clicks,
//! assign them to a segment", and the events that set them off.

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::{
    enums::{AutomationAction, EngagementKind},
    errors::{UserError, internal},
    ids::{self, Kind},
    mutation::{both, delete_by_id, mutate, one, refused},
    objects::{
        Automation, Campaign, EngagementEvent, Influencer, Segment, load_campaign, load_influencer,
        load_segment, load_segments,
    },
    scalars::DateTime,
    segment::SegmentRef,
};
use crate::service::{
    automations::{self, AutomationChanges},
    engagement::{self, NewEngagement},
};

/// When an influencer of the campaign does `trigger`, do `action`.
#[Object]
impl Automation {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Automation, self.0.id)
    }

    /// The campaign whose engagement sets this automation off.
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Campaign> {
        load_campaign(ctx, self.0.campaign_id)
            .await?
            .ok_or_else(|| internal("automation of a campaign that no longer exists"))
    }

    /// What the influencer does that sets the automation off.
    async fn trigger(&self) -> EngagementKind {
        self.0.trigger.into()
    }

    /// What the automation does.
    async fn action(&self) -> AutomationAction {
        self.0.action.into()
    }

    /// The segment that ASSIGN_TO_SEGMENT assigns to. Null once that segment was deleted.
    async fn segment(&self, ctx: &Context<'_>) -> Result<Option<Segment>> {
        match self.0.segment_id {
            Some(id) => load_segment(ctx, id).await,
            None => Ok(None),
        }
    }

    /// Whether the automation runs. Deleting its segment disables it.
    async fn enabled(&self) -> bool {
        self.0.enabled
    }

    /// When the automation was added.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// Something an influencer did with a campaign's outreach.
#[Object]
impl EngagementEvent {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::EngagementEvent, self.0.id)
    }

    /// The campaign engaged with.
    async fn campaign(&self, ctx: &Context<'_>) -> Result<Campaign> {
        load_campaign(ctx, self.0.campaign_id)
            .await?
            .ok_or_else(|| internal("event of a campaign that no longer exists"))
    }

    /// Who engaged.
    async fn influencer(&self, ctx: &Context<'_>) -> Result<Influencer> {
        load_influencer(ctx, self.0.influencer_id)
            .await?
            .ok_or_else(|| internal("event of an influencer that no longer exists"))
    }

    /// What they did.
    async fn kind(&self) -> EngagementKind {
        self.0.kind.into()
    }

    /// When they did it (as reported by the sender; the time of recording when not given).
    async fn occurred_at(&self) -> DateTime {
        self.0.occurred_at.into()
    }

    /// The sender's own id for the event, if it gave one.
    async fn external_id(&self) -> Option<&str> {
        self.0.external_id.as_deref()
    }
}

/// An automation to add to a campaign.
#[derive(InputObject)]
pub struct AddAutomationInput {
    pub campaign_id: ID,
    /// What sets the automation off.
    pub trigger: EngagementKind,
    /// The automation's segment; `create` makes it in the same step.
    pub assign_to_segment: SegmentRef,
    /// What the automation does with `assignToSegment`'s segment; ASSIGN_TO_SEGMENT when left
    /// out.
    pub action: Option<AutomationAction>,
}

/// Result of `addAutomation`.
#[derive(SimpleObject, Default)]
pub struct AddAutomationPayload {
    /// The new automation, enabled.
    pub automation: Option<Automation>,
    /// Why nothing was added (and no segment created), if so.
    pub user_errors: Vec<UserError>,
}

/// An engagement to record.
#[derive(InputObject)]
pub struct RecordEngagementInput {
    pub campaign_id: ID,
    pub influencer_id: ID,
    pub kind: EngagementKind,
    /// When it happened; now when omitted.
    pub occurred_at: Option<DateTime>,
    /// The sender's own id for this event; a repeat with the same id changes nothing.
    pub external_id: Option<String>,
}

/// Result of `recordEngagement`.
#[derive(SimpleObject, Default)]
pub struct RecordEngagementPayload {
    /// The stored event (the first one, for a repeated `externalId`).
    pub event: Option<EngagementEvent>,
    /// Segments the influencer was newly assigned to by automations.
    pub assigned_segments: Option<Vec<Segment>>,
    /// True when `externalId` had been recorded before, so nothing was written.
    pub duplicate: bool,
    /// Why nothing was recorded, if so.
    pub user_errors: Vec<UserError>,
}

/// Changes to an automation; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateAutomationInput {
    pub id: ID,
    /// Switch the automation on or off.
    pub enabled: Option<bool>,
    /// A new trigger.
    pub trigger: Option<EngagementKind>,
    /// A new target segment; `create` makes it in the same step.
    pub assign_to_segment: Option<SegmentRef>,
}

/// Result of `updateAutomation`.
#[derive(SimpleObject, Default)]
pub struct UpdateAutomationPayload {
    /// The automation as it is now.
    pub automation: Option<Automation>,
    /// Why nothing was changed, if so.
    pub user_errors: Vec<UserError>,
}

refused!(
    AddAutomationPayload,
    DeleteAutomationPayload,
    RecordEngagementPayload,
    UpdateAutomationPayload,
);

/// The automation to delete.
#[derive(InputObject)]
pub struct DeleteAutomationInput {
    pub id: ID,
}

/// Result of `deleteAutomation`.
#[derive(SimpleObject, Default)]
pub struct DeleteAutomationPayload {
    /// The id of the deleted automation.
    pub deleted_automation_id: Option<ID>,
    /// Why nothing was deleted, if so.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct AutomationMutation;

#[Object]
impl AutomationMutation {
    /// Adds an automation to a campaign: when an influencer does `trigger`, assign them to a
    /// segment, which may be created in the same step.
    async fn add_automation(
        &self,
        ctx: &Context<'_>,
        input: AddAutomationInput,
    ) -> Result<AddAutomationPayload> {
        let decoded = both(
            one(ids::decode(
                &input.campaign_id,
                Kind::Campaign,
                &["input", "campaignId"],
            )),
            one(input
                .assign_to_segment
                .target(&["input", "assignToSegment"])),
        );
        let trigger = input.trigger.into();
        let action = input
            .action
            .map_or(entity::enums::AutomationAction::AssignToSegment, Into::into);
        mutate(
            ctx,
            decoded,
            async move |tx, (campaign_id, target)| {
                automations::add(tx, *campaign_id, (trigger, action), target).await
            },
            async |model| {
                Ok(AddAutomationPayload {
                    automation: Some(Automation(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Records an engagement and runs the campaign's enabled automations for its kind. They run
    /// for any influencer of the workspace the event names, whether or not the influencer is
    /// still in the campaign's audience: the event answers outreach already sent.
    async fn record_engagement(
        &self,
        ctx: &Context<'_>,
        input: RecordEngagementInput,
    ) -> Result<RecordEngagementPayload> {
        let decoded = both(
            one(ids::decode(
                &input.campaign_id,
                Kind::Campaign,
                &["input", "campaignId"],
            )),
            one(ids::decode(
                &input.influencer_id,
                Kind::Influencer,
                &["input", "influencerId"],
            )),
        )
        .map(|(campaign_id, influencer_id)| NewEngagement {
            campaign_id,
            influencer_id,
            kind: input.kind.into(),
            occurred_at: input.occurred_at.map(|t| t.0),
            external_id: input.external_id,
        });
        mutate(
            ctx,
            decoded,
            async move |tx, new| engagement::record(tx, new).await,
            async |recorded| {
                let segments = load_segments(ctx, &recorded.assigned_segment_ids).await?;
                Ok(RecordEngagementPayload {
                    event: Some(EngagementEvent(recorded.event)),
                    assigned_segments: Some(segments),
                    duplicate: recorded.replayed,
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Switches an automation on or off, or changes its trigger or target segment.
    async fn update_automation(
        &self,
        ctx: &Context<'_>,
        input: UpdateAutomationInput,
    ) -> Result<UpdateAutomationPayload> {
        let id = one(ids::decode(&input.id, Kind::Automation, &["input", "id"]));
        let target = one(input
            .assign_to_segment
            .map(|r| r.target(&["input", "assignToSegment"]))
            .transpose());
        let decoded = both(id, target).map(|(id, segment)| {
            let changes = AutomationChanges {
                enabled: input.enabled,
                trigger: input.trigger.map(Into::into),
                segment,
            };
            (id, changes)
        });
        mutate(
            ctx,
            decoded,
            async move |tx, (id, changes)| automations::update(tx, *id, changes).await,
            async |model| {
                Ok(UpdateAutomationPayload {
                    automation: Some(Automation(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Deletes an automation. Influencers keep the segments it put them in.
    async fn delete_automation(
        &self,
        ctx: &Context<'_>,
        input: DeleteAutomationInput,
    ) -> Result<DeleteAutomationPayload> {
        delete_by_id(
            ctx,
            &input.id,
            Kind::Automation,
            async |tx, id| automations::delete(tx, id).await,
            |id| DeleteAutomationPayload {
                deleted_automation_id: Some(id),
                ..Default::default()
            },
        )
        .await
    }
}
