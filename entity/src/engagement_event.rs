//! Something an influencer did with a campaign's outreach, as reported by the mail/link tracker.

use sea_orm::entity::prelude::*;

use crate::enums::EngagementKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "engagement_event")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// Numbered by the database, unique across workspaces (one sequence per table).
    #[sea_orm(primary_key)]
    pub id: i64,
    pub campaign_id: i64,
    pub influencer_id: i64,
    pub kind: EngagementKind,
    pub occurred_at: DateTimeUtc,
    /// The sender's id for the event; unique per workspace so webhook retries are no-ops.
    pub external_id: Option<String>,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
