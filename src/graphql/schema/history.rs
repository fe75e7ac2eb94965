//! The membership history: `SegmentMembershipChange` and its `Actor`, the workspace's
//! `membershipChanges`, and the history connections of influencers and segments (resolved in
//! their modules through [`history_connection`]).

use async_graphql::{Context, ID, Object, Result};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use entity::segment_membership_change as change;

use super::{
    connection::{Conn, Total, connection_by, page_by},
    enums::{ActorKind, MembershipChangeKind, MembershipSource},
    errors::{bad_input, internal},
    ids::{self, Kind},
    loaders::{EventById, loader},
    objects::{
        Automation, EngagementEvent, Influencer, Segment, SegmentMembershipChange, load_automation,
        load_influencer, load_segment,
    },
    scalars::DateTime,
};
use crate::service::{
    Scope, Scoped, WorkspaceId,
    reads::history::{self, ChangeSet},
};

/// An influencer entering or leaving a segment, as recorded when it happened. Kept after the
/// influencer or the segment is deleted.
#[Object]
impl SegmentMembershipChange {
    /// Stable id of this change; the history and the subscription share it. It is also a
    /// cursor: pass it as `after` to `membershipChanges` or to the subscription to resume after
    /// this change.
    async fn id(&self) -> ID {
        ID(change_cursor(&self.0))
    }

    /// Whether the influencer entered or left the segment.
    async fn change(&self) -> MembershipChangeKind {
        self.0.change.into()
    }

    /// The influencer's id, kept after it is deleted.
    async fn influencer_id(&self) -> ID {
        ids::encode(Kind::Influencer, self.0.influencer_id)
    }

    /// The influencer; null once it is deleted.
    async fn influencer(&self, ctx: &Context<'_>) -> Result<Option<Influencer>> {
        match self.1.as_ref().and_then(|ahead| ahead.influencers.as_ref()) {
            Some(read) => Ok(read.get(&self.0.influencer_id).cloned().map(Influencer)),
            None => load_influencer(ctx, self.0.influencer_id).await,
        }
    }

    /// The segment's id, kept after it is deleted.
    async fn segment_id(&self) -> ID {
        ids::encode(Kind::Segment, self.0.segment_id)
    }

    /// The segment; null once it is deleted.
    async fn segment(&self, ctx: &Context<'_>) -> Result<Option<Segment>> {
        match self.1.as_ref().and_then(|ahead| ahead.segments.as_ref()) {
            Some(read) => Ok(read.get(&self.0.segment_id).cloned().map(Segment)),
            None => load_segment(ctx, self.0.segment_id).await,
        }
    }

    /// The segment's name when the change was made, kept after the segment is gone.
    async fn segment_name(&self) -> &str {
        &self.0.segment_name
    }

    /// How the membership that was made or ended had been made: by a person, an automation
    /// or a rule (for REMOVED: the one that ended).
    async fn source(&self) -> MembershipSource {
        self.0.source.into()
    }

    /// The automation that made the membership, when source is AUTOMATION and it still exists.
    async fn automation(&self, ctx: &Context<'_>) -> Result<Option<Automation>> {
        load_automation(ctx, self.0.automation_id).await
    }

    /// Who or what made the change.
    async fn actor(&self) -> Actor {
        Actor(self.0.clone())
    }

    /// When the change was made.
    async fn at(&self) -> DateTime {
        self.0.at.into()
    }
}

/// Who or what made a change (see [`Actor`]'s fields).
pub struct Actor(change::Model);

/// Who or what made a change.
#[Object]
impl Actor {
    /// What kind of actor made the change.
    async fn kind(&self) -> ActorKind {
        self.0.actor_kind.into()
    }

    /// The API key's prefix, when kind is API_KEY.
    async fn api_key_prefix(&self) -> Option<&str> {
        self.0.api_key_prefix.as_deref()
    }

    /// The API key's label, when kind is API_KEY.
    async fn api_key_label(&self) -> Option<&str> {
        self.0.api_key_label.as_deref()
    }

    /// The automation, when kind is AUTOMATION (null once deleted).
    async fn automation(&self, ctx: &Context<'_>) -> Result<Option<Automation>> {
        load_automation(ctx, self.0.actor_automation_id).await
    }

    /// The engagement event that fired the automation (null once deleted with its influencer).
    async fn event(&self, ctx: &Context<'_>) -> Result<Option<EngagementEvent>> {
        let Some(id) = self.0.event_id else {
            return Ok(None);
        };
        Ok(loader(ctx)?
            .load_one(EventById(id))
            .await
            .map_err(internal)?
            .map(EngagementEvent))
    }
}

#[derive(Default)]
pub struct HistoryQuery;

#[Object]
impl HistoryQuery {
    /// Every membership change of the workspace in order, oldest first; a cursor resumes exactly
    /// where it left off. `segmentId` narrows it to one segment (deleted ones too), `since` to
    /// the changes made at or after that time.
    #[graphql(
        complexity = "crate::graphql::schema::complexity::connection_cost(first, last, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn membership_changes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        segment_id: Option<ID>,
        since: Option<DateTime>,
    ) -> Result<Conn<SegmentMembershipChange>> {
        let segment = segment_id
            .map(|id| {
                ids::lookup(&id, Kind::Segment)
                    .ok_or_else(|| bad_input("`segmentId` is not a segment id"))
            })
            .transpose()?;
        let set = ChangeSet::Workspace {
            segment,
            since: since.map(|since| since.0),
        };
        history_connection(ctx, set, [first, last], [after, before]).await
    }
}

/// A change's id and cursor: `base64url("change:<workspace>:<position>")`. Positions are
/// numbered per workspace, so the cursor names the workspace too: one from another workspace is
/// refused rather than read as a position of this one.
pub fn change_cursor(change: &change::Model) -> String {
    position_cursor(WorkspaceId(change.workspace_id), change.id)
}

/// The cursor of position `position` of workspace `ws`'s history.
pub fn position_cursor(ws: WorkspaceId, position: i64) -> String {
    URL_SAFE_NO_PAD.encode(format!("change:{}:{position}", ws.0))
}

/// The position a change cursor (or id) names, when it is one of workspace `ws`'s.
fn change_position(text: &str, ws: WorkspaceId) -> Option<i64> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (workspace, position) = text.strip_prefix("change:")?.split_once(':')?;
    let position: i64 = position.parse().ok().filter(|p| *p >= 0)?;
    (workspace.parse::<i64>().ok()? == ws.0).then_some(position)
}

/// The position `after` names for a reader that resumes there: a cursor or id of a change this
/// workspace's history still holds. A cursor of another workspace, or of a change pruned since,
/// is refused rather than read from a place that is not there.
pub async fn resume_point(scope: &Scope, name: &str, after: &str) -> Result<i64> {
    let position = change_position(after, scope.workspace())
        .ok_or_else(|| bad_input(format!("`{name}` is not a valid cursor")))?;
    if !history::resumable(scope, position)
        .await
        .map_err(internal)?
    {
        return Err(bad_input(format!(
            "`{name}` names a change this workspace's history no longer holds (removed by its \
             retention)"
        )));
    }
    Ok(position)
}

/// A page of a part of the history, from the four Relay arguments (`[first, last]`, `[after,
/// before]`).
pub async fn history_connection(
    ctx: &Context<'_>,
    set: ChangeSet,
    sizes: [Option<i32>; 2],
    cursors: [Option<String>; 2],
) -> Result<Conn<SegmentMembershipChange>> {
    let scope = super::context::scope(ctx)?;
    for (name, cursor) in ["after", "before"].into_iter().zip(&cursors) {
        if let Some(cursor) = cursor {
            resume_point(scope, name, cursor).await?;
        }
    }
    let ws = scope.workspace();
    let page = page_by(ctx, sizes, cursors, |text| change_position(text, ws))?;
    let result = history::page(scope, &set, page).await.map_err(internal)?;
    Ok(connection_by(
        result,
        Total::Changes(set),
        SegmentMembershipChange::alone,
        change_cursor,
    ))
}
