//! Reads: lookups by id, the sets that connections page over, and the batched relation queries the
//! GraphQL DataLoaders call. Every query is filtered by the workspace.

use std::collections::{HashMap, HashSet};

use entity::{
    automation, campaign, campaign_audience, engagement_event, influencer, segment,
    segment_membership,
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Related, Statement,
    sea_query::{
        Alias, Expr, ExprTrait, Func, IntoIden, JoinType, LikeExpr, Query, SelectStatement,
        SimpleExpr,
    },
};

use super::{
    InputError, InputErrorCode, WorkspaceId, count_cache,
    id_list::{any_of, column_any_of},
    pagination::{Keyed, Page, PagePart, PageResult, Take, Without, assemble, fetch_pages},
    validate,
};

/// Entities owned by a workspace and keyed by a 64-bit `id`.
pub trait Scoped: EntityTrait {
    fn workspace_column() -> Self::Column;
    fn id_column() -> Self::Column;
    fn model_id(model: &Self::Model) -> i64;
}

macro_rules! scoped {
    ($($module:ident),*) => {$(
        impl Scoped for $module::Entity {
            fn workspace_column() -> Self::Column {
                $module::Column::WorkspaceId
            }
            fn id_column() -> Self::Column {
                $module::Column::Id
            }
            fn model_id(model: &Self::Model) -> i64 {
                model.id
            }
        }

        impl Keyed for $module::Model {
            fn key(&self) -> i64 {
                self.id
            }
        }
    )*};
}

scoped!(influencer, segment, campaign, automation, engagement_event);

/// The rows of `E` with these ids in the workspace; ids of nothing (or of another workspace) are
/// simply absent.
pub async fn by_ids<E, C>(db: &C, ws: WorkspaceId, ids: &[i64]) -> Result<Vec<E::Model>, DbErr>
where
    E: Scoped,
    C: ConnectionTrait,
{
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    E::find()
        .filter(E::workspace_column().eq(ws.0))
        .filter(column_any_of(
            db.get_database_backend(),
            E::id_column(),
            ids.iter().copied(),
        ))
        .all(db)
        .await
}

/// One row of `E` by id in the workspace.
pub async fn by_id<E, C>(db: &C, ws: WorkspaceId, id: i64) -> Result<Option<E::Model>, DbErr>
where
    E: Scoped,
    C: ConnectionTrait,
{
    E::find()
        .filter(E::workspace_column().eq(ws.0))
        .filter(E::id_column().eq(id))
        .one(db)
        .await
}

/// NOT_FOUND errors for the ids that name no row of `E` in the workspace, each naming its
/// position in the input list at `field`. One query, whatever the number of ids.
pub async fn missing<E, C>(
    conn: &C,
    ws: WorkspaceId,
    ids: &[i64],
    field: &[&str],
    what: &str,
) -> Result<Vec<InputError>, DbErr>
where
    E: Scoped,
    C: ConnectionTrait,
{
    let unique = validate::dedup(ids);
    if unique.is_empty() {
        return Ok(Vec::new());
    }
    let found: HashSet<i64> = E::find()
        .select_only()
        .column(E::id_column())
        .filter(E::workspace_column().eq(ws.0))
        .filter(column_any_of(
            conn.get_database_backend(),
            E::id_column(),
            unique,
        ))
        .into_tuple::<i64>()
        .all(conn)
        .await?
        .into_iter()
        .collect();
    Ok(ids
        .iter()
        .enumerate()
        .filter(|(_, id)| !found.contains(id))
        .map(|(index, _)| {
            InputError::at_index(
                InputErrorCode::NotFound,
                field,
                index,
                format!("no {what} has this id"),
            )
        })
        .collect())
}

/// A set of influencers that a connection pages over.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum InfluencerSet {
    /// The whole roster, optionally narrowed by a search on handle and display name.
    Roster { search: Option<String> },
    /// Influencers in no segment: the derived "Unassigned" folder.
    Unassigned,
    /// Members of one segment.
    InSegment(i64),
    /// Influencers in any audience segment of one campaign, each once.
    RecipientsOf(i64),
}

fn col<C: sea_orm::IdenStatic>(table: impl sea_orm::IdenStatic, column: C) -> Expr {
    Expr::col((table, column))
}

/// `key_column LIKE '%key%'`: whether the search term's key ([`validate::name_key`]: Unicode
/// case folding and NFC, computed here) is part of a stored key, with the term's wildcards
/// escaped. Both sides are folded in Rust, so SQLite (whose `LOWER` knows only ASCII) and
/// PostgreSQL match the same rows. A term with NUL, which no stored text holds and PostgreSQL
/// refuses as a parameter, matches nothing.
fn contains(key_column: Expr, term: &str) -> SimpleExpr {
    if term.contains('\0') {
        return Expr::cust("1 = 0");
    }
    let escaped = validate::name_key(term)
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    key_column.like(LikeExpr::new(format!("%{escaped}%")).escape('\\'))
}

/// The base query of an influencer set (all influencer columns), the key it pages by, and the
/// anti-join that completes it (Unassigned), which the caller applies: see [`Without`].
fn influencer_base(
    ws: WorkspaceId,
    set: &InfluencerSet,
) -> (SelectStatement, Expr, Option<Without>) {
    use influencer::Column as I;
    use segment_membership::Column as M;
    let mut base = influencer::Entity::find()
        .filter(I::WorkspaceId.eq(ws.0))
        .into_query();
    let mut key = col(influencer::Entity, I::Id);
    let mut without = None;
    match set {
        InfluencerSet::Roster { search } => {
            if let Some(term) = search.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
                base.and_where(
                    contains(col(influencer::Entity, I::HandleKey), term)
                        .or(contains(col(influencer::Entity, I::DisplayNameKey), term)),
                );
            }
        }
        InfluencerSet::Unassigned => {
            without = Some(Without {
                table: segment_membership::Entity.into_iden(),
                column: M::InfluencerId.into_iden(),
            });
        }
        InfluencerSet::InSegment(segment_id) => {
            base.join(
                JoinType::InnerJoin,
                segment_membership::Entity,
                col(segment_membership::Entity, M::InfluencerId)
                    .equals((influencer::Entity, I::Id)),
            )
            .and_where(col(segment_membership::Entity, M::SegmentId).eq(*segment_id));
            // Page along the membership primary key (segment_id, influencer_id).
            key = col(segment_membership::Entity, M::InfluencerId);
        }
        InfluencerSet::RecipientsOf(campaign_id) => {
            let audience = Alias::new("a");
            base.and_where(Expr::exists(
                Query::select()
                    .expr(Expr::val(1))
                    .from(segment_membership::Entity)
                    .join_as(
                        JoinType::InnerJoin,
                        campaign_audience::Entity,
                        audience.clone(),
                        Expr::col((audience.clone(), campaign_audience::Column::SegmentId))
                            .equals((segment_membership::Entity, M::SegmentId)),
                    )
                    .and_where(
                        Expr::col((audience, campaign_audience::Column::CampaignId))
                            .eq(*campaign_id),
                    )
                    .and_where(
                        col(segment_membership::Entity, M::InfluencerId)
                            .equals((influencer::Entity, I::Id)),
                    )
                    .to_owned(),
            ));
        }
    }
    (base, key, without)
}

/// Pages of several influencer sets in one statement, in the order asked.
pub async fn influencer_pages<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    requests: &[(InfluencerSet, Page)],
) -> Result<Vec<PageResult<influencer::Model>>, DbErr> {
    if let Some((segments, first)) = first_member_pages(db, requests) {
        let rows = db
            .query_all_raw(Statement::from_sql_and_values(
                DatabaseBackend::Postgres,
                FIRST_MEMBER_PAGES,
                [segments.into(), ws.0.into(), (first + 1).into()],
            ))
            .await?;
        return assemble(rows, requests.iter().map(|(_, page)| page));
    }
    let parts: Vec<PagePart> = requests
        .iter()
        .map(|(set, page)| {
            let (base, key, without) = influencer_base(ws, set);
            PagePart {
                base,
                key,
                without,
                page: page.clone(),
            }
        })
        .collect();
    fetch_pages(db, &parts).await
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
        WHERE segment_membership.segment_id = s.segment_id AND influencer.workspace_id = $2 \
        ORDER BY segment_membership.influencer_id LIMIT $3\
    ) AS page";

/// The segment ids and page size when `requests` are all first pages (no cursor) of segments'
/// members, of one size, on PostgreSQL: the batch `FIRST_MEMBER_PAGES` serves.
fn first_member_pages<C: ConnectionTrait>(
    db: &C,
    requests: &[(InfluencerSet, Page)],
) -> Option<(Vec<i64>, u64)> {
    if db.get_database_backend() != DatabaseBackend::Postgres {
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

/// How many influencers a set holds. Exact, except that a count which took longer than
/// [`count_cache::SLOW`] to compute (Unassigned on a roster of a million) is reused for up to
/// [`count_cache::FRESH_FOR`] and then recounted in the background; see [`count_cache`].
pub async fn count_influencers(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    set: &InfluencerSet,
) -> Result<i64, DbErr> {
    let key = count_cache::Key::Influencers(count_cache::pool_id(db), ws.0, set.clone());
    match count_cache::lookup(&key) {
        count_cache::Lookup::Kept(n) => return Ok(n),
        count_cache::Lookup::Stale(n) => {
            let (db, set) = (db.clone(), set.clone());
            count_cache::remake_in_background(
                ws.0,
                async move { count_set(&db, ws, &set).await },
                move |n| vec![(key, n.copied())],
            );
            return Ok(n);
        }
        count_cache::Lookup::Missing => {}
    }
    // Nothing kept yet: requests arriving together count one at a time, and those after the
    // first find its count kept (when it was slow), instead of all scanning at once and
    // holding every pooled connection for seconds.
    let gate = count_cache::gate(&key);
    let _turn = gate.lock().await;
    if let Some(n) = count_cache::fresh(&key) {
        return Ok(n);
    }
    count_cache::make(ws.0, count_set(db, ws, set), |n| vec![(key, n.copied())]).await
}

/// Counts a set, uncached.
async fn count_set(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    set: &InfluencerSet,
) -> Result<i64, DbErr> {
    let (mut base, page_key, without) = influencer_base(ws, set);
    if let Some(without) = without {
        base.and_where(without.filter(&page_key, &[]));
    }
    count(db, &mut base).await
}

async fn count<C: ConnectionTrait>(db: &C, base: &mut SelectStatement) -> Result<i64, DbErr> {
    base.clear_selects()
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"));
    let row = db.query_one(&*base).await?;
    match row {
        Some(row) => row.try_get("", "n"),
        None => Ok(0),
    }
}

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

fn campaign_base(ws: WorkspaceId) -> SelectStatement {
    campaign::Entity::find()
        .filter(campaign::Column::WorkspaceId.eq(ws.0))
        .into_query()
}

/// A page of the workspace's campaigns (creation order).
pub async fn campaign_page<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    page: Page,
) -> Result<PageResult<campaign::Model>, DbErr> {
    let part = PagePart {
        base: campaign_base(ws),
        key: col(campaign::Entity, campaign::Column::Id),
        without: None,
        page,
    };
    Ok(fetch_pages(db, &[part]).await?.pop().unwrap_or_default())
}

pub async fn count_campaigns<C: ConnectionTrait>(db: &C, ws: WorkspaceId) -> Result<i64, DbErr> {
    count(db, &mut campaign_base(ws)).await
}

/// The memberships of these influencers, each influencer's in segment order.
pub async fn memberships_of_influencers<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    influencer_ids: &[i64],
) -> Result<HashMap<i64, Vec<(segment_membership::Model, segment::Model)>>, DbErr> {
    use segment_membership::Column as M;
    // Each membership with its segment in one join: a profile or a dashboard asks for both,
    // and fetching the segments by id afterwards took a statement (and a batching round) more.
    let rows = segment_membership::Entity::find()
        .join(
            JoinType::InnerJoin,
            <segment_membership::Entity as Related<segment::Entity>>::to(),
        )
        .select_also(segment::Entity)
        .filter(M::WorkspaceId.eq(ws.0))
        .filter(column_any_of(
            db.get_database_backend(),
            M::InfluencerId,
            influencer_ids.iter().copied(),
        ))
        .order_by_asc(M::InfluencerId)
        .order_by_asc(M::SegmentId)
        .all(db)
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

#[derive(FromQueryResult)]
struct KeyCount {
    key: i64,
    n: i64,
}

async fn key_counts<C: ConnectionTrait>(
    db: &C,
    statement: &SelectStatement,
) -> Result<HashMap<i64, i64>, DbErr> {
    let rows = KeyCount::find_by_statement(db.get_database_backend().build(statement))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|r| (r.key, r.n)).collect())
}

/// Member counts of these segments; a segment with no members is absent. Counts of big
/// segments may be a few seconds old (see [`count_cache`]); the others are counted in one
/// statement.
pub async fn member_counts(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    segment_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    let pool = count_cache::pool_id(db);
    let key = move |id: i64| count_cache::Key::Members(pool, ws.0, id);
    let mut counts = HashMap::with_capacity(segment_ids.len());
    let (mut missing, mut stale) = (Vec::new(), Vec::new());
    for id in segment_ids {
        match count_cache::lookup(&key(*id)) {
            count_cache::Lookup::Kept(n) => {
                counts.insert(*id, n);
            }
            count_cache::Lookup::Stale(n) => {
                counts.insert(*id, n);
                stale.push(*id);
            }
            count_cache::Lookup::Missing => missing.push(*id),
        }
    }
    if missing.is_empty() {
        if !stale.is_empty() {
            // Only kept counts, some stale: served kept, the stale ones recounted in the
            // background.
            let db = db.clone();
            let ids = stale.clone();
            count_cache::remake_in_background(
                ws.0,
                async move { count_members(&db, ws, &ids).await },
                move |found| member_outcome(&stale, found, key),
            );
        }
        return Ok(counts);
    }
    // A statement runs anyway: it recounts the stale ones too.
    missing.append(&mut stale);
    let counted = count_cache::make(ws.0, count_members(db, ws, &missing), |found| {
        member_outcome(&missing, found, key)
    })
    .await?;
    counts.extend(counted);
    Ok(counts)
}

/// What a count of these segments' members found for each, keyed for the count cache (`None`
/// for each when the count failed; a segment the count did not return has no members).
fn member_outcome(
    ids: &[i64],
    found: Option<&HashMap<i64, i64>>,
    key: impl Fn(i64) -> count_cache::Key,
) -> Vec<(count_cache::Key, Option<i64>)> {
    ids.iter()
        .map(|id| {
            (
                key(*id),
                found.map(|found| found.get(id).copied().unwrap_or(0)),
            )
        })
        .collect()
}

async fn count_members(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    segment_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    use segment_membership::Column as M;
    let statement = Query::select()
        .expr_as(
            col(segment_membership::Entity, M::SegmentId),
            Alias::new("key"),
        )
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"))
        .from(segment_membership::Entity)
        .and_where(col(segment_membership::Entity, M::WorkspaceId).eq(ws.0))
        .and_where(any_of(
            db.get_database_backend(),
            col(segment_membership::Entity, M::SegmentId),
            segment_ids.iter().copied(),
        ))
        .group_by_col((segment_membership::Entity, M::SegmentId))
        .to_owned();
    key_counts(db, &statement).await
}

/// Distinct recipients of these campaigns; a campaign with none is absent.
pub async fn recipient_counts<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, i64>, DbErr> {
    use campaign_audience::Column as A;
    use segment_membership::Column as M;
    let statement = Query::select()
        .expr_as(
            col(campaign_audience::Entity, A::CampaignId),
            Alias::new("key"),
        )
        .expr_as(
            Func::count_distinct(col(segment_membership::Entity, M::InfluencerId)),
            Alias::new("n"),
        )
        .from(campaign_audience::Entity)
        .join(
            JoinType::InnerJoin,
            segment_membership::Entity,
            col(segment_membership::Entity, M::SegmentId)
                .equals((campaign_audience::Entity, A::SegmentId)),
        )
        .and_where(col(campaign_audience::Entity, A::WorkspaceId).eq(ws.0))
        .and_where(any_of(
            db.get_database_backend(),
            col(campaign_audience::Entity, A::CampaignId),
            campaign_ids.iter().copied(),
        ))
        .group_by_col((campaign_audience::Entity, A::CampaignId))
        .to_owned();
    key_counts(db, &statement).await
}

/// The audience segment ids of these campaigns, in segment order.
pub async fn audiences<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, Vec<i64>>, DbErr> {
    use campaign_audience::Column as A;
    let rows = campaign_audience::Entity::find()
        .filter(A::WorkspaceId.eq(ws.0))
        .filter(column_any_of(
            db.get_database_backend(),
            A::CampaignId,
            campaign_ids.iter().copied(),
        ))
        .order_by_asc(A::CampaignId)
        .order_by_asc(A::SegmentId)
        .all(db)
        .await?;
    let mut by_campaign: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in rows {
        by_campaign
            .entry(row.campaign_id)
            .or_default()
            .push(row.segment_id);
    }
    Ok(by_campaign)
}

/// The automations of these campaigns, in creation order.
pub async fn automations_of<C: ConnectionTrait>(
    db: &C,
    ws: WorkspaceId,
    campaign_ids: &[i64],
) -> Result<HashMap<i64, Vec<automation::Model>>, DbErr> {
    use automation::Column as A;
    let rows = automation::Entity::find()
        .filter(A::WorkspaceId.eq(ws.0))
        .filter(column_any_of(
            db.get_database_backend(),
            A::CampaignId,
            campaign_ids.iter().copied(),
        ))
        .order_by_asc(A::Id)
        .all(db)
        .await?;
    let mut by_campaign: HashMap<i64, Vec<_>> = HashMap::new();
    for row in rows {
        by_campaign.entry(row.campaign_id).or_default().push(row);
    }
    Ok(by_campaign)
}

/// The workspace that requests belong to until authentication exists: the first one created.
pub async fn default_workspace<C: ConnectionTrait>(db: &C) -> Result<WorkspaceId, DbErr> {
    use entity::workspace;
    workspace::Entity::find()
        .order_by_asc(workspace::Column::Id)
        .one(db)
        .await?
        .map(|w| WorkspaceId(w.id))
        .ok_or_else(|| DbErr::RecordNotFound("no workspace: migrations have not run".into()))
}
