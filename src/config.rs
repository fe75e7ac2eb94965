//! Command line and environment: every flag has an environment variable.

use std::net::SocketAddr;

use clap::{Parser, Subcommand};

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
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve the GraphQL API (the default when no subcommand is given).
    Serve(ServeArgs),
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    Schema,
    /// Apply or inspect database migrations.
    Migrate {
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(subcommand)]
        action: MigrateAction,
    },
}

#[derive(Subcommand, Debug, Clone, Copy)]
pub enum MigrateAction {
    /// Apply all pending migrations.
    Up,
    /// Roll back the last applied migration.
    Down,
    /// List applied and pending migrations.
    Status,
}

#[derive(clap::Args, Debug, Clone)]
pub struct DatabaseArgs {
    /// Database to use: `sqlite://FILE?mode=rwc` or `postgres://USER@HOST:PORT/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = DEFAULT_DATABASE_URL)]
    pub database_url: String,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,

    /// Address and port to listen on.
    #[arg(long, env = "BIND_ADDR", default_value = "127.0.0.1:8000")]
    pub bind_addr: SocketAddr,
}
