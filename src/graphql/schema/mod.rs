//! The schema: what clients can ask. One module per domain type (`workspace`, `node`,
//! `influencer`, `segment`, `group` for folders and pipelines, `campaign`, `automation`, `history`
//! for the membership history, and
//! `subscription` for live updates), each
//! holding its object types and its part of `Query` and `Mutation`, merged here; and what they
//! share: global ids (`ids`), Relay connections (`connection`), the `DateTime` scalar
//! (`scalars`), enums (`enums`), update inputs (`patch`), userErrors (`errors`), what each
//! field costs (`complexity`), and the schema's data access: the request's context
//! (`context`) and loaders (`loaders`).
//!
//! A module belongs here when it names the schema's types or the data behind them. The object
//! types refer to each other (`Segment.influencers` is `Influencer`, `Influencer.segments` is
//! `Segment`, a campaign's automations and an automation's campaign...), so they are declared
//! once in `objects`, and each domain module resolves its own type's fields there: the types
//! form cycles, the modules do not. What runs requests, whatever their schema, is in
//! [`super::runtime`], which this module uses and which never uses it.

pub mod automation;
pub mod campaign;
pub mod complexity;
pub mod connection;
pub mod context;
pub mod enums;
pub mod errors;
pub mod export;
pub mod filter;
pub mod group;
pub mod history;
pub mod ids;
pub mod influencer;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod objects;
pub mod patch;
pub mod scalars;
pub mod segment;
pub mod subscription;
pub mod workspace;

use async_graphql::{MergedObject, Request, Schema, SchemaBuilder};

use crate::service::{Scope, Scoped};
pub use subscription::Subscription;

/// The root query.
#[derive(MergedObject, Default)]
pub struct Query(
    workspace::ViewerQuery,
    node::NodeQuery,
    influencer::InfluencerQuery,
    segment::SegmentQuery,
    campaign::CampaignQuery,
    history::HistoryQuery,
    group::GroupQuery,
    export::ExportQuery,
);

/// The root mutation. Each mutation is one transaction: when it reports `userErrors` it has
/// written nothing.
#[derive(MergedObject, Default)]
pub struct Mutation(
    influencer::InfluencerMutation,
    segment::SegmentMutation,
    campaign::CampaignMutation,
    automation::AutomationMutation,
    group::GroupMutation,
    export::ExportMutation,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The builder of [`AppSchema`].
pub type AppSchemaBuilder = SchemaBuilder<Query, Mutation, Subscription>;

/// The schema without data: enough to print the SDL.
pub fn schema_builder() -> AppSchemaBuilder {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// Attaches what a request needs to run: the scope of the workspace it acts for (with the
/// request's deadline) and its own batching loader.
pub fn scoped_request(request: Request, scope: Scope) -> Request {
    request
        .data(scope.workspace())
        .data(loaders::AppLoader::batcher(scope.clone()))
        .data(scope)
}
