//! Outreach to the influencers of one or more segments.

use sea_orm::entity::prelude::*;

use crate::enums::CampaignStatus;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "campaign")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// Numbered by the database, unique across workspaces (one sequence per table).
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    pub status: CampaignStatus,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
