//! The lock on a workspace's rules, through its row in `workspace`, and the version of the rules
//! kept there (`rules_version`).
//!
//! - A write that follows rules reads the version with the row locked `FOR KEY SHARE`
//!   ([`RulesLock::FollowFew`]), before it reads any rule. Writes share it (as does every foreign
//!   key check of a tenant row). An update of one influencer takes it in the statement that
//!   locks the influencer's row ([`changed_following_rules`]), so it costs no round trip.
//! - A rule change (create, new rule, convert, deletion of a RULE segment), and an evaluation
//!   over the whole roster, lock the row `FOR UPDATE` ([`RulesLock::Change`]) before anything
//!   else; a rule change counts the version up ([`count_rule_change`]).
//!
//! A write that came first commits before the rule change evaluates (and so is seen by it); a
//! rule change that came first commits before the write reads the version, and a row-locking
//! read that waited returns the row as the change left it, so the write evaluates the new rules.
//! Either way, once both commit, members equal matches. SQLite runs one writer at a time and
//! reads the version plainly.

use entity::{enums::SegmentKind, segment, workspace};
use sea_orm::{
    ColumnTrait, DatabaseBackend, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryResult,
    QuerySelect, QueryTrait, Select,
    sea_query::{Expr, ExprTrait, LockType, SimpleExpr},
};

use super::scope::{Identified, Scoped, Tx};

/// How a transaction holds the workspace's rules (through its row in `workspace`).
#[derive(Clone, Copy, Debug)]
pub(crate) enum RulesLock {
    /// A write that follows the rules for a few influencers it names: `FOR KEY SHARE`, which
    /// writes take together, and which the foreign keys of every tenant row take anyway; with
    /// generic plans for the rest of the transaction (see [`lock_rules`]).
    FollowFew,
    /// An evaluation over the whole roster that writes may run beside (the periodic refresh of
    /// rolling rules): `FOR KEY SHARE`, plans made for the values.
    Follow,
    /// A change of the rules, or an evaluation over the whole roster for a write: `FOR UPDATE`,
    /// alone.
    Change,
}

/// Locks the workspace's rules for the rest of the transaction and returns their version as
/// committed when the lock was granted: a row-locking read that waited for a rule change returns
/// the row as that change left it, so a write never evaluates rules older than the version it
/// read (see the module's documentation). A plain read on SQLite, whose writers take turns.
///
/// On PostgreSQL, [`RulesLock::FollowFew`] also sets `plan_cache_mode` to `force_generic_plan` for
/// the rest of the transaction, in the same statement. What follows it evaluates every affected
/// rule for one influencer (or a few) and writes a few rows, statements whose plans do not
/// depend on their values; PostgreSQL's own choice kept planning the evaluation for each call,
/// since its generic estimate of `segment_id = ANY($n)` is higher than the estimate with the
/// values in. Planning it took about 0.7 ms on a 1,000,000-influencer roster with 50 rules, and
/// running it about 0.25 ms. An evaluation over the whole roster keeps plans made for its values.
pub(crate) async fn lock_rules<S: Scoped>(s: &S, how: RulesLock) -> Result<i64, DbErr> {
    let mut read = version_read(s, how);
    if matches!(how, RulesLock::FollowFew) && s.backend() == DatabaseBackend::Postgres {
        read = read.filter(generic_plans());
    }
    read.into_tuple::<i64>()
        .one(s.conn())
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("workspace {}", s.workspace().0)))
}

/// `SELECT rules_version FROM workspace WHERE id = <the workspace>`, with the row lock `how`
/// takes.
fn version_read<S: Scoped>(s: &S, how: RulesLock) -> Select<workspace::Entity> {
    let lock = match how {
        RulesLock::FollowFew | RulesLock::Follow => LockType::KeyShare,
        RulesLock::Change => LockType::Update,
    };
    workspace::Entity::find_by_id(s.workspace().0)
        .select_only()
        .column(workspace::Column::RulesVersion)
        .lock(lock)
}

/// A condition that always holds and sets `plan_cache_mode` to `force_generic_plan` for the rest
/// of the transaction (see [`lock_rules`]), so that a statement can set it without reading
/// another column.
fn generic_plans() -> Expr {
    Expr::cust("set_config('plan_cache_mode', 'force_generic_plan', true) IS NOT NULL")
}

/// The row of `E` with this id in the workspace, locked (`FOR NO KEY UPDATE`) for a write that
/// changes it, as `locks::changed` reads it; in the same statement, the workspace's rules are
/// locked as [`RulesLock::FollowFew`] locks them, and the transaction holds their version
/// ([`Tx::hold_rules`]). A write of one row that then follows the rules takes no statement of its
/// own for their lock. `None`, with nothing held, when there is no such row.
pub(crate) async fn changed_following_rules<E: Identified>(
    tx: &mut Tx<'_>,
    id: i64,
) -> Result<Option<E::Model>, DbErr> {
    let version = version_read(tx, RulesLock::FollowFew).into_query();
    let mut read = tx
        .find::<E>()
        .filter(E::id_column().eq(id))
        .expr_as(
            SimpleExpr::SubQuery(None, Box::new(version.into())),
            VERSION,
        )
        .lock(LockType::NoKeyUpdate);
    if tx.backend() == DatabaseBackend::Postgres {
        read = read.filter(generic_plans());
    }
    let Some(read) = read
        .into_model::<WithRulesVersion<E::Model>>()
        .one(tx.conn())
        .await?
    else {
        return Ok(None);
    };
    tx.hold_rules(read.version);
    Ok(Some(read.row))
}

/// The alias of the rules' version beside a row read by [`changed_following_rules`].
const VERSION: &str = "rules_version";

/// A row with the workspace's rules version read beside it.
struct WithRulesVersion<M> {
    row: M,
    version: i64,
}

impl<M: FromQueryResult> FromQueryResult for WithRulesVersion<M> {
    fn from_query_result(res: &QueryResult, pre: &str) -> Result<Self, DbErr> {
        Ok(Self {
            row: M::from_query_result(res, pre)?,
            version: res.try_get(pre, VERSION)?,
        })
    }
}

/// Counts a change of the workspace's rules (under [`RulesLock::Change`]): every instance then
/// compiles them again.
pub(crate) async fn count_rule_change<S: Scoped>(s: &S) -> Result<(), DbErr> {
    workspace::Entity::update_many()
        .col_expr(
            workspace::Column::RulesVersion,
            Expr::col(workspace::Column::RulesVersion).add(1),
        )
        .filter(workspace::Column::Id.eq(s.workspace().0))
        .exec(s.conn())
        .await?;
    Ok(())
}

/// Locks the rules of a segment's workspace before a deletion of the segment, when it is a RULE
/// segment (its rule goes with it): the deletion then waits for the writes evaluating the rule,
/// and they for it. A MANUAL segment never becomes a RULE one.
pub(crate) async fn lock_before_deleting(tx: &mut Tx<'_>, segment_id: i64) -> Result<(), DbErr> {
    let kind: Option<SegmentKind> = tx
        .find::<segment::Entity>()
        .select_only()
        .column(segment::Column::Kind)
        .filter(segment::Column::Id.eq(segment_id))
        .into_tuple()
        .one(tx.conn())
        .await?;
    if kind == Some(SegmentKind::Rule) {
        lock_rules(tx, RulesLock::Change).await?;
        count_rule_change(tx).await?;
    }
    Ok(())
}
