//! Command line and environment: every flag has an environment variable.

use std::{net::SocketAddr, num::NonZeroU32, time::Duration};

use clap::{Parser, Subcommand};

use crate::{
    graphql::runtime::{cost::CostBudget, limits::Limits},
    observability::LogFormat,
};

/// The SQLite file used when no database is configured; created and migrated on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://segments.db?mode=rwc";

/// The default of every setting that has one: the command line's defaults and
/// [`HttpConfig::default`] (with [`Limits::default`]) both read them, so a server configured with
/// nothing and a test app built with the defaults behave alike (a unit test holds them equal).
/// Each is in the unit its flag takes.
pub mod defaults {
    /// `SLOW_OPERATION_MS`.
    pub const SLOW_OPERATION_MS: u64 = 1000;
    /// `SHUTDOWN_GRACE_SECONDS`.
    pub const SHUTDOWN_GRACE_SECONDS: u64 = 30;
    /// `PERSISTED_QUERIES_BYTES`.
    pub const PERSISTED_QUERIES_BYTES: usize = 8 * 1024 * 1024;
    /// `API_KEY_CACHE_SECONDS`.
    pub const API_KEY_CACHE_SECONDS: u64 = 5;
    /// `RULE_REFRESH_SECONDS`.
    pub const RULE_REFRESH_SECONDS: u64 = 300;
    /// `WS_WRITE_TIMEOUT_SECONDS`.
    pub const WS_WRITE_TIMEOUT_SECONDS: u64 = 30;
    /// `MAX_CONNECTIONS`.
    pub const MAX_CONNECTIONS: u32 = 1024;
    /// `MAX_WS_SUBSCRIPTIONS`.
    pub const MAX_WS_SUBSCRIPTIONS: usize = 100;
    /// How often the key of an open WebSocket is checked again, in seconds (not configurable).
    pub const WS_KEY_RECHECK_SECONDS: u64 = 60;
    /// `MAX_QUERY_DEPTH`.
    pub const MAX_QUERY_DEPTH: usize = 15;
    /// `MAX_QUERY_COMPLEXITY`.
    pub const MAX_QUERY_COMPLEXITY: usize = 100_000;
    /// `COST_MAXIMUM_AVAILABLE`: the points of each key's cost bucket, as many as the most complex
    /// query allowed costs, so that any query the complexity limit lets through can run.
    pub const COST_MAXIMUM_AVAILABLE: u32 = 100_000;
    /// `COST_RESTORE_RATE`: points restored to each key's bucket per second.
    pub const COST_RESTORE_RATE: u32 = 10_000;
    /// `MAX_QUERY_ALIASES`.
    pub const MAX_QUERY_ALIASES: usize = 30;
    /// `MAX_QUERY_DIRECTIVES`.
    pub const MAX_QUERY_DIRECTIVES: usize = 10;
    /// `MAX_QUERY_TOKENS`.
    pub const MAX_QUERY_TOKENS: usize = 10_000;
    /// `MAX_BODY_BYTES`.
    pub const MAX_BODY_BYTES: usize = 2 * 1024 * 1024;
    /// `REQUEST_TIMEOUT_SECONDS`.
    pub const REQUEST_TIMEOUT_SECONDS: u64 = 10;
    /// `HEADER_READ_TIMEOUT_SECONDS`.
    pub const HEADER_READ_TIMEOUT_SECONDS: u64 = 10;
    /// `BODY_READ_TIMEOUT_SECONDS`.
    pub const BODY_READ_TIMEOUT_SECONDS: u64 = 10;
    /// `MAX_PAGE_SIZE`.
    pub const MAX_PAGE_SIZE: u64 = 100;
    /// `MAX_BULK_IDS`: most ids one bulk input (`influencerIds`, `audienceSegmentIds`) may carry.
    pub const MAX_BULK_IDS: u64 = 10_000;
    /// `MAX_NODES`.
    pub const MAX_NODES: u64 = 100;
}

/// segments-api: a GraphQL API for influencer segments.
#[derive(Parser, Debug)]
#[command(name = "segments-api", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    #[command(flatten)]
    pub serve: ServeArgs,

    /// Log line format.
    #[arg(long, env = "LOG_FORMAT", global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

impl Cli {
    /// Parses the command line (exiting with clap's message on a mistake), and refuses the
    /// options of `serve` given before another subcommand: the subcommand reads its own, so
    /// `--database-url X migrate up` would otherwise migrate the default database.
    pub fn parse_args() -> Self {
        use clap::{CommandFactory, FromArgMatches, error::ErrorKind, parser::ValueSource};
        let mut command = Self::command();
        let matches = command.get_matches_mut();
        if let Some((name, _)) = matches.subcommand() {
            let misplaced = command.get_arguments().find(|arg| {
                !arg.is_global_set()
                    && matches.value_source(arg.get_id().as_str()) == Some(ValueSource::CommandLine)
            });
            if let Some(arg) = misplaced {
                let flag = arg.get_long().unwrap_or(arg.get_id().as_str());
                command
                    .error(
                        ErrorKind::ArgumentConflict,
                        format!(
                            "--{flag} must come after the subcommand `{name}`, which reads its own"
                        ),
                    )
                    .exit();
            }
        }
        Self::from_arg_matches(&matches).unwrap_or_else(|e| e.exit())
    }
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API (the default when no subcommand is given).
    Serve(Box<ServeArgs>),
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Fill the default workspace with a realistic roster: influencers, skewed segments, one to
    /// four memberships for four in five influencers, campaigns, automations, events.
    Seed(SeedArgs),
    /// Write a workspace's influencers (all, a segment's or the Unassigned folder's) to standard
    /// output as CSV or JSONL, from one snapshot, in the columns an import reads.
    Export(ExportArgs),
    /// Manage workspaces.
    Workspace {
        #[command(subcommand)]
        action: WorkspaceAction,
    },
    /// Make, list and revoke API keys.
    ApiKey {
        #[command(subcommand)]
        action: ApiKeyAction,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum WorkspaceAction {
    /// Create a workspace.
    Create {
        /// Its name, unique.
        name: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum ApiKeyAction {
    /// Make a key for a workspace and print it (it is shown only this once).
    Create {
        /// The workspace's name.
        #[arg(long)]
        workspace: String,
        /// What the key is for.
        #[arg(long, default_value = "created on the command line")]
        label: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// List a workspace's keys (their prefixes, never the keys).
    List {
        /// The workspace's name.
        #[arg(long)]
        workspace: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Revoke a key, named by its prefix (as `list` shows it) or by the whole key.
    Revoke {
        key: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

#[derive(Subcommand, Debug, Clone)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up(DatabaseArgs),
    /// Roll back the last applied migration.
    Down(DatabaseArgs),
    /// List applied and pending migrations.
    Status(DatabaseArgs),
}

impl MigrateAction {
    pub fn database(&self) -> &DatabaseArgs {
        match self {
            MigrateAction::Up(d) | MigrateAction::Down(d) | MigrateAction::Status(d) => d,
        }
    }
}

#[derive(clap::Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Database: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,

    /// Most connections in the database pool.
    #[arg(long, env = "DB_MAX_CONNECTIONS", default_value_t = 10)]
    pub db_max_connections: u32,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address and port to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8000")]
    pub bind_addr: SocketAddr,

    /// Do not run migrations at start (when they run as a separate deployment step).
    #[arg(long, env = "NO_MIGRATE")]
    pub no_migrate: bool,

    /// Where the first start on an empty database writes the API key it makes, in a file only
    /// its owner can read, when stdout is not a terminal (on a terminal the key is printed).
    #[arg(long, env = "FIRST_KEY_FILE", default_value = "segments-api-first-key")]
    pub first_key_file: std::path::PathBuf,

    /// Origins allowed to call the API from a browser (comma-separated, e.g.
    /// `https://app.example.com`). Unset: only http(s)://localhost, 127.0.0.1 and [::1] origins.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,

    /// GraphQL operations slower than this many milliseconds are logged at warn, with their
    /// query text.
    #[arg(long, env = "SLOW_OPERATION_MS", default_value_t = defaults::SLOW_OPERATION_MS)]
    pub slow_operation_ms: u64,

    /// On SIGTERM or Ctrl-C, how many seconds in-flight requests get to finish.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = defaults::SHUTDOWN_GRACE_SECONDS)]
    pub shutdown_grace_seconds: u64,

    /// Bytes of query text kept for automatic persisted queries (least recently used go first).
    #[arg(long, env = "PERSISTED_QUERIES_BYTES", default_value_t = defaults::PERSISTED_QUERIES_BYTES)]
    pub persisted_queries_bytes: usize,

    /// Seconds a live API key is trusted without looking it up again (0: look up every
    /// request's key). On PostgreSQL a revoked key stops working at once on every instance; on
    /// SQLite within this time.
    #[arg(long, env = "API_KEY_CACHE_SECONDS", default_value_t = defaults::API_KEY_CACHE_SECONDS)]
    pub api_key_cache_seconds: u64,

    /// Seconds between evaluations of the rules with a rolling window (`withinDays`), whose
    /// matches move with the clock. Several instances on one PostgreSQL take turns.
    #[arg(long, env = "RULE_REFRESH_SECONDS", default_value_t = defaults::RULE_REFRESH_SECONDS, value_parser = clap::value_parser!(u64).range(1..))]
    pub rule_refresh_seconds: u64,

    /// Seconds one WebSocket message may take to write; a client that reads nothing for that
    /// long is disconnected (and its subscriptions end).
    #[arg(long, env = "WS_WRITE_TIMEOUT_SECONDS", default_value_t = defaults::WS_WRITE_TIMEOUT_SECONDS, value_parser = clap::value_parser!(u64).range(1..))]
    pub ws_write_timeout_seconds: u64,

    /// Days the membership history keeps a change; older ones are deleted in small batches every
    /// 10 minutes. Unset: every change is kept.
    #[arg(long, env = "HISTORY_RETENTION_DAYS", value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub history_retention_days: Option<u32>,

    /// Most subscriptions one WebSocket connection may run at once; one more is refused with a
    /// `TOO_MANY_SUBSCRIPTIONS` error (the connection stays open).
    #[arg(long, env = "MAX_WS_SUBSCRIPTIONS", default_value_t = defaults::MAX_WS_SUBSCRIPTIONS as u32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_ws_subscriptions: u32,

    /// Bearer token `GET /metrics` requires (`Authorization: Bearer <token>`). Unset: /metrics
    /// answers anyone who can reach it.
    #[arg(long, env = "METRICS_TOKEN", hide_env_values = true, value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub metrics_token: Option<String>,

    /// Most client connections served at once; further ones wait in the listen backlog until
    /// one closes.
    #[arg(long, env = "MAX_CONNECTIONS", default_value_t = defaults::MAX_CONNECTIONS, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub max_connections: u32,

    #[command(flatten)]
    pub limits: LimitArgs,
}

/// Limits on one request.
#[derive(clap::Args, Debug, Clone)]
pub struct LimitArgs {
    /// Deepest selection nesting a query may have.
    #[arg(long, env = "MAX_QUERY_DEPTH", default_value_t = defaults::MAX_QUERY_DEPTH)]
    pub max_query_depth: usize,

    /// Highest query complexity: each field counts 1, a connection `first`/`last` (default 20)
    /// times its selection, an unpaged list 10 times.
    #[arg(long, env = "MAX_QUERY_COMPLEXITY", default_value_t = defaults::MAX_QUERY_COMPLEXITY)]
    pub max_query_complexity: usize,

    /// Most aliases in one query.
    #[arg(long, env = "MAX_QUERY_ALIASES", default_value_t = defaults::MAX_QUERY_ALIASES)]
    pub max_query_aliases: usize,

    /// Most directives in one query.
    #[arg(long, env = "MAX_QUERY_DIRECTIVES", default_value_t = defaults::MAX_QUERY_DIRECTIVES)]
    pub max_query_directives: usize,

    /// Most lexical tokens in one query text (send long lists as variables).
    #[arg(long, env = "MAX_QUERY_TOKENS", default_value_t = defaults::MAX_QUERY_TOKENS)]
    pub max_query_tokens: usize,

    /// Largest request body in bytes (10,000 ids in variables take about 300 KB).
    #[arg(long, env = "MAX_BODY_BYTES", default_value_t = defaults::MAX_BODY_BYTES)]
    pub max_body_bytes: usize,

    /// Seconds a request may run before it is cancelled (and its transaction rolled back).
    #[arg(long, env = "REQUEST_TIMEOUT_SECONDS", default_value_t = defaults::REQUEST_TIMEOUT_SECONDS)]
    pub request_timeout_seconds: u64,

    /// Seconds a client has to send a request's headers (an idle keep-alive connection is closed
    /// after this long too).
    #[arg(long, env = "HEADER_READ_TIMEOUT_SECONDS", default_value_t = defaults::HEADER_READ_TIMEOUT_SECONDS, value_parser = clap::value_parser!(u64).range(1..))]
    pub header_read_timeout_seconds: u64,

    /// Seconds a client has to send a whole request body, counted from the end of its headers
    /// (a total, not a pause between bytes: a trickle of one byte a second cannot stretch it).
    #[arg(long, env = "BODY_READ_TIMEOUT_SECONDS", default_value_t = defaults::BODY_READ_TIMEOUT_SECONDS, value_parser = clap::value_parser!(u64).range(1..))]
    pub body_read_timeout_seconds: u64,

    /// Largest `first`/`last` of a connection (larger is refused, not clamped).
    #[arg(long, env = "MAX_PAGE_SIZE", default_value_t = defaults::MAX_PAGE_SIZE, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_page_size: u64,

    /// Most ids in one bulk input (`influencerIds`, `audienceSegmentIds`); at most 30,000.
    #[arg(long, env = "MAX_BULK_IDS", default_value_t = defaults::MAX_BULK_IDS, value_parser = clap::value_parser!(u64).range(1..=crate::service::HARD_MAX_BULK_IDS as u64))]
    pub max_bulk_ids: u64,

    /// Most ids in one `nodes` lookup.
    #[arg(long, env = "MAX_NODES", default_value_t = defaults::MAX_NODES, value_parser = clap::value_parser!(u64).range(1..=1000))]
    pub max_nodes: u64,

    /// Points in each API key's cost budget. Every operation costs its query complexity and is
    /// throttled (HTTP 429) when its key's budget holds less; at least MAX_QUERY_COMPLEXITY.
    #[arg(long, env = "COST_MAXIMUM_AVAILABLE", default_value_t = defaults::COST_MAXIMUM_AVAILABLE, value_parser = clap::value_parser!(u32).range(1..))]
    pub cost_maximum_available: u32,

    /// Points restored to each API key's cost budget per second.
    #[arg(long, env = "COST_RESTORE_RATE", default_value_t = defaults::COST_RESTORE_RATE, value_parser = clap::value_parser!(u32).range(1..))]
    pub cost_restore_rate: u32,

    /// Meter no request: no cost budgets, no `extensions.cost`.
    #[arg(long, env = "DISABLE_COST_LIMITS")]
    pub disable_cost_limits: bool,

    /// Refuse introspection queries (production).
    #[arg(long, env = "DISABLE_INTROSPECTION")]
    pub disable_introspection: bool,

    /// Give no "did you mean" field suggestions in errors (production).
    #[arg(long, env = "DISABLE_SUGGESTIONS")]
    pub disable_suggestions: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// How many influencers to add.
    #[arg(long, env = "SEED_INFLUENCERS", default_value_t = 100_000)]
    pub influencers: u32,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ExportArgs {
    /// The workspace's name.
    #[arg(long)]
    pub workspace: String,
    /// Only the members of the segment with this name.
    #[arg(long, conflicts_with = "unassigned")]
    pub segment: Option<String>,
    /// Only the influencers in no segment.
    #[arg(long)]
    pub unassigned: bool,
    /// The file format.
    #[arg(long, value_enum, default_value_t = FileFormat::Csv)]
    pub format: FileFormat,
    #[command(flatten)]
    pub database: DatabaseArgs,
}

/// A roster file's format.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// What the HTTP layer needs from the configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct HttpConfig {
    /// Allowed browser origins; `None` allows loopback origins only.
    pub cors_origins: Option<Vec<String>>,
    /// Threshold for logging a GraphQL operation as slow.
    pub slow_operation: Duration,
    /// When set, GraphiQL pages served to loopback peers carry an in-memory key for this
    /// workspace (set by `serve` when it listens on a loopback address).
    pub graphiql_workspace: Option<crate::service::WorkspaceId>,
    /// Query limits.
    pub limits: Limits,
    /// Largest request body in bytes.
    pub max_body_bytes: usize,
    /// How long a request may run.
    pub request_timeout: Duration,
    /// Bytes of query text kept for automatic persisted queries.
    pub persisted_queries_bytes: usize,
    /// How often the key of an open WebSocket is checked again (a revoked key's sockets close).
    pub ws_key_recheck: Duration,
    /// How long a live API key is trusted without looking it up again (see
    /// `service::auth::KeyCache`); zero looks every request's key up.
    pub api_key_cache: Duration,
    /// How often rules with a rolling window are evaluated again.
    pub rule_refresh: Duration,
    /// How long one WebSocket message may take to write before the client is disconnected.
    pub ws_write_timeout: Duration,
    /// Most subscriptions one WebSocket connection may run at once.
    pub max_ws_subscriptions: usize,
    /// How long the membership history keeps a change; `None` keeps every change.
    pub history_retention: Option<Duration>,
    /// The bearer token `GET /metrics` requires; `None` leaves it open.
    pub metrics_token: Option<String>,
    /// How long a client may take to send a request's headers ([`crate::http::serve`]).
    pub header_read_timeout: Duration,
    /// How long a client may take to send a whole request body.
    pub body_read_timeout: Duration,
    /// Most connections served at once ([`crate::http::serve`]).
    pub max_connections: u32,
    /// After a stop is asked for, how long in-flight requests get to finish
    /// ([`crate::http::serve`]).
    pub shutdown_grace: Duration,
}

impl Default for HttpConfig {
    /// What `serve` runs with when nothing is configured (see [`defaults`]), without the GraphiQL
    /// key that a loopback address adds.
    fn default() -> Self {
        Self {
            cors_origins: None,
            slow_operation: Duration::from_millis(defaults::SLOW_OPERATION_MS),
            graphiql_workspace: None,
            limits: Limits::default(),
            max_body_bytes: defaults::MAX_BODY_BYTES,
            request_timeout: Duration::from_secs(defaults::REQUEST_TIMEOUT_SECONDS),
            persisted_queries_bytes: defaults::PERSISTED_QUERIES_BYTES,
            ws_key_recheck: Duration::from_secs(defaults::WS_KEY_RECHECK_SECONDS),
            api_key_cache: Duration::from_secs(defaults::API_KEY_CACHE_SECONDS),
            rule_refresh: Duration::from_secs(defaults::RULE_REFRESH_SECONDS),
            ws_write_timeout: Duration::from_secs(defaults::WS_WRITE_TIMEOUT_SECONDS),
            max_ws_subscriptions: defaults::MAX_WS_SUBSCRIPTIONS,
            history_retention: None,
            metrics_token: None,
            header_read_timeout: Duration::from_secs(defaults::HEADER_READ_TIMEOUT_SECONDS),
            body_read_timeout: Duration::from_secs(defaults::BODY_READ_TIMEOUT_SECONDS),
            max_connections: defaults::MAX_CONNECTIONS,
            shutdown_grace: Duration::from_secs(defaults::SHUTDOWN_GRACE_SECONDS),
        }
    }
}

impl Default for Limits {
    /// The limits when none is configured (see [`defaults`]).
    fn default() -> Self {
        use defaults as d;
        Self {
            max_depth: d::MAX_QUERY_DEPTH,
            max_complexity: d::MAX_QUERY_COMPLEXITY,
            max_aliases: d::MAX_QUERY_ALIASES,
            max_directives: d::MAX_QUERY_DIRECTIVES,
            max_tokens: d::MAX_QUERY_TOKENS,
            introspection: true,
            suggestions: true,
            max_page_size: d::MAX_PAGE_SIZE,
            max_bulk_ids: d::MAX_BULK_IDS as usize,
            max_nodes: d::MAX_NODES as usize,
            cost_budget: Some(CostBudget {
                maximum_available: NonZeroU32::new(d::COST_MAXIMUM_AVAILABLE)
                    .expect("the default budget is not empty"),
                restore_rate: NonZeroU32::new(d::COST_RESTORE_RATE)
                    .expect("the default budget refills"),
            }),
        }
    }
}

impl From<&ServeArgs> for HttpConfig {
    fn from(args: &ServeArgs) -> Self {
        Self {
            cors_origins: args.cors_origins.clone(),
            slow_operation: Duration::from_millis(args.slow_operation_ms),
            graphiql_workspace: None,
            limits: Limits {
                max_depth: args.limits.max_query_depth,
                max_complexity: args.limits.max_query_complexity,
                max_aliases: args.limits.max_query_aliases,
                max_directives: args.limits.max_query_directives,
                max_tokens: args.limits.max_query_tokens,
                introspection: !args.limits.disable_introspection,
                suggestions: !args.limits.disable_suggestions,
                max_page_size: args.limits.max_page_size,
                max_bulk_ids: args.limits.max_bulk_ids as usize,
                max_nodes: args.limits.max_nodes as usize,
                cost_budget: (!args.limits.disable_cost_limits)
                    .then(|| {
                        Some(CostBudget {
                            maximum_available: NonZeroU32::new(args.limits.cost_maximum_available)?,
                            restore_rate: NonZeroU32::new(args.limits.cost_restore_rate)?,
                        })
                    })
                    .flatten(),
            },
            max_body_bytes: args.limits.max_body_bytes,
            request_timeout: Duration::from_secs(args.limits.request_timeout_seconds),
            persisted_queries_bytes: args.persisted_queries_bytes,
            ws_key_recheck: Duration::from_secs(defaults::WS_KEY_RECHECK_SECONDS),
            api_key_cache: Duration::from_secs(args.api_key_cache_seconds),
            rule_refresh: Duration::from_secs(args.rule_refresh_seconds),
            ws_write_timeout: Duration::from_secs(args.ws_write_timeout_seconds),
            max_ws_subscriptions: args.max_ws_subscriptions as usize,
            history_retention: args
                .history_retention_days
                .map(|days| Duration::from_secs(u64::from(days) * 86_400)),
            metrics_token: args.metrics_token.clone(),
            header_read_timeout: Duration::from_secs(args.limits.header_read_timeout_seconds),
            body_read_timeout: Duration::from_secs(args.limits.body_read_timeout_seconds),
            max_connections: args.max_connections,
            shutdown_grace: Duration::from_secs(args.shutdown_grace_seconds),
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::{Args, FromArgMatches};

    use super::*;

    /// The serve flags parsed from `flags`, with no environment variable read (the test's
    /// environment must not stand in for a default).
    fn serve_args(flags: &[&str]) -> ServeArgs {
        let command = ServeArgs::augment_args(clap::Command::new("segments-api"))
            .mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(std::iter::once(&"segments-api").chain(flags))
            .expect("the flags parse");
        ServeArgs::from_arg_matches(&matches).expect("the flags are valid")
    }

    #[test]
    fn the_default_http_config_is_what_serve_runs_with_when_nothing_is_set() {
        // Compares every field: a default written in only one of the two places fails here.
        assert_eq!(HttpConfig::from(&serve_args(&[])), HttpConfig::default());
    }

    #[test]
    fn a_flag_changes_what_the_default_would_be() {
        // The comparison above can fail: a configured value differs from the default.
        let args = serve_args(&["--max-page-size", "7"]);
        let config = HttpConfig::from(&args);
        assert_eq!(config.limits.max_page_size, 7);
        assert_ne!(config, HttpConfig::default());
    }

    #[test]
    fn the_history_keeps_everything_unless_a_retention_in_days_is_set() {
        assert_eq!(HttpConfig::default().history_retention, None);
        let config = HttpConfig::from(&serve_args(&["--history-retention-days", "30"]));
        assert_eq!(
            config.history_retention,
            Some(Duration::from_secs(30 * 86_400))
        );
        let command = ServeArgs::augment_args(clap::Command::new("segments-api"))
            .mut_args(|arg| arg.env(None));
        for refused in ["0", "36501", "-1", "a month"] {
            assert!(
                command
                    .clone()
                    .try_get_matches_from(["segments-api", "--history-retention-days", refused])
                    .is_err(),
                "{refused}"
            );
        }
    }
}
