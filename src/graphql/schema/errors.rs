//! How failures reach clients: `userErrors` in payloads for input the caller can fix, and
//! top-level errors with `extensions.code` for faults and malformed requests (their helpers are
//! the error vocabulary's, [`crate::errors`], re-exported here for the resolvers).

use async_graphql::SimpleObject;

pub use crate::errors::graphql::{UserErrorCode, bad_input, internal};
use crate::service::{InputError, ServiceError};

/// A problem with the input that the caller can fix. Nothing was written.
#[derive(SimpleObject, Clone, Debug)]
pub struct UserError {
    /// Path to the input field at fault, e.g. ["input", "name"].
    pub field: Option<Vec<String>>,
    /// What is wrong, in words fit to show a person.
    pub message: String,
    /// The kind of problem, for programs.
    pub code: UserErrorCode,
}

impl From<InputError> for UserError {
    fn from(error: InputError) -> Self {
        Self {
            field: (!error.field.is_empty()).then_some(error.field),
            message: error.message,
            code: error.code.into(),
        }
    }
}

/// A service result split into the value or the payload's user errors; database faults become a
/// top-level INTERNAL_SERVER_ERROR.
pub fn outcome<T>(
    result: Result<T, ServiceError>,
) -> async_graphql::Result<Result<T, Vec<UserError>>> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(ServiceError::Input(errors)) => {
            Ok(Err(errors.into_iter().map(UserError::from).collect()))
        }
        Err(ServiceError::Db(error)) => Err(internal(error)),
    }
}

/// User errors from input errors (ids that did not decode).
pub fn user_errors(errors: impl IntoIterator<Item = InputError>) -> Vec<UserError> {
    errors.into_iter().map(UserError::from).collect()
}
