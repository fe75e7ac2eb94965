//! Connecting to SQLite or PostgreSQL and migrating.

use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DatabaseConnection, DbErr};

/// Opens a pool on `url`. SQLite files are opened in WAL mode with a busy timeout, so readers do
/// not block the writer and a briefly locked database is waited for instead of failing.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    connect_with(url, 10).await
}

/// Opens a pool of at most `max_connections` on `url`.
pub async fn connect_with(url: &str, max_connections: u32) -> Result<DatabaseConnection, DbErr> {
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(max_connections)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(3))
        // sqlx pings a connection when it goes back to the pool; pinging it again on every
        // checkout (sqlx's default) doubled the round trips of each statement. Only a connection
        // that sat idle, and so may have been closed by the server or a proxy meanwhile, is
        // pinged before use.
        .test_before_acquire_if_idle_for(Duration::from_secs(1))
        .sqlx_logging_level(tracing::log::LevelFilter::Debug)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(sea_orm::sqlx::sqlite::SqliteJournalMode::Wal)
                .synchronous(sea_orm::sqlx::sqlite::SqliteSynchronous::Normal)
                .busy_timeout(Duration::from_secs(5))
                .foreign_keys(true)
        });
    Database::connect(options).await
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}
