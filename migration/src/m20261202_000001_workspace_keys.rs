//! The database refuses rows that refer to another workspace's rows: on every tenant table (every
//! table with a `workspace_id`) the primary key leads with `workspace_id`, and every foreign key
//! between tenant tables is composite, `(workspace_id, x_id) -> x (workspace_id, id)`, so a
//! membership, audience, automation or event can only name rows of its own workspace. Tables
//! keyed this way can also be distributed by `workspace_id` (Citus; see the README's "Scaling
//! out"), since every key and every reference then stays within one workspace.
//!
//! - **PostgreSQL**: the tables are altered in place. Primary keys become `(workspace_id, id)`
//!   (and `(workspace_id, campaign_id, segment_id)`, `(workspace_id, segment_id,
//!   influencer_id)` for the two join tables); the `id` columns keep their identity sequences,
//!   so ids stay unique across workspaces and the API's global ids do not change. The indexes on
//!   `(workspace_id, id)` that the new keys duplicate are dropped. The foreign keys keep their
//!   names and their ON DELETE actions; the two SET NULL ones null only the referring column
//!   (`ON DELETE SET NULL (segment_id)`, PostgreSQL 15 and later), never `workspace_id`.
//! - **SQLite**: a composite primary key would stop `id` being the rowid (only an `INTEGER
//!   PRIMARY KEY` is), and nothing would number new rows: ids would have to come from the
//!   application. So `id INTEGER PRIMARY KEY` stays the rowid there, and a unique index on
//!   `(workspace_id, id)` (`ux_<table>_workspace_id`) is the key the composite foreign keys
//!   point to; it replaces the plain `(workspace_id, id)` index of influencers, segments and
//!   campaigns. The join tables get the same composite primary keys as on PostgreSQL. SQLite
//!   cannot change a foreign key in place, so the four tables that hold references (automation,
//!   campaign_audience, engagement_event, segment_membership) are rebuilt with the procedure of
//!   <https://www.sqlite.org/lang_altertable.html#otheralter>: their indexes and triggers (the
//!   rule that an enabled automation has a segment among them) are read from the schema and made
//!   again, and the AUTOINCREMENT counters are carried over so no id is handed out twice.
//!   SQLite has no `SET NULL (column)`: a composite key set to null would null `workspace_id`
//!   too, which is NOT NULL. Those two keys have no action, and a trigger on the parent's delete
//!   nulls the referring column instead (`fk_automation_segment_set_null`,
//!   `fk_segment_membership_automation_set_null`), as the foreign key did before (triggers fire
//!   for rows that a cascade deletes, too).
//!
//! The migration runs in one transaction on both backends. With foreign keys enforced (the
//! server enforces them on every SQLite connection), `DROP TABLE` first deletes every row, which
//! runs the ON DELETE actions of the tables that refer to it: dropping the old `automation`
//! would null every membership's `automation_id`. And enforcement can only be switched off
//! outside a transaction, which would make the rebuild non-atomic. So the rebuilt tables are
//! made under new names that refer to each other by those new names, filled, and only then are
//! the old tables dropped, those that refer to others first: when the old `automation` goes, no
//! table refers to it any more. Renaming each new table into place rewrites the references to
//! it (`automation_rebuilt` becomes `automation` in `segment_membership`'s key; the default
//! since SQLite 3.26, with `legacy_alter_table` off). A final
//! `PRAGMA foreign_key_check` proves every reference holds.
//!
//! Rows that already refer to another workspace's rows (the application never wrote them, but
//! a hand-made fix could have) would break the new keys: the migration then fails naming how
//! many there are of each kind and changes nothing.
//!
//! `api_key` is a reference table: a key is looked up by its hash (and revoked by its prefix)
//! before its workspace is known, so `ux_api_key_hash` and `ux_api_key_prefix` stay global. Its
//! primary key leads with `workspace_id` like every other.
//!
//! `down` restores the previous layout, data included.

use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DatabaseBackend, Statement},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// What deleting the referenced row does to the referring one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnDelete {
    Cascade,
    SetNull,
}

/// A reference from one tenant table to another's `id`.
struct Reference {
    table: &'static str,
    column: &'static str,
    parent: &'static str,
    on_delete: OnDelete,
}

impl Reference {
    /// The constraint's name on PostgreSQL (its default name, kept).
    fn constraint(&self) -> String {
        format!("{}_{}_fkey", self.table, self.column)
    }

    /// The SQLite trigger that does a SET NULL the composite key cannot.
    fn set_null_trigger(&self) -> String {
        format!("fk_{}_{}_set_null", self.table, self.parent)
    }
}

const fn reference(
    table: &'static str,
    column: &'static str,
    parent: &'static str,
    on_delete: OnDelete,
) -> Reference {
    Reference {
        table,
        column,
        parent,
        on_delete,
    }
}

/// Every foreign key between tenant tables.
const REFERENCES: [Reference; 9] = [
    reference(
        "campaign_audience",
        "campaign_id",
        "campaign",
        OnDelete::Cascade,
    ),
    reference(
        "campaign_audience",
        "segment_id",
        "segment",
        OnDelete::Cascade,
    ),
    reference("automation", "campaign_id", "campaign", OnDelete::Cascade),
    reference("automation", "segment_id", "segment", OnDelete::SetNull),
    reference(
        "engagement_event",
        "campaign_id",
        "campaign",
        OnDelete::Cascade,
    ),
    reference(
        "engagement_event",
        "influencer_id",
        "influencer",
        OnDelete::Cascade,
    ),
    reference(
        "segment_membership",
        "segment_id",
        "segment",
        OnDelete::Cascade,
    ),
    reference(
        "segment_membership",
        "influencer_id",
        "influencer",
        OnDelete::Cascade,
    ),
    reference(
        "segment_membership",
        "automation_id",
        "automation",
        OnDelete::SetNull,
    ),
];

/// Tenant tables keyed by `id`: their key becomes `(workspace_id, id)`.
const KEYED: [&str; 6] = [
    "influencer",
    "segment",
    "campaign",
    "automation",
    "engagement_event",
    "api_key",
];

/// Join tables and their previous primary key columns, which `workspace_id` now leads.
const JOINS: [(&str, &str); 2] = [
    ("campaign_audience", "campaign_id, segment_id"),
    ("segment_membership", "segment_id, influencer_id"),
];

/// Tables that had a plain index on `(workspace_id, id)`, `ix_<table>_workspace_id`, which the
/// new key makes redundant.
const WORKSPACE_ID_INDEXED: [&str; 3] = ["influencer", "segment", "campaign"];

/// A table SQLite rebuilds, with its columns exactly as the earlier migrations declared them.
struct Rebuilt {
    table: &'static str,
    columns: &'static [(&'static str, &'static str)],
    /// The primary key of a join table, before and after (`None`: `id` is the rowid).
    keys: Option<(&'static str, &'static str)>,
}

const TIMESTAMP: &str = "timestamp_with_timezone_text NOT NULL";
const ROWID: &str = "integer NOT NULL PRIMARY KEY AUTOINCREMENT";
const ID: &str = "integer NOT NULL";

/// The tables holding references, in an order where each one's parents come first.
const REBUILT: [Rebuilt; 4] = [
    Rebuilt {
        table: "automation",
        columns: &[
            ("id", ROWID),
            ("workspace_id", ID),
            ("campaign_id", ID),
            ("trigger", "varchar(16) NOT NULL"),
            ("action", "varchar(24) NOT NULL"),
            ("segment_id", "integer"),
            ("enabled", "boolean NOT NULL"),
            ("created_at", TIMESTAMP),
        ],
        keys: None,
    },
    Rebuilt {
        table: "campaign_audience",
        columns: &[
            ("campaign_id", ID),
            ("segment_id", ID),
            ("workspace_id", ID),
        ],
        keys: Some((
            r#""campaign_id", "segment_id""#,
            r#""workspace_id", "campaign_id", "segment_id""#,
        )),
    },
    Rebuilt {
        table: "engagement_event",
        columns: &[
            ("id", ROWID),
            ("workspace_id", ID),
            ("campaign_id", ID),
            ("influencer_id", ID),
            ("kind", "varchar(16) NOT NULL"),
            ("occurred_at", TIMESTAMP),
            ("external_id", "varchar(200)"),
            ("recorded_at", TIMESTAMP),
        ],
        keys: None,
    },
    Rebuilt {
        table: "segment_membership",
        columns: &[
            ("segment_id", ID),
            ("influencer_id", ID),
            ("workspace_id", ID),
            ("assigned_at", TIMESTAMP),
            ("source", "varchar(16) NOT NULL"),
            ("automation_id", "integer"),
        ],
        keys: Some((
            r#""segment_id", "influencer_id""#,
            r#""workspace_id", "segment_id", "influencer_id""#,
        )),
    },
];

/// Which layout a step builds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Layout {
    /// Before this migration: single-column keys and references.
    Previous,
    /// Keys and references lead with `workspace_id`.
    WorkspaceKeys,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing on both backends (SQLite migrations run outside a transaction by default).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        refuse_cross_workspace_rows(conn).await?;
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => sqlite_up(conn).await,
            _ => postgres_relayout(conn, Layout::WorkspaceKeys).await,
        }
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        match manager.get_database_backend() {
            DatabaseBackend::Sqlite => sqlite_down(conn).await,
            _ => postgres_relayout(conn, Layout::Previous).await,
        }
    }
}

async fn run<C: ConnectionTrait>(conn: &C, sql: &str) -> Result<(), DbErr> {
    conn.execute_unprepared(sql).await.map(|_| ())
}

/// Fails, saying how many, when rows refer to rows of another workspace.
async fn refuse_cross_workspace_rows<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let mut found = Vec::new();
    for r in &REFERENCES {
        let row = conn
            .query_one_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT COUNT(*) AS n FROM {table} c JOIN {parent} p ON p.id = c.{column} \
                     WHERE p.workspace_id <> c.workspace_id",
                    table = r.table,
                    column = r.column,
                    parent = r.parent
                ),
            ))
            .await?;
        let n: i64 = match row {
            Some(row) => row.try_get("", "n")?,
            None => 0,
        };
        if n > 0 {
            found.push(format!(
                "{n} {}.{} referring to another workspace's {}",
                r.table, r.column, r.parent
            ));
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(DbErr::Migration(format!(
        "rows refer to rows of another workspace, which the new keys refuse: delete them or \
         point them at their own workspace's rows, then migrate again; nothing was changed. {}",
        found.join("; ")
    )))
}

/// PostgreSQL: keys and references altered in place to `layout`.
async fn postgres_relayout<C: ConnectionTrait>(conn: &C, layout: Layout) -> Result<(), DbErr> {
    let new = layout == Layout::WorkspaceKeys;
    for r in &REFERENCES {
        run(
            conn,
            &format!("ALTER TABLE {} DROP CONSTRAINT {}", r.table, r.constraint()),
        )
        .await?;
    }
    let lead = if new { "workspace_id, " } else { "" };
    for table in KEYED {
        run(
            conn,
            &format!(
                "ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, \
                 ADD CONSTRAINT {table}_pkey PRIMARY KEY ({lead}id)"
            ),
        )
        .await?;
    }
    for (table, columns) in JOINS {
        run(
            conn,
            &format!(
                "ALTER TABLE {table} DROP CONSTRAINT {table}_pkey, \
                 ADD CONSTRAINT {table}_pkey PRIMARY KEY ({lead}{columns})"
            ),
        )
        .await?;
    }
    for table in WORKSPACE_ID_INDEXED {
        run(
            conn,
            &if new {
                format!("DROP INDEX ix_{table}_workspace_id")
            } else {
                format!("CREATE INDEX ix_{table}_workspace_id ON {table} (workspace_id, id)")
            },
        )
        .await?;
    }
    for r in &REFERENCES {
        let action = match (r.on_delete, new) {
            (OnDelete::Cascade, _) => "CASCADE".to_owned(),
            (OnDelete::SetNull, true) => format!("SET NULL ({})", r.column),
            (OnDelete::SetNull, false) => "SET NULL".to_owned(),
        };
        run(
            conn,
            &format!(
                "ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({lead}{column}) \
                 REFERENCES {parent} ({lead}id) ON DELETE {action}",
                table = r.table,
                name = r.constraint(),
                column = r.column,
                parent = r.parent,
            ),
        )
        .await?;
    }
    Ok(())
}

async fn sqlite_up<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    // The parents' unique (workspace_id, id) first: the rebuilt tables' keys point to them.
    for table in KEYED {
        if WORKSPACE_ID_INDEXED.contains(&table) {
            run(conn, &format!("DROP INDEX ix_{table}_workspace_id")).await?;
        }
        if !REBUILT.iter().any(|t| t.table == table) {
            run(conn, &workspace_id_index(table)).await?;
        }
    }
    rebuild(conn, Layout::WorkspaceKeys).await?;
    for r in REFERENCES
        .iter()
        .filter(|r| r.on_delete == OnDelete::SetNull)
    {
        run(
            conn,
            &format!(
                "CREATE TRIGGER {name} AFTER DELETE ON {parent} BEGIN \
                 UPDATE {table} SET {column} = NULL \
                 WHERE workspace_id = OLD.workspace_id AND {column} = OLD.id; END",
                name = r.set_null_trigger(),
                parent = r.parent,
                table = r.table,
                column = r.column,
            ),
        )
        .await?;
    }
    check_foreign_keys(conn).await
}

async fn sqlite_down<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    for r in REFERENCES
        .iter()
        .filter(|r| r.on_delete == OnDelete::SetNull)
    {
        run(conn, &format!("DROP TRIGGER {}", r.set_null_trigger())).await?;
    }
    rebuild(conn, Layout::Previous).await?;
    // Only now does no key point to the parents' unique (workspace_id, id).
    for table in KEYED {
        if !REBUILT.iter().any(|t| t.table == table) {
            run(conn, &format!("DROP INDEX ux_{table}_workspace_id")).await?;
        }
        if WORKSPACE_ID_INDEXED.contains(&table) {
            run(
                conn,
                &format!(
                    r#"CREATE INDEX "ix_{table}_workspace_id" ON "{table}" ("workspace_id", "id")"#
                ),
            )
            .await?;
        }
    }
    check_foreign_keys(conn).await
}

/// The unique `(workspace_id, id)` that composite references point to on SQLite.
fn workspace_id_index(table: &str) -> String {
    format!("CREATE UNIQUE INDEX ux_{table}_workspace_id ON {table} (workspace_id, id)")
}

/// The name a rebuilt table is made under before it takes its place.
fn staged(table: &str) -> String {
    format!("{table}_rebuilt")
}

/// SQLite: the tables of [`REBUILT`] made again in `layout`, with their rows, indexes, triggers
/// and AUTOINCREMENT counters.
async fn rebuild<C: ConnectionTrait>(conn: &C, layout: Layout) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    // Renaming must carry references along (the default; a connection could have changed it).
    run(conn, "PRAGMA legacy_alter_table = OFF").await?;
    let mut schema = Vec::new();
    for rebuilt in &REBUILT {
        // The indexes and triggers to make again once the table is in place, but the unique
        // (workspace_id, id), which belongs to the layout.
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                "SELECT sql FROM sqlite_master WHERE tbl_name = $1 \
                 AND type IN ('index', 'trigger') AND sql IS NOT NULL AND name <> $2 \
                 ORDER BY type, name",
                [
                    rebuilt.table.into(),
                    format!("ux_{}_workspace_id", rebuilt.table).into(),
                ],
            ))
            .await?;
        for row in rows {
            schema.push(row.try_get_by_index::<String>(0)?);
        }

        let staged_table = staged(rebuilt.table);
        run(conn, &create_table(rebuilt, &staged_table, layout)).await?;
        let columns = rebuilt
            .columns
            .iter()
            .map(|(name, _)| format!("\"{name}\""))
            .collect::<Vec<_>>()
            .join(", ");
        run(
            conn,
            &format!(
                "INSERT INTO {staged_table} ({columns}) SELECT {columns} FROM {}",
                rebuilt.table
            ),
        )
        .await?;
        if layout == Layout::WorkspaceKeys && rebuilt.keys.is_none() {
            // Under its final name (the old table has no index of that name): the rebuilt
            // tables after this one point to this one's (workspace_id, id).
            run(
                conn,
                &format!(
                    "CREATE UNIQUE INDEX ux_{table}_workspace_id \
                     ON {staged_table} (workspace_id, id)",
                    table = rebuilt.table
                ),
            )
            .await?;
        }
        if rebuilt.keys.is_none() {
            // The counter goes on from the old table's, not from the highest id copied: ids of
            // deleted rows are never handed out again.
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                "DELETE FROM sqlite_sequence WHERE name = $1",
                [staged_table.clone().into()],
            ))
            .await?;
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO sqlite_sequence (name, seq) \
                 SELECT $1, seq FROM sqlite_sequence WHERE name = $2",
                [staged_table.clone().into(), rebuilt.table.into()],
            ))
            .await?;
        }
    }
    // Children before parents: when a table goes, no table refers to it any more, so no ON
    // DELETE action runs.
    for rebuilt in REBUILT.iter().rev() {
        run(conn, &format!("DROP TABLE {}", rebuilt.table)).await?;
    }
    for rebuilt in &REBUILT {
        run(
            conn,
            &format!(
                "ALTER TABLE {} RENAME TO {}",
                staged(rebuilt.table),
                rebuilt.table
            ),
        )
        .await?;
    }
    for sql in schema {
        run(conn, &sql).await?;
    }
    Ok(())
}

/// `CREATE TABLE name (...)` for `rebuilt` in `layout`, its references pointing to the staged
/// names of the tables rebuilt with it.
fn create_table(rebuilt: &Rebuilt, name: &str, layout: Layout) -> String {
    let mut parts: Vec<String> = rebuilt
        .columns
        .iter()
        .map(|(column, definition)| format!("\"{column}\" {definition}"))
        .collect();
    if let Some((previous, workspace_keys)) = rebuilt.keys {
        let key = match layout {
            Layout::Previous => previous,
            Layout::WorkspaceKeys => workspace_keys,
        };
        parts.push(format!("PRIMARY KEY ({key})"));
    }
    parts.push(
        r#"FOREIGN KEY ("workspace_id") REFERENCES "workspace" ("id") ON DELETE CASCADE"#
            .to_owned(),
    );
    for r in REFERENCES.iter().filter(|r| r.table == rebuilt.table) {
        let parent = if REBUILT.iter().any(|t| t.table == r.parent) {
            staged(r.parent)
        } else {
            r.parent.to_owned()
        };
        parts.push(match layout {
            Layout::Previous => format!(
                "FOREIGN KEY (\"{}\") REFERENCES \"{parent}\" (\"id\") ON DELETE {}",
                r.column,
                match r.on_delete {
                    OnDelete::Cascade => "CASCADE",
                    OnDelete::SetNull => "SET NULL",
                }
            ),
            // SET NULL is a trigger here (see the module docs).
            Layout::WorkspaceKeys => format!(
                "FOREIGN KEY (\"workspace_id\", \"{}\") REFERENCES \"{parent}\" \
                 (\"workspace_id\", \"id\"){}",
                r.column,
                match r.on_delete {
                    OnDelete::Cascade => " ON DELETE CASCADE",
                    OnDelete::SetNull => "",
                }
            ),
        });
    }
    format!("CREATE TABLE \"{name}\" ( {} )", parts.join(", "))
}

/// Fails when any row refers to a row that does not exist.
async fn check_foreign_keys<C: ConnectionTrait>(conn: &C) -> Result<(), DbErr> {
    let rows = conn
        .query_all_raw(Statement::from_string(
            conn.get_database_backend(),
            "PRAGMA foreign_key_check".to_owned(),
        ))
        .await?;
    if rows.is_empty() {
        return Ok(());
    }
    let mut tables = Vec::new();
    for row in &rows {
        let table: String = row.try_get_by_index(0)?;
        if !tables.contains(&table) {
            tables.push(table);
        }
    }
    Err(DbErr::Migration(format!(
        "{} rows refer to rows that do not exist (in {}); nothing was changed",
        rows.len(),
        tables.join(", ")
    )))
}
