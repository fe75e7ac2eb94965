//! The `segments-api` binary: parse the command line, set up logging, run the subcommand.

use std::{io::IsTerminal, process::ExitCode};

use anyhow::Context;
use sea_orm::DatabaseConnection;
use segments_api::{
    cli::{export, first_key, seed},
    config::{
        ApiKeyAction, Cli, Command, DatabaseArgs, ExportArgs, FileFormat, MigrateAction, ServeArgs,
        WorkspaceAction,
    },
    db, graphql, http, observability,
    service::{ServiceError, WorkspaceId, auth, events, reads::default_workspace},
};

/// mimalloc rather than the system allocator: a request allocates and frees thousands of small
/// values (parsed queries, rows, response values), and glibc's malloc and free took about a
/// quarter of the server's CPU time on small reads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse_args();
    // Kept to the end: dropping it sends the spans still queued.
    let _traces = match observability::init_logging(cli.log_format) {
        Ok(exporter) => exporter,
        Err(error) => {
            eprintln!("error: {error:#}");
            return ExitCode::FAILURE;
        }
    };
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // One line, no backtrace: the chain of causes, outermost first.
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        None => serve(cli.serve).await,
        Some(Command::Serve(args)) => serve(*args).await,
        Some(Command::Schema) => {
            print!("{}", graphql::sdl());
            Ok(())
        }
        Some(Command::Migrate { action }) => {
            let db = connect(action.database()).await?;
            migrate(&db, &action).await
        }
        Some(Command::Export(args)) => export_roster(args).await,
        Some(Command::Workspace { action }) => workspace(action).await,
        Some(Command::ApiKey { action }) => api_key(action).await,
        Some(Command::Seed(args)) => {
            let db = connect(&args.database).await?;
            db::migrate(&db)
                .await
                .context("cannot migrate the database")?;
            let workspace = default_workspace(&db).await?;
            let seeded = seed::seed(&db, workspace, args.influencers)
                .await
                .map_err(|e| anyhow::anyhow!("seeding failed: {e}"))?;
            println!(
                "seeded {} influencers, {} segments ({} more by rule), {} memberships, {} campaigns, {} events, {} moves through an outreach pipeline",
                seeded.influencers,
                seeded.segments,
                seeded.rule_segments,
                seeded.memberships,
                seeded.campaigns,
                seeded.events,
                seeded.pipeline_moves
            );
            Ok(())
        }
    }
}

/// `segments-api export`: the file to standard output, progress to standard error.
async fn export_roster(args: ExportArgs) -> anyhow::Result<()> {
    use segments_api::service::{export::ExportScope, scope::on, segments};
    let db = connect_migrated(&args.database).await?;
    let ws = auth::workspace_named(&db, &args.workspace)
        .await
        .map_err(explain)?;
    let ws = WorkspaceId(ws.id);
    let what = match (&args.segment, args.unassigned) {
        (Some(name), _) => {
            let segment = segments::named(&on(&db, ws), name)
                .await
                .map_err(explain)?
                .with_context(|| format!("no segment is named \"{name}\""))?;
            ExportScope::Segment(segment.id)
        }
        (None, true) => ExportScope::Unassigned,
        (None, false) => ExportScope::Roster,
    };
    let format = match args.format {
        FileFormat::Csv => entity::enums::ExportFormat::Csv,
        FileFormat::Jsonl => entity::enums::ExportFormat::Jsonl,
    };
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout());
    export::export(&db, ws, what, format, &mut out).await?;
    Ok(())
}

/// A domain error as one line for the terminal.
fn explain(error: ServiceError) -> anyhow::Error {
    match error {
        ServiceError::Input(errors) => anyhow::anyhow!(
            errors
                .into_iter()
                .map(|e| e.message)
                .collect::<Vec<_>>()
                .join("; ")
        ),
        ServiceError::Db(e) => anyhow::Error::new(e).context("database error"),
    }
}

/// Connects and migrates, for the administrative subcommands.
async fn connect_migrated(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    let db = connect(args).await?;
    db::migrate(&db)
        .await
        .context("cannot migrate the database")?;
    Ok(db)
}

async fn workspace(action: WorkspaceAction) -> anyhow::Result<()> {
    match action {
        WorkspaceAction::Create { name, database } => {
            let db = connect_migrated(&database).await?;
            let created = auth::create_workspace(&db, &name).await.map_err(explain)?;
            println!("created workspace \"{}\"", created.name);
            println!(
                "make a key for it: segments-api api-key create --workspace \"{}\"",
                created.name
            );
        }
    }
    Ok(())
}

async fn api_key(action: ApiKeyAction) -> anyhow::Result<()> {
    match action {
        ApiKeyAction::Create {
            workspace,
            label,
            database,
        } => {
            let db = connect_migrated(&database).await?;
            let ws = auth::workspace_named(&db, &workspace)
                .await
                .map_err(explain)?;
            let key = auth::create_key(&db, WorkspaceId(ws.id), &label)
                .await
                .map_err(explain)?;
            println!("{}", key.secret);
            eprintln!(
                "API key {} for workspace \"{}\": store it now, it is not shown again",
                key.record.prefix, ws.name
            );
        }
        ApiKeyAction::List {
            workspace,
            database,
        } => {
            let db = connect_migrated(&database).await?;
            let ws = auth::workspace_named(&db, &workspace)
                .await
                .map_err(explain)?;
            for key in auth::list_keys(&db, WorkspaceId(ws.id))
                .await
                .map_err(explain)?
            {
                let state = match key.revoked_at {
                    Some(at) => format!("revoked {}", at.to_rfc3339()),
                    None => "active".to_owned(),
                };
                println!(
                    "{}  {}  created {}  {}",
                    key.prefix,
                    state,
                    key.created_at.to_rfc3339(),
                    key.label
                );
            }
        }
        ApiKeyAction::Revoke { key, database } => {
            let db = connect_migrated(&database).await?;
            let revoked = auth::revoke_key(&db, &key).await.map_err(explain)?;
            println!("revoked {}", revoked.key.prefix);
            let events::Confirmations {
                confirmed,
                instances,
            } = revoked.confirmations;
            if confirmed < instances {
                eprintln!(
                    "warning: {} of {instances} running instances did not confirm within 5 s; \
                     each refuses the key within its API_KEY_CACHE_SECONDS",
                    instances - confirmed
                );
            } else if instances > 0 {
                println!("refused by all {instances} running instances");
            }
        }
    }
    Ok(())
}

async fn connect(args: &DatabaseArgs) -> anyhow::Result<DatabaseConnection> {
    let mut db = db::connect_with(&args.database_url, args.db_max_connections)
        .await
        .with_context(|| {
            format!(
                "cannot connect to the database at {}",
                redact(&args.database_url)
            )
        })?;
    segments_api::traces::record_statements(&mut db);
    Ok(db)
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

async fn migrate(db: &DatabaseConnection, action: &MigrateAction) -> anyhow::Result<()> {
    use migration::{Migrator, MigratorTrait};
    match action {
        MigrateAction::Up(_) => Migrator::up(db, None).await?,
        MigrateAction::Down(_) => Migrator::down(db, Some(1)).await?,
        MigrateAction::Status(_) => {
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
    let db = connect(&args.database).await?;
    if args.no_migrate {
        tracing::info!("migrations skipped (--no-migrate)");
    } else {
        db::migrate(&db)
            .await
            .context("cannot migrate the database")?;
    }
    let workspace = default_workspace(&db)
        .await
        .context("the database is not migrated (run `segments-api migrate up`)")?;
    if let Some(key) = auth::bootstrap_key(&db, workspace).await.map_err(explain)? {
        // Handed over once (only its hash is stored); the log says where to look.
        let prefix = &key.record.prefix;
        let to_terminal = std::io::stdout().is_terminal();
        match first_key::hand_over(&key.secret, &args.first_key_file, to_terminal) {
            Ok(first_key::Handed::Printed) => tracing::info!(
                %prefix,
                "first start: made an API key for the default workspace, printed on stdout once"
            ),
            Ok(first_key::Handed::Written(file)) => tracing::info!(
                %prefix,
                file = %file.display(),
                "first start: made an API key for the default workspace, written to a file only its owner can read"
            ),
            // Serving goes on (GraphiQL on a loopback address needs no key); the key itself is
            // not logged, and `api-key create` makes another.
            Err(error) => tracing::error!(
                %prefix,
                file = %args.first_key_file.display(),
                %error,
                "first start: made an API key but could not write it; set FIRST_KEY_FILE to a writable path, or make a key with `segments-api api-key create`"
            ),
        }
    }
    // Signal handlers first: a stop requested as soon as the address is announced is graceful.
    let stop = shutdown_signal()?;
    let listener = tokio::net::TcpListener::bind(args.bind_addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind_addr))?;
    let addr = listener.local_addr()?;
    tracing::info!("GraphiQL: http://{addr}/graphql");

    let mut config: segments_api::config::HttpConfig = (&args).into();
    config.limits.consistent().map_err(anyhow::Error::msg)?;
    // On a loopback address the GraphiQL page carries an in-memory key, so a developer's
    // browser needs none; on any other address every request needs a real key.
    if addr.ip().is_loopback() {
        config.graphiql_workspace = Some(workspace);
    } else if config.metrics_token.is_none() {
        tracing::warn!("/metrics is open to anyone who can reach this address; set METRICS_TOKEN");
    }
    let app = http::router_with(db.clone(), &config);
    // Serve until stopped; once a signal came, in-flight requests get the grace period to finish.
    http::serve(listener, app, &config, stop).await?;
    db.close().await?;
    tracing::info!("stopped");
    Ok(())
}

/// Ctrl-C or SIGTERM. The handlers are installed when this is called; the future completes on
/// the first signal.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .context("cannot install the SIGTERM handler")?;
    Ok(async move {
        #[cfg(unix)]
        let terminate = async move {
            terminate.recv().await;
        };
        #[cfg(not(unix))]
        let terminate = std::future::pending::<()>();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = terminate => {},
        }
        tracing::info!("shutting down: no new connections, finishing requests in flight");
    })
}
