//! Sets of influencers (the roster, a search, Unassigned, a segment's members, a campaign's
//! recipients), their pages, and the memberships of influencers.

use std::collections::HashMap;

use entity::{campaign_audience, influencer, segment, segment_membership};
use sea_orm::{
    ConnectionTrait, DatabaseBackend, DbErr, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    Related, Statement,
    sea_query::{Alias, Expr, ExprTrait, JoinType, Query},
};

use super::sql::{col, contains};
use crate::service::{
    clock::now,
    filter,
    id_list::column_any_of,
    influencer_set::InfluencerSet,
    pagination::{Correlated, Keyset, Page, PagePart, PageResult, Take, assemble, fetch_pages},
    scope::Scoped,
};

/// An influencer set as a [`Keyset`]: its base query (all influencer columns), the key it pages
/// by, the key's equal across the base's join (a segment's members) and the semi- or anti-join
/// that completes it (recipients, Unassigned).
pub(super) fn influencer_base<S: Scoped>(s: &S, set: &InfluencerSet) -> Keyset {
    use influencer::Column as I;
    use segment_membership::Column as M;
    let mut base = s.find::<influencer::Entity>().into_query();
    let mut key = col(influencer::Entity, I::Id);
    let mut joined_key = None;
    let mut related = None;
    match set {
        InfluencerSet::Roster { search, filter } => {
            if let Some(term) = search {
                base.and_where(
                    contains(col(influencer::Entity, I::HandleKey), term)
                        .or(contains(col(influencer::Entity, I::DisplayNameKey), term)),
                );
            }
            if let Some(filter) = filter {
                base.and_where(filter::condition(s, filter, now()));
            }
        }
        InfluencerSet::Unassigned => {
            related = Some(Correlated {
                rows: Query::select()
                    .expr(Expr::val(1))
                    .from(segment_membership::Entity)
                    .to_owned(),
                column: col(segment_membership::Entity, M::InfluencerId),
                exists: false,
            });
        }
        InfluencerSet::InSegment(segment_id) => {
            base.join(
                JoinType::InnerJoin,
                segment_membership::Entity,
                col(segment_membership::Entity, M::InfluencerId)
                    .equals((influencer::Entity, I::Id)),
            )
            .and_where(s.owns::<segment_membership::Entity>())
            .and_where(col(segment_membership::Entity, M::SegmentId).eq(*segment_id));
            // Page along the membership primary key (workspace_id, segment_id, influencer_id),
            // with the cursor on the influencer's side of the join too.
            key = col(segment_membership::Entity, M::InfluencerId);
            joined_key = Some(col(influencer::Entity, I::Id));
        }
        InfluencerSet::RecipientsOf(campaign_id) => {
            let audience = Alias::new("a");
            related = Some(Correlated {
                rows: Query::select()
                    .expr(Expr::val(1))
                    .from(segment_membership::Entity)
                    .join_as(
                        JoinType::InnerJoin,
                        campaign_audience::Entity,
                        audience.clone(),
                        Expr::col((audience.clone(), campaign_audience::Column::SegmentId))
                            .equals((segment_membership::Entity, M::SegmentId)),
                    )
                    // Both sides' keys lead with the workspace.
                    .and_where(s.owns::<segment_membership::Entity>())
                    .and_where(
                        s.owns_column((audience.clone(), campaign_audience::Column::WorkspaceId)),
                    )
                    .and_where(
                        Expr::col((audience, campaign_audience::Column::CampaignId))
                            .eq(*campaign_id),
                    )
                    .to_owned(),
                column: col(segment_membership::Entity, M::InfluencerId),
                exists: true,
            });
        }
    }
    Keyset {
        base,
        key,
        joined_key,
        related,
    }
}

/// Pages of several influencer sets in one statement, in the order asked.
#[tracing::instrument(name = "reads::influencer_pages", level = "debug", skip_all, fields(workspace = s.workspace().0, pages = requests.len()))]
pub async fn influencer_pages<S: Scoped>(
    s: &S,
    requests: &[(InfluencerSet, Page)],
) -> Result<Vec<PageResult<influencer::Model>>, DbErr> {
    if let Some((segments, first)) = first_member_pages(s, requests) {
        let rows = s
            .conn()
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                FIRST_MEMBER_PAGES,
                [segments.into(), s.workspace().0.into(), (first + 1).into()],
            ))
            .await?;
        return assemble(rows, requests.iter().map(|(_, page)| page));
    }
    let parts: Vec<PagePart> = requests
        .iter()
        .map(|(set, page)| PagePart {
            set: influencer_base(s, set),
            page: page.clone(),
        })
        .collect();
    fetch_pages(s.conn(), &parts).await
}

/// The first pages of many segments' members on PostgreSQL: one index walk per segment in a
/// `LATERAL` join, whose plan is small and kept. The `UNION ALL` of one subquery per segment
/// that serves every other batch cost PostgreSQL about 15 ms of planning on each run for the 50
/// segments of a dashboard. `$1` is the segment ids (one array parameter), `$2` the workspace,
/// `$3` the page size plus one (that row tells whether there is more).
const FIRST_MEMBER_PAGES: &str = "\
    SELECT CAST(s.tag - 1 AS BIGINT) AS page_tag, CAST(0 AS BIGINT) AS page_probe, page.* \
    FROM unnest(CAST($1 AS BIGINT[])) WITH ORDINALITY AS s(segment_id, tag) \
    CROSS JOIN LATERAL (\
        SELECT influencer.* FROM segment_membership \
        JOIN influencer ON influencer.id = segment_membership.influencer_id \
        WHERE segment_membership.workspace_id = $2 AND segment_membership.segment_id = s.segment_id \
        AND influencer.workspace_id = $2 \
        ORDER BY segment_membership.influencer_id LIMIT $3\
    ) AS page";

/// The segment ids and page size when `requests` are all first pages (no cursor) of segments'
/// members, of one size, on PostgreSQL: the batch `FIRST_MEMBER_PAGES` serves.
fn first_member_pages<S: Scoped>(
    s: &S,
    requests: &[(InfluencerSet, Page)],
) -> Option<(Vec<i64>, u64)> {
    if s.backend() != DatabaseBackend::Postgres {
        return None;
    }
    let (_, first) = requests.first()?;
    let Take::First(n) = first.take else {
        return None;
    };
    requests
        .iter()
        .map(|(set, page)| match (set, page) {
            (
                InfluencerSet::InSegment(id),
                Page {
                    after: None,
                    before: None,
                    take,
                },
            ) if *take == Take::First(n) => Some(*id),
            _ => None,
        })
        .collect::<Option<Vec<i64>>>()
        .map(|segments| (segments, n))
}

/// The memberships of these influencers, each influencer's in segment order.
#[tracing::instrument(name = "reads::memberships_of_influencers", level = "debug", skip_all, fields(workspace = s.workspace().0, influencers = influencer_ids.len()))]
pub async fn memberships_of_influencers<S: Scoped>(
    s: &S,
    influencer_ids: &[i64],
) -> Result<HashMap<i64, Vec<(segment_membership::Model, segment::Model)>>, DbErr> {
    use segment_membership::Column as M;
    // Each membership with its segment in one join: a profile or a dashboard asks for both,
    // and fetching the segments by id afterwards took a statement (and a batching round) more.
    let rows = s
        .find::<segment_membership::Entity>()
        .join(
            JoinType::InnerJoin,
            <segment_membership::Entity as Related<segment::Entity>>::to(),
        )
        .select_also(segment::Entity)
        .filter(column_any_of(
            s.backend(),
            M::InfluencerId,
            influencer_ids.iter().copied(),
        ))
        .order_by_asc(M::InfluencerId)
        .order_by_asc(M::SegmentId)
        .all(s.conn())
        .await?;
    let mut by_influencer: HashMap<i64, Vec<_>> = HashMap::new();
    for (membership, segment) in rows {
        // An inner join always brings the segment.
        if let Some(segment) = segment {
            by_influencer
                .entry(membership.influencer_id)
                .or_default()
                .push((membership, segment));
        }
    }
    Ok(by_influencer)
}
