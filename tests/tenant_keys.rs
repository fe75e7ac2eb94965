//! The database itself keeps every row within its workspace: on every tenant table (found in the
//! catalog: every table with a `workspace_id` column) the primary key and every unique index lead
//! with `workspace_id`, and every reference to another tenant table is composite,
//! `(workspace_id, x_id) -> x (workspace_id, id)`, so a row naming another workspace's row is
//! refused. Also the migration that brought existing databases there, with their data, and back.

mod common;

use std::collections::BTreeSet;

use migration::{Migrator, MigratorTrait};
use pretty_assertions::assert_eq;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};

/// The migration under test.
const WORKSPACE_KEYS: &str = "m20261202_000001_workspace_keys";

/// Unique indexes of tenant tables that are global on purpose: an API key is looked up by its
/// hash, and revoked by its prefix, before its workspace is known. `api_key` is small and read by
/// every request; distributed by workspace it would be a reference table, copied to every node,
/// where such indexes hold.
const GLOBAL_LOOKUPS: [(&str, &[&str]); 2] = [("api_key", &["key_hash"]), ("api_key", &["prefix"])];

/// A primary key or unique index.
#[derive(Debug)]
struct Key {
    table: String,
    name: String,
    primary: bool,
    columns: Vec<String>,
}

/// A foreign key.
#[derive(Debug)]
struct Reference {
    table: String,
    name: String,
    parent: String,
    columns: Vec<String>,
    parent_columns: Vec<String>,
    /// The columns a delete of the parent sets to null: `None` when it does not.
    set_null: Option<Vec<String>>,
}

/// What the catalog says about keys, read the same way on both backends.
#[derive(Debug)]
struct Catalog {
    /// Every table with a `workspace_id` column.
    tenant: BTreeSet<String>,
    keys: Vec<Key>,
    references: Vec<Reference>,
    /// SQLite: the tables whose primary key is `id INTEGER`, the rowid.
    rowid_keyed: BTreeSet<String>,
}

fn list(text: &str) -> Vec<String> {
    if text.is_empty() {
        Vec::new()
    } else {
        text.split(',').map(str::to_owned).collect()
    }
}

async fn rows(db: &DatabaseConnection, sql: &str) -> Vec<sea_orm::QueryResult> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        sql.to_owned(),
    ))
    .await
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

fn text(row: &sea_orm::QueryResult, column: &str) -> String {
    row.try_get::<String>("", column)
        .unwrap_or_else(|e| panic!("{column}: {e}"))
}

async fn catalog(db: &DatabaseConnection) -> Catalog {
    match db.get_database_backend() {
        DatabaseBackend::Sqlite => sqlite_catalog(db).await,
        _ => postgres_catalog(db).await,
    }
}

async fn postgres_catalog(db: &DatabaseConnection) -> Catalog {
    let tenant = rows(
        db,
        "SELECT table_name::text AS t FROM information_schema.columns \
         WHERE table_schema = current_schema() AND column_name = 'workspace_id'",
    )
    .await
    .iter()
    .map(|r| text(r, "t"))
    .collect();
    let keys = rows(
        db,
        "SELECT t.relname::text AS t, i.relname::text AS name, x.indisprimary AS pk, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.o) \
          FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(n, o) \
          JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.n) AS cols \
         FROM pg_index x JOIN pg_class t ON t.oid = x.indrelid \
         JOIN pg_class i ON i.oid = x.indexrelid \
         WHERE x.indisunique AND t.relnamespace = current_schema()::regnamespace",
    )
    .await
    .iter()
    .map(|r| Key {
        table: text(r, "t"),
        name: text(r, "name"),
        primary: r.try_get("", "pk").unwrap(),
        columns: list(&text(r, "cols")),
    })
    .collect();
    // `confdelsetcols` (PostgreSQL 15): the columns `SET NULL (...)` names; empty means all.
    let references = rows(
        db,
        "SELECT c.conrelid::regclass::text AS t, c.conname::text AS name, \
         c.confrelid::regclass::text AS parent, c.confdeltype::text AS action, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.o) \
          FROM unnest(c.conkey) WITH ORDINALITY AS k(n, o) \
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n) AS cols, \
         (SELECT string_agg(a.attname::text, ',' ORDER BY k.o) \
          FROM unnest(c.confkey) WITH ORDINALITY AS k(n, o) \
          JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n) AS parent_cols, \
         COALESCE((SELECT string_agg(a.attname::text, ',' ORDER BY k.o) \
          FROM unnest(c.confdelsetcols) WITH ORDINALITY AS k(n, o) \
          JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n), '') AS set_cols \
         FROM pg_constraint c \
         WHERE c.contype = 'f' AND c.connamespace = current_schema()::regnamespace",
    )
    .await
    .iter()
    .map(|r| {
        let columns = list(&text(r, "cols"));
        let set_null = (text(r, "action") == "n").then(|| {
            let named = list(&text(r, "set_cols"));
            if named.is_empty() {
                columns.clone()
            } else {
                named
            }
        });
        Reference {
            table: text(r, "t"),
            name: text(r, "name"),
            parent: text(r, "parent"),
            parent_columns: list(&text(r, "parent_cols")),
            columns,
            set_null,
        }
    })
    .collect();
    Catalog {
        tenant,
        keys,
        references,
        rowid_keyed: BTreeSet::new(),
    }
}

async fn sqlite_catalog(db: &DatabaseConnection) -> Catalog {
    let tenant: BTreeSet<String> = rows(
        db,
        "SELECT m.name AS t FROM sqlite_master m WHERE m.type = 'table' \
         AND EXISTS (SELECT 1 FROM pragma_table_info(m.name) WHERE name = 'workspace_id')",
    )
    .await
    .iter()
    .map(|r| text(r, "t"))
    .collect();
    let tables: Vec<String> = rows(
        db,
        "SELECT name AS t FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
    )
    .await
    .iter()
    .map(|r| text(r, "t"))
    .collect();
    let mut keys = Vec::new();
    let mut references = Vec::new();
    let mut rowid_keyed = BTreeSet::new();
    for table in &tables {
        // The primary key as declared (a rowid key has no index of its own).
        let primary: Vec<String> = rows(
            db,
            &format!(
                "SELECT name AS c, type AS ty FROM pragma_table_info('{table}') \
                 WHERE pk > 0 ORDER BY pk"
            ),
        )
        .await
        .iter()
        .map(|r| {
            if text(r, "ty").eq_ignore_ascii_case("integer") {
                rowid_keyed.insert(table.clone());
            }
            text(r, "c")
        })
        .collect();
        if primary.len() != 1 {
            rowid_keyed.remove(table);
        }
        if !primary.is_empty() {
            keys.push(Key {
                table: table.clone(),
                name: "PRIMARY KEY".to_owned(),
                primary: true,
                columns: primary,
            });
        }
        for index in rows(
            db,
            &format!("SELECT name, origin FROM pragma_index_list('{table}') WHERE \"unique\" = 1"),
        )
        .await
        {
            let name = text(&index, "name");
            let columns = rows(
                db,
                &format!("SELECT name AS c FROM pragma_index_info('{name}') ORDER BY seqno"),
            )
            .await
            .iter()
            .map(|r| text(r, "c"))
            .collect();
            // The primary key's own index, when it has one, is the key above.
            if text(&index, "origin") != "pk" {
                keys.push(Key {
                    table: table.clone(),
                    name,
                    primary: false,
                    columns,
                });
            }
        }
        let list = rows(
            db,
            &format!(
                "SELECT id, \"table\" AS parent, \"from\" AS c, \"to\" AS p, on_delete \
                 FROM pragma_foreign_key_list('{table}') ORDER BY id, seq"
            ),
        )
        .await;
        let mut by_id: Vec<(i64, Reference)> = Vec::new();
        for row in &list {
            let id: i64 = row.try_get("", "id").unwrap();
            if by_id.last().map(|(last, _)| *last) != Some(id) {
                by_id.push((
                    id,
                    Reference {
                        table: table.clone(),
                        name: format!("foreign key {id}"),
                        parent: text(row, "parent"),
                        columns: Vec::new(),
                        parent_columns: Vec::new(),
                        set_null: (text(row, "on_delete") == "SET NULL").then(Vec::new),
                    },
                ));
            }
            let reference = &mut by_id.last_mut().unwrap().1;
            reference.columns.push(text(row, "c"));
            reference.parent_columns.push(text(row, "p"));
            if let Some(set) = reference.set_null.as_mut() {
                // SQLite's SET NULL nulls every column of the key.
                set.push(text(row, "c"));
            }
        }
        references.extend(by_id.into_iter().map(|(_, r)| r));
    }
    Catalog {
        tenant,
        keys,
        references,
        rowid_keyed,
    }
}

/// Every way the catalog breaks the rule, in words; empty when it holds.
fn violations(catalog: &Catalog) -> Vec<String> {
    let leads = |columns: &[String]| columns.first().map(String::as_str) == Some("workspace_id");
    let mut found = Vec::new();
    for table in &catalog.tenant {
        let keys: Vec<&Key> = catalog.keys.iter().filter(|k| &k.table == table).collect();
        match keys.iter().find(|k| k.primary) {
            None => found.push(format!("{table} has no primary key")),
            Some(key) if leads(&key.columns) => {}
            // SQLite: `id INTEGER PRIMARY KEY` is the rowid, which numbers new rows; a
            // composite key would leave `id` unnumbered. The key that leads with the workspace
            // is then the unique (workspace_id, id), which references point to.
            Some(key)
                if catalog.rowid_keyed.contains(table)
                    && key.columns == ["id"]
                    && keys
                        .iter()
                        .any(|k| !k.primary && k.columns == ["workspace_id", "id"]) => {}
            Some(key) => found.push(format!(
                "{table}: primary key ({}) does not lead with workspace_id",
                key.columns.join(", ")
            )),
        }
        for key in keys.iter().filter(|k| !k.primary) {
            let global = GLOBAL_LOOKUPS
                .iter()
                .any(|(t, columns)| t == table && key.columns == *columns);
            if !global && !leads(&key.columns) {
                found.push(format!(
                    "{table}: unique index {} ({}) does not lead with workspace_id",
                    key.name,
                    key.columns.join(", ")
                ));
            }
        }
    }
    for r in &catalog.references {
        if !catalog.tenant.contains(&r.table) || !catalog.tenant.contains(&r.parent) {
            continue;
        }
        if !leads(&r.columns) || !leads(&r.parent_columns) || r.columns.len() < 2 {
            found.push(format!(
                "{}: {} ({}) -> {} ({}) is not a composite key leading with workspace_id",
                r.table,
                r.name,
                r.columns.join(", "),
                r.parent,
                r.parent_columns.join(", ")
            ));
        }
        if r.set_null
            .as_ref()
            .is_some_and(|set| set.iter().any(|c| c == "workspace_id"))
        {
            found.push(format!(
                "{}: {} -> {} sets workspace_id to null on delete",
                r.table, r.name, r.parent
            ));
        }
    }
    found.sort();
    found
}

/// The schema as text, sorted: tables, columns, keys, indexes, triggers and constraints.
async fn schema(db: &DatabaseConnection) -> Vec<String> {
    let queries: &[&str] = match db.get_database_backend() {
        DatabaseBackend::Sqlite => &[
            "SELECT type || ' ' || name || ' on ' || tbl_name || ': ' || \
             COALESCE(sql, '') AS s FROM sqlite_master",
        ],
        _ => &[
            "SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable \
             || ' ' || is_identity || ' ' || COALESCE(column_default, '') AS s \
             FROM information_schema.columns WHERE table_schema = current_schema()",
            "SELECT conrelid::regclass::text || ' ' || conname || ' ' || \
             pg_get_constraintdef(oid) AS s FROM pg_constraint \
             WHERE connamespace = current_schema()::regnamespace",
            "SELECT pg_get_indexdef(indexrelid) AS s FROM pg_index x \
             JOIN pg_class t ON t.oid = x.indrelid \
             WHERE t.relnamespace = current_schema()::regnamespace",
        ],
    };
    let mut all = Vec::new();
    for query in queries {
        all.extend(rows(db, query).await.iter().map(|r| text(r, "s")));
    }
    all.sort();
    all
}

/// A fresh database migrated through `last` (every migration when `None`), and the directory
/// that holds it on SQLite.
async fn migrated_through(last: Option<&str>) -> (DatabaseConnection, Option<tempfile::TempDir>) {
    let (url, dir) = common::fresh_database_url().await;
    let db = common::one_connection(&url).await;
    let steps = last.map(|name| {
        Migrator::migrations()
            .iter()
            .position(|m| m.name() == name)
            .expect("the migration is registered") as u32
            + 1
    });
    Migrator::up(&db, steps).await.expect("migrate");
    (db, dir)
}

/// The names of the migrations from `first` on, in order: what is pending once `first` is.
fn pending_from(first: &str) -> Vec<String> {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let at = names.iter().position(|n| n == first).expect("registered");
    names[at..].to_vec()
}

/// The migration before the one under test.
fn previous_migration() -> String {
    let names: Vec<String> = Migrator::migrations()
        .iter()
        .map(|m| m.name().to_owned())
        .collect();
    let at = names
        .iter()
        .position(|n| n == WORKSPACE_KEYS)
        .expect("the migration is registered");
    names[at - 1].clone()
}

#[tokio::test]
async fn every_tenant_key_and_reference_leads_with_workspace_id() {
    let (db, _dir) = migrated_through(None).await;
    let catalog = catalog(&db).await;
    // The catalog is read at all: the tables the application knows are found in it.
    for table in [
        "influencer",
        "segment",
        "campaign",
        "campaign_audience",
        "automation",
        "engagement_event",
        "segment_membership",
        "api_key",
        "segment_membership_change",
        "membership_history_head",
    ] {
        assert!(catalog.tenant.contains(table), "{table}: {catalog:#?}");
    }
    assert!(
        catalog
            .references
            .iter()
            .any(|r| r.table == "segment_membership" && r.parent == "automation"),
        "{catalog:#?}"
    );
    assert_eq!(violations(&catalog), Vec::<String>::new(), "{catalog:#?}");
}

#[tokio::test]
async fn the_check_finds_the_single_column_keys_of_the_previous_layout() {
    let (db, _dir) = migrated_through(Some(&previous_migration())).await;
    let found = violations(&catalog(&db).await);
    for expected in [
        "influencer: primary key (id) does not lead with workspace_id",
        "segment_membership: primary key (segment_id, influencer_id) does not lead with workspace_id",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected}: {found:#?}"
        );
    }
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("segment_membership:") && f.contains("-> automation (id)")),
        "{found:#?}"
    );
}

async fn insert_id(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("{sql} RETURNING id"),
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .expect("a row");
    row.try_get("", "id").unwrap()
}

async fn execute(db: &DatabaseConnection, sql: &str) -> Result<(), DbErr> {
    db.execute_unprepared(sql).await.map(|_| ())
}

/// One workspace's rows: ids of a campaign, two segments, an influencer and an automation.
struct Rows {
    ws: i64,
    campaign: i64,
    segment: i64,
    other_segment: i64,
    influencer: i64,
    automation: i64,
}

async fn workspace_rows(db: &DatabaseConnection, name: &str) -> Rows {
    let ws = insert_id(
        db,
        &format!("INSERT INTO workspace (name) VALUES ('{name}')"),
    )
    .await;
    let campaign = insert_id(
        db,
        &format!(
            "INSERT INTO campaign (workspace_id, name, status, created_at) \
             VALUES ({ws}, 'Launch', 'DRAFT', CURRENT_TIMESTAMP)"
        ),
    )
    .await;
    let mut segments = Vec::new();
    for segment in ["Target", "Other"] {
        segments.push(
            insert_id(
                db,
                &format!(
                    "INSERT INTO segment (workspace_id, name, name_key, created_at) \
                     VALUES ({ws}, '{segment}', '{}', CURRENT_TIMESTAMP)",
                    segment.to_lowercase()
                ),
            )
            .await,
        );
    }
    let influencer = insert_id(
        db,
        &format!(
            "INSERT INTO influencer (workspace_id, handle, handle_key, platform, created_at) \
             VALUES ({ws}, 'ana', 'ana', 'TIKTOK', CURRENT_TIMESTAMP)"
        ),
    )
    .await;
    let automation = insert_id(
        db,
        &format!(
            "INSERT INTO automation (workspace_id, campaign_id, \"trigger\", action, segment_id, \
             enabled, created_at) VALUES ({ws}, {campaign}, 'EMAIL_REPLIED', \
             'ASSIGN_TO_SEGMENT', {}, TRUE, CURRENT_TIMESTAMP)",
            segments[0]
        ),
    )
    .await;
    Rows {
        ws,
        campaign,
        segment: segments[0],
        other_segment: segments[1],
        influencer,
        automation,
    }
}

fn membership(ws: i64, segment: i64, influencer: i64, automation: Option<i64>) -> String {
    let (source, automation) = match automation {
        Some(id) => ("AUTOMATION", id.to_string()),
        None => ("MANUAL", "NULL".to_owned()),
    };
    format!(
        "INSERT INTO segment_membership (segment_id, influencer_id, workspace_id, assigned_at, \
         source, automation_id) VALUES ({segment}, {influencer}, {ws}, CURRENT_TIMESTAMP, \
         '{source}', {automation})"
    )
}

/// Rows naming another workspace's rows, each one refused.
fn cross_workspace_rows(a: &Rows, b: &Rows) -> Vec<(&'static str, String)> {
    vec![
        (
            "membership of A's segment and B's influencer, in A",
            membership(a.ws, a.segment, b.influencer, None),
        ),
        (
            "the same membership, in B",
            membership(b.ws, a.segment, b.influencer, None),
        ),
        (
            "membership made by B's automation, in A",
            membership(a.ws, a.segment, a.influencer, Some(b.automation)),
        ),
        (
            "audience of A's campaign with B's segment",
            format!(
                "INSERT INTO campaign_audience (campaign_id, segment_id, workspace_id) \
                 VALUES ({}, {}, {})",
                a.campaign, b.segment, a.ws
            ),
        ),
        (
            "automation of A's campaign aimed at B's segment",
            format!(
                "INSERT INTO automation (workspace_id, campaign_id, \"trigger\", action, \
                 segment_id, enabled, created_at) VALUES ({}, {}, 'EMAIL_OPENED', \
                 'ASSIGN_TO_SEGMENT', {}, TRUE, CURRENT_TIMESTAMP)",
                a.ws, a.campaign, b.segment
            ),
        ),
        (
            "event of A's campaign for B's influencer",
            format!(
                "INSERT INTO engagement_event (workspace_id, campaign_id, influencer_id, kind, \
                 occurred_at, recorded_at) VALUES ({}, {}, {}, 'EMAIL_OPENED', \
                 CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)",
                a.ws, a.campaign, b.influencer
            ),
        ),
    ]
}

async fn assert_cross_workspace_rows_refused(db: &DatabaseConnection, a: &Rows, b: &Rows) {
    for (what, sql) in cross_workspace_rows(a, b) {
        assert!(execute(db, &sql).await.is_err(), "{what} was accepted");
    }
    // The same rows within one workspace are fine.
    execute(db, &membership(a.ws, a.other_segment, a.influencer, None))
        .await
        .expect("a membership within the workspace");
    execute(
        db,
        &format!(
            "DELETE FROM segment_membership WHERE segment_id = {}",
            a.other_segment
        ),
    )
    .await
    .unwrap();
}

#[tokio::test]
async fn the_database_refuses_rows_that_refer_to_another_workspace() {
    let (db, _dir) = migrated_through(None).await;
    let a = workspace_rows(&db, "A").await;
    let b = workspace_rows(&db, "B").await;
    assert_cross_workspace_rows_refused(&db, &a, &b).await;
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            format!("SELECT COUNT(*) AS n FROM ({sql}) AS x"),
        ))
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap();
    row.try_get("", "n").unwrap()
}

/// Deleting a row nulls the references that were SET NULL before (only the id, never the
/// workspace), and cascades the rest.
async fn assert_delete_actions(db: &DatabaseConnection, a: &Rows) {
    execute(
        db,
        &membership(a.ws, a.other_segment, a.influencer, Some(a.automation)),
    )
    .await
    .unwrap();
    // Another automation aimed at the segment, disabled.
    let aimed = insert_id(
        db,
        &format!(
            "INSERT INTO automation (workspace_id, campaign_id, \"trigger\", action, segment_id, \
             enabled, created_at) VALUES ({}, {}, 'LINK_CLICKED', 'ASSIGN_TO_SEGMENT', {}, \
             FALSE, CURRENT_TIMESTAMP)",
            a.ws, a.campaign, a.segment
        ),
    )
    .await;
    // An enabled automation's segment cannot go (the rule that it has one holds).
    assert!(
        execute(db, &format!("DELETE FROM segment WHERE id = {}", a.segment))
            .await
            .is_err()
    );
    execute(
        db,
        &format!(
            "UPDATE automation SET enabled = FALSE WHERE id = {}",
            a.automation
        ),
    )
    .await
    .unwrap();
    execute(db, &format!("DELETE FROM segment WHERE id = {}", a.segment))
        .await
        .unwrap();
    assert_eq!(
        count(
            db,
            &format!(
                "SELECT id FROM automation WHERE id IN ({}, {aimed}) AND segment_id IS NULL \
                 AND workspace_id = {}",
                a.automation, a.ws
            )
        )
        .await,
        2
    );
    // Deleting the campaign deletes its automations, whose memberships stay, made by none.
    execute(
        db,
        &format!("DELETE FROM campaign WHERE id = {}", a.campaign),
    )
    .await
    .unwrap();
    assert_eq!(
        count(
            db,
            &format!(
                "SELECT 1 FROM segment_membership WHERE segment_id = {} AND influencer_id = {} \
                 AND workspace_id = {} AND source = 'AUTOMATION' AND automation_id IS NULL",
                a.other_segment, a.influencer, a.ws
            )
        )
        .await,
        1
    );
    // Deleting the influencer deletes its memberships.
    execute(
        db,
        &format!("DELETE FROM influencer WHERE id = {}", a.influencer),
    )
    .await
    .unwrap();
    assert_eq!(
        count(
            db,
            &format!(
                "SELECT 1 FROM segment_membership WHERE influencer_id = {}",
                a.influencer
            )
        )
        .await,
        0
    );
}

#[tokio::test]
async fn deletes_null_or_cascade_as_before() {
    let (db, _dir) = migrated_through(None).await;
    let a = workspace_rows(&db, "A").await;
    assert_delete_actions(&db, &a).await;
}

/// Every row of every table as text, columns by name, rows in order: what the migration must
/// keep.
async fn snapshot(db: &DatabaseConnection) -> Vec<(String, Vec<Vec<Option<String>>>)> {
    let tables = [
        "workspace",
        "influencer",
        "segment",
        "campaign",
        "campaign_audience",
        "automation",
        "engagement_event",
        "segment_membership",
        "api_key",
    ];
    let mut all = Vec::new();
    for table in tables {
        let columns: Vec<String> = match db.get_database_backend() {
            DatabaseBackend::Sqlite => {
                rows(
                    db,
                    &format!("SELECT name AS c FROM pragma_table_info('{table}')"),
                )
                .await
            }
            _ => {
                rows(
                    db,
                    &format!(
                        "SELECT column_name::text AS c FROM information_schema.columns \
                         WHERE table_schema = current_schema() AND table_name = '{table}'"
                    ),
                )
                .await
            }
        }
        .iter()
        .map(|r| text(r, "c"))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
        let select: Vec<String> = columns
            .iter()
            .map(|c| format!("CAST(\"{c}\" AS TEXT) AS \"{c}\""))
            .collect();
        let order: Vec<String> = columns.iter().map(|c| format!("\"{c}\"")).collect();
        let table_rows = rows(
            db,
            &format!(
                "SELECT {} FROM {table} ORDER BY {}",
                select.join(", "),
                order.join(", ")
            ),
        )
        .await
        .iter()
        .map(|r| {
            columns
                .iter()
                .map(|c| r.try_get::<Option<String>>("", c).unwrap())
                .collect()
        })
        .collect();
        all.push((format!("{table} ({})", columns.join(", ")), table_rows));
    }
    all
}

/// Two workspaces of rows of every kind, as the previous version made them: manual and
/// automation-made memberships, one whose automation was deleted, audiences, events, keys.
async fn seed_previous_layout(db: &DatabaseConnection) -> (Rows, Rows) {
    let a = workspace_rows(db, "A").await;
    let b = workspace_rows(db, "B").await;
    for rows in [&a, &b] {
        let second = insert_id(
            db,
            &format!(
                "INSERT INTO influencer (workspace_id, handle, handle_key, platform, \
                 display_name, display_name_key, created_at) VALUES ({}, 'Bo', 'bo', 'TWITCH', \
                 'Bo Games', 'bo games', CURRENT_TIMESTAMP)",
                rows.ws
            ),
        )
        .await;
        let gone = insert_id(
            db,
            &format!(
                "INSERT INTO automation (workspace_id, campaign_id, \"trigger\", action, \
                 segment_id, enabled, created_at) VALUES ({}, {}, 'EMAIL_OPENED', \
                 'ASSIGN_TO_SEGMENT', {}, FALSE, CURRENT_TIMESTAMP)",
                rows.ws, rows.campaign, rows.other_segment
            ),
        )
        .await;
        for sql in [
            membership(rows.ws, rows.segment, rows.influencer, None),
            membership(rows.ws, rows.segment, second, Some(rows.automation)),
            membership(rows.ws, rows.other_segment, second, Some(gone)),
            format!(
                "INSERT INTO campaign_audience (campaign_id, segment_id, workspace_id) \
                 VALUES ({}, {}, {})",
                rows.campaign, rows.segment, rows.ws
            ),
            format!(
                "INSERT INTO engagement_event (workspace_id, campaign_id, influencer_id, kind, \
                 occurred_at, external_id, recorded_at) VALUES ({ws}, {c}, {i}, \
                 'EMAIL_REPLIED', CURRENT_TIMESTAMP, 'msg-{ws}', CURRENT_TIMESTAMP)",
                ws = rows.ws,
                c = rows.campaign,
                i = second
            ),
            format!(
                "INSERT INTO api_key (workspace_id, label, prefix, key_hash, created_at) \
                 VALUES ({ws}, 'web', 'sk_{ws}', 'hash-{ws}', CURRENT_TIMESTAMP)",
                ws = rows.ws
            ),
            // The newest automation goes: its id must not be handed out again.
            format!("DELETE FROM automation WHERE id = {gone}"),
        ] {
            execute(db, &sql)
                .await
                .unwrap_or_else(|e| panic!("{sql}: {e}"));
        }
    }
    (a, b)
}

/// The highest automation id, and the id the next automation gets (inserted, then removed).
async fn next_automation_id(db: &DatabaseConnection, rows: &Rows) -> (i64, i64) {
    let max = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT MAX(id) AS n FROM automation".to_owned(),
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get::<i64>("", "n")
        .unwrap();
    let next = insert_id(
        db,
        &format!(
            "INSERT INTO automation (workspace_id, campaign_id, \"trigger\", action, segment_id, \
             enabled, created_at) VALUES ({}, {}, 'EMAIL_OPENED', 'ASSIGN_TO_SEGMENT', NULL, \
             FALSE, CURRENT_TIMESTAMP)",
            rows.ws, rows.campaign
        ),
    )
    .await;
    execute(db, &format!("DELETE FROM automation WHERE id = {next}"))
        .await
        .unwrap();
    (max, next)
}

#[tokio::test]
async fn migrating_keeps_every_row_and_down_restores_the_previous_layout() {
    let (db, _dir) = migrated_through(Some(&previous_migration())).await;
    let (a, b) = seed_previous_layout(&db).await;
    let before = snapshot(&db).await;
    let previous_schema = schema(&db).await;
    // Membership sources and automations, as seeded.
    let made_by = |rows: &Rows| {
        format!(
            "SELECT 1 FROM segment_membership WHERE workspace_id = {} AND source = 'AUTOMATION' \
             AND automation_id = {}",
            rows.ws, rows.automation
        )
    };
    assert_eq!(count(&db, &made_by(&a)).await, 1);

    // This migration alone: later ones add columns of their own.
    Migrator::up(&db, Some(1)).await.expect("migrate");
    assert_eq!(snapshot(&db).await, before);
    assert_eq!(count(&db, &made_by(&a)).await, 1);
    assert_eq!(count(&db, &made_by(&b)).await, 1);
    assert_eq!(violations(&catalog(&db).await), Vec::<String>::new());
    // No id of a deleted row comes back.
    let (highest, next) = next_automation_id(&db, &a).await;
    assert!(next > highest + 1, "automation id {next} after {highest}");
    assert_cross_workspace_rows_refused(&db, &a, &b).await;
    // The rule that an enabled automation has a segment survived.
    assert!(
        execute(
            &db,
            &format!(
                "UPDATE automation SET segment_id = NULL WHERE id = {}",
                a.automation
            )
        )
        .await
        .is_err()
    );
    let after = snapshot(&db).await;

    // Down: the same rows in the previous layout.
    Migrator::down(&db, Some(1)).await.expect("roll back");
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .iter()
            .map(|m| m.name().to_owned())
            .collect::<Vec<_>>(),
        pending_from(WORKSPACE_KEYS)
    );
    assert_eq!(snapshot(&db).await, after);
    assert_eq!(schema(&db).await, previous_schema);
    assert_eq!(count(&db, &made_by(&a)).await, 1);
    assert!(
        execute(
            &db,
            &format!(
                "UPDATE automation SET segment_id = NULL WHERE id = {}",
                a.automation
            )
        )
        .await
        .is_err()
    );

    // And up again.
    Migrator::up(&db, Some(1)).await.expect("migrate again");
    assert_eq!(snapshot(&db).await, after);
    assert_eq!(violations(&catalog(&db).await), Vec::<String>::new());
    assert_cross_workspace_rows_refused(&db, &a, &b).await;
    assert_delete_actions(&db, &a).await;
    assert_eq!(count(&db, &made_by(&b)).await, 1);
}

#[tokio::test]
async fn migrating_refuses_rows_that_refer_to_another_workspace_and_changes_nothing() {
    let (db, _dir) = migrated_through(Some(&previous_migration())).await;
    let (a, b) = seed_previous_layout(&db).await;
    // The previous layout let this through.
    execute(&db, &membership(a.ws, a.other_segment, b.influencer, None))
        .await
        .expect("the previous layout accepts it");
    let before = snapshot(&db).await;

    let error = Migrator::up(&db, None)
        .await
        .expect_err("the migration refuses")
        .to_string();
    assert!(
        error.contains(
            "1 segment_membership.influencer_id referring to another workspace's influencer"
        ),
        "{error}"
    );
    assert_eq!(snapshot(&db).await, before);
    assert_eq!(
        Migrator::get_pending_migrations(&db)
            .await
            .unwrap()
            .first()
            .map(|m| m.name().to_owned())
            .as_deref(),
        Some(WORKSPACE_KEYS)
    );
}
