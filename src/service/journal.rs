//! The membership history: every membership made or ended, with who or what did it, recorded in
//! the transaction that made the change and kept after the influencer or the segment is gone.
//!
//! Writes never insert history themselves. Every membership change already goes through
//! `membership_rows`, which announces it to subscribers (`Tx::announce`); the announcement also
//! goes into the write's [`Journal`], and `Scope::write` records the journal with one statement
//! before it commits, whatever the write changed. A write that changed no membership sends
//! nothing.
//!
//! Reading it is in `reads::history`.

use std::sync::Arc;

use entity::{
    enums::{ActorKind, ChangeKind as StoredChange, MembershipSource},
    membership_history_head as head, segment, segment_membership_change as change,
};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseBackend, DbErr,
    sea_query::{
        Alias, CommonTableExpression, Expr, ExprTrait, Func, InsertStatement, OnConflict, Query,
        SelectStatement, UnionType, WithClause,
    },
};

use super::{
    caller::KeyName,
    events::{ChangeKind, MembershipBatch},
    workspace::WorkspaceId,
};

/// Who or what made a membership change, as a write knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Actor {
    /// The request's caller: its API key, or the server itself when it has none.
    Caller,
    /// An automation (its id), fired by the engagement event the write records.
    Automation(Option<i64>),
    /// A segment's rule.
    Rule,
    /// The server: a delete that takes memberships with it.
    System,
}

impl Actor {
    /// Who makes a membership of `source`: the caller for MANUAL, the rule for RULE, and for
    /// AUTOMATION the automation (`automation`, when known).
    pub(crate) fn making(source: MembershipSource, automation: Option<i64>) -> Self {
        match source {
            MembershipSource::Manual => Actor::Caller,
            MembershipSource::Automation => Actor::Automation(automation),
            MembershipSource::Rule => Actor::Rule,
        }
    }
}

/// The changes one write makes, waiting to be recorded before it commits.
pub struct Journal {
    /// The key of the request the write serves.
    key: Option<Arc<KeyName>>,
    /// The engagement event the write records, which fired its automations.
    event: Option<i64>,
    pending: Vec<(MembershipBatch, Actor)>,
    /// Names of the segments this write deletes, for their changes recorded after the row is
    /// gone.
    deleted_segments: Vec<(i64, String)>,
}

/// Most batches one statement records: each is one term of a compound `SELECT`, and SQLite
/// allows 500 terms.
const BATCHES_PER_STATEMENT: usize = 200;

impl Journal {
    pub(crate) fn new(key: Option<Arc<KeyName>>) -> Self {
        Self {
            key,
            event: None,
            pending: Vec::new(),
            deleted_segments: Vec::new(),
        }
    }

    /// The key of the request the write serves; none for the server's own work.
    pub(crate) fn key(&self) -> Option<&KeyName> {
        self.key.as_deref()
    }

    /// Records that the write records engagement event `id`: the changes its automations make
    /// name it.
    pub(crate) fn engagement(&mut self, id: i64) {
        self.event = Some(id);
    }

    /// Keeps the name of a segment the write deletes after ending its memberships.
    pub(crate) fn segment_deleted(&mut self, id: i64, name: String) {
        self.deleted_segments.push((id, name));
    }

    /// Keeps a batch of changes made by `actor` until the write records them.
    pub(crate) fn add(&mut self, batch: MembershipBatch, actor: Actor) {
        if !batch.influencer_ids.is_empty() {
            self.pending.push((batch, actor));
        }
    }

    /// The batches of changes kept so far, in the order they were made (for the outbox).
    pub(crate) fn batches(&self) -> impl Iterator<Item = &MembershipBatch> {
        self.pending.iter().map(|(batch, _)| batch)
    }

    /// Inserts the changes into workspace `ws`'s history through `conn`, the write's
    /// transaction, at the next positions of the history (locking its head until the commit).
    /// One statement on PostgreSQL for up to 200 batches of any size, two on SQLite; none when
    /// nothing changed. The write's last statement: from it to the commit, writes of the
    /// workspace that change memberships take turns.
    ///
    /// `segment_owned` is the workspace's condition on `segment` (this module cannot import
    /// the scope, which holds the journal).
    pub(crate) async fn write<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        ws: WorkspaceId,
        segment_owned: Expr,
    ) -> Result<(), DbErr> {
        let backend = conn.get_database_backend();
        let pending = std::mem::take(&mut self.pending);
        if cfg!(feature = "bench-without-history") {
            return Ok(());
        }
        let total: i64 = pending
            .iter()
            .map(|(b, _)| b.influencer_ids.len() as i64)
            .sum();
        if total == 0 {
            return Ok(());
        }
        let rows = |chunk: &[(MembershipBatch, Actor)], mut before: i64, taken: &Expr| {
            let mut rows: Option<SelectStatement> = None;
            for (batch, actor) in chunk {
                let first = taken.clone().add(before);
                let select = self.rows(backend, ws, &segment_owned, (batch, *actor), first);
                before += batch.influencer_ids.len() as i64;
                match rows.as_mut() {
                    None => rows = Some(select),
                    Some(all) => {
                        all.union(UnionType::All, select);
                    }
                }
            }
            rows
        };
        if backend == DatabaseBackend::Postgres && pending.len() <= BATCHES_PER_STATEMENT {
            // One statement: the positions taken in a CTE, the rows numbered from them.
            let taken = Alias::new("taken");
            let last = Query::select()
                .column(head::Column::LastId)
                .from(taken.clone())
                .to_owned();
            let start = Expr::SubQuery(None, Box::new(last.into())).sub(total);
            let insert = insert_into(rows(&pending, 0, &start))?;
            let with = WithClause::new()
                .cte(
                    CommonTableExpression::new()
                        .query(take_positions(ws, total))
                        .table_name(taken)
                        .to_owned(),
                )
                .to_owned();
            conn.execute(&insert.with(with)).await?;
        } else {
            let last = conn
                .query_one(&take_positions(ws, total))
                .await?
                .ok_or_else(|| DbErr::Custom("the history head returned no row".into()))?
                .try_get::<i64>("", "last_id")?;
            let mut before = 0;
            for chunk in pending.chunks(BATCHES_PER_STATEMENT) {
                let insert = insert_into(rows(chunk, before, &Expr::val(last - total)))?;
                before += chunk
                    .iter()
                    .map(|(b, _)| b.influencer_ids.len() as i64)
                    .sum::<i64>();
                conn.execute(&insert).await?;
            }
        }
        Ok(())
    }

    /// `SELECT ws, id, change, influencer, ... FROM <the batch's ids>`, in [`COLUMNS`]' order,
    /// the rows numbered from position `first` + 1.
    fn rows(
        &self,
        backend: DatabaseBackend,
        ws: WorkspaceId,
        segment_owned: &Expr,
        (batch, actor): (&MembershipBatch, Actor),
        first: Expr,
    ) -> SelectStatement {
        let ids = Alias::new("ids");
        // One parameter for the ids: an array on PostgreSQL, a JSON array on SQLite.
        let (source, id_column) = match backend {
            DatabaseBackend::Postgres => (
                Func::cust(Alias::new("unnest")).arg(Expr::val(batch.influencer_ids.clone())),
                Alias::new("ids"),
            ),
            _ => (
                Func::cust(Alias::new("json_each"))
                    .arg(serde_json::to_string(&batch.influencer_ids).expect("ids serialize")),
                Alias::new("value"),
            ),
        };
        let fallback = self
            .deleted_segments
            .iter()
            .find(|(id, _)| *id == batch.segment_id)
            .map(|(_, name)| name.clone())
            .unwrap_or_default();
        // The segment's name as it is now, in this transaction: before its own deletion, the
        // row is still there; after, the name kept when it was deleted.
        let name = Query::select()
            .column(segment::Column::Name)
            .from(segment::Entity)
            .and_where(segment_owned.clone())
            .and_where(Expr::col((segment::Entity, segment::Column::Id)).eq(batch.segment_id))
            .to_owned();
        let change = match batch.change {
            ChangeKind::Added => StoredChange::Added,
            ChangeKind::Removed => StoredChange::Removed,
        };
        let actor = self.actor_row(actor);
        Query::select()
            .expr(Expr::val(ws.0))
            // Each row one of the batch's positions; which row gets which does not matter.
            .expr(first.add(Expr::cust("row_number() OVER ()")))
            .expr(Expr::val(change.to_value()))
            .expr(Expr::col((ids.clone(), id_column)))
            .expr(Expr::val(batch.segment_id))
            .expr(Func::coalesce([
                Expr::SubQuery(None, Box::new(name.into())),
                Expr::val(fallback),
            ]))
            .expr(Expr::val(batch.source().to_value()))
            .expr(Expr::val(batch.automation_id))
            .expr(Expr::val(actor.kind.to_value()))
            .expr(Expr::val(actor.key_prefix))
            .expr(Expr::val(actor.key_label))
            .expr(Expr::val(actor.automation))
            .expr(Expr::val(actor.event))
            .expr(Expr::val(batch.at))
            .from_function(source, ids)
            .to_owned()
    }

    fn actor_row(&self, actor: Actor) -> ActorRow {
        let none = ActorRow {
            kind: ActorKind::System,
            key_prefix: None,
            key_label: None,
            automation: None,
            event: None,
        };
        match actor {
            Actor::Caller => match &self.key {
                Some(key) => ActorRow {
                    kind: ActorKind::ApiKey,
                    key_prefix: Some(key.prefix.clone()),
                    key_label: Some(key.label.clone()),
                    ..none
                },
                None => none,
            },
            Actor::Automation(automation) => ActorRow {
                kind: ActorKind::Automation,
                automation,
                event: self.event,
                ..none
            },
            Actor::Rule => ActorRow {
                kind: ActorKind::Rule,
                ..none
            },
            Actor::System => none,
        }
    }
}

/// `INSERT INTO membership_history_head ... RETURNING last_id`: takes the next `n` positions of
/// workspace `ws`'s history (the last one returned). The head's row stays locked until the
/// transaction ends: a concurrent write waits here until this one has committed, so positions
/// are taken in commit order.
pub(crate) fn take_positions(ws: WorkspaceId, n: i64) -> InsertStatement {
    use head::Column as H;
    let added =
        Expr::col((head::Entity, H::LastId)).add(Expr::col((Alias::new("excluded"), H::LastId)));
    Query::insert()
        .into_table(head::Entity)
        .columns([H::WorkspaceId, H::LastId])
        .values_panic([ws.0.into(), n.into()])
        .on_conflict(
            OnConflict::column(H::WorkspaceId)
                .value(H::LastId, added)
                .to_owned(),
        )
        .returning_col(H::LastId)
        .to_owned()
}

/// `INSERT INTO segment_membership_change (...) <rows>`.
fn insert_into(rows: Option<SelectStatement>) -> Result<InsertStatement, DbErr> {
    let rows = rows.ok_or_else(|| DbErr::Custom("no history rows to insert".into()))?;
    let mut insert = Query::insert();
    insert.into_table(change::Entity).columns(COLUMNS);
    insert
        .select_from(rows)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    Ok(insert)
}

/// The actor's columns of a history row.
struct ActorRow {
    kind: ActorKind,
    key_prefix: Option<String>,
    key_label: Option<String>,
    automation: Option<i64>,
    event: Option<i64>,
}

/// The columns a history row is inserted with, in [`Journal::rows`]' order.
const COLUMNS: [change::Column; 14] = [
    change::Column::WorkspaceId,
    change::Column::Id,
    change::Column::Change,
    change::Column::InfluencerId,
    change::Column::SegmentId,
    change::Column::SegmentName,
    change::Column::Source,
    change::Column::AutomationId,
    change::Column::ActorKind,
    change::Column::ApiKeyPrefix,
    change::Column::ApiKeyLabel,
    change::Column::ActorAutomationId,
    change::Column::EventId,
    change::Column::At,
];
