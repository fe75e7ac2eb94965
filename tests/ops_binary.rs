//! The `segments-api` binary as operators run it: subcommands, configuration errors, JSON logs,
//! and a clean stop on SIGTERM. Every test uses its own SQLite file.

mod common;

use std::{
    io::{Read, Write},
    net::TcpStream,
    process::{Command, Output},
    thread,
    time::Duration,
};

use common::process::{BIN, ServerProcess, raw_get, sqlite_url};
use pretty_assertions::assert_eq;
use serde_json::Value;

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BIN);
    command
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("RUST_LOG");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("run segments-api")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// The process failed with exactly one line on stderr, starting with `error:` and containing
/// `needle`.
fn assert_one_line_error(output: &Output, needle: &str) {
    assert!(!output.status.success(), "should fail: {output:?}");
    let text = stderr(output);
    let lines: Vec<&str> = text.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(lines.len(), 1, "{text}");
    assert!(lines[0].contains(needle), "{text}");
    assert!(
        !text.contains("panicked") && !text.contains("stack backtrace"),
        "{text}"
    );
}

#[test]
fn schema_prints_the_committed_sdl() {
    let output = run(&["schema"], &[]);
    assert!(output.status.success());
    let committed =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql")).unwrap();
    assert!(
        stdout(&output) == committed,
        "`segments-api schema` differs from schema.graphql"
    );
}

#[test]
fn help_names_every_subcommand_and_environment_variable() {
    let top = stdout(&run(&["--help"], &[]));
    for word in ["serve", "schema", "migrate", "seed", "LOG_FORMAT"] {
        assert!(top.contains(word), "--help lacks {word}:\n{top}");
    }
    let serve = stdout(&run(&["serve", "--help"], &[]));
    for var in [
        "DATABASE_URL",
        "BIND_ADDR",
        "NO_MIGRATE",
        "CORS_ORIGINS",
        "SLOW_OPERATION_MS",
        "SHUTDOWN_GRACE_SECONDS",
        "DB_MAX_CONNECTIONS",
    ] {
        assert!(serve.contains(var), "serve --help lacks {var}:\n{serve}");
    }
    let migrate = stdout(&run(&["migrate", "--help"], &[]));
    for word in ["up", "down", "status"] {
        assert!(migrate.contains(word), "{migrate}");
    }
}

#[test]
fn migrate_status_up_and_down() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let status = |expect: &str| {
        let output = run(&["migrate", "status", "--database-url", &url], &[]);
        assert!(output.status.success(), "{output:?}");
        let states: Vec<String> = stdout(&output)
            .lines()
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect();
        assert_eq!(states.join(","), expect);
    };
    // One state per migration, however many there are.
    let n = <migration::Migrator as migration::MigratorTrait>::migrations().len();
    let states = |applied: usize| {
        let mut states = vec!["applied"; applied];
        states.resize(n, "pending");
        states.join(",")
    };
    status(&states(0));
    assert!(
        run(&["migrate", "up", "--database-url", &url], &[])
            .status
            .success()
    );
    status(&states(n));
    assert!(
        run(&["migrate", "down"], &[("DATABASE_URL", &url)])
            .status
            .success()
    );
    status(&states(n - 1));
}

#[test]
fn serve_options_before_a_subcommand_are_refused_not_ignored() {
    // `--database-url X migrate up` once migrated the default SQLite file: the subcommand read
    // its own `--database-url`, left to its default.
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let output = Command::new(BIN)
        .current_dir(dir.path())
        .args(["--database-url", &url, "migrate", "up"])
        .env_remove("DATABASE_URL")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(stderr(&output).contains("--database-url"), "{output:?}");
    let created: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert!(created.is_empty(), "nothing was created: {created:?}");
    // The global log format still goes anywhere.
    let output = run(
        &[
            "--log-format",
            "json",
            "migrate",
            "status",
            "--database-url",
            &url,
        ],
        &[],
    );
    assert!(output.status.success(), "{output:?}");
}

#[test]
fn bad_configuration_exits_with_one_clear_line() {
    let output = run(&[], &[("DATABASE_URL", "nonsense://nowhere")]);
    assert_one_line_error(&output, "cannot connect to the database");

    let output = run(
        &["serve"],
        &[(
            "DATABASE_URL",
            "postgres://postgres:secret@127.0.0.1:1/none",
        )],
    );
    assert_one_line_error(&output, "cannot connect to the database");
    assert!(
        !stderr(&output).contains("secret"),
        "the password is not printed"
    );

    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = busy.local_addr().unwrap().to_string();
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let output = run(
        &["serve", "--bind-addr", &addr, "--database-url", &url],
        &[],
    );
    assert_one_line_error(&output, "cannot listen on");

    // Unparsable values are refused by the argument parser, before anything starts.
    let output = run(&["serve", "--bind-addr", "not-an-address"], &[]);
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("--bind-addr"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn serve_no_migrate_on_an_unmigrated_database_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let output = run(&["serve", "--no-migrate", "--database-url", &url], &[]);
    assert_one_line_error(&output, "segments-api migrate up");
}

#[test]
fn seed_fills_the_default_workspace() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let output = run(&["seed", "--influencers", "50"], &[("DATABASE_URL", &url)]);
    assert!(output.status.success(), "{output:?}");
    assert!(
        stdout(&output).starts_with("seeded 50 influencers, 12 segments (3 more by rule), "),
        "{}",
        stdout(&output)
    );
}

fn post(server: &ServerProcess, body: &str, extra_headers: &str) -> String {
    let addr = &server.addr;
    let key = server.key.as_deref().expect("a first start makes a key");
    let extra_headers = format!("Authorization: Bearer {key}\r\n{extra_headers}");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n{extra_headers}\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn off_a_terminal_the_first_key_goes_to_an_owner_only_file_and_json_logs_stay_json() {
    // The harness reads the key from the file the log names, and checks that it is an absolute
    // path only the owner can read.
    let server = ServerProcess::start(&[("LOG_FORMAT", "json")]);
    let key = server.key.clone().expect("a first start makes a key");
    let response = post(&server, r#"{"query":"{ influencers { totalCount } }"}"#, "");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    let notice = server
        .startup_lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .find(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("first start: made an API key"))
        })
        .expect("the first start's notice");
    assert!(
        notice["file"]
            .as_str()
            .is_some_and(|f| f.ends_with("/segments-api-first-key")),
        "{notice}"
    );
    assert_eq!(notice["prefix"].as_str(), Some(&key[..11]), "{notice}");
    assert!(
        server.startup_lines.iter().all(|l| !l.contains(&key)),
        "the key is not in the log"
    );
    server.terminate();
    thread::sleep(Duration::from_millis(200));
    assert_eq!(
        server.stdout_so_far(),
        Vec::<String>::new(),
        "nothing on stdout"
    );
    let (status, lines) = server.wait();
    assert!(status.success());
    for line in lines {
        serde_json::from_str::<Value>(&line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
    }
}

#[test]
fn on_a_terminal_the_first_key_is_printed_and_no_file_is_written() {
    // `script` runs the server on a pseudo-terminal, as a person starting it would.
    let dir = tempfile::tempdir().unwrap();
    let command = format!("exec {BIN} serve");
    let mut child = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .current_dir(dir.path())
        .env_remove("RUST_LOG")
        .env_remove("FIRST_KEY_FILE")
        .env("DATABASE_URL", sqlite_url(&dir))
        .env("BIND_ADDR", "127.0.0.1:0")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("run segments-api under script(1)");
    let stdout = child.stdout.take().unwrap();
    let _stop = StopTree(child);
    let (tx, rx) = std::sync::mpsc::channel();
    thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout)
            .lines()
            .map_while(Result::ok)
        {
            let _ = tx.send(line);
        }
    });
    // The key, then the log's notice that it was printed (the server logs once it is done).
    let mut seen = Vec::new();
    let mut key = None;
    while !seen
        .iter()
        .any(|l: &String| l.contains("printed on stdout once"))
    {
        let line = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no key and notice on the terminal: {seen:#?}"));
        let line = line.trim().to_owned();
        if line.starts_with("sk_") {
            key = Some(line.clone());
        }
        seen.push(line);
    }
    let key = key.unwrap_or_else(|| panic!("no key printed: {seen:#?}"));
    assert_eq!(key.len(), 46, "{key}");
    assert!(!dir.path().join("segments-api-first-key").exists());
}

/// Stops a process and its children when dropped, whether the test passed or not.
struct StopTree(std::process::Child);

impl Drop for StopTree {
    fn drop(&mut self) {
        let _ = Command::new("pkill")
            .args(["-KILL", "-P", &self.0.id().to_string()])
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn json_logs_parse_and_carry_the_request_id() {
    let server = ServerProcess::start(&[("LOG_FORMAT", "json"), ("RUST_LOG", "info")]);
    let response = post(
        &server,
        r#"{"query":"query RosterPage { influencers { totalCount } }","operationName":"RosterPage"}"#,
        "x-request-id: req-from-test\r\n",
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    server.terminate();
    let (status, lines) = server.wait();
    assert!(status.success());
    let events: Vec<Value> = lines
        .iter()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    let in_request = |e: &&Value| {
        e["spans"]
            .as_array()
            .is_some_and(|s| s.iter().any(|s| s["request_id"] == "req-from-test"))
    };
    let finished = events
        .iter()
        .filter(in_request)
        .find(|e| e["message"] == "request finished")
        .expect("a request log line with the request id");
    assert_eq!(finished["status"], 200);
    assert!(finished["latency_ms"].as_f64().is_some());
    // The request's line names its operation (its own line is at debug, below the default).
    let request_span = finished["spans"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "request")
        .expect("the request span");
    assert_eq!(request_span["operation"], "RosterPage", "{finished}");
    assert!(
        !events
            .iter()
            .filter(in_request)
            .any(|e| e["message"] == "GraphQL operation"),
        "one info line per request"
    );
}

#[test]
fn slow_operations_log_their_query_but_not_their_variables() {
    let server = ServerProcess::start(&[("LOG_FORMAT", "json"), ("SLOW_OPERATION_MS", "0")]);
    let response = post(
        &server,
        r#"{"query":"mutation Add($input: CreateInfluencerInput!) { createInfluencer(input: $input) { userErrors { code } } }","variables":{"input":{"handle":"private-handle","platform":"X","email":"secret@example.com"}}}"#,
        "",
    );
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    server.terminate();
    let (_, lines) = server.wait();
    let slow = lines
        .iter()
        .find(|l| l.contains("slow GraphQL operation"))
        .expect("a slow-operation line");
    let event: Value = serde_json::from_str(slow).unwrap();
    assert_eq!(event["level"], "WARN");
    assert!(
        event["query"]
            .as_str()
            .unwrap()
            .contains("createInfluencer")
    );
    let all = lines.join("\n");
    assert!(
        !all.contains("secret@example.com") && !all.contains("private-handle"),
        "{all}"
    );
}

#[test]
fn sigterm_lets_a_request_in_flight_finish_then_exits_zero() {
    let server = ServerProcess::start(&[]);
    let body = r#"{"query":"{ segments { totalCount } }"}"#;
    // Send the headers now and the body only after SIGTERM: the request is in flight while the
    // server is told to stop.
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        server.addr,
        server.key.as_deref().expect("a first start makes a key"),
        body.len()
    )
    .unwrap();
    stream.flush().unwrap();
    // Stop the server once it serves that connection (the request is then in flight).
    wait_until_served(&server.addr);
    server.terminate();
    server.wait_for_line("shutting down");
    stream.write_all(body.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(
        response.contains(r#"{"data":{"segments":{"totalCount":0}},"extensions":{"cost":"#),
        "{response}"
    );
    let (status, _) = server.wait();
    assert_eq!(status.code(), Some(0));
}

#[test]
fn a_request_that_outlives_the_grace_period_does_not_hold_the_stop() {
    let server = ServerProcess::start(&[("SHUTDOWN_GRACE_SECONDS", "1")]);
    // A request whose body never comes.
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    write!(
        stream,
        "POST /graphql HTTP/1.1\r\nHost: {}\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        server.addr,
        server.key.as_deref().expect("a first start makes a key")
    )
    .unwrap();
    stream.flush().unwrap();
    wait_until_served(&server.addr);
    server.terminate();
    server.wait_for_line("grace period over");
    let (status, _) = server.wait();
    assert_eq!(status.code(), Some(0));
}

/// Waits until the server at `addr` serves the one connection a test opened (the scrape's own
/// connection is the other one). A stop sent earlier could come before the server took the
/// connection, and it would then owe the request nothing.
fn wait_until_served(addr: &str) {
    let started = std::time::Instant::now();
    while open_connections(addr) < 2.0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the connection was never taken"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

/// The `http_connections` gauge of the server at `addr`, read over a connection of its own.
fn open_connections(addr: &str) -> f64 {
    raw_get(addr, "/metrics")
        .lines()
        .find_map(|line| line.strip_prefix("http_connections "))
        .map_or(0.0, |value| value.trim().parse().unwrap())
}

#[test]
fn the_first_start_makes_a_key_once_and_later_starts_make_none() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let first = ServerProcess::start(&[("DATABASE_URL", &url)]);
    let key = first.key.clone().expect("a key at the first start");
    assert!(key.starts_with("sk_") && key.len() == 46, "{key}");
    first.terminate();
    assert!(first.wait().0.success());
    let second = ServerProcess::start(&[("DATABASE_URL", &url)]);
    assert_eq!(second.key, None);
    second.terminate();
    assert!(second.wait().0.success());
}

#[test]
fn workspaces_and_keys_are_managed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir);
    let env = [("DATABASE_URL", url.as_str())];

    let created = run(&["workspace", "create", "Acme Agency"], &env);
    assert!(created.status.success(), "{created:?}");
    assert_one_line_error(
        &run(&["workspace", "create", "Acme Agency"], &env),
        "already exists",
    );

    let made = run(
        &[
            "api-key",
            "create",
            "--workspace",
            "Acme Agency",
            "--label",
            "ci",
        ],
        &env,
    );
    assert!(made.status.success(), "{made:?}");
    let key = stdout(&made).trim().to_owned();
    assert!(key.starts_with("sk_") && key.len() == 46, "{key}");
    assert!(
        stderr(&made).contains("not shown again"),
        "{}",
        stderr(&made)
    );

    let listed = stdout(&run(
        &["api-key", "list", "--workspace", "Acme Agency"],
        &env,
    ));
    let prefix = &key[..11];
    assert!(listed.starts_with(&format!("{prefix}  active")), "{listed}");
    assert!(!listed.contains(&key), "the key itself is never listed");

    // The key authenticates as Acme Agency until it is revoked.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let workspace_of = |key: &str| {
        runtime.block_on(async {
            let db = segments_api::db::connect(&url).await.unwrap();
            segments_api::service::auth::authenticate(&db, key)
                .await
                .unwrap()
        })
    };
    assert!(workspace_of(&key).is_some());
    let revoked = run(&["api-key", "revoke", prefix], &env);
    assert!(revoked.status.success(), "{revoked:?}");
    assert_eq!(workspace_of(&key), None);
    let listed = stdout(&run(
        &["api-key", "list", "--workspace", "Acme Agency"],
        &env,
    ));
    assert!(
        listed.starts_with(&format!("{prefix}  revoked")),
        "{listed}"
    );

    assert_one_line_error(
        &run(&["api-key", "create", "--workspace", "Nobody"], &env),
        "no workspace is named",
    );
    assert_one_line_error(
        &run(&["api-key", "revoke", "sk_nothing"], &env),
        "no API key",
    );
}

#[test]
fn at_debug_each_statement_is_logged_inside_its_request_and_service_step_without_input() {
    let server = ServerProcess::start(&[(
        "RUST_LOG",
        "info,segments_api::service=debug,sqlx::query=debug",
    )]);
    let key = server.key.clone().expect("a first start makes a key");
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(common::graphql_at(
        &server.addr,
        &key,
        "mutation($name: String!) { createSegment(input: { name: $name }) { segment { id } } }",
        serde_json::json!({ "name": "Confidential Shortlist" }),
    ));
    // The request's own line comes once its statements are logged.
    let lines = server.lines_until("request finished");
    // The insert runs inside the request's span and the step's, which names the workspace.
    assert!(
        lines.iter().any(|line| line.contains("request{request_id=")
            && line.contains("segments::create{workspace=1}")
            && line.contains("INSERT INTO")),
        "{lines:#?}"
    );
    // Spans carry ids only, and statements their placeholders: the input is in no line.
    assert!(
        !lines.iter().any(|line| line.contains("Confidential")),
        "{lines:#?}"
    );
}
