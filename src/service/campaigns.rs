//! Campaigns and their audiences.

use std::collections::HashSet;

use entity::{campaign, campaign_audience, enums::CampaignStatus, segment};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, DatabaseConnection, EntityTrait};

use super::{
    InputError, InputErrorCode, ServiceError, ServiceResult, WorkspaceId, now,
    reads::by_ids,
    validate::{self, CAMPAIGN_NAME_MAX},
};

/// Creates a campaign (status DRAFT) whose audience is these segments.
pub async fn create(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    name: &str,
    audience_segment_ids: &[i64],
) -> ServiceResult<campaign::Model> {
    let mut errors = Vec::new();
    let name = validate::required_text(name, CAMPAIGN_NAME_MAX, &["input", "name"], "name")
        .map_err(|e| errors.push(e))
        .ok();
    if let Err(e) =
        validate::bulk_size(audience_segment_ids.len(), &["input", "audienceSegmentIds"])
    {
        errors.push(e);
    }
    let txn = super::begin_write(db).await?;
    let unique = validate::dedup(audience_segment_ids);
    let found: HashSet<i64> = by_ids::<segment::Entity, _>(&txn, ws, &unique)
        .await?
        .into_iter()
        .map(|s| s.id)
        .collect();
    for (index, id) in audience_segment_ids.iter().enumerate() {
        if !found.contains(id) {
            errors.push(InputError::at_index(
                InputErrorCode::NotFound,
                &["input", "audienceSegmentIds"],
                index,
                "no segment has this id".to_owned(),
            ));
        }
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ServiceError::Input(errors));
    };
    let created = campaign::ActiveModel {
        workspace_id: Set(ws.0),
        name: Set(name),
        status: Set(CampaignStatus::Draft),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    if !unique.is_empty() {
        campaign_audience::Entity::insert_many(unique.iter().map(|segment_id| {
            campaign_audience::ActiveModel {
                campaign_id: Set(created.id),
                segment_id: Set(*segment_id),
                workspace_id: Set(ws.0),
            }
        }))
        .exec_without_returning(&txn)
        .await?;
    }
    txn.commit().await?;
    Ok(created)
}
