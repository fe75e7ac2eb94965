//! The GraphQL API: one module per domain, each holding its object types, its part of `Query`
//! and its part of `Mutation`, merged here. Resolvers are thin: they parse ids, call
//! [`crate::service`], and shape payloads.

pub mod api;
pub mod apq;
pub mod automation;
pub mod batching;
pub mod campaign;
pub mod connection;
pub mod context;
pub mod documents;
pub mod enums;
pub mod errors;
pub mod field_order;
pub mod ids;
pub mod influencer;
pub mod limits;
pub mod loaders;
pub mod mutation;
pub mod node;
pub mod null_propagation;
pub mod patch;
pub mod scalars;
pub mod segment;
pub mod subscription;
pub mod variables;
pub mod workspace;

use async_graphql::{MergedObject, Request, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::service::{Scope, Scoped, events::Events};
pub use api::Api;
pub use subscription::Subscription;

/// The root query.
#[derive(MergedObject, Default)]
pub struct Query(
    workspace::ViewerQuery,
    node::NodeQuery,
    influencer::InfluencerQuery,
    segment::SegmentQuery,
    campaign::CampaignQuery,
);

/// The root mutation. Each mutation is one transaction: when it reports `userErrors` it has
/// written nothing.
#[derive(MergedObject, Default)]
pub struct Mutation(
    influencer::InfluencerMutation,
    segment::SegmentMutation,
    campaign::CampaignMutation,
    automation::AutomationMutation,
);

pub type AppSchema = Schema<Query, Mutation, Subscription>;

/// The schema without data: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
}

/// The API serving `db` with the default limits, logging operations slower than a second.
pub fn build_schema(db: DatabaseConnection) -> Api {
    let events = Events::start(&db);
    build_schema_with(
        db,
        events,
        std::time::Duration::from_secs(1),
        &limits::Limits::default(),
    )
}

/// The API serving `db`, with these limits, logging operations slower than `slow_operation`.
/// Subscriptions listen to `events`, the database's event hub (see [`Events::start`]).
pub fn build_schema_with(
    db: DatabaseConnection,
    events: Events,
    slow_operation: std::time::Duration,
    limits: &limits::Limits,
) -> Api {
    // No async-graphql extensions: what runs around an operation is in `Api` (see there why).
    let mut builder = schema_builder()
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        // Bounds the parser's and validator's own recursion (deeply nested or cyclic fragments).
        // Directives are counted per query by `Limits::admit`.
        .limit_recursive_depth(64)
        .data(limits.clone())
        .data(events.clone())
        .data(db.clone());
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    Api::new(builder.finish(), db, events, limits.clone(), slow_operation)
}

/// The SDL clients see; `schema.graphql` at the repository root is this text.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Attaches what a request needs to run: the scope of the workspace it acts for (with the
/// request's deadline) and its own batching loader.
pub fn scoped_request(request: Request, scope: Scope) -> Request {
    request
        .data(scope.workspace())
        .data(loaders::AppLoader::batcher(scope.clone()))
        .data(scope)
}
