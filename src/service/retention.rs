//! The membership history's retention. By default every change is kept. With a retention
//! (`HISTORY_RETENTION_DAYS`), the server deletes the changes older than it every
//! [`PRUNE_EVERY`].
//!
//! Each workspace's history is pruned from its start, in position order, up to its first change
//! that is not old enough: what is left is always a whole suffix of the history, so a cursor the
//! history still holds resumes with no gap (`reads::history::resumable` refuses a pruned one).
//! Positions follow commit order and a change's time is its write's, so they agree but for the
//! few milliseconds a write takes to commit, or a clock's difference between instances; a change
//! older than the retention behind a newer one waits for the next pruning.
//!
//! That order is also what lets pruning read the primary key alone: recording a change then
//! maintains no index on its time, which was a sixth of the cost of writing history.
//!
//! Pruning deletes a thousand changes per statement: it never holds many row locks, nor holds
//! them long, and writers recording new changes never wait for it (they insert at the history's
//! end and pruning never touches the head, so positions go on from where they were). Instances
//! sharing a database may prune at once: a batch deletes what is still there.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::{membership_history_head as head, segment_membership_change as change};
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::oneshot;

use super::{
    clock::now,
    scope::{self, Scoped},
    workspace::WorkspaceId,
};

/// How often the history is pruned.
pub const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Changes deleted per statement.
const BATCH: u64 = 1_000;

/// The running pruner; it stops when this is dropped.
pub struct Pruner {
    _stop: oneshot::Sender<()>,
}

/// Prunes changes older than `retention` now and every `every`, for as long as the returned
/// handle lives.
pub fn start(db: DatabaseConnection, retention: Duration, every: Duration) -> Pruner {
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = ticks.tick() => {
                    let Ok(age) = chrono::Duration::from_std(retention) else { return };
                    match prune(&db, now() - age).await {
                        Ok(0) => {}
                        Ok(pruned) => tracing::info!(pruned, "membership history pruned"),
                        Err(error) => tracing::warn!(%error, "pruning the membership history failed"),
                    }
                }
            }
        }
    });
    Pruner { _stop: stop }
}

/// Deletes the changes made before `before` in every workspace's history, from its start up to
/// its first change made since; returns how many it deleted.
pub async fn prune(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64, DbErr> {
    // Every workspace with a history has a head.
    let workspaces: Vec<i64> = head::Entity::find()
        .select_only()
        .column(head::Column::WorkspaceId)
        .order_by_asc(head::Column::WorkspaceId)
        .into_tuple()
        .all(db)
        .await?;
    let mut pruned = 0;
    for ws in workspaces {
        pruned += prune_workspace(&scope::on(db, WorkspaceId(ws)), before).await?;
    }
    Ok(pruned)
}

/// Prunes one workspace's history, a batch per statement.
async fn prune_workspace<S: Scoped>(s: &S, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let mut pruned = 0;
    loop {
        let oldest: Vec<(i64, DateTime<Utc>)> = s
            .find::<change::Entity>()
            .select_only()
            .column(change::Column::Id)
            .column(change::Column::At)
            .order_by_asc(change::Column::Id)
            .limit(BATCH)
            .into_tuple()
            .all(s.conn())
            .await?;
        let old = oldest.iter().take_while(|(_, at)| *at < before).count();
        let Some(&(through, _)) = oldest[..old].last() else {
            return Ok(pruned);
        };
        pruned += s
            .delete_many::<change::Entity>()
            .filter(change::Column::Id.lte(through))
            .exec(s.conn())
            .await?
            .rows_affected;
        // A batch with a change to keep, or the history's last, is where this pruning ends.
        if old < oldest.len() || (oldest.len() as u64) < BATCH {
            return Ok(pruned);
        }
    }
}
