//! Creating, renaming and deleting segments, and resolving a "segment reference" (an existing
//! segment or one to create on the spot) inside another operation's transaction.

use entity::{automation, campaign_audience, segment, segment_membership};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter, sea_query::Expr,
};

use super::{
    InputError, InputErrorCode, ServiceResult, WorkspaceId,
    count_cache::CountCache,
    errors::on_unique_violation,
    events::Events,
    locks,
    memberships::delete_memberships,
    now,
    validate::{self, DESCRIPTION_MAX, SEGMENT_NAME_MAX},
};

/// A segment to create.
#[derive(Clone, Debug)]
pub struct NewSegment {
    pub name: String,
    pub description: Option<String>,
}

/// Which segment an operation acts on: an existing one, or one it creates in the same transaction.
#[derive(Clone, Debug)]
pub enum SegmentTarget {
    Existing(i64),
    New(NewSegment),
}

/// A change to an optional field: leave it, clear it, or set it.
#[derive(Clone, Debug, Default)]
pub enum Patch<T> {
    #[default]
    Keep,
    Clear,
    Set(T),
}

fn field<'a>(prefix: &[&'a str], last: &'a str) -> Vec<&'a str> {
    let mut path = prefix.to_vec();
    path.push(last);
    path
}

fn name_taken(field: &[&str], name: &str) -> InputError {
    InputError::new(
        InputErrorCode::NameTaken,
        field,
        format!("a segment named \"{name}\" already exists"),
    )
}

/// Whether another segment of the workspace already has this name key.
async fn name_in_use<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    key: &str,
    except: Option<i64>,
) -> ServiceResult<bool> {
    let mut query = segment::Entity::find()
        .filter(segment::Column::WorkspaceId.eq(ws.0))
        .filter(segment::Column::NameKey.eq(key));
    if let Some(id) = except {
        query = query.filter(segment::Column::Id.ne(id));
    }
    Ok(query.one(conn).await?.is_some())
}

/// Validates and inserts a segment inside the caller's transaction. `prefix` is the path of the
/// `CreateSegmentInput` in the request, so errors name the right field.
pub(crate) async fn insert<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    input: &NewSegment,
    prefix: &[&str],
) -> ServiceResult<segment::Model> {
    let name_field = field(prefix, "name");
    let name = validate::name(&input.name, SEGMENT_NAME_MAX, &name_field, "name");
    let description = validate::optional_text(
        input.description.as_deref(),
        DESCRIPTION_MAX,
        &field(prefix, "description"),
        "description",
    );
    let (name, description) = match (name, description) {
        (Ok(n), Ok(d)) => (n, d),
        (n, d) => {
            return Err(super::ServiceError::Input(
                [n.err(), d.err()].into_iter().flatten().collect(),
            ));
        }
    };
    let key = validate::name_key(&name);
    if name_in_use(conn, ws, &key, None).await? {
        return Err(name_taken(&name_field, &name).into());
    }
    segment::ActiveModel {
        workspace_id: Set(ws.0),
        name: Set(name.clone()),
        name_key: Set(key),
        description: Set(description),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(conn)
    .await
    .map_err(|e| on_unique_violation(e, || name_taken(&name_field, &name)))
}

/// Finds or creates the target segment inside the caller's transaction. `prefix` is the path of
/// the `SegmentRef` in the request. An existing segment stays locked against deletion until the
/// transaction ends, so what the caller makes refer to it cannot be left dangling.
pub(crate) async fn resolve<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    target: &SegmentTarget,
    prefix: &[&str],
) -> ServiceResult<segment::Model> {
    match target {
        SegmentTarget::Existing(id) => locks::referred::<segment::Entity, _>(conn, ws, *id)
            .await?
            .ok_or_else(|| not_found(&field(prefix, "id")).into()),
        SegmentTarget::New(new) => insert(conn, ws, new, &field(prefix, "create")).await,
    }
}

pub(crate) fn not_found(field: &[&str]) -> InputError {
    InputError::new(InputErrorCode::NotFound, field, "no segment has this id")
}

/// Creates a segment.
#[tracing::instrument(name = "segments::create", level = "debug", skip_all, fields(workspace = ws.0))]
pub async fn create(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    input: NewSegment,
) -> ServiceResult<segment::Model> {
    let txn = super::begin_write(db).await?;
    let created = insert(&txn, ws, &input, &["input"]).await?;
    super::commit(txn, ws, counts).await?;
    Ok(created)
}

/// Renames a segment and/or changes its description.
#[tracing::instrument(name = "segments::update", level = "debug", skip_all, fields(workspace = ws.0, segment = id))]
pub async fn update(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    id: i64,
    name: Option<String>,
    description: Patch<String>,
) -> ServiceResult<segment::Model> {
    let txn = super::begin_write(db).await?;
    let current = locks::changed::<segment::Entity, _>(&txn, ws, id)
        .await?
        .ok_or_else(|| not_found(&["input", "id"]))?;
    let mut errors = Vec::new();
    let mut change: segment::ActiveModel = current.clone().into();
    let mut new_name = None;
    if let Some(raw) = name {
        match validate::name(&raw, SEGMENT_NAME_MAX, &["input", "name"], "name") {
            Ok(name) => {
                let key = validate::name_key(&name);
                if key != current.name_key && name_in_use(&txn, ws, &key, Some(id)).await? {
                    errors.push(name_taken(&["input", "name"], &name));
                }
                change.name = Set(name.clone());
                change.name_key = Set(key);
                new_name = Some(name);
            }
            Err(e) => errors.push(e),
        }
    }
    match description {
        Patch::Keep => {}
        Patch::Clear => change.description = Set(None),
        Patch::Set(raw) => match validate::optional_text(
            Some(&raw),
            DESCRIPTION_MAX,
            &["input", "description"],
            "description",
        ) {
            Ok(d) => change.description = Set(d),
            Err(e) => errors.push(e),
        },
    }
    if !errors.is_empty() {
        return Err(super::ServiceError::Input(errors));
    }
    let updated = change.update(&txn).await.map_err(|e| {
        on_unique_violation(e, || {
            name_taken(&["input", "name"], new_name.as_deref().unwrap_or_default())
        })
    })?;
    super::commit(txn, ws, counts).await?;
    Ok(updated)
}

/// Deletes a segment. Its members that belong to no other segment become Unassigned again;
/// automations that assigned to it are disabled and lose their target; campaigns drop it from
/// their audience.
#[tracing::instrument(name = "segments::delete", level = "debug", skip_all, fields(workspace = ws.0, segment = id))]
pub async fn delete(
    db: &DatabaseConnection,
    events: &Events,
    ws: WorkspaceId,
    id: i64,
) -> ServiceResult<i64> {
    let txn = super::begin_write(db).await?;
    // Locked first: writes that put members in the segment, aim automations or audiences at it
    // either committed before (and what they made is deleted below) or find it gone.
    locks::deleted::<segment::Entity, _>(&txn, ws, id)
        .await?
        .ok_or_else(|| not_found(&["input", "id"]))?;
    // Explicit rather than left to ON DELETE actions, so the effect does not depend on SQLite's
    // foreign_keys pragma, and so subscribers hear of every membership that ends.
    let mut outbox = events.outbox();
    delete_memberships(
        &txn,
        &mut outbox,
        ws,
        sea_orm::Condition::all().add(segment_membership::Column::SegmentId.eq(id)),
    )
    .await?;
    campaign_audience::Entity::delete_many()
        .filter(campaign_audience::Column::WorkspaceId.eq(ws.0))
        .filter(campaign_audience::Column::SegmentId.eq(id))
        .exec(&txn)
        .await?;
    automation::Entity::update_many()
        .col_expr(
            automation::Column::SegmentId,
            Expr::value(Option::<i64>::None),
        )
        .col_expr(automation::Column::Enabled, Expr::value(false))
        .filter(automation::Column::WorkspaceId.eq(ws.0))
        .filter(automation::Column::SegmentId.eq(id))
        .exec(&txn)
        .await?;
    segment::Entity::delete_many()
        .filter(segment::Column::WorkspaceId.eq(ws.0))
        .filter(segment::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    outbox.commit(txn, ws).await?;
    Ok(id)
}
