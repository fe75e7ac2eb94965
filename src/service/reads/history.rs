//! The membership history, read: keyset pages by position for one influencer, one segment or
//! the whole workspace, and what a live feed reads to catch up. (Recorded by `journal`.)

use chrono::{DateTime, Utc};
use entity::{membership_history_head as head, segment_membership_change as change};
use sea_orm::{
    ColumnTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    QueryTrait,
    sea_query::{Expr, ExprTrait},
};

use super::sql;
use crate::service::{
    pagination::{Keyset, Page, PagePart, PageResult, fetch_pages},
    scope::Scoped,
};

/// A part of a workspace's history to page over, oldest change first.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ChangeSet {
    /// The changes of one influencer.
    OfInfluencer(i64),
    /// The changes of the workspace, or of one segment in it, made at or after `since` when
    /// given.
    Workspace {
        segment: Option<i64>,
        since: Option<DateTime<Utc>>,
    },
}

impl ChangeSet {
    /// The changes of one segment.
    pub fn of_segment(id: i64) -> Self {
        Self::Workspace {
            segment: Some(id),
            since: None,
        }
    }

    fn keyset<S: Scoped>(&self, s: &S) -> Keyset {
        let mut base = change::Entity::find()
            .filter(s.owns::<change::Entity>())
            .into_query();
        match self {
            ChangeSet::OfInfluencer(id) => {
                base.and_where(Expr::col((change::Entity, change::Column::InfluencerId)).eq(*id));
            }
            ChangeSet::Workspace { segment, since } => {
                if let Some(id) = segment {
                    base.and_where(Expr::col((change::Entity, change::Column::SegmentId)).eq(*id));
                }
                if let Some(since) = since {
                    base.and_where(Expr::col((change::Entity, change::Column::At)).gte(*since));
                }
            }
        }
        Keyset::new(base, Expr::col((change::Entity, change::Column::Id)))
    }
}

/// A page of changes.
pub async fn page<S: Scoped>(
    s: &S,
    set: &ChangeSet,
    page: Page,
) -> Result<PageResult<change::Model>, DbErr> {
    let part = PagePart {
        set: set.keyset(s),
        page,
    };
    Ok(fetch_pages(s.conn(), std::slice::from_ref(&part))
        .await?
        .pop()
        .unwrap_or_default())
}

/// How many changes the set holds.
pub async fn count<S: Scoped>(s: &S, set: &ChangeSet) -> Result<i64, DbErr> {
    sql::count(s.conn(), &mut set.keyset(s).all_rows()).await
}

/// Whether a reader may resume after position `id` of the workspace's history: the change is
/// still there, or `id` is 0 (the start) and nothing was pruned. A change of another workspace
/// (positions are the workspace's own, so another's may be past this one's end) or one pruned by
/// retention is no place to resume from.
pub async fn resumable<S: Scoped>(s: &S, id: i64) -> Result<bool, DbErr> {
    if id == 0 {
        return Ok(last_position(s).await? == 0 || held(s, 1).await?);
    }
    held(s, id).await
}

async fn held<S: Scoped>(s: &S, id: i64) -> Result<bool, DbErr> {
    Ok(s.find::<change::Entity>()
        .filter(Expr::col((change::Entity, change::Column::Id)).eq(id))
        .count(s.conn())
        .await?
        > 0)
}

/// The last position taken in the workspace's history (0 before its first change).
pub async fn last_position<S: Scoped>(s: &S) -> Result<i64, DbErr> {
    Ok(head::Entity::find()
        .filter(s.owns::<head::Entity>())
        .one(s.conn())
        .await?
        .map_or(0, |head| head.last_id))
}

/// Up to `limit` changes after position `last`, of one segment or all, in order.
pub async fn after<S: Scoped>(
    s: &S,
    segment: Option<i64>,
    last: i64,
    limit: u64,
) -> Result<Vec<change::Model>, DbErr> {
    let mut select = s
        .find::<change::Entity>()
        .filter(change::Column::Id.gt(last));
    if let Some(segment) = segment {
        select = select.filter(change::Column::SegmentId.eq(segment));
    }
    select
        .order_by_asc(change::Column::Id)
        .limit(limit)
        .all(s.conn())
        .await
}
