//! Segment groups: a folder of segments, or (when `exclusive`) a pipeline whose segments are its
//! stages, an influencer being in at most one stage at a time.
//!
//! - `segment_group(workspace_id, id, name, name_key, exclusive, created_at)`: names are unique
//!   in a workspace by their case-folded key, as segments' are.
//! - `segment_group_member(workspace_id, segment_id, group_id, position)`: the group's segments
//!   in their order. Keyed by the segment, so a segment is in at most one group. A member row
//!   goes with its segment and with its group (deleting a group leaves its segments ungrouped).
//!
//! Keyed and referring by `(workspace_id, ...)`, like every tenant table. On SQLite the group's
//! `id` is the rowid, and `(workspace_id, id)` a unique index that members refer to, as for the
//! other tables with an id (see `m20261202_000001_workspace_keys`).

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

use crate::{id_col, workspace_col, workspace_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

const GROUP: &str = "segment_group";
const MEMBER: &str = "segment_group_member";

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// A composite reference from `segment_group_member` to `parent (workspace_id, id)`.
fn member_fk(column: &str, parent: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(col(MEMBER))
        .from_col(col("workspace_id"))
        .from_col(col(column))
        .to_tbl(col(parent))
        .to_col(col("workspace_id"))
        .to_col(col("id"))
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sqlite = manager.get_database_backend() == DatabaseBackend::Sqlite;
        let mut group = Table::create();
        group.table(col(GROUP)).col(workspace_col());
        if sqlite {
            group.col(id_col(col("id")));
        } else {
            group
                .col(
                    ColumnDef::new(col("id"))
                        .big_integer()
                        .not_null()
                        .auto_increment(),
                )
                .primary_key(Index::create().col(col("workspace_id")).col(col("id")));
        }
        group
            .col(ColumnDef::new(col("name")).text().not_null())
            .col(ColumnDef::new(col("name_key")).text().not_null())
            .col(ColumnDef::new(col("exclusive")).boolean().not_null())
            .col(
                ColumnDef::new(col("created_at"))
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .foreign_key(&mut workspace_fk(col(GROUP)));
        manager.create_table(group.to_owned()).await?;
        let mut unique = vec![("ux_segment_group_workspace_name_key", "name_key")];
        if sqlite {
            unique.push(("ux_segment_group_workspace_id", "id"));
        }
        for (name, column) in unique {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(col(GROUP))
                        .col(col("workspace_id"))
                        .col(col(column))
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(col(MEMBER))
                    .col(workspace_col())
                    .col(ColumnDef::new(col("segment_id")).big_integer().not_null())
                    .col(ColumnDef::new(col("group_id")).big_integer().not_null())
                    .col(ColumnDef::new(col("position")).integer().not_null())
                    .primary_key(
                        Index::create()
                            .col(col("workspace_id"))
                            .col(col("segment_id")),
                    )
                    .foreign_key(&mut workspace_fk(col(MEMBER)))
                    .foreign_key(&mut member_fk("segment_id", "segment"))
                    .foreign_key(&mut member_fk("group_id", GROUP))
                    .to_owned(),
            )
            .await?;
        // A group's segments in order.
        manager
            .create_index(
                Index::create()
                    .name("ix_segment_group_member_group")
                    .table(col(MEMBER))
                    .col(col("workspace_id"))
                    .col(col("group_id"))
                    .col(col("position"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [MEMBER, GROUP] {
            manager
                .drop_table(Table::drop().table(col(table)).to_owned())
                .await?;
        }
        Ok(())
    }
}
