//! The SQL expressions the reads share: qualified columns, search, and counting a query.

use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Alias, Expr, ExprTrait, Func, LikeExpr, SelectStatement, SimpleExpr},
};

use crate::service::text::SearchTerm;

/// A column qualified by its table.
pub(crate) fn col<C: sea_orm::IdenStatic>(table: impl sea_orm::IdenStatic, column: C) -> Expr {
    Expr::col((table, column))
}

/// `key_column LIKE '%key%'`: whether the search term's key (Unicode case folding and NFC,
/// computed here) is part of a stored key, with the term's wildcards escaped. Both sides are
/// folded in Rust, so SQLite (whose `LOWER` knows only ASCII) and PostgreSQL match the same rows.
pub(crate) fn contains(key_column: Expr, term: &SearchTerm) -> SimpleExpr {
    let escaped = term
        .key()
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    key_column.like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// How many rows `base` selects (its selection is replaced by `COUNT(*)`).
pub(crate) async fn count<C: ConnectionTrait>(
    db: &C,
    base: &mut SelectStatement,
) -> Result<i64, DbErr> {
    base.clear_selects()
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"));
    let row = db.query_one(&*base).await?;
    match row {
        Some(row) => row.try_get("", "n"),
        None => Ok(0),
    }
}
