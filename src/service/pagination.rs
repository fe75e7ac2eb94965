//! Keyset (cursor) pagination over a stable integer key, and the batched fetch that serves many
//! pages in one SQL statement.
//!
//! Each page is answered by at most two subqueries of its base query: the page itself, ordered by
//! the key and limited to one row more than asked (that row tells whether there is more in the
//! paging direction), and a one-row probe on the other side of the cursor (whether there is
//! anything before `after` / after `before`). All subqueries of a batch, for any number of pages,
//! are glued with `UNION ALL`, each tagged with its page and role, so that a DataLoader resolving
//! `Segment.influencers` for 50 segments runs one statement, and every subquery walks an index
//! instead of scanning or using OFFSET.

use sea_orm::{
    ConnectionTrait, DbErr, FromQueryResult,
    sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, SelectStatement, UnionType},
};

/// How many items a page holds, counted from which end.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Take {
    /// The first n after `after` (forward paging).
    First(u64),
    /// The last n before `before` (backward paging).
    Last(u64),
}

/// A validated page request: an optional cursor on each side and a size.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Page {
    pub after: Option<i64>,
    pub before: Option<i64>,
    pub take: Take,
}

/// One page of items in ascending key order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageResult<M> {
    pub items: Vec<M>,
    pub has_previous: bool,
    pub has_next: bool,
}

impl<M> Default for PageResult<M> {
    fn default() -> Self {
        Self {
            items: Vec::new(),
            has_previous: false,
            has_next: false,
        }
    }
}

/// A set of rows to page over: the rows of `base` (already selecting the model's columns and
/// filtered to the workspace and the set), keyed by `key`, narrowed by `related`.
#[derive(Clone)]
pub struct Keyset {
    pub base: SelectStatement,
    pub key: Expr,
    /// The key's equal on the other side of a join in `base` (a segment's members are paged by
    /// `segment_membership.influencer_id`, joined to `influencer.id`), bounded by the same
    /// cursor. PostgreSQL does not carry `key > cursor` across the join's equality, so without
    /// the copy a deep page merge-joined the other table from its first row: 2,130 buffers and
    /// 36 ms for a page 90% into a 2,762-member segment of 100,000 influencers, against 16
    /// buffers and 0.2 ms with it.
    pub joined_key: Option<Expr>,
    pub related: Option<Correlated>,
}

impl Keyset {
    /// The rows of `base` keyed by `key`, with nothing joined or related.
    pub fn new(base: SelectStatement, key: Expr) -> Self {
        Self {
            base,
            key,
            joined_key: None,
            related: None,
        }
    }

    /// Every row of the set, unpaged (what a count counts).
    pub fn all_rows(self) -> SelectStatement {
        let mut rows = self.base;
        if let Some(related) = &self.related {
            rows.and_where(related.filter(&self.key, &[]));
        }
        rows
    }
}

/// One page to fetch of a set.
pub struct PagePart {
    pub set: Keyset,
    pub page: Page,
}

/// A semi- or anti-join on the key: only rows for which `rows` has (or has no) row whose `column`
/// equals the key. Unassigned is influencers with no membership; a campaign's recipients are
/// influencers with a membership in one of its audience segments.
///
/// It is kept apart from the base query so that each subquery bounds the other side by the same
/// cursor as the key. PostgreSQL does not carry `id > cursor` across `column = id`, so without
/// the copy a deep page of Unassigned probed the membership index once per scanned influencer
/// (about 800 buffers for a page on a million influencers) where, bounded, it merge-joins two
/// index ranges that start at the cursor (about 20); a page in the middle of a campaign's
/// recipients read every membership of its audience (40,200 rows on 20,000 influencers, against
/// 1,900 near the start).
#[derive(Clone)]
pub struct Correlated {
    /// `SELECT 1 FROM ...`: the rows looked for, without the correlation with the key.
    pub rows: SelectStatement,
    /// The column of `rows` that equals the key.
    pub column: Expr,
    /// Whether the key must have such a row (recipients) or must not (Unassigned).
    pub exists: bool,
}

impl Correlated {
    /// `[NOT] EXISTS (rows AND column = key AND column <bounds>)`.
    pub fn filter(&self, key: &Expr, bounds: &[Bound]) -> Expr {
        let mut inner = self.rows.clone();
        inner.and_where(self.column.clone().eq(key.clone()));
        for bound in bounds {
            inner.and_where(bound.on(self.column.clone()));
        }
        let exists = Expr::exists(inner);
        if self.exists { exists } else { exists.not() }
    }
}

/// A cursor bound on a key.
#[derive(Clone, Copy, Debug)]
pub enum Bound {
    Above(i64),
    AtMost(i64),
    Below(i64),
    AtLeast(i64),
}

impl Bound {
    fn on(self, key: Expr) -> Expr {
        match self {
            Bound::Above(at) => key.gt(literal(at)),
            Bound::AtMost(at) => key.lte(literal(at)),
            Bound::Below(at) => key.lt(literal(at)),
            Bound::AtLeast(at) => key.gte(literal(at)),
        }
    }
}

/// Models that carry the integer key their pages are ordered by.
pub trait Keyed {
    fn key(&self) -> i64;
}

const TAG: &str = "page_tag";
const PROBE: &str = "page_probe";

impl PagePart {
    /// The page's rows (one extra to detect more), or the probe on the other side of the cursor.
    /// `None` when there is no cursor on that side, so nothing to probe.
    fn subquery(&self, tag: usize, probe: bool) -> Option<SelectStatement> {
        let (forward, limit) = match self.page.take {
            Take::First(n) => (true, n + 1),
            Take::Last(n) => (false, n + 1),
        };
        let set = &self.set;
        let mut select = set.base.clone();
        let mut bounds = Vec::with_capacity(2);
        if probe {
            // Anything at or beyond the cursor on the side opposite to the paging direction?
            let (bound, order) = if forward {
                (Bound::AtMost(self.page.after?), Order::Desc)
            } else {
                (Bound::AtLeast(self.page.before?), Order::Asc)
            };
            bounds.push(bound);
            select.order_by_expr(set.key.clone(), order).limit(1);
        } else {
            bounds.extend(self.page.after.map(Bound::Above));
            bounds.extend(self.page.before.map(Bound::Below));
            let order = if forward { Order::Asc } else { Order::Desc };
            select.order_by_expr(set.key.clone(), order).limit(limit);
        }
        for bound in &bounds {
            select.and_where(bound.on(set.key.clone()));
            if let Some(joined) = &set.joined_key {
                select.and_where(bound.on(joined.clone()));
            }
        }
        if let Some(related) = &set.related {
            select.and_where(related.filter(&set.key, &bounds));
        }
        // Literal tags, cast so both backends return a 64-bit integer.
        select
            .expr_as(
                Expr::cust(format!("CAST({tag} AS BIGINT)")),
                Alias::new(TAG),
            )
            .expr_as(
                Expr::cust(format!("CAST({} AS BIGINT)", i64::from(probe))),
                Alias::new(PROBE),
            );
        Some(select)
    }
}

/// A cursor bound written into the SQL text rather than bound as a parameter. PostgreSQL
/// switches a prepared statement to a generic plan after five runs, and a generic plan does not
/// know where the cursor is: for a deep page of Unassigned it merge-joins against the whole
/// membership index (120 ms instead of 3 ms on a million influencers). With the bound in the
/// text, every plan knows it. An `i64` printed as digits cannot inject anything.
fn literal(bound: i64) -> Expr {
    Expr::cust(bound.to_string())
}

/// Fetches every page of `parts` in one statement; results come back in the order of `parts`.
pub async fn fetch_pages<M, C>(db: &C, parts: &[PagePart]) -> Result<Vec<PageResult<M>>, DbErr>
where
    M: FromQueryResult + Keyed,
    C: ConnectionTrait,
{
    let mut union: Option<SelectStatement> = None;
    for (tag, part) in parts.iter().enumerate() {
        for probe in [false, true] {
            let Some(sub) = part.subquery(tag, probe) else {
                continue;
            };
            // Wrapped, because SQLite allows no ORDER BY / LIMIT on a bare UNION member.
            let wrapped = Query::select()
                .column(Asterisk)
                .from_subquery(sub, Alias::new(format!("p{tag}_{}", u8::from(probe))))
                .to_owned();
            match union.as_mut() {
                None => union = Some(wrapped),
                Some(all) => {
                    all.union(UnionType::All, wrapped);
                }
            }
        }
    }
    let Some(statement) = union else {
        return Ok(parts.iter().map(|_| PageResult::default()).collect());
    };
    let rows = db.query_all(&statement).await?;
    assemble(rows, parts.iter().map(|part| &part.page))
}

/// Sorts tagged rows into their pages. Each row carries `page_tag` (the index of its page in
/// `pages`) and `page_probe` (1 for a probe row, which only says that something lies on the
/// other side of the cursor), besides the model's columns; a page's rows hold one more than it
/// asked for when there is more in its direction.
pub fn assemble<'p, M: FromQueryResult + Keyed>(
    rows: Vec<sea_orm::QueryResult>,
    pages: impl IntoIterator<Item = &'p Page>,
) -> Result<Vec<PageResult<M>>, DbErr> {
    let takes: Vec<Take> = pages.into_iter().map(|page| page.take).collect();
    let mut results: Vec<PageResult<M>> = takes.iter().map(|_| PageResult::default()).collect();
    for row in rows {
        let tag: i64 = row.try_get("", TAG)?;
        let probe: i64 = row.try_get("", PROBE)?;
        let result = usize::try_from(tag)
            .ok()
            .and_then(|t| results.get_mut(t))
            .ok_or_else(|| DbErr::Custom(format!("page tag {tag} out of range")))?;
        if probe == 1 {
            // Something lies before the page (forward) or after it (backward).
            match takes[tag as usize] {
                Take::First(_) => result.has_previous = true,
                Take::Last(_) => result.has_next = true,
            }
        } else {
            result.items.push(M::from_query_result(&row, "")?);
        }
    }
    for (take, result) in takes.iter().zip(results.iter_mut()) {
        result.items.sort_by_key(Keyed::key);
        match *take {
            Take::First(n) => {
                if result.items.len() as u64 > n {
                    result.items.truncate(n as usize);
                    result.has_next = true;
                }
            }
            Take::Last(n) => {
                let extra = (result.items.len() as u64).saturating_sub(n) as usize;
                if extra > 0 {
                    result.items.drain(..extra);
                    result.has_previous = true;
                }
            }
        }
    }
    Ok(results)
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::{Alias, PostgresQueryBuilder};

    use super::*;

    fn unassigned(page: Page) -> PagePart {
        let base = Query::select()
            .column((Alias::new("i"), Alias::new("id")))
            .from(Alias::new("i"))
            .to_owned();
        let mut set = Keyset::new(base, Expr::col((Alias::new("i"), Alias::new("id"))));
        set.related = Some(Correlated {
            rows: Query::select()
                .expr(Expr::val(1))
                .from(Alias::new("m"))
                .to_owned(),
            column: Expr::col((Alias::new("m"), Alias::new("iid"))),
            exists: false,
        });
        PagePart { set, page }
    }

    fn sql(part: &PagePart, probe: bool) -> String {
        part.subquery(0, probe)
            .expect("a subquery")
            .to_string(PostgresQueryBuilder)
    }

    #[test]
    fn the_anti_join_is_bounded_by_the_same_cursor_as_the_key() {
        let part = unassigned(Page {
            after: Some(500),
            before: None,
            take: Take::First(50),
        });
        let page = sql(&part, false);
        assert!(
            page.contains(
                r#"NOT EXISTS(SELECT 1 FROM "m" WHERE "m"."iid" = "i"."id" AND "m"."iid" > (500))"#
            ),
            "{page}"
        );
        assert!(page.contains(r#""i"."id" > (500)"#), "{page}");
        let probe = sql(&part, true);
        assert!(
            probe.contains(
                r#"NOT EXISTS(SELECT 1 FROM "m" WHERE "m"."iid" = "i"."id" AND "m"."iid" <= (500))"#
            ),
            "{probe}"
        );
    }

    #[test]
    fn a_first_page_has_an_unbounded_anti_join_and_no_probe() {
        let part = unassigned(Page {
            after: None,
            before: None,
            take: Take::First(50),
        });
        let page = sql(&part, false);
        assert!(
            page.contains(r#"NOT EXISTS(SELECT 1 FROM "m" WHERE "m"."iid" = "i"."id")"#),
            "{page}"
        );
        assert!(part.subquery(0, true).is_none());
    }
}
