//! The workspace's segments, paged and searched by name.

use entity::segment;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryTrait,
    sea_query::SelectStatement,
};

use super::{col, contains, count};
use crate::service::{
    WorkspaceId,
    pagination::{Page, PagePart, PageResult, fetch_pages},
};

fn segment_base(ws: WorkspaceId, search: Option<&str>) -> SelectStatement {
    let mut base = segment::Entity::find()
        .filter(segment::Column::WorkspaceId.eq(ws.0))
        .into_query();
    if let Some(term) = search.map(str::trim).filter(|t| !t.is_empty()) {
        base.and_where(contains(
            col(segment::Entity, segment::Column::NameKey),
            term,
        ));
    }
    base
}

/// A page of the workspace's segments (creation order), optionally searched by name.
pub async fn segment_page<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    search: Option<&str>,
    page: Page,
) -> Result<PageResult<segment::Model>, DbErr> {
    let part = PagePart {
        base: segment_base(ws, search),
        key: col(segment::Entity, segment::Column::Id),
        without: None,
        page,
    };
    Ok(fetch_pages(db, &[part]).await?.pop().unwrap_or_default())
}

pub async fn count_segments<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    search: Option<&str>,
) -> Result<i64, DbErr> {
    count(db, &mut segment_base(ws, search)).await
}
