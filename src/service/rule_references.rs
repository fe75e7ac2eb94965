//! What rules name: the segments and campaigns of each RULE segment's rule, kept in
//! `rule_segment_reference` and `rule_campaign_reference`, so that a segment or a campaign a
//! rule names is not deleted under it (the database refuses too).

use entity::{rule_campaign_reference, rule_segment_reference};
use sea_orm::{ActiveValue::Set, ColumnTrait, DbErr, EntityTrait, QueryFilter, QuerySelect};

use super::{
    errors::{InputError, InputErrorCode, ServiceResult},
    filter::InfluencerFilter,
    scope::{Scoped, Tx},
};

/// Something a rule can name.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Named {
    Segment(i64),
    Campaign(i64),
}

/// Records what the rule of segment `segment_id` names (instead of what it named before), so
/// that what it names cannot be deleted under it.
pub(crate) async fn store(
    tx: &mut Tx<'_>,
    segment_id: i64,
    rule: &InfluencerFilter,
) -> Result<(), DbErr> {
    forget(tx, segment_id).await?;
    let segments: Vec<_> = rule
        .named_segments()
        .into_iter()
        .map(|referred| {
            tx.owned(rule_segment_reference::ActiveModel {
                segment_id: Set(segment_id),
                referred_segment_id: Set(referred),
                ..Default::default()
            })
        })
        .collect();
    if !segments.is_empty() {
        rule_segment_reference::Entity::insert_many(segments)
            .exec_without_returning(tx.conn())
            .await?;
    }
    let campaigns: Vec<_> = rule
        .named_campaigns()
        .into_iter()
        .map(|campaign_id| {
            tx.owned(rule_campaign_reference::ActiveModel {
                segment_id: Set(segment_id),
                campaign_id: Set(campaign_id),
                ..Default::default()
            })
        })
        .collect();
    if !campaigns.is_empty() {
        rule_campaign_reference::Entity::insert_many(campaigns)
            .exec_without_returning(tx.conn())
            .await?;
    }
    Ok(())
}

/// Forgets what the rule of segment `segment_id` named (it has no rule any more, or a new one).
pub(crate) async fn forget(tx: &mut Tx<'_>, segment_id: i64) -> Result<(), DbErr> {
    tx.delete_many::<rule_segment_reference::Entity>()
        .filter(rule_segment_reference::Column::SegmentId.eq(segment_id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<rule_campaign_reference::Entity>()
        .filter(rule_campaign_reference::Column::SegmentId.eq(segment_id))
        .exec(tx.conn())
        .await?;
    Ok(())
}

/// Refuses to delete a segment or a campaign that rules name: their members would silently
/// change meaning. The error names how many rules, at `input.id`.
pub(crate) async fn refuse_deleting<S: Scoped>(s: &S, named: Named) -> ServiceResult<()> {
    let naming: Vec<i64> = match named {
        Named::Segment(id) => {
            s.find::<rule_segment_reference::Entity>()
                .select_only()
                .column(rule_segment_reference::Column::SegmentId)
                .filter(rule_segment_reference::Column::ReferredSegmentId.eq(id))
                .into_tuple()
                .all(s.conn())
                .await?
        }
        Named::Campaign(id) => {
            s.find::<rule_campaign_reference::Entity>()
                .select_only()
                .column(rule_campaign_reference::Column::SegmentId)
                .filter(rule_campaign_reference::Column::CampaignId.eq(id))
                .into_tuple()
                .all(s.conn())
                .await?
        }
    };
    if naming.is_empty() {
        return Ok(());
    }
    let what = match named {
        Named::Segment(_) => "segment",
        Named::Campaign(_) => "campaign",
    };
    Err(InputError::new(
        InputErrorCode::Invalid,
        &["input", "id"],
        format!(
            "the rules of {} RULE segment(s) name this {what}: change their rules or convert \
             them to MANUAL first",
            naming.len()
        ),
    )
    .into())
}
