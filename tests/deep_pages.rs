//! A page deep into a large connection (the roster, a search, a filter, Unassigned, a segment's
//! members, a campaign's recipients, the membership history) reads about as many rows as a page
//! near its start, in both directions: the cursor bounds every table the page's statement reads,
//! not only the one it orders by. (`segments` and `campaigns` page over their own table alone, by its key.)
//!
//! Measured without timing: on PostgreSQL the test runs `EXPLAIN (ANALYZE, FORMAT JSON)` on the
//! statement each page sent (with the values it was sent with) and adds up the rows its scans
//! read. SQLite has no such counts; there the test pages through every connection and checks
//! that a segment's members are bounded on both sides of the join.

mod common;

use common::TestApp;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement};
use segments_api::graphql::schema::ids::{Kind, encode};
use serde_json::{Value, json};

/// How many rows the scans of `statement`'s plan read, over all their loops.
async fn rows_read(app: &TestApp, statement: &Statement) -> u64 {
    let explain = Statement {
        sql: format!("EXPLAIN (ANALYZE, FORMAT JSON) {}", statement.sql),
        values: statement.values.clone(),
        db_backend: DatabaseBackend::Postgres,
    };
    let row = app
        .db
        .query_one_raw(explain)
        .await
        .expect("explain")
        .expect("a plan");
    let plan: Value = row.try_get_by_index(0).expect("a JSON plan");
    fn walk(node: &Value) -> u64 {
        let count = |field: &str| node[field].as_f64().unwrap_or(0.0);
        // What a scan returned and what its filters threw away, over all its loops.
        let own = if node["Node Type"].as_str().unwrap_or("").contains("Scan") {
            (count("Actual Rows")
                + count("Rows Removed by Filter")
                + count("Rows Removed by Index Recheck"))
                * node["Actual Loops"].as_f64().unwrap_or(1.0)
        } else {
            0.0
        };
        own as u64
            + node["Plans"]
                .as_array()
                .map_or(0, |plans| plans.iter().map(walk).sum())
    }
    walk(&plan[0]["Plan"])
}

/// A connection of influencers: the query that pages it and the variables that pick the set.
struct Connection {
    name: &'static str,
    /// `query(...) { <field>(first: $first, after: $after, last: $last, before: $before, ...) }`.
    query: String,
    /// The fields down to the connection in `data`.
    path: Vec<String>,
    variables: Value,
}

impl Connection {
    fn variables(&self, page: Value) -> Value {
        let mut all = self.variables.clone();
        for (k, v) in page.as_object().unwrap() {
            all[k] = v.clone();
        }
        all
    }

    fn connection<'a>(&self, data: &'a Value) -> &'a Value {
        self.path.iter().fold(data, |v, key| &v[key.as_str()])
    }

    /// Every cursor of the connection, in order, paged through 100 at a time.
    async fn cursors(&self, app: &TestApp) -> Vec<String> {
        let mut cursors = Vec::new();
        let mut after = Value::Null;
        loop {
            let data = app
                .data(
                    &self.query,
                    self.variables(json!({ "first": 100, "after": after })),
                )
                .await;
            let connection = self.connection(&data);
            let edges = connection["edges"].as_array().expect("edges");
            cursors.extend(
                edges
                    .iter()
                    .map(|e| e["cursor"].as_str().unwrap().to_owned()),
            );
            if connection["pageInfo"]["hasNextPage"] != json!(true) {
                return cursors;
            }
            after = edges.last().unwrap()["cursor"].clone();
        }
    }

    /// Runs one page of 50 and returns the statement that read it.
    async fn page_statement(&self, app: &TestApp, page: Value) -> Statement {
        app.take_statements_with_values();
        let data = app.data(&self.query, self.variables(page)).await;
        assert_eq!(
            self.connection(&data)["edges"].as_array().map(Vec::len),
            Some(50),
            "{}: {data}",
            self.name
        );
        let mut pages: Vec<Statement> = app
            .take_statements_with_values()
            .into_iter()
            .filter(|s| s.sql.contains("page_tag"))
            .collect();
        assert_eq!(
            pages.len(),
            1,
            "{}: one statement reads the page: {pages:#?}",
            self.name
        );
        pages.pop().unwrap()
    }
}

/// A connection named `name`: `field` is the selection down to it, with `PAGE` where the paging
/// arguments go (`segment(id: $id) { influencers(PAGE)`), `params` declares the variables `field`
/// uses besides them, and `variables` gives their values.
fn connection(name: &'static str, field: &str, params: &str, variables: Value) -> Connection {
    let page = "first: $first, after: $after, last: $last, before: $before";
    let inner = "{ edges { cursor } pageInfo { hasNextPage } }";
    let query = format!(
        "query($first: Int, $after: String, $last: Int, $before: String{params}) {{ {}{inner}{} }}",
        field.replace("PAGE", page),
        "}".repeat(field.matches('{').count()),
    );
    // The name before each level's arguments: `segment(id: $id) { influencers(PAGE)` is at
    // `segment.influencers`.
    let path = field
        .split('{')
        .map(|level| level.split('(').next().unwrap().trim().to_owned())
        .collect();
    Connection {
        name,
        query,
        path,
        variables,
    }
}

async fn scalar(app: &TestApp, sql: &str) -> i64 {
    let db = &app.db;
    db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap()
}

#[tokio::test]
async fn a_deep_page_of_any_large_connection_reads_no_more_than_one_near_its_start() {
    let app = TestApp::spawn().await;
    segments_api::cli::seed::seed(&app.db, app.workspace, 20_000)
        .await
        .expect("seed");
    let db = &app.db;
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    if postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    let biggest = scalar(
        &app,
        "SELECT segment_id FROM segment_membership GROUP BY segment_id ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .await;
    let campaign = scalar(
        &app,
        "SELECT campaign_id FROM campaign_audience GROUP BY campaign_id ORDER BY COUNT(*) DESC LIMIT 1",
    )
    .await;
    let connections = [
        connection("roster", "influencers(PAGE)", "", json!({})),
        connection(
            "search",
            "influencers(PAGE, search: $search)",
            ", $search: String",
            json!({ "search": "1" }),
        ),
        connection(
            "filter",
            "influencers(PAGE, filter: $filter)",
            ", $filter: InfluencerFilter",
            json!({ "filter": { "platformIn": ["INSTAGRAM", "TIKTOK"] } }),
        ),
        connection("unassigned", "unassigned(PAGE)", "", json!({})),
        connection(
            "segment members",
            "segment(id: $id) { influencers(PAGE)",
            ", $id: ID!",
            json!({ "id": encode(Kind::Segment, biggest).0 }),
        ),
        connection(
            "campaign recipients",
            "campaign(id: $id) { recipients(PAGE)",
            ", $id: ID!",
            json!({ "id": encode(Kind::Campaign, campaign).0 }),
        ),
        // The membership history (the seed records one change per membership, and more).
        connection("history", "membershipChanges(PAGE)", "", json!({})),
        connection(
            "segment history",
            "segment(id: $id) { history(PAGE)",
            ", $id: ID!",
            json!({ "id": encode(Kind::Segment, biggest).0 }),
        ),
    ];
    for connection in &connections {
        let cursors = connection.cursors(&app).await;
        assert!(
            cursors.len() > 1_000,
            "{}: {} rows",
            connection.name,
            cursors.len()
        );
        let at = |fraction: f64| cursors[(cursors.len() as f64 * fraction) as usize].clone();
        // Forward (`after`) and backward (`before`), each near the start of its direction and in
        // the middle, where a plan that reads rows in proportion to the depth (or to what remains
        // after the cursor) reads thousands.
        for (direction, near, deep) in [("after", at(0.02), at(0.5)), ("before", at(0.98), at(0.5))]
        {
            let page = |cursor: &str| match direction {
                "after" => json!({ "first": 50, "after": cursor }),
                _ => json!({ "last": 50, "before": cursor }),
            };
            let near = connection.page_statement(&app, page(&near)).await;
            let deep = connection.page_statement(&app, page(&deep)).await;
            if connection.name == "segment members" {
                // The bound PostgreSQL would not carry across the join is written on both sides.
                let operator = if direction == "after" { '>' } else { '<' };
                for side in [
                    r#""segment_membership"."influencer_id""#,
                    r#""influencer"."id""#,
                ] {
                    assert!(
                        deep.sql.contains(&format!("{side} {operator}")),
                        "{direction}: the cursor bounds {side}: {}",
                        deep.sql
                    );
                }
            }
            if postgres {
                let (near_rows, deep_rows) =
                    (rows_read(&app, &near).await, rows_read(&app, &deep).await);
                eprintln!(
                    "{} {direction}: rows read near the start {near_rows}, in the middle {deep_rows}",
                    connection.name
                );
                assert!(
                    deep_rows <= 3 * near_rows.max(100),
                    "{} {direction}: a page in the middle read {deep_rows} rows, one near the start \
                     {near_rows}: {}",
                    connection.name,
                    deep.sql
                );
            }
        }
    }
}
