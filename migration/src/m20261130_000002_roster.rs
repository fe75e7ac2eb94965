use sea_orm_migration::prelude::*;

use crate::{id_col, workspace_col, workspace_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Influencer {
    Table,
    Id,
    WorkspaceId,
    Handle,
    HandleKey,
    Platform,
    DisplayName,
    Email,
    Niche,
    FollowerCount,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Segment {
    Table,
    Id,
    WorkspaceId,
    Name,
    NameKey,
    Description,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Influencer::Table)
                    .col(id_col(Influencer::Id))
                    .col(workspace_col())
                    .col(
                        ColumnDef::new(Influencer::Handle)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Influencer::HandleKey)
                            .string_len(100)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Influencer::Platform)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Influencer::DisplayName).string_len(200))
                    .col(ColumnDef::new(Influencer::Email).string_len(254))
                    .col(ColumnDef::new(Influencer::Niche).string_len(80))
                    .col(ColumnDef::new(Influencer::FollowerCount).integer())
                    .col(
                        ColumnDef::new(Influencer::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut workspace_fk(Influencer::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_influencer_workspace_platform_handle")
                    .table(Influencer::Table)
                    .col(Influencer::WorkspaceId)
                    .col(Influencer::Platform)
                    .col(Influencer::HandleKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Keyset pages of the roster and of Unassigned walk this index.
        manager
            .create_index(
                Index::create()
                    .name("ix_influencer_workspace_id")
                    .table(Influencer::Table)
                    .col(Influencer::WorkspaceId)
                    .col(Influencer::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Segment::Table)
                    .col(id_col(Segment::Id))
                    .col(workspace_col())
                    .col(ColumnDef::new(Segment::Name).string_len(80).not_null())
                    .col(ColumnDef::new(Segment::NameKey).string_len(80).not_null())
                    .col(ColumnDef::new(Segment::Description).string_len(500))
                    .col(
                        ColumnDef::new(Segment::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut workspace_fk(Segment::Table))
                    .to_owned(),
            )
            .await?;
        // Case-insensitive name uniqueness per workspace (name_key is the lower-cased name).
        manager
            .create_index(
                Index::create()
                    .name("ux_segment_workspace_name_key")
                    .table(Segment::Table)
                    .col(Segment::WorkspaceId)
                    .col(Segment::NameKey)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_segment_workspace_id")
                    .table(Segment::Table)
                    .col(Segment::WorkspaceId)
                    .col(Segment::Id)
                    .to_owned(),
            )
            .await?;

        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [Segment::Table.into_iden(), Influencer::Table.into_iden()] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
