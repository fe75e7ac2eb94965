//! Test harness: each test gets its own freshly migrated database (SQLite in a temporary file, or
//! a new PostgreSQL database when `TEST_DATABASE_URL` is set), the real schema on it, and a
//! counter of the SQL statements it runs.
#![allow(dead_code)]

pub mod http;
pub mod process;
pub mod ws;

use std::sync::{
    Arc,
    atomic::{AtomicUsize, Ordering},
};

use async_graphql::{Request, Variables};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use segments_api::{
    db,
    graphql::{
        Api, build_schema,
        schema::ids::{Kind, encode},
    },
    service::{WorkspaceId, reads::default_workspace},
};
use serde_json::{Value, json};

pub struct TestApp {
    pub db: DatabaseConnection,
    pub schema: Api,
    pub workspace: WorkspaceId,
    statements: Arc<AtomicUsize>,
    /// The text of every statement run since the last [`TestApp::take_statements`].
    statement_texts: Arc<std::sync::Mutex<Vec<sea_orm::Statement>>>,
    _sqlite_dir: Option<tempfile::TempDir>,
}

/// Runs an operation on the server at `addr` over HTTP with `key`; returns `data`, failing on any
/// error.
pub async fn graphql_at(addr: &str, key: &str, query: &str, variables: Value) -> Value {
    let body: Value = reqwest::Client::new()
        .post(format!("http://{addr}/graphql"))
        .bearer_auth(key)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("a JSON body");
    assert!(body.get("errors").is_none(), "{body:#}");
    body["data"].clone()
}

/// An id of the right type that names nothing in a fresh database.
pub fn unknown_id(kind: Kind) -> String {
    encode(kind, 999_999).0
}

/// The `(path, code)` of each entry of a list of errors or problems (`field` joined with dots).
pub fn paths_and_codes(errors: &Value) -> Vec<(String, String)> {
    errors
        .as_array()
        .unwrap_or_else(|| panic!("a list, got {errors}"))
        .iter()
        .map(|e| {
            let field: Vec<&str> = e["field"]
                .as_array()
                .unwrap()
                .iter()
                .map(|f| f.as_str().unwrap())
                .collect();
            (field.join("."), e["code"].as_str().unwrap().to_owned())
        })
        .collect()
}

/// Every user error's message is words for a person; strip them so the rest compares exactly.
pub fn without_messages(mut payload: Value) -> Value {
    for error in payload["userErrors"]
        .as_array_mut()
        .expect("payload has userErrors")
    {
        let message = error
            .as_object_mut()
            .unwrap()
            .remove("message")
            .expect("userErrors select message");
        assert!(
            message.as_str().is_some_and(|m| !m.trim().is_empty()),
            "user error without a message: {error}"
        );
    }
    payload
}

/// An influencer's memberships (segment, source, automation) and whether it is Unassigned.
pub async fn memberships(app: &TestApp, influencer: &str) -> Value {
    const MEMBERSHIPS: &str = "query($id: ID!) {
        influencer(id: $id) {
            unassigned
            memberships { segment { id } source automation { id } }
        }
    }";
    app.data(MEMBERSHIPS, json!({ "id": influencer })).await["influencer"].clone()
}

/// Deletes a segment, which must succeed.
pub async fn delete_segment(app: &TestApp, segment: &str) {
    let data = app
        .data(
            "mutation($id: ID!) { deleteSegment(input: { id: $id }) { deletedSegmentId userErrors { code } } }",
            json!({ "id": segment }),
        )
        .await;
    assert_eq!(
        data["deleteSegment"],
        json!({ "deletedSegmentId": segment, "userErrors": [] })
    );
}

/// Which backend the suite runs on.
pub fn backend() -> &'static str {
    if std::env::var("TEST_DATABASE_URL").is_ok() {
        "postgres"
    } else {
        "sqlite"
    }
}

/// A pool of one connection on `url`, for tests that walk migrations up and down and then read
/// the tables. On SQLite every pooled connection keeps its own copy of the schema, and an
/// `ALTER TABLE ... DROP COLUMN` prepared on a connection whose copy predates a column another
/// connection added fails with "no such column" (SQLite reads the schema again after a missing
/// table, not there). `segments-api migrate` runs in a process of its own, whose connections read
/// the schema as it is.
pub async fn one_connection(url: &str) -> sea_orm::DatabaseConnection {
    segments_api::db::connect_with(url, 1)
        .await
        .expect("connect")
}

/// A fresh, empty database on the configured backend; the directory holds the SQLite file.
pub async fn fresh_database_url() -> (String, Option<tempfile::TempDir>) {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(admin_url) => {
            let name = format!("segtest_{}", uuid::Uuid::new_v4().simple());
            let admin = Database::connect(&admin_url)
                .await
                .expect("connect to TEST_DATABASE_URL");
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await
                .expect("create test database");
            admin.close().await.ok();
            let base = admin_url
                .rsplit_once('/')
                .map(|(b, _)| b)
                .unwrap_or(&admin_url);
            (format!("{base}/{name}"), None)
        }
        Err(_) => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display());
            (url, Some(dir))
        }
    }
}

impl TestApp {
    pub async fn spawn() -> Self {
        // `TEST_LOG=segments_api=debug,sqlx=debug cargo test ...` shows the server's logs (the
        // service's steps and their statements) beside a failing test's output.
        if let Ok(filter) = std::env::var("TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
        let (url, dir) = fresh_database_url().await;
        let mut db = db::connect(&url).await.expect("connect");
        let statements = Arc::new(AtomicUsize::new(0));
        let counter = statements.clone();
        let statement_texts = Arc::new(std::sync::Mutex::new(Vec::new()));
        let texts = statement_texts.clone();
        db.set_metric_callback(move |info| {
            texts.lock().unwrap().push(info.statement.clone());
            // For finding which statement a count test did not expect (shown when it fails).
            if std::env::var_os("TEST_PRINT_STATEMENTS").is_some() {
                eprintln!("statement: {}", info.statement.sql);
            }
            counter.fetch_add(1, Ordering::SeqCst);
        });
        db::migrate(&db).await.expect("migrate");
        let workspace = default_workspace(&db).await.expect("default workspace");
        Self {
            schema: build_schema(db.clone()),
            db,
            workspace,
            statements,
            statement_texts,
            _sqlite_dir: dir,
        }
    }

    /// A second application on the same database, as another server instance would be: its own
    /// schema, event hub and in-memory caches (the first keeps the database alive).
    pub fn another_instance(&self) -> Self {
        Self {
            schema: build_schema(self.db.clone()),
            db: self.db.clone(),
            workspace: self.workspace,
            statements: Arc::new(AtomicUsize::new(0)),
            statement_texts: Arc::default(),
            _sqlite_dir: None,
        }
    }

    /// A live API key for the test workspace.
    pub async fn api_key(&self) -> String {
        segments_api::service::auth::create_key(&self.db, self.workspace, "test")
            .await
            .expect("create an API key")
            .secret
    }

    /// Serves the application's router for this database on an ephemeral loopback port, as the
    /// binary does (with the peer address); returns `host:port`.
    pub async fn serve(&self, config: &segments_api::config::HttpConfig) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a local port");
        let addr = listener.local_addr().expect("local address").to_string();
        let router = segments_api::http::router_with(self.db.clone(), config)
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        tokio::spawn(std::future::IntoFuture::into_future(axum::serve(
            listener, router,
        )));
        addr
    }

    /// An HTTP client that sends `key` as its bearer token and accepts what current GraphQL
    /// clients accept (so request errors come back as 400).
    pub fn client_with_key(key: &str) -> reqwest::Client {
        let mut headers = reqwest::header::HeaderMap::new();
        headers.insert(
            reqwest::header::AUTHORIZATION,
            format!("Bearer {key}").parse().unwrap(),
        );
        headers.insert(
            reqwest::header::ACCEPT,
            "application/graphql-response+json, application/json;q=0.9"
                .parse()
                .unwrap(),
        );
        reqwest::Client::builder()
            .default_headers(headers)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("http client")
    }

    /// Runs an operation; returns the whole response (`data`, `errors`) as JSON.
    pub async fn exec(&self, query: &str, variables: Value) -> Value {
        let request = Request::new(query).variables(Variables::from_json(variables));
        let response = self
            .schema
            .execute(self.schema.scoped(request, self.workspace, None))
            .await;
        serde_json::to_value(&response).expect("serialize response")
    }

    /// Runs an operation that must succeed; returns `data`.
    pub async fn data(&self, query: &str, variables: Value) -> Value {
        let response = self.exec(query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response:#}"
        );
        response["data"].clone()
    }

    /// Statements run since the last call.
    pub fn take_statement_count(&self) -> usize {
        self.statements.swap(0, Ordering::SeqCst)
    }

    /// The texts of the statements run since the last call.
    pub fn take_statements(&self) -> Vec<String> {
        self.take_statements_with_values()
            .into_iter()
            .map(|statement| statement.sql)
            .collect()
    }

    /// The statements run since the last call, with the values bound to them.
    pub fn take_statements_with_values(&self) -> Vec<sea_orm::Statement> {
        std::mem::take(&mut *self.statement_texts.lock().unwrap())
    }

    // ---- shortcuts for building fixtures through the API itself ----

    pub async fn create_influencer(&self, handle: &str) -> String {
        let data = self
            .data(
                "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { id } userErrors { code } } }",
                json!({ "input": { "handle": handle, "platform": "INSTAGRAM" } }),
            )
            .await;
        assert_eq!(
            data["createInfluencer"]["userErrors"],
            json!([]),
            "{handle}"
        );
        data["createInfluencer"]["influencer"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn create_influencers(&self, prefix: &str, n: usize) -> Vec<String> {
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            ids.push(self.create_influencer(&format!("{prefix}{i}")).await);
        }
        ids
    }

    pub async fn create_segment(&self, name: &str) -> String {
        let data = self
            .data(
                "mutation($name: String!) { createSegment(input: { name: $name }) { segment { id } userErrors { code message } } }",
                json!({ "name": name }),
            )
            .await;
        assert_eq!(data["createSegment"]["userErrors"], json!([]), "{name}");
        data["createSegment"]["segment"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// A campaign with no audience; returns its id.
    pub async fn create_campaign(&self, name: &str) -> String {
        let data = self
            .data(
                "mutation($name: String!) { createCampaign(input: { name: $name }) { campaign { id } userErrors { code message } } }",
                json!({ "name": name }),
            )
            .await;
        assert_eq!(data["createCampaign"]["userErrors"], json!([]), "{name}");
        data["createCampaign"]["campaign"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub async fn assign(&self, influencer_ids: &[String], segment_id: &str) -> Value {
        self.data(
            "mutation($ids: [ID!]!, $seg: ID!) { assignToSegment(input: { influencerIds: $ids, segment: { id: $seg } }) { segment { id } influencers { id } userErrors { field message code } } }",
            json!({ "ids": influencer_ids, "seg": segment_id }),
        )
        .await["assignToSegment"]
            .clone()
    }

    /// Handles listed under Unassigned (first 100), in order.
    pub async fn unassigned_handles(&self) -> Vec<String> {
        let data = self
            .data(
                "{ unassigned(first: 100) { totalCount nodes { handle unassigned } } }",
                json!({}),
            )
            .await;
        let nodes = data["unassigned"]["nodes"].as_array().unwrap();
        assert_eq!(
            data["unassigned"]["totalCount"].as_u64().unwrap() as usize,
            nodes.len(),
            "totalCount agrees with the listed nodes"
        );
        for node in nodes {
            assert_eq!(
                node["unassigned"],
                json!(true),
                "listed under Unassigned: {node}"
            );
        }
        nodes
            .iter()
            .map(|n| n["handle"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Rows in a table, read straight from the database (to prove nothing was written).
    pub async fn count_rows(&self, table: &str) -> i64 {
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                self.db.get_database_backend(),
                format!("SELECT COUNT(*) AS n FROM {table}"),
            ))
            .await
            .unwrap()
            .unwrap();
        row.try_get("", "n").unwrap()
    }
}

/// A response (or a WebSocket message carrying one in `payload`) without its `extensions.cost`,
/// which every metered response carries (see `tests/cost_limits.rs`), for tests that compare
/// whole bodies; `extensions` goes too when nothing else is in it.
pub fn without_cost(mut value: Value) -> Value {
    fn strip(response: &mut Value) {
        let Some(object) = response.as_object_mut() else {
            return;
        };
        if let Some(extensions) = object.get_mut("extensions").and_then(Value::as_object_mut) {
            extensions.remove("cost");
            if extensions.is_empty() {
                object.remove("extensions");
            }
        }
    }
    strip(&mut value);
    if let Some(payload) = value.get_mut("payload") {
        strip(payload);
    }
    value
}
