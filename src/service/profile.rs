//! The profile page's read: one influencer with its memberships and their segments, in one
//! statement.
//!
//! This is the hottest single-row read of the API, so its statement is written out and its
//! rows decoded by column position. SeaORM's three-model select builds the statement anew on
//! every call and finds each of its 22 columns by a prefixed name made with `format!`: writing
//! the statement out took the server's CPU per profile request from about 0.125 to 0.098 ms.

use entity::{influencer, segment, segment_membership};
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Statement};

use super::scope::Scoped;

/// The columns, in the order [`decode_influencer`], [`decode_membership`] and
/// [`decode_segment`] read them. The joins stay within the workspace whatever the rows say, as
/// the entities' relations do. `$n` placeholders: PostgreSQL's, and numbered parameters in
/// SQLite too.
const STATEMENT: &str = "\
    SELECT i.id, i.workspace_id, i.handle, i.handle_key, i.platform, i.display_name, i.email, \
           i.niche, i.follower_count, i.created_at, \
           m.segment_id, m.assigned_at, m.source, m.automation_id, \
           s.id, s.name, s.name_key, s.description, s.created_at, i.display_name_key, \
           i.niche_key, s.kind, s.rule \
    FROM influencer i \
    LEFT JOIN segment_membership m \
      ON m.influencer_id = i.id AND m.workspace_id = i.workspace_id \
    LEFT JOIN segment s ON s.id = m.segment_id AND s.workspace_id = m.workspace_id \
    WHERE i.id = $1 AND i.workspace_id = $2 \
    ORDER BY m.segment_id";

/// An influencer with its memberships, each with its segment.
pub type InfluencerWithMemberships = (
    influencer::Model,
    Vec<(segment_membership::Model, segment::Model)>,
);

/// One influencer with its memberships in segment order (a profile page asks for both), or
/// `None` when the workspace has no influencer `id`.
#[tracing::instrument(name = "profile::influencer_with_memberships", level = "debug", skip_all, fields(workspace = s.workspace().0, influencer = id))]
pub async fn influencer_with_memberships<S: Scoped>(
    s: &S,
    id: i64,
) -> Result<Option<InfluencerWithMemberships>, DbErr> {
    let statement =
        Statement::from_sql_and_values(s.backend(), STATEMENT, [id.into(), s.workspace().0.into()]);
    let rows = s.conn().query_all_raw(statement).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let influencer = decode_influencer(first)?;
    let mut memberships = Vec::with_capacity(rows.len());
    for row in &rows {
        // The left joins give one row with no membership (or no segment) for an influencer in no
        // segment.
        if let Some(segment) = decode_segment(row)? {
            memberships.push((decode_membership(row, &influencer)?, segment));
        }
    }
    Ok(Some((influencer, memberships)))
}

fn decode_influencer(row: &QueryResult) -> Result<influencer::Model, DbErr> {
    Ok(influencer::Model {
        id: row.try_get_by_index(0)?,
        workspace_id: row.try_get_by_index(1)?,
        handle: row.try_get_by_index(2)?,
        handle_key: row.try_get_by_index(3)?,
        platform: row.try_get_by_index(4)?,
        display_name: row.try_get_by_index(5)?,
        display_name_key: row.try_get_by_index(19)?,
        email: row.try_get_by_index(6)?,
        niche: row.try_get_by_index(7)?,
        niche_key: row.try_get_by_index(20)?,
        follower_count: row.try_get_by_index(8)?,
        created_at: row.try_get_by_index(9)?,
    })
}

fn decode_membership(
    row: &QueryResult,
    influencer: &influencer::Model,
) -> Result<segment_membership::Model, DbErr> {
    Ok(segment_membership::Model {
        segment_id: row.try_get_by_index(10)?,
        influencer_id: influencer.id,
        workspace_id: influencer.workspace_id,
        assigned_at: row.try_get_by_index(11)?,
        source: row.try_get_by_index(12)?,
        automation_id: row.try_get_by_index(13)?,
    })
}

/// The row's segment; `None` when the row has no membership, or one without its segment.
fn decode_segment(row: &QueryResult) -> Result<Option<segment::Model>, DbErr> {
    let Some(id) = row.try_get_by_index(14)? else {
        return Ok(None);
    };
    Ok(Some(segment::Model {
        id,
        workspace_id: row.try_get_by_index(1)?,
        name: row.try_get_by_index(15)?,
        name_key: row.try_get_by_index(16)?,
        description: row.try_get_by_index(17)?,
        created_at: row.try_get_by_index(18)?,
        kind: row.try_get_by_index(21)?,
        rule: row.try_get_by_index(22)?,
    }))
}
