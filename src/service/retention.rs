//! The membership history's retention. By default every change is kept. With a retention
//! (`HISTORY_RETENTION_DAYS`), the server deletes the changes older than it every
//! [`PRUNE_EVERY`], a thousand at a time, each batch a statement of its own: pruning never holds
//! many row locks, nor holds them long, and writers recording new changes never wait for it
//! (they insert at the history's end; pruning deletes at its start and never touches the head,
//! so positions go on from where they were). A cursor of a pruned change is refused from then
//! on (see `reads::history::resumable`). Instances sharing a database may prune at once: a batch
//! deletes what is still there.

use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::segment_membership_change as change;
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DbErr,
    sea_query::{Expr, ExprTrait, Order, Query},
};
use tokio::sync::oneshot;

use super::clock::now;

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

/// Deletes every recorded change made before `before`, in every workspace, a batch per
/// statement (oldest first); returns how many it deleted.
pub async fn prune(db: &DatabaseConnection, before: DateTime<Utc>) -> Result<u64, DbErr> {
    let key = || {
        Expr::tuple([
            Expr::col((change::Entity, change::Column::WorkspaceId)),
            Expr::col((change::Entity, change::Column::Id)),
        ])
    };
    let mut pruned = 0;
    loop {
        let oldest = Query::select()
            .column(change::Column::WorkspaceId)
            .column(change::Column::Id)
            .from(change::Entity)
            .and_where(Expr::col(change::Column::At).lt(before))
            .order_by(change::Column::At, Order::Asc)
            .limit(BATCH)
            .to_owned();
        let delete = Query::delete()
            .from_table(change::Entity)
            .and_where(key().in_subquery(oldest))
            .to_owned();
        let deleted = db.execute(&delete).await?.rows_affected();
        pruned += deleted;
        if deleted < BATCH {
            return Ok(pruned);
        }
    }
}
