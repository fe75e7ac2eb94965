//! The GraphQL API, in two halves that know each other only through [`build_schema_with`]:
//!
//! - [`schema`]: what the API is. Its types, one module per domain type, with their parts of
//!   `Query`, `Mutation` and `Subscription`, and the schema's data access (the request's
//!   loader). Resolvers are thin: they parse ids, call [`crate::service`], and shape payloads.
//! - [`runtime`]: how any request is run. Parse cache, limits, variables checked before
//!   execution, persisted queries, batching, null propagation and field order, the operation
//!   log. Nothing in it names a type of the schema: it takes the built schema (and its SDL),
//!   so it could serve another one, and each module that patches async-graphql can be deleted
//!   on its own once upstream does what it does.
//!
//! This module wires the two: it builds the schema with the configured limits and hands it to
//! the runtime.

pub mod runtime;
pub mod schema;

use sea_orm::DatabaseConnection;

use crate::service::{Scope, events::Events};
use schema::scoped_request;

/// The GraphQL API as HTTP and WebSocket serve it: this schema, run by the runtime.
pub type Api = runtime::Api<schema::AppSchema>;

/// The API serving `db` with the default limits, logging operations slower than a second.
pub fn build_schema(db: DatabaseConnection) -> Api {
    let events = Events::start(&db);
    build_schema_with(
        db,
        events,
        std::time::Duration::from_secs(1),
        &runtime::limits::Limits::default(),
    )
}

/// The API serving `db`, with these limits, logging operations slower than `slow_operation`.
/// Subscriptions listen to `events`, the database's event hub (see [`Events::start`]).
pub fn build_schema_with(
    db: DatabaseConnection,
    events: Events,
    slow_operation: std::time::Duration,
    limits: &runtime::limits::Limits,
) -> Api {
    // No async-graphql extensions: what runs around an operation is in the runtime (see there
    // why).
    let mut builder = configured(limits)
        .data(limits.clone())
        .data(events.clone())
        .data(db.clone());
    if limits.cost_budget.is_some() {
        // The pricing schema has validated every request in full before this one sees it (see
        // `pricing_schema`): only async-graphql's fast checks are left to do here.
        builder = builder.validation_mode(async_graphql::ValidationMode::Fast);
    }
    let schema = builder.finish();
    let sdl = schema.sdl();
    // A request acts for its caller through its scope: the database, the caller's workspace and
    // key, the event hub its writes publish to, and the request's deadline.
    let scope_request = move |request, caller, deadline: Option<std::sync::Arc<_>>| {
        let scope = Scope::for_caller(db.clone(), caller, events.clone());
        let scope = match deadline {
            Some(deadline) => scope.with_deadline(deadline),
            None => scope,
        };
        scoped_request(request, scope)
    };
    let api = runtime::Api::new(schema, &sdl, limits.clone(), slow_operation, scope_request);
    match limits.cost_budget {
        Some(budget) => api.metered(pricing_schema(limits), budget),
        None => api,
    }
}

/// The schema builder with the limits and settings both the serving and the pricing schema
/// validate with, so that they accept and refuse the same requests with the same messages.
fn configured(limits: &runtime::limits::Limits) -> schema::AppSchemaBuilder {
    let mut builder = schema::schema_builder()
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        // Bounds the parser's and validator's own recursion (deeply nested or cyclic fragments).
        // Directives are counted per query by `Limits::admit`.
        .limit_recursive_depth(64);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    if !limits.suggestions {
        builder = builder.disable_suggestions();
    }
    builder
}

/// The schema that prices requests for the cost limits (see [`runtime::cost`]): the serving
/// schema's types, limits and settings, with the extension that records the complexity as it
/// validates and stops before execution. It validates in full, so that a request that does not
/// validate is refused with its validation errors before it is charged (and the serving schema
/// is left the fast checks). It holds no data: none of its resolvers ever runs.
fn pricing_schema(limits: &runtime::limits::Limits) -> schema::AppSchema {
    configured(limits).extension(runtime::cost::Meter).finish()
}

/// The SDL clients see; `schema.graphql` at the repository root is this text.
pub fn sdl() -> String {
    schema::schema_builder().finish().sdl()
}
