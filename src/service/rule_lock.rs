//! The lock on a workspace's rules, through its row in `workspace`, and the version of the rules
//! kept there (`rules_version`).
//!
//! - A write that follows rules reads the version with the row locked `FOR KEY SHARE`
//!   ([`RulesLock::FollowFew`]), before it reads any rule. Writes share it (as does every foreign
//!   key check of a tenant row).
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
    ColumnTrait, DatabaseBackend, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, LockType},
};

use super::scope::{Scoped, Tx};

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
    let lock = match how {
        RulesLock::FollowFew | RulesLock::Follow => LockType::KeyShare,
        RulesLock::Change => LockType::Update,
    };
    let mut read = workspace::Entity::find_by_id(s.workspace().0)
        .select_only()
        .column(workspace::Column::RulesVersion)
        .lock(lock);
    if matches!(how, RulesLock::FollowFew) && s.backend() == DatabaseBackend::Postgres {
        // A condition that always holds, so the version stays the only column read.
        read = read.filter(Expr::cust(
            "set_config('plan_cache_mode', 'force_generic_plan', true) IS NOT NULL",
        ));
    }
    read.into_tuple::<i64>()
        .one(s.conn())
        .await?
        .ok_or_else(|| DbErr::RecordNotFound(format!("workspace {}", s.workspace().0)))
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
