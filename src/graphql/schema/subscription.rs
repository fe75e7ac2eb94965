//! Live updates: membership changes pushed to clients over WebSocket (`graphql-transport-ws` at
//! `/graphql/ws`), from whichever server instance made them. See `service::events` for how they
//! travel.

use std::collections::{HashMap, VecDeque};

use async_graphql::{Context, Enum, ID, Result, SimpleObject, Subscription};
use entity::{automation, influencer, segment};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::{
    context::{self, scope},
    enums::MembershipSource,
    errors::bad_input,
    ids::{self, Kind},
    objects::{Automation, Influencer, Segment},
    scalars::DateTime,
};
use crate::{
    errors::{Code, graphql::error_with_code},
    service::{
        Scope, Scoped,
        events::{ChangeKind, MembershipBatch, Signal},
        reads,
    },
};

#[derive(Default)]
pub struct Subscription;

/// The root subscription: live updates over WebSocket at `/graphql/ws` (graphql-transport-ws).
#[Subscription]
impl Subscription {
    /// Every membership change in the workspace (or in one segment, with `segmentId`) from now
    /// on: assignments and removals by people, by automations, and by deleting a segment or an
    /// influencer. One event per influencer and segment. When changes may have been missed (the
    /// client fell far behind, or the server lost its database connection for a moment) the
    /// subscription ends with a LIVE_UPDATES_INTERRUPTED error: refetch, then subscribe again.
    async fn segment_membership_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes to this segment.")] segment_id: Option<ID>,
    ) -> Result<impl Stream<Item = Result<SegmentMembershipChange>> + use<>> {
        let scope = scope(ctx)?.clone();
        let segment = match segment_id {
            None => None,
            Some(id) => Some(
                ids::parse(&id)
                    .filter(|(kind, _)| *kind == Kind::Segment)
                    .ok_or_else(|| bad_input("segmentId is not a segment id"))?
                    .1,
            ),
        };
        // Related objects are read once per batch of changes, and only when selected.
        let selected = ctx.look_ahead();
        let wants = Wanted {
            influencer: selected.field("influencer").exists(),
            segment: selected.field("segment").exists(),
            automation: selected.field("automation").exists(),
        };
        let receiver = context::events(ctx)?
            .subscribe()
            .await
            .map_err(|e| error_with_code(e.to_string(), Code::ServiceUnavailable))?;
        let state = Feed {
            receiver,
            scope,
            segment,
            wants,
            ready: VecDeque::new(),
            ended: false,
        };
        Ok(stream::unfold(state, Feed::next))
    }
}

/// Whether an influencer entered or left a segment.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MembershipChangeKind {
    /// The influencer was put in the segment.
    Added,
    /// The influencer was taken out of the segment (or the segment or influencer was deleted).
    Removed,
}

/// One membership that began or ended.
#[derive(SimpleObject, Clone)]
pub struct SegmentMembershipChange {
    /// Whether the membership began or ended.
    change: MembershipChangeKind,
    /// The influencer's id, also when the influencer no longer exists.
    influencer_id: ID,
    /// The influencer as it is when the event is delivered; null once deleted.
    influencer: Option<Influencer>,
    /// The segment's id, also when the segment no longer exists.
    segment_id: ID,
    /// The segment as it is when the event is delivered; null once deleted.
    segment: Option<Segment>,
    /// Whether a person or an automation made the membership (for REMOVED: the one that ended).
    source: MembershipSource,
    /// The automation that made the membership, when source is AUTOMATION and it still exists.
    automation: Option<Automation>,
    /// When the change was made.
    at: DateTime,
}

/// Which related objects the subscriber selected.
#[derive(Clone, Copy)]
struct Wanted {
    influencer: bool,
    segment: bool,
    automation: bool,
}

/// One subscription's state between events.
struct Feed {
    receiver: Receiver<Signal>,
    scope: Scope,
    segment: Option<i64>,
    wants: Wanted,
    ready: VecDeque<SegmentMembershipChange>,
    ended: bool,
}

impl Feed {
    async fn next(mut self) -> Option<(Result<SegmentMembershipChange>, Self)> {
        loop {
            if let Some(change) = self.ready.pop_front() {
                return Some((Ok(change), self));
            }
            if self.ended {
                return None;
            }
            let batch = match self.receiver.recv().await {
                Ok(Signal::Changed(batch)) => batch,
                Ok(Signal::Gap) | Err(RecvError::Lagged(_)) => {
                    self.ended = true;
                    return Some((Err(interrupted()), self));
                }
                Err(RecvError::Closed) => return None,
            };
            if batch.workspace() != self.scope.workspace()
                || self.segment.is_some_and(|s| s != batch.segment_id)
            {
                continue;
            }
            match self.expand(&batch).await {
                Ok(changes) => self.ready.extend(changes),
                Err(error) => {
                    self.ended = true;
                    return Some((Err(error), self));
                }
            }
        }
    }

    /// One event per influencer of the batch, with the related objects the subscriber selected,
    /// read in a few statements for the whole batch.
    async fn expand(&self, batch: &MembershipBatch) -> Result<Vec<SegmentMembershipChange>> {
        let internal = super::errors::internal;
        let mut influencers: HashMap<i64, influencer::Model> = HashMap::new();
        if self.wants.influencer {
            for ids in batch.influencer_ids.chunks(1000) {
                let rows = reads::by_ids::<influencer::Entity, _>(&self.scope, ids)
                    .await
                    .map_err(internal)?;
                influencers.extend(rows.into_iter().map(|row| (row.id, row)));
            }
        }
        let segment = if self.wants.segment {
            reads::by_id::<segment::Entity, _>(&self.scope, batch.segment_id)
                .await
                .map_err(internal)?
        } else {
            None
        };
        let automation = match batch.automation_id.filter(|_| self.wants.automation) {
            Some(id) => reads::by_id::<automation::Entity, _>(&self.scope, id)
                .await
                .map_err(internal)?,
            None => None,
        };
        let change = match batch.change {
            ChangeKind::Added => MembershipChangeKind::Added,
            ChangeKind::Removed => MembershipChangeKind::Removed,
        };
        Ok(batch
            .influencer_ids
            .iter()
            .map(|id| SegmentMembershipChange {
                change,
                influencer_id: ids::encode(Kind::Influencer, *id),
                influencer: influencers.remove(id).map(Influencer),
                segment_id: ids::encode(Kind::Segment, batch.segment_id),
                segment: segment.clone().map(Segment),
                source: batch.source().into(),
                automation: automation.clone().map(Automation),
                at: batch.at.into(),
            })
            .collect())
    }
}

fn interrupted() -> async_graphql::Error {
    error_with_code(
        "some membership changes may have been missed; refetch and subscribe again",
        Code::LiveUpdatesInterrupted,
    )
}
