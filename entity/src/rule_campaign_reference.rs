//! A campaign that a RULE segment's rule names (`engaged.campaignId`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_campaign_reference")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// The RULE segment whose rule names the campaign.
    #[sea_orm(primary_key)]
    pub segment_id: i64,
    /// The campaign named; it cannot be deleted while named.
    #[sea_orm(primary_key)]
    pub campaign_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
