//! The membership rows themselves, set-based: adding and deleting them in one statement each and
//! announcing what changed. Assignment and removal, segment deletion, influencer deletion and
//! automations all end or start memberships through these two.

use entity::{enums::MembershipSource, influencer, segment_membership};
use std::collections::BTreeMap;

use sea_orm::{
    ActiveEnum, ConnectionTrait, FromQueryResult, QueryFilter,
    sea_query::{
        Alias, Asterisk, CommonTableExpression, Expr, ExprTrait, InsertStatement, OnConflict,
        Query, SelectStatement, UnionType, WithClause,
    },
};

use super::{
    clock::now,
    errors::ServiceResult,
    events::{ChangeKind, MembershipBatch},
    groups,
    id_list::any_of,
    journal::Actor,
    scope::{Scoped, Tx},
};

/// Adds influencers to a segment in one statement (`INSERT ... SELECT ... ON CONFLICT DO
/// NOTHING RETURNING`); memberships that exist already are left as they are. The new ones go to
/// the outbox; returns how many there were.
pub(crate) async fn insert_memberships(
    tx: &mut Tx<'_>,
    segment_id: i64,
    influencer_ids: &[i64],
    source: MembershipSource,
) -> ServiceResult<usize> {
    if influencer_ids.is_empty() {
        return Ok(0);
    }
    let named = any_of(
        tx.backend(),
        Expr::col((influencer::Entity, influencer::Column::Id)),
        influencer_ids.iter().copied(),
    );
    insert_memberships_where(tx, segment_id, named, source).await
}

/// Adds to a segment every influencer of the workspace that `matching` (a condition on the
/// `influencer` table) selects, in one statement, as [`insert_memberships`] does for a list of
/// ids: the whole roster takes the same one statement as ten influencers.
pub(crate) async fn insert_memberships_where(
    tx: &mut Tx<'_>,
    segment_id: i64,
    matching: sea_orm::sea_query::SimpleExpr,
    source: MembershipSource,
) -> ServiceResult<usize> {
    let actor = Actor::making(source, None);
    let siblings = groups::exclusive_siblings(tx, segment_id).await?;
    leave_stages(tx, siblings, &matching, actor).await?;
    let at = now();
    let rows = membership_rows(tx, segment_id, matching, at, source)
        // One lock order for every writer, so two overlapping bulk assignments cannot deadlock.
        .order_by(influencer::Column::Id, sea_orm::Order::Asc)
        .to_owned();
    insert_rows(tx, rows, at, source).await
}

/// Takes the influencers `matching` selects (a condition on the `influencer` table) out of
/// `stages`, the other stages of the pipeline stage they enter (see
/// `groups::exclusive_siblings`), ended by `actor`: entering one stage leaves the others in the
/// same transaction. The influencers are locked first (`FOR NO KEY UPDATE`, in id order), so two
/// writes moving one influencer into two stages take turns, and the second sees the first's
/// stage and ends it. Returns how many memberships ended.
async fn leave_stages(
    tx: &mut Tx<'_>,
    stages: Vec<i64>,
    matching: &sea_orm::sea_query::SimpleExpr,
    actor: Actor,
) -> ServiceResult<usize> {
    if stages.is_empty() {
        return Ok(0);
    }
    let id = Expr::col((influencer::Entity, influencer::Column::Id));
    let chosen = Query::select()
        .expr(id.clone())
        .from(influencer::Entity)
        .and_where(tx.owns::<influencer::Entity>())
        .and_where(matching.clone())
        .to_owned();
    let locked = chosen
        .clone()
        .order_by_expr(id, sea_orm::Order::Asc)
        .lock(sea_orm::sea_query::LockType::NoKeyUpdate)
        .to_owned();
    tx.conn().query_all(&locked).await?;
    let gone = sea_orm::Condition::all()
        .add(any_of(
            tx.backend(),
            Expr::col((
                segment_membership::Entity,
                segment_membership::Column::SegmentId,
            )),
            stages,
        ))
        .add(
            Expr::col((
                segment_membership::Entity,
                segment_membership::Column::InfluencerId,
            ))
            .in_subquery(chosen),
        );
    delete_memberships(tx, gone, actor).await
}

/// `SELECT segment_id, influencer.id, ...` for each influencer of the workspace that `matching`
/// selects: the rows of new memberships, in the table's column order for [`insert_rows`].
pub(crate) fn membership_rows<S: Scoped>(
    s: &S,
    segment_id: i64,
    matching: sea_orm::sea_query::SimpleExpr,
    at: chrono::DateTime<chrono::Utc>,
    source: MembershipSource,
) -> SelectStatement {
    Query::select()
        .expr(Expr::val(segment_id))
        .column((influencer::Entity, influencer::Column::Id))
        .column((influencer::Entity, influencer::Column::WorkspaceId))
        .expr(Expr::val(at))
        .expr(Expr::val(source.to_value()))
        .expr(Expr::val(Option::<i64>::None))
        .from(influencer::Entity)
        .and_where(s.owns::<influencer::Entity>())
        .and_where(matching)
        .to_owned()
}

/// Inserts the memberships `rows` selects (see [`membership_rows`]; several segments at once
/// with `UNION ALL`), leaving those that exist as they are, in one statement; announces the new
/// ones, a batch per segment, and returns how many there were.
pub(crate) async fn insert_rows(
    tx: &mut Tx<'_>,
    rows: SelectStatement,
    at: chrono::DateTime<chrono::Utc>,
    source: MembershipSource,
) -> ServiceResult<usize> {
    let mut insert = insert_into();
    insert
        .select_from(rows)
        .map_err(|e| sea_orm::DbErr::Custom(e.to_string()))?;
    Ok(insert_returning(tx, insert, at, source).await?.0)
}

/// The most memberships [`insert_pairs`] writes per statement (six parameters each, under
/// SQLite's 32,766).
const PAIRS_PER_INSERT: usize = 5_000;

/// Inserts the memberships `(segment, influencer)`, of influencers and segments known to be the
/// workspace's, leaving those that exist as they are, as rows of values (no select of the
/// influencers); announces the new ones and returns how many there were.
pub(crate) async fn insert_pairs(
    tx: &mut Tx<'_>,
    pairs: &[(i64, i64)],
    at: chrono::DateTime<chrono::Utc>,
    source: MembershipSource,
) -> ServiceResult<usize> {
    let workspace = tx.workspace().0;
    let mut count = 0;
    for chunk in pairs.chunks(PAIRS_PER_INSERT) {
        let mut insert = insert_into();
        for (segment, influencer) in chunk {
            insert.values_panic(pair_row(*segment, *influencer, workspace, at, source));
        }
        count += insert_returning(tx, insert, at, source).await?.0;
    }
    Ok(count)
}

/// The values of a membership `(segment, influencer)` in [`insert_into`]'s column order.
fn pair_row(
    segment: i64,
    influencer: i64,
    workspace: i64,
    at: chrono::DateTime<chrono::Utc>,
    source: MembershipSource,
) -> [sea_orm::sea_query::SimpleExpr; 6] {
    [
        segment.into(),
        influencer.into(),
        workspace.into(),
        at.into(),
        source.to_value().into(),
        Option::<i64>::None.into(),
    ]
}

/// Adds one influencer (the workspace's, locked by the write) to the target segment of each
/// automation `(segment, automation)` that fired, in one statement; the first automation of a
/// segment is the one a new membership records. Returns the segments it was newly added to, in
/// the order of `targets`.
pub(crate) async fn insert_automated(
    tx: &mut Tx<'_>,
    influencer_id: i64,
    targets: &[(i64, i64)],
) -> ServiceResult<Vec<i64>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let workspace = tx.workspace().0;
    let at = now();
    let source = MembershipSource::Automation;
    let mut insert = insert_into();
    let mut seen = Vec::with_capacity(targets.len());
    // Stages of pipelines this call enters: a second target in the same pipeline is skipped.
    let mut entered_siblings: Vec<i64> = Vec::new();
    let segments: Vec<i64> = targets.iter().map(|(segment, _)| *segment).collect();
    let mut stages = groups::exclusive_siblings_of(tx, &segments).await?;
    let influencer = Expr::col((influencer::Entity, influencer::Column::Id)).eq(influencer_id);
    for &(segment, automation) in targets {
        // Two automations of one segment: the row of the first is the one inserted.
        if seen.contains(&segment) || entered_siblings.contains(&segment) {
            continue;
        }
        let siblings = stages.remove(&segment).unwrap_or_default();
        entered_siblings.extend(&siblings);
        leave_stages(
            tx,
            siblings,
            &influencer,
            Actor::Automation(Some(automation)),
        )
        .await?;
        seen.push(segment);
        insert.values_panic([
            segment.into(),
            influencer_id.into(),
            workspace.into(),
            at.into(),
            source.to_value().into(),
            Some(automation).into(),
        ]);
    }
    let (_, added) = insert_returning(tx, insert, at, source).await?;
    seen.retain(|segment| added.contains(segment));
    Ok(seen)
}

/// `INSERT INTO segment_membership (...)` in the table's column order, leaving memberships that
/// exist as they are and returning the new ones; rows to be added.
fn insert_into() -> InsertStatement {
    use segment_membership::Column as M;
    Query::insert()
        .into_table(segment_membership::Entity)
        .columns([
            M::SegmentId,
            M::InfluencerId,
            M::WorkspaceId,
            M::AssignedAt,
            M::Source,
            M::AutomationId,
        ])
        .on_conflict(
            OnConflict::columns([M::WorkspaceId, M::SegmentId, M::InfluencerId])
                .do_nothing()
                .to_owned(),
        )
        // Only the rows this statement inserted: the memberships that are new.
        .returning(Query::returning().columns([M::SegmentId, M::InfluencerId, M::AutomationId]))
        .to_owned()
}

/// Runs an insert of [`insert_into`], announces the memberships it made, a batch per segment and
/// automation, and returns how many there were and the segments that got them (each once, in
/// order).
async fn insert_returning(
    tx: &mut Tx<'_>,
    insert: InsertStatement,
    at: chrono::DateTime<chrono::Utc>,
    source: MembershipSource,
) -> ServiceResult<(usize, Vec<i64>)> {
    let mut added = Vec::new();
    for row in tx.conn().query_all(&insert).await? {
        added.push(Added::from_row(&row)?);
    }
    let count = added.len();
    Ok((count, announce_added(tx, added, at, source)))
}

/// A membership an insert made, as its `RETURNING` gives it.
struct Added {
    segment_id: i64,
    automation_id: Option<i64>,
    influencer_id: i64,
}

impl Added {
    fn from_row(row: &sea_orm::QueryResult) -> Result<Self, sea_orm::DbErr> {
        Ok(Self {
            segment_id: row.try_get("", "segment_id")?,
            automation_id: row.try_get("", "automation_id")?,
            influencer_id: row.try_get("", "influencer_id")?,
        })
    }
}

/// Announces new memberships, a batch per segment and automation; returns the segments that got
/// them (each once, in order).
fn announce_added(
    tx: &mut Tx<'_>,
    rows: Vec<Added>,
    at: chrono::DateTime<chrono::Utc>,
    source: MembershipSource,
) -> Vec<i64> {
    let mut added: BTreeMap<(i64, Option<i64>), Vec<i64>> = BTreeMap::new();
    for row in rows {
        added
            .entry((row.segment_id, row.automation_id))
            .or_default()
            .push(row.influencer_id);
    }
    let mut segments = Vec::new();
    for ((segment_id, automation_id), mut influencer_ids) in added {
        influencer_ids.sort_unstable();
        if segments.last() != Some(&segment_id) {
            segments.push(segment_id);
        }
        // A new membership's source says who made it: the caller, an automation or a rule.
        let actor = Actor::making(source, automation_id);
        announce(
            tx,
            (segment_id, ChangeKind::Added, actor),
            source,
            automation_id,
            at,
            influencer_ids,
        );
    }
    segments
}

/// Puts one batch of changes, made by `actor`, in the outbox and the history.
fn announce(
    tx: &mut Tx<'_>,
    (segment_id, change, actor): (i64, ChangeKind, Actor),
    source: MembershipSource,
    automation_id: Option<i64>,
    at: chrono::DateTime<chrono::Utc>,
    influencer_ids: Vec<i64>,
) {
    let workspace_id = tx.workspace().0;
    tx.announce(
        MembershipBatch {
            workspace_id,
            segment_id,
            change,
            by_automation: source == MembershipSource::Automation,
            by_rule: source == MembershipSource::Rule,
            automation_id,
            at,
            influencer_ids,
        },
        actor,
    );
}

/// Deleted memberships by segment, source and automation (the key, in a stable order), with
/// the source and the influencers.
type Batches = BTreeMap<(i64, String, Option<i64>), (MembershipSource, Vec<i64>)>;

/// Deletes the memberships `filter` selects (within the workspace) in one statement
/// (`DELETE ... RETURNING`), and puts what it deleted in the outbox and the history, as ended by
/// `actor`; returns how many it deleted.
pub(crate) async fn delete_memberships(
    tx: &mut Tx<'_>,
    filter: sea_orm::Condition,
    actor: Actor,
) -> ServiceResult<usize> {
    let deleted = tx
        .delete_many::<segment_membership::Entity>()
        .filter(filter)
        .exec_with_returning(tx.conn())
        .await?;
    let count = deleted.len();
    announce_removed(tx, deleted, now(), actor);
    Ok(count)
}

/// Announces deleted memberships, ended by `actor`, one batch per segment, source and
/// automation, in a stable order.
fn announce_removed(
    tx: &mut Tx<'_>,
    deleted: Vec<segment_membership::Model>,
    at: chrono::DateTime<chrono::Utc>,
    actor: Actor,
) {
    let mut batches: Batches = BTreeMap::new();
    for row in deleted {
        batches
            .entry((row.segment_id, row.source.to_value(), row.automation_id))
            .or_insert_with(|| (row.source, Vec::new()))
            .1
            .push(row.influencer_id);
    }
    for ((segment_id, _, automation_id), (source, mut influencer_ids)) in batches {
        influencer_ids.sort_unstable();
        announce(
            tx,
            (segment_id, ChangeKind::Removed, actor),
            source,
            automation_id,
            at,
            influencer_ids,
        );
    }
}

/// Inserts the memberships `added` (as [`insert_pairs`] does, with `source`) and deletes those
/// `gone` selects, if any (as [`delete_memberships`] does, ended by `source`'s actor: the rule's),
/// announcing both; on PostgreSQL in one
/// statement, whose two data-modifying parts see the same snapshot: `gone` must select none of
/// the pairs `added` names. A write that moves an influencer into some rules and out of others
/// makes one round trip for both.
pub(crate) async fn insert_and_delete(
    tx: &mut Tx<'_>,
    added: &[(i64, i64)],
    gone: Option<sea_orm::Condition>,
    at: chrono::DateTime<chrono::Utc>,
    source: MembershipSource,
) -> ServiceResult<()> {
    let gone = match gone {
        Some(gone)
            if tx.backend() == sea_orm::DatabaseBackend::Postgres
                && !added.is_empty()
                && added.len() <= PAIRS_PER_INSERT =>
        {
            gone
        }
        gone => {
            insert_pairs(tx, added, at, source).await?;
            if let Some(gone) = gone {
                delete_memberships(tx, gone, Actor::Rule).await?;
            }
            return Ok(());
        }
    };
    use segment_membership::Column as M;
    let workspace = tx.workspace().0;
    let mut insert = insert_into();
    for (segment, influencer) in added {
        insert.values_panic(pair_row(*segment, *influencer, workspace, at, source));
    }
    let delete = Query::delete()
        .from_table(segment_membership::Entity)
        .and_where(Expr::col((segment_membership::Entity, M::WorkspaceId)).eq(workspace))
        .cond_where(gone)
        .returning_all()
        .to_owned();
    // Both return whole rows, so the two sides line up in one result; `kind` tells them apart.
    insert.returning_all();
    let (new, old, kind) = (Alias::new("new"), Alias::new("old"), Alias::new("kind"));
    let side = |table: &Alias, added: bool| {
        Query::select()
            .expr_as(Expr::val(added), kind.clone())
            .column((table.clone(), Asterisk))
            .from(table.clone())
            .to_owned()
    };
    let both = side(&new, true)
        .union(UnionType::All, side(&old, false))
        .to_owned();
    let with = WithClause::new()
        .cte(
            CommonTableExpression::new()
                .query(insert)
                .table_name(new.clone())
                .to_owned(),
        )
        .cte(
            CommonTableExpression::new()
                .query(delete)
                .table_name(old.clone())
                .to_owned(),
        )
        .to_owned();
    let (mut inserted, mut deleted) = (Vec::new(), Vec::new());
    for row in tx.conn().query_all(&both.with(with)).await? {
        if row.try_get::<bool>("", "kind")? {
            inserted.push(Added::from_row(&row)?);
        } else {
            deleted.push(segment_membership::Model::from_query_result(&row, "")?);
        }
    }
    announce_added(tx, inserted, at, source);
    announce_removed(tx, deleted, at, Actor::Rule);
    Ok(())
}
