//! The roster: adding, editing and removing influencers.

use entity::{engagement_event, enums::Platform, influencer, segment_membership};
use sea_orm::{ActiveModelTrait, ActiveValue::Set, ColumnTrait, QueryFilter};

use super::{
    clock::now,
    errors::{InputError, InputErrorCode, ServiceError, ServiceResult, on_unique_violation},
    journal::Actor,
    locks,
    membership_rows::delete_memberships,
    rule_lock,
    rules::{self, Among, Change, RowChange},
    scope::{Scoped, Tx},
    segments::Patch,
    text::{DisplayName, Email, Handle, Niche},
    validate,
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

/// An influencer's fields once every rule passed.
struct Validated {
    handle: Handle,
    platform: Platform,
    display_name: Option<DisplayName>,
    email: Option<Email>,
    niche: Option<Niche>,
    follower_count: Option<i32>,
}

/// Checks every field, reporting all problems at once; returns the cleaned fields.
fn validated(input: NewInfluencer) -> ServiceResult<Validated> {
    let handle = Handle::parse(&input.handle, &["input", "handle"]);
    let display_name = DisplayName::parse(input.display_name.as_deref(), &["input", "displayName"]);
    let email = Email::parse(input.email.as_deref(), &["input", "email"]);
    let niche = Niche::parse(input.niche.as_deref(), &["input", "niche"]);
    let followers = validate::follower_count(input.follower_count, &["input", "followerCount"]);
    match (handle, display_name, email, niche, followers) {
        (Ok(handle), Ok(display_name), Ok(email), Ok(niche), Ok(follower_count)) => Ok(Validated {
            handle,
            platform: input.platform,
            display_name,
            email,
            niche,
            follower_count,
        }),
        (h, d, e, n, f) => {
            let errors = [h.err(), d.err(), e.err(), n.err(), f.err()];
            Err(ServiceError::Input(errors.into_iter().flatten().collect()))
        }
    }
}

fn handle_taken(handle: &Handle, platform: Platform) -> InputError {
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
async fn ensure_handle_free<S: Scoped>(
    s: &S,
    fields: &Validated,
    except: Option<i64>,
) -> ServiceResult<()> {
    let mut query = s
        .find::<influencer::Entity>()
        .filter(influencer::Column::Platform.eq(fields.platform))
        .filter(influencer::Column::HandleKey.eq(fields.handle.key()));
    if let Some(id) = except {
        query = query.filter(influencer::Column::Id.ne(id));
    }
    match query.one(s.conn()).await? {
        Some(_) => Err(handle_taken(&fields.handle, fields.platform).into()),
        None => Ok(()),
    }
}

/// Moves validated fields into an active model.
fn set_fields(model: &mut influencer::ActiveModel, fields: Validated) {
    model.handle_key = Set(fields.handle.key());
    model.handle = Set(fields.handle.into());
    model.platform = Set(fields.platform);
    model.display_name_key = Set(fields.display_name.as_ref().map(DisplayName::key));
    model.display_name = Set(fields.display_name.map(Into::into));
    model.email = Set(fields.email.map(Into::into));
    model.niche_key = Set(fields.niche.as_ref().map(Niche::key));
    model.niche = Set(fields.niche.map(Into::into));
    model.follower_count = Set(fields.follower_count);
}

/// Adds an influencer. A handle is unique per platform in a workspace, ignoring case.
#[tracing::instrument(name = "influencers::create", level = "debug", skip_all, fields(workspace = tx.workspace().0))]
pub async fn create(tx: &mut Tx<'_>, input: &NewInfluencer) -> ServiceResult<influencer::Model> {
    let fields = validated(input.clone())?;
    ensure_handle_free(tx, &fields, None).await?;
    let taken = handle_taken(&fields.handle, fields.platform);
    let mut model = tx.owned(influencer::ActiveModel {
        created_at: Set(now()),
        ..Default::default()
    });
    set_fields(&mut model, fields);
    let created = model
        .insert(tx.conn())
        .await
        .map_err(|e| on_unique_violation(e, || taken))?;
    let change = Change {
        row: Some(RowChange {
            before: None,
            after: created.clone(),
        }),
        ..Change::default()
    };
    rules::follow(tx, &change, Among::Held(&[created.id])).await?;
    Ok(created)
}

/// Edits an influencer; the same rules as on creation apply to the result.
#[tracing::instrument(name = "influencers::update", level = "debug", skip_all, fields(workspace = tx.workspace().0, influencer = id))]
pub async fn update(
    tx: &mut Tx<'_>,
    id: i64,
    changes: InfluencerChanges,
) -> ServiceResult<influencer::Model> {
    // The rules this update may have to follow are locked with its row, in one statement.
    let current = rule_lock::changed_following_rules::<influencer::Entity>(tx, id)
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
    // The row holds its own handle key on its platform: only a new one can be taken.
    if fields.platform != current.platform || fields.handle.key() != current.handle_key {
        ensure_handle_free(tx, &fields, Some(id)).await?;
    }
    let taken = handle_taken(&fields.handle, fields.platform);
    let mut model: influencer::ActiveModel = current.clone().into();
    set_fields(&mut model, fields);
    let updated = model
        .update(tx.conn())
        .await
        .map_err(|e| on_unique_violation(e, || taken))?;
    let change = Change {
        row: Some(RowChange {
            before: Some(current),
            after: updated.clone(),
        }),
        ..Change::default()
    };
    rules::follow(tx, &change, Among::Held(&[id])).await?;
    Ok(updated)
}

/// Removes an influencer from the roster, with its memberships and engagement events.
#[tracing::instrument(name = "influencers::delete", level = "debug", skip_all, fields(workspace = tx.workspace().0, influencer = id))]
pub async fn delete(tx: &mut Tx<'_>, id: i64) -> ServiceResult<i64> {
    // Locked first: assignments and engagements naming the influencer either committed before
    // (their memberships are deleted, and announced, below) or find it gone.
    locks::deleted::<influencer::Entity, _>(tx, id)
        .await?
        .ok_or_else(not_found)?;
    delete_memberships(
        tx,
        sea_orm::Condition::all().add(segment_membership::Column::InfluencerId.eq(id)),
        Actor::System,
    )
    .await?;
    tx.delete_many::<engagement_event::Entity>()
        .filter(engagement_event::Column::InfluencerId.eq(id))
        .exec(tx.conn())
        .await?;
    tx.delete_many::<influencer::Entity>()
        .filter(influencer::Column::Id.eq(id))
        .exec(tx.conn())
        .await?;
    Ok(id)
}
