//! How failures reach clients: `userErrors` in payloads for input the caller can fix, and
//! top-level errors with `extensions.code` for faults and malformed requests.

use async_graphql::{Enum, Error, ErrorExtensions, SimpleObject};
use sea_orm::DbErr;

use crate::service::{InputError, InputErrorCode, ServiceError};

/// Why an input was refused.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserErrorCode {
    /// An id names nothing in this workspace.
    NotFound,
    /// The name is already used in this workspace (names compare ignoring case).
    NameTaken,
    /// The value breaks a rule: empty, too long, malformed, or an id of the wrong type.
    Invalid,
    /// A list holds more items than one call may carry.
    TooMany,
}

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
            code: match error.code {
                InputErrorCode::NotFound => UserErrorCode::NotFound,
                InputErrorCode::NameTaken => UserErrorCode::NameTaken,
                InputErrorCode::Invalid => UserErrorCode::Invalid,
                InputErrorCode::TooMany => UserErrorCode::TooMany,
            },
        }
    }
}

/// A fault the client cannot fix. The detail goes to the log; the client gets only the code:
/// SERVICE_UNAVAILABLE when the database cannot be reached (retrying later helps), otherwise
/// INTERNAL_SERVER_ERROR.
pub fn internal<E: std::fmt::Display + 'static>(error: E) -> Error {
    let unreachable = (&error as &dyn std::any::Any)
        .downcast_ref::<DbErr>()
        .is_some_and(database_unreachable);
    if unreachable {
        tracing::error!(error = %error, "database unreachable");
        Error::new("The service is unavailable; try again shortly")
            .extend_with(|_, e| e.set("code", "SERVICE_UNAVAILABLE"))
    } else {
        tracing::error!(error = %error, "request failed");
        Error::new("Internal server error")
            .extend_with(|_, e| e.set("code", "INTERNAL_SERVER_ERROR"))
    }
}

/// Whether a database error means the database cannot be reached, rather than a fault in a
/// statement.
pub fn database_unreachable(error: &DbErr) -> bool {
    use sea_orm::{RuntimeErr, sqlx::Error as Sqlx};
    match error {
        DbErr::ConnectionAcquire(_) | DbErr::Conn(_) => true,
        DbErr::Query(RuntimeErr::SqlxError(e)) | DbErr::Exec(RuntimeErr::SqlxError(e)) => matches!(
            e.as_ref(),
            Sqlx::Io(_) | Sqlx::PoolTimedOut | Sqlx::PoolClosed | Sqlx::WorkerCrashed
        ),
        _ => false,
    }
}

/// A malformed argument outside mutation inputs (a bad cursor, a page size out of range).
pub fn bad_input(message: impl Into<String>) -> Error {
    Error::new(message.into()).extend_with(|_, e| e.set("code", "BAD_USER_INPUT"))
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

/// A mutation payload in the state "refused": no result, only the user errors that say why
/// nothing was written.
pub trait Refused: Default {
    fn refused(user_errors: Vec<UserError>) -> Self;
}

macro_rules! refused {
    ($($payload:ty),* $(,)?) => {$(
        impl Refused for $payload {
            fn refused(user_errors: Vec<UserError>) -> Self {
                Self { user_errors, ..Default::default() }
            }
        }
    )*};
}

refused!(
    super::automation::AddAutomationPayload,
    super::automation::DeleteAutomationPayload,
    super::automation::RecordEngagementPayload,
    super::automation::UpdateAutomationPayload,
    super::campaign::CreateCampaignPayload,
    super::campaign::DeleteCampaignPayload,
    super::campaign::UpdateCampaignPayload,
    super::influencer::CreateInfluencerPayload,
    super::influencer::DeleteInfluencerPayload,
    super::influencer::UpdateInfluencerPayload,
    super::segment::AssignToSegmentPayload,
    super::segment::CreateSegmentPayload,
    super::segment::DeleteSegmentPayload,
    super::segment::RemoveFromSegmentPayload,
    super::segment::UpdateSegmentPayload,
);
