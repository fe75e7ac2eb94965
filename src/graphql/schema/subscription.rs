//! Live updates: membership changes pushed to clients over WebSocket (`graphql-transport-ws` at
//! `/graphql/ws`), from whichever server instance made them.
//!
//! The membership history is the feed's source: a subscription reads the changes after the last
//! one it delivered, in the history's order, and notifications (see `service::events`) only
//! wake it up. Positions in the history follow commit order with no gap (see
//! `service::history`), so reading "after n" misses nothing and repeats nothing, whichever
//! instance made the change, and a client that resubscribes with the cursor of the last change
//! it saw continues exactly there, on any instance and after any restart.

use std::{
    collections::{BTreeSet, HashMap, VecDeque},
    sync::Arc,
};

use async_graphql::{Context, ID, Result, Subscription};
use entity::{influencer, segment, segment_membership_change as change};
use futures_util::{Stream, stream};
use tokio::sync::broadcast::{Receiver, error::RecvError};

use super::{
    context::{self, scope},
    errors::{bad_input, internal},
    history::{position_cursor, resume_point},
    ids::{self, Kind},
    objects::{ReadAhead, SegmentMembershipChange},
};
use crate::{
    errors::{Code, graphql::error_with_code},
    service::{
        Scope, Scoped, WorkspaceId,
        events::Signal,
        reads::{self, history},
    },
};

/// Changes read from the history at a time.
const READ_AHEAD: u64 = 200;

#[derive(Default)]
pub struct Subscription;

/// The root subscription: live updates over WebSocket at `/graphql/ws` (graphql-transport-ws).
#[Subscription]
impl Subscription {
    /// Every membership change in the workspace (or in one segment, with `segmentId`):
    /// assignments and removals by people, automations and rules, and by deleting a segment or
    /// an influencer. One event per influencer and segment, in the history's order.
    ///
    /// With `after` (a cursor of `membershipChanges`, or an earlier event's `id`), the changes
    /// made since then are delivered first, then live ones, with no gap and no repeat; without
    /// it, the changes from now on. Should the server lose its database, the subscription ends
    /// with a LIVE_UPDATES_INTERRUPTED error whose `cursor` extension is where to resume.
    async fn segment_membership_changed(
        &self,
        ctx: &Context<'_>,
        #[graphql(desc = "Only changes to this segment.")] segment_id: Option<ID>,
        #[graphql(
            desc = "Resume after this change: a cursor of `membershipChanges` or a change's `id`."
        )]
        after: Option<String>,
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
        // Listening before reading where the history stands: a change that commits after the
        // read wakes the feed up.
        let receiver = context::events(ctx)?
            .subscribe()
            .await
            .map_err(|e| error_with_code(e.to_string(), Code::ServiceUnavailable))?;
        let last = match after {
            Some(after) => resume_point(&scope, "after", &after).await?,
            None => history::last_position(&scope).await.map_err(internal)?,
        };
        // Related objects are read once per batch of changes, and only when selected.
        let selected = ctx.look_ahead();
        let wants = Wanted {
            influencer: selected.field("influencer").exists(),
            segment: selected.field("segment").exists(),
        };
        let state = Feed {
            receiver,
            scope,
            segment,
            wants,
            read_ahead: None,
            last,
            behind: true,
            ready: VecDeque::new(),
            ended: false,
        };
        Ok(stream::unfold(state, Feed::next))
    }
}

/// One subscription's state between events.
struct Feed {
    receiver: Receiver<Signal>,
    scope: Scope,
    segment: Option<i64>,
    /// Which related objects the subscriber selected, read once per batch of changes.
    wants: Wanted,
    read_ahead: Option<Arc<ReadAhead>>,
    /// The position of the last change read from the history, with what it shows.
    last: i64,
    /// Whether the history may hold changes after `last`.
    behind: bool,
    ready: VecDeque<change::Model>,
    ended: bool,
}

/// Which related objects the subscriber selected.
#[derive(Clone, Copy)]
struct Wanted {
    influencer: bool,
    segment: bool,
}

impl Feed {
    /// The influencers and segments of `changes` the subscriber selected, in a statement each
    /// (per thousand influencers).
    async fn read_ahead(
        &self,
        changes: &[change::Model],
    ) -> Result<Option<Arc<ReadAhead>>, sea_orm::DbErr> {
        if !self.wants.influencer && !self.wants.segment {
            return Ok(None);
        }
        let mut ahead = ReadAhead::default();
        if self.wants.influencer {
            let ids: Vec<i64> = changes
                .iter()
                .map(|c| c.influencer_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let mut read = HashMap::with_capacity(ids.len());
            for chunk in ids.chunks(1000) {
                let rows = reads::by_ids::<influencer::Entity, _>(&self.scope, chunk).await?;
                read.extend(rows.into_iter().map(|row| (row.id, row)));
            }
            ahead.influencers = Some(read);
        }
        if self.wants.segment {
            let ids: Vec<i64> = changes
                .iter()
                .map(|c| c.segment_id)
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let rows = reads::by_ids::<segment::Entity, _>(&self.scope, &ids).await?;
            ahead.segments = Some(rows.into_iter().map(|row| (row.id, row)).collect());
        }
        Ok(Some(Arc::new(ahead)))
    }

    async fn next(mut self) -> Option<(Result<SegmentMembershipChange>, Self)> {
        loop {
            if let Some(change) = self.ready.pop_front() {
                let change = SegmentMembershipChange(change, self.read_ahead.clone());
                return Some((Ok(change), self));
            }
            if self.ended {
                return None;
            }
            if self.behind {
                // The feed moves past changes only once they and what they show are read: an
                // interruption's cursor is then the last change delivered (none wait in `ready`
                // while the feed reads).
                let read =
                    match history::after(&self.scope, self.segment, self.last, READ_AHEAD).await {
                        Ok(changes) => match self.read_ahead(&changes).await {
                            Ok(ahead) => Ok((changes, ahead)),
                            Err(error) => Err((error, "cannot read ahead")),
                        },
                        Err(error) => Err((error, "cannot read the history")),
                    };
                match read {
                    Ok((changes, ahead)) => {
                        self.behind = changes.len() as u64 == READ_AHEAD;
                        if let Some(change) = changes.last() {
                            self.last = change.id;
                        }
                        self.read_ahead = ahead;
                        self.ready.extend(changes);
                        continue;
                    }
                    Err((error, what)) => {
                        tracing::warn!(%error, "live updates: {what}");
                        self.ended = true;
                        let ws = self.scope.workspace();
                        return Some((Err(interrupted(ws, self.last)), self));
                    }
                }
            }
            match self.receiver.recv().await {
                Ok(Signal::Changed(batch)) => {
                    self.behind = batch.workspace() == self.scope.workspace()
                        && self.segment.is_none_or(|s| s == batch.segment_id);
                }
                // Wake-ups may have been missed: the history has whatever they were about.
                Ok(Signal::Gap) | Err(RecvError::Lagged(_)) => self.behind = true,
                Err(RecvError::Closed) => return None,
            }
        }
    }
}

/// The feed cannot go on; `cursor` is the last change delivered, to resume from.
fn interrupted(ws: WorkspaceId, last: i64) -> async_graphql::Error {
    let mut error = error_with_code(
        "live updates were interrupted; subscribe again with `after` set to the `cursor` extension",
        Code::LiveUpdatesInterrupted,
    );
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("cursor", position_cursor(ws, last));
    error
}
