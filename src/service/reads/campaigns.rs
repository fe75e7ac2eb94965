//! The workspace's campaigns, paged, with their audiences and automations.

use std::collections::HashMap;

use entity::{automation, campaign, campaign_audience};
use sea_orm::{DbErr, QueryFilter, QueryOrder, QueryTrait, sea_query::SelectStatement};

use super::sql::{col, count};
use crate::service::{
    id_list::column_any_of,
    pagination::{Keyset, Page, PagePart, PageResult, fetch_pages},
    scope::Scoped,
};

fn campaign_base<S: Scoped>(s: &S) -> SelectStatement {
    s.find::<campaign::Entity>().into_query()
}

/// A page of the workspace's campaigns (creation order).
#[tracing::instrument(name = "reads::campaign_page", level = "debug", skip_all, fields(workspace = s.workspace().0))]
pub async fn campaign_page<S: Scoped>(
    s: &S,
    page: Page,
) -> Result<PageResult<campaign::Model>, DbErr> {
    let part = PagePart {
        set: Keyset::new(
            campaign_base(s),
            col(campaign::Entity, campaign::Column::Id),
        ),
        page,
    };
    Ok(fetch_pages(s.conn(), &[part])
        .await?
        .pop()
        .unwrap_or_default())
}

#[tracing::instrument(name = "reads::count_campaigns", level = "debug", skip_all, fields(workspace = s.workspace().0))]
pub async fn count_campaigns<S: Scoped>(s: &S) -> Result<i64, DbErr> {
    count(s.conn(), &mut campaign_base(s)).await
}

/// The audience segment ids of these campaigns, in segment order.
#[tracing::instrument(name = "reads::audiences", level = "debug", skip_all, fields(workspace = s.workspace().0, campaigns = campaign_ids.len()))]
pub async fn audiences<S: Scoped>(
    s: &S,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>, DbErr> {
    use campaign_audience::Column as A;
    let rows = s
        .find::<campaign_audience::Entity>()
        .filter(column_any_of(
            s.backend(),
            A::CampaignId,
            campaign_ids.iter().copied(),
        ))
        .order_by_asc(A::CampaignId)
        .order_by_asc(A::SegmentId)
        .all(s.conn())
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
#[tracing::instrument(name = "reads::automations_of", level = "debug", skip_all, fields(workspace = s.workspace().0, campaigns = campaign_ids.len()))]
pub async fn automations_of<S: Scoped>(
    s: &S,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, Vec<automation::Model>>, DbErr> {
    use automation::Column as A;
    let rows = s
        .find::<automation::Entity>()
        .filter(column_any_of(
            s.backend(),
            A::CampaignId,
            campaign_ids.iter().copied(),
        ))
        .order_by_asc(A::Id)
        .all(s.conn())
        .await?;
    let mut by_campaign: HashMap<i64, Vec<_>> = HashMap::new();
    for row in rows {
        by_campaign.entry(row.campaign_id).or_default().push(row);
    }
    Ok(by_campaign)
}
