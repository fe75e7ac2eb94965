//! Names and handles are unique on, and searched by, their Unicode case-folded NFC key
//! ([`entity::text_key::text_key`]) instead of their lower-cased text, and display names get a
//! key too, so that a search matches the same rows on SQLite and PostgreSQL.
//!
//! - The key columns become unbounded `text` on PostgreSQL: a key can hold up to three times the
//!   code points of its text (`İ` lower-cases to two, `ﬃ` folds to three), so a valid 80-character
//!   name overflowed `varchar(80)`. SQLite never enforced the declared length.
//! - `influencer.display_name_key` is added.
//! - Every existing key is recomputed in Rust, in batches of [`BATCH`] rows, with the unique
//!   indexes dropped meanwhile (a row's new key may be another row's old one until both are
//!   done) and made again at the end.
//! - Rows that the new keys make one (`Straße` and `STRASSE` in one workspace) are not merged
//!   or renamed behind anyone's back: the migration fails, naming them, and changes nothing (it
//!   runs in one transaction on both backends). Rename one of each group with the previous
//!   version and start again.

use entity::text_key::text_key;
use sea_orm_migration::{
    prelude::*,
    sea_orm::{ConnectionTrait, DatabaseBackend, Statement, Value},
};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Rows read and rewritten per statement: 3,000 bound parameters at most per update, far
/// under the limits of either backend.
const BATCH: u64 = 1000;

/// Colliding groups listed in the error, at most.
const SHOWN_COLLISIONS: u64 = 20;

/// A table whose rows carry keys of their text.
struct Keyed {
    table: &'static str,
    /// `(text column, key column)`: the first pair is the unique one.
    keys: &'static [(&'static str, &'static str)],
    /// The columns besides the key that uniqueness is scoped to (the workspace first).
    scope: &'static [&'static str],
    /// The unique index on `scope` and the first key column.
    unique_index: &'static str,
    /// What the unique text is, for the error message.
    what: &'static str,
}

const SEGMENT: Keyed = Keyed {
    table: "segment",
    keys: &[("name", "name_key")],
    scope: &["workspace_id"],
    unique_index: "ux_segment_workspace_name_key",
    what: "segment names",
};

const INFLUENCER: Keyed = Keyed {
    table: "influencer",
    keys: &[
        ("handle", "handle_key"),
        ("display_name", "display_name_key"),
    ],
    scope: &["workspace_id", "platform"],
    unique_index: "ux_influencer_workspace_platform_handle",
    what: "influencer handles",
};

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// One transaction on SQLite too, so that a refused migration leaves the database as it was.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        drop_unique_indexes(manager).await?;
        if manager.get_database_backend() == DatabaseBackend::Postgres {
            // varchar to text needs no rewrite of the table.
            conn.execute_unprepared(
                "ALTER TABLE segment ALTER COLUMN name_key TYPE text; \
                 ALTER TABLE influencer ALTER COLUMN handle_key TYPE text",
            )
            .await?;
        }
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("influencer"))
                    .add_column(ColumnDef::new(Alias::new("display_name_key")).text())
                    .to_owned(),
            )
            .await?;
        recompute(conn, SEGMENT.table, SEGMENT.keys, text_key).await?;
        recompute(conn, INFLUENCER.table, INFLUENCER.keys, text_key).await?;
        refuse_collisions(conn, "Unicode case folding and NFC").await?;
        create_unique_indexes(manager).await
    }

    /// Back to lower-cased keys and no display name key. The key columns stay `text`: the
    /// previous version reads and writes them as it did `varchar`.
    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let conn = manager.get_connection();
        drop_unique_indexes(manager).await?;
        let lower = |text: &str| text.to_lowercase();
        recompute(conn, SEGMENT.table, SEGMENT.keys, lower).await?;
        recompute(conn, INFLUENCER.table, &INFLUENCER.keys[..1], lower).await?;
        refuse_collisions(conn, "lower-casing").await?;
        manager
            .alter_table(
                Table::alter()
                    .table(Alias::new("influencer"))
                    .drop_column(Alias::new("display_name_key"))
                    .to_owned(),
            )
            .await?;
        create_unique_indexes(manager).await
    }
}

async fn drop_unique_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for keyed in [&SEGMENT, &INFLUENCER] {
        manager
            .drop_index(
                Index::drop()
                    .name(keyed.unique_index)
                    .table(Alias::new(keyed.table))
                    .to_owned(),
            )
            .await?;
    }
    Ok(())
}

async fn create_unique_indexes(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    for keyed in [&SEGMENT, &INFLUENCER] {
        let mut index = Index::create();
        index
            .name(keyed.unique_index)
            .table(Alias::new(keyed.table));
        for column in keyed.scope {
            index.col(Alias::new(*column));
        }
        index.col(Alias::new(keyed.keys[0].1)).unique();
        manager.create_index(index.to_owned()).await?;
    }
    Ok(())
}

/// Rewrites the key columns `keys` of `table` as `key` of their text, `BATCH` rows at a time in
/// id order; rows whose keys are already right are not written. Later migrations that add a key
/// column fill it with this too.
pub(crate) async fn recompute<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    keys: &[(&str, &str)],
    key: impl Fn(&str) -> String,
) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let columns: Vec<String> = keys
        .iter()
        .map(|(text, key)| format!("{text}, {key}"))
        .collect();
    let select = format!(
        "SELECT id, {} FROM {} WHERE id > $1 ORDER BY id LIMIT {BATCH}",
        columns.join(", "),
        table
    );
    let mut after = i64::MIN;
    loop {
        let rows = conn
            .query_all_raw(Statement::from_sql_and_values(
                backend,
                &select,
                [after.into()],
            ))
            .await?;
        let (Some(first), Some(last)) = (rows.first(), rows.last()) else {
            return Ok(());
        };
        let first: i64 = first.try_get_by_index(0)?;
        after = last.try_get_by_index(0)?;
        let mut changed: Vec<Value> = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get_by_index(0)?;
            let mut new_keys = Vec::with_capacity(keys.len());
            let mut differs = false;
            for index in 0..keys.len() {
                let text: Option<String> = row.try_get_by_index(1 + 2 * index)?;
                let old: Option<String> = row.try_get_by_index(2 + 2 * index)?;
                let new = text.as_deref().map(&key);
                differs |= new != old;
                new_keys.push(new);
            }
            if differs {
                changed.push(id.into());
                changed.extend(new_keys.into_iter().map(Value::from));
            }
        }
        if !changed.is_empty() {
            let rows = changed.len() / (1 + keys.len());
            changed.extend([first.into(), after.into()]);
            conn.execute_raw(Statement::from_sql_and_values(
                backend,
                update_statement(table, keys, rows),
                changed,
            ))
            .await?;
        }
    }
}

/// `WITH v(id, k0, ...) AS (VALUES ($1, $2, ...), ...) UPDATE table SET key = v.k0, ... FROM v
/// WHERE table.id = v.id AND table.id BETWEEN $first AND $last` for `rows` rows: one statement
/// per batch, the same on both backends. The id range (the batch's, bound after the rows) lets
/// PostgreSQL read only the batch's rows: without it, it hashed the values and scanned the whole
/// table for each batch.
fn update_statement(table: &str, keys: &[(&str, &str)], rows: usize) -> String {
    let width = 1 + keys.len();
    let names: Vec<String> = (0..keys.len()).map(|i| format!("k{i}")).collect();
    let values: Vec<String> = (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=width)
                .map(|column| format!("${}", row * width + column))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect();
    let sets: Vec<String> = keys
        .iter()
        .zip(&names)
        .map(|((_, key), name)| format!("{key} = v.{name}"))
        .collect();
    let range = rows * width;
    format!(
        "WITH v(id, {}) AS (VALUES {}) UPDATE {table} SET {} FROM v \
         WHERE {table}.id = v.id AND {table}.id BETWEEN ${} AND ${}",
        names.join(", "),
        values.join(", "),
        sets.join(", "),
        range + 1,
        range + 2
    )
}

/// Fails, naming them, when rows of one scope now share a unique key.
async fn refuse_collisions<C: ConnectionTrait>(conn: &C, rule: &str) -> Result<(), DbErr> {
    let backend = conn.get_database_backend();
    let mut groups = Vec::new();
    for keyed in [&SEGMENT, &INFLUENCER] {
        let (text, key) = keyed.keys[0];
        let scope = keyed.scope.join(", ");
        let duplicates = conn
            .query_all_raw(Statement::from_string(
                backend,
                format!(
                    "SELECT {scope}, {key} FROM {table} GROUP BY {scope}, {key} \
                     HAVING COUNT(*) > 1 ORDER BY {scope}, {key} LIMIT {SHOWN_COLLISIONS}",
                    table = keyed.table
                ),
            ))
            .await?;
        for duplicate in &duplicates {
            let mut values: Vec<Value> = Vec::with_capacity(keyed.scope.len() + 1);
            let mut described = Vec::with_capacity(keyed.scope.len());
            for (index, column) in keyed.scope.iter().enumerate() {
                let value = if *column == "workspace_id" {
                    let ws: i64 = duplicate.try_get_by_index(index)?;
                    described.push(format!("workspace {ws}"));
                    Value::from(ws)
                } else {
                    let other: String = duplicate.try_get_by_index(index)?;
                    described.push(format!("{column} {other}"));
                    Value::from(other)
                };
                values.push(value);
            }
            let shared: String = duplicate.try_get_by_index(keyed.scope.len())?;
            values.push(shared.into());
            let conditions: Vec<String> = keyed
                .scope
                .iter()
                .chain([&key])
                .enumerate()
                .map(|(index, column)| format!("{column} = ${}", index + 1))
                .collect();
            let rows = conn
                .query_all_raw(Statement::from_sql_and_values(
                    backend,
                    format!(
                        "SELECT id, {text} FROM {} WHERE {} ORDER BY id",
                        keyed.table,
                        conditions.join(" AND ")
                    ),
                    values,
                ))
                .await?;
            let mut listed = Vec::with_capacity(rows.len());
            for row in &rows {
                let id: i64 = row.try_get_by_index(0)?;
                let value: String = row.try_get_by_index(1)?;
                listed.push(format!("#{id} {value:?}"));
            }
            groups.push(format!(
                "{} in {}: {}",
                keyed.what,
                described.join(", "),
                listed.join(", ")
            ));
        }
    }
    if groups.is_empty() {
        return Ok(());
    }
    Err(DbErr::Migration(format!(
        "names and handles must be unique under {rule}, and these differ only in case or \
         encoding: rename all but one of each group (with the previous version), then migrate \
         again; nothing was changed. {}",
        groups.join("; ")
    )))
}
