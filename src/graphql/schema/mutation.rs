//! The one shape of every mutation: the input decoded (ids), a service write in a retried
//! transaction of the request's workspace, then the payload; or, when the input did not decode
//! or the service refused it, the payload's `userErrors` with nothing written.

use async_graphql::{Context, ID, Result};

use super::{
    context,
    errors::{UserError, outcome, user_errors},
    ids::{self, Kind},
};
use crate::service::{InputError, ServiceResult, Tx};

/// A mutation payload in the state "refused": no result, only the user errors that say why
/// nothing was written.
pub trait Refused: Default {
    fn refused(user_errors: Vec<UserError>) -> Self;
}

/// Implements [`Refused`] for payloads whose other fields all default to "no result".
macro_rules! refused {
    ($($payload:ty),* $(,)?) => {$(
        impl $crate::graphql::schema::mutation::Refused for $payload {
            fn refused(
                user_errors: Vec<$crate::graphql::schema::errors::UserError>,
            ) -> Self {
                Self { user_errors, ..Default::default() }
            }
        }
    )*};
}
pub(crate) use refused;

/// An input as the resolver decoded it, or every problem found on the way.
pub type Decoded<T> = std::result::Result<T, Vec<InputError>>;

/// One decoded value, or its one problem.
pub fn one<T>(decoded: std::result::Result<T, InputError>) -> Decoded<T> {
    decoded.map_err(|error| vec![error])
}

/// Two decoded parts together, or the problems of both, so the caller sees every one at once.
pub fn both<A, B>(a: Decoded<A>, b: Decoded<B>) -> Decoded<(A, B)> {
    match (a, b) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        (a, b) => Err(a
            .err()
            .into_iter()
            .flatten()
            .chain(b.err().into_iter().flatten())
            .collect()),
    }
}

/// Runs a mutation. `write` runs with the decoded input in a transaction of the request's
/// workspace (`Scope::write`: run again on a write conflict, committed within the request's
/// deadline); `done` makes the payload from what it returned. Input errors, from decoding or
/// from the service, become the payload's `userErrors`; a database fault is a top-level error.
pub async fn mutate<I, T, P>(
    ctx: &Context<'_>,
    input: Decoded<I>,
    mut write: impl AsyncFnMut(&mut Tx<'_>, &I) -> ServiceResult<T>,
    done: impl AsyncFnOnce(T) -> Result<P>,
) -> Result<P>
where
    P: Refused,
{
    let input = match input {
        Ok(input) => input,
        Err(errors) => return Ok(P::refused(user_errors(errors))),
    };
    let scope = context::scope(ctx)?;
    match outcome(scope.write(async move |tx| write(tx, &input).await).await)? {
        Ok(value) => done(value).await,
        Err(errors) => Ok(P::refused(errors)),
    }
}

/// A delete by the id at `input.id`: `delete` removes the row of `kind` with that id and returns
/// it, and `payload` is made from its global id.
pub async fn delete_by_id<P>(
    ctx: &Context<'_>,
    id: &ID,
    kind: Kind,
    mut delete: impl AsyncFnMut(&mut Tx<'_>, i64) -> ServiceResult<i64>,
    payload: impl FnOnce(ID) -> P,
) -> Result<P>
where
    P: Refused,
{
    let id = one(ids::decode(id, kind, &["input", "id"]));
    mutate(
        ctx,
        id,
        async move |tx, id| delete(tx, *id).await,
        async |id| Ok(payload(ids::encode(kind, id))),
    )
    .await
}
