//! Segments: the folders over the roster, their members, and the mutations that shape them.

use async_graphql::{
    Context, ID, InputObject, MaybeUndefined, Object, OneofObject, Result, SimpleObject,
};
use entity::segment;

use super::{
    connection::{Conn, Total, connection, page},
    context::{self, scope},
    errors::{Refused, UserError, internal, outcome, user_errors},
    ids::{self, Kind},
    influencer::{Influencer, load_influencers},
    loaders::{InfluencerPage, MemberCount, SegmentById, loader},
    patch::patch,
    scalars::DateTime,
};
use crate::service::{
    InputError, memberships,
    reads::{self, InfluencerSet},
    retrying,
    segments::{self, NewSegment, SegmentTarget},
};

#[derive(Clone)]
pub struct Segment(pub segment::Model);

/// A named group of influencers, like a folder. An influencer may be in many.
#[Object]
impl Segment {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Segment, self.0.id)
    }

    /// Unique in the workspace, ignoring case; 1 to 80 characters.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// What the segment is for.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// When the segment was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// How many influencers are in the segment.
    async fn member_count(&self, ctx: &Context<'_>) -> Result<i32> {
        let count = loader(ctx)?
            .load_one(MemberCount(self.0.id))
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }

    /// The segment's members, oldest influencer first.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    async fn influencers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Influencer>> {
        let (_, ws) = scope(ctx)?;
        let set = InfluencerSet::InSegment(self.0.id);
        let page = page(ctx, first, after, last, before)?;
        let result = loader(ctx)?
            .load_one(InfluencerPage(set.clone(), page))
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(connection(result, Total::Influencers(ws, set), Influencer))
    }
}

/// One segment through the request's loader.
pub async fn load_segment(ctx: &Context<'_>, id: i64) -> Result<Option<Segment>> {
    Ok(loader(ctx)?
        .load_one(SegmentById(id))
        .await
        .map_err(internal)?
        .map(Segment))
}

#[derive(Default)]
pub struct SegmentQuery;

#[Object]
impl SegmentQuery {
    /// One segment by id; null when no segment of this workspace has it.
    async fn segment(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Segment>> {
        match ids::lookup(&id, Kind::Segment) {
            Some(id) => load_segment(ctx, id).await,
            None => Ok(None),
        }
    }

    /// The workspace's segments, oldest first. `search` matches the name, ignoring case.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    async fn segments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        search: Option<String>,
    ) -> Result<Conn<Segment>> {
        let (db, ws) = scope(ctx)?;
        let page = page(ctx, first, after, last, before)?;
        let result = reads::segment_page(db, ws, search.as_deref(), page)
            .await
            .map_err(internal)?;
        Ok(connection(result, Total::Segments(ws, search), Segment))
    }
}

/// A segment to create.
#[derive(InputObject, Clone)]
pub struct CreateSegmentInput {
    /// 1 to 80 characters after trimming; unique in the workspace, ignoring case.
    pub name: String,
    /// Up to 500 characters.
    pub description: Option<String>,
}

impl From<CreateSegmentInput> for NewSegment {
    fn from(input: CreateSegmentInput) -> Self {
        Self {
            name: input.name,
            description: input.description,
        }
    }
}

/// An existing segment, or one to create on the spot. Exactly one field.
#[derive(OneofObject, Clone)]
pub enum SegmentRef {
    /// An existing segment.
    Id(ID),
    /// A new segment, created in the same transaction as the operation that names it.
    Create(CreateSegmentInput),
}

impl SegmentRef {
    /// The service's target; `prefix` is where this reference sits in the input.
    pub fn target(self, prefix: &[&str]) -> Result<SegmentTarget, InputError> {
        match self {
            SegmentRef::Id(id) => {
                let mut field = prefix.to_vec();
                field.push("id");
                ids::decode(&id, Kind::Segment, &field).map(SegmentTarget::Existing)
            }
            SegmentRef::Create(input) => Ok(SegmentTarget::New(input.into())),
        }
    }
}

/// Changes to a segment; omitted fields stay as they are.
#[derive(InputObject)]
pub struct UpdateSegmentInput {
    pub id: ID,
    /// New name; same rules as on creation.
    pub name: Option<String>,
    /// New description; null clears it.
    pub description: MaybeUndefined<String>,
}

/// The segment to delete.
#[derive(InputObject)]
pub struct DeleteSegmentInput {
    pub id: ID,
}

/// Influencers to put in a segment.
#[derive(InputObject)]
pub struct AssignToSegmentInput {
    /// Up to 10,000 influencer ids. Those already members are left as they are.
    pub influencer_ids: Vec<ID>,
    pub segment: SegmentRef,
}

/// Influencers to take out of a segment.
#[derive(InputObject)]
pub struct RemoveFromSegmentInput {
    /// Up to 10,000 influencer ids. Those not members are ignored.
    pub influencer_ids: Vec<ID>,
    pub segment_id: ID,
}

/// Result of `createSegment`.
#[derive(SimpleObject, Default)]
pub struct CreateSegmentPayload {
    /// The new segment.
    pub segment: Option<Segment>,
    /// Why nothing was created, if so.
    pub user_errors: Vec<UserError>,
}

/// Result of `updateSegment`.
#[derive(SimpleObject, Default)]
pub struct UpdateSegmentPayload {
    /// The segment as it is now.
    pub segment: Option<Segment>,
    /// Why nothing was changed, if so.
    pub user_errors: Vec<UserError>,
}

/// Result of `deleteSegment`.
#[derive(SimpleObject, Default)]
pub struct DeleteSegmentPayload {
    /// The id of the deleted segment.
    pub deleted_segment_id: Option<ID>,
    /// Why nothing was deleted, if so.
    pub user_errors: Vec<UserError>,
}

/// Result of `assignToSegment`.
#[derive(SimpleObject, Default)]
pub struct AssignToSegmentPayload {
    /// The segment assigned to (created, when the input said so).
    pub segment: Option<Segment>,
    /// The influencers named in the input, now members.
    pub influencers: Option<Vec<Influencer>>,
    /// Why nothing was assigned, if so.
    pub user_errors: Vec<UserError>,
}

/// Result of `removeFromSegment`.
#[derive(SimpleObject, Default)]
pub struct RemoveFromSegmentPayload {
    /// The segment.
    pub segment: Option<Segment>,
    /// The influencers named in the input, no longer members.
    pub influencers: Option<Vec<Influencer>>,
    /// Why nothing was removed, if so.
    pub user_errors: Vec<UserError>,
}

/// The `influencerIds` of an input, within the configured bulk limit.
fn influencer_ids(ctx: &Context<'_>, ids_in: &[ID]) -> Result<Vec<i64>, Vec<InputError>> {
    let max = crate::graphql::runtime::limits::of(ctx).max_bulk_ids;
    ids::decode_bulk(ids_in, Kind::Influencer, &["input", "influencerIds"], max)
}

#[derive(Default)]
pub struct SegmentMutation;

#[Object]
impl SegmentMutation {
    /// Creates a segment. It is listed in `segments` at once.
    async fn create_segment(
        &self,
        ctx: &Context<'_>,
        input: CreateSegmentInput,
    ) -> Result<CreateSegmentPayload> {
        let (db, ws) = scope(ctx)?;
        let counts = context::counts(ctx)?;
        let new: NewSegment = input.into();
        Ok(
            match outcome(retrying(|| segments::create(db, counts, ws, new.clone())).await)? {
                Ok(model) => CreateSegmentPayload {
                    segment: Some(Segment(model)),
                    user_errors: Vec::new(),
                },
                Err(user_errors) => CreateSegmentPayload::refused(user_errors),
            },
        )
    }

    /// Renames a segment or changes its description.
    async fn update_segment(
        &self,
        ctx: &Context<'_>,
        input: UpdateSegmentInput,
    ) -> Result<UpdateSegmentPayload> {
        let (db, ws) = scope(ctx)?;
        let counts = context::counts(ctx)?;
        let id = match ids::decode(&input.id, Kind::Segment, &["input", "id"]) {
            Ok(id) => id,
            Err(e) => return Ok(UpdateSegmentPayload::refused(user_errors([e]))),
        };
        let description = patch(input.description);
        Ok(
            match outcome(
                retrying(|| {
                    segments::update(db, counts, ws, id, input.name.clone(), description.clone())
                })
                .await,
            )? {
                Ok(model) => UpdateSegmentPayload {
                    segment: Some(Segment(model)),
                    user_errors: Vec::new(),
                },
                Err(errors) => UpdateSegmentPayload::refused(errors),
            },
        )
    }

    /// Deletes a segment. Its members that are in no other segment are Unassigned again;
    /// automations that assigned to it are disabled; campaigns drop it from their audience.
    async fn delete_segment(
        &self,
        ctx: &Context<'_>,
        input: DeleteSegmentInput,
    ) -> Result<DeleteSegmentPayload> {
        let (db, ws) = scope(ctx)?;
        let events = context::events(ctx)?;
        let id = match ids::decode(&input.id, Kind::Segment, &["input", "id"]) {
            Ok(id) => id,
            Err(e) => return Ok(DeleteSegmentPayload::refused(user_errors([e]))),
        };
        Ok(
            match outcome(retrying(|| segments::delete(db, events, ws, id)).await)? {
                Ok(id) => DeleteSegmentPayload {
                    deleted_segment_id: Some(ids::encode(Kind::Segment, id)),
                    user_errors: Vec::new(),
                },
                Err(errors) => DeleteSegmentPayload::refused(errors),
            },
        )
    }

    /// Puts influencers in a segment, an existing one or one created in the same call. An
    /// influencer may be in many segments; assigning twice changes nothing.
    async fn assign_to_segment(
        &self,
        ctx: &Context<'_>,
        input: AssignToSegmentInput,
    ) -> Result<AssignToSegmentPayload> {
        let (db, ws) = scope(ctx)?;
        let events = context::events(ctx)?;
        let ids = influencer_ids(ctx, &input.influencer_ids);
        let target = input.segment.target(&["input", "segment"]);
        let (ids, target) = match (ids, target) {
            (Ok(ids), Ok(target)) => (ids, target),
            (ids, target) => {
                let errors = ids.err().into_iter().flatten().chain(target.err());
                return Ok(AssignToSegmentPayload::refused(user_errors(errors)));
            }
        };
        Ok(
            match outcome(retrying(|| memberships::assign(db, events, ws, &ids, &target)).await)? {
                Ok(change) => AssignToSegmentPayload {
                    influencers: Some(load_influencers(ctx, &change.influencer_ids).await?),
                    segment: Some(Segment(change.segment)),
                    user_errors: Vec::new(),
                },
                Err(errors) => AssignToSegmentPayload::refused(errors),
            },
        )
    }

    /// Takes influencers out of a segment. One left in no segment is listed under Unassigned.
    async fn remove_from_segment(
        &self,
        ctx: &Context<'_>,
        input: RemoveFromSegmentInput,
    ) -> Result<RemoveFromSegmentPayload> {
        let (db, ws) = scope(ctx)?;
        let events = context::events(ctx)?;
        let ids = influencer_ids(ctx, &input.influencer_ids);
        let segment_id = ids::decode(&input.segment_id, Kind::Segment, &["input", "segmentId"]);
        let (ids, segment_id) = match (ids, segment_id) {
            (Ok(ids), Ok(segment_id)) => (ids, segment_id),
            (ids, segment_id) => {
                let errors = ids.err().into_iter().flatten().chain(segment_id.err());
                return Ok(RemoveFromSegmentPayload::refused(user_errors(errors)));
            }
        };
        Ok(
            match outcome(retrying(|| memberships::remove(db, events, ws, &ids, segment_id)).await)?
            {
                Ok(change) => RemoveFromSegmentPayload {
                    influencers: Some(load_influencers(ctx, &change.influencer_ids).await?),
                    segment: Some(Segment(change.segment)),
                    user_errors: Vec::new(),
                },
                Err(errors) => RemoveFromSegmentPayload::refused(errors),
            },
        )
    }
}
