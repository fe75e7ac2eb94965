//! Campaigns and their audiences.

use entity::{
    automation, campaign, campaign_audience, engagement_event, enums::CampaignStatus, segment,
    segment_membership,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, QuerySelect, sea_query::Expr,
};

use super::{
    InputError, InputErrorCode, ServiceError, ServiceResult, WorkspaceId,
    count_cache::CountCache,
    id_list::column_any_of,
    locks, now,
    validate::{self, CAMPAIGN_NAME_MAX},
};

/// Creates a campaign (status DRAFT) whose audience is these segments.
#[tracing::instrument(name = "campaigns::create", level = "debug", skip_all, fields(workspace = ws.0, audience = audience_segment_ids.len()))]
pub async fn create(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    name: &str,
    audience_segment_ids: &[i64],
) -> ServiceResult<campaign::Model> {
    let mut errors = Vec::new();
    let name = validate::required_text(name, CAMPAIGN_NAME_MAX, &["input", "name"], "name")
        .map_err(|e| errors.push(e))
        .ok();
    let txn = super::begin_write(db).await?;
    match validate::bulk_size(
        audience_segment_ids.len(),
        super::HARD_MAX_BULK_IDS,
        &["input", "audienceSegmentIds"],
    ) {
        Ok(()) => errors.extend(missing_segments(&txn, ws, audience_segment_ids).await?),
        Err(e) => errors.push(e),
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
    insert_audience(&txn, ws, created.id, audience_segment_ids).await?;
    super::commit(txn, ws, counts).await?;
    Ok(created)
}

/// NOT_FOUND errors for the audience ids that name no segment of the workspace; the segments
/// found stay locked against deletion until the transaction ends, so the audience rows inserted
/// next cannot name a segment deleted meanwhile.
async fn missing_segments<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    segment_ids: &[i64],
) -> ServiceResult<Vec<InputError>> {
    let field = ["input", "audienceSegmentIds"];
    Ok(
        locks::missing_referred::<segment::Entity, _>(conn, ws, segment_ids, &field, "segment")
            .await?,
    )
}

async fn insert_audience<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    campaign_id: i64,
    segment_ids: &[i64],
) -> ServiceResult<()> {
    let unique = validate::dedup(segment_ids);
    if unique.is_empty() {
        return Ok(());
    }
    campaign_audience::Entity::insert_many(unique.into_iter().map(|segment_id| {
        campaign_audience::ActiveModel {
            campaign_id: Set(campaign_id),
            segment_id: Set(segment_id),
            workspace_id: Set(ws.0),
        }
    }))
    .exec_without_returning(conn)
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
#[tracing::instrument(name = "campaigns::update", level = "debug", skip_all, fields(workspace = ws.0, campaign = id))]
pub async fn update(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    id: i64,
    changes: CampaignChanges,
) -> ServiceResult<campaign::Model> {
    let txn = super::begin_write(db).await?;
    let current = locks::changed::<campaign::Entity, _>(&txn, ws, id)
        .await?
        .ok_or_else(not_found)?;
    let mut errors = Vec::new();
    let mut model: campaign::ActiveModel = current.into();
    if let Some(raw) = changes.name {
        match validate::required_text(&raw, CAMPAIGN_NAME_MAX, &["input", "name"], "name") {
            Ok(name) => model.name = Set(name),
            Err(e) => errors.push(e),
        }
    }
    if let Some(status) = changes.status {
        model.status = Set(status);
    }
    if let Some(ids) = &changes.audience_segment_ids {
        match validate::bulk_size(
            ids.len(),
            super::HARD_MAX_BULK_IDS,
            &["input", "audienceSegmentIds"],
        ) {
            Ok(()) => errors.extend(missing_segments(&txn, ws, ids).await?),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Input(errors));
    }
    let updated = model.update(&txn).await?;
    if let Some(ids) = &changes.audience_segment_ids {
        campaign_audience::Entity::delete_many()
            .filter(campaign_audience::Column::WorkspaceId.eq(ws.0))
            .filter(campaign_audience::Column::CampaignId.eq(id))
            .exec(&txn)
            .await?;
        insert_audience(&txn, ws, id, ids).await?;
    }
    super::commit(txn, ws, counts).await?;
    Ok(updated)
}

/// Deletes a campaign with its audience, automations and engagement events. Memberships its
/// automations made stay (the influencers keep their segments) but no longer name an automation.
#[tracing::instrument(name = "campaigns::delete", level = "debug", skip_all, fields(workspace = ws.0, campaign = id))]
pub async fn delete(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    id: i64,
) -> ServiceResult<i64> {
    let txn = super::begin_write(db).await?;
    // Locked first: engagements, automations and changes naming the campaign either committed
    // before (and what they made is deleted below) or find it gone.
    locks::deleted::<campaign::Entity, _>(&txn, ws, id)
        .await?
        .ok_or_else(not_found)?;
    let automation_ids: Vec<i64> = automation::Entity::find()
        .select_only()
        .column(automation::Column::Id)
        .filter(automation::Column::WorkspaceId.eq(ws.0))
        .filter(automation::Column::CampaignId.eq(id))
        .into_tuple()
        .all(&txn)
        .await?;
    if !automation_ids.is_empty() {
        segment_membership::Entity::update_many()
            .col_expr(
                segment_membership::Column::AutomationId,
                Expr::value(Option::<i64>::None),
            )
            .filter(segment_membership::Column::WorkspaceId.eq(ws.0))
            .filter(column_any_of(
                txn.get_database_backend(),
                segment_membership::Column::AutomationId,
                automation_ids,
            ))
            .exec(&txn)
            .await?;
    }
    automation::Entity::delete_many()
        .filter(automation::Column::WorkspaceId.eq(ws.0))
        .filter(automation::Column::CampaignId.eq(id))
        .exec(&txn)
        .await?;
    engagement_event::Entity::delete_many()
        .filter(engagement_event::Column::WorkspaceId.eq(ws.0))
        .filter(engagement_event::Column::CampaignId.eq(id))
        .exec(&txn)
        .await?;
    campaign_audience::Entity::delete_many()
        .filter(campaign_audience::Column::WorkspaceId.eq(ws.0))
        .filter(campaign_audience::Column::CampaignId.eq(id))
        .exec(&txn)
        .await?;
    campaign::Entity::delete_many()
        .filter(campaign::Column::WorkspaceId.eq(ws.0))
        .filter(campaign::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    super::commit(txn, ws, counts).await?;
    Ok(id)
}
