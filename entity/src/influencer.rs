//! An influencer in a workspace's roster.

use sea_orm::{
    entity::prelude::*,
    sea_query::{ExprTrait, IntoCondition},
};

use crate::enums::Platform;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "influencer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// Numbered by the database, unique across workspaces (one sequence per table).
    #[sea_orm(primary_key)]
    pub id: i64,
    pub handle: String,
    /// [`text_key`](crate::text_key::text_key) of `handle`: the key of the per-platform uniqueness
    /// index, and what a roster search matches.
    pub handle_key: String,
    pub platform: Platform,
    pub display_name: Option<String>,
    /// [`text_key`](crate::text_key::text_key) of `display_name`: what a roster search matches.
    pub display_name_key: Option<String>,
    pub email: Option<String>,
    pub niche: Option<String>,
    /// [`text_key`](crate::text_key::text_key) of `niche`: what the roster filter's `nicheIn`
    /// matches.
    pub niche_key: Option<String>,
    pub follower_count: Option<i32>,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::segment_membership::Entity")]
    Memberships,
}

/// An influencer's memberships: those of its own workspace (a join never crosses workspaces,
/// whatever the rows say).
impl Related<super::segment_membership::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Memberships
            .def()
            .on_condition(|influencer, membership| {
                Expr::col((membership, super::segment_membership::Column::WorkspaceId))
                    .equals((influencer, Column::WorkspaceId))
                    .into_condition()
            })
    }
}

impl ActiveModelBehavior for ActiveModel {}
