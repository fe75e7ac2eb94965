//! The periodic evaluation of rules with a rolling window (`withinDays`): "replied in the last
//! 30 days" stops matching someone a month after their reply, with no write to notice it. Every
//! [`HttpConfig::rule_refresh`](crate::config::HttpConfig) the server evaluates those rules (and
//! the rules that name their segments) in each workspace that has them, one transaction per
//! workspace. Several instances serving one PostgreSQL take turns: a workspace's refresh runs
//! under a transaction-level advisory lock, and an instance that finds it taken skips that
//! workspace until the next round.

use std::time::Duration;

use sea_orm::DatabaseConnection;
use tokio::sync::oneshot;

use super::{
    errors::ServiceResult, events::Events, locks, rules, scope::Scope, workspace::WorkspaceId,
};

/// The first key of the advisory locks (the second is the workspace).
const LOCK_CLASS: i32 = 0x5e61;

/// The running refresh; it stops when this is dropped.
pub struct Refresher {
    _stop: oneshot::Sender<()>,
}

/// Starts refreshing every `every`, for as long as the returned handle lives.
pub fn start(db: DatabaseConnection, events: Events, every: Duration) -> Refresher {
    let (stop, mut stopped) = oneshot::channel::<()>();
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first tick is immediate; the first refresh comes one period after start.
        ticks.tick().await;
        loop {
            tokio::select! {
                _ = &mut stopped => return,
                _ = ticks.tick() => {
                    match refresh_all(&db, &events).await {
                        Ok(0) => {}
                        Ok(rules) => tracing::debug!(rules, "rolling rules refreshed"),
                        Err(error) => tracing::warn!(%error, "refreshing rolling rules failed"),
                    }
                }
            }
        }
    });
    Refresher { _stop: stop }
}

/// One round: every workspace with a rolling rule, each in its own transaction; returns how
/// many rules were evaluated.
pub async fn refresh_all(db: &DatabaseConnection, events: &Events) -> ServiceResult<usize> {
    let mut evaluated = 0;
    for ws in rules::workspaces_with_rolling_rules(db).await? {
        let scope = Scope::new(db.clone(), WorkspaceId(ws), events.clone());
        evaluated += scope
            .write(async |tx| {
                // One instance at a time: another holding the workspace's turn does it now.
                if !locks::try_workspace_lock(tx, LOCK_CLASS).await? {
                    tx.changed_nothing();
                    return Ok(0);
                }
                rules::refresh_rolling(tx).await
            })
            .await?;
    }
    Ok(evaluated)
}
