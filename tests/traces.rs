mod common;

// OpenTelemetry traces, with the server as operators run it (the binary, configured by the
// standard OTEL_* variables) and a real OTLP/HTTP receiver on loopback: one request that carries a
// W3C `traceparent` gives one trace, continuing the client's, whose spans nest as the request ran:
// the HTTP request, its GraphQL operation, the service step, and the SQL statements (their text,
// never the values bound to them). A protocol the exporter cannot speak stops the server at start.

use std::{
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{Router, body::Bytes, extract::State, routing::post};
use common::process::ServerProcess;
use serde_json::{Value, json};

/// What the receiver got: every OTLP/JSON export request's body.
type Received = Arc<Mutex<Vec<Value>>>;

/// An OTLP/HTTP receiver (JSON encoding) on a loopback port; returns its base URL.
async fn receiver(received: Received) -> String {
    let app = Router::new()
        .route(
            "/v1/traces",
            post(|State(received): State<Received>, body: Bytes| async move {
                let export: Value = serde_json::from_slice(&body).expect("an OTLP/JSON export");
                received.lock().unwrap().push(export);
                "{}"
            }),
        )
        .with_state(received);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

/// One exported span, as the test reads it.
#[derive(Clone, Debug)]
struct Span {
    trace: String,
    id: String,
    parent: String,
    name: String,
    attributes: Value,
}

/// Every span received so far.
fn spans(received: &Received) -> Vec<Span> {
    let mut all = Vec::new();
    for export in received.lock().unwrap().iter() {
        for resource in export["resourceSpans"].as_array().into_iter().flatten() {
            for scope in resource["scopeSpans"].as_array().into_iter().flatten() {
                for span in scope["spans"].as_array().into_iter().flatten() {
                    all.push(Span {
                        trace: span["traceId"].as_str().unwrap_or_default().to_lowercase(),
                        id: span["spanId"].as_str().unwrap_or_default().to_lowercase(),
                        parent: span["parentSpanId"]
                            .as_str()
                            .unwrap_or_default()
                            .to_lowercase(),
                        name: span["name"].as_str().unwrap_or_default().to_owned(),
                        attributes: span["attributes"].clone(),
                    });
                }
            }
        }
    }
    all
}

fn attribute<'a>(span: &'a Span, key: &str) -> Option<&'a str> {
    span.attributes
        .as_array()?
        .iter()
        .find(|attribute| attribute["key"] == key)?["value"]["stringValue"]
        .as_str()
}

/// Whether `ancestor` is `span`'s parent, or its parent's, and so on.
fn descends(span: &Span, ancestor: &Span, spans: &[Span]) -> bool {
    let mut parent = span.parent.clone();
    for _ in 0..spans.len() {
        if parent == ancestor.id {
            return true;
        }
        match spans.iter().find(|s| s.id == parent) {
            Some(next) => parent = next.parent.clone(),
            None => return false,
        }
    }
    false
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";
const CLIENT_SPAN: &str = "00f067aa0ba902b7";
const CREATE: &str = r#"mutation Traced($name: String!) { createSegment(input: { name: $name }) { segment { id name } userErrors { code } } }"#;

#[tokio::test]
async fn one_request_gives_one_trace_of_nested_spans_continuing_the_clients() {
    let received = Received::default();
    let endpoint = receiver(received.clone()).await;
    let server = ServerProcess::start(&[
        ("OTEL_EXPORTER_OTLP_ENDPOINT", endpoint.as_str()),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"),
        ("OTEL_BSP_SCHEDULE_DELAY", "100"),
    ]);
    let key = server.key.clone().expect("the first start made a key");
    let secret = "Do not trace this value";
    let response: Value = reqwest::Client::new()
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(&key)
        .header("traceparent", format!("00-{TRACE_ID}-{CLIENT_SPAN}-01"))
        .json(&json!({ "query": CREATE, "variables": { "name": secret } }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["data"]["createSegment"]["segment"]["name"], secret);

    // Spans are exported in batches (every 100 ms here); wait for the statement spans.
    let mut trace = Vec::new();
    for _ in 0..100 {
        trace = spans(&received)
            .into_iter()
            .filter(|span| span.trace == TRACE_ID)
            .collect();
        if trace.iter().any(|span| span.name == "INSERT") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let named = |name: &str| {
        trace
            .iter()
            .find(|span| span.name == name)
            .unwrap_or_else(|| panic!("no {name} span in {trace:#?}"))
            .clone()
    };
    let request = named("request");
    assert_eq!(request.parent, CLIENT_SPAN, "the client's trace continues");
    let operation = named("mutation Traced");
    assert_eq!(operation.parent, request.id, "{trace:#?}");
    assert_eq!(
        attribute(&operation, "graphql.operation.type"),
        Some("mutation")
    );
    let step = named("segments::create");
    assert!(descends(&step, &operation, &trace), "{trace:#?}");
    let insert = named("INSERT");
    assert!(descends(&insert, &step, &trace), "{trace:#?}");
    let text = attribute(&insert, "db.query.text").expect("the statement's text");
    assert!(text.contains("INSERT INTO"), "{text}");
    // One trace: every span's parent is in it, or is the client's span.
    for span in &trace {
        assert!(
            span.parent == CLIENT_SPAN || trace.iter().any(|other| other.id == span.parent),
            "{span:?} hangs outside the trace"
        );
    }
    // The values bound to statements are never recorded, nor are variables.
    let everything = serde_json::to_string(&*received.lock().unwrap()).unwrap();
    assert!(!everything.contains(secret), "a value reached the traces");

    // A request without `traceparent` starts a trace of its own.
    reqwest::Client::new()
        .post(format!("http://{}/graphql", server.addr))
        .bearer_auth(&key)
        .json(&json!({ "query": "query Own { segments(first: 1) { totalCount } }" }))
        .send()
        .await
        .unwrap();
    let mut own = None;
    for _ in 0..100 {
        own = spans(&received)
            .into_iter()
            .find(|span| span.name == "query Own");
        if own.is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let own = own.expect("the second request's operation span");
    assert_ne!(own.trace, TRACE_ID);
}

#[test]
fn an_unsupported_protocol_is_refused_at_start() {
    let output = std::process::Command::new(common::process::BIN)
        .args(["schema"])
        .env("OTEL_EXPORTER_OTLP_ENDPOINT", "http://127.0.0.1:4317")
        .env("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("OTEL_EXPORTER_OTLP_PROTOCOL=grpc"),
        "{stderr}"
    );
}
