//! Putting influencers into segments and taking them out, in bulk and set-based: a call with
//! 10,000 ids runs the same few statements as a call with one.

use entity::{enums::MembershipSource, influencer, segment, segment_membership};
use sea_orm::ColumnTrait;

use super::{
    errors::{ServiceError, ServiceResult},
    id_list::column_any_of,
    locks,
    membership_rows::{delete_memberships, insert_memberships},
    scope::{Scoped, Tx},
    segments::{self, SegmentTarget},
    validate,
};

/// The outcome of an assignment or removal: the segment and the (deduplicated) influencer ids
/// named in the input, in input order.
#[derive(Clone, Debug)]
pub struct MembershipChange {
    pub segment: segment::Model,
    pub influencer_ids: Vec<i64>,
}

/// Checks that every id names an influencer of the workspace, and locks them against deletion
/// until the transaction ends; errors name each missing id's position in the input list.
async fn ensure_influencers<S: Scoped>(s: &S, ids: &[i64], field: &[&str]) -> ServiceResult<()> {
    let missing =
        locks::missing_referred::<influencer::Entity, _>(s, ids, field, "influencer").await?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Input(missing))
    }
}

/// Assigns influencers to an existing segment or to one created in the same transaction.
/// Assigning someone who is already a member changes nothing.
#[tracing::instrument(name = "memberships::assign", level = "debug", skip_all, fields(workspace = tx.workspace().0, influencers = influencer_ids.len()))]
pub async fn assign(
    tx: &mut Tx<'_>,
    influencer_ids: &[i64],
    target: &SegmentTarget,
) -> ServiceResult<MembershipChange> {
    validate::bulk_size(
        influencer_ids.len(),
        super::id_list::HARD_MAX_BULK_IDS,
        &["input", "influencerIds"],
    )?;
    // Reads first: on PostgreSQL a failed insert (a name taken concurrently) aborts the
    // transaction, so nothing may run after `resolve`'s.
    let influencers = ensure_influencers(tx, influencer_ids, &["input", "influencerIds"]).await;
    let segment = segments::resolve(tx, target, &["input", "segment"]).await;
    let segment = match (segment, influencers) {
        (Ok(segment), Ok(())) => segment,
        (segment, influencers) => return Err(merge_errors(segment.err(), influencers.err())),
    };
    let unique = validate::dedup(influencer_ids);
    insert_memberships(tx, segment.id, &unique, MembershipSource::Manual, None).await?;
    Ok(MembershipChange {
        segment,
        influencer_ids: unique,
    })
}

/// Removes influencers from a segment; those who were not members are left as they are.
#[tracing::instrument(name = "memberships::remove", level = "debug", skip_all, fields(workspace = tx.workspace().0, influencers = influencer_ids.len(), segment = segment_id))]
pub async fn remove(
    tx: &mut Tx<'_>,
    influencer_ids: &[i64],
    segment_id: i64,
) -> ServiceResult<MembershipChange> {
    validate::bulk_size(
        influencer_ids.len(),
        super::id_list::HARD_MAX_BULK_IDS,
        &["input", "influencerIds"],
    )?;
    let influencers = ensure_influencers(tx, influencer_ids, &["input", "influencerIds"]).await;
    let segment = locks::referred::<segment::Entity, _>(tx, segment_id)
        .await?
        .ok_or_else(|| segments::not_found(&["input", "segmentId"]));
    let segment = match (segment, influencers) {
        (Ok(segment), Ok(())) => segment,
        (segment, influencers) => {
            return Err(merge_errors(
                segment.err().map(Into::into),
                influencers.err(),
            ));
        }
    };
    let unique = validate::dedup(influencer_ids);
    if !unique.is_empty() {
        let backend = tx.backend();
        delete_memberships(
            tx,
            sea_orm::Condition::all()
                .add(segment_membership::Column::SegmentId.eq(segment.id))
                .add(column_any_of(
                    backend,
                    segment_membership::Column::InfluencerId,
                    unique.iter().copied(),
                )),
        )
        .await?;
    }
    Ok(MembershipChange {
        segment,
        influencer_ids: unique,
    })
}

/// Both halves' input errors together, so the caller sees every problem at once; a database
/// error wins over input errors.
pub(crate) fn merge_errors(a: Option<ServiceError>, b: Option<ServiceError>) -> ServiceError {
    let mut input = Vec::new();
    for error in [a, b].into_iter().flatten() {
        match error {
            ServiceError::Db(e) => return ServiceError::Db(e),
            ServiceError::Input(errors) => input.extend(errors),
        }
    }
    ServiceError::Input(input)
}
