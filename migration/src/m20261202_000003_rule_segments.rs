//! Rule segments: a segment's `kind` (`MANUAL` or `RULE`) and the `rule` of a RULE segment (its
//! roster filter as JSON), and what rules refer to, so that the database itself refuses to
//! delete a segment or a campaign a rule still names, and a change can find the rules it affects:
//!
//! - `rule_segment_reference(workspace_id, segment_id, referred_segment_id)`: the rule of
//!   `segment_id` names `referred_segment_id` (`inAnySegment`, `inAllSegments`, `inNoSegment`).
//! - `rule_campaign_reference(workspace_id, segment_id, campaign_id)`: it names `campaign_id`
//!   (`engaged.campaignId`).
//!
//! Both are keyed and refer by `(workspace_id, ...)`, like every tenant table; a reference goes
//! with its rule's segment, and holds back the deletion of what it names.

use sea_orm_migration::prelude::*;

use crate::{workspace_col, workspace_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// `(table, referring column, referred table)`.
const REFERENCE_TABLES: [(&str, &str, &str); 2] = [
    ("rule_segment_reference", "referred_segment_id", "segment"),
    ("rule_campaign_reference", "campaign_id", "campaign"),
];

/// The index the rules of a workspace are read through.
const KIND_INDEX: &str = "ix_segment_workspace_kind";

fn col(name: &str) -> Alias {
    Alias::new(name)
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(col("segment"))
                    .add_column(
                        ColumnDef::new(col("kind"))
                            .string_len(8)
                            .not_null()
                            .default("MANUAL"),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .alter_table(
                Table::alter()
                    .table(col("segment"))
                    .add_column(ColumnDef::new(col("rule")).text())
                    .to_owned(),
            )
            .await?;
        // Every write that can change a match reads the workspace's RULE segments: through this
        // index, not through all of the workspace's segments.
        manager
            .create_index(
                Index::create()
                    .name(KIND_INDEX)
                    .table(col("segment"))
                    .col(col("workspace_id"))
                    .col(col("kind"))
                    .to_owned(),
            )
            .await?;
        for (table, referring, referred) in REFERENCE_TABLES {
            manager
                .create_table(
                    Table::create()
                        .table(col(table))
                        .col(workspace_col())
                        .col(ColumnDef::new(col("segment_id")).big_integer().not_null())
                        .col(ColumnDef::new(col(referring)).big_integer().not_null())
                        .primary_key(
                            Index::create()
                                .col(col("workspace_id"))
                                .col(col("segment_id"))
                                .col(col(referring)),
                        )
                        .foreign_key(&mut workspace_fk(col(table)))
                        .foreign_key(
                            ForeignKey::create()
                                .from_tbl(col(table))
                                .from_col(col("workspace_id"))
                                .from_col(col("segment_id"))
                                .to_tbl(col("segment"))
                                .to_col(col("workspace_id"))
                                .to_col(col("id"))
                                .on_delete(ForeignKeyAction::Cascade),
                        )
                        .foreign_key(
                            ForeignKey::create()
                                .from_tbl(col(table))
                                .from_col(col("workspace_id"))
                                .from_col(col(referring))
                                .to_tbl(col(referred))
                                .to_col(col("workspace_id"))
                                .to_col(col("id"))
                                .on_delete(ForeignKeyAction::Restrict),
                        )
                        .to_owned(),
                )
                .await?;
            // The rules that name a segment or a campaign: what a change to it re-evaluates,
            // and what the database looks up before deleting it.
            manager
                .create_index(
                    Index::create()
                        .name(format!("ix_{table}_{referring}"))
                        .table(col(table))
                        .col(col("workspace_id"))
                        .col(col(referring))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_index(
                Index::drop()
                    .name(KIND_INDEX)
                    .table(col("segment"))
                    .to_owned(),
            )
            .await?;
        for (table, _, _) in REFERENCE_TABLES {
            manager
                .drop_table(Table::drop().table(col(table)).to_owned())
                .await?;
        }
        for column in ["rule", "kind"] {
            manager
                .alter_table(
                    Table::alter()
                        .table(col("segment"))
                        .drop_column(col(column))
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}
