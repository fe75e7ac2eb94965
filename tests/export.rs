//! Exports: `exportInfluencers` makes a job, and `GET /exports/{id}` with the workspace's key
//! streams its file (CSV or JSONL, in the columns an import reads) from one snapshot; the CLI's
//! `export` writes the same file. On whichever backend the harness runs.

mod common;

use common::{TestApp, paths_and_codes, unknown_id};
use pretty_assertions::assert_eq;
use reqwest::StatusCode;
use sea_orm::{ConnectionTrait, EntityTrait, Statement};
use segments_api::{
    config::HttpConfig,
    graphql::schema::ids::Kind,
    service::{
        WorkspaceId, auth,
        export::{self, ExportScope},
    },
};
use serde_json::{Value, json};

const EXPORT: &str = "mutation($input: ExportInfluencersInput!) {
  exportInfluencers(input: $input) {
    job { id status format rowCount url }
    userErrors { field code message }
  }
}";

/// A roster of three: `ana` in VIP and `-cold`, `ben` in VIP, `cy` in none; a campaign whose
/// audience is VIP. Returns the ids of VIP, `-cold` and the campaign.
async fn roster(app: &TestApp) -> (String, String, String) {
    let created = app
        .data(
            "mutation {
              a: createInfluencer(input: { handle: \"ana\", platform: TIKTOK,
                displayName: \"=HYPERLINK(\\\"http://x\\\")\", email: \"ana@example.com\",
                niche: \"food, travel\", followerCount: 1200 }) { influencer { id } userErrors { code } }
              b: createInfluencer(input: { handle: \"ben\", platform: YOUTUBE }) { influencer { id } userErrors { code } }
              c: createInfluencer(input: { handle: \"cy\", platform: X, niche: \"+tech\" }) { influencer { id } userErrors { code } }
            }",
            json!({}),
        )
        .await;
    let id = |alias: &str| {
        created[alias]["influencer"]["id"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (a, b) = (id("a"), id("b"));
    let vip = app.create_segment("VIP").await;
    let cold = app.create_segment("-cold").await;
    app.assign(&[a.clone(), b], &vip).await;
    app.assign(&[a], &cold).await;
    let campaign = app
        .data(
            "mutation($seg: ID!) { createCampaign(input: { name: \"Launch\", audienceSegmentIds: [$seg] }) { campaign { id } } }",
            json!({ "seg": vip }),
        )
        .await["createCampaign"]["campaign"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    (vip, cold, campaign)
}

/// Makes an export through the API; returns the payload.
async fn export_job(app: &TestApp, input: Value) -> Value {
    app.data(EXPORT, json!({ "input": input })).await["exportInfluencers"].clone()
}

/// GETs a job's URL on `addr` with `key`; returns the status, the content type and the body.
async fn download(addr: &str, key: Option<&str>, url: &str) -> (StatusCode, String, String) {
    let mut request = reqwest::Client::new().get(format!("http://{addr}{url}"));
    if let Some(key) = key {
        request = request.bearer_auth(key);
    }
    let response = request.send().await.expect("GET the export");
    let status = response.status();
    let media = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, media, response.text().await.expect("the body"))
}

const HEADER: &str = "handle,platform,displayName,email,niche,followerCount,segments\n";

#[tokio::test]
async fn each_scope_downloads_in_the_columns_an_import_reads() {
    let app = TestApp::spawn().await;
    let (_, cold, campaign) = roster(&app).await;
    let addr = app.serve(&HttpConfig::default()).await;
    let key = app.api_key().await;

    let whole = export_job(&app, json!({ "format": "CSV" })).await;
    assert_eq!(whole["userErrors"], json!([]));
    assert_eq!(
        (
            &whole["job"]["status"],
            &whole["job"]["format"],
            &whole["job"]["rowCount"]
        ),
        (&json!("SUCCEEDED"), &json!("CSV"), &json!(3))
    );
    let url = whole["job"]["url"].as_str().unwrap();
    assert_eq!(
        url,
        format!("/exports/{}", whole["job"]["id"].as_str().unwrap())
    );
    let (status, media, body) = download(&addr, Some(&key), url).await;
    assert_eq!(
        (status, media.as_str()),
        (StatusCode::OK, "text/csv; charset=utf-8")
    );
    // Cells a spreadsheet would run as formulas (`=`, `+`, `-`, `@`) get a leading `'`.
    assert_eq!(
        body,
        format!(
            "{HEADER}\
             ana,TIKTOK,\"'=HYPERLINK(\"\"http://x\"\")\",ana@example.com,\"food, travel\",1200,VIP;-cold\n\
             ben,YOUTUBE,,,,,VIP\n\
             cy,X,,,'+tech,,\n"
        )
    );

    let members = export_job(&app, json!({ "format": "JSONL", "segmentId": cold })).await;
    let (status, media, body) =
        download(&addr, Some(&key), members["job"]["url"].as_str().unwrap()).await;
    assert_eq!(
        (status, media.as_str()),
        (StatusCode::OK, "application/jsonl; charset=utf-8")
    );
    let lines: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        lines,
        vec![json!({
            "handle": "ana", "platform": "TIKTOK", "displayName": "=HYPERLINK(\"http://x\")",
            "email": "ana@example.com", "niche": "food, travel", "followerCount": 1200,
            "segments": ["VIP", "-cold"],
        })]
    );

    let unassigned = export_job(&app, json!({ "format": "CSV", "unassigned": true })).await;
    assert_eq!(unassigned["job"]["rowCount"], json!(1));
    let (_, _, body) = download(
        &addr,
        Some(&key),
        unassigned["job"]["url"].as_str().unwrap(),
    )
    .await;
    assert_eq!(body, format!("{HEADER}cy,X,,,'+tech,,\n"));

    let recipients = export_job(
        &app,
        json!({ "format": "CSV", "campaignRecipientsOf": campaign }),
    )
    .await;
    let (_, _, body) = download(
        &addr,
        Some(&key),
        recipients["job"]["url"].as_str().unwrap(),
    )
    .await;
    let handles: Vec<&str> = body
        .lines()
        .skip(1)
        .map(|l| l.split(',').next().unwrap())
        .collect();
    assert_eq!(handles, ["ana", "ben"]);

    // The job reads back by id and through `node`.
    let id = members["job"]["id"].clone();
    let read = app
        .data(
            "query($id: ID!) { exportJob(id: $id) { id format rowCount } node(id: $id) { ... on ExportJob { status } } }",
            json!({ "id": id }),
        )
        .await;
    assert_eq!(
        read,
        json!({ "exportJob": { "id": id, "format": "JSONL", "rowCount": 1 }, "node": { "status": "SUCCEEDED" } })
    );
    // An empty scope is a header alone.
    let empty_segment = app.create_segment("Empty").await;
    let empty = export_job(&app, json!({ "format": "CSV", "segmentId": empty_segment })).await;
    let (_, _, body) = download(&addr, Some(&key), empty["job"]["url"].as_str().unwrap()).await;
    assert_eq!(body, HEADER);
}

#[tokio::test]
async fn bad_input_is_refused_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let (vip, _, campaign) = roster(&app).await;
    let cases = [
        (
            json!({ "format": "CSV", "segmentId": vip, "unassigned": true }),
            vec![("input", "INVALID")],
        ),
        (
            json!({ "format": "CSV", "segmentId": vip, "campaignRecipientsOf": campaign }),
            vec![("input", "INVALID")],
        ),
        (
            json!({ "format": "CSV", "segmentId": campaign, "campaignRecipientsOf": "nope" }),
            vec![
                ("input.segmentId", "INVALID"),
                ("input.campaignRecipientsOf", "INVALID"),
            ],
        ),
        (
            json!({ "format": "CSV", "segmentId": unknown_id(Kind::Segment) }),
            vec![("input.segmentId", "NOT_FOUND")],
        ),
        (
            json!({ "format": "JSONL", "campaignRecipientsOf": unknown_id(Kind::Campaign) }),
            vec![("input.campaignRecipientsOf", "NOT_FOUND")],
        ),
    ];
    for (input, expected) in cases {
        let payload = export_job(&app, input.clone()).await;
        assert_eq!(payload["job"], Value::Null, "{input}");
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(p, c)| (p.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(paths_and_codes(&payload["userErrors"]), expected, "{input}");
    }
    assert_eq!(app.count_rows("export_job").await, 0);
}

#[tokio::test]
async fn a_download_needs_a_key_of_the_jobs_workspace_and_ends_with_the_job() {
    let app = TestApp::spawn().await;
    let (vip, _, _) = roster(&app).await;
    let addr = app.serve(&HttpConfig::default()).await;
    let key = app.api_key().await;
    let job = export_job(&app, json!({ "format": "CSV", "segmentId": vip })).await["job"].clone();
    let url = job["url"].as_str().unwrap().to_owned();

    let code = |body: &str| -> Value {
        serde_json::from_str::<Value>(body).unwrap()["errors"][0]["extensions"]["code"].clone()
    };
    let (status, _, body) = download(&addr, None, &url).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::UNAUTHORIZED, json!("UNAUTHENTICATED"))
    );

    let other = auth::create_workspace(&app.db, "Other agency")
        .await
        .unwrap();
    let other_key = auth::create_key(&app.db, WorkspaceId(other.id), "theirs")
        .await
        .unwrap()
        .secret;
    let (status, _, body) = download(&addr, Some(&other_key), &url).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::NOT_FOUND, json!("DOWNLOAD_NOT_FOUND"))
    );
    for path in ["/exports/not-an-id", &format!("/exports/{vip}")] {
        let (status, _, body) = download(&addr, Some(&key), path).await;
        assert_eq!(
            (status, code(&body)),
            (StatusCode::NOT_FOUND, json!("DOWNLOAD_NOT_FOUND")),
            "{path}"
        );
    }

    // Past its time the job stays, without a URL, and its download is gone.
    app.db
        .execute_unprepared("UPDATE export_job SET expires_at = created_at")
        .await
        .unwrap();
    let (status, _, body) = download(&addr, Some(&key), &url).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::GONE, json!("DOWNLOAD_EXPIRED"))
    );
    let read = app
        .data(
            "query($id: ID!) { exportJob(id: $id) { url } }",
            json!({ "id": job["id"] }),
        )
        .await;
    assert_eq!(read, json!({ "exportJob": { "url": null } }));

    // A job goes with the segment it exports.
    common::delete_segment(&app, &vip).await;
    assert_eq!(app.count_rows("export_job").await, 0);
}

/// Every chunk of an export of `what` from `ws` on `db`, gathered; and how many rows they said
/// they held.
async fn gather(
    db: &sea_orm::DatabaseConnection,
    ws: WorkspaceId,
    what: ExportScope,
    format: entity::enums::ExportFormat,
) -> (String, u64) {
    let mut chunks = export::stream_scope(db.clone(), ws, format, what);
    let (mut bytes, mut rows) = (Vec::new(), 0);
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk.expect("a chunk");
        rows += chunk.rows;
        bytes.extend(chunk.bytes);
    }
    (String::from_utf8(bytes).unwrap(), rows)
}

/// Handles and segment lists of the workspace's influencers in id order, read directly.
async fn stored(app: &TestApp) -> Vec<(String, String)> {
    let backend = app.db.get_database_backend();
    let aggregate = match backend {
        sea_orm::DatabaseBackend::Postgres => "string_agg(s.name, ';' ORDER BY s.id)",
        _ => "group_concat(s.name, ';')",
    };
    let rows = app
        .db
        .query_all_raw(Statement::from_string(
            backend,
            format!(
                "SELECT i.handle AS handle, COALESCE((SELECT {aggregate} FROM (SELECT s.id, s.name FROM segment_membership m JOIN segment s ON s.id = m.segment_id WHERE m.influencer_id = i.id ORDER BY s.id) s), '') AS segments FROM influencer i ORDER BY i.id"
            ),
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|r| {
            (
                r.try_get("", "handle").unwrap(),
                r.try_get("", "segments").unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_large_export_is_whole_in_key_order_and_read_from_one_snapshot() {
    let app = TestApp::spawn().await;
    segments_api::cli::seed::seed(&app.db, app.workspace, 6_000)
        .await
        .unwrap();
    let expected = stored(&app).await;
    assert_eq!(expected.len(), 6_000);

    // The reading is held back by the client: after the first chunk, far fewer rows than the
    // roster's have been read. A change made then is not in the file.
    let mut chunks = export::stream_scope(
        app.db.clone(),
        app.workspace,
        entity::enums::ExportFormat::Csv,
        ExportScope::Roster,
    );
    let first = chunks.recv().await.unwrap().unwrap();
    app.db
        .execute_unprepared("UPDATE influencer SET handle = 'changed' || handle")
        .await
        .unwrap();
    let (mut bytes, mut rows) = (first.bytes, first.rows);
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk.unwrap();
        rows += chunk.rows;
        bytes.extend(chunk.bytes);
    }
    assert_eq!(rows, 6_000);
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let written: Vec<(String, String)> = reader
        .records()
        .map(|r| {
            let r = r.unwrap();
            let unguard = |cell: &str| segments_api::service::import::unguard_cell(cell).to_owned();
            (unguard(&r[0]), unguard(&r[6]))
        })
        .collect();
    assert_eq!(written, expected);

    // After the change, a new download reads the new handles.
    let (text, rows) = gather(
        &app.db,
        app.workspace,
        ExportScope::Roster,
        entity::enums::ExportFormat::Jsonl,
    )
    .await;
    assert_eq!(rows, 6_000);
    assert!(text.lines().all(|l| l.contains("\"handle\":\"changed")));
}

#[tokio::test]
async fn the_command_line_writes_the_same_file() {
    let (url, _dir) = common::fresh_database_url().await;
    let db = segments_api::db::connect(&url).await.unwrap();
    segments_api::db::migrate(&db).await.unwrap();
    let ws = segments_api::service::reads::default_workspace(&db)
        .await
        .unwrap();
    let name = entity::workspace::Entity::find_by_id(ws.0)
        .one(&db)
        .await
        .unwrap()
        .unwrap()
        .name;
    segments_api::cli::seed::seed(&db, ws, 300).await.unwrap();
    let segment = entity::segment::Entity::find()
        .one(&db)
        .await
        .unwrap()
        .unwrap();
    let run = |args: &[&str]| {
        let output = std::process::Command::new(common::process::BIN)
            .arg("export")
            .args(["--workspace", &name])
            .args(args)
            .env("DATABASE_URL", &url)
            .output()
            .expect("run segments-api export");
        (
            output.status.success(),
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    use entity::enums::ExportFormat::{Csv, Jsonl};
    let cases: [(Vec<&str>, ExportScope, _); 3] = [
        (vec![], ExportScope::Roster, Csv),
        (
            vec!["--segment", &segment.name, "--format", "jsonl"],
            ExportScope::Segment(segment.id),
            Jsonl,
        ),
        (vec!["--unassigned"], ExportScope::Unassigned, Csv),
    ];
    for (args, what, format) in cases {
        let (ok, stdout, stderr) = run(&args);
        assert!(ok, "{args:?}: {stderr}");
        assert_eq!(stdout, gather(&db, ws, what, format).await.0, "{args:?}");
        assert!(stderr.contains("exported"), "{stderr}");
    }
    let (ok, stdout, stderr) = run(&["--segment", "No such segment"]);
    assert!(!ok);
    assert_eq!(stdout, "");
    assert!(
        stderr.contains("no segment is named \"No such segment\""),
        "{stderr}"
    );
}
