//! The keys that names and handles are unique on, the characters they may hold, and the
//! case-insensitive search: one rule on SQLite and PostgreSQL (Unicode case folding and NFC,
//! computed by the server), and the migration that recomputes the keys of existing rows.

mod common;

use async_graphql::{Request, Variables};
use common::TestApp;
use migration::{Migrator, MigratorTrait};
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use segments_api::{db, graphql::build_schema, service::reads::default_workspace};
use serde_json::{Value, json};

const CREATE_SEGMENT: &str = "mutation($input: CreateSegmentInput!) { createSegment(input: $input) { segment { id name } userErrors { field code message } } }";
const UPDATE_SEGMENT: &str = "mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) { segment { name } userErrors { field code message } } }";
const CREATE_INFLUENCER: &str = "mutation($input: CreateInfluencerInput!) { createInfluencer(input: $input) { influencer { id handle } userErrors { field code message } } }";
const UPDATE_INFLUENCER: &str = "mutation($input: UpdateInfluencerInput!) { updateInfluencer(input: $input) { influencer { handle displayName } userErrors { field code message } } }";

/// `(field, code)` of each user error in a payload.
fn codes(payload: &Value) -> Vec<(Value, String)> {
    payload["userErrors"]
        .as_array()
        .expect("userErrors")
        .iter()
        .map(|e| (e["field"].clone(), e["code"].as_str().unwrap().to_owned()))
        .collect()
}

async fn create_segment(app: &TestApp, name: &str) -> Value {
    app.data(CREATE_SEGMENT, json!({ "input": { "name": name } }))
        .await["createSegment"]
        .clone()
}

async fn create_influencer(app: &TestApp, handle: &str, display_name: Option<&str>) -> Value {
    app.data(
        CREATE_INFLUENCER,
        json!({ "input": { "handle": handle, "displayName": display_name, "platform": "TIKTOK" } }),
    )
    .await["createInfluencer"]
        .clone()
}

fn created(payload: &Value) -> bool {
    payload["userErrors"] == json!([])
}

/// Asserts that `payload` refused its input with exactly one error, `code` at `field`.
fn refused(payload: &Value, field: Value, code: &str, what: &str) {
    assert_eq!(codes(payload), vec![(field, code.to_owned())], "{what}");
    let message = payload["userErrors"][0]["message"].as_str().unwrap();
    assert!(!message.trim().is_empty(), "{what}");
}

#[tokio::test]
async fn names_and_handles_of_dotted_capitals_fit_and_collide_in_another_case() {
    let app = TestApp::spawn().await;
    // "İ" lower-cases to two code points: 79 characters here were 119 in the old key, past the
    // varchar(80) it was stored in on PostgreSQL.
    let name = format!("{}{}", "İ".repeat(40), "x".repeat(39));
    assert_eq!(name.chars().count(), 79);
    let first = create_segment(&app, &name).await;
    assert!(created(&first), "{first}");
    assert_eq!(first["segment"]["name"], json!(name));
    let other_case = format!("{}{}", "İ".repeat(40), "X".repeat(39));
    let second = create_segment(&app, &other_case).await;
    refused(
        &second,
        json!(["input", "name"]),
        "NAME_TAKEN",
        "other case",
    );
    assert_eq!(app.count_rows("segment").await, 1);

    // Handles: 100 characters, half of them dotted capitals.
    let handle = format!("{}{}", "İ".repeat(50), "a".repeat(50));
    let first = create_influencer(&app, &handle, None).await;
    assert!(created(&first), "{first}");
    assert_eq!(first["influencer"]["handle"], json!(handle));
    let other_case = format!("{}{}", "İ".repeat(50), "A".repeat(50));
    let second = create_influencer(&app, &other_case, None).await;
    refused(
        &second,
        json!(["input", "handle"]),
        "NAME_TAKEN",
        "other case",
    );
    assert_eq!(app.count_rows("influencer").await, 1);
}

#[tokio::test]
async fn full_case_folding_makes_strasse_and_strasse_with_sharp_s_one_name() {
    let app = TestApp::spawn().await;
    assert!(created(&create_segment(&app, "Straße Team").await));
    let second = create_segment(&app, "STRASSE TEAM").await;
    refused(&second, json!(["input", "name"]), "NAME_TAKEN", "STRASSE");
    // The other way round, and on renaming.
    assert!(created(&create_segment(&app, "GROSS").await));
    let third = create_segment(&app, "groß").await;
    refused(&third, json!(["input", "name"]), "NAME_TAKEN", "groß");
    let other = create_segment(&app, "Other").await;
    let renamed = app
        .data(
            UPDATE_SEGMENT,
            json!({ "input": { "id": other["segment"]["id"], "name": "strasse team" } }),
        )
        .await["updateSegment"]
        .clone();
    refused(&renamed, json!(["input", "name"]), "NAME_TAKEN", "rename");
    assert_eq!(app.count_rows("segment").await, 3);

    assert!(created(&create_influencer(&app, "straße", None).await));
    let second = create_influencer(&app, "STRASSE", None).await;
    refused(&second, json!(["input", "handle"]), "NAME_TAKEN", "handle");
    assert_eq!(app.count_rows("influencer").await, 1);
}

#[tokio::test]
async fn composed_and_decomposed_accents_are_one_name() {
    let app = TestApp::spawn().await;
    let composed = "Caf\u{e9} Owners";
    let decomposed = "Cafe\u{301} Owners";
    assert_ne!(composed, decomposed);
    assert!(created(&create_segment(&app, composed).await));
    let second = create_segment(&app, decomposed).await;
    refused(
        &second,
        json!(["input", "name"]),
        "NAME_TAKEN",
        "decomposed",
    );
    // Upper case and decomposed at once.
    let third = create_segment(&app, "CAFE\u{301} OWNERS").await;
    refused(
        &third,
        json!(["input", "name"]),
        "NAME_TAKEN",
        "upper decomposed",
    );
    assert_eq!(app.count_rows("segment").await, 1);

    assert!(created(&create_influencer(&app, "jos\u{e9}", None).await));
    let second = create_influencer(&app, "JOSE\u{301}", None).await;
    refused(&second, json!(["input", "handle"]), "NAME_TAKEN", "handle");
    assert_eq!(app.count_rows("influencer").await, 1);
}

/// Text that looks like "Creators" but holds an invisible or control character.
const HIDDEN: [(&str, &str); 9] = [
    ("zero-width space", "Crea\u{200B}tors"),
    ("zero-width joiner", "Crea\u{200D}tors"),
    ("byte order mark", "\u{FEFF}Creators"),
    ("right-to-left override", "Crea\u{202E}tors"),
    ("first strong isolate", "Crea\u{2068}tors"),
    ("word joiner", "Crea\u{2060}tors"),
    ("NUL", "Crea\u{0}tors"),
    ("bell (C0)", "Crea\u{7}tors"),
    ("next line (C1)", "Crea\u{85}tors"),
];

#[tokio::test]
async fn invisible_and_control_characters_are_refused_in_names_and_handles() {
    let app = TestApp::spawn().await;
    for (what, text) in HIDDEN {
        let segment = create_segment(&app, text).await;
        assert_eq!(segment["segment"], Value::Null, "{what}");
        refused(&segment, json!(["input", "name"]), "INVALID", what);

        let influencer = create_influencer(&app, text, None).await;
        assert_eq!(influencer["influencer"], Value::Null, "{what}");
        refused(&influencer, json!(["input", "handle"]), "INVALID", what);
    }
    assert_eq!(app.count_rows("segment").await, 0);
    assert_eq!(app.count_rows("influencer").await, 0);

    // Not on renaming either: the stored values stay as they were.
    let segment = create_segment(&app, "Creators").await;
    let influencer = create_influencer(&app, "creator", Some("Creator")).await;
    for (what, text) in HIDDEN {
        let renamed = app
            .data(
                UPDATE_SEGMENT,
                json!({ "input": { "id": segment["segment"]["id"], "name": text } }),
            )
            .await["updateSegment"]
            .clone();
        refused(&renamed, json!(["input", "name"]), "INVALID", what);
        let edited = app
            .data(
                UPDATE_INFLUENCER,
                json!({ "input": { "id": influencer["influencer"]["id"], "handle": text } }),
            )
            .await["updateInfluencer"]
            .clone();
        refused(&edited, json!(["input", "handle"]), "INVALID", what);
    }
    let stored = app
        .data(
            "{ segments { nodes { name } } influencers { nodes { handle displayName } } }",
            json!({}),
        )
        .await;
    assert_eq!(
        stored,
        json!({
            "segments": { "nodes": [{ "name": "Creators" }] },
            "influencers": { "nodes": [{ "handle": "creator", "displayName": "Creator" }] }
        })
    );
}

#[tokio::test]
async fn display_names_refuse_controls_and_direction_overrides_but_keep_emoji_joiners() {
    let app = TestApp::spawn().await;
    for (what, text) in [
        ("right-to-left override", "Ana\u{202E}"),
        ("zero-width space", "An\u{200B}a"),
        ("byte order mark", "\u{FEFF}Ana"),
        ("NUL", "An\u{0}a"),
        ("bell (C0)", "An\u{7}a"),
    ] {
        let influencer = create_influencer(&app, "ana", Some(text)).await;
        refused(
            &influencer,
            json!(["input", "displayName"]),
            "INVALID",
            what,
        );
    }
    assert_eq!(app.count_rows("influencer").await, 0);
    // Emoji sequences and Persian words are written with the zero-width (non-)joiner.
    let emoji = "Ana \u{1F469}\u{200D}\u{1F4BB}";
    let persian = "\u{645}\u{6CC}\u{200C}\u{62E}\u{648}\u{627}\u{647}\u{645}";
    for (handle, name) in [("ana", emoji), ("mina", persian)] {
        let influencer = create_influencer(&app, handle, Some(name)).await;
        assert!(created(&influencer), "{influencer}");
    }
    assert_eq!(app.count_rows("influencer").await, 2);
}

#[tokio::test]
async fn other_text_refuses_nul_and_control_characters_but_keeps_line_breaks() {
    let app = TestApp::spawn().await;
    for bad in ["a\u{0}b", "a\u{1B}[31mb"] {
        let data = app
            .data(
                CREATE_SEGMENT,
                json!({ "input": { "name": "Described", "description": bad } }),
            )
            .await["createSegment"]
            .clone();
        refused(
            &data,
            json!(["input", "description"]),
            "INVALID",
            "description",
        );
    }
    assert_eq!(app.count_rows("segment").await, 0);
    let data = app
        .data(
            CREATE_SEGMENT,
            json!({ "input": { "name": "Described", "description": "line one\nline two\tindented" } }),
        )
        .await["createSegment"]
        .clone();
    assert!(created(&data), "{data}");
}

async fn segment_search(app: &TestApp, term: &str) -> Vec<String> {
    let data = app
        .data(
            "query($q: String) { segments(search: $q) { totalCount nodes { name } } }",
            json!({ "q": term }),
        )
        .await;
    let names: Vec<String> = data["segments"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["name"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(data["segments"]["totalCount"], json!(names.len()), "{term}");
    names
}

async fn roster_search(app: &TestApp, term: &str) -> Vec<String> {
    let data = app
        .data(
            "query($q: String) { influencers(search: $q) { totalCount nodes { handle } } }",
            json!({ "q": term }),
        )
        .await;
    let handles: Vec<String> = data["influencers"]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["handle"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        data["influencers"]["totalCount"],
        json!(handles.len()),
        "{term}"
    );
    handles
}

#[tokio::test]
async fn search_ignores_case_beyond_ascii_on_both_backends() {
    let app = TestApp::spawn().await;
    for name in ["ÉTÉ Creators", "Winter", "Straße Team"] {
        assert!(created(&create_segment(&app, name).await));
    }
    assert_eq!(segment_search(&app, "été").await, vec!["ÉTÉ Creators"]);
    assert_eq!(segment_search(&app, "  ÉtÉ ").await, vec!["ÉTÉ Creators"]);
    // Decomposed accents find composed ones.
    assert_eq!(
        segment_search(&app, "e\u{301}te\u{301}").await,
        vec!["ÉTÉ Creators"]
    );
    assert_eq!(segment_search(&app, "STRASSE").await, vec!["Straße Team"]);
    assert_eq!(segment_search(&app, "ete").await, Vec::<String>::new());

    for (handle, name) in [
        ("eleve", Some("ÉLÈVE Studio")),
        ("ÉMILE", None),
        ("other", Some("Other")),
    ] {
        assert!(created(&create_influencer(&app, handle, name).await));
    }
    // Display name and handle alike.
    assert_eq!(roster_search(&app, "élève").await, vec!["eleve"]);
    assert_eq!(roster_search(&app, "émile").await, vec!["ÉMILE"]);
    assert_eq!(roster_search(&app, "É").await, vec!["eleve", "ÉMILE"]);
}

#[tokio::test]
async fn search_wildcards_are_literal() {
    let app = TestApp::spawn().await;
    for name in ["100% Real", "snake_case", "Back\\slash", "Plain"] {
        assert!(created(&create_segment(&app, name).await));
    }
    assert_eq!(segment_search(&app, "%").await, vec!["100% Real"]);
    assert_eq!(segment_search(&app, "_").await, vec!["snake_case"]);
    assert_eq!(segment_search(&app, "0%_").await, Vec::<String>::new());
    assert_eq!(segment_search(&app, "\\").await, vec!["Back\\slash"]);
    for handle in ["per%cent", "under_score", "plain"] {
        assert!(created(&create_influencer(&app, handle, None).await));
    }
    assert_eq!(roster_search(&app, "%").await, vec!["per%cent"]);
    assert_eq!(roster_search(&app, "_").await, vec!["under_score"]);
}

#[tokio::test]
async fn a_search_term_with_a_control_character_is_a_bad_user_input_and_never_a_fault() {
    let app = TestApp::spawn().await;
    assert!(created(&create_segment(&app, "Creators").await));
    assert!(created(&create_influencer(&app, "creator", None).await));
    // PostgreSQL refuses NUL in any text parameter: the term must not reach it. No stored name
    // holds a control character, so such a term is a client's mistake, and said so.
    for term in ["Crea\u{0}", "\u{0}", "a\u{1b}b", "x\u{85}y", "tab\there"] {
        for (field, query) in [
            (
                "segments",
                "query($q: String) { segments(search: $q) { totalCount nodes { name } } }",
            ),
            (
                "influencers",
                "query($q: String) { influencers(search: $q) { totalCount nodes { handle } } }",
            ),
        ] {
            let response = app.exec(query, json!({ "q": term })).await;
            assert_eq!(response["data"], Value::Null, "{term:?} {response:#}");
            let errors = response["errors"].as_array().expect("an error");
            assert_eq!(errors.len(), 1, "{response:#}");
            assert_eq!(
                errors[0]["extensions"]["code"], "BAD_USER_INPUT",
                "{response:#}"
            );
            assert_eq!(errors[0]["path"], json!([field]), "{response:#}");
            assert!(
                errors[0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("control characters"),
                "{response:#}"
            );
        }
    }
    // Terms around them still search.
    assert_eq!(segment_search(&app, "crea").await, vec!["Creators"]);
    assert_eq!(roster_search(&app, " CREATOR ").await, vec!["creator"]);
}

// ---- the migration that recomputes the keys ----

const FOLDED_KEYS: &str = "m20261201_000002_folded_keys";

/// A fresh database migrated up to (not including) the migration that folds the keys, and the
/// directory that holds it on SQLite.
async fn database_before_folded_keys() -> (DatabaseConnection, Option<tempfile::TempDir>) {
    let (url, dir) = common::fresh_database_url().await;
    let db = common::one_connection(&url).await;
    let before = Migrator::migrations()
        .iter()
        .position(|m| m.name() == FOLDED_KEYS)
        .expect("the migration is registered");
    Migrator::up(&db, Some(before as u32))
        .await
        .expect("migrate to the step before");
    let pending: Vec<String> = Migrator::get_pending_migrations(&db)
        .await
        .unwrap()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    assert_eq!(pending.first().map(String::as_str), Some(FOLDED_KEYS));
    (db, dir)
}

async fn execute(db: &DatabaseConnection, sql: &str) {
    db.execute_unprepared(sql).await.expect(sql);
}

/// Column `column` of every row of `table`, by id.
async fn column(db: &DatabaseConnection, table: &str, column: &str) -> Vec<Option<String>> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        format!("SELECT {column} AS v FROM {table} ORDER BY id"),
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| row.try_get("", "v").unwrap())
    .collect()
}

/// Runs an operation on `db` in its first workspace; returns `data`, failing on any error.
async fn data_on(db: &DatabaseConnection, query: &str, variables: Value) -> Value {
    let ws = default_workspace(db).await.unwrap();
    let request = Request::new(query).variables(Variables::from_json(variables));
    let api = build_schema(db.clone());
    let response = api.execute(api.scoped(request, ws, None)).await;
    let response = serde_json::to_value(&response).unwrap();
    assert!(response.get("errors").is_none(), "{response:#}");
    response["data"].clone()
}

/// Rows with keys as the previous version made them (Rust's `to_lowercase`), one lower-cased in
/// ASCII only (as SQLite's `LOWER` does, say by a hand-made fix), and no display name keys.
async fn insert_old_rows(db: &DatabaseConnection) {
    execute(
        db,
        "INSERT INTO segment (workspace_id, name, name_key, created_at) VALUES \
         ((SELECT MIN(id) FROM workspace), 'Straße Team', 'straße team', CURRENT_TIMESTAMP), \
         ((SELECT MIN(id) FROM workspace), 'Cafe\u{301} Owners', 'cafe\u{301} owners', CURRENT_TIMESTAMP), \
         ((SELECT MIN(id) FROM workspace), 'ÉTÉ Creators', 'ÉtÉ creators', CURRENT_TIMESTAMP), \
         ((SELECT MIN(id) FROM workspace), 'Plain', 'plain', CURRENT_TIMESTAMP)",
    )
    .await;
    execute(
        db,
        "INSERT INTO influencer (workspace_id, handle, handle_key, platform, display_name, created_at) VALUES \
         ((SELECT MIN(id) FROM workspace), 'GROẞ', 'groß', 'TIKTOK', 'ÉLÈVE Studio', CURRENT_TIMESTAMP), \
         ((SELECT MIN(id) FROM workspace), 'plain', 'plain', 'TIKTOK', NULL, CURRENT_TIMESTAMP)",
    )
    .await;
}

#[tokio::test]
async fn migrating_recomputes_the_keys_of_existing_rows() {
    let (db, _dir) = database_before_folded_keys().await;
    insert_old_rows(&db).await;
    db::migrate(&db).await.expect("migrate");

    assert_eq!(
        column(&db, "segment", "name_key").await,
        [
            "strasse team",
            "caf\u{e9} owners",
            "\u{e9}t\u{e9} creators",
            "plain"
        ]
        .map(|k| Some(k.to_owned()))
    );
    assert_eq!(
        column(&db, "influencer", "handle_key").await,
        [Some("gross".to_owned()), Some("plain".to_owned())]
    );
    assert_eq!(
        column(&db, "influencer", "display_name_key").await,
        [Some("\u{e9}l\u{e8}ve studio".to_owned()), None]
    );

    // The API sees the new keys: the other spellings collide, and searches find the old rows.
    let data = data_on(
        &db,
        CREATE_SEGMENT,
        json!({ "input": { "name": "STRASSE TEAM" } }),
    )
    .await;
    assert_eq!(
        codes(&data["createSegment"]),
        vec![(json!(["input", "name"]), "NAME_TAKEN".to_owned())]
    );
    let data = data_on(
        &db,
        CREATE_INFLUENCER,
        json!({ "input": { "handle": "gross", "platform": "TIKTOK" } }),
    )
    .await;
    assert_eq!(
        codes(&data["createInfluencer"]),
        vec![(json!(["input", "handle"]), "NAME_TAKEN".to_owned())]
    );
    let found = data_on(
        &db,
        "{ segments(search: \"été\") { nodes { name } } influencers(search: \"élève\") { nodes { handle } } }",
        json!({}),
    )
    .await;
    assert_eq!(
        found,
        json!({
            "segments": { "nodes": [{ "name": "ÉTÉ Creators" }] },
            "influencers": { "nodes": [{ "handle": "GROẞ" }] }
        })
    );
    // Names as long as allowed whose folded form is longer than the old column fit now.
    let long = format!("{}{}", "İ".repeat(40), "x".repeat(40));
    let data = data_on(&db, CREATE_SEGMENT, json!({ "input": { "name": long } })).await;
    assert_eq!(data["createSegment"]["userErrors"], json!([]), "{data}");
}

#[tokio::test]
async fn rolling_the_migration_back_restores_lower_cased_keys() {
    let (db, _dir) = database_before_folded_keys().await;
    insert_old_rows(&db).await;
    db::migrate(&db).await.expect("migrate");
    // Back to before the folded keys, through the migrations that came after them.
    let after = Migrator::migrations()
        .iter()
        .skip_while(|m| m.name() != FOLDED_KEYS)
        .count();
    Migrator::down(&db, Some(after as u32))
        .await
        .expect("roll back");
    let pending = Migrator::get_pending_migrations(&db).await.unwrap();
    assert_eq!(
        pending.first().map(|m| m.name().to_owned()).as_deref(),
        Some(FOLDED_KEYS)
    );
    // Rust's lower-casing, as the previous version made keys.
    let lower: Vec<Option<String>> = ["straße team", "cafe\u{301} owners", "été creators", "plain"]
        .map(|k| Some(k.to_owned()))
        .into();
    assert_eq!(column(&db, "segment", "name_key").await, lower);
    assert_eq!(
        column(&db, "influencer", "handle_key").await,
        [Some("groß".to_owned()), Some("plain".to_owned())]
    );
    assert!(
        db.execute_unprepared("SELECT display_name_key FROM influencer")
            .await
            .is_err(),
        "the display name key is gone"
    );
    db::migrate(&db).await.expect("migrate again");
    assert_eq!(
        column(&db, "segment", "name_key").await[0].as_deref(),
        Some("strasse team")
    );
}

#[tokio::test]
async fn migrating_refuses_rows_that_now_collide_and_changes_nothing() {
    let (db, _dir) = database_before_folded_keys().await;
    insert_old_rows(&db).await;
    // Two names the old keys told apart and the folded keys do not, and two handles likewise.
    execute(
        &db,
        "INSERT INTO segment (workspace_id, name, name_key, created_at) VALUES \
         ((SELECT MIN(id) FROM workspace), 'STRASSE TEAM', 'strasse team', CURRENT_TIMESTAMP)",
    )
    .await;
    execute(
        &db,
        "INSERT INTO influencer (workspace_id, handle, handle_key, platform, created_at) VALUES \
         ((SELECT MIN(id) FROM workspace), 'gross', 'gross', 'TIKTOK', CURRENT_TIMESTAMP)",
    )
    .await;
    let segment_keys = column(&db, "segment", "name_key").await;
    let handle_keys = column(&db, "influencer", "handle_key").await;

    let error = db::migrate(&db)
        .await
        .expect_err("colliding rows stop the migration")
        .to_string();
    for part in ["Straße Team", "STRASSE TEAM", "GROẞ", "gross", "rename"] {
        assert!(error.contains(part), "{part} in: {error}");
    }
    // Nothing was changed: the migration is still pending and the keys are the old ones.
    let pending = Migrator::get_pending_migrations(&db).await.unwrap();
    assert_eq!(
        pending.first().map(|m| m.name().to_owned()).as_deref(),
        Some(FOLDED_KEYS)
    );
    assert_eq!(column(&db, "segment", "name_key").await, segment_keys);
    assert_eq!(column(&db, "influencer", "handle_key").await, handle_keys);

    // Once one of each pair is renamed, it runs.
    execute(
        &db,
        "UPDATE segment SET name = 'Strasse Team 2', name_key = 'strasse team 2' WHERE name = 'STRASSE TEAM'",
    )
    .await;
    execute(
        &db,
        "UPDATE influencer SET handle = 'gross2', handle_key = 'gross2' WHERE handle = 'gross'",
    )
    .await;
    db::migrate(&db).await.expect("migrate after renaming");
    assert!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .is_empty()
    );
}
