//! Drops the membership history's index on `at`. Retention now prunes each workspace's history
//! from its start in position order (which is the order of the changes' times, but for a write's
//! commit), reading the primary key alone; an index on the time cost every recorded change one
//! more random insert, a sixth of the cost of recording history, for a statement that runs every
//! ten minutes.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

const TABLE: &str = "segment_membership_change";
const INDEX: &str = "ix_segment_membership_change_at";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(INDEX)
                    .table(Alias::new(TABLE))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name(INDEX)
                    .table(Alias::new(TABLE))
                    .col(Alias::new("at"))
                    .to_owned(),
            )
            .await
    }
}
