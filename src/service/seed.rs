//! A realistic roster for trying the API and for benchmarks: `count` influencers, about one
//! segment per 300 of them with skewed sizes (a few huge, many small), one to four memberships for
//! four in five influencers (the rest Unassigned), campaigns with audiences and automations, and
//! engagement events. Every insert is set-based, thousands of rows per statement, and progress is
//! logged.

use entity::{
    automation, campaign, campaign_audience, engagement_event,
    enums::{AutomationAction, CampaignStatus, EngagementKind, MembershipSource, Platform},
    influencer, segment, segment_membership,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};

use super::{ServiceResult, WorkspaceId, now, validate};

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
/// Rows per INSERT, kept under SQLite's 32,766 bound parameters (influencer rows have 9
/// columns, memberships 6).
const INFLUENCER_CHUNK: usize = 3_000;
const MEMBERSHIP_CHUNK: usize = 5_000;

/// What `seed` added.
#[derive(Debug, Default)]
pub struct Seeded {
    pub influencers: u64,
    pub segments: u64,
    pub memberships: u64,
    pub campaigns: u64,
    pub events: u64,
}

/// A deterministic pseudo-random number for `n` (splitmix64): the same seed gives the same data.
fn mix(n: u64) -> u64 {
    let mut z = n.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
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
    let last_id = influencer::Entity::find()
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
        .order_by_desc(influencer::Column::Id)
        .one(db)
        .await?
        .map_or(0, |i| i.id);
    let first_number = last_id as u64 + 1;
    let created_at = now();

    let numbers: Vec<u64> = (first_number..first_number + u64::from(count)).collect();
    for chunk in numbers.chunks(INFLUENCER_CHUNK) {
        let rows = chunk.iter().map(|n| {
            let handle = format!("creator{n}");
            let niche = NICHES[(mix(*n) % NICHES.len() as u64) as usize];
            influencer::ActiveModel {
                workspace_id: Set(ws.0),
                handle_key: Set(validate::name_key(&handle)),
                handle: Set(handle),
                platform: Set(PLATFORMS[(mix(n ^ 7) % PLATFORMS.len() as u64) as usize]),
                display_name: Set(Some(format!("Creator {n}"))),
                email: Set(
                    (!mix(n ^ 11).is_multiple_of(4)).then(|| format!("creator{n}@example.com"))
                ),
                niche: Set(Some(niche.to_lowercase())),
                // Log-uniform from 1,000 to about 10 million followers.
                follower_count: Set(Some((1_000.0 * 10f64.powf(4.0 * unit(*n, 3))) as i32)),
                created_at: Set(created_at),
                ..Default::default()
            }
        });
        influencer::Entity::insert_many(rows)
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
        seeded.influencers += chunk.len() as u64;
        tracing::info!(
            influencers = seeded.influencers,
            of = count,
            "seeding influencers"
        );
    }
    let ids: Vec<i64> = influencer::Entity::find()
        .select_only()
        .column(influencer::Column::Id)
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
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
        segment::ActiveModel {
            workspace_id: Set(ws.0),
            name_key: Set(validate::name_key(&name)),
            name: Set(name),
            description: Set(None),
            created_at: Set(created_at),
            ..Default::default()
        }
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
    for (i, id) in ids.iter().enumerate() {
        let n = first_number + i as u64;
        if mix(n ^ 5) % 5 == 4 {
            continue;
        }
        let memberships = 1 + (mix(n ^ 13) % 4);
        for m in 0..memberships {
            pending.push((segment_ids[skewed(n, 17 + m, segment_ids.len())], *id));
        }
        if pending.len() >= MEMBERSHIP_CHUNK {
            seeded.memberships += insert_memberships(db, ws, &mut pending, assigned_at).await?;
            tracing::info!(memberships = seeded.memberships, "seeding memberships");
        }
    }
    seeded.memberships += insert_memberships(db, ws, &mut pending, assigned_at).await?;

    // Campaigns: one per 10,000 influencers, at least three, each aimed at one to three
    // segments, with an automation for replies and one for clicks, and some engagement.
    let campaign_count = (count as usize / 10_000).max(3);
    let automated_targets: Vec<i64> = segment_ids.iter().rev().take(2).copied().collect();
    for c in 0..campaign_count {
        let n = first_number + c as u64;
        let campaign = campaign::Entity::insert(campaign::ActiveModel {
            workspace_id: Set(ws.0),
            name: Set(format!("Campaign {c} (seed {batch})")),
            status: Set(if c % 3 == 0 {
                CampaignStatus::Active
            } else {
                CampaignStatus::Draft
            }),
            created_at: Set(created_at),
            ..Default::default()
        })
        .exec_with_returning(db)
        .await?;
        let mut audience: Vec<i64> = (0..1 + mix(n ^ 23) % 3)
            .map(|a| segment_ids[skewed(n, 29 + a, segment_ids.len())])
            .collect();
        audience.sort_unstable();
        audience.dedup();
        campaign_audience::Entity::insert_many(audience.iter().map(|segment_id| {
            campaign_audience::ActiveModel {
                campaign_id: Set(campaign.id),
                segment_id: Set(*segment_id),
                workspace_id: Set(ws.0),
            }
        }))
        .exec_without_returning(db)
        .await?;
        let automations = [EngagementKind::EmailReplied, EngagementKind::LinkClicked]
            .into_iter()
            .zip(automated_targets.iter())
            .map(|(trigger, segment_id)| automation::ActiveModel {
                workspace_id: Set(ws.0),
                campaign_id: Set(campaign.id),
                trigger: Set(trigger),
                action: Set(AutomationAction::AssignToSegment),
                segment_id: Set(Some(*segment_id)),
                enabled: Set(true),
                created_at: Set(created_at),
                ..Default::default()
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
            let events = chunk
                .iter()
                .map(|influencer_id| engagement_event::ActiveModel {
                    workspace_id: Set(ws.0),
                    campaign_id: Set(campaign.id),
                    influencer_id: Set(*influencer_id),
                    kind: Set(kinds[(mix(*influencer_id as u64 ^ n) % 3) as usize]),
                    occurred_at: Set(created_at),
                    external_id: Set(None),
                    recorded_at: Set(created_at),
                    ..Default::default()
                });
            engagement_event::Entity::insert_many(events)
                .exec_without_returning(db)
                .await?;
            seeded.events += chunk.len() as u64;
        }
        seeded.campaigns += 1;
    }
    tracing::info!(?seeded, "seeded");
    Ok(seeded)
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
    let rows =
        pending.drain(..).map(
            |(segment_id, influencer_id)| segment_membership::ActiveModel {
                segment_id: Set(segment_id),
                influencer_id: Set(influencer_id),
                workspace_id: Set(ws.0),
                assigned_at: Set(assigned_at),
                source: Set(MembershipSource::Manual),
                automation_id: Set(None),
            },
        );
    let inserted = segment_membership::Entity::insert_many(rows)
        .on_conflict_do_nothing()
        .exec_without_returning(db)
        .await?;
    Ok(match inserted {
        sea_orm::TryInsertResult::Inserted(n) => n,
        _ => 0,
    })
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
