//! A page deep into a connection reads about as many rows as a page near its start: the cursor
//! bounds every table the page's statement reads, not only the one it orders by.
//!
//! Measured without timing: on PostgreSQL the test runs `EXPLAIN (ANALYZE, FORMAT JSON)` on the
//! statement each page sent (with the values it was sent with) and adds up the rows its scans
//! read. On SQLite, which has no such counts, it checks that the statement bounds both sides of
//! the join by the cursor.

mod common;

use common::TestApp;
use sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value as DbValue};
use segments_api::graphql::schema::{
    connection::Cursor,
    ids::{Kind, encode},
};
use serde_json::{Value, json};

const PAGE: &str = "query($id: ID!, $first: Int, $after: String, $last: Int, $before: String) { segment(id: $id) { influencers(first: $first, after: $after, last: $last, before: $before) { nodes { id } } } }";

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
        let own = if node["Node Type"].as_str().unwrap_or("").contains("Scan") {
            node["Actual Rows"].as_f64().unwrap_or(0.0)
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

/// Runs one page of the segment's members and returns the statement that read it.
async fn page_statement(app: &TestApp, variables: Value) -> Statement {
    app.take_statements_with_values();
    let data = app.data(PAGE, variables).await;
    assert_eq!(
        data["segment"]["influencers"]["nodes"]
            .as_array()
            .map(Vec::len),
        Some(50),
        "{data}"
    );
    let mut pages: Vec<Statement> = app
        .take_statements_with_values()
        .into_iter()
        .filter(|s| s.sql.contains("segment_membership") && s.sql.contains("LIMIT"))
        .collect();
    assert_eq!(pages.len(), 1, "one statement reads the page: {pages:#?}");
    pages.pop().unwrap()
}

/// The member of `segment` at `fraction` of its members in id order.
async fn member_at(app: &TestApp, segment: i64, fraction: f64) -> i64 {
    let db = &app.db;
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                DatabaseBackend::Postgres => {
                    "SELECT influencer_id FROM segment_membership WHERE segment_id = $1 ORDER BY influencer_id"
                }
                _ => "SELECT influencer_id FROM segment_membership WHERE segment_id = ? ORDER BY influencer_id",
            },
            [DbValue::from(segment)],
        ))
        .await
        .unwrap();
    let index = ((rows.len() as f64) * fraction) as usize;
    rows[index].try_get("", "influencer_id").unwrap()
}

#[tokio::test]
async fn a_deep_page_of_a_segments_members_reads_no_more_than_one_near_its_start() {
    let app = TestApp::spawn().await;
    segments_api::cli::seed::seed(&app.db, app.workspace, 20_000)
        .await
        .expect("seed");
    let db = &app.db;
    let postgres = db.get_database_backend() == DatabaseBackend::Postgres;
    if postgres {
        db.execute_unprepared("ANALYZE").await.unwrap();
    }
    let biggest: i64 = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT segment_id FROM segment_membership GROUP BY segment_id ORDER BY COUNT(*) DESC LIMIT 1",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get("", "segment_id")
        .unwrap();
    let id = encode(Kind::Segment, biggest).0;
    let cursor = |member: i64| Cursor(member).encode();
    // Forward (`after`) and backward (`before`), each near the start of its direction and in the
    // middle, where a plan that reads rows in proportion to the depth (or to what remains after
    // the cursor) reads thousands.
    let cases = [("after", 0.02, 0.5), ("before", 0.98, 0.5)];
    for (direction, near, deep) in cases {
        let (near, deep) = (
            cursor(member_at(&app, biggest, near).await),
            cursor(member_at(&app, biggest, deep).await),
        );
        let variables = |at: &str| match direction {
            "after" => json!({ "id": id, "first": 50, "after": at }),
            _ => json!({ "id": id, "last": 50, "before": at }),
        };
        let near = page_statement(&app, variables(&near)).await;
        let deep = page_statement(&app, variables(&deep)).await;
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
        if postgres {
            let (near, deep) = (rows_read(&app, &near).await, rows_read(&app, &deep).await);
            eprintln!("{direction}: rows read near the start {near}, deep {deep}");
            assert!(
                deep <= 3 * near.max(100),
                "{direction}: a deep page read {deep} rows, a page near the start {near}"
            );
        }
    }
}
