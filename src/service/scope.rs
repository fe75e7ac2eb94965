//! The workspace scope: the only way service code reaches tenant tables.
//!
//! A request acts for one workspace. Instead of every query repeating
//! `.filter(X::WorkspaceId.eq(ws))` (one forgotten filter would be a cross-tenant leak), service
//! code holds a scoped handle and asks it for queries that already carry the condition:
//!
//! - [`Scope`] is a request's handle: the database, the workspace, the application's event hub
//!   and count cache, and the request's deadline. Reads run on it directly.
//! - [`Scope::write`] runs a write: it begins the transaction, hands the closure a [`Tx`] (the
//!   same helpers, on the transaction, plus the outbox of membership events), commits unless the
//!   request's deadline has passed, publishes the events, and runs the whole write again when the
//!   database aborted it for a deadlock or a serialization conflict.
//!
//! - [`on`] makes the same handle on a connection the caller manages, for command-line work.
//!
//! All implement [`Scoped`], whose helpers are the whole vocabulary: [`Scoped::find`],
//! [`Scoped::update_many`] and [`Scoped::delete_many`] add the workspace condition,
//! [`Scoped::owned`] sets `workspace_id` on a row to insert, and [`Scoped::owns`] is the condition
//! for statements built with sea-query. Outside this module no code writes the workspace
//! condition itself.

use std::sync::Arc;

use entity::{
    api_key, automation, campaign, campaign_audience, engagement_event, export_job, influencer,
    membership_history_head, rule_campaign_reference, rule_segment_reference, segment,
    segment_group, segment_group_member, segment_membership, segment_membership_change,
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection,
    DatabaseTransaction, DbErr, DeleteMany, EntityTrait, QueryFilter, Select, UpdateMany,
    sea_query::{Expr, ExprTrait, IntoColumnRef},
};

use super::{
    caller::{Caller, KeyName},
    count_cache::CountCache,
    deadline::Deadline,
    errors::{self, ServiceError, ServiceResult},
    events::{Events, MembershipBatch, Outbox},
    journal::{Actor, Journal},
    pagination::Keyed,
    rule_cache::RuleCache,
    workspace::WorkspaceId,
};

/// A table whose rows belong to a workspace.
pub trait Tenant: EntityTrait {
    /// The column naming the owning workspace.
    fn workspace_column() -> Self::Column;
}

/// A tenant table keyed by a 64-bit `id`.
pub trait Identified: Tenant {
    fn id_column() -> Self::Column;
    fn model_id(model: &Self::Model) -> i64;
}

macro_rules! tenant {
    ($($module:ident),*) => {$(
        impl Tenant for $module::Entity {
            fn workspace_column() -> Self::Column {
                $module::Column::WorkspaceId
            }
        }
    )*};
}

macro_rules! identified {
    ($($module:ident),*) => {$(
        impl Identified for $module::Entity {
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn model_id(model: &Self::Model) -> i64 {
                model.id
            }
        }

        impl Keyed for $module::Model {
            fn key(&self) -> i64 {
                self.id
            }
        }
    )*};
}

tenant!(
    influencer,
    segment,
    campaign,
    campaign_audience,
    automation,
    engagement_event,
    segment_membership,
    api_key,
    rule_segment_reference,
    rule_campaign_reference,
    segment_membership_change,
    membership_history_head,
    segment_group,
    segment_group_member,
    export_job
);
identified!(
    influencer,
    segment,
    campaign,
    automation,
    engagement_event,
    segment_membership_change,
    segment_group,
    export_job
);

/// What a scoped handle offers: the connection its statements run on, and queries of tenant
/// tables limited to its workspace.
pub trait Scoped {
    type Conn: ConnectionTrait;

    /// The connection (or transaction) to run statements on.
    fn conn(&self) -> &Self::Conn;

    /// The workspace this handle acts for: for cache keys, event batches and spans, not for
    /// conditions (use [`Scoped::owns`]).
    fn workspace(&self) -> WorkspaceId;

    fn backend(&self) -> DatabaseBackend {
        self.conn().get_database_backend()
    }

    /// The condition "`E`'s row belongs to this workspace", for statements built with sea-query.
    fn owns<E: Tenant>(&self) -> Expr {
        Expr::col((E::default(), E::workspace_column())).eq(self.workspace().0)
    }

    /// The same condition on a column given by name, for a table under an alias.
    fn owns_column(&self, column: impl IntoColumnRef) -> Expr {
        Expr::col(column).eq(self.workspace().0)
    }

    /// The workspace's rows of `E`.
    fn find<E: Tenant>(&self) -> Select<E> {
        E::find().filter(E::workspace_column().eq(self.workspace().0))
    }

    /// An update of the workspace's rows of `E` (narrow it further with `filter`).
    fn update_many<E: Tenant>(&self) -> UpdateMany<E> {
        E::update_many().filter(E::workspace_column().eq(self.workspace().0))
    }

    /// A delete of the workspace's rows of `E` (narrow it further with `filter`).
    fn delete_many<E: Tenant>(&self) -> DeleteMany<E> {
        E::delete_many().filter(E::workspace_column().eq(self.workspace().0))
    }

    /// `model` made the workspace's: its `workspace_id` set, for an insert.
    fn owned<A>(&self, mut model: A) -> A
    where
        A: ActiveModelTrait,
        A::Entity: Tenant,
    {
        model.set(
            <A::Entity as Tenant>::workspace_column(),
            self.workspace().0.into(),
        );
        model
    }
}

/// A request's handle on its workspace's data. Cheap to clone (the connection pool and the event
/// hub are shared), so loaders and background recounts keep their own.
#[derive(Clone)]
pub struct Scope {
    db: DatabaseConnection,
    ws: WorkspaceId,
    /// The API key the request came with; its writes record it as their actor.
    key: Option<Arc<KeyName>>,
    events: Events,
    deadline: Option<Arc<Deadline>>,
}

impl Scope {
    /// The workspace `ws` on `db`; writes publish to `events` and forget its kept counts.
    /// Its writes act as the server itself (the history's SYSTEM actor).
    pub fn new(db: DatabaseConnection, ws: WorkspaceId, events: Events) -> Self {
        Self::for_caller(db, Caller::from(ws), events)
    }

    /// The caller's workspace on `db`, its writes recorded as the caller's key's.
    pub fn for_caller(db: DatabaseConnection, caller: Caller, events: Events) -> Self {
        Self {
            db,
            ws: caller.workspace,
            key: caller.key,
            events,
            deadline: None,
        }
    }

    /// The same scope, for a request with this deadline: its writes commit only before it passes.
    pub fn with_deadline(mut self, deadline: Arc<Deadline>) -> Self {
        self.deadline = Some(deadline);
        self
    }

    /// The counts the application keeps (see [`CountCache`]).
    pub fn counts(&self) -> &CountCache {
        self.events.counts()
    }

    /// Runs `write` in a transaction of its own and commits it, unless the request's deadline
    /// passed first (then it is rolled back and fails). The membership events it announced are
    /// published once it has committed. A write the database aborted for a deadlock or a
    /// serialization conflict with a concurrent one runs again, up to three times in all, each
    /// time in a new transaction, so clients never see those. A write that failed because
    /// something it names was deleted meanwhile reports NOT_FOUND (see
    /// `errors::on_vanished_reference`).
    pub async fn write<T>(
        &self,
        mut write: impl AsyncFnMut(&mut Tx<'_>) -> ServiceResult<T>,
    ) -> ServiceResult<T> {
        let mut attempt = 1;
        loop {
            let result = async {
                let mut tx = Tx {
                    txn: begin_write(&self.db).await?,
                    ws: self.ws,
                    outbox: self.events.outbox(),
                    journal: Journal::new(self.key.clone()),
                    changed: true,
                    rules_held: None,
                };
                let value = write(&mut tx).await?;
                let counts = tx.changed.then(|| self.events.counts());
                for batch in tx.journal.batches() {
                    tx.outbox.add(batch);
                }
                tx.outbox.send(&tx.txn).await?;
                // Last: from the history's statement to the commit, writes of the workspace
                // that change memberships take turns (see `journal`).
                let segment_owned = on(&tx.txn, self.ws).owns::<segment::Entity>();
                tx.journal.write(&tx.txn, self.ws, segment_owned).await?;
                tx.outbox
                    .publish_after(commit(tx.txn, self.ws, counts, self.deadline.as_deref()))
                    .await?;
                Ok(value)
            }
            .await;
            match result {
                Err(ServiceError::Db(error)) if attempt < 3 && is_conflict(&error) => {
                    tracing::warn!(attempt, error = %error, "write conflict; retrying");
                    attempt += 1;
                }
                other => return other.map_err(errors::on_vanished_reference),
            }
        }
    }
}

/// Commits a write's transaction for workspace `ws`, unless its request's deadline has passed
/// (then it is rolled back and the request answered as timed out). The application's counts kept
/// for the workspace (`counts`, when the write changed anything) are forgotten once it commits.
async fn commit(
    txn: DatabaseTransaction,
    ws: WorkspaceId,
    counts: Option<&CountCache>,
    deadline: Option<&Deadline>,
) -> Result<(), DbErr> {
    if deadline.is_none_or(Deadline::begin_commit) {
        txn.commit().await?;
        if let Some(counts) = counts {
            counts.forget_workspace(ws.0);
        }
        Ok(())
    } else {
        txn.rollback().await?;
        Err(DbErr::Custom(
            "the request's deadline passed before commit".into(),
        ))
    }
}

impl Scoped for Scope {
    type Conn = DatabaseConnection;

    fn conn(&self) -> &DatabaseConnection {
        &self.db
    }

    fn workspace(&self) -> WorkspaceId {
        self.ws
    }
}

/// A write in progress: its transaction, in the scope's workspace, the membership events it
/// will publish once it commits, and the history it records before.
pub struct Tx<'a> {
    txn: DatabaseTransaction,
    ws: WorkspaceId,
    outbox: Outbox<'a>,
    journal: Journal,
    /// False once the write said it changed nothing (see [`Tx::changed_nothing`]).
    changed: bool,
    /// The version of the workspace's rules, once this transaction holds them for following
    /// (see [`Tx::hold_rules`]).
    rules_held: Option<i64>,
}

impl Tx<'_> {
    /// Records that this write changed nothing (a replayed engagement), so that its commit keeps
    /// the workspace's kept counts instead of forgetting them: a sender retrying a webhook must
    /// not make the next large count be made again.
    pub(crate) fn changed_nothing(&mut self) {
        self.changed = false;
    }

    /// Records that this transaction holds the workspace's rules for following them, at
    /// `version` (`rule_lock::RulesLock::FollowFew`, taken by a statement that read something
    /// else too): later evaluations use the version without locking again. The lock lasts until
    /// the transaction ends, and no rule changes while it is held.
    pub(crate) fn hold_rules(&mut self, version: i64) {
        self.rules_held = Some(version);
    }

    /// The version of the workspace's rules this transaction holds for following them, if any.
    pub(crate) fn rules_held(&self) -> Option<i64> {
        self.rules_held
    }

    /// The rules this application keeps compiled (see [`RuleCache`]).
    pub(crate) fn rule_cache(&self) -> &RuleCache {
        self.outbox.events().rules()
    }

    /// Announces a change of memberships to subscribers, once the write commits, and records it
    /// in the history (in this transaction), made by `actor`.
    pub(crate) fn announce(&mut self, batch: MembershipBatch, actor: Actor) {
        self.journal.add(batch, actor);
    }

    /// The API key of the request this write serves; none for the server's own work.
    pub(crate) fn key(&self) -> Option<&KeyName> {
        self.journal.key()
    }

    /// The history this write records (see [`Journal`]).
    pub(crate) fn journal(&mut self) -> &mut Journal {
        &mut self.journal
    }
}

impl Scoped for Tx<'_> {
    type Conn = DatabaseTransaction;

    fn conn(&self) -> &DatabaseTransaction {
        &self.txn
    }

    fn workspace(&self) -> WorkspaceId {
        self.ws
    }
}

/// A workspace's handle on a connection or transaction its caller manages: for command-line work
/// (API keys, the seed generator), where there is no request, deadline or live update.
pub struct On<'c, C> {
    conn: &'c C,
    ws: WorkspaceId,
}

/// Workspace `ws`'s handle on `conn`.
pub fn on<C: ConnectionTrait>(conn: &C, ws: WorkspaceId) -> On<'_, C> {
    On { conn, ws }
}

impl<C: ConnectionTrait> Scoped for On<'_, C> {
    type Conn = C;

    fn conn(&self) -> &C {
        self.conn
    }

    fn workspace(&self) -> WorkspaceId {
        self.ws
    }
}

/// Starts the transaction of a write. On SQLite it takes the write lock at `BEGIN IMMEDIATE`: a
/// deferred transaction that reads first and writes later fails at once with SQLITE_BUSY when
/// another writer committed in between, while an immediate one waits its turn (busy timeout).
/// PostgreSQL ignores the mode.
async fn begin_write(db: &DatabaseConnection) -> Result<DatabaseTransaction, DbErr> {
    use sea_orm::{SqliteTransactionMode, TransactionOptions, TransactionTrait};
    db.begin_with_options(TransactionOptions {
        sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
        ..Default::default()
    })
    .await
}

/// PostgreSQL's deadlock_detected (40P01) and serialization_failure (40001); SQLite's busy
/// database once its busy timeout ran out.
fn is_conflict(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match error {
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => {
            match e.as_ref() {
                Sqlx::Database(db) => {
                    matches!(db.code().as_deref(), Some("40P01" | "40001" | "5" | "517"))
                }
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    /// Ways of writing the workspace condition (or setting `workspace_id`) by hand in Rust.
    const BY_HAND: [&str; 5] = [
        "WorkspaceId.eq(",
        "WorkspaceId).eq(",
        "workspace_column().eq(",
        "workspace_id: Set(",
        ".eq(ws.0)",
    ];

    /// Hand-tuned SQL that binds the workspace itself (from `Scoped::workspace`), each reviewed:
    /// a new statement that needs the condition belongs here only after the same review.
    const SQL_ALLOWED: [(&str, usize); 2] = [
        // The profile page's one statement (`profile::STATEMENT`).
        ("src/service/profile.rs", 1),
        // The first pages of many segments' members (`FIRST_MEMBER_PAGES`): the membership's
        // and the influencer's workspace.
        ("src/service/reads/influencers.rs", 2),
    ];

    fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                rust_files(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn no_code_outside_the_scope_module_writes_the_workspace_condition() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files = Vec::new();
        rust_files(&root.join("src"), &mut files);
        assert!(files.len() > 20, "the source tree was not found");
        let mut offences = Vec::new();
        for path in files {
            let relative = path
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if relative == "src/service/scope.rs" {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            for (number, line) in text.lines().enumerate() {
                if BY_HAND.iter().any(|pattern| line.contains(pattern)) {
                    offences.push(format!("{relative}:{}: {}", number + 1, line.trim()));
                }
            }
            let in_sql = text.matches("workspace_id = $").count();
            let allowed = SQL_ALLOWED
                .iter()
                .find(|(file, _)| *file == relative)
                .map_or(0, |(_, n)| *n);
            if in_sql != allowed {
                offences.push(format!(
                    "{relative}: {in_sql} SQL workspace condition(s), {allowed} reviewed"
                ));
            }
        }
        assert!(
            offences.is_empty(),
            "use the scoped handle (service::scope) instead:\n{}",
            offences.join("\n")
        );
    }
}
