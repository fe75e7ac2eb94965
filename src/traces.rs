//! OpenTelemetry traces. With `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, the server's spans are exported over OTLP/HTTP: each
//! HTTP request, its GraphQL operation, the service steps it runs (`segments::create`, ...) and
//! every SQL statement (its text with placeholders, never the values bound to it). A request
//! carrying a W3C `traceparent` header continues the client's trace.
//!
//! Off by default, and then free: no layer is installed, no span is exported, and the request and
//! statement hooks below return at once.
//!
//! Spans come from `tracing` through `tracing-opentelemetry`, so the spans that write the logs are
//! the spans of the traces. SQL statements are the exception: SeaORM reports each one after it ran
//! (its metric callback, with the time it took), so [`statement`] records it as a span with its
//! real start and end, under whatever span was current when it ran.

use std::{
    sync::OnceLock,
    time::{Duration, SystemTime},
};

use anyhow::{Context as _, bail};
use axum::http::HeaderMap;
use opentelemetry::{
    KeyValue,
    propagation::TextMapPropagator,
    trace::{Span as _, SpanKind, Status, Tracer as _, TracerProvider as _},
};
use opentelemetry_otlp::{Protocol, SpanExporter, WithExportConfig as _};
use opentelemetry_sdk::{
    Resource,
    propagation::TraceContextPropagator,
    trace::{SdkTracer, SdkTracerProvider},
};
use sea_orm::DatabaseConnection;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use tracing_subscriber::{Layer, filter::Targets, registry::LookupSpan};

/// The tracer spans are exported through, once tracing is on.
static TRACER: OnceLock<SdkTracer> = OnceLock::new();

/// The exporter, which sends what is still queued and stops when dropped (at the end of `main`).
pub struct Exporter(SdkTracerProvider);

impl Drop for Exporter {
    fn drop(&mut self) {
        if let Err(error) = self.0.shutdown() {
            eprintln!("error: OpenTelemetry traces: {error}");
        }
    }
}

/// The first of these environment variables that is set and not empty.
fn env(names: &[&str]) -> Option<String> {
    names.iter().find_map(|name| {
        std::env::var(name)
            .ok()
            .filter(|value| !value.trim().is_empty())
    })
}

/// The layer that exports spans, with its exporter, when the environment asks for traces; `None`
/// when it does not. The endpoint, headers and timeouts are read by the OTLP exporter from the
/// standard `OTEL_EXPORTER_OTLP_*` variables, the batching from `OTEL_BSP_*`.
pub fn layer<S>() -> anyhow::Result<Option<(impl Layer<S>, Exporter)>>
where
    S: tracing::Subscriber + for<'span> LookupSpan<'span>,
{
    if env(&[
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        "OTEL_EXPORTER_OTLP_ENDPOINT",
    ])
    .is_none()
    {
        return Ok(None);
    }
    let protocol = match env(&[
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ])
    .as_deref()
    {
        None | Some("http/protobuf") => Protocol::HttpBinary,
        Some("http/json") => Protocol::HttpJson,
        Some(other) => bail!(
            "OTEL_EXPORTER_OTLP_PROTOCOL={other} is not supported: use http/protobuf (the \
             default) or http/json, to an OTLP/HTTP endpoint (port 4318 of a collector)"
        ),
    };
    // The exporter's HTTPS client uses the process's default rustls provider; ring is the one
    // built in. (An error means a provider was installed already, which then serves.)
    let _ = rustls::crypto::ring::default_provider().install_default();
    let exporter = SpanExporter::builder()
        .with_http()
        .with_protocol(protocol)
        .build()
        .context("cannot set up the OTLP trace exporter")?;
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(
            Resource::builder()
                .with_service_name(env!("CARGO_PKG_NAME"))
                .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
                .build(),
        )
        .build();
    let tracer = provider.tracer(env!("CARGO_PKG_NAME"));
    // Once per process: a second call (which `main` never makes) keeps the first tracer.
    let _ = TRACER.set(tracer.clone());
    // The server's own spans, service steps included (they are debug-level, below what the log
    // shows by default); no spans of the libraries under it.
    let filter = Targets::new()
        .with_target(env!("CARGO_CRATE_NAME"), tracing::Level::DEBUG)
        .with_default(tracing::Level::WARN);
    let layer = tracing_opentelemetry::layer()
        .with_tracer(tracer)
        .with_filter(filter);
    Ok(Some((layer, Exporter(provider))))
}

/// Whether spans are being exported.
pub fn enabled() -> bool {
    TRACER.get().is_some()
}

/// Makes `span`, a request's, continue the trace its client started, as named by the W3C
/// `traceparent` (and `tracestate`) headers; a request without them starts a trace of its own.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if !enabled() {
        return;
    }
    let parent =
        TraceContextPropagator::new().extract(&opentelemetry_http::HeaderExtractor(headers));
    // Fails only when the span is disabled (filtered out), which leaves nothing to continue.
    let _ = span.set_parent(parent);
}

/// Records every statement run on `db` as a span, when spans are being exported.
pub fn record_statements(db: &mut DatabaseConnection) {
    if !enabled() {
        return;
    }
    let system = match db.get_database_backend() {
        sea_orm::DatabaseBackend::Postgres => "postgresql",
        sea_orm::DatabaseBackend::Sqlite => "sqlite",
        _ => "other_sql",
    };
    db.set_metric_callback(move |info| {
        statement(system, &info.statement.sql, info.elapsed, info.failed);
    });
}

/// A statement of `system` that ran for `elapsed` and has just ended, as a span of the span it
/// ran in: named by its first keyword (`SELECT`, `INSERT`, ...), with its text, whose values are
/// placeholders (`$1`, `?`): the values themselves are never recorded.
fn statement(system: &'static str, sql: &str, elapsed: Duration, failed: bool) {
    let Some(tracer) = TRACER.get() else {
        return;
    };
    let end = SystemTime::now();
    let operation = sql
        .split_whitespace()
        .next()
        .unwrap_or("SQL")
        .to_ascii_uppercase();
    let parent = tracing::Span::current().context();
    let mut span = tracer
        .span_builder(operation.clone())
        .with_kind(SpanKind::Client)
        .with_start_time(end.checked_sub(elapsed).unwrap_or(end))
        .with_attributes([
            KeyValue::new("db.system.name", system),
            KeyValue::new("db.operation.name", operation),
            KeyValue::new("db.query.text", sql.to_owned()),
        ])
        .start_with_context(tracer, &parent);
    if failed {
        span.set_status(Status::error("the statement failed"));
    }
    span.end_with_timestamp(end);
}
