//! The GraphQL API: one module per domain, each holding its object types, its part of `Query`
//! and its part of `Mutation`, merged here. Resolvers are thin: they parse ids, call
//! [`crate::service`], and shape payloads.

pub mod automation;
pub mod campaign;
pub mod connection;
pub mod context;
pub mod enums;
pub mod errors;
pub mod ids;
pub mod influencer;
pub mod loaders;
pub mod node;
pub mod null_propagation;
pub mod patch;
pub mod scalars;
pub mod segment;

use async_graphql::{EmptySubscription, MergedObject, Request, Schema, SchemaBuilder};
use sea_orm::DatabaseConnection;

use crate::service::WorkspaceId;

/// The root query.
#[derive(MergedObject, Default)]
pub struct Query(
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

pub type AppSchema = Schema<Query, Mutation, EmptySubscription>;

/// The schema without data: enough to print the SDL.
pub fn schema_builder() -> SchemaBuilder<Query, Mutation, EmptySubscription> {
    Schema::build(Query::default(), Mutation::default(), EmptySubscription)
        .extension(null_propagation::NullPropagation)
}

/// The schema serving `db`, logging operations slower than a second as slow.
pub fn build_schema(db: DatabaseConnection) -> AppSchema {
    build_schema_with(db, std::time::Duration::from_secs(1))
}

/// The schema serving `db`, logging operations slower than `slow_operation` as slow.
pub fn build_schema_with(db: DatabaseConnection, slow_operation: std::time::Duration) -> AppSchema {
    schema_builder()
        .extension(crate::observability::OperationLog {
            slow: slow_operation,
        })
        .data(db)
        .finish()
}

/// The SDL clients see; `schema.graphql` at the repository root is this text.
pub fn sdl() -> String {
    schema_builder().finish().sdl()
}

/// Attaches what a request needs to run: the workspace it acts for and its own DataLoader.
pub fn scoped_request(request: Request, db: &DatabaseConnection, ws: WorkspaceId) -> Request {
    request
        .data(ws)
        .data(loaders::AppLoader::data_loader(db.clone(), ws))
}
