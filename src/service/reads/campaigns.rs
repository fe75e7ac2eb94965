//! The workspace's campaigns, paged, with their audiences and automations.

use std::collections::HashMap;

use entity::{automation, campaign, campaign_audience};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QueryTrait,
    sea_query::SelectStatement,
};

use super::{col, count};
use crate::service::{
    WorkspaceId,
    id_list::column_any_of,
    pagination::{Page, PagePart, PageResult, fetch_pages},
};

fn campaign_base(ws: WorkspaceId) -> SelectStatement {
    campaign::Entity::find()
        .filter(campaign::Column::WorkspaceId.eq(ws.0))
        .into_query()
}

/// A page of the workspace's campaigns (creation order).
pub async fn campaign_page<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    page: Page,
) -> Result<PageResult<campaign::Model>, DbErr> {
    let part = PagePart {
        base: campaign_base(ws),
        key: col(campaign::Entity, campaign::Column::Id),
        without: None,
        page,
    };
    Ok(fetch_pages(db, &[part]).await?.pop().unwrap_or_default())
}

pub async fn count_campaigns<C: ConnectionTrait>(db: &C, ws: WorkspaceId) -> Result<i64, DbErr> {
    count(db, &mut campaign_base(ws)).await
}

/// The audience segment ids of these campaigns, in segment order.
pub async fn audiences<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>, DbErr> {
    use campaign_audience::Column as A;
    let rows = campaign_audience::Entity::find()
        .filter(A::WorkspaceId.eq(ws.0))
        .filter(column_any_of(
            db.get_database_backend(),
            A::CampaignId,
            campaign_ids.iter().copied(),
        ))
        .order_by_asc(A::CampaignId)
        .order_by_asc(A::SegmentId)
        .all(db)
        .await?;
    let mut by_campaign: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in rows {
        by_campaign
            .entry(row.campaign_id)
            .or_default()
            .push(row.segment_id);
    }
    Ok(by_campaign)
}

/// The automations of these campaigns, in creation order.
pub async fn automations_of<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, Vec<automation::Model>>, DbErr> {
    use automation::Column as A;
    let rows = automation::Entity::find()
        .filter(A::WorkspaceId.eq(ws.0))
        .filter(column_any_of(
            db.get_database_backend(),
            A::CampaignId,
            campaign_ids.iter().copied(),
        ))
        .order_by_asc(A::Id)
        .all(db)
        .await?;
    let mut by_campaign: HashMap<i64, Vec<_>> = HashMap::new();
    for row in rows {
        by_campaign.entry(row.campaign_id).or_default().push(row);
    }
    Ok(by_campaign)
}
