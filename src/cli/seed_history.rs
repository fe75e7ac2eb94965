//! The seed's history and pipeline. The seed loads memberships in bulk, beside the journal; their
//! history is recorded afterwards in one statement, as made by the system when they were
//! assigned. Then an outreach pipeline (Prospect, Contacted, Negotiating, Signed, Declined) gets
//! its stages filled through the service, as clients would fill them: one influencer in 50
//! becomes a prospect, and fewer and fewer move on, each move recorded with the stage it left.

use entity::{
    enums::{ActorKind, ChangeKind},
    segment, segment_membership as membership, segment_membership_change as change,
};
use sea_orm::{
    ActiveEnum, ConnectionTrait, DatabaseConnection, DbErr, TransactionTrait,
    sea_query::{Alias, Expr, ExprTrait, Query},
};

use crate::service::{
    Scope, Scoped, ServiceResult, WorkspaceId,
    events::Events,
    groups::{self, NewGroup},
    id_list::any_of,
    journal::take_positions,
    memberships::{self, Chosen},
    moves::{self, Move},
    scope,
    segments::{self, NewSegment, SegmentTarget},
};

/// Records the memberships of `segment_ids` (loaded in bulk, `count` of them) as ADDED by the
/// system at their `assigned_at`, at the next positions of the workspace's history.
pub(super) async fn record_loaded(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    segment_ids: &[i64],
    count: u64,
) -> Result<(), DbErr> {
    if count == 0 {
        return Ok(());
    }
    let txn = db.begin().await?;
    let n = i64::try_from(count).unwrap_or(i64::MAX);
    let last: i64 = txn
        .query_one(&take_positions(ws, n))
        .await?
        .ok_or_else(|| DbErr::Custom("the history head returned no row".into()))?
        .try_get("", "last_id")?;
    let tenant = scope::on(&txn, ws);
    let m = Alias::new("m");
    let at = |column: membership::Column| Expr::col((m.clone(), column));
    let rows = Query::select()
        .expr(at(membership::Column::WorkspaceId))
        .expr(Expr::cust(format!(
            "{} + ROW_NUMBER() OVER (ORDER BY m.segment_id, m.influencer_id)",
            last - n
        )))
        .expr(Expr::val(ChangeKind::Added.to_value()))
        .expr(at(membership::Column::InfluencerId))
        .expr(at(membership::Column::SegmentId))
        .column((segment::Entity, segment::Column::Name))
        .expr(at(membership::Column::Source))
        .expr(at(membership::Column::AutomationId))
        .expr(Expr::val(ActorKind::System.to_value()))
        .expr(Expr::val(Option::<String>::None))
        .expr(Expr::val(Option::<String>::None))
        .expr(Expr::val(Option::<i64>::None))
        .expr(Expr::val(Option::<i64>::None))
        .expr(at(membership::Column::AssignedAt))
        .from_as(membership::Entity, m.clone())
        .inner_join(
            segment::Entity,
            Expr::col((segment::Entity, segment::Column::WorkspaceId))
                .equals((m.clone(), membership::Column::WorkspaceId))
                .and(
                    Expr::col((segment::Entity, segment::Column::Id))
                        .equals((m.clone(), membership::Column::SegmentId)),
                ),
        )
        .and_where(tenant.owns::<segment::Entity>())
        .and_where(any_of(
            txn.get_database_backend(),
            at(membership::Column::SegmentId),
            segment_ids.iter().copied(),
        ))
        .to_owned();
    use change::Column as C;
    let mut insert = Query::insert();
    insert
        .into_table(change::Entity)
        .columns([
            C::WorkspaceId,
            C::Id,
            C::Change,
            C::InfluencerId,
            C::SegmentId,
            C::SegmentName,
            C::Source,
            C::AutomationId,
            C::ActorKind,
            C::ApiKeyPrefix,
            C::ApiKeyLabel,
            C::ActorAutomationId,
            C::EventId,
            C::At,
        ])
        .select_from(rows)
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    txn.execute(&insert).await?;
    txn.commit().await
}

/// The stages of the seed's pipeline, and how rare each is: one influencer in `n` reaches it.
const STAGES: [(&str, u64); 5] = [
    ("Prospect", 50),
    ("Contacted", 100),
    ("Negotiating", 300),
    ("Signed", 1_000),
    ("Declined", 700),
];

/// Ids per write: within the bulk limit.
const IDS_PER_WRITE: usize = 10_000;

/// Makes the outreach pipeline and moves influencers through it; returns how many moves there
/// were.
pub(super) async fn seed_pipeline(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    batch: u64,
    ids: &[i64],
) -> ServiceResult<u64> {
    let scope = Scope::new(db.clone(), ws, Events::start(db));
    let mut stages = Vec::with_capacity(STAGES.len());
    for (name, _) in STAGES {
        let new = NewSegment {
            name: format!("{name} (seed {batch})"),
            description: Some("A stage of the outreach pipeline".into()),
            rule: None,
        };
        let made = scope
            .write(async |tx| segments::create(tx, &new).await)
            .await?;
        stages.push(made.id);
    }
    let group = NewGroup {
        name: format!("Outreach (seed {batch})"),
        exclusive: true,
        segment_ids: stages.clone(),
    };
    scope
        .write(async |tx| groups::create(tx, &group).await)
        .await?;
    let mut moves = 0;
    for (stage, (_, one_in)) in stages.iter().zip(STAGES) {
        let chosen: Vec<i64> = ids
            .iter()
            .copied()
            .filter(|id| super::mix::mix(*id as u64 ^ 41).is_multiple_of(one_in))
            .collect();
        for chunk in chosen.chunks(IDS_PER_WRITE) {
            let to = SegmentTarget::Existing(*stage);
            moves += if *stage == stages[0] {
                let chosen = Chosen::Ids(chunk.to_vec());
                scope
                    .write(async |tx| memberships::assign(tx, &chosen, &to).await)
                    .await?
                    .count as u64
            } else {
                // Into the next stage, out of the one before (entering a stage leaves the
                // others).
                let step = Move {
                    influencer_ids: chunk.to_vec(),
                    from: None,
                    to,
                };
                scope
                    .write(async |tx| moves::move_to(tx, &step).await)
                    .await?
                    .moved as u64
            };
        }
        tracing::info!(stage, moves, "seeded a pipeline stage");
    }
    Ok(moves)
}
