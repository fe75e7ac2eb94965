//! Export jobs: `export_job(workspace_id, id, format, segment_id, campaign_id, unassigned,
//! row_count, key_prefix, created_at, expires_at)`.
//!
//! A job is a download ticket: its scope (the whole roster, one segment's members, the Unassigned
//! folder, or one campaign's recipients) and its format. The file itself is never stored; each
//! download streams it from one snapshot of the database. A job goes with its workspace, and with
//! the segment or campaign it names.
//!
//! Keyed and referring by `(workspace_id, ...)`, like every tenant table; on SQLite `id` is the
//! rowid and `(workspace_id, id)` a unique index (see `m20261202_000001_workspace_keys`).

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

use crate::{id_col, workspace_col, workspace_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

const JOB: &str = "export_job";

fn col(name: &str) -> Alias {
    Alias::new(name)
}

/// A composite reference from the job to `parent (workspace_id, id)`; a job without one (the
/// column null) refers to nothing.
fn scope_fk(column: &str, parent: &str) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(col(JOB))
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
        let mut job = Table::create();
        job.table(col(JOB)).col(workspace_col());
        if sqlite {
            job.col(id_col(col("id")));
        } else {
            job.col(
                ColumnDef::new(col("id"))
                    .big_integer()
                    .not_null()
                    .auto_increment(),
            )
            .primary_key(Index::create().col(col("workspace_id")).col(col("id")));
        }
        job.col(ColumnDef::new(col("format")).string_len(8).not_null())
            .col(ColumnDef::new(col("segment_id")).big_integer().null())
            .col(ColumnDef::new(col("campaign_id")).big_integer().null())
            .col(ColumnDef::new(col("unassigned")).boolean().not_null())
            .col(ColumnDef::new(col("row_count")).big_integer().not_null())
            .col(ColumnDef::new(col("key_prefix")).text().null())
            .col(
                ColumnDef::new(col("created_at"))
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .col(
                ColumnDef::new(col("expires_at"))
                    .timestamp_with_time_zone()
                    .not_null(),
            )
            .foreign_key(&mut workspace_fk(col(JOB)))
            .foreign_key(&mut scope_fk("segment_id", "segment"))
            .foreign_key(&mut scope_fk("campaign_id", "campaign"));
        manager.create_table(job.to_owned()).await?;
        if sqlite {
            manager
                .create_index(
                    Index::create()
                        .name("ux_export_job_workspace_id")
                        .table(col(JOB))
                        .col(col("workspace_id"))
                        .col(col("id"))
                        .unique()
                        .to_owned(),
                )
                .await?;
        }
        // The references' columns, for the deletes of a segment or campaign that cascade here.
        for column in ["segment_id", "campaign_id"] {
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_export_job_{column}"))
                        .table(col(JOB))
                        .col(col("workspace_id"))
                        .col(col(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(col(JOB)).to_owned())
            .await
    }
}
