//! `workspace.rules_version`: counts the changes to the workspace's rules (a RULE segment made,
//! given a new rule, converted or deleted). A write that follows rules reads it with the
//! workspace row locked `FOR KEY SHARE`, and a rule change locks the row `FOR UPDATE` before it
//! changes anything and counts up before it commits, so the version a write reads is that of the
//! rules it must evaluate; the server keeps each workspace's rules compiled in memory for as long
//! as the version stays the same.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("workspace"))
                    .add_column(
                        ColumnDef::new(Alias::new("rules_version"))
                            .big_integer()
                            .not_null()
                            .default(0),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("workspace"))
                    .drop_column(Alias::new("rules_version"))
                    .to_owned(),
            )
            .await
    }
}
