use sea_orm_migration::prelude::*;

use crate::{workspace_col, workspace_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SegmentMembership {
    Table,
    SegmentId,
    InfluencerId,
    AssignedAt,
    Source,
    AutomationId,
}

#[derive(DeriveIden)]
enum Segment {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Influencer {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum Automation {
    Table,
    Id,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(SegmentMembership::Table)
                    .col(
                        ColumnDef::new(SegmentMembership::SegmentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SegmentMembership::InfluencerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(workspace_col())
                    .col(
                        ColumnDef::new(SegmentMembership::AssignedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(SegmentMembership::Source)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(SegmentMembership::AutomationId).big_integer())
                    // (segment, influencer): members of a segment in keyset order, and no
                    // duplicate membership.
                    .primary_key(
                        Index::create()
                            .col(SegmentMembership::SegmentId)
                            .col(SegmentMembership::InfluencerId),
                    )
                    .foreign_key(&mut workspace_fk(SegmentMembership::Table))
                    .foreign_key(
                        ForeignKey::create()
                            .from(SegmentMembership::Table, SegmentMembership::SegmentId)
                            .to(Segment::Table, Segment::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SegmentMembership::Table, SegmentMembership::InfluencerId)
                            .to(Influencer::Table, Influencer::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SegmentMembership::Table, SegmentMembership::AutomationId)
                            .to(Automation::Table, Automation::Id)
                            .on_delete(ForeignKeyAction::SetNull),
                    )
                    .to_owned(),
            )
            .await?;
        // The other direction: an influencer's segments, and the Unassigned anti-join.
        manager
            .create_index(
                Index::create()
                    .name("ix_segment_membership_influencer")
                    .table(SegmentMembership::Table)
                    .col(SegmentMembership::InfluencerId)
                    .col(SegmentMembership::SegmentId)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(SegmentMembership::Table).to_owned())
            .await
    }
}
