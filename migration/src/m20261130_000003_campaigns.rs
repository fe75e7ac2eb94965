use sea_orm_migration::prelude::*;

use crate::{id_col, workspace_col, workspace_fk};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Campaign {
    Table,
    Id,
    Name,
    Status,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CampaignAudience {
    Table,
    CampaignId,
    SegmentId,
}

#[derive(DeriveIden)]
enum Automation {
    Table,
    Id,
    CampaignId,
    Trigger,
    Action,
    SegmentId,
    Enabled,
    CreatedAt,
}

#[derive(DeriveIden)]
enum EngagementEvent {
    Table,
    Id,
    WorkspaceId,
    CampaignId,
    InfluencerId,
    Kind,
    OccurredAt,
    ExternalId,
    RecordedAt,
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

fn fk(
    from: impl IntoIden + 'static,
    col: impl IntoIden + 'static,
    to: impl IntoIden + 'static,
    to_col: impl IntoIden + 'static,
    on_delete: ForeignKeyAction,
) -> ForeignKeyCreateStatement {
    ForeignKey::create()
        .from(from, col)
        .to(to, to_col)
        .on_delete(on_delete)
        .to_owned()
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Campaign::Table)
                    .col(id_col(Campaign::Id))
                    .col(workspace_col())
                    .col(ColumnDef::new(Campaign::Name).string_len(120).not_null())
                    .col(ColumnDef::new(Campaign::Status).string_len(16).not_null())
                    .col(
                        ColumnDef::new(Campaign::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut workspace_fk(Campaign::Table))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_campaign_workspace_id")
                    .table(Campaign::Table)
                    .col(Alias::new("workspace_id"))
                    .col(Campaign::Id)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(CampaignAudience::Table)
                    .col(
                        ColumnDef::new(CampaignAudience::CampaignId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CampaignAudience::SegmentId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(workspace_col())
                    .primary_key(
                        Index::create()
                            .col(CampaignAudience::CampaignId)
                            .col(CampaignAudience::SegmentId),
                    )
                    .foreign_key(&mut workspace_fk(CampaignAudience::Table))
                    .foreign_key(&mut fk(
                        CampaignAudience::Table,
                        CampaignAudience::CampaignId,
                        Campaign::Table,
                        Campaign::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        CampaignAudience::Table,
                        CampaignAudience::SegmentId,
                        Segment::Table,
                        Segment::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_campaign_audience_segment")
                    .table(CampaignAudience::Table)
                    .col(CampaignAudience::SegmentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Automation::Table)
                    .col(id_col(Automation::Id))
                    .col(workspace_col())
                    .col(
                        ColumnDef::new(Automation::CampaignId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Automation::Trigger)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(ColumnDef::new(Automation::Action).string_len(24).not_null())
                    .col(ColumnDef::new(Automation::SegmentId).big_integer())
                    .col(ColumnDef::new(Automation::Enabled).boolean().not_null())
                    .col(
                        ColumnDef::new(Automation::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut workspace_fk(Automation::Table))
                    .foreign_key(&mut fk(
                        Automation::Table,
                        Automation::CampaignId,
                        Campaign::Table,
                        Campaign::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        Automation::Table,
                        Automation::SegmentId,
                        Segment::Table,
                        Segment::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        // recordEngagement looks up the enabled automations of (campaign, trigger).
        manager
            .create_index(
                Index::create()
                    .name("ix_automation_campaign_trigger")
                    .table(Automation::Table)
                    .col(Automation::CampaignId)
                    .col(Automation::Trigger)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_automation_segment")
                    .table(Automation::Table)
                    .col(Automation::SegmentId)
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(EngagementEvent::Table)
                    .col(id_col(EngagementEvent::Id))
                    .col(workspace_col())
                    .col(
                        ColumnDef::new(EngagementEvent::CampaignId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EngagementEvent::InfluencerId)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EngagementEvent::Kind)
                            .string_len(16)
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(EngagementEvent::OccurredAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(EngagementEvent::ExternalId).string_len(200))
                    .col(
                        ColumnDef::new(EngagementEvent::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(&mut workspace_fk(EngagementEvent::Table))
                    .foreign_key(&mut fk(
                        EngagementEvent::Table,
                        EngagementEvent::CampaignId,
                        Campaign::Table,
                        Campaign::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        EngagementEvent::Table,
                        EngagementEvent::InfluencerId,
                        Influencer::Table,
                        Influencer::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        // Webhook retries carry the same external id; NULLs stay distinct on both backends.
        manager
            .create_index(
                Index::create()
                    .name("ux_engagement_event_external_id")
                    .table(EngagementEvent::Table)
                    .col(EngagementEvent::WorkspaceId)
                    .col(EngagementEvent::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_engagement_event_campaign", EngagementEvent::CampaignId),
            (
                "ix_engagement_event_influencer",
                EngagementEvent::InfluencerId,
            ),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(EngagementEvent::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            EngagementEvent::Table.into_iden(),
            Automation::Table.into_iden(),
            CampaignAudience::Table.into_iden(),
            Campaign::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
