//! What resolvers take from the request context.

use async_graphql::Context;

use crate::service::{Scope, events::Events};

/// The request's workspace scope: the only way resolvers reach the workspace's data.
pub fn scope<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Scope> {
    ctx.data::<Scope>()
}

/// Where writes publish membership changes, for subscriptions.
pub fn events<'a>(ctx: &Context<'a>) -> async_graphql::Result<&'a Events> {
    ctx.data::<Events>()
}
