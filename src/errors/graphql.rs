//! The codes on async-graphql's types: the GraphQL enum of user-error codes, and the helpers
//! that attach a top-level [`Code`] to an error (`extensions.code`) or read it back.

use async_graphql::{Enum, Error, ErrorExtensions, ServerError, Value};
use sea_orm::DbErr;

use super::codes::{Code, InputErrorCode};

/// The key of a top-level error's code in its `extensions`.
const KEY: &str = "code";

// A mirror of `InputErrorCode`, which the service reports: the derive converts each way with
// exhaustive matches, so the two cannot drift apart. (Not a doc comment: that would be the
// enum's description in the SDL.)
/// Why an input was refused.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "InputErrorCode")]
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

/// The error with this `extensions.code`.
pub fn with_code(mut error: ServerError, code: Code) -> ServerError {
    set_code(&mut error, code);
    error
}

/// Sets an error's `extensions.code`.
pub fn set_code(error: &mut ServerError, code: Code) {
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set(KEY, code.as_str());
}

/// An error's `extensions.code`, when it has one.
pub fn code_of(error: &ServerError) -> Option<&str> {
    match error.extensions.as_ref()?.get(KEY)? {
        Value::String(code) => Some(code),
        _ => None,
    }
}

/// Whether an error's `extensions.code` is `code`.
pub fn has_code(error: &ServerError, code: Code) -> bool {
    code_of(error) == Some(code.as_str())
}

/// A resolver's error with this `extensions.code`.
pub fn error_with_code(message: impl Into<String>, code: Code) -> Error {
    Error::new(message.into()).extend_with(|_, e| e.set(KEY, code.as_str()))
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
        error_with_code(
            "The service is unavailable; try again shortly",
            Code::ServiceUnavailable,
        )
    } else {
        tracing::error!(error = %error, "request failed");
        error_with_code("Internal server error", Code::InternalServerError)
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
    error_with_code(message, Code::BadUserInput)
}

#[cfg(test)]
mod tests {
    use async_graphql::{EnumType, InputType, OutputType};

    use super::*;

    #[test]
    fn the_graphql_enum_says_each_user_error_code_as_the_vocabulary_writes_it() {
        assert_eq!(UserErrorCode::items().len(), InputErrorCode::ALL.len());
        for code in InputErrorCode::ALL {
            let value = UserErrorCode::from(code).to_value();
            assert_eq!(value, Value::Enum(async_graphql::Name::new(code.as_str())));
            assert_eq!(InputErrorCode::from(UserErrorCode::from(code)), code);
        }
        assert_eq!(<UserErrorCode as OutputType>::type_name(), "UserErrorCode");
    }

    #[test]
    fn codes_are_attached_and_read_back() {
        let error = with_code(ServerError::new("no", None), Code::QueryTooDeep);
        assert_eq!(code_of(&error), Some("QUERY_TOO_DEEP"));
        assert!(has_code(&error, Code::QueryTooDeep));
        assert_eq!(code_of(&ServerError::new("no", None)), None);
        let resolver = bad_input("bad").into_server_error(async_graphql::Pos::default());
        assert_eq!(code_of(&resolver), Some("BAD_USER_INPUT"));
    }
}
