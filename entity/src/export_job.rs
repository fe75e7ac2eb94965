//! An export: which influencers to write out and how. The file is never stored; each download
//! streams it from one snapshot of the database, until `expires_at`.

use sea_orm::entity::prelude::*;

use crate::enums::ExportFormat;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "export_job")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// Numbered by the database, unique across workspaces (one sequence per table).
    #[sea_orm(primary_key)]
    pub id: i64,
    pub format: ExportFormat,
    /// The members of this segment, when set.
    pub segment_id: Option<i64>,
    /// The recipients of this campaign, when set.
    pub campaign_id: Option<i64>,
    /// The Unassigned folder, when true. With none of the three, the whole roster.
    pub unassigned: bool,
    /// The influencers in the scope when the job was made.
    pub row_count: i64,
    /// The shown prefix of the API key that asked for it; none from the command line.
    pub key_prefix: Option<String>,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
