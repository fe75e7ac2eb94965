//! A named folder over the roster.

use sea_orm::entity::prelude::*;

use crate::enums::SegmentKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// Numbered by the database, unique across workspaces (one sequence per table).
    #[sea_orm(primary_key)]
    pub id: i64,
    pub name: String,
    /// [`text_key`](crate::text_key::text_key) of `name`: the key of the case-insensitive
    /// uniqueness index, and what a search matches. Computed in Rust so that SQLite and
    /// PostgreSQL agree on non-ASCII names.
    pub name_key: String,
    pub description: Option<String>,
    pub created_at: DateTimeUtc,
    /// How the members are decided: by people and automations, or by the segment's rule.
    pub kind: SegmentKind,
    /// The rule of a RULE segment: its roster filter as JSON, ids as stored (see
    /// `segments_api::service::rules`); none for a MANUAL segment.
    pub rule: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
