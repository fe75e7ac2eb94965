//! What every handler shares: the schema, the database, the limits and the caches, built once by
//! the router.

use std::{sync::Arc, time::Duration};

use sea_orm::DatabaseConnection;

use crate::{
    config::HttpConfig,
    graphql::{Api, runtime::apq::PersistedQueries},
    service::{Caller, auth::KeyCache},
};

/// What every handler shares: one allocation, so that the state each request's extractors take
/// is a reference count, not a copy of every field.
#[derive(Clone)]
pub struct AppState(pub(super) Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// The fields of [`AppState`].
pub struct Shared {
    pub schema: Api,
    pub db: DatabaseConnection,
    pub(super) request_timeout: Duration,
    /// How often an open WebSocket's key is checked again.
    pub(super) ws_key_recheck: Duration,
    /// Message size and write timeout of WebSockets.
    pub(super) ws_limits: WsLimits,
    /// The key GraphiQL pages served to loopback peers carry, when enabled.
    pub(super) graphiql: Option<Arc<GraphiqlKey>>,
    /// Query texts known by hash (automatic persisted queries).
    pub(super) persisted: Arc<PersistedQueries>,
    /// Live API keys seen lately.
    pub(super) keys: Arc<KeyCache>,
    /// The periodic evaluation of rolling rules; it stops with the application.
    pub(super) _rule_refresh: crate::service::rule_refresh::Refresher,
    /// The pruning of the membership history, when it has a retention; it stops with the
    /// application.
    pub(super) _pruner: Option<crate::service::retention::Pruner>,
    /// Permits of the export downloads running (`exports::MAX_DOWNLOADS`).
    pub(super) downloads: Arc<tokio::sync::Semaphore>,
    /// The hash of the bearer token /metrics requires, when one is set.
    pub(super) metrics_token_hash: Option<String>,
}

/// A key that lives only in this process's memory, for the GraphiQL page of a server on a
/// loopback address: a developer opens the page and it works, with no key to paste.
pub(super) struct GraphiqlKey {
    pub(super) secret: String,
    pub(super) hash: String,
    /// Who the page's requests act as: the workspace, and the key named `GraphiQL`.
    pub(super) caller: Caller,
}

/// What every WebSocket connection is held to.
#[derive(Clone, Copy, Debug)]
pub(super) struct WsLimits {
    /// Largest message (and frame) a client may send: the HTTP body limit.
    pub(super) max_message_bytes: usize,
    /// How long one message may take to write before the client is taken to be gone.
    pub(super) write_timeout: Duration,
    /// How long a query or mutation may run, as over HTTP.
    pub(super) request_timeout: Duration,
    /// Most subscriptions one connection may run at once.
    pub(super) max_subscriptions: usize,
}

impl WsLimits {
    /// The limits `config` sets.
    pub(super) fn new(config: &HttpConfig) -> Self {
        Self {
            max_message_bytes: config.max_body_bytes,
            write_timeout: config.ws_write_timeout,
            request_timeout: config.request_timeout,
            max_subscriptions: config.max_ws_subscriptions,
        }
    }
}
