//! A segment that a RULE segment's rule names (`inAnySegment`, `inAllSegments`, `inNoSegment`).

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "rule_segment_reference")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// The RULE segment whose rule names the other.
    #[sea_orm(primary_key)]
    pub segment_id: i64,
    /// The segment named; it cannot be deleted while named.
    #[sea_orm(primary_key)]
    pub referred_segment_id: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
