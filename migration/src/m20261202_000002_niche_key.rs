//! `influencer.niche_key`: the Unicode case-folded NFC key of the niche
//! ([`entity::text_key::text_key`]), which the roster filter's `nicheIn` matches, so that
//! "Fitness", "FITNESS" and "fitness" are one niche on SQLite and PostgreSQL alike (SQLite's
//! `LOWER` folds ASCII only). Existing rows get their key computed in Rust, and an index on
//! `(workspace_id, niche_key)` serves the filter.

use entity::text_key::text_key;
use sea_orm_migration::prelude::*;

use crate::m20261201_000002_folded_keys::recompute;

#[derive(DeriveMigrationName)]
pub struct Migration;

const INDEX: &str = "ix_influencer_workspace_niche_key";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("influencer"))
                    .add_column(ColumnDef::new(Alias::new("niche_key")).text())
                    .to_owned(),
            )
            .await?;
        recompute(
            manager.get_connection(),
            "influencer",
            &[("niche", "niche_key")],
            text_key,
        )
        .await?;
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Alias::new("influencer"))
                    .col(Alias::new("workspace_id"))
                    .col(Alias::new("niche_key"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Alias::new("influencer"))
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("influencer"))
                    .drop_column(Alias::new("niche_key"))
                    .to_owned(),
            )
            .await
    }
}
