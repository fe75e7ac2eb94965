//! One recorded membership change: an influencer entered or left a segment. Written in the
//! transaction that made the change and kept after the influencer or the segment is deleted
//! (no foreign key to either), so it keeps the segment's name of the time.

use sea_orm::entity::prelude::*;

use crate::enums::{ActorKind, ChangeKind, MembershipSource};

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "segment_membership_change")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// The change's position in its workspace's history: 1, 2, 3... in commit order, with no
    /// gap (see `membership_history_head`).
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub change: ChangeKind,
    pub influencer_id: i64,
    pub segment_id: i64,
    /// The segment's name when the change was made.
    pub segment_name: String,
    /// The source of the membership made or ended.
    pub source: MembershipSource,
    /// The automation that made the membership, when `source` is AUTOMATION.
    pub automation_id: Option<i64>,
    pub actor_kind: ActorKind,
    /// The API key that made the change (its shown prefix and its label), when `actor_kind` is
    /// API_KEY; kept after the key is revoked.
    pub api_key_prefix: Option<String>,
    pub api_key_label: Option<String>,
    /// The automation that made the change, when `actor_kind` is AUTOMATION.
    pub actor_automation_id: Option<i64>,
    /// The engagement event that fired that automation.
    pub event_id: Option<i64>,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
