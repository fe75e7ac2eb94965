//! A realistic roster for trying the API and for benchmarks: `count` influencers, about one
//! segment per 300 of them with skewed sizes (a few huge, many small), one to four memberships for
//! four in five influencers (the rest Unassigned), campaigns with audiences and automations, and
//! engagement events. Every insert is set-based, thousands of rows per statement, and progress is
//! logged.

use entity::{
    automation, campaign, campaign_audience, engagement_event,
    enums::{
        AutomationAction, CampaignStatus, EngagementKind, MembershipSource, Platform, SegmentKind,
    },
    influencer, segment, segment_membership,
};
use std::sync::Arc;

use sea_orm::{
    ActiveEnum,
    ActiveValue::Set,
    ColumnTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, RuntimeErr,
    sea_query::OnConflict,
    sqlx::{self, PgConnection, PgPool},
};

use super::mix::mix;
use crate::service::{
    Scope, Scoped, ServiceResult, WorkspaceId,
    events::Events,
    filter::{EngagedInput, FilterInput, IntRange},
    now, rules, scope,
    segments::NewSegment,
    validate,
};

const NICHES: [&str; 12] = [
    "Fitness",
    "Beauty",
    "Gaming",
    "Travel",
    "Food",
    "Tech",
    "Fashion",
    "Parenting",
    "Finance",
    "Music",
    "Outdoors",
    "Pets",
];
const PLATFORMS: [Platform; 5] = [
    Platform::Instagram,
    Platform::Tiktok,
    Platform::Youtube,
    Platform::Twitch,
    Platform::X,
];
/// Rows per INSERT, kept under SQLite's 32,766 bound parameters (influencer rows have 11
/// columns, memberships 6).
const INFLUENCER_CHUNK: usize = 32_766 / 11;
const MEMBERSHIP_CHUNK: usize = 5_000;
/// Influencer rows per statement on PostgreSQL, where columns travel as arrays (twice as many
/// memberships per statement).
const PG_CHUNK: usize = 100_000;

/// What `seed` added.
#[derive(Debug, Default)]
pub struct Seeded {
    pub influencers: u64,
    pub segments: u64,
    pub memberships: u64,
    pub campaigns: u64,
    pub events: u64,
    /// RULE segments, besides `segments`.
    pub rule_segments: u64,
    /// Influencers put in a stage of the outreach pipeline, or moved to the next.
    pub pipeline_moves: u64,
}

/// A number in [0, 1) for `n` and a salt.
fn unit(n: u64, salt: u64) -> f64 {
    (mix(n ^ salt.wrapping_mul(0x1000_0000_01B3)) >> 11) as f64 / (1u64 << 53) as f64
}

/// A segment index in 0..count, skewed towards small indices: the first few segments get most
/// members (a power law, like real rosters: "All creators" and a couple of big niches, then many
/// small campaign batches).
fn skewed(n: u64, salt: u64, count: usize) -> usize {
    ((unit(n, salt).powi(3) * count as f64) as usize).min(count - 1)
}

/// Adds `count` influencers and sorts them into segments, with campaigns and events.
pub async fn seed(db: &DatabaseConnection, ws: WorkspaceId, count: u32) -> ServiceResult<Seeded> {
    let mut seeded = Seeded::default();
    // New rows get ids above the current highest one; names continue after existing ones.
    let tenant = scope::on(db, ws);
    let last_id = tenant
        .find::<influencer::Entity>()
        .order_by_desc(influencer::Column::Id)
        .one(db)
        .await?
        .map_or(0, |i| i.id);
    let first_number = last_id as u64 + 1;
    let created_at = now();

    let numbers: Vec<u64> = (first_number..first_number + u64::from(count)).collect();
    let postgres = (db.get_database_backend() == DbBackend::Postgres)
        .then(|| db.get_postgres_connection_pool());
    if let Some(pool) = postgres {
        for chunk in numbers.chunks(PG_CHUNK) {
            insert_influencers_pg(pool, ws, chunk, created_at).await?;
            seeded.influencers += chunk.len() as u64;
            tracing::info!(
                influencers = seeded.influencers,
                of = count,
                "seeding influencers"
            );
        }
    } else {
        for chunk in numbers.chunks(INFLUENCER_CHUNK) {
            let rows = chunk.iter().map(|n| {
                let row = InfluencerRow::new(*n);
                tenant.owned(influencer::ActiveModel {
                    handle_key: Set(row.handle_key),
                    handle: Set(row.handle),
                    platform: Set(row.platform),
                    display_name_key: Set(row.display_name.as_deref().map(validate::name_key)),
                    display_name: Set(row.display_name),
                    email: Set(row.email),
                    niche_key: Set(row.niche.as_deref().map(validate::name_key)),
                    niche: Set(row.niche),
                    follower_count: Set(row.follower_count),
                    created_at: Set(created_at),
                    ..Default::default()
                })
            });
            // Any conflict, as on PostgreSQL. SQLite matches no conflict target naming `id`,
            // the rowid, even in the unique (workspace_id, id) index.
            influencer::Entity::insert_many(rows)
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(db)
                .await?;
            seeded.influencers += chunk.len() as u64;
            tracing::info!(
                influencers = seeded.influencers,
                of = count,
                "seeding influencers"
            );
        }
    }
    let ids: Vec<i64> = tenant
        .find::<influencer::Entity>()
        .select_only()
        .column(influencer::Column::Id)
        .filter(influencer::Column::Id.gt(last_id))
        .order_by_asc(influencer::Column::Id)
        .into_tuple()
        .all(db)
        .await?;

    // About one segment per 300 influencers, at least a dozen.
    let segment_count = (count as usize / 300).max(NICHES.len());
    let batch = first_number;
    let segments = (0..segment_count).map(|s| {
        let name = if s < NICHES.len() {
            format!("{} creators (seed {batch})", NICHES[s])
        } else {
            format!("Batch {s} (seed {batch})")
        };
        tenant.owned(segment::ActiveModel {
            name_key: Set(validate::name_key(&name)),
            name: Set(name),
            description: Set(None),
            created_at: Set(created_at),
            // Written out rather than left to the column's default: the statement returns the
            // rows it inserted, and a defaulted column once came back empty on SQLite.
            kind: Set(SegmentKind::Manual),
            rule: Set(None),
            ..Default::default()
        })
    });
    let mut segment_ids = Vec::with_capacity(segment_count);
    for chunk in segments.collect::<Vec<_>>().chunks(INFLUENCER_CHUNK) {
        let inserted = segment::Entity::insert_many(chunk.to_vec())
            .exec_with_returning(db)
            .await?;
        segment_ids.extend(inserted.into_iter().map(|s| s.id));
    }
    seeded.segments = segment_ids.len() as u64;

    // Four in five influencers get one to four memberships; the rest stay Unassigned.
    let assigned_at = now();
    let mut pending = Vec::with_capacity(MEMBERSHIP_CHUNK);
    let chunk_size = if postgres.is_some() {
        PG_CHUNK * 2
    } else {
        MEMBERSHIP_CHUNK
    };
    let total_hint = ids.len() * 2;
    // PostgreSQL checks each foreign key row by row, more than half the cost of a bulk insert;
    // with the table's foreign keys dropped for the load and added back (one set-based check
    // each) in the same transaction, nobody ever sees the table without them.
    let mut tx = match postgres {
        Some(pool) => Some(pool.begin().await.map_err(exec_err)?),
        None => None,
    };
    let foreign_keys = match tx.as_mut() {
        Some(tx) => drop_foreign_keys(tx, "segment_membership").await?,
        None => Vec::new(),
    };
    for (i, id) in ids.iter().enumerate() {
        let n = first_number + i as u64;
        if mix(n ^ 5) % 5 == 4 {
            continue;
        }
        let memberships = 1 + (mix(n ^ 13) % 4) as usize;
        let mut picked = [0i64; 4];
        for (m, slot) in picked.iter_mut().enumerate().take(memberships) {
            *slot = segment_ids[skewed(n, 17 + m as u64, segment_ids.len())];
        }
        // Skewed picks often repeat a segment; each membership is written once.
        let picked = &mut picked[..memberships];
        picked.sort_unstable();
        for (m, segment_id) in picked.iter().enumerate() {
            if m == 0 || picked[m - 1] != *segment_id {
                pending.push((*segment_id, *id));
            }
        }
        if pending.len() >= chunk_size {
            seeded.memberships += match tx.as_mut() {
                Some(tx) => insert_memberships_pg(tx, ws, &mut pending, assigned_at).await?,
                None => insert_memberships(db, ws, &mut pending, assigned_at).await?,
            };
            tracing::info!(
                memberships = seeded.memberships,
                of_about = total_hint,
                "seeding memberships"
            );
        }
    }
    seeded.memberships += match tx.as_mut() {
        Some(tx) => insert_memberships_pg(tx, ws, &mut pending, assigned_at).await?,
        None => insert_memberships(db, ws, &mut pending, assigned_at).await?,
    };
    if let Some(mut tx) = tx {
        restore_foreign_keys(&mut tx, "segment_membership", &foreign_keys).await?;
        tx.commit().await.map_err(exec_err)?;
    }
    tracing::info!(memberships = seeded.memberships, "seeded memberships");
    super::seed_history::record_loaded(db, ws, &segment_ids, seeded.memberships).await?;
    tracing::info!("recorded the seeded memberships' history");

    // Campaigns: one per 10,000 influencers, at least three, each aimed at one to three
    // segments, with an automation for replies and one for clicks, and some engagement.
    let campaign_count = (count as usize / 10_000).max(3);
    let automated_targets: Vec<i64> = segment_ids.iter().rev().take(2).copied().collect();
    for c in 0..campaign_count {
        let n = first_number + c as u64;
        let campaign = campaign::Entity::insert(tenant.owned(campaign::ActiveModel {
            name: Set(format!("Campaign {c} (seed {batch})")),
            status: Set(if c % 3 == 0 {
                CampaignStatus::Active
            } else {
                CampaignStatus::Draft
            }),
            created_at: Set(created_at),
            ..Default::default()
        }))
        .exec_with_returning(db)
        .await?;
        let mut audience: Vec<i64> = (0..1 + mix(n ^ 23) % 3)
            .map(|a| segment_ids[skewed(n, 29 + a, segment_ids.len())])
            .collect();
        audience.sort_unstable();
        audience.dedup();
        campaign_audience::Entity::insert_many(audience.iter().map(|segment_id| {
            tenant.owned(campaign_audience::ActiveModel {
                campaign_id: Set(campaign.id),
                segment_id: Set(*segment_id),
                ..Default::default()
            })
        }))
        .exec_without_returning(db)
        .await?;
        let automations = [EngagementKind::EmailReplied, EngagementKind::LinkClicked]
            .into_iter()
            .zip(automated_targets.iter())
            .map(|(trigger, segment_id)| {
                tenant.owned(automation::ActiveModel {
                    campaign_id: Set(campaign.id),
                    trigger: Set(trigger),
                    action: Set(AutomationAction::AssignToSegment),
                    segment_id: Set(Some(*segment_id)),
                    enabled: Set(true),
                    created_at: Set(created_at),
                    ..Default::default()
                })
            });
        automation::Entity::insert_many(automations)
            .exec_without_returning(db)
            .await?;
        // Engagement with one in 500 influencers per campaign, recorded as history (automations do not
        // run on seeded events).
        let kinds = [
            EngagementKind::EmailOpened,
            EngagementKind::EmailReplied,
            EngagementKind::LinkClicked,
        ];
        let engaged: Vec<i64> = ids
            .iter()
            .enumerate()
            .filter(|(i, _)| mix(n ^ (*i as u64) ^ 31).is_multiple_of(500))
            .map(|(_, id)| *id)
            .collect();
        for chunk in engaged.chunks(MEMBERSHIP_CHUNK) {
            let events = chunk.iter().map(|influencer_id| {
                tenant.owned(engagement_event::ActiveModel {
                    campaign_id: Set(campaign.id),
                    influencer_id: Set(*influencer_id),
                    kind: Set(kinds[(mix(*influencer_id as u64 ^ n) % 3) as usize]),
                    occurred_at: Set(created_at),
                    external_id: Set(None),
                    recorded_at: Set(created_at),
                    ..Default::default()
                })
            });
            engagement_event::Entity::insert_many(events)
                .exec_without_returning(db)
                .await?;
            seeded.events += chunk.len() as u64;
        }
        seeded.campaigns += 1;
    }
    seeded.rule_segments = seed_rules(db, ws, first_number, &segment_ids).await?;
    seeded.pipeline_moves = super::seed_history::seed_pipeline(db, ws, first_number, &ids).await?;
    tracing::info!(?seeded, "seeded");
    Ok(seeded)
}

/// The generated columns of influencer number `n`.
struct InfluencerRow {
    handle: String,
    handle_key: String,
    platform: Platform,
    display_name: Option<String>,
    email: Option<String>,
    niche: Option<String>,
    follower_count: Option<i32>,
}

impl InfluencerRow {
    fn new(n: u64) -> Self {
        let handle = format!("creator{n}");
        let niche = NICHES[(mix(n) % NICHES.len() as u64) as usize];
        Self {
            handle_key: validate::name_key(&handle),
            platform: PLATFORMS[(mix(n ^ 7) % PLATFORMS.len() as u64) as usize],
            display_name: Some(format!("Creator {n}")),
            email: (!mix(n ^ 11).is_multiple_of(4)).then(|| format!("creator{n}@example.com")),
            niche: Some(niche.to_lowercase()),
            // Log-uniform from 1,000 to about 10 million followers.
            follower_count: Some((1_000.0 * 10f64.powf(4.0 * unit(n, 3))) as i32),
            handle,
        }
    }
}

/// A driver error as the `DbErr` the rest of the service layer handles.
fn exec_err(e: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(e)))
}

/// PostgreSQL: one `INSERT ... SELECT FROM UNNEST` per chunk, each column bound as one array,
/// so a chunk of 100,000 rows is one statement with ten parameters (no per-row parameters,
/// no SQL text growing with the chunk).
async fn insert_influencers_pg(
    pool: &PgPool,
    ws: WorkspaceId,
    numbers: &[u64],
    created_at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<()> {
    let mut handles = Vec::with_capacity(numbers.len());
    let mut keys = Vec::with_capacity(numbers.len());
    let mut platforms = Vec::with_capacity(numbers.len());
    let mut names = Vec::with_capacity(numbers.len());
    let mut name_keys = Vec::with_capacity(numbers.len());
    let mut emails = Vec::with_capacity(numbers.len());
    let mut niches = Vec::with_capacity(numbers.len());
    let mut niche_keys = Vec::with_capacity(numbers.len());
    let mut followers = Vec::with_capacity(numbers.len());
    for n in numbers {
        let row = InfluencerRow::new(*n);
        handles.push(row.handle);
        keys.push(row.handle_key);
        platforms.push(row.platform.to_value());
        name_keys.push(row.display_name.as_deref().map(validate::name_key));
        names.push(row.display_name);
        emails.push(row.email);
        niche_keys.push(row.niche.as_deref().map(validate::name_key));
        niches.push(row.niche);
        followers.push(row.follower_count);
    }
    sqlx::query(
        "INSERT INTO influencer (workspace_id, handle, handle_key, platform, display_name, \
         display_name_key, email, niche, niche_key, follower_count, created_at) \
         SELECT $1, h, k, p, d, dk, e, ni, nk, f, $11 FROM UNNEST($2::text[], $3::text[], \
         $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::int4[]) \
         AS t(h, k, p, d, dk, e, ni, nk, f) \
         ON CONFLICT DO NOTHING",
    )
    .bind(ws.0)
    .bind(handles)
    .bind(keys)
    .bind(platforms)
    .bind(names)
    .bind(name_keys)
    .bind(emails)
    .bind(niches)
    .bind(niche_keys)
    .bind(followers)
    .bind(created_at)
    .execute(pool)
    .await
    .map_err(exec_err)?;
    Ok(())
}

/// Drops the foreign keys of `table`, returning their names and definitions to restore.
async fn drop_foreign_keys(
    conn: &mut PgConnection,
    table: &str,
) -> ServiceResult<Vec<(String, String)>> {
    let keys: Vec<(String, String)> = sqlx::query_as(
        "SELECT conname::text, pg_get_constraintdef(oid) FROM pg_constraint \
         WHERE conrelid = $1::regclass AND contype = 'f'",
    )
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(exec_err)?;
    for (name, _) in &keys {
        // The table is one of ours and the name comes from the catalog, quoted.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} DROP CONSTRAINT \"{}\"",
            name.replace('"', "\"\"")
        )))
        .execute(&mut *conn)
        .await
        .map_err(exec_err)?;
    }
    Ok(keys)
}

/// Adds back what [`drop_foreign_keys`] dropped; PostgreSQL validates each key in one pass.
async fn restore_foreign_keys(
    conn: &mut PgConnection,
    table: &str,
    keys: &[(String, String)],
) -> ServiceResult<()> {
    for (name, definition) in keys {
        // The definition is PostgreSQL's own rendering of the dropped key.
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "ALTER TABLE {table} ADD CONSTRAINT \"{}\" {definition}",
            name.replace('"', "\"\"")
        )))
        .execute(&mut *conn)
        .await
        .map_err(exec_err)?;
    }
    Ok(())
}

/// PostgreSQL: inserts and empties a batch of memberships as two arrays in one statement.
async fn insert_memberships_pg(
    conn: &mut PgConnection,
    ws: WorkspaceId,
    pending: &mut Vec<(i64, i64)>,
    assigned_at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<u64> {
    if pending.is_empty() {
        return Ok(0);
    }
    // In primary-key order, so the index is filled left to right per segment.
    pending.sort_unstable();
    let (segments, influencers): (Vec<i64>, Vec<i64>) = pending.drain(..).unzip();
    let done = sqlx::query(
        "INSERT INTO segment_membership (segment_id, influencer_id, workspace_id, assigned_at, \
         source) SELECT s, i, $3, $4, $5 FROM UNNEST($1::int8[], $2::int8[]) AS t(s, i) \
         ON CONFLICT DO NOTHING",
    )
    .bind(segments)
    .bind(influencers)
    .bind(ws.0)
    .bind(assigned_at)
    .bind(MembershipSource::Manual.to_value())
    .execute(conn)
    .await
    .map_err(exec_err)?;
    Ok(done.rows_affected())
}

/// Inserts and empties a batch of (segment, influencer) memberships; duplicates are skipped.
async fn insert_memberships(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    pending: &mut Vec<(i64, i64)>,
    assigned_at: chrono::DateTime<chrono::Utc>,
) -> ServiceResult<u64> {
    if pending.is_empty() {
        return Ok(0);
    }
    let tenant = scope::on(db, ws);
    let rows = pending.drain(..).map(|(segment_id, influencer_id)| {
        tenant.owned(segment_membership::ActiveModel {
            segment_id: Set(segment_id),
            influencer_id: Set(influencer_id),
            assigned_at: Set(assigned_at),
            source: Set(MembershipSource::Manual),
            automation_id: Set(None),
            ..Default::default()
        })
    });
    let inserted = segment_membership::Entity::insert_many(rows)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(match inserted {
        sea_orm::TryInsertResult::Inserted(n) => n,
        _ => 0,
    })
}

/// Three RULE segments over the first three niche segments ("Fitness creators", "Beauty
/// creators", "Gaming creators"): big fitness creators, recent repliers, and those in both of the
/// first two. Their members are all in segments already, so Unassigned is as without them. Made
/// through the service, as `createSegment` makes them: each is filled by its rule.
async fn seed_rules(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    batch: u64,
    segment_ids: &[i64],
) -> ServiceResult<u64> {
    let [first, second, third, ..] = segment_ids else {
        return Ok(0);
    };
    let niches = vec![*first, *second, *third];
    let made: [(String, FilterInput); 3] = [
        (
            format!("Big fitness creators (seed {batch})"),
            FilterInput {
                in_any_segment: Some(niches.clone()),
                niche_in: Some(vec!["fitness".into()]),
                follower_count: Some(IntRange {
                    min: Some(100_000),
                    max: None,
                }),
                ..FilterInput::default()
            },
        ),
        (
            format!("Replied in the last 30 days (seed {batch})"),
            FilterInput {
                in_any_segment: Some(niches),
                engaged: Some(EngagedInput {
                    kinds: Some(vec![EngagementKind::EmailReplied]),
                    within_days: Some(30),
                    ..EngagedInput::default()
                }),
                ..FilterInput::default()
            },
        ),
        (
            format!("Fitness and beauty (seed {batch})"),
            FilterInput {
                in_all_segments: Some(vec![*first, *second]),
                ..FilterInput::default()
            },
        ),
    ];
    let scope = Scope::new(db.clone(), ws, Events::start(db));
    for (name, rule) in &made {
        let segment = NewSegment {
            name: name.clone(),
            description: Some("Filled by its rule".into()),
            rule: Some(Box::new(rule.clone())),
        };
        scope
            .write(async |tx| rules::create(tx, &segment, rule).await)
            .await?;
        tracing::info!(segment = %name, "seeded a RULE segment");
    }
    Ok(made.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_sizes_are_skewed() {
        let mut sizes = [0usize; 100];
        for n in 0..100_000 {
            sizes[skewed(n, 17, 100)] += 1;
        }
        // The biggest segment holds a fifth of all picks; the smallest few hold a handful.
        assert!(sizes[0] > 20_000, "{:?}", &sizes[..5]);
        assert!(sizes[99] < 500, "{:?}", &sizes[95..]);
    }
}
