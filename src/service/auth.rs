//! Workspaces and API keys. A key is 256 random bits, shown once when made; only its SHA-256 is
//! stored. A fast hash is enough here (unlike passwords, a random 256-bit key cannot be guessed
//! from its hash), and a deterministic one lets a request find its key by an index lookup.

use std::{
    num::NonZeroUsize,
    sync::Mutex,
    time::{Duration, Instant},
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::{api_key, workspace};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, TransactionTrait,
};
use sha2::{Digest, Sha256};

use super::{
    caller::{Caller, KeyName},
    clock::now,
    errors::{InputError, InputErrorCode, ServiceError, ServiceResult, on_unique_violation},
    events::{self, Events},
    scope::{self, Scoped},
    validate,
    workspace::WorkspaceId,
};
use crate::sync::lock;

/// Every key starts with this, so leaked keys are easy to recognise (and to scan for).
pub const KEY_PREFIX: &str = "sk_";
/// `sk_` and 43 base64url characters (32 bytes).
const KEY_LEN: usize = 3 + 43;
/// Characters of a key kept in clear to name it: `sk_` and 8 more.
const SHOWN: usize = 11;

/// A newly made key: the secret (show it once) and its stored record.
#[derive(Debug)]
pub struct NewKey {
    pub secret: String,
    pub record: api_key::Model,
}

/// The stored form of a key: SHA-256, hex.
pub fn hash_of(secret: &str) -> String {
    format!("{:x}", Sha256::digest(secret.as_bytes()))
}

/// The characters of a key kept in clear to name it (`sk_` and 8 more).
pub fn shown_prefix(secret: &str) -> &str {
    secret.get(..SHOWN).unwrap_or(secret)
}

/// A fresh random key.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    format!("{KEY_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes))
}

/// Whether `secret` has the shape of a key we issue (checked before any database work).
fn well_formed(secret: &str) -> bool {
    secret.len() == KEY_LEN
        && secret.starts_with(KEY_PREFIX)
        && secret[KEY_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The caller a live key stands for (its workspace and its name); `None` for a malformed, unknown
/// or revoked one.
pub async fn authenticate<C: ConnectionTrait>(
    db: &C,
    secret: &str,
) -> Result<Option<Caller>, DbErr> {
    if !well_formed(secret) {
        return Ok(None);
    }
    live_key(db, &hash_of(secret)).await
}

async fn live_key<C: ConnectionTrait>(db: &C, hash: &str) -> Result<Option<Caller>, DbErr> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(hash))
        .filter(api_key::Column::RevokedAt.is_null())
        .one(db)
        .await?
        .map(|key| {
            Caller::with_key(
                WorkspaceId(key.workspace_id),
                KeyName {
                    prefix: key.prefix,
                    label: key.label,
                },
            )
        }))
}

/// Live keys seen lately, so that a request does not look its key up again: every request
/// carries a key, and looking it up was a statement per request.
///
/// Only live keys are kept (an unknown key is looked up every time). A kept key is trusted for
/// `ttl` at most, and on PostgreSQL not after any instance revokes any key (the revocation is
/// announced through `NOTIFY`, see [`Events::key_revocations`]): so a revoked key stops working
/// at once there, and within `ttl` on SQLite, whose other processes cannot tell the server.
pub struct KeyCache {
    ttl: Duration,
    revocations: tokio::sync::watch::Receiver<u64>,
    kept: Mutex<lru::LruCache<String, Kept>>,
}

struct Kept {
    caller: Caller,
    at: Instant,
    /// The revocation count when the key was looked up.
    revocations: u64,
}

/// Keys kept at most: beyond this the least recently used go.
const KEPT_KEYS: NonZeroUsize = NonZeroUsize::new(10_000).unwrap();

impl KeyCache {
    /// A cache trusting kept keys for `ttl` (zero: keep none, look every key up).
    pub fn new(events: &Events, ttl: Duration) -> Self {
        Self {
            ttl,
            revocations: events.key_revocations(),
            kept: Mutex::new(lru::LruCache::new(KEPT_KEYS)),
        }
    }

    /// As [`authenticate`], from memory when the key was found live lately.
    pub async fn authenticate<C: ConnectionTrait>(
        &self,
        db: &C,
        secret: &str,
    ) -> Result<Option<Caller>, DbErr> {
        if !well_formed(secret) {
            return Ok(None);
        }
        let hash = hash_of(secret);
        if self.ttl.is_zero() {
            return live_key(db, &hash).await;
        }
        // Read before the lookup: a revocation announced during it makes the entry stale.
        let revocations = *self.revocations.borrow();
        {
            let mut kept = lock(&self.kept);
            match kept.get(&hash) {
                Some(entry)
                    if entry.revocations == revocations && entry.at.elapsed() < self.ttl =>
                {
                    return Ok(Some(entry.caller.clone()));
                }
                // Stale: gone now, so that a key found revoked below leaves nothing behind.
                Some(_) => {
                    kept.pop(&hash);
                }
                None => {}
            }
        }
        let found = live_key(db, &hash).await?;
        if let Some(caller) = &found {
            let entry = Kept {
                caller: caller.clone(),
                at: Instant::now(),
                revocations,
            };
            lock(&self.kept).put(hash, entry);
        }
        Ok(found)
    }
}

/// Whether a presented key equals an in-memory one, in time independent of where they differ.
pub fn matches(secret: &str, expected_hash: &str) -> bool {
    let presented = hash_of(secret);
    presented.len() == expected_hash.len()
        && presented
            .bytes()
            .zip(expected_hash.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

/// Creates a workspace. Names are unique.
pub async fn create_workspace(
    db: &DatabaseConnection,
    name: &str,
) -> ServiceResult<workspace::Model> {
    let name = validate::required_text(name, 120, &["name"], "workspace name")?;
    let taken = || {
        InputError::new(
            InputErrorCode::NameTaken,
            &["name"],
            format!("a workspace named \"{name}\" already exists"),
        )
    };
    if workspace::Entity::find()
        .filter(workspace::Column::Name.eq(name.as_str()))
        .one(db)
        .await?
        .is_some()
    {
        return Err(taken().into());
    }
    workspace::ActiveModel {
        name: Set(name.clone()),
        created_at: Set(now()),
        rules_version: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| on_unique_violation(e, taken))
}

/// The workspace with this name.
pub async fn workspace_named(
    db: &DatabaseConnection,
    name: &str,
) -> ServiceResult<workspace::Model> {
    workspace::Entity::find()
        .filter(workspace::Column::Name.eq(name.trim()))
        .one(db)
        .await?
        .ok_or_else(|| {
            InputError::new(
                InputErrorCode::NotFound,
                &["workspace"],
                format!("no workspace is named \"{}\"", name.trim()),
            )
            .into()
        })
}

/// Makes a key for a workspace.
pub async fn create_key(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    label: &str,
) -> ServiceResult<NewKey> {
    let label = validate::required_text(label, 120, &["label"], "label")?;
    let secret = generate_secret();
    let record = scope::on(db, ws)
        .owned(api_key::ActiveModel {
            label: Set(label),
            prefix: Set(shown_prefix(&secret).to_owned()),
            key_hash: Set(hash_of(&secret)),
            created_at: Set(now()),
            ..Default::default()
        })
        .insert(db)
        .await?;
    Ok(NewKey { secret, record })
}

/// How long a revocation waits for the other instances to confirm that they stopped accepting
/// the key.
const REVOCATION_CONFIRM_TIMEOUT: Duration = Duration::from_secs(5);

/// A revoked key, and how many running instances (PostgreSQL) confirmed that they refuse it.
#[derive(Debug)]
pub struct Revoked {
    pub key: api_key::Model,
    pub confirmations: events::Confirmations,
}

/// Revokes the key whose shown prefix (or whole secret) is given. On PostgreSQL it returns once
/// every instance listening on the database has confirmed that it stopped accepting the key (or
/// after 5 s; an instance that did not confirm refuses the key within its
/// `API_KEY_CACHE_SECONDS`). On SQLite other processes cannot be told: see [`KeyCache`].
pub async fn revoke_key(db: &DatabaseConnection, key: &str) -> ServiceResult<Revoked> {
    let key = key.trim();
    let found = if well_formed(key) {
        api_key::Entity::find()
            .filter(api_key::Column::KeyHash.eq(hash_of(key)))
            .one(db)
            .await?
    } else {
        api_key::Entity::find()
            .filter(api_key::Column::Prefix.eq(key))
            .one(db)
            .await?
    };
    let Some(found) = found else {
        return Err(ServiceError::Input(vec![InputError::new(
            InputErrorCode::NotFound,
            &["key"],
            format!("no API key is {key}"),
        )]));
    };
    if found.revoked_at.is_some() {
        return Ok(Revoked {
            key: found,
            confirmations: events::Confirmations {
                confirmed: 0,
                instances: 0,
            },
        });
    }
    let revocation = events::Revocation::prepare(db).await?;
    let mut model: api_key::ActiveModel = found.into();
    model.revoked_at = Set(Some(now()));
    let txn = db.begin().await?;
    let revoked = model.update(&txn).await?;
    revocation.notify(&txn).await?;
    txn.commit().await?;
    Ok(Revoked {
        key: revoked,
        confirmations: revocation.confirmed(REVOCATION_CONFIRM_TIMEOUT).await,
    })
}

/// The keys of a workspace, oldest first.
pub async fn list_keys(
    db: &DatabaseConnection,
    ws: WorkspaceId,
) -> ServiceResult<Vec<api_key::Model>> {
    Ok(scope::on(db, ws)
        .find::<api_key::Entity>()
        .order_by_asc(api_key::Column::Id)
        .all(db)
        .await?)
}

/// On a database with no key at all (a first start), makes one for `ws` and returns it, so it can
/// be shown once.
pub async fn bootstrap_key(
    db: &DatabaseConnection,
    ws: WorkspaceId,
) -> ServiceResult<Option<NewKey>> {
    if api_key::Entity::find().count(db).await? > 0 {
        return Ok(None);
    }
    create_key(db, ws, "first key (made at first start)")
        .await
        .map(Some)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_well_formed_and_distinct() {
        let a = generate_secret();
        let b = generate_secret();
        assert!(well_formed(&a) && well_formed(&b));
        assert_ne!(a, b);
        assert!(!well_formed("sk_short"));
        assert!(!well_formed(&a.replace("sk_", "pk_")));
        assert!(!well_formed(&format!("{}!", &a[..a.len() - 1])));
    }

    #[test]
    fn in_memory_keys_match_only_themselves() {
        let secret = generate_secret();
        let stored = hash_of(&secret);
        assert!(matches(&secret, &stored));
        assert!(!matches(&generate_secret(), &stored));
    }
}
