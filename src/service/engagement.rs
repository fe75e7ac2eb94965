//! Recording what influencers did, and running the automations it triggers.

use chrono::{DateTime, Utc};
use entity::{
    automation, campaign, engagement_event,
    enums::{AutomationAction, EngagementKind},
    influencer, segment, segment_membership,
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, EntityTrait, JoinType, QueryFilter,
    QueryOrder, QuerySelect, sea_query::LockType,
};

use super::{
    clock::now,
    errors::{InputError, InputErrorCode, ServiceError, ServiceResult},
    journal::Actor,
    locks,
    membership_rows::{delete_memberships, insert_automated},
    rules::{self, Among, Change},
    scope::{Scoped, Tx},
    text::ExternalId,
};

/// An engagement to record.
#[derive(Clone, Debug)]
pub struct NewEngagement {
    pub campaign_id: i64,
    pub influencer_id: i64,
    pub kind: EngagementKind,
    pub occurred_at: Option<DateTime<Utc>>,
    pub external_id: Option<String>,
}

/// The stored event and the segments its automations newly assigned the influencer to.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub event: engagement_event::Model,
    pub assigned_segment_ids: Vec<i64>,
    /// True when `external_id` had been recorded before: nothing was written this time.
    pub replayed: bool,
}

async fn by_external_id<S: Scoped>(
    s: &S,
    external_id: &str,
) -> ServiceResult<Option<engagement_event::Model>> {
    Ok(s.find::<engagement_event::Entity>()
        .filter(engagement_event::Column::ExternalId.eq(external_id))
        .one(s.conn())
        .await?)
}

/// Stores the event and runs every enabled automation of the campaign whose trigger is the
/// event's kind. A repeat of an `external_id` changes nothing and returns the first event.
#[tracing::instrument(name = "engagement::record", level = "debug", skip_all, fields(workspace = tx.workspace().0, campaign = input.campaign_id, influencer = input.influencer_id))]
pub async fn record(tx: &mut Tx<'_>, input: &NewEngagement) -> ServiceResult<Recorded> {
    let external_id = ExternalId::parse(input.external_id.as_deref(), &["input", "externalId"])?;
    let mut errors = Vec::new();
    // The campaign and the influencer stay locked against deletion until this commits: a
    // concurrent delete of either waits, then deletes the event and the memberships made here
    // (announcing their end), or went first and this finds it gone. The influencer is locked as
    // a row this write changes (what rules say of it may change), so that the rules it follows
    // below are evaluated by one write of this influencer at a time.
    if locks::referred::<campaign::Entity, _>(tx, input.campaign_id)
        .await?
        .is_none()
    {
        errors.push(InputError::new(
            InputErrorCode::NotFound,
            &["input", "campaignId"],
            "no campaign has this id",
        ));
    }
    if locks::changed::<influencer::Entity, _>(tx, input.influencer_id)
        .await?
        .is_none()
    {
        errors.push(InputError::new(
            InputErrorCode::NotFound,
            &["input", "influencerId"],
            "no influencer has this id",
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Input(errors));
    }
    if let Some(id) = external_id.as_ref().map(ExternalId::as_str)
        && let Some(first) = by_external_id(tx, id).await?
    {
        tx.changed_nothing();
        return Ok(Recorded {
            event: first,
            assigned_segment_ids: Vec::new(),
            replayed: true,
        });
    }
    let recorded_at = now();
    let row = tx.owned(engagement_event::ActiveModel {
        campaign_id: Set(input.campaign_id),
        influencer_id: Set(input.influencer_id),
        kind: Set(input.kind),
        occurred_at: Set(input.occurred_at.unwrap_or(recorded_at)),
        external_id: Set(external_id.clone().map(Into::into)),
        recorded_at: Set(recorded_at),
        ..Default::default()
    });
    let event = match external_id.as_ref().map(ExternalId::as_str) {
        None => row.insert(tx.conn()).await?,
        Some(id) => {
            // A concurrent delivery of the same external id may have won since the lookup: the
            // insert then waits for it and does nothing, and the first event is returned.
            let inserted = engagement_event::Entity::insert(row)
                .on_conflict_do_nothing_on([
                    engagement_event::Column::WorkspaceId,
                    engagement_event::Column::ExternalId,
                ])
                .exec_without_returning(tx.conn())
                .await?;
            let stored = by_external_id(tx, id)
                .await?
                .ok_or(sea_orm::DbErr::RecordNotInserted)?;
            if !matches!(inserted, sea_orm::TryInsertResult::Inserted(1)) {
                tx.changed_nothing();
                return Ok(Recorded {
                    event: stored,
                    assigned_segment_ids: Vec::new(),
                    replayed: true,
                });
            }
            stored
        }
    };
    // The automations with their target segments, both locked against deletion in the same
    // statement: on PostgreSQL, one whose segment a concurrent deleteSegment holds is waited for
    // and then left out (the segment is gone, and deleting it disabled the automation), and a
    // delete that comes later waits for this write, then sees the memberships it made.
    let automations = tx
        .find::<automation::Entity>()
        .join(
            JoinType::InnerJoin,
            automation::Entity::belongs_to(segment::Entity)
                .from(automation::Column::SegmentId)
                .to(segment::Column::Id)
                .into(),
        )
        .filter(automation::Column::CampaignId.eq(input.campaign_id))
        .filter(automation::Column::Trigger.eq(input.kind))
        .filter(automation::Column::Enabled.eq(true))
        .filter(tx.owns::<segment::Entity>())
        .order_by_asc(automation::Column::Id)
        .lock(LockType::KeyShare)
        .all(tx.conn())
        .await?;
    let (removals, targets): (Vec<_>, Vec<_>) = automations
        .iter()
        .filter_map(|a| Some((a.segment_id?, a.id, a.action)))
        .partition(|(_, _, action)| *action == AutomationAction::RemoveFromSegment);
    let targets: Vec<(i64, i64)> = targets.into_iter().map(|(s, a, _)| (s, a)).collect();
    tx.journal().engagement(event.id);
    // Removals first: an automation that takes someone out of one segment and another that
    // puts them into it fire in that order.
    let mut left = Vec::new();
    for (segment, automation, _) in removals {
        let gone = sea_orm::Condition::all()
            .add(segment_membership::Column::SegmentId.eq(segment))
            .add(segment_membership::Column::InfluencerId.eq(input.influencer_id));
        if delete_memberships(tx, gone, Actor::Automation(Some(automation))).await? > 0 {
            left.push(segment);
        }
    }
    let assigned = insert_automated(tx, input.influencer_id, &targets).await?;
    let change = Change {
        engaged: true,
        segments: assigned.iter().chain(&left).copied().collect(),
        ..Change::default()
    };
    rules::follow(tx, &change, Among::Held(&[input.influencer_id])).await?;
    Ok(Recorded {
        event,
        assigned_segment_ids: assigned,
        replayed: false,
    })
}
