//! `column IN (ids)` for statements that take a list of ids, and [`one_of`] for the many lists
//! of a filter.
//!
//! On PostgreSQL the list is one array parameter (`column = ANY($n)`): the statement's text is
//! then the same for 2 ids as for 10,000, so each connection prepares it once and PostgreSQL
//! parses and plans it once, where `IN ($1, ..., $n)` is a new statement for every length (and
//! 10,000 parameters to parse). SQLite has no array parameters and keeps the `IN` list, which
//! it handles cheaply in-process.

use sea_orm::{
    ColumnTrait, DbBackend,
    sea_query::{Alias, Expr, ExprTrait, Func, Query, SimpleExpr, extension::postgres::PgFunc},
};

/// The most ids one operation can take at all: each id is one bound parameter, and SQLite allows
/// 32,766 per statement. The configured limit may not exceed it.
pub const HARD_MAX_BULK_IDS: usize = 30_000;

/// `column IN (ids)` for `backend`, `column` being any column expression (qualified or not).
pub fn any_of(backend: DbBackend, column: Expr, ids: impl IntoIterator<Item = i64>) -> SimpleExpr {
    match backend {
        DbBackend::Postgres => {
            let ids: Vec<i64> = ids.into_iter().collect();
            column.eq(PgFunc::any(Expr::val(ids)))
        }
        _ => column.is_in(ids),
    }
}

/// `column IN (values)` with the whole list as one parameter on both backends: an array on
/// PostgreSQL (`= ANY($n)`), a JSON array on SQLite (`IN (SELECT value FROM json_each(?))`).
///
/// For the lists of a filter: a filter may hold 50 lists of 1,000 values, and the evaluation of
/// rules puts many filters in one statement, so a parameter per value would pass SQLite's
/// 32,766 (and PostgreSQL's 65,535) parameters a statement. With one per list, a filter takes a
/// few hundred at most.
pub fn one_of<T>(backend: DbBackend, column: Expr, values: Vec<T>) -> SimpleExpr
where
    T: serde::Serialize,
    Vec<T>: Into<sea_orm::Value>,
{
    match backend {
        DbBackend::Postgres => column.eq(PgFunc::any(Expr::val(values))),
        _ => {
            let json = serde_json::to_string(&values).expect("a list of values serializes");
            column.in_subquery(
                Query::select()
                    .column(Alias::new("value"))
                    .from_function(
                        Func::cust(Alias::new("json_each")).arg(json),
                        Alias::new("listed"),
                    )
                    .to_owned(),
            )
        }
    }
}

/// `column IN (ids)` for an entity's column, qualified by its table as SeaORM's own filters are.
pub fn column_any_of(
    backend: DbBackend,
    column: impl ColumnTrait,
    ids: impl IntoIterator<Item = i64>,
) -> SimpleExpr {
    any_of(backend, Expr::col(column.as_column_ref()), ids)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, PostgresQueryBuilder, Query, SqliteQueryBuilder};

    use super::*;

    /// `SELECT "id" FROM "t" WHERE <condition>` for `backend`, and how many values it binds.
    fn render(backend: DbBackend, condition: SimpleExpr) -> (String, usize) {
        let statement = Query::select()
            .column(Alias::new("id"))
            .from(Alias::new("t"))
            .and_where(condition)
            .to_owned();
        let (sql, values) = match backend {
            DbBackend::Postgres => statement.build(PostgresQueryBuilder),
            _ => statement.build(SqliteQueryBuilder),
        };
        (sql, values.0.len())
    }

    fn sql(backend: DbBackend, ids: Vec<i64>) -> (String, usize) {
        render(backend, any_of(backend, Expr::col(Alias::new("id")), ids))
    }

    #[test]
    fn postgres_gets_one_array_parameter_whatever_the_length() {
        let (two, n_two) = sql(DbBackend::Postgres, vec![1, 2]);
        let (many, n_many) = sql(DbBackend::Postgres, (1..=10_000).collect());
        assert_eq!(two, r#"SELECT "id" FROM "t" WHERE "id" = ANY($1)"#);
        assert_eq!(two, many);
        assert_eq!((n_two, n_many), (1, 1));
    }

    fn one_of_sql(backend: DbBackend, values: Vec<String>) -> (String, usize) {
        render(
            backend,
            one_of(backend, Expr::col(Alias::new("niche")), values),
        )
    }

    #[test]
    fn a_filter_list_is_one_parameter_on_both_backends() {
        let many: Vec<String> = (0..1000).map(|n| format!("niche {n}")).collect();
        let (pg, n_pg) = one_of_sql(DbBackend::Postgres, many.clone());
        assert_eq!(pg, r#"SELECT "id" FROM "t" WHERE "niche" = ANY($1)"#);
        let (lite, n_lite) = one_of_sql(DbBackend::Sqlite, many);
        assert_eq!(
            lite,
            r#"SELECT "id" FROM "t" WHERE "niche" IN (SELECT "value" FROM json_each(?) AS "listed")"#
        );
        assert_eq!((n_pg, n_lite), (1, 1));
    }

    #[test]
    fn sqlite_keeps_the_in_list() {
        let (two, n) = sql(DbBackend::Sqlite, vec![1, 2]);
        assert_eq!(two, r#"SELECT "id" FROM "t" WHERE "id" IN (?, ?)"#);
        assert_eq!(n, 2);
    }
}
