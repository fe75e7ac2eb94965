//! Membership changes as events, for live updates. A write collects what it changed in an
//! [`Outbox`]; subscribers see it only once the write has committed, and see it on every server
//! instance that shares the database:
//!
//! - On PostgreSQL the outbox sends `NOTIFY` inside the write's transaction. PostgreSQL delivers
//!   notifications only when that transaction commits (never for a rolled-back one), to every
//!   session listening on the channel: each instance, this one included, has one listener task
//!   that fans the notifications out to its subscribers. No broker beyond the database.
//! - On SQLite (one process owns the file) the outbox hands its batches to the in-process
//!   channel after the commit.
//!
//! The same listener hears about revoked API keys (see [`Events::key_revocations`]), so that
//! every instance stops accepting a revoked key at once although it keeps live keys in memory.
//! Each instance confirms what it heard, and the revoking command waits for every instance's
//! confirmation ([`Revocation`]): when `api-key revoke` returns, no instance accepts the key.
//!
//! Notifications are wake-ups, not the record: a subscription reads what changed from the
//! membership history (see `service::history`), which the write recorded in its transaction. So
//! a notification that never arrives loses nothing. A subscriber that falls more than
//! `CHANNEL_CAPACITY` batches behind finds its receiver lagged, and when an instance's listening
//! connection drops, or connects again, its subscribers get [`Signal::Gap`]; either way the
//! subscription reads the history to catch up.

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
use entity::enums::MembershipSource;
use sea_orm::{ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, Statement};
use serde::{Deserialize, Serialize};
use tokio::sync::{Mutex, broadcast, oneshot, watch};

use super::{count_cache::CountCache, rule_cache::RuleCache, workspace::WorkspaceId};

/// The PostgreSQL channel membership changes travel on.
const CHANNEL: &str = "segments_api_membership";

/// The PostgreSQL channel API key revocations travel on (the payload names the revocation).
const KEYS_CHANNEL: &str = "segments_api_keys";

/// The PostgreSQL channel on which each instance confirms a revocation it has applied (the
/// payload is the revocation's name).
const KEYS_CONFIRM_CHANNEL: &str = "segments_api_keys_confirmed";

/// The `application_name` of each instance's listening connection, by which a revoking command
/// counts the instances that must confirm.
const LISTENER_APPLICATION_NAME: &str = "segments-api listener";

/// Most influencer ids in one notification: a NOTIFY payload must stay under 8,000 bytes, and an
/// id takes at most 20 with its comma.
const IDS_PER_NOTIFICATION: usize = 300;

/// How many batches a subscriber may fall behind before it is told it missed some.
const CHANNEL_CAPACITY: usize = 4096;

/// Whether a membership was made or ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Added,
    Removed,
}

/// The membership changes one statement made: influencers that entered or left one segment, all
/// with the same source. Field names are short because they travel in NOTIFY payloads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MembershipBatch {
    #[serde(rename = "w")]
    pub workspace_id: i64,
    #[serde(rename = "s")]
    pub segment_id: i64,
    #[serde(rename = "k")]
    pub change: ChangeKind,
    /// `true` when an automation made (or had made) the memberships.
    #[serde(rename = "auto")]
    pub by_automation: bool,
    /// `true` when the segment's rule made (or ended) the memberships.
    #[serde(rename = "rule", default, skip_serializing_if = "std::ops::Not::not")]
    pub by_rule: bool,
    #[serde(rename = "a")]
    pub automation_id: Option<i64>,
    #[serde(rename = "t")]
    pub at: DateTime<Utc>,
    #[serde(rename = "i")]
    pub influencer_ids: Vec<i64>,
}

impl MembershipBatch {
    pub fn source(&self) -> MembershipSource {
        if self.by_rule {
            MembershipSource::Rule
        } else if self.by_automation {
            MembershipSource::Automation
        } else {
            MembershipSource::Manual
        }
    }

    pub fn workspace(&self) -> WorkspaceId {
        WorkspaceId(self.workspace_id)
    }
}

/// What subscribers receive.
#[derive(Clone, Debug)]
pub enum Signal {
    /// Changes that committed.
    Changed(Arc<MembershipBatch>),
    /// Notifications may have been missed (the listening connection dropped, or connected
    /// again): subscribers catch up from the history.
    Gap,
}

/// The event hub of one server: where writes publish and subscriptions listen.
#[derive(Clone)]
pub struct Events {
    inner: Arc<Inner>,
}

struct Inner {
    sender: broadcast::Sender<Signal>,
    backend: DatabaseBackend,
    /// Whether the PostgreSQL listener is listening (always true in process).
    listening: watch::Receiver<bool>,
    /// Counts the key revocations heard of, and the times the listener (re)connected, when
    /// revocations may have been missed.
    key_revocations: watch::Receiver<u64>,
    /// In process (SQLite): taken by a write from before its commit until it has published, so
    /// writes publish in the order they committed.
    publishing: Mutex<()>,
    /// The counts this application keeps: its writes forget them, and so does the listener when
    /// another instance changes memberships.
    counts: CountCache,
    /// The workspaces' rules as this application compiled them.
    rules: RuleCache,
    /// Dropped with the hub, which stops the listener task.
    _stop: Option<oneshot::Sender<()>>,
}

impl Events {
    /// The hub for a database. On PostgreSQL it starts the listener task, which holds one
    /// connection of its own (outside the pool) for as long as the hub lives.
    pub fn start(db: &DatabaseConnection) -> Self {
        let (sender, _) = broadcast::channel(CHANNEL_CAPACITY);
        let backend = db.get_database_backend();
        let counts = CountCache::default();
        if backend == DatabaseBackend::Postgres {
            let (listening_tx, listening) = watch::channel(false);
            let (revoked_tx, key_revocations) = watch::channel(0);
            let (stop, stopped) = oneshot::channel();
            let pool = db.get_postgres_connection_pool().clone();
            let listener = Listener {
                sender: sender.clone(),
                listening: listening_tx,
                key_revocations: revoked_tx,
                counts: counts.clone(),
            };
            tokio::spawn(listen(pool, listener, stopped));
            Self {
                inner: Arc::new(Inner {
                    sender,
                    backend,
                    listening,
                    key_revocations,
                    publishing: Mutex::new(()),
                    counts,
                    rules: RuleCache::default(),
                    _stop: Some(stop),
                }),
            }
        } else {
            Self {
                inner: Arc::new(Inner {
                    sender,
                    backend,
                    listening: watch::channel(true).1,
                    // One process owns a SQLite file; other processes (`api-key revoke`) cannot
                    // reach it, so kept keys expire instead.
                    key_revocations: watch::channel(0).1,
                    publishing: Mutex::new(()),
                    counts,
                    rules: RuleCache::default(),
                    _stop: None,
                }),
            }
        }
    }

    /// A new subscriber's receiver. Waits (up to a few seconds) until changes can be received,
    /// so that a subscription never starts deaf; errors when the database does not answer.
    pub async fn subscribe(&self) -> Result<broadcast::Receiver<Signal>, Unavailable> {
        let receiver = self.inner.sender.subscribe();
        let mut listening = self.inner.listening.clone();
        match tokio::time::timeout(Duration::from_secs(5), listening.wait_for(|ready| *ready)).await
        {
            Ok(Ok(_)) => Ok(receiver),
            _ => Err(Unavailable),
        }
    }

    /// Changes whenever an API key may have been revoked by any instance (PostgreSQL); keys kept
    /// in memory before a change must be looked up again.
    pub fn key_revocations(&self) -> watch::Receiver<u64> {
        self.inner.key_revocations.clone()
    }

    /// The counts this application keeps (see [`CountCache`]).
    pub fn counts(&self) -> &CountCache {
        &self.inner.counts
    }

    /// The rules this application keeps compiled (see [`RuleCache`]).
    pub fn rules(&self) -> &RuleCache {
        &self.inner.rules
    }

    /// An empty outbox for one write.
    pub fn outbox(&self) -> Outbox<'_> {
        Outbox {
            events: self,
            pending: Vec::new(),
            payloads: Vec::new(),
        }
    }
}

/// Live updates cannot be received right now (the database's listener is not connected).
#[derive(Debug, thiserror::Error)]
#[error("live updates are unavailable right now; try again shortly")]
pub struct Unavailable;

/// The events of one write, published when it commits. Build with [`Events::outbox`], add with
/// [`Outbox::add`] inside the transaction, send them with [`Outbox::send`] as the transaction's
/// last statement, and commit it with [`Outbox::publish_after`] (`Scope::write` does all four:
/// writes announce through `Tx::announce`).
#[must_use = "commit the write's transaction with `Outbox::publish_after`"]
pub struct Outbox<'a> {
    events: &'a Events,
    /// Batches waiting for the commit (SQLite only: PostgreSQL holds them in the transaction).
    pending: Vec<MembershipBatch>,
    /// Notification payloads waiting for [`Outbox::send`] (PostgreSQL only): a write that
    /// changes several segments sends them all in one statement.
    payloads: Vec<String>,
}

impl Outbox<'_> {
    /// The hub the outbox publishes to.
    pub fn events(&self) -> &Events {
        self.events
    }

    /// Adds a batch (kept by the write's journal, which records it too).
    pub fn add(&mut self, batch: &MembershipBatch) {
        if batch.influencer_ids.is_empty() {
            return;
        }
        if self.events.inner.backend != DatabaseBackend::Postgres {
            self.pending.push(batch.clone());
            return;
        }
        // One payload per chunk of ids, each the batch with only that chunk: the ids are
        // copied a chunk at a time, never whole.
        let mut part = MembershipBatch {
            influencer_ids: Vec::new(),
            ..*batch
        };
        self.payloads.extend(
            batch
                .influencer_ids
                .chunks(IDS_PER_NOTIFICATION)
                .map(|chunk| {
                    part.influencer_ids = chunk.to_vec();
                    serde_json::to_string(&part).expect("a batch always serializes")
                }),
        );
    }

    /// On PostgreSQL, sends the notifications of every batch added through `conn`, which must be
    /// the write's transaction (PostgreSQL delivers them when it commits): one statement for the
    /// whole write, whatever it changed. Nothing on SQLite, where they wait for the commit in
    /// memory.
    pub async fn send<C: ConnectionTrait>(&mut self, conn: &C) -> Result<(), DbErr> {
        if self.payloads.is_empty() {
            return Ok(());
        }
        let payloads = serde_json::to_string(&std::mem::take(&mut self.payloads))
            .expect("strings always serialize");
        conn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, payload) FROM json_array_elements_text($2::json) AS payload",
            [CHANNEL.into(), payloads.into()],
        ))
        .await?;
        Ok(())
    }

    /// Runs `commit` (the write's commit) and then publishes what waited for it; nothing is
    /// published when the commit fails.
    ///
    /// Subscribers hear the changes in the order the writes committed, so the last event about a
    /// membership tells whether it exists (PostgreSQL delivers notifications in commit order).
    /// In process, a write holds the publishing turn from before its commit until it has
    /// published: the next write to commit (SQLite runs one writer at a time, from `BEGIN
    /// IMMEDIATE`) can only take the turn after that, and so publishes after it.
    pub async fn publish_after(
        self,
        commit: impl Future<Output = Result<(), DbErr>>,
    ) -> Result<(), DbErr> {
        debug_assert!(self.payloads.is_empty(), "notifications added but not sent");
        let events = self.events;
        let _turn = if self.pending.is_empty() {
            None
        } else {
            Some(events.inner.publishing.lock().await)
        };
        commit.await?;
        self.committed();
        Ok(())
    }

    fn committed(self) {
        for batch in self.pending {
            // No receivers is not an error: nobody is subscribed.
            let _ = self
                .events
                .inner
                .sender
                .send(Signal::Changed(Arc::new(batch)));
        }
    }
}

/// A key revocation announced to every instance (PostgreSQL), whose confirmations the revoking
/// command waits for. Made before the revoking transaction, so that the instances counted are
/// those listening when it commits.
pub struct Revocation {
    /// Listens for confirmations; `None` on SQLite, where no other process keeps keys.
    confirmations: Option<sea_orm::sqlx::postgres::PgListener>,
    /// Names this revocation in the notification and in the confirmations.
    name: String,
    /// Instances listening when the revocation was prepared.
    instances: usize,
}

/// A name no other revocation has: 128 random bits, hex-encoded.
fn revocation_name() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// How many instances confirmed a revocation, of those that were listening.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Confirmations {
    pub confirmed: usize,
    pub instances: usize,
}

impl Revocation {
    /// Starts listening for confirmations and counts the instances that will send one.
    pub async fn prepare(db: &DatabaseConnection) -> Result<Self, DbErr> {
        let name = revocation_name();
        if db.get_database_backend() != DatabaseBackend::Postgres {
            return Ok(Self {
                confirmations: None,
                name,
                instances: 0,
            });
        }
        use sea_orm::sqlx::{self, postgres::PgListener};
        let pool = db.get_postgres_connection_pool();
        let sql_err = |e: sqlx::Error| DbErr::Conn(sea_orm::RuntimeErr::SqlxError(e.into()));
        let mut listener = PgListener::connect_with(pool).await.map_err(sql_err)?;
        listener
            .listen(KEYS_CONFIRM_CHANNEL)
            .await
            .map_err(sql_err)?;
        let instances: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND application_name = $1",
        )
        .bind(LISTENER_APPLICATION_NAME)
        .fetch_one(pool)
        .await
        .map_err(sql_err)?;
        Ok(Self {
            confirmations: Some(listener),
            name,
            instances: usize::try_from(instances).unwrap_or(0),
        })
    }

    /// Tells every instance that an API key was revoked, when `conn`'s transaction commits.
    pub async fn notify<C: ConnectionTrait>(&self, conn: &C) -> Result<(), DbErr> {
        if self.confirmations.is_none() {
            return Ok(());
        }
        conn.execute_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "SELECT pg_notify($1, $2)",
            [KEYS_CHANNEL.into(), self.name.clone().into()],
        ))
        .await?;
        Ok(())
    }

    /// Waits, up to `timeout`, until every instance counted has confirmed the committed
    /// revocation.
    pub async fn confirmed(self, timeout: Duration) -> Confirmations {
        let mut confirmed = 0;
        if let Some(mut listener) = self.confirmations {
            let wait = async {
                while confirmed < self.instances {
                    match listener.try_recv().await {
                        Ok(Some(heard)) if heard.payload() == self.name => confirmed += 1,
                        Ok(Some(_)) => {}
                        Ok(None) | Err(_) => break,
                    }
                }
            };
            let _ = tokio::time::timeout(timeout, wait).await;
        }
        Confirmations {
            confirmed,
            instances: self.instances,
        }
    }
}

/// Where the listener task hands what it hears.
struct Listener {
    sender: broadcast::Sender<Signal>,
    listening: watch::Sender<bool>,
    key_revocations: watch::Sender<u64>,
    counts: CountCache,
}

/// The PostgreSQL listener task: receives the channels' notifications from every instance and
/// hands them to this instance's subscribers and key cache, until the hub is dropped.
async fn listen(
    pool: sea_orm::sqlx::PgPool,
    Listener {
        sender,
        listening,
        key_revocations,
        counts,
    }: Listener,
    mut stop: oneshot::Receiver<()>,
) {
    use sea_orm::sqlx::postgres::PgListener;
    let mut retry = Duration::from_millis(100);
    // A closed pool means the server is shutting down.
    while !pool.is_closed() {
        let connect = async {
            let mut listener = PgListener::connect_with(&pool).await?;
            // Named, so that a revoking command can count the instances that must confirm.
            sea_orm::sqlx::query("SELECT set_config('application_name', $1, false)")
                .bind(LISTENER_APPLICATION_NAME)
                .execute(&mut listener)
                .await?;
            listener.listen_all([CHANNEL, KEYS_CHANNEL]).await?;
            Ok::<_, sea_orm::sqlx::Error>(listener)
        };
        let mut listener = tokio::select! {
            _ = &mut stop => return,
            connected = connect => match connected {
                Ok(listener) => listener,
                Err(error) => {
                    tracing::warn!(error = %error, "live updates: cannot listen; retrying");
                    listening.send_replace(false);
                    tokio::select! {
                        _ = &mut stop => return,
                        () = tokio::time::sleep(retry) => {}
                    }
                    retry = (retry * 2).min(Duration::from_secs(5));
                    continue;
                }
            },
        };
        // Revocations sent while not listening were missed: forget every kept key.
        key_revocations.send_modify(|count| *count += 1);
        if !listening.send_replace(true) {
            tracing::info!("live updates: listening for membership changes");
        }
        retry = Duration::from_millis(100);
        // Changes committed while not listening woke nobody up.
        let _ = sender.send(Signal::Gap);
        loop {
            let next = tokio::select! {
                _ = &mut stop => return,
                next = listener.try_recv() => next,
            };
            match next {
                Ok(Some(notification)) if notification.channel() == KEYS_CHANNEL => {
                    // Kept keys are stale from here on; then the revoking command may return.
                    key_revocations.send_modify(|count| *count += 1);
                    let confirm = sea_orm::sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(KEYS_CONFIRM_CHANNEL)
                        .bind(notification.payload())
                        .execute(&mut listener)
                        .await;
                    if let Err(error) = confirm {
                        tracing::warn!(%error, "could not confirm a key revocation");
                    }
                }
                Ok(Some(notification)) => {
                    match serde_json::from_str::<MembershipBatch>(notification.payload()) {
                        Ok(batch) => {
                            // Another instance's write changes this instance's counts too.
                            counts.forget_workspace(batch.workspace_id);
                            let _ = sender.send(Signal::Changed(Arc::new(batch)));
                        }
                        Err(error) => {
                            tracing::warn!(error = %error, "live updates: unreadable notification")
                        }
                    }
                }
                // The connection dropped; anything sent meanwhile is lost to this instance.
                Ok(None) | Err(_) => {
                    tracing::warn!("live updates: lost the database connection; reconnecting");
                    listening.send_replace(false);
                    let _ = sender.send(Signal::Gap);
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_notification_fits_postgresql_payload_limit() {
        let batch = MembershipBatch {
            workspace_id: i64::MAX,
            segment_id: i64::MAX,
            change: ChangeKind::Removed,
            by_automation: true,
            by_rule: true,
            automation_id: Some(i64::MAX),
            at: Utc::now(),
            influencer_ids: vec![i64::MIN; IDS_PER_NOTIFICATION],
        };
        let payload = serde_json::to_string(&batch).unwrap();
        assert!(payload.len() < 8000, "{} bytes", payload.len());
        assert_eq!(
            serde_json::from_str::<MembershipBatch>(&payload).unwrap(),
            batch
        );
    }
}
