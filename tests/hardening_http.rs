//! The HTTP edge against hostile and slow clients, through the real binary: /metrics stays
//! bounded whatever methods and operation names clients send and answers only with its token
//! when one is set; slow headers and slow bodies are cut off; connections over the cap wait;
//! unfit request ids are replaced. Each test runs its own server process (loopback only).

mod common;

use std::{
    io::{ErrorKind, Read, Write},
    net::TcpStream,
    time::{Duration, Instant},
};

use common::{
    process::{ServerProcess, raw_get},
    ws::WsClient,
};
use futures_util::{StreamExt, stream};
use pretty_assertions::assert_eq;
use segments_api::observability::{MAX_OPERATION_LABEL_CHARS, MAX_OPERATION_LABELS, OTHER};
use serde_json::json;

/// Starts the binary (on PostgreSQL when `TEST_DATABASE_URL` is set, else its own SQLite file).
/// The server makes its first-start key only on an empty database, so on PostgreSQL the test gets
/// a fresh database of its own.
fn start(env: &[(&str, &str)]) -> ServerProcess {
    let mut env = env.to_vec();
    let url = (common::backend() == "postgres").then(|| block_on(common::fresh_database_url()).0);
    if let Some(url) = &url {
        env.push(("DATABASE_URL", url));
    }
    ServerProcess::start(&env)
}

/// Runs a future to completion on a runtime of its own, on a thread of its own (so that both
/// the blocking tests and the async ones can use it).
fn block_on<F>(future: F) -> F::Output
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(future)
    })
    .join()
    .unwrap()
}

fn key(server: &ServerProcess) -> &str {
    server.key.as_deref().expect("a first start makes a key")
}

/// `n` letters, different for each `seed`.
fn letters(seed: usize, n: usize) -> String {
    let mut out = String::with_capacity(n);
    let mut x = seed;
    for _ in 0..n {
        out.push(char::from(b'A' + (x % 26) as u8));
        x = x / 26 + 7;
    }
    out
}

#[tokio::test]
async fn metrics_stay_bounded_under_a_flood_of_methods_and_operation_names() {
    let server = start(&[]);
    let base = format!("http://{}", server.addr);
    let client = reqwest::Client::new();

    // Requests without a key, each with a method of its own, thousands of letters long.
    stream::iter(0..300)
        .for_each_concurrent(8, |i| {
            let client = client.clone();
            let url = format!("{base}/graphql");
            async move {
                let method = reqwest::Method::from_bytes(letters(i, 5_000).as_bytes()).unwrap();
                let response = client.request(method, url).send().await.unwrap();
                assert!(response.status().is_client_error(), "{}", response.status());
            }
        })
        .await;
    // More distinct operation names than get a series, each thousands of letters long.
    let names = MAX_OPERATION_LABELS + 100;
    stream::iter(0..names)
        .for_each_concurrent(8, |i| {
            let client = client.clone();
            let url = format!("{base}/graphql");
            let key = key(&server).to_owned();
            async move {
                let name = format!("Op{i}{}", letters(i, 5_000));
                let response = client
                    .post(url)
                    .bearer_auth(key)
                    .json(&json!({ "query": format!("query {name} {{ __typename }}") }))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
            }
        })
        .await;

    let text = client
        .get(format!("{base}/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    // Each admitted name has a counter and a histogram (13 buckets, +Inf, sum, count) of lines
    // of about 150 bytes; the rest of the exposition is a few kilobytes.
    let bound = (MAX_OPERATION_LABELS + 1) * 18 * 200 + 200_000;
    assert!(
        text.len() < bound,
        "/metrics is {} bytes (bound {bound})",
        text.len()
    );
    assert!(
        text.lines()
            .any(|l| l.starts_with(&format!(r#"http_requests_total{{method="{OTHER}""#))),
        "unusual methods are counted as {OTHER}"
    );
    assert!(
        text.lines().any(|l| l.starts_with(&format!(
            r#"graphql_operations_total{{operation="{OTHER}",outcome="ok"}}"#
        ))),
        "names past the limit are counted as {OTHER}"
    );
    let operations: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix(r#"graphql_operations_total{operation=""#))
        .map(|rest| rest.split('"').next().unwrap())
        .collect();
    assert!(
        operations.len() <= MAX_OPERATION_LABELS + 1,
        "{} operation series",
        operations.len()
    );
    assert!(
        operations
            .iter()
            .all(|name| name.chars().count() <= MAX_OPERATION_LABEL_CHARS),
        "an operation label is longer than {MAX_OPERATION_LABEL_CHARS} characters"
    );
}

#[tokio::test]
async fn metrics_answer_only_with_the_metrics_token_when_one_is_set() {
    let server = start(&[("METRICS_TOKEN", "scrape-secret-0123456789")]);
    let url = format!("http://{}/metrics", server.addr);
    let client = reqwest::Client::new();
    // A request with an operation name, which /metrics would otherwise show to anyone.
    common::graphql_at(
        &server.addr,
        key(&server),
        "query PrivateDashboard { __typename }",
        json!({}),
    )
    .await;

    for (what, authorization) in [
        ("no token", None),
        ("a wrong token", Some("Bearer scrape-secret-0123456780")),
        ("a prefix of the token", Some("Bearer scrape-secret")),
        ("an API key", Some(&*format!("Bearer {}", key(&server)))),
        ("another scheme", Some("Basic scrape-secret-0123456789")),
    ] {
        let mut request = client.get(&url);
        if let Some(value) = authorization {
            request = request.header("authorization", value);
        }
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 401, "{what}");
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{what}");
        let body = response.text().await.unwrap();
        assert!(!body.contains("PrivateDashboard"), "{what}: {body}");
    }

    let response = client
        .get(&url)
        .bearer_auth("scrape-secret-0123456789")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let text = response.text().await.unwrap();
    assert!(
        text.contains(r#"graphql_operations_total{operation="PrivateDashboard",outcome="ok"}"#),
        "{text}"
    );
}

#[tokio::test]
async fn unfit_request_ids_are_replaced_and_fit_ones_kept() {
    let server = start(&[]);
    let url = format!("http://{}/health", server.addr);
    let client = reqwest::Client::new();
    let echoed = |id: String| {
        let request = client.get(&url).header("x-request-id", id);
        async move {
            let response = request.send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.headers()["x-request-id"]
                .to_str()
                .unwrap()
                .to_owned()
        }
    };

    for unfit in [
        "a".repeat(30_000),
        "a".repeat(129),
        r#"x" level="ERROR" forged="yes"#.to_owned(),
        "has spaces".to_owned(),
        "tab\there".to_owned(),
    ] {
        let id = echoed(unfit.clone()).await;
        assert!(
            uuid::Uuid::parse_str(&id).is_ok(),
            "{:.40}... echoed as {id:.60}",
            unfit
        );
    }
    for fit in [
        "req-from-test".to_owned(),
        "b".repeat(128),
        // Every ASCII punctuation character (quotes too): without a space no field can be forged.
        "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~".to_owned(),
    ] {
        assert_eq!(echoed(fit.clone()).await, fit);
    }
}

/// What the server sent before it closed the connection, or `None` if it was still open after
/// `limit`; meanwhile `bytes` are written one at a time, one every 200 ms (then nothing more).
fn trickle(stream: &mut TcpStream, bytes: &[u8], limit: Duration) -> Option<Vec<u8>> {
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    let started = Instant::now();
    let mut received = Vec::new();
    let mut next = bytes.iter();
    while started.elapsed() < limit {
        if let Some(byte) = next.next() {
            // A write to a connection the server closed may fail; the read below tells.
            let _ = stream.write_all(&[*byte]);
        }
        let mut buffer = [0u8; 4096];
        match stream.read(&mut buffer) {
            Ok(0) => return Some(received),
            Ok(n) => received.extend_from_slice(&buffer[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return Some(received);
            }
            Err(e) => panic!("reading: {e}"),
        }
    }
    None
}

#[test]
fn a_client_slow_with_its_headers_is_disconnected() {
    let server = start(&[("HEADER_READ_TIMEOUT_SECONDS", "1")]);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    let head = format!(
        "GET /health HTTP/1.1\r\nHost: {}\r\nX-Slow: {}\r\n\r\n",
        server.addr,
        "a".repeat(100)
    );
    let sent = trickle(&mut stream, head.as_bytes(), Duration::from_secs(12));
    assert!(
        sent.is_some(),
        "a client sending its headers a byte at a time kept its connection"
    );

    // Everyone else is served.
    let response = raw_get(&server.addr, "/health");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn a_client_slow_with_its_body_gets_408_and_is_disconnected() {
    let server = start(&[("BODY_READ_TIMEOUT_SECONDS", "1")]);
    let body = format!(
        r#"{{"query":"{{ __typename }}","x":"{}"}}"#,
        "a".repeat(100)
    );
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        server.addr,
        key(&server),
        body.len()
    )
    .unwrap();
    let sent = trickle(&mut stream, body.as_bytes(), Duration::from_secs(12))
        .expect("a client sending its body a byte at a time kept its connection");
    let response = String::from_utf8_lossy(&sent);
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(response.contains("REQUEST_TIMEOUT"), "{response}");

    // A body that arrives in time is served as before.
    let (addr, key) = (server.addr.clone(), key(&server).to_owned());
    let data =
        block_on(async move { common::graphql_at(&addr, &key, "{ __typename }", json!({})).await });
    assert_eq!(data, json!({ "__typename": "Query" }));
}

/// Sends a whole GET /health on a new connection (asking to close it after).
fn request_health(addr: &str) -> TcpStream {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "GET /health HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    stream
}

#[test]
fn a_connection_over_the_cap_waits_until_one_closes() {
    // Long header deadline: the idle connections stay until the test closes them.
    let server = start(&[
        ("MAX_CONNECTIONS", "2"),
        ("HEADER_READ_TIMEOUT_SECONDS", "60"),
    ]);
    let first = TcpStream::connect(&server.addr).unwrap();
    let _second = TcpStream::connect(&server.addr).unwrap();
    // The kernel completes the handshake (the connection waits in the listen backlog), but the
    // server does not take the connection while two are open.
    let mut third = request_health(&server.addr);
    third
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut buffer = [0u8; 64];
    match third.read(&mut buffer) {
        Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
        other => panic!(
            "a third connection was served while two were open: {other:?} {:?}",
            String::from_utf8_lossy(&buffer)
        ),
    }
    // One closes: the waiting connection is served.
    drop(first);
    third
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut response = String::new();
    third.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[test]
fn slow_clients_holding_every_connection_are_cut_off_and_others_served() {
    let server = start(&[
        ("MAX_CONNECTIONS", "2"),
        ("HEADER_READ_TIMEOUT_SECONDS", "1"),
    ]);
    let mut slow: Vec<TcpStream> = (0..2)
        .map(|_| {
            let mut stream = TcpStream::connect(&server.addr).unwrap();
            stream.write_all(b"GET /health HTTP/1.1\r\nX-Sl").unwrap();
            stream
        })
        .collect();
    // Served once the slow ones are cut off.
    let mut waiting = request_health(&server.addr);
    waiting
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut response = String::new();
    waiting.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    for stream in &mut slow {
        assert!(
            trickle(stream, b"ow: a", Duration::from_secs(10)).is_some(),
            "a slow client kept its connection"
        );
    }
}

#[tokio::test]
async fn websockets_and_the_peer_address_still_work() {
    let server = start(&[("MAX_CONNECTIONS", "2")]);
    // Upgraded connections leave the count: more WebSockets than the cap stay open and answer.
    let mut sockets = Vec::new();
    for _ in 0..3 {
        sockets.push(WsClient::connect(&server.addr, key(&server)).await);
    }
    for socket in &mut sockets {
        let data = socket.data("q", "{ __typename }", json!({})).await;
        assert_eq!(data, json!({ "__typename": "Query" }));
    }
    // The GraphiQL page carries its in-memory key only for a loopback peer: the peer address
    // reaches the handlers.
    let page = reqwest::Client::new()
        .get(format!("http://{}/graphql", server.addr))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("Bearer sk_"), "{page:.300}");
}
