//! Segment groups, read: pages of the workspace's groups, each group's segments in order, and
//! each segment's group.

use std::collections::HashMap;

use entity::{segment, segment_group as group, segment_group_member as member};
use sea_orm::{
    ColumnTrait, DbErr, QueryFilter, QueryOrder, QueryTrait, sea_query::SelectStatement,
};

use super::sql::{col, count};
use crate::service::{
    id_list::column_any_of,
    pagination::{Keyset, Page, PagePart, PageResult, fetch_pages},
    scope::Scoped,
};

fn group_base<S: Scoped>(s: &S) -> SelectStatement {
    s.find::<group::Entity>().into_query()
}

/// A page of the workspace's groups, oldest first.
#[tracing::instrument(name = "reads::group_page", level = "debug", skip_all, fields(workspace = s.workspace().0))]
pub async fn group_page<S: Scoped>(s: &S, page: Page) -> Result<PageResult<group::Model>, DbErr> {
    let part = PagePart {
        set: Keyset::new(group_base(s), col(group::Entity, group::Column::Id)),
        page,
    };
    Ok(fetch_pages(s.conn(), &[part])
        .await?
        .pop()
        .unwrap_or_default())
}

/// How many groups the workspace has.
pub async fn count_groups<S: Scoped>(s: &S) -> Result<i64, DbErr> {
    count(s.conn(), &mut group_base(s)).await
}

/// The segments of these groups, each group's in its order.
#[tracing::instrument(name = "reads::segments_of_groups", level = "debug", skip_all, fields(workspace = s.workspace().0, groups = group_ids.len()))]
pub async fn segments_of_groups<S: Scoped>(
    s: &S,
    group_ids: &[i64],
) -> Result<HashMap<i64, Vec<segment::Model>>, DbErr> {
    let places = s
        .find::<member::Entity>()
        .filter(column_any_of(
            s.backend(),
            member::Column::GroupId,
            group_ids.iter().copied(),
        ))
        .order_by_asc(member::Column::GroupId)
        .order_by_asc(member::Column::Position)
        .all(s.conn())
        .await?;
    let mut segments: HashMap<i64, segment::Model> = super::by_ids::<segment::Entity, _>(
        s,
        &places.iter().map(|p| p.segment_id).collect::<Vec<_>>(),
    )
    .await?
    .into_iter()
    .map(|segment| (segment.id, segment))
    .collect();
    let mut found: HashMap<i64, Vec<segment::Model>> = HashMap::new();
    for place in places {
        if let Some(segment) = segments.remove(&place.segment_id) {
            found.entry(place.group_id).or_default().push(segment);
        }
    }
    Ok(found)
}

/// The group of each of these segments that is in one.
#[tracing::instrument(name = "reads::groups_of_segments", level = "debug", skip_all, fields(workspace = s.workspace().0, segments = segment_ids.len()))]
pub async fn groups_of_segments<S: Scoped>(
    s: &S,
    segment_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    Ok(s.find::<member::Entity>()
        .filter(column_any_of(
            s.backend(),
            member::Column::SegmentId,
            segment_ids.iter().copied(),
        ))
        .all(s.conn())
        .await?
        .into_iter()
        .map(|place| (place.segment_id, place.group_id))
        .collect())
}

/// Whether `segment` is in the group (used by the segment list).
pub(crate) fn in_group_condition(group: Option<i64>) -> sea_orm::sea_query::SimpleExpr {
    use sea_orm::sea_query::{Expr, ExprTrait, Query};
    let mut place = Query::select();
    place
        .expr(Expr::val(1))
        .from(member::Entity)
        .and_where(
            Expr::col((member::Entity, member::Column::WorkspaceId))
                .equals((segment::Entity, segment::Column::WorkspaceId)),
        )
        .and_where(
            Expr::col((member::Entity, member::Column::SegmentId))
                .equals((segment::Entity, segment::Column::Id)),
        );
    match group {
        Some(id) => {
            place.and_where(member::Column::GroupId.eq(id));
            Expr::exists(place.to_owned())
        }
        None => Expr::exists(place.to_owned()).not(),
    }
}
