//! Campaigns and their audiences.

use entity::{
    automation, campaign, campaign_audience, engagement_event, enums::CampaignStatus, segment,
    segment_membership,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};

use super::{
    clock::now,
    errors::{InputError, InputErrorCode, ServiceError, ServiceResult},
    id_list::column_any_of,
    locks,
    rule_references::{self, Named},
    scope::{Scoped, Tx},
    text::CampaignName,
    validate,
};

/// Creates a campaign (status DRAFT) whose audience is these segments.
#[tracing::instrument(name = "campaigns::create", level = "debug", skip_all, fields(workspace = tx.workspace().0, audience = audience_segment_ids.len()))]
pub async fn create(
    tx: &mut Tx<'_>,
    name: &str,
    audience_segment_ids: &[i64],
) -> ServiceResult<campaign::Model> {
    let mut errors = Vec::new();
    let name = CampaignName::parse(name, &["input", "name"])
        .map_err(|e| errors.push(e))
        .ok();
    match validate::bulk_size(
        audience_segment_ids.len(),
        super::id_list::HARD_MAX_BULK_IDS,
        &["input", "audienceSegmentIds"],
    ) {
        Ok(()) => errors.extend(missing_segments(tx, audience_segment_ids).await?),
        Err(e) => errors.push(e),
    }
    let Some(name) = name.filter(|_| errors.is_empty()) else {
        return Err(ServiceError::Input(errors));
    };
    let created = tx
        .owned(campaign::ActiveModel {
            name: Set(name.into()),
            status: Set(CampaignStatus::Draft),
            created_at: Set(now()),
            ..Default::default()
        })
        .insert(tx.conn())
        .await?;
    insert_audience(tx, created.id, audience_segment_ids).await?;
    Ok(created)
}

/// NOT_FOUND errors for the audience ids that name no segment of the workspace; the segments
/// found stay locked against deletion until the transaction ends, so the audience rows inserted
/// next cannot name a segment deleted meanwhile.
async fn missing_segments(tx: &Tx<'_>, segment_ids: &[i64]) -> ServiceResult<Vec<InputError>> {
    let field = ["input", "audienceSegmentIds"];
    Ok(locks::missing_referred::<segment::Entity, _>(tx, segment_ids, &field, "segment").await?)
}

async fn insert_audience(tx: &Tx<'_>, campaign_id: i64, segment_ids: &[i64]) -> ServiceResult<()> {
    let unique = validate::dedup(segment_ids);
    if unique.is_empty() {
        return Ok(());
    }
    campaign_audience::Entity::insert_many(unique.into_iter().map(|segment_id| {
        tx.owned(campaign_audience::ActiveModel {
            campaign_id: Set(campaign_id),
            segment_id: Set(segment_id),
            ..Default::default()
        })
    }))
    .exec_without_returning(tx.conn())
    .await?;
    Ok(())
}

fn not_found() -> InputError {
    InputError::new(
        InputErrorCode::NotFound,
        &["input", "id"],
        "no campaign has this id",
    )
}

/// Changes to a campaign; `None` leaves a field as it is. A new audience replaces the old one.
#[derive(Clone, Debug, Default)]
pub struct CampaignChanges {
    pub name: Option<String>,
    pub status: Option<CampaignStatus>,
    pub audience_segment_ids: Option<Vec<i64>>,
}

/// Renames a campaign, moves it to another status, or replaces its audience.
#[tracing::instrument(name = "campaigns::update", level = "debug", skip_all, fields(workspace = tx.workspace().0, campaign = id))]
pub async fn update(
    tx: &mut Tx<'_>,
    id: i64,
    changes: &CampaignChanges,
) -> ServiceResult<campaign::Model> {
    let current = locks::changed::<campaign::Entity, _>(tx, id)
        .await?
        .ok_or_else(not_found)?;
    let mut errors = Vec::new();
    let mut model: campaign::ActiveModel = current.into();
    if let Some(raw) = &changes.name {
        match CampaignName::parse(raw, &["input", "name"]) {
            Ok(name) => model.name = Set(name.into()),
            Err(e) => errors.push(e),
        }
    }
    if let Some(status) = changes.status {
        model.status = Set(status);
    }
    if let Some(ids) = &changes.audience_segment_ids {
        match validate::bulk_size(
            ids.len(),
            super::id_list::HARD_MAX_BULK_IDS,
            &["input", "audienceSegmentIds"],
        ) {
            Ok(()) => errors.extend(missing_segments(tx, ids).await?),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Input(errors));
    }
    let updated = model.update(tx.conn()).await?;
    if let Some(ids) = &changes.audience_segment_ids {
        tx.delete_many::<campaign_audience::Entity>()
            .filter(campaign_audience::Column::CampaignId.eq(id))
            .exec(tx.conn())
            .await?;
        insert_audience(tx, id, ids).await?;
    }
    Ok(updated)
}

/// Deletes a campaign with its audience, automations and engagement events. Memberships its
/// automations made stay (the influencers keep their segments) but no longer name an automation.
#[tracing::instrument(name = "campaigns::delete", level = "debug", skip_all, fields(workspace = tx.workspace().0, campaign = id))]
pub async fn delete(tx: &mut Tx<'_>, id: i64) -> ServiceResult<i64> {
    // Locked first: engagements, automations and changes naming the campaign either committed
    // before (and what they made is deleted below) or find it gone.
    locks::deleted::<campaign::Entity, _>(tx, id)
        .await?
        .ok_or_else(not_found)?;
    rule_references::refuse_deleting(tx, Named::Campaign(id)).await?;
    let automation_ids: Vec<i64> = tx
        .find::<automation::Entity>()
        .select_only()
        .column(automation::Column::Id)
        .filter(automation::Column::CampaignId.eq(id))
        .into_tuple()
        .all(tx.conn())
        .await?;
    if !automation_ids.is_empty() {
        tx.update_many::<segment_membership::Entity>()
            .col_expr(
                segment_membership::Column::AutomationId,
                Expr::value(Option::<i64>::None),
            )
            .filter(column_any_of(
                tx.backend(),
                segment_membership::Column::AutomationId,
                automation_ids,
            ))
            .exec(tx.conn())
            .await?;
    }
    tx.delete_many::<automation::Entity>()
        .filter(automation::Column::CampaignId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<engagement_event::Entity>()
        .filter(engagement_event::Column::CampaignId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<campaign_audience::Entity>()
        .filter(campaign_audience::Column::CampaignId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<campaign::Entity>()
        .filter(campaign::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(id)
}
