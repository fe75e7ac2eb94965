//! The workspace's segments, paged and searched by name.

use entity::segment;
use sea_orm::{DbErr, QueryTrait, sea_query::SelectStatement};

use super::sql::{col, contains, count};
use crate::service::{
    pagination::{Keyset, Page, PagePart, PageResult, fetch_pages},
    scope::Scoped,
    text::SearchTerm,
};

/// Which of the workspace's segments a list holds.
#[derive(Clone, Debug, Default)]
pub struct SegmentList {
    /// Only segments whose name contains this.
    pub search: Option<SearchTerm>,
    /// Only the segments of one group (`Some(Some(id))`), or those in none (`Some(None)`).
    pub group: Option<Option<i64>>,
}

fn segment_base<S: Scoped>(s: &S, list: &SegmentList) -> SelectStatement {
    let mut base = s.find::<segment::Entity>().into_query();
    if let Some(group) = list.group {
        base.and_where(super::groups::in_group_condition(group));
    }
    if let Some(term) = &list.search {
        base.and_where(contains(
            col(segment::Entity, segment::Column::NameKey),
            term,
        ));
    }
    base
}

/// A page of the workspace's segments (creation order), optionally searched by name or narrowed
/// to a group.
#[tracing::instrument(name = "reads::segment_page", level = "debug", skip_all, fields(workspace = s.workspace().0))]
pub async fn segment_page<S: Scoped>(
    s: &S,
    list: &SegmentList,
    page: Page,
) -> Result<PageResult<segment::Model>, DbErr> {
    let part = PagePart {
        set: Keyset::new(
            segment_base(s, list),
            col(segment::Entity, segment::Column::Id),
        ),
        page,
    };
    Ok(fetch_pages(s.conn(), &[part])
        .await?
        .pop()
        .unwrap_or_default())
}

#[tracing::instrument(name = "reads::count_segments", level = "debug", skip_all, fields(workspace = s.workspace().0))]
pub async fn count_segments<S: Scoped>(s: &S, list: &SegmentList) -> Result<i64, DbErr> {
    count(s.conn(), &mut segment_base(s, list)).await
}
