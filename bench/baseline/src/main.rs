//! The hand-written baseline of the read benchmarks: each read is one SQL query whose rows are
//! assembled into the same result the GraphQL servers return, and serialized with serde. No
//! GraphQL, no authentication, no loaders: the floor a GraphQL server's overhead is measured
//! against.
//!
//! `BASELINE_DATABASE_URL` (a PostgreSQL URL), `BASELINE_BIND` (default 127.0.0.1:5100),
//! `BASELINE_WORKSPACE` (default 1). Routes: `GET /dashboard?segments=50&influencers=20`,
//! `GET /unassigned?first=50&after=ID`, `GET /influencer/ID`.

use axum::{
    Json, Router,
    extract::{Path, Query, State},
    http::StatusCode,
    routing::get,
};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sqlx::{Connection, PgPool, Row, postgres::PgPoolOptions};

#[derive(Clone)]
struct App {
    pool: PgPool,
    workspace: i64,
}

type Reply<T> = Result<Json<T>, (StatusCode, String)>;

fn fault(e: sqlx::Error) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

#[derive(Serialize)]
struct SegmentRef {
    id: i64,
    name: String,
}

#[derive(Serialize)]
struct Member {
    id: i64,
    handle: String,
    segments: Vec<SegmentRef>,
}

#[derive(Serialize)]
struct DashboardSegment {
    id: i64,
    name: String,
    member_count: i64,
    influencers: Vec<Member>,
}

#[derive(Deserialize)]
struct DashboardArgs {
    segments: Option<i64>,
    influencers: Option<i64>,
}

/// The first segments with their member counts, each segment's first members, and each member's
/// segments: one statement, rows flattened to (segment, member, member's segment).
async fn dashboard(
    State(app): State<App>,
    Query(args): Query<DashboardArgs>,
) -> Reply<Vec<DashboardSegment>> {
    let rows = sqlx::query(
        "WITH s AS (SELECT id, name FROM segment WHERE workspace_id = $1 ORDER BY id LIMIT $2), \
         c AS (SELECT m.segment_id, count(*) AS n FROM segment_membership m \
               WHERE m.segment_id IN (SELECT id FROM s) GROUP BY m.segment_id), \
         p AS (SELECT s.id AS sid, i.id AS iid, i.handle FROM s CROSS JOIN LATERAL \
               (SELECT m.influencer_id FROM segment_membership m WHERE m.segment_id = s.id \
                ORDER BY m.influencer_id LIMIT $3) top \
               JOIN influencer i ON i.id = top.influencer_id) \
         SELECT s.id, s.name, coalesce(c.n, 0) AS n, p.iid, p.handle, o.id AS oid, o.name AS oname \
         FROM s LEFT JOIN c ON c.segment_id = s.id LEFT JOIN p ON p.sid = s.id \
         LEFT JOIN segment_membership om ON om.influencer_id = p.iid \
         LEFT JOIN segment o ON o.id = om.segment_id \
         ORDER BY s.id, p.iid, o.id",
    )
    .bind(app.workspace)
    .bind(args.segments.unwrap_or(50))
    .bind(args.influencers.unwrap_or(20))
    .fetch_all(&app.pool)
    .await
    .map_err(fault)?;
    let mut out: Vec<DashboardSegment> = Vec::new();
    for row in rows {
        let id: i64 = row.get(0);
        if out.last().is_none_or(|s| s.id != id) {
            out.push(DashboardSegment {
                id,
                name: row.get(1),
                member_count: row.get(2),
                influencers: Vec::new(),
            });
        }
        let segment = out.last_mut().expect("pushed above");
        let Some(iid) = row.get::<Option<i64>, _>(3) else {
            continue;
        };
        if segment.influencers.last().is_none_or(|m| m.id != iid) {
            segment.influencers.push(Member {
                id: iid,
                handle: row.get(4),
                segments: Vec::new(),
            });
        }
        if let Some(oid) = row.get::<Option<i64>, _>(5) {
            let member = segment.influencers.last_mut().expect("pushed above");
            member.segments.push(SegmentRef {
                id: oid,
                name: row.get(6),
            });
        }
    }
    Ok(Json(out))
}

#[derive(Serialize)]
struct Listed {
    id: i64,
    handle: String,
    display_name: Option<String>,
    follower_count: Option<i32>,
}

#[derive(Serialize)]
struct UnassignedPage {
    total_count: i64,
    has_next_page: bool,
    nodes: Vec<Listed>,
}

#[derive(Deserialize)]
struct PageArgs {
    first: Option<i64>,
    after: Option<i64>,
}

/// A keyset page of influencers in no segment with the exact total: one statement.
async fn unassigned(State(app): State<App>, Query(args): Query<PageArgs>) -> Reply<UnassignedPage> {
    let first = args.first.unwrap_or(50);
    let rows = sqlx::query(
        "SELECT i.id, i.handle, i.display_name, i.follower_count, \
         (SELECT count(*) FROM influencer c WHERE c.workspace_id = $1 AND NOT EXISTS \
          (SELECT 1 FROM segment_membership m WHERE m.influencer_id = c.id)) AS total \
         FROM influencer i WHERE i.workspace_id = $1 AND i.id > $2 AND NOT EXISTS \
         (SELECT 1 FROM segment_membership m WHERE m.influencer_id = i.id) \
         ORDER BY i.id LIMIT $3",
    )
    .bind(app.workspace)
    .bind(args.after.unwrap_or(0))
    .bind(first + 1)
    .fetch_all(&app.pool)
    .await
    .map_err(fault)?;
    let total_count = rows.first().map_or(0, |r| r.get(4));
    let has_next_page = rows.len() as i64 > first;
    let nodes = rows
        .into_iter()
        .take(first as usize)
        .map(|r| Listed {
            id: r.get(0),
            handle: r.get(1),
            display_name: r.get(2),
            follower_count: r.get(3),
        })
        .collect();
    Ok(Json(UnassignedPage {
        total_count,
        has_next_page,
        nodes,
    }))
}

#[derive(Serialize)]
struct Membership {
    assigned_at: DateTime<Utc>,
    source: String,
    segment: SegmentRef,
}

#[derive(Serialize)]
struct Profile {
    id: i64,
    handle: String,
    display_name: Option<String>,
    email: Option<String>,
    platform: String,
    niche: Option<String>,
    follower_count: Option<i32>,
    memberships: Vec<Membership>,
}

/// One influencer with its memberships and their segments: one statement.
async fn influencer(State(app): State<App>, Path(id): Path<i64>) -> Reply<Option<Profile>> {
    let rows = sqlx::query(
        "SELECT i.id, i.handle, i.display_name, i.email, i.platform, i.niche, i.follower_count, \
         m.assigned_at, m.source, s.id, s.name FROM influencer i \
         LEFT JOIN segment_membership m ON m.influencer_id = i.id \
         LEFT JOIN segment s ON s.id = m.segment_id \
         WHERE i.workspace_id = $1 AND i.id = $2 ORDER BY s.id",
    )
    .bind(app.workspace)
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .map_err(fault)?;
    let Some(first) = rows.first() else {
        return Ok(Json(None));
    };
    let mut profile = Profile {
        id: first.get(0),
        handle: first.get(1),
        display_name: first.get(2),
        email: first.get(3),
        platform: first.get(4),
        niche: first.get(5),
        follower_count: first.get(6),
        memberships: Vec::new(),
    };
    for row in &rows {
        if let Some(segment_id) = row.get::<Option<i64>, _>(9) {
            profile.memberships.push(Membership {
                assigned_at: row.get(7),
                source: row.get(8),
                segment: SegmentRef {
                    id: segment_id,
                    name: row.get(10),
                },
            });
        }
    }
    Ok(Json(Some(profile)))
}

#[tokio::main]
async fn main() {
    let url = std::env::var("BASELINE_DATABASE_URL").expect("BASELINE_DATABASE_URL is required");
    let bind = std::env::var("BASELINE_BIND").unwrap_or_else(|_| "127.0.0.1:5100".into());
    let workspace = std::env::var("BASELINE_WORKSPACE")
        .ok()
        .and_then(|w| w.parse().ok())
        .unwrap_or(1);
    let pool = PgPoolOptions::new()
        .max_connections(10)
        // As segments-api: sqlx pings every connection when it is released; pinging it again
        // on every checkout is left for connections that sat idle.
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for >= Duration::from_secs(1) {
                    conn.ping().await?;
                }
                Ok(true)
            })
        })
        .connect(&url)
        .await
        .expect("cannot connect to the database");
    let app = Router::new()
        .route("/dashboard", get(dashboard))
        .route("/unassigned", get(unassigned))
        .route("/influencer/{id}", get(influencer))
        .with_state(App { pool, workspace });
    let listener = tokio::net::TcpListener::bind(&bind)
        .await
        .expect("cannot bind");
    println!("baseline listening on {bind}");
    axum::serve(listener, app).await.expect("server failed");
}
