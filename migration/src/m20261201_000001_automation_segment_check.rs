//! An enabled automation always has a segment: the database holds the promise that deleting an
//! automation's segment disables it, whatever the order concurrent writes commit in.
//!
//! PostgreSQL gets a CHECK constraint. SQLite cannot add one to an existing table (`ALTER TABLE
//! ... ADD CONSTRAINT` does not exist there), and rebuilding the table would mean dropping it.
//! With foreign keys enforced (the server enforces them on every connection), that drop first
//! deletes every automation row, which runs the ON DELETE SET NULL of
//! `segment_membership.automation_id` and forgets which automation made each membership; and
//! enforcement can only be turned off per connection and outside a transaction, which would make
//! the rebuild non-atomic. Two triggers that refuse the same rows (on insert, and on updates of
//! either column) enforce the same rule in one transaction, without touching the stored data.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// The name of the rule (the PostgreSQL constraint; the SQLite triggers are named after it).
const RULE: &str = "ck_automation_enabled_has_segment";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on both backends (SQLite migrations run outside a transaction by default).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        // Rows a race already left enabled without a segment are switched off, as deleting their
        // segment should have done.
        db.execute_unprepared(
            "UPDATE automation SET enabled = FALSE WHERE enabled AND segment_id IS NULL",
        )
        .await?;
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for (event, suffix) in [
                    ("INSERT", "insert"),
                    ("UPDATE OF enabled, segment_id", "update"),
                ] {
                    db.execute_unprepared(&format!(
                        "CREATE TRIGGER {RULE}_{suffix} BEFORE {event} ON automation \
                         WHEN NEW.enabled AND NEW.segment_id IS NULL \
                         BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: {RULE}'); END"
                    ))
                    .await?;
                }
            }
            _ => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE automation ADD CONSTRAINT {RULE} \
                     CHECK (NOT enabled OR segment_id IS NOT NULL)"
                ))
                .await?;
            }
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let db = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => {
                for suffix in ["insert", "update"] {
                    db.execute_unprepared(&format!("DROP TRIGGER IF EXISTS {RULE}_{suffix}"))
                        .await?;
                }
            }
            _ => {
                db.execute_unprepared(&format!(
                    "ALTER TABLE automation DROP CONSTRAINT IF EXISTS {RULE}"
                ))
                .await?;
            }
        }
        Ok(())
    }
}
