//! Automations: "when an influencer of this campaign does X, assign them to segment Y".

use entity::segment_membership;
use entity::{
    automation, campaign,
    enums::{AutomationAction, EngagementKind},
};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter, sea_query::Expr};

use super::{
    clock::now,
    errors::merge_errors,
    errors::{InputError, InputErrorCode, ServiceResult},
    locks,
    scope::{Scoped, Tx},
    segments::{self, SegmentTarget},
};

/// Adds an enabled automation to a campaign: on `trigger`, `action` with the target segment,
/// which may be created in the same transaction.
#[tracing::instrument(name = "automations::add", level = "debug", skip_all, fields(workspace = tx.workspace().0, campaign = campaign_id))]
pub async fn add(
    tx: &mut Tx<'_>,
    campaign_id: i64,
    (trigger, action): (EngagementKind, AutomationAction),
    target: &SegmentTarget,
) -> ServiceResult<automation::Model> {
    // The campaign and the segment stay locked against deletion until this commits: a
    // concurrent deleteSegment then sees (and disables) the new automation.
    let campaign = locks::referred::<campaign::Entity, _>(tx, campaign_id)
        .await?
        .ok_or_else(|| {
            InputError::new(
                InputErrorCode::NotFound,
                &["input", "campaignId"],
                "no campaign has this id",
            )
        });
    let segment = segments::resolve(tx, target, &["input", "assignToSegment"]).await;
    let (campaign, segment) = match (campaign, segment) {
        (Ok(c), Ok(s)) => (c, s),
        (c, s) => return Err(merge_errors([c.err().map(Into::into), s.err()])),
    };
    Ok(tx
        .owned(automation::ActiveModel {
            campaign_id: Set(campaign.id),
            trigger: Set(trigger),
            action: Set(action),
            segment_id: Set(Some(segment.id)),
            enabled: Set(true),
            created_at: Set(now()),
            ..Default::default()
        })
        .insert(tx.conn())
        .await?)
}

fn not_found() -> InputError {
    InputError::new(
        InputErrorCode::NotFound,
        &["input", "id"],
        "no automation has this id",
    )
}

/// Changes to an automation; `None` leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct AutomationChanges {
    pub enabled: Option<bool>,
    pub trigger: Option<EngagementKind>,
    /// A new target segment (which may be created in the same transaction).
    pub segment: Option<SegmentTarget>,
}

/// Switches an automation on or off, or changes its trigger or target segment. An automation
/// whose segment was deleted cannot be enabled again without a new target.
#[tracing::instrument(name = "automations::update", level = "debug", skip_all, fields(workspace = tx.workspace().0, automation = id))]
pub async fn update(
    tx: &mut Tx<'_>,
    id: i64,
    changes: &AutomationChanges,
) -> ServiceResult<automation::Model> {
    let field = ["input", "assignToSegment"];
    // An existing target is locked before the automation, in the order deleteSegment takes them
    // (the segment, then its automations), so the two cannot deadlock.
    let existing_target = match &changes.segment {
        Some(target @ SegmentTarget::Existing(_)) => {
            Some(segments::resolve(tx, target, &field).await)
        }
        _ => None,
    };
    let current = locks::changed::<automation::Entity, _>(tx, id)
        .await?
        .ok_or_else(not_found)?;
    let segment_id = match (&changes.segment, existing_target) {
        (_, Some(existing)) => Some(existing?.id),
        (Some(target), None) => Some(segments::resolve(tx, target, &field).await?.id),
        (None, None) => current.segment_id,
    };
    let enabled = changes.enabled.unwrap_or(current.enabled);
    if enabled && segment_id.is_none() {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            &["input", "enabled"],
            "an automation without a segment cannot be enabled; give it one with assignToSegment",
        )
        .into());
    }
    let mut model: automation::ActiveModel = current.into();
    model.enabled = Set(enabled);
    model.segment_id = Set(segment_id);
    if let Some(trigger) = changes.trigger {
        model.trigger = Set(trigger);
    }
    Ok(model.update(tx.conn()).await?)
}

/// Deletes an automation. Memberships it made stay, but no longer name it.
#[tracing::instrument(name = "automations::delete", level = "debug", skip_all, fields(workspace = tx.workspace().0, automation = id))]
pub async fn delete(tx: &mut Tx<'_>, id: i64) -> ServiceResult<i64> {
    // Locked first: engagements running the automation either committed before or skip it.
    locks::deleted::<automation::Entity, _>(tx, id)
        .await?
        .ok_or_else(not_found)?;
    tx.update_many::<segment_membership::Entity>()
        .col_expr(
            segment_membership::Column::AutomationId,
            Expr::value(Option::<i64>::None),
        )
        .filter(segment_membership::Column::AutomationId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<automation::Entity>()
        .filter(automation::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(id)
}
