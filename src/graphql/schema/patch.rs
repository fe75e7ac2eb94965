//! Optional input fields of update mutations: absent keeps a value, null clears it.

use async_graphql::MaybeUndefined;

use crate::service::segments::Patch;

/// The service's change for a nullable input field.
pub fn patch<T>(value: MaybeUndefined<T>) -> Patch<T> {
    match value {
        MaybeUndefined::Undefined => Patch::Keep,
        MaybeUndefined::Null => Patch::Clear,
        MaybeUndefined::Value(value) => Patch::Set(value),
    }
}
