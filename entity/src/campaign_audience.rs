//! A segment in a campaign's audience.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign_audience")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    #[sea_orm(primary_key)]
    pub campaign_id: i64,
    #[sea_orm(primary_key)]
    pub segment_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
