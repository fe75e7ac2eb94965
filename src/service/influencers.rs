//! The roster: adding, editing and removing influencers.

use entity::{engagement_event, enums::Platform, influencer, segment_membership};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, QueryFilter,
};

use super::{
    InputError, InputErrorCode, ServiceError, ServiceResult, WorkspaceId,
    count_cache::CountCache,
    errors::on_unique_violation,
    events::Events,
    locks,
    memberships::delete_memberships,
    now,
    segments::Patch,
    validate::{self, DISPLAY_NAME_MAX, NICHE_MAX},
};

/// An influencer's fields as given by a client (validated before they are stored).
#[derive(Clone, Debug)]
pub struct NewInfluencer {
    pub handle: String,
    pub platform: Platform,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub niche: Option<String>,
    pub follower_count: Option<i32>,
}

/// Changes to an influencer; `None` / [`Patch::Keep`] leaves a field as it is.
#[derive(Clone, Debug, Default)]
pub struct InfluencerChanges {
    pub handle: Option<String>,
    pub platform: Option<Platform>,
    pub display_name: Patch<String>,
    pub email: Patch<String>,
    pub niche: Patch<String>,
    pub follower_count: Patch<i32>,
}

fn apply<T>(patch: Patch<T>, current: Option<T>) -> Option<T> {
    match patch {
        Patch::Keep => current,
        Patch::Clear => None,
        Patch::Set(value) => Some(value),
    }
}

/// Checks every field, reporting all problems at once; returns the cleaned fields.
fn validated(input: NewInfluencer) -> ServiceResult<NewInfluencer> {
    let handle = validate::handle(&input.handle, &["input", "handle"]);
    let display_name = validate::display_name(
        input.display_name.as_deref(),
        DISPLAY_NAME_MAX,
        &["input", "displayName"],
        "displayName",
    );
    let email = validate::email(input.email.as_deref(), &["input", "email"]);
    let niche = validate::optional_text(
        input.niche.as_deref(),
        NICHE_MAX,
        &["input", "niche"],
        "niche",
    );
    let followers = validate::follower_count(input.follower_count, &["input", "followerCount"]);
    match (handle, display_name, email, niche, followers) {
        (Ok(handle), Ok(display_name), Ok(email), Ok(niche), Ok(follower_count)) => {
            Ok(NewInfluencer {
                handle,
                platform: input.platform,
                display_name,
                email,
                niche,
                follower_count,
            })
        }
        (h, d, e, n, f) => {
            let errors = [h.err(), d.err(), e.err(), n.err(), f.err()];
            Err(ServiceError::Input(errors.into_iter().flatten().collect()))
        }
    }
}

fn handle_taken(handle: &str, platform: Platform) -> InputError {
    InputError::new(
        InputErrorCode::NameTaken,
        &["input", "handle"],
        format!("@{handle} on {platform:?} is already in the roster"),
    )
}

fn not_found() -> InputError {
    InputError::new(
        InputErrorCode::NotFound,
        &["input", "id"],
        "no influencer has this id",
    )
}

/// Fails with NAME_TAKEN when another influencer of the workspace has this handle on `platform`.
async fn ensure_handle_free<C: ConnectionTrait>(
    conn: &C,
    ws: WorkspaceId,
    fields: &NewInfluencer,
    except: Option<i64>,
) -> ServiceResult<()> {
    let mut query = influencer::Entity::find()
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
        .filter(influencer::Column::Platform.eq(fields.platform))
        .filter(influencer::Column::HandleKey.eq(validate::name_key(&fields.handle)));
    if let Some(id) = except {
        query = query.filter(influencer::Column::Id.ne(id));
    }
    match query.one(conn).await? {
        Some(_) => Err(handle_taken(&fields.handle, fields.platform).into()),
        None => Ok(()),
    }
}

/// Moves validated fields into an active model.
fn set_fields(model: &mut influencer::ActiveModel, fields: NewInfluencer) {
    model.handle_key = Set(validate::name_key(&fields.handle));
    model.handle = Set(fields.handle);
    model.platform = Set(fields.platform);
    model.display_name_key = Set(fields.display_name.as_deref().map(validate::name_key));
    model.display_name = Set(fields.display_name);
    model.email = Set(fields.email);
    model.niche = Set(fields.niche);
    model.follower_count = Set(fields.follower_count);
}

/// Adds an influencer. A handle is unique per platform in a workspace, ignoring case.
#[tracing::instrument(name = "influencers::create", level = "debug", skip_all, fields(workspace = ws.0))]
pub async fn create(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    input: NewInfluencer,
) -> ServiceResult<influencer::Model> {
    let fields = validated(input)?;
    let txn = super::begin_write(db).await?;
    ensure_handle_free(&txn, ws, &fields, None).await?;
    let taken = handle_taken(&fields.handle, fields.platform);
    let mut model = influencer::ActiveModel {
        workspace_id: Set(ws.0),
        created_at: Set(now()),
        ..Default::default()
    };
    set_fields(&mut model, fields);
    let created = model
        .insert(&txn)
        .await
        .map_err(|e| on_unique_violation(e, || taken))?;
    super::commit(txn, ws, counts).await?;
    Ok(created)
}

/// Edits an influencer; the same rules as on creation apply to the result.
#[tracing::instrument(name = "influencers::update", level = "debug", skip_all, fields(workspace = ws.0, influencer = id))]
pub async fn update(
    db: &DatabaseConnection,
    counts: &CountCache,
    ws: WorkspaceId,
    id: i64,
    changes: InfluencerChanges,
) -> ServiceResult<influencer::Model> {
    let txn = super::begin_write(db).await?;
    let current = locks::changed::<influencer::Entity, _>(&txn, ws, id)
        .await?
        .ok_or_else(not_found)?;
    let fields = validated(NewInfluencer {
        handle: changes.handle.unwrap_or_else(|| current.handle.clone()),
        platform: changes.platform.unwrap_or(current.platform),
        display_name: apply(changes.display_name, current.display_name.clone()),
        email: apply(changes.email, current.email.clone()),
        niche: apply(changes.niche, current.niche.clone()),
        follower_count: apply(changes.follower_count, current.follower_count),
    })?;
    ensure_handle_free(&txn, ws, &fields, Some(id)).await?;
    let taken = handle_taken(&fields.handle, fields.platform);
    let mut model: influencer::ActiveModel = current.into();
    set_fields(&mut model, fields);
    let updated = model
        .update(&txn)
        .await
        .map_err(|e| on_unique_violation(e, || taken))?;
    super::commit(txn, ws, counts).await?;
    Ok(updated)
}

/// Removes an influencer from the roster, with its memberships and engagement events.
#[tracing::instrument(name = "influencers::delete", level = "debug", skip_all, fields(workspace = ws.0, influencer = id))]
pub async fn delete(
    db: &DatabaseConnection,
    events: &Events,
    ws: WorkspaceId,
    id: i64,
) -> ServiceResult<i64> {
    let txn = super::begin_write(db).await?;
    // Locked first: assignments and engagements naming the influencer either committed before
    // (their memberships are deleted, and announced, below) or find it gone.
    locks::deleted::<influencer::Entity, _>(&txn, ws, id)
        .await?
        .ok_or_else(not_found)?;
    let mut outbox = events.outbox();
    delete_memberships(
        &txn,
        &mut outbox,
        ws,
        sea_orm::Condition::all().add(segment_membership::Column::InfluencerId.eq(id)),
    )
    .await?;
    engagement_event::Entity::delete_many()
        .filter(engagement_event::Column::WorkspaceId.eq(ws.0))
        .filter(engagement_event::Column::InfluencerId.eq(id))
        .exec(&txn)
        .await?;
    influencer::Entity::delete_many()
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
        .filter(influencer::Column::Id.eq(id))
        .exec(&txn)
        .await?;
    outbox.commit(txn, ws).await?;
    Ok(id)
}
