//! Segment groups: folders, and pipelines whose segments are stages; their queries and the
//! mutations that shape them, and the atomic membership edits that pipelines call for
//! (`moveToSegment`, `updateMemberships`).

use async_graphql::{Context, ID, InputObject, Object, Result, SimpleObject};

use super::{
    connection::{Conn, Total, connection, page},
    context::scope,
    errors::{UserError, internal},
    ids::{self, Kind},
    loaders::{SegmentsOf, loader},
    mutation::{Decoded, both, delete_by_id, mutate, one, refused},
    objects::{Segment, SegmentGroup, load_group},
    scalars::DateTime,
    segment::SegmentRef,
};
use crate::service::{
    InputError,
    groups::{self, GroupChanges, NewGroup},
    moves::{self, MembershipSet as Set, Move},
    reads,
};

/// A named group of segments. A folder when not exclusive; when exclusive, a pipeline: its
/// segments are stages, and an influencer is in at most one stage of the group at a time
/// (entering one stage leaves the others in the same transaction).
#[Object]
impl SegmentGroup {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::SegmentGroup, self.0.id)
    }

    /// Unique in the workspace, ignoring case; 1 to 80 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether the group is a pipeline, whose stages share no member.
    async fn exclusive(&self) -> bool {
        self.0.exclusive
    }

    /// The group's segments, in the order set by the group (stage order).
    #[graphql(complexity = "crate::graphql::schema::complexity::list_cost(child_complexity)")]
    async fn segments(&self, ctx: &Context<'_>) -> Result<Vec<Segment>> {
        Ok(loader(ctx)?
            .load_one(SegmentsOf(self.0.id))
            .await
            .map_err(internal)?
            .unwrap_or_default()
            .into_iter()
            .map(Segment)
            .collect())
    }

    /// When the group was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

#[derive(Default)]
pub struct GroupQuery;

#[Object]
impl GroupQuery {
    /// One group by id; null when no group of this workspace has it.
    async fn segment_group(&self, ctx: &Context<'_>, id: ID) -> Result<Option<SegmentGroup>> {
        match ids::lookup(&id, Kind::SegmentGroup) {
            Some(id) => load_group(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The workspace's groups, oldest first.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    async fn segment_groups(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<SegmentGroup>> {
        let page = page(ctx, first, after, last, before)?;
        let result = reads::groups::group_page(scope(ctx)?, page)
            .await
            .map_err(internal)?;
        Ok(connection(result, Total::Groups, SegmentGroup))
    }
}

/// A group to create.
#[derive(InputObject)]
pub struct CreateSegmentGroupInput {
    /// 1 to 80 characters after trimming; unique among the workspace's groups, ignoring case.
    pub name: String,
    /// True for a pipeline: an influencer is in at most one of its segments.
    pub exclusive: bool,
    /// Existing segments to put in the group, in order. Each may be in one group only; a
    /// pipeline's must be MANUAL segments that share no member.
    pub segment_ids: Option<Vec<ID>>,
}

/// Result of `createSegmentGroup`.
#[derive(SimpleObject, Default)]
pub struct CreateSegmentGroupPayload {
    /// The new group.
    pub group: Option<SegmentGroup>,
    /// Why nothing was created, if so.
    pub user_errors: Vec<UserError>,
}

/// Changes to a group; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateSegmentGroupInput {
    pub id: ID,
    /// New name; same rules as on creation.
    pub name: Option<String>,
    /// The group's segments, in their new order (replaces the list).
    pub segment_ids: Option<Vec<ID>>,
}

/// Result of `updateSegmentGroup`.
#[derive(SimpleObject, Default)]
pub struct UpdateSegmentGroupPayload {
    /// The group as it is now.
    pub group: Option<SegmentGroup>,
    /// Why nothing was changed, if so.
    pub user_errors: Vec<UserError>,
}

/// The group to delete.
#[derive(InputObject)]
pub struct DeleteSegmentGroupInput {
    pub id: ID,
}

/// Result of `deleteSegmentGroup`.
#[derive(SimpleObject, Default)]
pub struct DeleteSegmentGroupPayload {
    /// The id of the deleted group.
    pub deleted_group_id: Option<ID>,
    /// Why nothing was deleted, if so.
    pub user_errors: Vec<UserError>,
}

/// Influencers to move from one segment to another.
#[derive(InputObject)]
pub struct MoveToSegmentInput {
    /// Up to the bulk limit; every one must exist.
    pub influencer_ids: Vec<ID>,
    /// Leave this segment; when left out and `to` is a pipeline stage, leave its other stages.
    pub from: Option<ID>,
    /// The segment to enter: an existing one, or one created in the same call.
    pub to: SegmentRef,
}

/// Result of `moveToSegment`.
#[derive(SimpleObject, Default)]
pub struct MoveToSegmentPayload {
    /// The segment entered.
    pub segment: Option<Segment>,
    /// How many of the influencers entered it (those already in it are not counted).
    pub moved_count: Option<i32>,
    /// Why nothing was moved, if so.
    pub user_errors: Vec<UserError>,
}

/// Influencers and a segment.
#[derive(InputObject)]
pub struct MembershipSet {
    pub influencer_ids: Vec<ID>,
    /// An existing segment; in `add`, one may be created in the same call.
    pub segment: SegmentRef,
}

/// Adds and removes in one transaction: all of it happens, or none.
#[derive(InputObject)]
pub struct UpdateMembershipsInput {
    pub add: Option<Vec<MembershipSet>>,
    pub remove: Option<Vec<MembershipSet>>,
}

/// Result of `updateMemberships`.
#[derive(SimpleObject, Default)]
pub struct UpdateMembershipsPayload {
    /// How many memberships were made.
    pub added_count: Option<i32>,
    /// How many memberships ended.
    pub removed_count: Option<i32>,
    /// Why nothing was changed, if so.
    pub user_errors: Vec<UserError>,
}

refused!(
    CreateSegmentGroupPayload,
    UpdateSegmentGroupPayload,
    DeleteSegmentGroupPayload,
    MoveToSegmentPayload,
    UpdateMembershipsPayload,
);

/// A count as a GraphQL `Int` (counts beyond its range show as its largest value).
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// A list of segment ids at `input.segmentIds`.
fn segment_ids(ids_in: Option<Vec<ID>>) -> Decoded<Option<Vec<i64>>> {
    ids_in
        .map(|ids_in| ids::decode_list(&ids_in, Kind::Segment, &["input", "segmentIds"]))
        .transpose()
}

/// Influencer ids at `field`, within the bulk limit.
fn influencer_ids(ctx: &Context<'_>, ids_in: &[ID], field: &[&str]) -> Decoded<Vec<i64>> {
    let max = crate::graphql::runtime::limits::of(ctx).max_bulk_ids;
    ids::decode_bulk(ids_in, Kind::Influencer, field, max)
}

/// Membership sets at `input.<side>`.
fn sets(ctx: &Context<'_>, side: &str, sets_in: Option<Vec<MembershipSet>>) -> Decoded<Vec<Set>> {
    let mut decoded = Vec::new();
    let mut errors: Vec<InputError> = Vec::new();
    for (n, set) in sets_in.unwrap_or_default().into_iter().enumerate() {
        let n = n.to_string();
        let ids = influencer_ids(
            ctx,
            &set.influencer_ids,
            &["input", side, &n, "influencerIds"],
        );
        let segment = one(set.segment.target(&["input", side, &n, "segment"]));
        match both(ids, segment) {
            Ok((influencer_ids, segment)) => decoded.push(Set {
                influencer_ids,
                segment,
            }),
            Err(problems) => errors.extend(problems),
        }
    }
    if errors.is_empty() {
        Ok(decoded)
    } else {
        Err(errors)
    }
}

#[derive(Default)]
pub struct GroupMutation;

#[Object]
impl GroupMutation {
    /// Creates a folder (`exclusive: false`) or a pipeline (`exclusive: true`) of segments.
    async fn create_segment_group(
        &self,
        ctx: &Context<'_>,
        input: CreateSegmentGroupInput,
    ) -> Result<CreateSegmentGroupPayload> {
        let decoded = segment_ids(input.segment_ids).map(|ids| NewGroup {
            name: input.name,
            exclusive: input.exclusive,
            segment_ids: ids.unwrap_or_default(),
        });
        mutate(
            ctx,
            decoded,
            async move |tx, new| groups::create(tx, new).await,
            async |group| {
                Ok(CreateSegmentGroupPayload {
                    group: Some(SegmentGroup(group)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Renames a group or replaces its list of segments (their order is the stage order).
    async fn update_segment_group(
        &self,
        ctx: &Context<'_>,
        input: UpdateSegmentGroupInput,
    ) -> Result<UpdateSegmentGroupPayload> {
        let decoded = both(
            one(ids::decode(&input.id, Kind::SegmentGroup, &["input", "id"])),
            segment_ids(input.segment_ids),
        )
        .map(|(id, segment_ids)| {
            (
                id,
                GroupChanges {
                    name: input.name,
                    segment_ids,
                },
            )
        });
        mutate(
            ctx,
            decoded,
            async move |tx, (id, changes)| groups::update(tx, *id, changes).await,
            async |group| {
                Ok(UpdateSegmentGroupPayload {
                    group: Some(SegmentGroup(group)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Deletes a group. Its segments stay, ungrouped, with their members.
    async fn delete_segment_group(
        &self,
        ctx: &Context<'_>,
        input: DeleteSegmentGroupInput,
    ) -> Result<DeleteSegmentGroupPayload> {
        delete_by_id(
            ctx,
            &input.id,
            Kind::SegmentGroup,
            async |tx, id| groups::delete(tx, id).await,
            |id| DeleteSegmentGroupPayload {
                deleted_group_id: Some(id),
                ..Default::default()
            },
        )
        .await
    }

    /// Moves influencers into `to`, out of `from` (or, without it, out of the other stages of
    /// `to`'s pipeline), in one transaction. Influencers not in `from` enter `to` all the same.
    async fn move_to_segment(
        &self,
        ctx: &Context<'_>,
        input: MoveToSegmentInput,
    ) -> Result<MoveToSegmentPayload> {
        let ids = influencer_ids(ctx, &input.influencer_ids, &["input", "influencerIds"]);
        let from = input
            .from
            .map(|from| ids::decode(&from, Kind::Segment, &["input", "from"]))
            .transpose();
        let decoded = both(both(ids, one(from)), one(input.to.target(&["input", "to"]))).map(
            |((influencer_ids, from), to)| Move {
                influencer_ids,
                from,
                to,
            },
        );
        mutate(
            ctx,
            decoded,
            async move |tx, input| moves::move_to(tx, input).await,
            async |moved| {
                Ok(MoveToSegmentPayload {
                    segment: Some(Segment(moved.segment)),
                    moved_count: Some(count(moved.moved)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Removes and adds memberships across segments in one transaction: all of it happens, or
    /// none. Removes go first, so a set can move influencers between segments.
    async fn update_memberships(
        &self,
        ctx: &Context<'_>,
        input: UpdateMembershipsInput,
    ) -> Result<UpdateMembershipsPayload> {
        let max = crate::graphql::runtime::limits::of(ctx).max_bulk_ids;
        // The bulk limit holds for the whole call, not only for each set.
        let decoded = both(
            sets(ctx, "add", input.add),
            sets(ctx, "remove", input.remove),
        )
        .and_then(|(add, remove)| {
            let total = add
                .iter()
                .chain(&remove)
                .map(|set| set.influencer_ids.len())
                .sum();
            crate::service::validate::bulk_size(total, max, &["input"]).map_err(|e| vec![e])?;
            Ok((add, remove))
        });
        mutate(
            ctx,
            decoded,
            async move |tx, (add, remove)| moves::update_memberships(tx, add, remove).await,
            async |(added, removed)| {
                Ok(UpdateMembershipsPayload {
                    added_count: Some(count(added)),
                    removed_count: Some(count(removed)),
                    ..Default::default()
                })
            },
        )
        .await
    }
}
