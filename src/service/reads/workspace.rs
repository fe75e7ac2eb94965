//! Which workspace requests belong to by default.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, QueryOrder};

use crate::service::workspace::WorkspaceId;

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
