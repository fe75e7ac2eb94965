//! Segment groups: folders of segments, and pipelines (exclusive groups) whose segments are
//! stages, an influencer being in at most one stage of a pipeline at a time. A segment is in at
//! most one group; its place in the group is its stage's order.
//!
//! Changing a group's segments locks them `FOR UPDATE`, which waits for every write that puts
//! members in them (those lock their segment `FOR KEY SHARE`, see `segments::resolve`) and makes
//! them wait: the check that a pipeline's stages share no member cannot be overtaken by an
//! assignment that sees the segment still ungrouped. Writes that enter a stage leave its
//! siblings (see [`exclusive_siblings`] and `membership_rows`).

use std::collections::{HashMap, HashSet};

use entity::{
    enums::SegmentKind, segment, segment_group as group, segment_group_member as member,
    segment_membership,
};
use sea_orm::{
    ActiveModelTrait,
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
    sea_query::{Alias, Expr, ExprTrait, Func, LockType, Query},
};

use super::{
    clock::now,
    errors::{
        InputError, InputErrorCode, ServiceError, ServiceResult, merge_errors, on_unique_violation,
    },
    id_list::{any_of, column_any_of},
    locks,
    scope::{Scoped, Tx},
    text::SegmentName,
};

/// A group to create.
#[derive(Clone, Debug)]
pub struct NewGroup {
    pub name: String,
    pub exclusive: bool,
    /// Existing segments to put in it, in order.
    pub segment_ids: Vec<i64>,
}

/// Changes to a group; `None` leaves a part as it is.
#[derive(Clone, Debug, Default)]
pub struct GroupChanges {
    pub name: Option<String>,
    /// The group's segments in their new order (replaces the list).
    pub segment_ids: Option<Vec<i64>>,
}

fn name_taken(field: &[&str], name: &str) -> InputError {
    InputError::new(
        InputErrorCode::NameTaken,
        field,
        format!("a group named \"{name}\" already exists"),
    )
}

/// Checks a group's name, and that no other group of the workspace has it.
async fn checked_name<S: Scoped>(
    s: &S,
    raw: &str,
    except: Option<i64>,
) -> ServiceResult<SegmentName> {
    let field = ["input", "name"];
    let name = SegmentName::parse(raw, &field)?;
    let mut taken = s
        .find::<group::Entity>()
        .filter(group::Column::NameKey.eq(name.key()));
    if let Some(id) = except {
        taken = taken.filter(group::Column::Id.ne(id));
    }
    if taken.one(s.conn()).await?.is_some() {
        return Err(name_taken(&field, name.as_str()).into());
    }
    Ok(name)
}

/// Checks the segments a group is to hold (`group` itself when it exists), locking them
/// `FOR UPDATE`: each must be the workspace's, listed once, in no other group, and for a
/// pipeline a MANUAL segment sharing no member with the others. Every problem is reported, at
/// `input.segmentIds.N`.
async fn check_segments<S: Scoped>(
    s: &S,
    group: Option<i64>,
    exclusive: bool,
    ids: &[i64],
) -> ServiceResult<()> {
    let error = |index: usize, code, message: &str| {
        InputError::new(code, &["input", "segmentIds", &index.to_string()], message)
    };
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (index, id) in ids.iter().enumerate() {
        if !seen.insert(*id) {
            errors.push(error(
                index,
                InputErrorCode::Invalid,
                "the segment is listed twice",
            ));
        }
    }
    // Locked in id order, as every writer that locks several segments does.
    let found: HashMap<i64, segment::Model> = s
        .find::<segment::Entity>()
        .filter(column_any_of(
            s.backend(),
            segment::Column::Id,
            seen.iter().copied(),
        ))
        .order_by_asc(segment::Column::Id)
        .lock(LockType::Update)
        .all(s.conn())
        .await?
        .into_iter()
        .map(|segment| (segment.id, segment))
        .collect();
    let elsewhere: HashMap<i64, i64> = s
        .find::<member::Entity>()
        .filter(column_any_of(
            s.backend(),
            member::Column::SegmentId,
            seen.iter().copied(),
        ))
        .all(s.conn())
        .await?
        .into_iter()
        .filter(|m| Some(m.group_id) != group)
        .map(|m| (m.segment_id, m.group_id))
        .collect();
    for (index, id) in ids.iter().enumerate() {
        match found.get(id) {
            None => errors.push(error(
                index,
                InputErrorCode::NotFound,
                "no segment has this id",
            )),
            Some(_) if elsewhere.contains_key(id) => errors.push(error(
                index,
                InputErrorCode::Invalid,
                "the segment is already in another group; take it out of that one first",
            )),
            Some(segment) if exclusive && segment.kind == SegmentKind::Rule => {
                errors.push(error(
                    index,
                    InputErrorCode::Invalid,
                    "a RULE segment cannot be a pipeline stage: its members are its rule's \
                     matches, which stages could not keep apart",
                ));
            }
            Some(_) => {}
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Input(errors));
    }
    if exclusive && ids.len() > 1 {
        let shared = shared_members(s, ids).await?;
        if shared > 0 {
            return Err(InputError::new(
                InputErrorCode::Invalid,
                &["input", "segmentIds"],
                format!(
                    "{shared} influencer(s) are in more than one of these segments; a pipeline's \
                     stages cannot share members"
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// How many influencers are members of more than one of these segments.
async fn shared_members<S: Scoped>(s: &S, ids: &[i64]) -> ServiceResult<i64> {
    use segment_membership::Column as M;
    let shared = Query::select()
        .column(M::InfluencerId)
        .from(segment_membership::Entity)
        .and_where(s.owns::<segment_membership::Entity>())
        .and_where(column_any_of(
            s.backend(),
            M::SegmentId,
            ids.iter().copied(),
        ))
        .group_by_col(M::InfluencerId)
        .and_having(Func::count(Expr::col(M::SegmentId)).gt(1))
        .to_owned();
    let counted = Query::select()
        .expr_as(Func::count(Expr::cust("*")), Alias::new("n"))
        .from_subquery(shared, Alias::new("shared"))
        .to_owned();
    let row = s.conn().query_one(&counted).await?;
    Ok(match row {
        Some(row) => row.try_get("", "n")?,
        None => 0,
    })
}

/// Replaces the group's segments by `ids`, in that order.
async fn set_segments(tx: &Tx<'_>, group_id: i64, ids: &[i64]) -> ServiceResult<()> {
    tx.delete_many::<member::Entity>()
        .filter(member::Column::GroupId.eq(group_id))
        .exec(tx.conn())
        .await?;
    if ids.is_empty() {
        return Ok(());
    }
    let rows = ids.iter().enumerate().map(|(position, segment)| {
        tx.owned(member::ActiveModel {
            segment_id: Set(*segment),
            group_id: Set(group_id),
            position: Set(i32::try_from(position).unwrap_or(i32::MAX)),
            ..Default::default()
        })
    });
    member::Entity::insert_many(rows)
        .exec_without_returning(tx.conn())
        .await?;
    Ok(())
}

/// Creates a group with its segments.
#[tracing::instrument(name = "groups::create", level = "debug", skip_all, fields(workspace = tx.workspace().0, segments = input.segment_ids.len()))]
pub async fn create(tx: &mut Tx<'_>, input: &NewGroup) -> ServiceResult<group::Model> {
    let name = checked_name(tx, &input.name, None).await;
    let segments = check_segments(tx, None, input.exclusive, &input.segment_ids).await;
    let name = match (name, segments) {
        (Ok(name), Ok(())) => name,
        (name, segments) => {
            return Err(merge_errors([name.err(), segments.err()]));
        }
    };
    let row = tx.owned(group::ActiveModel {
        name_key: Set(name.key()),
        name: Set(name.as_str().to_owned()),
        exclusive: Set(input.exclusive),
        created_at: Set(now()),
        ..Default::default()
    });
    let made = group::Entity::insert(row)
        .exec_with_returning(tx.conn())
        .await
        .map_err(|e| on_unique_violation(e, || name_taken(&["input", "name"], name.as_str())))?;
    set_segments(tx, made.id, &input.segment_ids).await?;
    Ok(made)
}

/// Renames a group or replaces its segments.
#[tracing::instrument(name = "groups::update", level = "debug", skip_all, fields(workspace = tx.workspace().0, group = id))]
pub async fn update(
    tx: &mut Tx<'_>,
    id: i64,
    changes: &GroupChanges,
) -> ServiceResult<group::Model> {
    let group = locks::changed::<group::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| not_found(&["input", "id"]))?;
    let name = match &changes.name {
        Some(raw) => Some(checked_name(tx, raw, Some(id)).await),
        None => None,
    };
    let segments = match &changes.segment_ids {
        Some(ids) => check_segments(tx, Some(id), group.exclusive, ids).await,
        None => Ok(()),
    };
    let name = match (name.transpose(), segments) {
        (Ok(name), Ok(())) => name,
        (name, segments) => {
            return Err(merge_errors([name.err(), segments.err()]));
        }
    };
    if let Some(ids) = &changes.segment_ids {
        set_segments(tx, id, ids).await?;
    }
    let Some(name) = name else {
        return Ok(group);
    };
    let mut change: group::ActiveModel = group.into();
    change.name_key = Set(name.key());
    change.name = Set(name.as_str().to_owned());
    change
        .update(tx.conn())
        .await
        .map_err(|e| on_unique_violation(e, || name_taken(&["input", "name"], name.as_str())))
}

/// Deletes a group; its segments stay, ungrouped.
#[tracing::instrument(name = "groups::delete", level = "debug", skip_all, fields(workspace = tx.workspace().0, group = id))]
pub async fn delete(tx: &mut Tx<'_>, id: i64) -> ServiceResult<i64> {
    locks::deleted::<group::Entity, _>(tx, id)
        .await?
        .ok_or_else(|| not_found(&["input", "id"]))?;
    tx.delete_many::<member::Entity>()
        .filter(member::Column::GroupId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<group::Entity>()
        .filter(group::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(id)
}

fn not_found(field: &[&str]) -> InputError {
    InputError::new(InputErrorCode::NotFound, field, "no group has this id")
}

/// The other stages of `segment`'s pipeline, when it is a stage of one (empty otherwise): the
/// segments an influencer leaves by entering it. One statement.
pub(crate) async fn exclusive_siblings<S: Scoped>(s: &S, segment: i64) -> ServiceResult<Vec<i64>> {
    Ok(exclusive_siblings_of(s, &[segment])
        .await?
        .remove(&segment)
        .unwrap_or_default())
}

/// [`exclusive_siblings`] of each of `segments` that is a pipeline stage, in one statement.
pub(crate) async fn exclusive_siblings_of<S: Scoped>(
    s: &S,
    segments: &[i64],
) -> ServiceResult<HashMap<i64, Vec<i64>>> {
    if segments.is_empty() {
        return Ok(HashMap::new());
    }
    let (place, sibling) = (Alias::new("place"), Alias::new("sibling"));
    let on = |a: &Alias, b: &Alias, column: member::Column| {
        Expr::col((a.clone(), column)).equals((b.clone(), column))
    };
    let query = Query::select()
        .expr_as(
            Expr::col((place.clone(), member::Column::SegmentId)),
            Alias::new("stage"),
        )
        .column((sibling.clone(), member::Column::SegmentId))
        .from_as(member::Entity, place.clone())
        .inner_join(
            group::Entity,
            Expr::col((group::Entity, group::Column::WorkspaceId))
                .equals((place.clone(), member::Column::WorkspaceId))
                .and(
                    Expr::col((group::Entity, group::Column::Id))
                        .equals((place.clone(), member::Column::GroupId)),
                )
                .and(Expr::col((group::Entity, group::Column::Exclusive)).eq(true)),
        )
        .join_as(
            sea_orm::sea_query::JoinType::InnerJoin,
            member::Entity,
            sibling.clone(),
            on(&sibling, &place, member::Column::WorkspaceId)
                .and(on(&sibling, &place, member::Column::GroupId))
                .and(
                    Expr::col((sibling.clone(), member::Column::SegmentId))
                        .ne(Expr::col((place.clone(), member::Column::SegmentId))),
                ),
        )
        .and_where(s.owns_column((place.clone(), member::Column::WorkspaceId)))
        .and_where(any_of(
            s.backend(),
            Expr::col((place.clone(), member::Column::SegmentId)),
            segments.iter().copied(),
        ))
        .to_owned();
    let mut found: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in s.conn().query_all(&query).await? {
        let stage: i64 = row.try_get("", "stage")?;
        found
            .entry(stage)
            .or_default()
            .push(row.try_get("", "segment_id")?);
    }
    Ok(found)
}
