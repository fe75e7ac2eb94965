use sea_orm_migration::prelude::*;

use crate::{Workspace, id_col};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Workspace::Table)
                    .col(id_col(Workspace::Id))
                    .col(ColumnDef::new(Workspace::Name).string_len(120).not_null())
                    .col(
                        ColumnDef::new(Workspace::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null()
                            .default(Expr::current_timestamp()),
                    )
                    .to_owned(),
            )
            .await?;
        // Until authentication exists every request belongs to this workspace: the one with the
        // lowest id.
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(Workspace::Table)
                    .columns([Workspace::Name])
                    .values_panic(["Default".into()])
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Workspace::Table).to_owned())
            .await
    }
}
