//! "When an influencer of this campaign does `trigger`, do `action`."

use sea_orm::entity::prelude::*;

use crate::enums::{AutomationAction, EngagementKind};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "automation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// Numbered by the database, unique across workspaces (one sequence per table).
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub trigger: EngagementKind,
    pub action: AutomationAction,
    /// Target of ASSIGN_TO_SEGMENT; null once that segment is deleted (the automation is then
    /// disabled).
    pub segment_id: Option<i64>,
    /// Never true without a segment: the database refuses it (CHECK constraint on PostgreSQL,
    /// triggers on SQLite).
    pub enabled: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
