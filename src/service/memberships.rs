//! Putting influencers into segments and taking them out, in bulk and set-based: a call with
//! 10,000 ids runs the same few statements as a call with one.

use entity::{enums::MembershipSource, influencer, segment, segment_membership};
use std::collections::HashSet;

use sea_orm::{
    ColumnTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait, Query, SimpleExpr},
};

use super::{
    clock::now,
    errors::{ServiceError, ServiceResult, merge_errors},
    filter::{self, InfluencerFilter},
    id_list::{HARD_MAX_BULK_IDS, any_of, column_any_of},
    journal::Actor,
    locks,
    membership_rows::{delete_memberships, insert_memberships, insert_memberships_where},
    rules::{self, Among, Change},
    scope::{Scoped, Tx},
    segments::{self, SegmentTarget},
    validate,
};

/// Which influencers an assignment or removal takes.
#[derive(Clone, Debug)]
pub enum Chosen {
    /// These ids (`input.influencerIds`): every one must name an influencer.
    Ids(Vec<i64>),
    /// Every influencer the filter matches when the write runs (`input.filter`).
    Matching(Box<InfluencerFilter>),
}

/// The outcome of an assignment or removal.
#[derive(Clone, Debug)]
pub struct MembershipChange {
    pub segment: segment::Model,
    /// The (deduplicated) influencer ids named in the input, in input order; none for a filter.
    pub influencer_ids: Option<Vec<i64>>,
    /// How many memberships the call made (assign) or ended (remove).
    pub count: usize,
}

/// Checks that every id names an influencer of the workspace, and locks them against deletion
/// until the transaction ends; errors name each missing id's position in the input list.
pub(crate) async fn ensure_influencers<S: Scoped>(
    s: &S,
    ids: &[i64],
    field: &[&str],
) -> ServiceResult<()> {
    let missing =
        locks::missing_referred::<influencer::Entity, _>(s, ids, field, "influencer").await?;
    if missing.is_empty() {
        Ok(())
    } else {
        Err(ServiceError::Input(missing))
    }
}

/// Checks that every id names an influencer of the workspace and returns, in id order, those that
/// are not yet members of `segment` (every one, for a segment the write creates), locked against
/// deletion until the transaction ends (as [`ensure_influencers`]); errors name each missing id's
/// position in the input list.
///
/// Members are only read, not locked: the assignment writes nothing for them, so whatever
/// happens to them concurrently orders after it. On PostgreSQL a row lock is a write to the row,
/// so locking a thousand members that a re-assignment leaves as they are cost more than the
/// assignment itself.
pub(crate) async fn newcomers<S: Scoped>(
    s: &S,
    ids: &[i64],
    segment: Option<i64>,
    field: &[&str],
) -> ServiceResult<Vec<i64>> {
    validate::bulk_size(ids.len(), HARD_MAX_BULK_IDS, field)?;
    let unique = validate::dedup(ids);
    let members: HashSet<i64> = match segment {
        Some(segment) if !unique.is_empty() => s
            .find::<segment_membership::Entity>()
            .select_only()
            .column(segment_membership::Column::InfluencerId)
            .filter(segment_membership::Column::SegmentId.eq(segment))
            .filter(column_any_of(
                s.backend(),
                segment_membership::Column::InfluencerId,
                unique.iter().copied(),
            ))
            .into_tuple::<i64>()
            .all(s.conn())
            .await?
            .into_iter()
            .collect(),
        _ => HashSet::new(),
    };
    let others: Vec<i64> = unique
        .into_iter()
        .filter(|id| !members.contains(id))
        .collect();
    let locked = locks::referred_ids::<influencer::Entity, _>(s, &others).await?;
    let found: HashSet<i64> = members.union(&locked).copied().collect();
    let missing = super::reads::by_id::not_found(ids, &found, field, "influencer");
    if !missing.is_empty() {
        return Err(ServiceError::Input(missing));
    }
    let mut new: Vec<i64> = locked.into_iter().collect();
    new.sort_unstable();
    Ok(new)
}

/// Checks what `chosen` names: the ids (locked, as [`ensure_influencers`]), or the segments and
/// campaigns of the filter.
async fn ensure_chosen<S: Scoped>(s: &S, chosen: &Chosen) -> ServiceResult<()> {
    match chosen {
        Chosen::Ids(ids) => {
            validate::bulk_size(ids.len(), HARD_MAX_BULK_IDS, IDS_FIELD)?;
            ensure_influencers(s, ids, IDS_FIELD).await
        }
        Chosen::Matching(filter) => {
            let missing = filter::missing_references(s, filter, FILTER_FIELD).await?;
            if missing.is_empty() {
                Ok(())
            } else {
                Err(ServiceError::Input(missing))
            }
        }
    }
}

const IDS_FIELD: &[&str] = &["input", "influencerIds"];
const FILTER_FIELD: &[&str] = &["input", "filter"];

/// The condition on the `influencer` table that selects what `chosen` names.
fn chosen_condition<S: Scoped>(s: &S, chosen: &Chosen) -> SimpleExpr {
    match chosen {
        Chosen::Ids(ids) => any_of(
            s.backend(),
            Expr::col((influencer::Entity, influencer::Column::Id)),
            ids.iter().copied(),
        ),
        Chosen::Matching(filter) => filter::condition(s, filter, now()),
    }
}

/// The ids of the input, deduplicated in input order; none for a filter.
fn named_ids(chosen: &Chosen) -> Option<Vec<i64>> {
    match chosen {
        Chosen::Ids(ids) => Some(validate::dedup(ids)),
        Chosen::Matching(_) => None,
    }
}

/// Assigns influencers to an existing segment or to one created in the same transaction, in
/// one statement whatever their number (the whole roster, by a filter, included). Assigning
/// someone who is already a member changes nothing.
#[tracing::instrument(name = "memberships::assign", level = "debug", skip_all, fields(workspace = tx.workspace().0))]
pub async fn assign(
    tx: &mut Tx<'_>,
    chosen: &Chosen,
    target: &SegmentTarget,
) -> ServiceResult<MembershipChange> {
    // Reads first: on PostgreSQL a failed insert (a name taken concurrently) aborts the
    // transaction, so nothing may run after `resolve`'s.
    let existing = match target {
        SegmentTarget::Existing(id) => Some(*id),
        SegmentTarget::New(_) => None,
    };
    let newcomers = match chosen {
        Chosen::Ids(ids) => newcomers(tx, ids, existing, IDS_FIELD).await.map(Some),
        Chosen::Matching(_) => ensure_chosen(tx, chosen).await.map(|()| None),
    };
    let segment = segments::resolve(tx, target, &["input", "segment"]).await;
    let (segment, newcomers) = match (segment, newcomers) {
        (Ok(segment), Ok(newcomers)) => (segment, newcomers),
        (segment, newcomers) => return Err(merge_errors([segment.err(), newcomers.err()])),
    };
    let influencer_ids = named_ids(chosen);
    let count = match &newcomers {
        Some(ids) => insert_memberships(tx, segment.id, ids, MembershipSource::Manual).await?,
        None => {
            let matching = chosen_condition(tx, chosen);
            insert_memberships_where(tx, segment.id, matching, MembershipSource::Manual).await?
        }
    };
    follow_rules(tx, segment.id, influencer_ids.as_deref(), count).await?;
    Ok(MembershipChange {
        segment,
        influencer_ids,
        count,
    })
}

/// Removes influencers from a segment, in one statement whatever their number; those who were
/// not members are left as they are.
#[tracing::instrument(name = "memberships::remove", level = "debug", skip_all, fields(workspace = tx.workspace().0, segment = segment_id))]
pub async fn remove(
    tx: &mut Tx<'_>,
    chosen: &Chosen,
    segment_id: i64,
) -> ServiceResult<MembershipChange> {
    let influencers = ensure_chosen(tx, chosen).await;
    let segment = locks::referred::<segment::Entity, _>(tx, segment_id)
        .await?
        .ok_or_else(|| segments::not_found(&["input", "segmentId"]))
        .and_then(|segment| {
            segments::refuse_rule_segment(&segment, &["input", "segmentId"])?;
            Ok(segment)
        });
    let segment = match (segment, influencers) {
        (Ok(segment), Ok(())) => segment,
        (segment, influencers) => {
            return Err(merge_errors([
                segment.err().map(Into::into),
                influencers.err(),
            ]));
        }
    };
    let influencer_ids = named_ids(chosen);
    let count = if influencer_ids.as_ref().is_some_and(Vec::is_empty) {
        0
    } else {
        let backend = tx.backend();
        let members = match &influencer_ids {
            Some(ids) => column_any_of(
                backend,
                segment_membership::Column::InfluencerId,
                ids.iter().copied(),
            ),
            None => {
                let matched = Query::select()
                    .column((influencer::Entity, influencer::Column::Id))
                    .from(influencer::Entity)
                    .and_where(tx.owns::<influencer::Entity>())
                    .and_where(chosen_condition(tx, chosen))
                    .to_owned();
                Expr::col((
                    segment_membership::Entity,
                    segment_membership::Column::InfluencerId,
                ))
                .in_subquery(matched)
            }
        };
        delete_memberships(
            tx,
            sea_orm::Condition::all()
                .add(segment_membership::Column::SegmentId.eq(segment.id))
                .add(members),
            Actor::Caller,
        )
        .await?
    };
    follow_rules(tx, segment.id, influencer_ids.as_deref(), count).await?;
    Ok(MembershipChange {
        segment,
        influencer_ids,
        count,
    })
}

/// Keeps the rules that name `segment_id` equal to their matches after its members changed
/// (for the ids named, or everyone after a change by filter); nothing when nothing changed.
pub(crate) async fn follow_rules(
    tx: &mut Tx<'_>,
    segment_id: i64,
    ids: Option<&[i64]>,
    changed: usize,
) -> ServiceResult<()> {
    if changed == 0 {
        return Ok(());
    }
    let change = Change {
        segments: vec![segment_id],
        ..Change::default()
    };
    let among = ids.map_or(Among::Everyone, Among::These);
    rules::follow(tx, &change, among).await
}
