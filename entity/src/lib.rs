//! SeaORM entities: one module per table. Every table carries `workspace_id`; nothing here knows
//! about GraphQL.
//!
//! The primary keys lead with `workspace_id`, as the database's do (migration
//! `m20261202_000001_workspace_keys`), so that SeaORM's updates and deletes of a model, and its
//! `ON CONFLICT` targets, name the workspace too: a statement then finds its row through the
//! key on PostgreSQL, and stays on one shard when the tables are distributed by workspace. On
//! SQLite `id` alone is the table's primary key (the rowid), and `(workspace_id, id)` a unique
//! index. Ids are still numbered by the database and unique across workspaces. SQLite matches no
//! `ON CONFLICT` target that names the rowid, so an insert into a table keyed by `id` that
//! skips conflicts names none (`ON CONFLICT DO NOTHING`) rather than the entity's key.

pub mod api_key;
pub mod automation;
pub mod campaign;
pub mod campaign_audience;
pub mod engagement_event;
pub mod enums;
pub mod export_job;
pub mod influencer;
pub mod membership_history_head;
pub mod rule_campaign_reference;
pub mod rule_segment_reference;
pub mod segment;
pub mod segment_group;
pub mod segment_group_member;
pub mod segment_membership;
pub mod segment_membership_change;
pub mod text_key;
pub mod workspace;
