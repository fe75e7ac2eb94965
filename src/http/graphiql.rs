//! GraphiQL, served at GET /graphql to browsers.

use std::net::SocketAddr;

use async_graphql::http::GraphiQLSource;
use axum::{
    extract::{ConnectInfo, Request},
    http::header,
    response::Html,
};

use super::state::AppState;

/// Whether the Host a page was asked for names this machine. The GraphiQL key goes only to
/// such pages: a page fetched under a foreign name that resolves to 127.0.0.1 (DNS rebinding),
/// or through a proxy, gets none.
fn host_is_loopback(headers: &axum::http::HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    name.eq_ignore_ascii_case("localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// GraphiQL. Served to a loopback peer of a server that has an in-memory key, the page sends it,
/// on HTTP and in the WebSocket's `connection_init`.
pub(super) fn graphiql(state: &AppState, request: &Request) -> Html<String> {
    let peer_is_loopback = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .is_some_and(|ConnectInfo(peer)| peer.ip().is_loopback())
        && host_is_loopback(request.headers());
    let authorization = state
        .graphiql
        .as_ref()
        .filter(|_| peer_is_loopback)
        .map(|key| format!("Bearer {}", key.secret));
    let mut page = GraphiQLSource::build()
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .title("segments-api");
    if let Some(value) = authorization.as_deref() {
        page = page
            .header("Authorization", value)
            .ws_connection_param("Authorization", value);
    }
    Html(page.finish())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn only_loopback_host_names_get_the_graphiql_key() {
        let host = |value: &'static str| {
            let mut headers = axum::http::HeaderMap::new();
            headers.insert(header::HOST, HeaderValue::from_static(value));
            host_is_loopback(&headers)
        };
        for ok in [
            "localhost:8000",
            "127.0.0.1:8000",
            "[::1]:8000",
            "LOCALHOST",
            "127.0.0.2",
        ] {
            assert!(host(ok), "{ok}");
        }
        for bad in [
            "evil.example:8000",
            "localhost.evil.example",
            "10.0.0.1:8000",
            "example.com",
        ] {
            assert!(!host(bad), "{bad}");
        }
    }
}
