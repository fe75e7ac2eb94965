//! Relay cursor connections: argument checking, opaque cursors, and `totalCount` computed only
//! when asked for.

use async_graphql::{Context, Object, OutputType, Result, SimpleObject};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{
    errors::{bad_input, internal},
    loaders::{MemberCount, RecipientCount, loader},
    objects::{Campaign, Influencer, Segment, SegmentGroup, SegmentMembershipChange},
};
use crate::service::{
    pagination::{Keyed, Page, PageResult, Take},
    reads::history::{self, ChangeSet},
    reads::{self, InfluencerSet, SegmentList},
    text::SearchTerm,
};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;

/// A position in a connection: the key of an item, opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl Cursor {
    pub fn decode(s: &str) -> Option<Self> {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix("cursor:").and_then(|n| n.parse().ok()))
            .map(Cursor)
    }

    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("cursor:{}", self.0))
    }
}

/// A page size; above `max` is refused, not clamped, so a client never silently gets less than
/// it asked for.
fn size(value: Option<i32>, max: u64, name: &str) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(bad_input(format!("`{name}` must not be negative"))),
        Some(n) if n as u64 > max => Err(bad_input(format!(
            "`{name}` must be at most {max} (got {n})"
        ))),
        Some(n) => Ok(Some(n as u64)),
    }
}

fn cursor(
    value: Option<&str>,
    name: &str,
    decode: impl Fn(&str) -> Option<i64>,
) -> Result<Option<i64>> {
    value
        .map(|s| decode(s).ok_or_else(|| bad_input(format!("`{name}` is not a valid cursor"))))
        .transpose()
}

/// Checks the four Relay arguments and turns them into a [`Page`].
pub fn page(
    ctx: &Context<'_>,
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<Page> {
    page_by(ctx, [first, last], [after, before], |s| {
        Cursor::decode(s).map(|c| c.0)
    })
}

/// As [`page`], for a connection whose cursors `decode` reads: `[first, last]` and `[after,
/// before]`.
pub fn page_by(
    ctx: &Context<'_>,
    [first, last]: [Option<i32>; 2],
    [after, before]: [Option<String>; 2],
    decode: impl Fn(&str) -> Option<i64>,
) -> Result<Page> {
    let max = crate::graphql::runtime::limits::of(ctx).max_page_size;
    let take = match (size(first, max, "first")?, size(last, max, "last")?) {
        (Some(_), Some(_)) => return Err(bad_input("pass `first` or `last`, not both")),
        (Some(n), None) => Take::First(n),
        (None, Some(n)) => Take::Last(n),
        (None, None) => Take::First(DEFAULT_PAGE_SIZE),
    };
    Ok(Page {
        after: cursor(after.as_deref(), "after", &decode)?,
        before: cursor(before.as_deref(), "before", &decode)?,
        take,
    })
}

/// A `search` argument as a search term: none when missing or blank, BAD_USER_INPUT when it
/// holds a control character.
pub fn search(raw: Option<String>) -> Result<Option<SearchTerm>> {
    SearchTerm::parse(raw.as_deref()).map_err(|error| bad_input(error.message))
}

/// What a connection's `totalCount` counts.
#[derive(Clone, Debug)]
pub enum Total {
    Influencers(InfluencerSet),
    Segments(SegmentList),
    Campaigns,
    Changes(ChangeSet),
    Groups,
}

/// A page of a list, with cursors to move through it (a Relay cursor connection).
pub struct Conn<N: OutputType> {
    edges: Vec<Edge<N>>,
    has_previous: bool,
    has_next: bool,
    total: Total,
}

/// A page of a list, with cursors to move through it (a Relay cursor connection).
#[Object(
    concrete(name = "InfluencerConnection", params(Influencer)),
    concrete(name = "SegmentConnection", params(Segment)),
    concrete(name = "CampaignConnection", params(Campaign)),
    concrete(
        name = "SegmentMembershipChangeConnection",
        params(SegmentMembershipChange)
    ),
    concrete(name = "SegmentGroupConnection", params(SegmentGroup))
)]
impl<N> Conn<N>
where
    N: OutputType + Clone,
    Edge<N>: OutputType,
{
    /// The items of this page with their cursors.
    async fn edges(&self) -> &[Edge<N>] {
        &self.edges
    }

    /// The items of this page, without cursors.
    async fn nodes(&self) -> Vec<N> {
        self.edges.iter().map(|e| e.node.clone()).collect()
    }

    /// Where this page sits in the whole list.
    async fn page_info(&self) -> PageInfo {
        PageInfo {
            has_next_page: self.has_next,
            has_previous_page: self.has_previous,
            start_cursor: self.edges.first().map(|e| e.cursor.clone()),
            end_cursor: self.edges.last().map(|e| e.cursor.clone()),
        }
    }

    /// How many items the whole list holds, regardless of paging.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i32> {
        let scope = super::context::scope(ctx)?;
        let count = match &self.total {
            // Per-parent counts go through loaders, so a list of segments costs one count query.
            Total::Influencers(InfluencerSet::InSegment(id)) => loader(ctx)?
                .load_one(MemberCount(*id))
                .await
                .map_err(internal)?
                .unwrap_or_default(),
            Total::Influencers(InfluencerSet::RecipientsOf(id)) => loader(ctx)?
                .load_one(RecipientCount(*id))
                .await
                .map_err(internal)?
                .unwrap_or_default(),
            Total::Influencers(set) => reads::count_influencers(scope, set)
                .await
                .map_err(internal)?,
            Total::Segments(list) => reads::count_segments(scope, list).await.map_err(internal)?,
            Total::Campaigns => reads::count_campaigns(scope).await.map_err(internal)?,
            Total::Changes(set) => history::count(scope, set).await.map_err(internal)?,
            Total::Groups => reads::groups::count_groups(scope).await.map_err(internal)?,
        };
        Ok(i32::try_from(count).unwrap_or(i32::MAX))
    }
}

/// One item of a page and the cursor that points at it.
#[derive(SimpleObject)]
#[graphql(concrete(name = "InfluencerEdge", params(Influencer)))]
#[graphql(concrete(name = "SegmentEdge", params(Segment)))]
#[graphql(concrete(name = "CampaignEdge", params(Campaign)))]
#[graphql(concrete(name = "SegmentMembershipChangeEdge", params(SegmentMembershipChange)))]
#[graphql(concrete(name = "SegmentGroupEdge", params(SegmentGroup)))]
pub struct Edge<N: OutputType> {
    /// Pass as `after` or `before` to page from this item.
    pub cursor: String,
    /// The item.
    pub node: N,
}

/// Where a page sits in the whole list.
#[derive(SimpleObject)]
pub struct PageInfo {
    /// Whether items follow this page.
    pub has_next_page: bool,
    /// Whether items precede this page.
    pub has_previous_page: bool,
    /// Cursor of the first item of the page.
    pub start_cursor: Option<String>,
    /// Cursor of the last item of the page.
    pub end_cursor: Option<String>,
}

/// Builds a connection from a fetched page.
pub fn connection<M, N>(result: PageResult<M>, total: Total, node: impl Fn(M) -> N) -> Conn<N>
where
    M: Keyed,
    N: OutputType,
{
    connection_by(result, total, node, |item| Cursor(item.key()).encode())
}

/// As [`connection`], each item's cursor made by `cursor`.
pub fn connection_by<M, N>(
    result: PageResult<M>,
    total: Total,
    node: impl Fn(M) -> N,
    cursor: impl Fn(&M) -> String,
) -> Conn<N>
where
    N: OutputType,
{
    Conn {
        edges: result
            .items
            .into_iter()
            .map(|item| Edge {
                cursor: cursor(&item),
                node: node(item),
            })
            .collect(),
        has_previous: result.has_previous,
        has_next: result.has_next,
        total,
    }
}
