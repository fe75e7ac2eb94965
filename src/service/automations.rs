//! Automations: "when an influencer of this campaign does X, assign them to segment Y".

use entity::{
    automation, campaign,
    enums::{AutomationAction, EngagementKind},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection};

use super::{
    InputError, InputErrorCode, ServiceResult, WorkspaceId,
    memberships::merge_errors,
    now,
    reads::by_id,
    segments::{self, SegmentTarget},
};

/// Adds an enabled ASSIGN_TO_SEGMENT automation to a campaign; the target segment may be created
/// in the same transaction.
pub async fn add(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    campaign_id: i64,
    trigger: EngagementKind,
    target: &SegmentTarget,
) -> ServiceResult<automation::Model> {
    let txn = super::begin_write(db).await?;
    let campaign = by_id::<campaign::Entity, _>(&txn, ws, campaign_id)
        .await?
        .ok_or_else(|| {
            InputError::new(
                InputErrorCode::NotFound,
                &["input", "campaignId"],
                "no campaign has this id",
            )
        });
    let segment = segments::resolve(&txn, ws, target, &["input", "assignToSegment"]).await;
    let (campaign, segment) = match (campaign, segment) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => return Err(merge_errors(c.err().map(Into::into), s.err())),
    };
    let created = automation::ActiveModel {
        workspace_id: Set(ws.0),
        campaign_id: Set(campaign.id),
        trigger: Set(trigger),
        action: Set(AutomationAction::AssignToSegment),
        segment_id: Set(Some(segment.id)),
        enabled: Set(true),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    txn.commit().await?;
    Ok(created)
}
