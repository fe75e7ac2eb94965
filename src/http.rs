//! The HTTP surface: POST /graphql answers queries, GET /graphql serves GraphiQL.

use async_graphql::http::GraphiQLSource;
use async_graphql_axum::{GraphQLRequest, GraphQLResponse};
use axum::{
    Router,
    extract::State,
    response::{Html, IntoResponse, Redirect},
    routing::get,
};
use sea_orm::DatabaseConnection;

use crate::{
    graphql::{AppSchema, build_schema, scoped_request},
    service::WorkspaceId,
};

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    pub schema: AppSchema,
    pub db: DatabaseConnection,
    /// Until authentication exists, every request acts for this workspace.
    pub workspace: WorkspaceId,
}

/// The application's router.
pub fn router(db: DatabaseConnection, workspace: WorkspaceId) -> Router {
    let state = AppState {
        schema: build_schema(db.clone()),
        db,
        workspace,
    };
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/graphql") }))
        .route("/graphql", get(graphiql).post(graphql))
        .with_state(state)
}

async fn graphql(State(state): State<AppState>, request: GraphQLRequest) -> GraphQLResponse {
    let request = scoped_request(request.into_inner(), &state.db, state.workspace);
    state.schema.execute(request).await.into()
}

async fn graphiql() -> impl IntoResponse {
    Html(
        GraphiQLSource::build()
            .endpoint("/graphql")
            .title("segments-api")
            .finish(),
    )
}
