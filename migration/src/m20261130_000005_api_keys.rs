use sea_orm_migration::prelude::*;

use crate::{Workspace, id_col, workspace_col, workspace_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ApiKey {
    Table,
    Id,
    Label,
    Prefix,
    KeyHash,
    CreatedAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiKey::Table)
                    .col(id_col(ApiKey::Id))
                    .col(workspace_col())
                    .col(ColumnDef::new(ApiKey::Label).string_len(120).not_null())
                    .col(ColumnDef::new(ApiKey::Prefix).string_len(16).not_null())
                    .col(ColumnDef::new(ApiKey::KeyHash).string_len(64).not_null())
                    .col(
                        ColumnDef::new(ApiKey::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ApiKey::RevokedAt).timestamp_with_time_zone())
                    .foreign_key(&mut workspace_fk(ApiKey::Table))
                    .to_owned(),
            )
            .await?;
        // Every request looks its key up by hash.
        manager
            .create_index(
                Index::create()
                    .name("ux_api_key_hash")
                    .table(ApiKey::Table)
                    .col(ApiKey::KeyHash)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_api_key_prefix")
                    .table(ApiKey::Table)
                    .col(ApiKey::Prefix)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Workspaces are named on the command line (`api-key create --workspace NAME`).
        manager
            .create_index(
                Index::create()
                    .name("ux_workspace_name")
                    .table(Workspace::Table)
                    .col(Workspace::Name)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name("ux_workspace_name")
                    .table(Workspace::Table)
                    .to_owned(),
            )
            .await?;
        manager
            .drop_table(Table::drop().table(ApiKey::Table).to_owned())
            .await
    }
}
