//! An influencer's place in a segment. The primary key (workspace, segment, influencer) makes a
//! second assignment a no-op.

use sea_orm::{
    entity::prelude::*,
    sea_query::{ExprTrait, IntoCondition},
};

use crate::enums::MembershipSource;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_membership")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    #[sea_orm(primary_key)]
    pub segment_id: i64,
    #[sea_orm(primary_key)]
    pub influencer_id: i64,
    pub assigned_at: DateTimeUtc,
    pub source: MembershipSource,
    /// The automation that made this membership, when `source` is AUTOMATION.
    pub automation_id: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::segment::Entity",
        from = "Column::SegmentId",
        to = "super::segment::Column::Id"
    )]
    Segment,
    #[sea_orm(
        belongs_to = "super::influencer::Entity",
        from = "Column::InfluencerId",
        to = "super::influencer::Column::Id"
    )]
    Influencer,
}

/// A membership's segment, in the membership's workspace (a join never crosses workspaces,
/// whatever the rows say).
impl Related<super::segment::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Segment.def().on_condition(|membership, segment| {
            Expr::col((segment, super::segment::Column::WorkspaceId))
                .equals((membership, Column::WorkspaceId))
                .into_condition()
        })
    }
}

impl Related<super::influencer::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Influencer.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
