//! Atomic membership edits: moving influencers from one segment (or from a pipeline's other
//! stages) to another, and a set of adds and removes across segments, each all or nothing in one
//! transaction. Both take ids as `assignToSegment` does (checked, locked, deduplicated, capped)
//! and write set-based, a statement per segment.

use std::collections::HashSet;

use entity::{enums::MembershipSource, segment, segment_membership};
use sea_orm::ColumnTrait;

use super::{
    errors::{InputError, InputErrorCode, ServiceResult, merge_errors},
    groups,
    id_list::{HARD_MAX_BULK_IDS, column_any_of},
    journal::Actor,
    locks,
    membership_rows::{delete_memberships, insert_memberships},
    memberships::{ensure_influencers, follow_rules, newcomers},
    scope::{Scoped, Tx},
    segments::{self, SegmentTarget},
    validate,
};

/// A move: these influencers leave `from` (or, without it, the other stages of `to`'s pipeline)
/// and enter `to`.
#[derive(Clone, Debug)]
pub struct Move {
    pub influencer_ids: Vec<i64>,
    pub from: Option<i64>,
    pub to: SegmentTarget,
}

/// What a move did: the segment entered, and how many of the influencers entered it.
#[derive(Clone, Debug)]
pub struct Moved {
    pub segment: segment::Model,
    pub moved: usize,
}

/// Where a move's influencer ids are in its input.
const IDS_FIELD: &[&str] = &["input", "influencerIds"];

/// Influencers and a segment, for [`update_memberships`].
#[derive(Clone, Debug)]
pub struct MembershipSet {
    pub influencer_ids: Vec<i64>,
    pub segment: SegmentTarget,
}

/// An existing MANUAL segment of the workspace, locked against deletion, or the error at `field`.
async fn existing_manual<S: Scoped>(
    s: &S,
    id: i64,
    field: &[&str],
) -> ServiceResult<segment::Model> {
    let segment = locks::referred::<segment::Entity, _>(s, id)
        .await?
        .ok_or_else(|| segments::not_found(field))?;
    segments::refuse_rule_segment(&segment, field)?;
    Ok(segment)
}

/// Every error of several checks as one (see `errors::merge_errors`), or nothing.
fn all_errors(results: Vec<ServiceResult<()>>) -> ServiceResult<()> {
    if results.iter().all(Result::is_ok) {
        return Ok(());
    }
    Err(merge_errors(results.into_iter().map(Result::err)))
}

/// Moves influencers into `to` out of `from`, or out of the other stages of `to`'s pipeline when
/// `from` is left out. Influencers not in `from` enter `to` all the same.
#[tracing::instrument(name = "moves::move_to", level = "debug", skip_all, fields(workspace = tx.workspace().0, influencers = input.influencer_ids.len()))]
pub async fn move_to(tx: &mut Tx<'_>, input: &Move) -> ServiceResult<Moved> {
    if let (Some(from), SegmentTarget::Existing(to)) = (input.from, &input.to)
        && from == *to
    {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            &["input", "to"],
            "`to` is the segment `from` names: a move needs two segments",
        )
        .into());
    }
    let existing = match &input.to {
        SegmentTarget::Existing(id) => Some(*id),
        SegmentTarget::New(_) => None,
    };
    let entering = newcomers(tx, &input.influencer_ids, existing, IDS_FIELD).await;
    let from = match input.from {
        Some(id) => Some(existing_manual(tx, id, &["input", "from"]).await),
        None => None,
    };
    // Reads first: on PostgreSQL a failed insert (a name taken concurrently) aborts the
    // transaction, so nothing may run after `resolve`'s.
    let to = segments::resolve(tx, &input.to, &["input", "to"]).await;
    let (entering, from, to) = match (entering, from.transpose(), to) {
        (Ok(entering), Ok(from), Ok(to)) => (entering, from, to),
        (entering, from, to) => {
            return Err(merge_errors([entering.err(), from.err(), to.err()]));
        }
    };
    let unique = validate::dedup(&input.influencer_ids);
    let left = match &from {
        Some(from) => {
            let gone = sea_orm::Condition::all()
                .add(segment_membership::Column::SegmentId.eq(from.id))
                .add(column_any_of(
                    tx.backend(),
                    segment_membership::Column::InfluencerId,
                    unique.iter().copied(),
                ));
            delete_memberships(tx, gone, Actor::Caller).await?
        }
        None if groups::exclusive_siblings(tx, to.id).await?.is_empty() => {
            return Err(InputError::new(
                InputErrorCode::Invalid,
                &["input", "from"],
                "name the segment to leave: `to` is not a stage of a pipeline, whose other \
                 stages a move would leave",
            )
            .into());
        }
        // Entering the stage leaves the others (see `membership_rows`).
        None => 0,
    };
    let moved = insert_memberships(tx, to.id, &entering, MembershipSource::Manual).await?;
    if let Some(from) = &from {
        follow_rules(tx, from.id, Some(&unique), left).await?;
    }
    follow_rules(tx, to.id, Some(&unique), moved).await?;
    Ok(Moved { segment: to, moved })
}

/// Removes and adds memberships across segments, all or nothing: the removes first, then the
/// adds. Returns how many memberships were added and how many ended.
#[tracing::instrument(name = "moves::update_memberships", level = "debug", skip_all, fields(workspace = tx.workspace().0, add = add.len(), remove = remove.len()))]
pub async fn update_memberships(
    tx: &mut Tx<'_>,
    add: &[MembershipSet],
    remove: &[MembershipSet],
) -> ServiceResult<(usize, usize)> {
    let sets = add.iter().chain(remove);
    if sets.clone().all(|set| set.influencer_ids.is_empty()) {
        return Err(InputError::new(
            InputErrorCode::Invalid,
            &["input"],
            "nothing to add or remove: give `add` or `remove` with influencers",
        )
        .into());
    }
    let total: usize = sets.map(|set| set.influencer_ids.len()).sum();
    validate::bulk_size(total, HARD_MAX_BULK_IDS, &["input"])?;

    let mut checks = Vec::new();
    // A pair both added and removed says two things at once.
    let added: HashSet<(i64, i64)> = add
        .iter()
        .filter_map(|set| match set.segment {
            SegmentTarget::Existing(segment) => Some((segment, set)),
            SegmentTarget::New(_) => None,
        })
        .flat_map(|(segment, set)| set.influencer_ids.iter().map(move |i| (segment, *i)))
        .collect();
    let mut removals = Vec::with_capacity(remove.len());
    for (n, set) in remove.iter().enumerate() {
        let n = n.to_string();
        let ids_field = ["input", "remove", &n, "influencerIds"];
        let segment = match set.segment {
            SegmentTarget::Existing(id) => {
                for (j, influencer) in set.influencer_ids.iter().enumerate() {
                    if added.contains(&(id, *influencer)) {
                        checks.push(Err(InputError::new(
                            InputErrorCode::Invalid,
                            &["input", "remove", &n, "influencerIds", &j.to_string()],
                            "this influencer is added to and removed from the same segment",
                        )
                        .into()));
                    }
                }
                existing_manual(tx, id, &["input", "remove", &n, "segment", "id"]).await
            }
            SegmentTarget::New(_) => Err(InputError::new(
                InputErrorCode::Invalid,
                &["input", "remove", &n, "segment", "create"],
                "a segment to remove influencers from must exist",
            )
            .into()),
        };
        checks.push(ensure_influencers(tx, &set.influencer_ids, &ids_field).await);
        match segment {
            Ok(segment) => removals.push((segment, validate::dedup(&set.influencer_ids))),
            Err(error) => checks.push(Err(error)),
        }
    }
    let mut additions = Vec::with_capacity(add.len());
    for (n, set) in add.iter().enumerate() {
        let n = n.to_string();
        let existing = match set.segment {
            SegmentTarget::Existing(id) => Some(id),
            SegmentTarget::New(_) => None,
        };
        let ids_field = ["input", "add", &n, "influencerIds"];
        match newcomers(tx, &set.influencer_ids, existing, &ids_field).await {
            Ok(entering) => additions.push((n, set, entering)),
            Err(error) => checks.push(Err(error)),
        }
    }
    all_errors(checks)?;
    // Every check passed: only now are segments created (a failed insert aborts the
    // transaction on PostgreSQL).
    let mut resolved = Vec::with_capacity(additions.len());
    let mut failures = Vec::new();
    for (n, set, entering) in additions {
        match segments::resolve(tx, &set.segment, &["input", "add", &n, "segment"]).await {
            Ok(segment) => resolved.push((segment, validate::dedup(&set.influencer_ids), entering)),
            Err(error) => failures.push(Err(error)),
        }
    }
    all_errors(failures)?;

    let mut removed = 0;
    for (segment, ids) in &removals {
        let gone = sea_orm::Condition::all()
            .add(segment_membership::Column::SegmentId.eq(segment.id))
            .add(column_any_of(
                tx.backend(),
                segment_membership::Column::InfluencerId,
                ids.iter().copied(),
            ));
        let count = delete_memberships(tx, gone, Actor::Caller).await?;
        follow_rules(tx, segment.id, Some(ids), count).await?;
        removed += count;
    }
    let mut added = 0;
    for (segment, ids, entering) in &resolved {
        // Influencers removed above from this very segment are newcomers again.
        let entering: Vec<i64> = if removals.iter().any(|(s, _)| s.id == segment.id) {
            ids.clone()
        } else {
            entering.clone()
        };
        let count = insert_memberships(tx, segment.id, &entering, MembershipSource::Manual).await?;
        follow_rules(tx, segment.id, Some(ids), count).await?;
        added += count;
    }
    Ok((added, removed))
}
