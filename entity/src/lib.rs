//! SeaORM entities: one module per table. Every table carries `workspace_id`; nothing here knows
//! about GraphQL.

pub mod api_key;
pub mod automation;
pub mod campaign;
pub mod campaign_audience;
pub mod engagement_event;
pub mod enums;
pub mod influencer;
pub mod segment;
pub mod segment_membership;
pub mod text_key;
pub mod workspace;
