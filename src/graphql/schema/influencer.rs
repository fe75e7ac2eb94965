//! Influencers: the roster, each influencer's segments and memberships, and `createInfluencer`.

use std::sync::Arc;

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, Result, SimpleObject};
use entity::{segment, segment_membership};

use super::{
    connection::{self, Conn, Total, connection, page},
    context::scope,
    enums::{MembershipSource, Platform},
    errors::{UserError, internal},
    filter::{self, InfluencerFilterInput},
    history::history_connection,
    ids::{self, Kind},
    loaders::{MembershipsOf, loader},
    mutation::{delete_by_id, mutate, one, refused},
    objects::{
        Automation, Influencer, Segment, SegmentMembershipChange, load_automation, load_influencer,
    },
    patch::patch,
    scalars::DateTime,
};
use crate::service::{
    influencers::{self, InfluencerChanges, NewInfluencer},
    profile,
    reads::history::ChangeSet,
    reads::{self, InfluencerSet},
};

/// An influencer in the workspace's roster ("My Influencers").
#[Object]
impl Influencer {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Influencer, self.0.id)
    }

    /// Handle on the platform, without a leading @.
    async fn handle(&self) -> &str {
        &self.0.handle
    }

    /// Name to show instead of the handle, when known.
    async fn display_name(&self) -> Option<&str> {
        self.0.display_name.as_deref()
    }

    /// Contact address for outreach.
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }

    /// Where the influencer publishes.
    async fn platform(&self) -> Platform {
        self.0.platform.into()
    }

    /// Topic the influencer is known for, e.g. "fitness".
    async fn niche(&self) -> Option<&str> {
        self.0.niche.as_deref()
    }

    /// Audience size on `platform`.
    async fn follower_count(&self) -> Option<i32> {
        self.0.follower_count
    }

    /// When the influencer was added to the roster.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }

    /// The segments this influencer belongs to. Empty means Unassigned.
    #[graphql(complexity = "crate::graphql::schema::complexity::list_cost(child_complexity)")]
    async fn segments(&self, ctx: &Context<'_>) -> Result<Vec<Segment>> {
        Ok(memberships_of(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|(_, segment)| Segment(segment))
            .collect())
    }

    /// Each membership, with when and how it was made.
    #[graphql(complexity = "crate::graphql::schema::complexity::list_cost(child_complexity)")]
    async fn memberships(&self, ctx: &Context<'_>) -> Result<Vec<SegmentMembership>> {
        Ok(memberships_of(ctx, self.0.id)
            .await?
            .into_iter()
            .map(|(membership, segment)| SegmentMembership(membership, segment))
            .collect())
    }

    /// True when the influencer belongs to no segment.
    async fn unassigned(&self, ctx: &Context<'_>) -> Result<bool> {
        Ok(memberships_of(ctx, self.0.id).await?.is_empty())
    }

    /// Membership changes of this influencer, newest last.
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
            ChangeSet::OfInfluencer(self.0.id),
            [first, last],
            [after, before],
        )
        .await
    }
}

async fn memberships_of(
    ctx: &Context<'_>,
    id: i64,
) -> Result<Vec<(segment_membership::Model, segment::Model)>> {
    Ok(loader(ctx)?
        .load_one(MembershipsOf(id))
        .await
        .map_err(internal)?
        .unwrap_or_default())
}

/// A membership with its segment (they load together).
pub struct SegmentMembership(pub segment_membership::Model, pub segment::Model);

/// An influencer's place in a segment.
#[Object]
impl SegmentMembership {
    /// The segment.
    async fn segment(&self) -> Segment {
        Segment(self.1.clone())
    }

    /// The influencer.
    async fn influencer(&self, ctx: &Context<'_>) -> Result<Influencer> {
        load_influencer(ctx, self.0.influencer_id)
            .await?
            .ok_or_else(|| internal("membership of an influencer that no longer exists"))
    }

    /// When the influencer was put in the segment.
    async fn assigned_at(&self) -> DateTime {
        self.0.assigned_at.into()
    }

    /// Whether a person or an automation made this membership.
    async fn source(&self) -> MembershipSource {
        self.0.source.into()
    }

    /// The automation that made this membership, when source is AUTOMATION.
    async fn automation(&self, ctx: &Context<'_>) -> Result<Option<Automation>> {
        load_automation(ctx, self.0.automation_id).await
    }
}

/// An influencer read with its memberships in one statement (a profile page), which then
/// serve its `memberships`, `segments` and `unassigned` without a batch of their own.
async fn load_with_memberships(ctx: &Context<'_>, id: i64) -> Result<Option<Influencer>> {
    let Some((influencer, memberships)) = profile::influencer_with_memberships(scope(ctx)?, id)
        .await
        .map_err(internal)?
    else {
        return Ok(None);
    };
    loader(ctx)?.prime(MembershipsOf(id), memberships);
    Ok(Some(Influencer(influencer)))
}

/// A page of an influencer set fetched directly (root connections).
pub async fn influencer_connection(
    ctx: &Context<'_>,
    set: InfluencerSet,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<Conn<Influencer>> {
    let page = page(ctx, first, after, last, before)?;
    let result = reads::influencer_pages(scope(ctx)?, &[(set.clone(), page)])
        .await
        .map_err(internal)?
        .pop()
        .unwrap_or_default();
    Ok(connection(result, Total::Influencers(set), Influencer))
}

#[derive(Default)]
pub struct InfluencerQuery;

#[Object]
impl InfluencerQuery {
    /// One influencer by id; null when no influencer of this workspace has it.
    async fn influencer(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Influencer>> {
        let Some(id) = ids::lookup(&id, Kind::Influencer) else {
            return Ok(None);
        };
        let ahead = ctx.look_ahead();
        if ["memberships", "segments", "unassigned"]
            .iter()
            .any(|field| ahead.field(field).exists())
        {
            load_with_memberships(ctx, id).await
        } else {
            load_influencer(ctx, id).await
        }
    }

    /// The roster, oldest first. `search` matches handle or display name, ignoring case;
    /// `filter` keeps those matching its conditions (both may be given). `totalCount` counts
    /// the matches exactly: a preview of what an assignment by the same filter would take in.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    // One parameter per GraphQL argument: the field's arguments are its signature.
    #[allow(clippy::too_many_arguments)]
    async fn influencers(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        search: Option<String>,
        filter: Option<InfluencerFilterInput>,
    ) -> Result<Conn<Influencer>> {
        let filter = match filter {
            Some(input) => Some(Arc::new(filter::argument(ctx, input, "filter").await?)),
            None => None,
        };
        influencer_connection(
            ctx,
            InfluencerSet::Roster {
                search: connection::search(search)?,
                filter,
            },
            first,
            after,
            last,
            before,
        )
        .await
    }

    /// Influencers that belong to no segment: the default "Unassigned" folder.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    async fn unassigned(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
    ) -> Result<Conn<Influencer>> {
        influencer_connection(ctx, InfluencerSet::Unassigned, first, after, last, before).await
    }
}

/// An influencer to add to the roster.
#[derive(InputObject)]
pub struct CreateInfluencerInput {
    /// Handle on the platform; a leading @ is dropped. Unique per platform, ignoring case.
    pub handle: String,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub platform: Platform,
    pub niche: Option<String>,
    /// Must not be negative.
    pub follower_count: Option<i32>,
}

/// Result of `createInfluencer`.
#[derive(SimpleObject, Default)]
pub struct CreateInfluencerPayload {
    /// The new influencer, listed under Unassigned until assigned to a segment.
    pub influencer: Option<Influencer>,
    /// Why nothing was created, if so.
    pub user_errors: Vec<UserError>,
}

/// Changes to an influencer; omitted fields stay as they are, null clears an optional one.
#[derive(InputObject)]
pub struct UpdateInfluencerInput {
    pub id: ID,
    /// New handle; same rules as on creation.
    pub handle: Option<String>,
    pub platform: Option<Platform>,
    pub display_name: MaybeUndefined<String>,
    pub email: MaybeUndefined<String>,
    pub niche: MaybeUndefined<String>,
    pub follower_count: MaybeUndefined<i32>,
}

/// Result of `updateInfluencer`.
#[derive(SimpleObject, Default)]
pub struct UpdateInfluencerPayload {
    /// The influencer as it is now.
    pub influencer: Option<Influencer>,
    /// Why nothing was changed, if so.
    pub user_errors: Vec<UserError>,
}

refused!(
    CreateInfluencerPayload,
    DeleteInfluencerPayload,
    UpdateInfluencerPayload,
);

/// The influencer to remove from the roster.
#[derive(InputObject)]
pub struct DeleteInfluencerInput {
    pub id: ID,
}

/// Result of `deleteInfluencer`.
#[derive(SimpleObject, Default)]
pub struct DeleteInfluencerPayload {
    /// The id of the removed influencer.
    pub deleted_influencer_id: Option<ID>,
    /// Why nothing was removed, if so.
    pub user_errors: Vec<UserError>,
}

#[derive(Default)]
pub struct InfluencerMutation;

#[Object]
impl InfluencerMutation {
    /// Adds an influencer to the roster.
    async fn create_influencer(
        &self,
        ctx: &Context<'_>,
        input: CreateInfluencerInput,
    ) -> Result<CreateInfluencerPayload> {
        let new = NewInfluencer {
            handle: input.handle,
            platform: input.platform.into(),
            display_name: input.display_name,
            email: input.email,
            niche: input.niche,
            follower_count: input.follower_count,
        };
        mutate(
            ctx,
            Ok(new),
            async move |tx, new| influencers::create(tx, new).await,
            async |model| {
                Ok(CreateInfluencerPayload {
                    influencer: Some(Influencer(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Edits an influencer.
    async fn update_influencer(
        &self,
        ctx: &Context<'_>,
        input: UpdateInfluencerInput,
    ) -> Result<UpdateInfluencerPayload> {
        let id = one(ids::decode(&input.id, Kind::Influencer, &["input", "id"]));
        let changes = InfluencerChanges {
            handle: input.handle,
            platform: input.platform.map(Into::into),
            display_name: patch(input.display_name),
            email: patch(input.email),
            niche: patch(input.niche),
            follower_count: patch(input.follower_count),
        };
        mutate(
            ctx,
            id,
            async move |tx, id| influencers::update(tx, *id, changes.clone()).await,
            async |model| {
                Ok(UpdateInfluencerPayload {
                    influencer: Some(Influencer(model)),
                    ..Default::default()
                })
            },
        )
        .await
    }

    /// Removes an influencer from the roster, with its memberships and engagement events.
    async fn delete_influencer(
        &self,
        ctx: &Context<'_>,
        input: DeleteInfluencerInput,
    ) -> Result<DeleteInfluencerPayload> {
        delete_by_id(
            ctx,
            &input.id,
            Kind::Influencer,
            async |tx, id| influencers::delete(tx, id).await,
            |id| DeleteInfluencerPayload {
                deleted_influencer_id: Some(id),
                ..Default::default()
            },
        )
        .await
    }
}
