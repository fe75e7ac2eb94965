//! The workspace a request acts for.

/// The workspace a request acts for. Every read and write is filtered by it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct WorkspaceId(pub i64);
