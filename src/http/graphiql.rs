//! GraphiQL, served at GET /graphql to browsers, with its scripts and styles from this server
//! ([`super::graphiql_assets`]).

use std::net::SocketAddr;

use async_graphql::http::{GraphiQLSource, graphiql_plugin_explorer};
use axum::{
    extract::{ConnectInfo, Request},
    http::header,
    response::Html,
};

use super::{graphiql_assets, state::AppState};

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
    Html(page(authorization.as_deref()))
}

/// The page, sending `authorization` (as a header, and in the WebSocket's `connection_init`)
/// when given.
fn page(authorization: Option<&str>) -> String {
    // The Explorer: build a query by ticking fields and arguments.
    let plugins = [graphiql_plugin_explorer()];
    let mut page = GraphiQLSource::build()
        .version(GRAPHIQL_VERSION)
        .plugins(&plugins)
        .endpoint("/graphql")
        .subscription_endpoint("/graphql/ws")
        .title("segments-api");
    if let Some(value) = authorization {
        page = page
            .header("Authorization", value)
            .ws_connection_param("Authorization", value);
    }
    served_offline(page.finish())
}

/// The GraphiQL major version the page names: the one `assets/graphiql/update.sh` fetches.
const GRAPHIQL_VERSION: &str = "4";

/// The page async-graphql writes, made to load its scripts and styles (the Explorer plugin's
/// too) from this server instead of unpkg.com, with production builds of React instead of its
/// development builds, and an icon that asks nothing of graphql.org.
///
/// A workaround: async-graphql's `GraphiQLSource` names only CDN URLs
/// (<https://github.com/async-graphql/async-graphql/blob/v7.2.1/src/http/graphiql_v2_source.hbs>).
/// The test `the_page_asks_nothing_of_any_other_host` fails when upstream changes them.
fn served_offline(page: String) -> String {
    const FROM_CDN: [(&str, &str); 6] = [
        (
            "https://unpkg.com/react@18/umd/react.development.js",
            "react.production.min.js",
        ),
        (
            "https://unpkg.com/react-dom@18/umd/react-dom.development.js",
            "react-dom.production.min.js",
        ),
        (
            "https://unpkg.com/graphiql@4/graphiql.min.css",
            "graphiql.min.css",
        ),
        (
            "https://unpkg.com/graphiql@4/graphiql.min.js",
            "graphiql.min.js",
        ),
        (
            "https://unpkg.com/@graphiql/plugin-explorer/dist/index.umd.js",
            "plugin-explorer.umd.js",
        ),
        (
            "https://unpkg.com/@graphiql/plugin-explorer/dist/style.css",
            "plugin-explorer.css",
        ),
    ];
    let page = FROM_CDN.iter().fold(page, |page, (cdn, name)| {
        page.replace(cdn, &graphiql_assets::url(name))
    });
    page.replace("https://graphql.org/favicon.ico", "data:,")
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_page_asks_nothing_of_any_other_host() {
        let page = page(Some("Bearer sk_x"));
        // Every `src` and `href` is this server's or a data URL.
        let mut references = 0;
        for attribute in ["src=\"", "href=\""] {
            for (at, _) in page.match_indices(attribute) {
                let value = &page[at + attribute.len()..];
                let value = &value[..value.find('"').unwrap()];
                assert!(
                    value.starts_with(graphiql_assets::PREFIX) || value.starts_with("data:"),
                    "the page refers to {value}"
                );
                references += 1;
            }
        }
        assert_eq!(references, 7, "{page}");
        assert!(
            !page.contains("unpkg.com") && !page.contains("://"),
            "{page}"
        );
    }

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
