//! The `segments-api` binary: parse the command line, set up logging, run the subcommand.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use segments_api::{
    config::{Cli, Command, MigrateAction, ServeArgs},
    db, graphql, http,
    service::reads::default_workspace,
};
use tracing_subscriber::EnvFilter;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(args).await,
        Some(Command::Schema) => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Some(Command::Migrate { database, action }) => {
            let db = db::connect(&database.database_url)
                .await
                .context("cannot connect to the database")?;
            migrate(&db, action).await
        }
    }
}

async fn migrate(db: &sea_orm::DatabaseConnection, action: MigrateAction) -> anyhow::Result<()> {
    use migration::{Migrator, MigratorTrait};
    match action {
        MigrateAction::Up => Migrator::up(db, None).await?,
        MigrateAction::Down => Migrator::down(db, Some(1)).await?,
        MigrateAction::Status => {
            for m in Migrator::get_applied_migrations(db).await? {
                println!("applied  {}", m.name());
            }
            for m in Migrator::get_pending_migrations(db).await? {
                println!("pending  {}", m.name());
            }
        }
    }
    Ok(())
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let db = db::connect(&args.database.database_url)
        .await
        .context("cannot connect to the database")?;
    db::migrate(&db)
        .await
        .context("cannot migrate the database")?;
    let workspace = default_workspace(&db).await?;
    let listener = tokio::net::TcpListener::bind(args.bind_addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!("GraphiQL: http://{addr}/graphql");
    axum::serve(listener, http::router(db.clone(), workspace))
        .with_graceful_shutdown(shutdown_signal())
        .await?;
    db.close().await?;
    Ok(())
}

/// Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
