//! A segment's place in its group (a segment is in at most one group), in the group's order.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_group_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub segment_id: i64,
    pub group_id: i64,
    /// The segment's place in the group, from 0.
    pub position: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
