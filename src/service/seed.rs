//! Demo data for trying the API: influencers spread over a few segments (some left Unassigned),
//! and a campaign with an automation. Inserts are set-based, so large rosters load quickly.

use entity::{
    enums::{EngagementKind, MembershipSource, Platform},
    influencer, segment,
};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};

use super::{
    ServiceResult, WorkspaceId, automations, campaigns,
    memberships::insert_memberships,
    now,
    segments::{self, NewSegment, SegmentTarget},
    validate,
};

const SEGMENTS: [&str; 6] = ["Fitness", "Beauty", "Gaming", "Travel", "Food", "Tech"];
const PLATFORMS: [Platform; 5] = [
    Platform::Instagram,
    Platform::Tiktok,
    Platform::Youtube,
    Platform::Twitch,
    Platform::X,
];
/// Rows per INSERT: 9 columns each stays far below SQLite's limit on bound parameters.
const CHUNK: usize = 1000;

/// What `seed` added.
#[derive(Debug, Default)]
pub struct Seeded {
    pub influencers: u64,
    pub memberships: u64,
}

/// Adds `count` influencers and sorts four in five of them into one to three demo segments.
pub async fn seed(db: &DatabaseConnection, ws: WorkspaceId, count: u32) -> ServiceResult<Seeded> {
    let mut seeded = Seeded::default();
    let start = influencer::Entity::find()
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
        .count(db)
        .await?;
    // New rows get ids above the current highest one.
    let last_id = influencer::Entity::find()
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
        .order_by_desc(influencer::Column::Id)
        .one(db)
        .await?
        .map_or(0, |i| i.id);
    let created_at = now();
    let numbers: Vec<u64> = (start + 1..=start + u64::from(count)).collect();
    for chunk in numbers.chunks(CHUNK) {
        let rows = chunk.iter().map(|n| {
            let handle = format!("creator{n}");
            influencer::ActiveModel {
                workspace_id: Set(ws.0),
                handle_key: Set(validate::name_key(&handle)),
                handle: Set(handle),
                platform: Set(PLATFORMS[(*n as usize) % PLATFORMS.len()]),
                display_name: Set(Some(format!("Creator {n}"))),
                email: Set(Some(format!("creator{n}@example.com"))),
                niche: Set(Some(
                    SEGMENTS[(*n as usize) % SEGMENTS.len()].to_lowercase(),
                )),
                follower_count: Set(Some(((n * 7919) % 2_000_000) as i32)),
                created_at: Set(created_at),
                ..Default::default()
            }
        });
        influencer::Entity::insert_many(rows)
            .on_conflict_do_nothing()
            .exec_without_returning(db)
            .await?;
        seeded.influencers += chunk.len() as u64;
        tracing::info!(influencers = seeded.influencers, of = count, "seeding");
    }
    let new_ids: Vec<i64> = influencer::Entity::find()
        .select_only()
        .column(influencer::Column::Id)
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
        .filter(influencer::Column::Id.gt(last_id))
        .order_by_asc(influencer::Column::Id)
        .into_tuple()
        .all(db)
        .await?;

    let mut segment_ids = Vec::with_capacity(SEGMENTS.len());
    for name in SEGMENTS {
        segment_ids.push(find_or_create_segment(db, ws, name).await?);
    }
    // Influencer i joins segment i % 6, every third also (i + 1) % 6, every seventh also
    // (i + 3) % 6; every fifth stays Unassigned.
    for (s, segment_id) in segment_ids.iter().enumerate() {
        let members: Vec<i64> = new_ids
            .iter()
            .enumerate()
            .filter(|(i, _)| i % 5 != 4)
            .filter(|(i, _)| {
                i % 6 == s || (i % 3 == 0 && (i + 1) % 6 == s) || (i % 7 == 0 && (i + 3) % 6 == s)
            })
            .map(|(_, id)| *id)
            .collect();
        for chunk in members.chunks(crate::service::DEFAULT_MAX_BULK_IDS) {
            let txn = super::begin_write(db).await?;
            seeded.memberships +=
                insert_memberships(&txn, ws, *segment_id, chunk, MembershipSource::Manual, None)
                    .await?;
            super::commit(txn).await?;
        }
    }

    let campaign = campaigns::create(db, ws, "Spring launch (demo)", &segment_ids[..2]).await?;
    let replied = SegmentTarget::New(NewSegment {
        name: format!("Replied to campaign {}", campaign.id),
        description: Some("Filled by the demo campaign's automation.".into()),
    });
    automations::add(db, ws, campaign.id, EngagementKind::EmailReplied, &replied).await?;
    Ok(seeded)
}

async fn find_or_create_segment(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    name: &str,
) -> ServiceResult<i64> {
    let existing = segment::Entity::find()
        .filter(segment::Column::WorkspaceId.eq(ws.0))
        .filter(segment::Column::NameKey.eq(validate::name_key(name)))
        .one(db)
        .await?;
    Ok(match existing {
        Some(segment) => segment.id,
        None => {
            let new = NewSegment {
                name: name.to_owned(),
                description: Some(format!("Demo segment: {} creators", name.to_lowercase())),
            };
            segments::create(db, ws, new).await?.id
        }
    })
}
