//! The `Node` interface and the `node` / `nodes` lookups by global id.

use crate::service::Scoped;
use async_graphql::{Context, ID, Interface, Object, Result};
use futures_util::future::try_join_all;

use super::{
    context::scope,
    errors::{bad_input, internal},
    export::{ExportJob, load_export},
    ids::{self, Kind},
    loaders::{AutomationById, EventById, loader},
    objects::{
        Automation, Campaign, EngagementEvent, Influencer, Segment, SegmentGroup, load_campaign,
        load_group, load_influencer, load_segment,
    },
    workspace::Workspace,
};
use sea_orm::EntityTrait;

/// Anything with a stable, opaque, globally unique id.
#[derive(Interface)]
#[graphql(field(name = "id", ty = "ID", desc = "Opaque global id."))]
pub enum Node {
    Influencer(Influencer),
    Segment(Segment),
    Campaign(Campaign),
    Automation(Automation),
    EngagementEvent(EngagementEvent),
    Workspace(Workspace),
    SegmentGroup(SegmentGroup),
    ExportJob(ExportJob),
}

async fn load_node(ctx: &Context<'_>, id: &ID) -> Result<Option<Node>> {
    let Some((kind, id)) = ids::parse(id) else {
        return Ok(None);
    };
    Ok(match kind {
        Kind::Influencer => load_influencer(ctx, id).await?.map(Node::Influencer),
        Kind::Segment => load_segment(ctx, id).await?.map(Node::Segment),
        Kind::Campaign => load_campaign(ctx, id).await?.map(Node::Campaign),
        Kind::Automation => loader(ctx)?
            .load_one(AutomationById(id))
            .await
            .map_err(internal)?
            .map(|m| Node::Automation(Automation(m))),
        Kind::EngagementEvent => loader(ctx)?
            .load_one(EventById(id))
            .await
            .map_err(internal)?
            .map(|m| Node::EngagementEvent(EngagementEvent(m))),
        Kind::SegmentGroup => load_group(ctx, id).await?.map(Node::SegmentGroup),
        Kind::ExportJob => load_export(ctx, id).await?.map(Node::ExportJob),
        // Only the request's own workspace is visible.
        Kind::Workspace => {
            let scope = scope(ctx)?;
            if id != scope.workspace().0 {
                return Ok(None);
            }
            entity::workspace::Entity::find_by_id(id)
                .one(scope.conn())
                .await
                .map_err(internal)?
                .map(|m| Node::Workspace(Workspace(m)))
        }
    })
}

#[derive(Default)]
pub struct NodeQuery;

#[Object]
impl NodeQuery {
    /// Any object by its global id; null when nothing in this workspace has it.
    async fn node(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Node>> {
        load_node(ctx, &id).await
    }

    /// Objects by global id, in the order given, null for each id of nothing. At most 100 ids.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::lookup_cost(ids.len(), child_complexity)"
    )]
    async fn nodes(&self, ctx: &Context<'_>, ids: Vec<ID>) -> Result<Vec<Option<Node>>> {
        let max = crate::graphql::runtime::limits::of(ctx).max_nodes;
        if ids.len() > max {
            return Err(bad_input(format!(
                "at most {max} ids per call (got {})",
                ids.len()
            )));
        }
        // Concurrent lookups of one kind are batched by the loader into one query.
        try_join_all(ids.iter().map(|id| load_node(ctx, id))).await
    }
}
