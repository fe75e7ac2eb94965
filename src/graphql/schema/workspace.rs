//! The workspace a request acts for, as `viewer { workspace }`.

use crate::service::Scoped;
use async_graphql::{Context, ID, Object, Result};
use entity::workspace;
use sea_orm::EntityTrait;

use super::{
    context::scope,
    errors::internal,
    ids::{self, Kind},
    scalars::DateTime,
};

pub struct Workspace(pub workspace::Model);

/// A brand or agency: the owner of a roster, its segments and campaigns. An API key acts for
/// exactly one workspace and sees nothing of any other.
#[Object]
impl Workspace {
    /// Opaque global id.
    pub async fn id(&self) -> ID {
        ids::encode(Kind::Workspace, self.0.id)
    }

    /// The workspace's name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// When the workspace was created.
    async fn created_at(&self) -> DateTime {
        self.0.created_at.into()
    }
}

/// Who is asking: the workspace of the request's API key.
pub struct Viewer;

/// Who is asking: the workspace of the request's API key.
#[Object]
impl Viewer {
    /// The workspace whose data this request sees.
    async fn workspace(&self, ctx: &Context<'_>) -> Result<Workspace> {
        let scope = scope(ctx)?;
        workspace::Entity::find_by_id(scope.workspace().0)
            .one(scope.conn())
            .await
            .map_err(internal)?
            .map(Workspace)
            .ok_or_else(|| internal("the request's workspace does not exist"))
    }
}

#[derive(Default)]
pub struct ViewerQuery;

#[Object]
impl ViewerQuery {
    /// Who is asking: tells a client whose data it sees.
    async fn viewer(&self) -> Viewer {
        Viewer
    }
}
