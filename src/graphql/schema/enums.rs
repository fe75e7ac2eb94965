//! GraphQL enums, mirroring the stored ones in `entity::enums`.

use async_graphql::Enum;
use entity::enums;

/// Where an influencer publishes.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::Platform")]
pub enum Platform {
    Instagram,
    Tiktok,
    Youtube,
    Twitch,
    X,
    Other,
}

/// How a membership was made.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::MembershipSource")]
pub enum MembershipSource {
    /// By a person, through `assignToSegment`.
    Manual,
    /// By an automation, when the influencer engaged with a campaign.
    Automation,
    /// Made and ended by the segment's rule.
    Rule,
}

/// How a segment's members are decided.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::SegmentKind")]
pub enum SegmentKind {
    /// By people and automations, one assignment at a time.
    Manual,
    /// By its rule: the server keeps the members equal to the rule's matches.
    Rule,
}

/// Where a campaign is in its life.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::CampaignStatus")]
pub enum CampaignStatus {
    Draft,
    Active,
    Paused,
    Completed,
}

/// What an influencer did with a campaign's outreach.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::EngagementKind")]
pub enum EngagementKind {
    EmailOpened,
    EmailReplied,
    LinkClicked,
}

/// What an automation does when its trigger fires.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::AutomationAction")]
pub enum AutomationAction {
    /// Add the influencer to the automation's segment (which, for a pipeline stage, takes them
    /// out of its other stages, as every way into a stage does).
    AssignToSegment,
    /// Into the segment, out of the segment's pipeline siblings: "replied" moves a creator from
    /// Contacted to Negotiating.
    MoveToSegment,
    /// Take the influencer out of the automation's segment.
    RemoveFromSegment,
}

/// Whether an influencer entered or left a segment.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::ChangeKind", name = "MembershipChangeKind")]
pub enum MembershipChangeKind {
    /// The influencer was put in the segment.
    Added,
    /// The influencer was taken out of the segment (or the segment or influencer was deleted).
    Removed,
}

/// Who or what made a membership change.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::ActorKind")]
pub enum ActorKind {
    /// A client, through the API with a key (see `apiKeyPrefix` and `apiKeyLabel`).
    ApiKey,
    /// An automation, when an influencer's engagement fired it.
    Automation,
    /// A segment's rule.
    Rule,
    /// An import of a roster.
    Import,
    /// A delete that took memberships with it, or the server itself.
    System,
}

/// The file format of an export.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "enums::ExportFormat")]
pub enum ExportFormat {
    /// Comma-separated values with a header row; spreadsheet formulas are neutralised.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// Where a job is in its life.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum JobStatus {
    /// Waiting to start.
    Queued,
    /// Under way.
    Running,
    /// Done.
    Succeeded,
    /// Stopped by a fault, or by a restart of the server that ran it.
    Failed,
    /// Stopped on request.
    Cancelled,
}
