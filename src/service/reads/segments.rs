//! The workspace's segments, paged and searched by name.

use entity::segment;
use sea_orm::{DbErr, QueryTrait, sea_query::SelectStatement};

use super::sql::{col, contains, count};
use crate::service::{
    pagination::{Keyset, Page, PagePart, PageResult, fetch_pages},
    scope::Scoped,
    text::SearchTerm,
};

fn segment_base<S: Scoped>(s: &S, search: Option<&SearchTerm>) -> SelectStatement {
    let mut base = s.find::<segment::Entity>().into_query();
    if let Some(term) = search {
        base.and_where(contains(
            col(segment::Entity, segment::Column::NameKey),
            term,
        ));
    }
    base
}

/// A page of the workspace's segments (creation order), optionally searched by name.
#[tracing::instrument(name = "reads::segment_page", level = "debug", skip_all, fields(workspace = s.workspace().0))]
pub async fn segment_page<S: Scoped>(
    s: &S,
    search: Option<&SearchTerm>,
    page: Page,
) -> Result<PageResult<segment::Model>, DbErr> {
    let part = PagePart {
        set: Keyset::new(
            segment_base(s, search),
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
pub async fn count_segments<S: Scoped>(s: &S, search: Option<&SearchTerm>) -> Result<i64, DbErr> {
    count(s.conn(), &mut segment_base(s, search)).await
}
