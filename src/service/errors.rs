//! Errors of the domain layer: input the caller can fix, or a database fault.

use sea_orm::DbErr;

/// Why a piece of input was refused: one of the codes every layer shares (see `crate::errors`).
pub use crate::errors::codes::InputErrorCode;

/// A problem with one input field. When an operation reports any, it has written nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// Path to the field at fault, e.g. `["input", "name"]` or `["input", "influencerIds", "3"]`.
    pub field: Vec<String>,
    pub message: String,
    pub code: InputErrorCode,
}

impl InputError {
    pub fn new(code: InputErrorCode, field: &[&str], message: impl Into<String>) -> Self {
        Self {
            field: field.iter().map(|s| (*s).to_owned()).collect(),
            message: message.into(),
            code,
        }
    }

    /// The same error for the `index`-th element of the list at `field`.
    pub fn at_index(code: InputErrorCode, field: &[&str], index: usize, message: String) -> Self {
        let mut error = Self::new(code, field, message);
        error.field.push(index.to_string());
        error
    }
}

/// The outcome of a domain operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The input was refused; the transaction was rolled back.
    #[error("invalid input: {0:?}")]
    Input(Vec<InputError>),
    /// The database failed; the transaction was rolled back.
    #[error(transparent)]
    Db(#[from] DbErr),
}

impl From<InputError> for ServiceError {
    fn from(error: InputError) -> Self {
        Self::Input(vec![error])
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;

/// The input errors of several checks together (those that failed), so the caller sees every
/// problem at once; a database error wins over input errors.
pub(crate) fn merge_errors(errors: impl IntoIterator<Item = Option<ServiceError>>) -> ServiceError {
    let mut input = Vec::new();
    for error in errors.into_iter().flatten() {
        match error {
            ServiceError::Db(e) => return ServiceError::Db(e),
            ServiceError::Input(errors) => input.extend(errors),
        }
    }
    ServiceError::Input(input)
}

/// Turns the faults a write gets when something it names was deleted while it ran (a foreign key
/// violated by its insert, an update that found its row gone) into NOT_FOUND. Writes lock what
/// they name (see `locks`), so these should not happen; if one does, the caller still gets the
/// answer that is true (nothing was written, the object is gone), and the log keeps the detail.
pub(crate) fn on_vanished_reference(error: ServiceError) -> ServiceError {
    let vanished = match &error {
        ServiceError::Db(DbErr::RecordNotUpdated) => true,
        ServiceError::Db(e) => matches!(
            e.sql_err(),
            Some(sea_orm::SqlErr::ForeignKeyConstraintViolation(_))
        ),
        ServiceError::Input(_) => false,
    };
    if !vanished {
        return error;
    }
    tracing::warn!(error = %error, "a write named something deleted meanwhile");
    InputError::new(
        InputErrorCode::NotFound,
        &["input"],
        "something this input names was deleted while the change was being made",
    )
    .into()
}

/// Turns a unique-index violation (a concurrent insert that won the race) into the caller's error.
pub(crate) fn on_unique_violation(err: DbErr, taken: impl FnOnce() -> InputError) -> ServiceError {
    match err.sql_err() {
        Some(sea_orm::SqlErr::UniqueConstraintViolation(_)) => ServiceError::Input(vec![taken()]),
        _ => ServiceError::Db(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_update_that_found_its_row_gone_is_not_found() {
        let error = on_vanished_reference(ServiceError::Db(DbErr::RecordNotUpdated));
        let ServiceError::Input(errors) = error else {
            panic!("{error:?}");
        };
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].code, InputErrorCode::NotFound);
        assert_eq!(errors[0].field, ["input"]);
    }

    #[test]
    fn other_faults_stay_faults() {
        let error = on_vanished_reference(ServiceError::Db(DbErr::Custom("disk full".into())));
        assert!(
            matches!(error, ServiceError::Db(DbErr::Custom(_))),
            "{error:?}"
        );
    }
}
