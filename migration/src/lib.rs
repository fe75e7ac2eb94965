//! Schema migrations, one file per step. Each runs unchanged on SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261130_000001_workspace;
mod m20261130_000002_roster;
mod m20261130_000003_campaigns;
mod m20261130_000004_memberships;
mod m20261130_000005_api_keys;
mod m20261201_000001_automation_segment_check;
mod m20261201_000002_folded_keys;
mod m20261202_000001_workspace_keys;
mod m20261202_000002_niche_key;
mod m20261202_000003_rule_segments;
mod m20261202_000004_rules_version;
mod m20261203_000001_membership_history;
mod m20261203_000002_segment_groups;
mod m20261203_000003_history_pruned_by_position;
mod m20261204_000001_export_jobs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261130_000001_workspace::Migration),
            Box::new(m20261130_000002_roster::Migration),
            Box::new(m20261130_000003_campaigns::Migration),
            Box::new(m20261130_000004_memberships::Migration),
            Box::new(m20261130_000005_api_keys::Migration),
            Box::new(m20261201_000001_automation_segment_check::Migration),
            Box::new(m20261201_000002_folded_keys::Migration),
            Box::new(m20261202_000001_workspace_keys::Migration),
            Box::new(m20261202_000002_niche_key::Migration),
            Box::new(m20261202_000003_rule_segments::Migration),
            Box::new(m20261202_000004_rules_version::Migration),
            Box::new(m20261203_000001_membership_history::Migration),
            Box::new(m20261203_000002_segment_groups::Migration),
            Box::new(m20261203_000003_history_pruned_by_position::Migration),
            Box::new(m20261204_000001_export_jobs::Migration),
        ]
    }
}

/// Identifiers shared by the migrations.
#[derive(DeriveIden)]
pub(crate) enum Workspace {
    Table,
    Id,
    Name,
    CreatedAt,
}

/// Foreign key from `table.workspace_id` to the owning workspace; rows go with their workspace.
pub(crate) fn workspace_fk(table: impl IntoIden + 'static) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from_tbl(table)
        .from_col(Alias::new("workspace_id"))
        .to_tbl(Workspace::Table)
        .to_col(Workspace::Id)
        .on_delete(ForeignKeyAction::Cascade)
        .to_owned()
}

/// The usual `id` column: a 64-bit auto-increment key (`INTEGER PRIMARY KEY` on SQLite).
pub(crate) fn id_col(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .big_integer()
        .not_null()
        .auto_increment()
        .primary_key()
        .to_owned()
}

pub(crate) fn workspace_col() -> ColumnDef {
    ColumnDef::new(Alias::new("workspace_id"))
        .big_integer()
        .not_null()
        .to_owned()
}
