//! Logs and Prometheus metrics: logging set-up, the metrics registry, and the log that records
//! and counts GraphQL operations.

use std::{
    collections::HashSet,
    io::IsTerminal,
    sync::{Arc, OnceLock, PoisonError, RwLock},
    time::Duration,
};

use async_graphql::Response;
use axum::http::Method;
use metrics::SharedString;

use crate::errors::{codes::UNCODED, graphql::code_of};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use sea_orm::{DatabaseBackend, DatabaseConnection};
use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, with the fields of the enclosing spans (e.g. `request_id`).
    Json,
}

/// Installs the global subscriber: logs to stderr, filtered by `RUST_LOG` (default `info`), and,
/// when the environment asks for them, OpenTelemetry traces (see [`crate::traces`]), whose
/// exporter must live as long as the process does.
pub fn init_logging(format: LogFormat) -> anyhow::Result<Option<crate::traces::Exporter>> {
    use tracing_subscriber::{Layer as _, layer::SubscriberExt as _, util::SubscriberInitExt as _};

    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let log = tracing_subscriber::fmt::layer()
        // Colours for people at a terminal, not escape codes in log files.
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    let log = match format {
        LogFormat::Text => log.boxed(),
        LogFormat::Json => log
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(true)
            .boxed(),
    };
    // Each layer has its own filter: traces keep the service steps' debug spans, which the log
    // leaves out by default.
    let (traces, exporter) = match crate::traces::layer()? {
        Some((layer, exporter)) => (Some(layer), Some(exporter)),
        None => (None, None),
    };
    tracing_subscriber::registry()
        .with(log.with_filter(filter))
        .with(traces)
        .init();
    Ok(exporter)
}

struct Registry {
    handle: PrometheusHandle,
    process: metrics_process::Collector,
}

/// Latency buckets in seconds, from a cache-hot read to a slow bulk write.
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0];

/// How often queued histogram samples are drained into their buckets.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

/// The process-wide metrics registry, installed on first use.
fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| {
                b.set_buckets_for_metric(
                    Matcher::Full("dataloader_batch_size".into()),
                    BATCH_BUCKETS,
                )
            })
            .expect("bucket lists are not empty")
            .build_recorder();
        let handle = recorder.handle();
        // Another recorder may already be installed (e.g. by an embedding program); then this
        // registry still renders, it just sees no metrics recorded through the global macros.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed");
        }
        describe();
        // Histogram samples queue up until they are drained into their buckets: at every
        // render, and here, so that a server nobody scrapes does not keep every sample.
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_INTERVAL);
                    upkeep.run_upkeep();
                }
            });
        if let Err(error) = spawned {
            tracing::warn!(%error, "could not start the metrics upkeep thread; histograms are drained only when scraped");
        }
        let process = metrics_process::Collector::default();
        process.describe();
        Registry { handle, process }
    })
}

/// Makes sure the registry exists before the first request records anything.
pub fn init_metrics() {
    registry();
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "http_requests_total",
        "HTTP requests answered, by method and status."
    );
    describe_histogram!(
        "http_request_duration_seconds",
        metrics::Unit::Seconds,
        "Time to answer an HTTP request, by method and status."
    );
    describe_counter!(
        "graphql_operations_total",
        "GraphQL operations, by name and outcome."
    );
    describe_histogram!(
        "graphql_operation_duration_seconds",
        metrics::Unit::Seconds,
        "Time to execute a GraphQL operation, by name."
    );
    describe_counter!(
        "graphql_errors_total",
        "GraphQL errors in responses, by extensions.code."
    );
    describe_histogram!(
        "dataloader_batch_size",
        "Keys per DataLoader batch, by loader."
    );
    describe_gauge!(
        "http_connections",
        "Open client connections (a WebSocket leaves the count once upgraded)."
    );
    describe_gauge!(
        "db_pool_connections",
        "Database pool connections, by state (in_use, idle)."
    );
}

/// The Prometheus text exposition of every metric, with pool and process gauges read now.
pub fn render_metrics(db: &DatabaseConnection) -> String {
    let registry = registry();
    let (size, idle) = match db.get_database_backend() {
        DatabaseBackend::Postgres => {
            let pool = db.get_postgres_connection_pool();
            (pool.size(), pool.num_idle())
        }
        DatabaseBackend::Sqlite => {
            let pool = db.get_sqlite_connection_pool();
            (pool.size(), pool.num_idle())
        }
        _ => (0, 0),
    };
    let idle = u32::try_from(idle).unwrap_or(u32::MAX);
    metrics::gauge!("db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("db_pool_connections", "state" => "idle").set(f64::from(idle));
    registry.process.collect();
    registry.handle.render()
}

/// Records the size of a DataLoader batch.
pub fn observe_batch(loader: &'static str, keys: usize) {
    metrics::histogram!("dataloader_batch_size", "loader" => loader).record(keys as f64);
}

/// Logs each GraphQL operation with its name and duration, counts operations and error codes,
/// and logs operations slower than `slow` at warn with their query text (never their
/// variables, which may hold personal data). Over HTTP the operation's name goes into the
/// request's span, whose one "request finished" line then names it; the operation's own line
/// is at debug there (one info line per request, not two).
#[derive(Clone, Copy, Debug)]
pub struct OperationLog {
    pub slow: Duration,
}

impl OperationLog {
    /// Records one operation that took `elapsed` and answered `response`.
    pub fn record(&self, name: Option<&str>, query: &str, elapsed: Duration, response: &Response) {
        let name = shortened(name.unwrap_or("anonymous"));
        let label = operation_label(name);
        let outcome = count(&label, response);
        metrics::histogram!("graphql_operation_duration_seconds", "operation" => label)
            .record(elapsed.as_secs_f64());
        let millis = elapsed.as_secs_f64() * 1000.0;
        let span = tracing::Span::current();
        let in_request = span.has_field("operation");
        if in_request {
            span.record("operation", name);
        }
        if elapsed >= self.slow {
            tracing::warn!(operation = %name, duration_ms = millis, outcome, query = %query, "slow GraphQL operation");
        } else if in_request {
            tracing::debug!(operation = %name, duration_ms = millis, outcome, "GraphQL operation");
        } else {
            tracing::info!(operation = %name, duration_ms = millis, outcome, "GraphQL operation");
        }
    }

    /// Records one event of a subscription: counted like an operation (with its error codes),
    /// logged at debug. A subscription has no duration of its own.
    pub fn record_event(&self, name: Option<&str>, response: &Response) {
        let name = shortened(name.unwrap_or("anonymous"));
        let outcome = count(&operation_label(name), response);
        tracing::debug!(operation = %name, outcome, "GraphQL subscription event");
    }
}

/// Counts an operation (or event) and the codes of its errors; returns its outcome.
fn count(label: &SharedString, response: &Response) -> &'static str {
    let outcome = if response.errors.is_empty() {
        "ok"
    } else {
        "error"
    };
    metrics::counter!("graphql_operations_total", "operation" => label.clone(), "outcome" => outcome)
        .increment(1);
    for error in &response.errors {
        let code = code_of(error).unwrap_or(UNCODED).to_owned();
        metrics::counter!("graphql_errors_total", "code" => code).increment(1);
    }
    outcome
}

/// The longest operation name a label (or a log line) carries, in characters.
pub const MAX_OPERATION_LABEL_CHARS: usize = 64;
/// How many distinct operation names get series of their own; later names are counted as
/// [`OTHER`]. Clients name their operations, so without a bound every new name would be a new
/// series kept for the life of the process.
pub const MAX_OPERATION_LABELS: usize = 1000;
/// The label of what is not counted under a name of its own.
pub const OTHER: &str = "other";

/// `name` cut to [`MAX_OPERATION_LABEL_CHARS`] characters.
fn shortened(name: &str) -> &str {
    match name.char_indices().nth(MAX_OPERATION_LABEL_CHARS) {
        Some((end, _)) => &name[..end],
        None => name,
    }
}

/// The `operation` label for a (shortened) name: the name itself when it is one of the first
/// [`MAX_OPERATION_LABELS`] seen, else [`OTHER`]. Admitted names are shared, so a known name
/// costs a read lock and a reference count, not an allocation.
fn operation_label(name: &str) -> SharedString {
    static ADMITTED: OnceLock<RwLock<HashSet<Arc<str>>>> = OnceLock::new();
    let admitted = ADMITTED.get_or_init(|| RwLock::new(HashSet::new()));
    {
        // A poisoned lock still holds a valid set (inserting cannot panic half-way).
        let names = admitted.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = names.get(name) {
            return SharedString::from(Arc::clone(kept));
        }
        if names.len() >= MAX_OPERATION_LABELS {
            return SharedString::const_str(OTHER);
        }
    }
    let mut names = admitted.write().unwrap_or_else(PoisonError::into_inner);
    if let Some(kept) = names.get(name) {
        return SharedString::from(Arc::clone(kept));
    }
    if names.len() >= MAX_OPERATION_LABELS {
        return SharedString::const_str(OTHER);
    }
    let kept: Arc<str> = Arc::from(name);
    names.insert(Arc::clone(&kept));
    SharedString::from(kept)
}

/// The `method` label of an HTTP request: its method when it is one of the standard ones, else
/// [`OTHER`] (a method is any token a client sends, and each would be a new series).
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        Method::CONNECT => "CONNECT",
        Method::TRACE => "TRACE",
        _ => OTHER,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_cut_to_the_label_length_on_character_boundaries() {
        let long = "é".repeat(100);
        assert_eq!(shortened(&long).chars().count(), MAX_OPERATION_LABEL_CHARS);
        assert_eq!(shortened("SegmentsTab"), "SegmentsTab");
    }

    #[test]
    fn unusual_methods_are_counted_as_other() {
        assert_eq!(method_label(&Method::POST), "POST");
        let odd = Method::from_bytes(b"BREW").unwrap();
        assert_eq!(method_label(&odd), OTHER);
    }
}
