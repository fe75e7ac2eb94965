//! Enumerations stored as short strings, so both SQLite and PostgreSQL hold them the same way and a
//! new value needs no `ALTER TYPE`.

use sea_orm::entity::prelude::*;

/// Where an influencer publishes. Serialized (in stored rules) as its stored string.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum Platform {
    #[sea_orm(string_value = "INSTAGRAM")]
    Instagram,
    #[sea_orm(string_value = "TIKTOK")]
    Tiktok,
    #[sea_orm(string_value = "YOUTUBE")]
    Youtube,
    #[sea_orm(string_value = "TWITCH")]
    Twitch,
    #[sea_orm(string_value = "X")]
    X,
    #[sea_orm(string_value = "OTHER")]
    Other,
}

/// How a segment membership was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum MembershipSource {
    #[sea_orm(string_value = "MANUAL")]
    Manual,
    #[sea_orm(string_value = "AUTOMATION")]
    Automation,
    /// Made and ended by the segment's rule.
    #[sea_orm(string_value = "RULE")]
    Rule,
}

/// How a segment's members are decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum SegmentKind {
    /// By people and automations, one assignment at a time.
    #[sea_orm(string_value = "MANUAL")]
    Manual,
    /// By its rule: the server keeps the members equal to the rule's matches.
    #[sea_orm(string_value = "RULE")]
    Rule,
}

/// Lifecycle of a campaign.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum CampaignStatus {
    #[sea_orm(string_value = "DRAFT")]
    Draft,
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    #[sea_orm(string_value = "PAUSED")]
    Paused,
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
}

/// What an influencer did with a campaign's outreach.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum EngagementKind {
    #[sea_orm(string_value = "EMAIL_OPENED")]
    EmailOpened,
    #[sea_orm(string_value = "EMAIL_REPLIED")]
    EmailReplied,
    #[sea_orm(string_value = "LINK_CLICKED")]
    LinkClicked,
}

/// What an automation does when its trigger fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(24))")]
pub enum AutomationAction {
    #[sea_orm(string_value = "ASSIGN_TO_SEGMENT")]
    AssignToSegment,
    /// Into the segment, out of its pipeline's other stages.
    #[sea_orm(string_value = "MOVE_TO_SEGMENT")]
    MoveToSegment,
    #[sea_orm(string_value = "REMOVE_FROM_SEGMENT")]
    RemoveFromSegment,
}

/// Whether a recorded membership change made the membership or ended it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum ChangeKind {
    #[sea_orm(string_value = "ADDED")]
    Added,
    #[sea_orm(string_value = "REMOVED")]
    Removed,
}

/// Who or what made a recorded membership change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ActorKind {
    /// A client, through the API with a key.
    #[sea_orm(string_value = "API_KEY")]
    ApiKey,
    /// An automation, when an engagement fired it.
    #[sea_orm(string_value = "AUTOMATION")]
    Automation,
    /// A segment's rule.
    #[sea_orm(string_value = "RULE")]
    Rule,
    /// An import of a roster.
    #[sea_orm(string_value = "IMPORT")]
    Import,
    /// The server itself: a delete that took memberships with it, or work with no API key (the
    /// command line).
    #[sea_orm(string_value = "SYSTEM")]
    System,
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(8))")]
pub enum ExportFormat {
    /// Comma-separated values with a header row.
    #[sea_orm(string_value = "CSV")]
    Csv,
    /// One JSON object per line.
    #[sea_orm(string_value = "JSONL")]
    Jsonl,
}
