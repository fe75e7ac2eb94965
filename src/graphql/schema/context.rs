//! What resolvers take from the request context.

use async_graphql::Context;
use sea_orm::DatabaseConnection;

use crate::service::{WorkspaceId, count_cache::CountCache, events::Events};

/// The database and the workspace the request acts for.
pub fn scope<'a>(
    ctx: &Context<'a>,
) -> async_graphql::Result<(&'a DatabaseConnection, WorkspaceId)> {
    Ok((
        ctx.data::<DatabaseConnection>()?,
        *ctx.data::<WorkspaceId>()?,
    ))
}

/// Where writes publish membership changes, for subscriptions.
pub fn events<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Events> {
    ctx.data::<Events>()
}

/// The counts the application keeps, which writes forget and count readers look in.
pub fn counts<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a CountCache> {
    Ok(events(ctx)?.counts())
}
