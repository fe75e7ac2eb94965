//! Relay cursor connections: argument checking, opaque cursors, and `totalCount` computed only
//! when asked for.

use async_graphql::{
    Context, Object, OutputType, Result,
    connection::{Connection, CursorType, Edge, EmptyFields},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};

use super::{
    errors::{bad_input, internal},
    loaders::{MemberCount, RecipientCount, loader},
};
use crate::service::{
    WorkspaceId,
    pagination::{Keyed, Page, PageResult, Take},
    reads::{self, InfluencerSet},
};

/// Page size when neither `first` nor `last` is given.
pub const DEFAULT_PAGE_SIZE: u64 = 20;
/// Largest `first` or `last` accepted; larger is refused, not clamped, so a client never
/// silently gets less than it asked for.
pub const MAX_PAGE_SIZE: u64 = 100;

/// A position in a connection: the key of an item, opaque to clients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor(pub i64);

impl CursorType for Cursor {
    type Error = &'static str;

    fn decode_cursor(s: &str) -> Result<Self, Self::Error> {
        URL_SAFE_NO_PAD
            .decode(s)
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .and_then(|text| text.strip_prefix("cursor:").and_then(|n| n.parse().ok()))
            .map(Cursor)
            .ok_or("not a valid cursor")
    }

    fn encode_cursor(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!("cursor:{}", self.0))
    }
}

fn size(value: Option<i32>, name: &str) -> Result<Option<u64>> {
    match value {
        None => Ok(None),
        Some(n) if n < 0 => Err(bad_input(format!("`{name}` must not be negative"))),
        Some(n) if n as u64 > MAX_PAGE_SIZE => Err(bad_input(format!(
            "`{name}` must be at most {MAX_PAGE_SIZE} (got {n})"
        ))),
        Some(n) => Ok(Some(n as u64)),
    }
}

fn cursor(value: Option<&str>, name: &str) -> Result<Option<i64>> {
    value
        .map(|s| {
            Cursor::decode_cursor(s)
                .map(|c| c.0)
                .map_err(|_| bad_input(format!("`{name}` is not a valid cursor")))
        })
        .transpose()
}

/// Checks the four Relay arguments and turns them into a [`Page`].
pub fn page(
    first: Option<i32>,
    after: Option<String>,
    last: Option<i32>,
    before: Option<String>,
) -> Result<Page> {
    let take = match (size(first, "first")?, size(last, "last")?) {
        (Some(_), Some(_)) => return Err(bad_input("pass `first` or `last`, not both")),
        (Some(n), None) => Take::First(n),
        (None, Some(n)) => Take::Last(n),
        (None, None) => Take::First(DEFAULT_PAGE_SIZE),
    };
    Ok(Page {
        after: cursor(after.as_deref(), "after")?,
        before: cursor(before.as_deref(), "before")?,
        take,
    })
}

/// What a connection's `totalCount` counts.
#[derive(Clone, Debug)]
pub enum Total {
    Influencers(WorkspaceId, InfluencerSet),
    Segments(WorkspaceId, Option<String>),
    Campaigns(WorkspaceId),
}

/// The fields every connection adds to edges, nodes and pageInfo.
pub struct ConnectionTotal(Total);

#[Object]
impl ConnectionTotal {
    /// How many items the whole connection holds, regardless of paging.
    async fn total_count(&self, ctx: &Context<'_>) -> Result<i32> {
        let db = ctx.data::<sea_orm::DatabaseConnection>()?;
        let count = match &self.0 {
            // Per-parent counts go through loaders, so a list of segments costs one count query.
            Total::Influencers(_, InfluencerSet::InSegment(id)) => loader(ctx)?
                .load_one(MemberCount(*id))
                .await
                .map_err(internal)?,
            Total::Influencers(_, InfluencerSet::RecipientsOf(id)) => loader(ctx)?
                .load_one(RecipientCount(*id))
                .await
                .map_err(internal)?,
            Total::Influencers(ws, set) => Some(
                reads::count_influencers(db, *ws, set)
                    .await
                    .map_err(internal)?,
            ),
            Total::Segments(ws, search) => Some(
                reads::count_segments(db, *ws, search.as_deref())
                    .await
                    .map_err(internal)?,
            ),
            Total::Campaigns(ws) => Some(reads::count_campaigns(db, *ws).await.map_err(internal)?),
        };
        Ok(i32::try_from(count.unwrap_or_default()).unwrap_or(i32::MAX))
    }
}

/// A connection over items of type `N`.
pub type Conn<N> = Connection<Cursor, N, ConnectionTotal, EmptyFields>;

/// Builds a connection from a fetched page.
pub fn connection<M, N>(result: PageResult<M>, total: Total, node: impl Fn(M) -> N) -> Conn<N>
where
    M: Keyed,
    N: OutputType,
{
    let mut conn = Connection::with_additional_fields(
        result.has_previous,
        result.has_next,
        ConnectionTotal(total),
    );
    conn.edges.extend(
        result
            .items
            .into_iter()
            .map(|item| Edge::new(Cursor(item.key()), node(item))),
    );
    conn
}
