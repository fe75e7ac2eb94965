//! GraphQL over HTTP: POST for queries and mutations, GET for queries only, persisted queries, the request deadline, and the status codes the spec gives each outcome.

use std::sync::Arc;

use async_graphql::ParseRequestError;
use async_graphql_axum::{GraphQLRequest, rejection::GraphQLRejection};
use axum::{
    Extension,
    extract::{Request, State},
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::{
    errors::{
        Code,
        graphql::{has_code, with_code},
    },
    graphql::runtime::{apq::ApqError, cost::RETRY_AFTER_KEY, limits::ReadOnly},
    service::{Caller, Deadline},
};

use super::{
    api_keys::{authenticate, bearer},
    graphiql::graphiql,
    media::{self, ResponseMedia, never_ran, request_error},
    state::AppState,
};

/// Whether a POST body is declared as JSON, the one request media type of GraphQL over HTTP.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

/// POST /graphql: a query or mutation as JSON.
pub(super) async fn graphql(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    headers: axum::http::HeaderMap,
    request: Result<GraphQLRequest, GraphQLRejection>,
) -> Response {
    if !is_json(&headers) {
        return request_error(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Code::UnsupportedMediaType,
            "send the request as Content-Type: application/json",
        );
    }
    let Some(media) = ResponseMedia::negotiate(&headers) else {
        return not_acceptable();
    };
    let request = match request {
        Ok(request) => request.into_inner(),
        Err(GraphQLRejection(ParseRequestError::PayloadTooLarge)) => {
            return request_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                Code::PayloadTooLarge,
                "the request body is larger than the server accepts",
            );
        }
        Err(GraphQLRejection(error)) => {
            let detail = match error {
                ParseRequestError::InvalidRequest(e) => e.to_string(),
                ParseRequestError::UnsupportedBatch => "batched requests are not accepted".into(),
                other => other.to_string(),
            };
            return request_error(
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                &format!("the body is not a GraphQL request ({detail})"),
            );
        }
    };
    execute(&state, caller, media, request).await
}

/// GET /graphql: with a `query` (or a persisted query's hash) in the URL, runs a query; mutations
/// are refused with 405. Without one, it is a browser asking for GraphiQL.
pub(super) async fn graphql_get(State(state): State<AppState>, request: Request) -> Response {
    let query_string = request.uri().query().unwrap_or_default().to_owned();
    let asks_graphql = query_string.split('&').any(|pair| {
        let name = pair.split('=').next().unwrap_or_default();
        name == "query" || name == "extensions"
    });
    // A browser opening a link (GraphiQL's own share links carry `?query=`) wants the page.
    if !asks_graphql || media::is_page_request(request.headers()) {
        return graphiql(&state, &request).into_response();
    }
    let headers = request.headers();
    let caller = match authenticate(&state, bearer(headers)).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let Some(media) = ResponseMedia::negotiate(headers) else {
        return not_acceptable();
    };
    let graphql_request = match parse_url_request(&query_string) {
        Ok(parsed) => parsed,
        Err(error) => {
            return request_error(
                StatusCode::BAD_REQUEST,
                Code::BadRequest,
                &format!("the URL does not carry a GraphQL request ({error})"),
            );
        }
    };
    execute(&state, caller, media, graphql_request.data(ReadOnly)).await
}

/// A GraphQL request from URL parameters: `query`, `operationName`, and `variables` and
/// `extensions` as JSON. (async-graphql's own parser expects `operation_name`.)
fn parse_url_request(query_string: &str) -> Result<async_graphql::Request, String> {
    #[derive(serde::Deserialize)]
    struct Params {
        #[serde(default)]
        query: String,
        #[serde(rename = "operationName")]
        operation_name: Option<String>,
        variables: Option<String>,
        extensions: Option<String>,
    }
    let params: Params = serde_urlencoded::from_str(query_string).map_err(|e| e.to_string())?;
    let mut request = async_graphql::Request::new(params.query);
    if let Some(name) = params.operation_name.filter(|name| !name.is_empty()) {
        request = request.operation_name(name);
    }
    if let Some(variables) = params.variables.filter(|v| !v.is_empty()) {
        let json = serde_json::from_str(&variables).map_err(|e| format!("variables: {e}"))?;
        request = request.variables(async_graphql::Variables::from_json(json));
    }
    if let Some(extensions) = params.extensions.filter(|v| !v.is_empty()) {
        request.extensions =
            serde_json::from_str(&extensions).map_err(|e| format!("extensions: {e}"))?;
    }
    Ok(request)
}

/// Runs a request for a caller within the request deadline, and answers it in `media`.
async fn execute(
    state: &AppState,
    caller: Caller,
    media: ResponseMedia,
    mut request: async_graphql::Request,
) -> Response {
    // Not a GraphQL request at all (a misspelt `query`, say): a malformed request, whatever
    // the media type.
    if request.query.trim().is_empty() && !request.extensions.contains_key("persistedQuery") {
        return request_error(
            StatusCode::BAD_REQUEST,
            Code::BadRequest,
            "the request has no `query` (nor a persisted query's hash)",
        );
    }
    let registration = match state.persisted.resolve(&mut request) {
        Ok(registration) => registration,
        Err(error) => {
            let response = async_graphql::Response::from_errors(vec![with_code(
                async_graphql::ServerError::new(error.to_string(), None),
                error.code(),
            )]);
            let status = match error {
                ApqError::Malformed | ApqError::HashMismatch => StatusCode::BAD_REQUEST,
                ApqError::NotFound => media.request_error_status(),
            };
            return media.respond(response, status);
        }
    };
    // Past the deadline the execution is dropped, which rolls back its open transaction. A
    // write that already committed is never reported as cancelled: see `service::Deadline`.
    let deadline = Arc::new(Deadline::default());
    let request = state.schema.scoped(request, caller, Some(deadline.clone()));
    let execution = state.schema.execute(request);
    tokio::pin!(execution);
    let response = tokio::select! {
        response = &mut execution => response,
        () = tokio::time::sleep(state.request_timeout) => {
            if deadline.expire() {
                tracing::warn!(
                    timeout_ms = state.request_timeout.as_millis() as u64,
                    "request timed out"
                );
                return request_error(
                    StatusCode::REQUEST_TIMEOUT,
                    Code::RequestTimeout,
                    "the request took longer than the server allows and was cancelled",
                );
            }
            execution.await
        }
    };
    // A persisted query's text is kept only once it has shown that it parses, validates and
    // runs, so that texts that never will cannot fill the store.
    if let Some(registration) = registration
        && !never_ran(&response)
    {
        state.persisted.keep(registration);
    }
    // A request that never ran (it did not parse, validate, or fit the limits) is a request
    // error; a mutation sent by GET is refused as such, and one over its key's cost budget is
    // told when to come back.
    let throttled_for = retry_after(&response);
    let status = if !never_ran(&response) {
        StatusCode::OK
    } else if throttled_for.is_some() {
        StatusCode::TOO_MANY_REQUESTS
    } else if response
        .errors
        .iter()
        .any(|e| has_code(e, Code::MethodNotAllowed))
    {
        StatusCode::METHOD_NOT_ALLOWED
    } else {
        media.request_error_status()
    };
    let mut http = media.respond(response, status);
    if status == StatusCode::METHOD_NOT_ALLOWED {
        http.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("POST"));
    }
    if let Some(seconds) = throttled_for {
        http.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    http
}

/// The seconds a request throttled by its key's cost budget is told to wait; `None` for any
/// other response.
fn retry_after(response: &async_graphql::Response) -> Option<u64> {
    let error = response
        .errors
        .iter()
        .find(|error| has_code(error, Code::Throttled))?;
    match error.extensions.as_ref()?.get(RETRY_AFTER_KEY)? {
        async_graphql::Value::Number(seconds) => seconds.as_u64(),
        _ => None,
    }
}

fn not_acceptable() -> Response {
    request_error(
        StatusCode::NOT_ACCEPTABLE,
        Code::NotAcceptable,
        "accept application/graphql-response+json or application/json",
    )
}
