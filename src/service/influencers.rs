//! Adding influencers to the roster.

use entity::{enums::Platform, influencer};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter,
};

use super::{
    InputError, InputErrorCode, ServiceError, ServiceResult, WorkspaceId,
    errors::on_unique_violation,
    now,
    validate::{self, DISPLAY_NAME_MAX, NICHE_MAX},
};

/// An influencer to add.
#[derive(Clone, Debug)]
pub struct NewInfluencer {
    pub handle: String,
    pub platform: Platform,
    pub display_name: Option<String>,
    pub email: Option<String>,
    pub niche: Option<String>,
    pub follower_count: Option<i32>,
}

fn handle_taken(handle: &str, platform: Platform) -> InputError {
    InputError::new(
        InputErrorCode::NameTaken,
        &["input", "handle"],
        format!("@{handle} on {platform:?} is already in the roster"),
    )
}

/// Adds an influencer. A handle is unique per platform in a workspace, ignoring case.
pub async fn create(
    db: &DatabaseConnection,
    ws: WorkspaceId,
    input: NewInfluencer,
) -> ServiceResult<influencer::Model> {
    let handle = validate::handle(&input.handle, &["input", "handle"]);
    let display_name = validate::optional_text(
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
    let (handle, display_name, email, niche, followers) =
        match (handle, display_name, email, niche, followers) {
            (Ok(h), Ok(d), Ok(e), Ok(n), Ok(f)) => (h, d, e, n, f),
            (h, d, e, n, f) => {
                let errors = [h.err(), d.err(), e.err(), n.err(), f.err()];
                return Err(ServiceError::Input(errors.into_iter().flatten().collect()));
            }
        };
    let key = validate::name_key(&handle);
    let txn = super::begin_write(db).await?;
    let taken = influencer::Entity::find()
        .filter(influencer::Column::WorkspaceId.eq(ws.0))
        .filter(influencer::Column::Platform.eq(input.platform))
        .filter(influencer::Column::HandleKey.eq(key.as_str()))
        .one(&txn)
        .await?
        .is_some();
    if taken {
        return Err(handle_taken(&handle, input.platform).into());
    }
    let created = influencer::ActiveModel {
        workspace_id: Set(ws.0),
        handle: Set(handle.clone()),
        handle_key: Set(key),
        platform: Set(input.platform),
        display_name: Set(display_name),
        email: Set(email),
        niche: Set(niche),
        follower_count: Set(followers),
        created_at: Set(now()),
        ..Default::default()
    }
    .insert(&txn)
    .await
    .map_err(|e| on_unique_violation(e, || handle_taken(&handle, input.platform)))?;
    txn.commit().await?;
    Ok(created)
}
