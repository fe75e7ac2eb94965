//! Command line and environment: every flag has an environment variable.

use std::{net::SocketAddr, time::Duration};

use clap::{Parser, Subcommand};

use crate::observability::LogFormat;

/// The SQLite file used when no database is configured; created and migrated on first start.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://segments.db?mode=rwc";

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

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Fill the default workspace with demo data: influencers, segments, a campaign.
    Seed(SeedArgs),
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

    /// Origins allowed to call the API from a browser (comma-separated, e.g.
    /// `https://app.example.com`). Unset: only http(s)://localhost, 127.0.0.1 and [::1] origins.
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Option<Vec<String>>,

    /// GraphQL operations slower than this many milliseconds are logged at warn, with their
    /// query text.
    #[arg(long, env = "SLOW_OPERATION_MS", default_value_t = 1000)]
    pub slow_operation_ms: u64,

    /// On SIGTERM or Ctrl-C, how many seconds in-flight requests get to finish.
    #[arg(long, env = "SHUTDOWN_GRACE_SECONDS", default_value_t = 30)]
    pub shutdown_grace_seconds: u64,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SeedArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// How many influencers to add.
    #[arg(long, env = "SEED_INFLUENCERS", default_value_t = 200)]
    pub influencers: u32,
}

/// What the HTTP layer needs from the configuration.
#[derive(Clone, Debug)]
pub struct HttpConfig {
    /// Allowed browser origins; `None` allows loopback origins only.
    pub cors_origins: Option<Vec<String>>,
    /// Threshold for logging a GraphQL operation as slow.
    pub slow_operation: Duration,
}

impl Default for HttpConfig {
    fn default() -> Self {
        Self {
            cors_origins: None,
            slow_operation: Duration::from_millis(1000),
        }
    }
}

impl From<&ServeArgs> for HttpConfig {
    fn from(args: &ServeArgs) -> Self {
        Self {
            cors_origins: args.cors_origins.clone(),
            slow_operation: Duration::from_millis(args.slow_operation_ms),
        }
    }
}
