//! Content negotiation: which media type a GraphQL response is sent as, from `Accept`; and the
//! responses of requests that never ran (request errors).

use async_graphql_axum::GraphQLResponse;
use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde_json::json;

use crate::errors::Code;

/// The media type of a GraphQL response, from the request's `Accept` (GraphQL over HTTP).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum ResponseMedia {
    /// `application/graphql-response+json`: HTTP status codes tell request errors (400) apart.
    GraphqlResponse,
    /// `application/json`, the legacy type: every well-formed request gets 200.
    Json,
}

impl ResponseMedia {
    /// The best type the client accepts; `application/json` when it says nothing (or `*/*`), and
    /// `None` when it accepts neither.
    pub(super) fn negotiate(headers: &axum::http::HeaderMap) -> Option<Self> {
        let accept: Vec<&str> = headers
            .get_all(header::ACCEPT)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .collect();
        if accept.iter().all(|value| value.trim().is_empty()) {
            return Some(Self::Json);
        }
        // (q, specific, media): the highest q wins; then a named type over a wildcard; then
        // graphql-response+json over json.
        let mut best: Option<(f32, bool, Self)> = None;
        for range in accept.iter().flat_map(|value| value.split(',')) {
            let mut parts = range.split(';');
            let name = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .filter_map(|p| p.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let candidate = match name.as_str() {
                "application/graphql-response+json" => (q, true, Self::GraphqlResponse),
                "application/json" => (q, true, Self::Json),
                "application/*" | "*/*" => (q, false, Self::Json),
                _ => continue,
            };
            if candidate.0 <= 0.0 {
                continue;
            }
            let rank = |(q, specific, media): (f32, bool, Self)| {
                (q, specific, media == Self::GraphqlResponse)
            };
            if best.is_none_or(|b| rank(candidate) > rank(b)) {
                best = Some(candidate);
            }
        }
        best.map(|(_, _, media)| media)
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Self::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
            Self::Json => "application/json; charset=utf-8",
        })
    }

    /// The status of a request that could not run (parse, validation, limits, variables).
    pub(super) fn request_error_status(self) -> StatusCode {
        match self {
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
            Self::Json => StatusCode::OK,
        }
    }

    /// The response with this status. A request that never ran has no `data` entry at all (the
    /// spec's "request error"), not `"data": null`.
    pub(super) fn respond(self, response: async_graphql::Response, status: StatusCode) -> Response {
        let mut http = if never_ran(&response) {
            let mut body = serde_json::to_value(&response).unwrap_or_default();
            if let Some(fields) = body.as_object_mut() {
                fields.remove("data");
            }
            Json(body).into_response()
        } else {
            GraphQLResponse::from(response).into_response()
        };
        *http.status_mut() = status;
        http.headers_mut()
            .insert(header::CONTENT_TYPE, self.content_type());
        http
    }
}

/// Whether `Accept` asks for a web page: it names `text/html` and neither JSON type (a browser
/// navigating, not a GraphQL client).
pub(super) fn is_page_request(headers: &axum::http::HeaderMap) -> bool {
    let ranges: Vec<String> = headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|range| {
            let name = range.split(';').next().unwrap_or_default();
            name.trim().to_ascii_lowercase()
        })
        .collect();
    ranges.iter().any(|r| r == "text/html")
        && !ranges
            .iter()
            .any(|r| r == "application/json" || r == "application/graphql-response+json")
}

/// A GraphQL-shaped error response with `extensions.code`, for failures before execution.
pub(super) fn request_error(status: StatusCode, code: Code, message: &str) -> Response {
    let body =
        json!({ "errors": [{ "message": message, "extensions": { "code": code.as_str() } }] });
    let mut response = (status, Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}

/// Whether a response is a request error: no data, and only errors about the request itself.
pub(super) fn never_ran(response: &async_graphql::Response) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue};

    use super::*;

    fn accept(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn browsers_get_the_page_and_clients_get_json() {
        let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
        assert!(is_page_request(&accept(browser)));
        assert_eq!(
            ResponseMedia::negotiate(&accept(browser)),
            Some(ResponseMedia::Json)
        );
        for client in [
            "application/graphql-response+json, application/json;q=0.9",
            "application/json",
            "*/*",
            "text/html, application/json",
        ] {
            assert!(!is_page_request(&accept(client)), "{client}");
        }
        assert!(!is_page_request(&HeaderMap::new()));
    }

    #[test]
    fn negotiation_follows_quality_then_specificity() {
        use ResponseMedia::{GraphqlResponse, Json};
        for (value, expected) in [
            ("application/graphql-response+json", Some(GraphqlResponse)),
            (
                "application/json;q=0.5, application/graphql-response+json",
                Some(GraphqlResponse),
            ),
            (
                "application/graphql-response+json;q=0.5, application/json",
                Some(Json),
            ),
            ("application/graphql-response+json;q=0, */*", Some(Json)),
            (
                "*/*;q=0.9, application/graphql-response+json;q=0.9",
                Some(GraphqlResponse),
            ),
            ("application/*", Some(Json)),
            ("text/html", None),
            ("application/json;q=0", None),
        ] {
            assert_eq!(
                ResponseMedia::negotiate(&accept(value)),
                expected,
                "{value}"
            );
        }
    }
}
