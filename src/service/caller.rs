//! Who a request acts as: its workspace, and the API key it presented. Writes record the key in
//! the membership history, so that "who put this person here?" has an answer.

use std::sync::Arc;

use super::workspace::WorkspaceId;

/// The workspace a request acts for, and the key that let it in (none for work the server does
/// on its own, or from the command line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub workspace: WorkspaceId,
    pub key: Option<Arc<KeyName>>,
}

/// How an API key is named to people: its shown prefix and its label. The secret is never kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyName {
    pub prefix: String,
    pub label: String,
}

impl Caller {
    /// A request of `workspace` made with the key named `key`.
    pub fn with_key(workspace: WorkspaceId, key: KeyName) -> Self {
        Self {
            workspace,
            key: Some(Arc::new(key)),
        }
    }
}

/// The server acting for a workspace by itself, with no key.
impl From<WorkspaceId> for Caller {
    fn from(workspace: WorkspaceId) -> Self {
        Self {
            workspace,
            key: None,
        }
    }
}
