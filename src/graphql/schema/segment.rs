//! Segments: the folders over the roster, their members, and the mutations that shape them.

use async_graphql::{
    Context, ID, InputObject, Json, MaybeUndefined, Object, OneofObject, Result, SimpleObject,
};

use super::{
    connection::{self, Conn, Total, connection, page},
    context::scope,
    enums::SegmentKind,
    errors::{UserError, bad_input, internal},
    filter::{self, InfluencerFilterInput},
    history::history_connection,
    ids::{self, Kind},
    loaders::{GroupOf, InfluencerPage, MemberCount, loader},
    mutation::{both, delete_by_id, mutate, one, refused},
    objects::{
        Influencer, Segment, SegmentGroup, SegmentMembershipChange, load_group, load_influencers,
        load_segment,
    },
    patch::patch,
    scalars::DateTime,
};
use crate::service::{
    InputError, InputErrorCode,
    memberships::{self, Chosen, MembershipChange},
    reads::history::ChangeSet,
    reads::{self, InfluencerSet, SegmentList},
    rules,
    segments::{self, NewSegment, SegmentTarget},
};

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

    /// How the members are decided: by people and automations (MANUAL), or by the rule.
    async fn kind(&self) -> SegmentKind {
        self.0.kind.into()
    }

    /// The rule of a RULE segment, as an InfluencerFilter value that can be sent back as is;
    /// null for a MANUAL segment.
    async fn rule(&self) -> Result<Option<Json<serde_json::Value>>> {
        Ok(rules::rule_of(&self.0)
            .map_err(internal)?
            .map(|rule| Json(filter::to_json(&rule))))
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
        let set = InfluencerSet::InSegment(self.0.id);
        let page = page(ctx, first, after, last, before)?;
        let result = loader(ctx)?
            .load_one(InfluencerPage(set.clone(), page))
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(connection(result, Total::Influencers(set), Influencer))
    }

    /// The group this segment is in, if any. A segment is in at most one group.
    async fn group(&self, ctx: &Context<'_>) -> Result<Option<SegmentGroup>> {
        let group = loader(ctx)?
            .load_one(GroupOf(self.0.id))
            .await
            .map_err(internal)?;
        match group {
            Some(id) => load_group(ctx, id).await,
            None => Ok(None),
        }
    }

    /// Membership changes of this segment, newest last.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    async fn history(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<SegmentMembershipChange>> {
        history_connection(
            ctx,
            ChangeSet::of_segment(self.0.id),
            [first, last],
            [after, before],
        )
        .await
    }
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

    /// The workspace's segments, oldest first. `search` matches the name, ignoring case;
    /// `groupId` lists one group's segments, `ungrouped: true` those in no group.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn segments(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        search: Option<String>,
        group_id: Option<ID>,
        ungrouped: Option<bool>,
    ) -> Result<Conn<Segment>> {
        let page = page(ctx, first, after, last, before)?;
        let group = match (group_id, ungrouped) {
            (Some(_), Some(true)) => {
                return Err(bad_input("pass `groupId` or `ungrouped: true`, not both"));
            }
            (Some(id), _) => Some(Some(
                ids::lookup(&id, Kind::SegmentGroup)
                    .ok_or_else(|| bad_input("`groupId` is not a segment group id"))?,
            )),
            (None, Some(true)) => Some(None),
            (None, _) => None,
        };
        let list = SegmentList {
            search: connection::search(search)?,
            group,
        };
        let result = reads::segment_page(scope(ctx)?, &list, page)
            .await
            .map_err(internal)?;
        Ok(connection(result, Total::Segments(list), Segment))
    }
}

/// A segment to create.
#[derive(InputObject, Clone)]
pub struct CreateSegmentInput {
    /// 1 to 80 characters after trimming; unique in the workspace, ignoring case.
    pub name: String,
    /// Up to 500 characters.
    pub description: Option<String>,
    /// Makes a RULE segment whose members are the filter's matches, now and from now on (only
    /// in `createSegment`: a segment made inside another change cannot have a rule). A rule
    /// cannot use `unassigned`, nor depend on its own segment through other rules; rules naming
    /// RULE segments chain at most 5 deep.
    pub rule: Option<Box<InfluencerFilterInput>>,
}

impl CreateSegmentInput {
    /// The segment to create, its rule's ids decoded.
    fn decoded(self, prefix: &[&str]) -> Result<NewSegment, Vec<InputError>> {
        let rule = match self.rule {
            Some(rule) => {
                let mut at = prefix.to_vec();
                at.push("rule");
                Some(Box::new(filter::input(*rule, &at)?))
            }
            None => None,
        };
        Ok(NewSegment {
            name: self.name,
            description: self.description,
            rule,
        })
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
            // A rule here is refused by the service whatever it says; its ids are not decoded.
            SegmentRef::Create(input) => Ok(SegmentTarget::New(NewSegment {
                rule: input.rule.map(|_| Box::default()),
                name: input.name,
                description: input.description,
            })),
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
    /// A new rule for a RULE segment; members are re-evaluated in the same step.
    pub rule: Option<InfluencerFilterInput>,
}

/// What a segment becomes.
#[derive(InputObject)]
pub struct ConvertSegmentInput {
    pub id: ID,
    /// MANUAL freezes a RULE segment's current members as ordinary memberships. RULE is
    /// refused: create a RULE segment instead.
    pub to: SegmentKind,
}

/// Result of `convertSegment`.
#[derive(SimpleObject, Default)]
pub struct ConvertSegmentPayload {
    /// The segment as it is now.
    pub segment: Option<Segment>,
    /// Why nothing was changed, if so.
    pub user_errors: Vec<UserError>,
}

/// The segment to delete.
#[derive(InputObject)]
pub struct DeleteSegmentInput {
    pub id: ID,
}

/// Influencers to put in a segment: exactly one of `influencerIds` and `filter`.
#[derive(InputObject)]
pub struct AssignToSegmentInput {
    /// Up to 10,000 influencer ids. Those already members are left as they are.
    pub influencer_ids: Option<Vec<ID>>,
    /// Every influencer matching the filter when the mutation runs, however many: one
    /// transaction, one statement.
    pub filter: Option<InfluencerFilterInput>,
    pub segment: SegmentRef,
}

/// Influencers to take out of a segment: exactly one of `influencerIds` and `filter`.
#[derive(InputObject)]
pub struct RemoveFromSegmentInput {
    /// Up to 10,000 influencer ids. Those not members are ignored.
    pub influencer_ids: Option<Vec<ID>>,
    /// Every member matching the filter when the mutation runs, however many.
    pub filter: Option<InfluencerFilterInput>,
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

refused!(
    AssignToSegmentPayload,
    ConvertSegmentPayload,
    CreateSegmentPayload,
    DeleteSegmentPayload,
    RemoveFromSegmentPayload,
    UpdateSegmentPayload,
);

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
    /// The influencers named in the input, now members; null for an assignment by filter.
    pub influencers: Option<Vec<Influencer>>,
    /// How many influencers became members in this call.
    pub added_count: Option<i32>,
    /// Why nothing was assigned, if so.
    pub user_errors: Vec<UserError>,
}

/// Result of `removeFromSegment`.
#[derive(SimpleObject, Default)]
pub struct RemoveFromSegmentPayload {
    /// The segment.
    pub segment: Option<Segment>,
    /// The influencers named in the input, no longer members; null for a removal by filter.
    pub influencers: Option<Vec<Influencer>>,
    /// How many memberships this call ended.
    pub removed_count: Option<i32>,
    /// Why nothing was removed, if so.
    pub user_errors: Vec<UserError>,
}

/// The influencers an input chooses: its `influencerIds` (within the configured bulk limit) or
/// its `filter`, exactly one of them.
fn chosen(
    ctx: &Context<'_>,
    ids_in: Option<Vec<ID>>,
    filter_in: Option<InfluencerFilterInput>,
) -> Result<Chosen, Vec<InputError>> {
    match (ids_in, filter_in) {
        (Some(ids_in), None) => {
            let max = crate::graphql::runtime::limits::of(ctx).max_bulk_ids;
            ids::decode_bulk(&ids_in, Kind::Influencer, &["input", "influencerIds"], max)
                .map(Chosen::Ids)
        }
        (None, Some(filter_in)) => {
            filter::decoded(filter_in, &["input", "filter"]).map(|f| Chosen::Matching(Box::new(f)))
        }
        (Some(_), Some(_)) => Err(vec![InputError::new(
            InputErrorCode::Invalid,
            &["input", "filter"],
            "give influencerIds or filter, not both",
        )]),
        (None, None) => Err(vec![InputError::new(
            InputErrorCode::Invalid,
            &["input", "influencerIds"],
            "give influencerIds or filter",
        )]),
    }
}

/// A count as a GraphQL `Int` (counts beyond its range show as its largest value).
fn count(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// The influencers a change names, loaded; none for a change by filter.
async fn named(ctx: &Context<'_>, change: &MembershipChange) -> Result<Option<Vec<Influencer>>> {
    match &change.influencer_ids {
        Some(ids) => Ok(Some(load_influencers(ctx, ids).await?)),
        None => Ok(None),
    }
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
        mutate(
            ctx,
            input.decoded(&["input"]),
            async move |tx, new| match &new.rule {
                Some(rule) => rules::create(tx, new, rule).await,
                None => segments::create(tx, new).await,
            },
            async |model| {
                Ok(CreateSegmentPayload {
                    segment: Some(Segment(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Renames a segment, changes its description, or gives a RULE segment a new rule (its
    /// members become the new rule's matches in the same step).
    async fn update_segment(
        &self,
        ctx: &Context<'_>,
        input: UpdateSegmentInput,
    ) -> Result<UpdateSegmentPayload> {
        let rule = input
            .rule
            .map(|rule| filter::input(rule, &["input", "rule"]))
            .transpose();
        let decoded = both(
            one(ids::decode(&input.id, Kind::Segment, &["input", "id"])),
            rule,
        );
        let description = patch(input.description);
        mutate(
            ctx,
            decoded,
            async move |tx, (id, rule)| {
                let segment =
                    segments::update(tx, *id, input.name.clone(), description.clone()).await?;
                match rule {
                    Some(rule) => rules::update(tx, *id, rule).await,
                    None => Ok(segment),
                }
            },
            async |model| {
                Ok(UpdateSegmentPayload {
                    segment: Some(Segment(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Makes a RULE segment MANUAL: its current members stay, as ordinary memberships, and no
    /// rule changes them any more. Converting to RULE is refused: create a RULE segment.
    async fn convert_segment(
        &self,
        ctx: &Context<'_>,
        input: ConvertSegmentInput,
    ) -> Result<ConvertSegmentPayload> {
        let to_manual = if input.to == SegmentKind::Manual {
            Ok(())
        } else {
            Err(InputError::new(
                InputErrorCode::Invalid,
                &["input", "to"],
                "a segment cannot become RULE: create a RULE segment with the rule instead",
            ))
        };
        let decoded = both(
            one(ids::decode(&input.id, Kind::Segment, &["input", "id"])),
            one(to_manual),
        );
        mutate(
            ctx,
            decoded,
            async move |tx, (id, ())| rules::freeze(tx, *id).await,
            async |model| {
                Ok(ConvertSegmentPayload {
                    segment: Some(Segment(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Deletes a segment. Its members that are in no other segment are Unassigned again;
    /// automations that assigned to it are disabled; campaigns drop it from their audience.
    async fn delete_segment(
        &self,
        ctx: &Context<'_>,
        input: DeleteSegmentInput,
    ) -> Result<DeleteSegmentPayload> {
        delete_by_id(
            ctx,
            &input.id,
            Kind::Segment,
            async |tx, id| segments::delete(tx, id).await,
            |id| DeleteSegmentPayload {
                deleted_segment_id: Some(id),
                ..Default::default()
            },
        )
        .await
    }

    /// Puts influencers in a segment, an existing one or one created in the same call. An
    /// influencer may be in many segments; assigning twice changes nothing.
    async fn assign_to_segment(
        &self,
        ctx: &Context<'_>,
        input: AssignToSegmentInput,
    ) -> Result<AssignToSegmentPayload> {
        let decoded = both(
            chosen(ctx, input.influencer_ids, input.filter),
            one(input.segment.target(&["input", "segment"])),
        );
        mutate(
            ctx,
            decoded,
            async move |tx, (chosen, target)| memberships::assign(tx, chosen, target).await,
            async |change| {
                Ok(AssignToSegmentPayload {
                    influencers: named(ctx, &change).await?,
                    added_count: Some(count(change.count)),
                    segment: Some(Segment(change.segment)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Takes influencers out of a segment. One left in no segment is listed under Unassigned.
    async fn remove_from_segment(
        &self,
        ctx: &Context<'_>,
        input: RemoveFromSegmentInput,
    ) -> Result<RemoveFromSegmentPayload> {
        let decoded = both(
            chosen(ctx, input.influencer_ids, input.filter),
            one(ids::decode(
                &input.segment_id,
                Kind::Segment,
                &["input", "segmentId"],
            )),
        );
        mutate(
            ctx,
            decoded,
            async move |tx, (chosen, segment_id)| {
                memberships::remove(tx, chosen, *segment_id).await
            },
            async |change| {
                Ok(RemoveFromSegmentPayload {
                    influencers: named(ctx, &change).await?,
                    removed_count: Some(count(change.count)),
                    segment: Some(Segment(change.segment)),
                    ..Default::default()
                })
            },
        )
        .await
    }
}
