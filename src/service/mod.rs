//! The domain: plain async functions over SeaORM. Every write is one transaction that commits only
//! when the whole operation succeeded; nothing here knows about GraphQL.
//!
//! This module only declares its children and re-exports what callers outside it use most; the
//! children import each other directly, never through here, so no module imports its parent.

pub mod auth;
pub mod automations;
pub mod caller;
pub mod campaigns;
pub mod clock;
pub mod count_cache;
pub mod deadline;
pub mod engagement;
pub mod errors;
pub mod events;
pub mod export;
pub mod filter;
pub mod groups;
pub mod id_list;
pub mod import;
pub mod influencer_set;
pub mod influencers;
pub mod journal;
pub(crate) mod locks;
pub mod membership_rows;
pub mod memberships;
pub mod moves;
pub mod pagination;
pub mod profile;
pub mod reads;
pub mod retention;
pub mod rule_cache;
pub(crate) mod rule_lock;
pub(crate) mod rule_references;
pub mod rule_refresh;
pub mod rules;
pub mod scope;
pub mod segments;
pub mod text;
pub mod validate;
pub mod workspace;

pub use caller::{Caller, KeyName};
pub use clock::now;
pub use deadline::Deadline;
pub use errors::{InputError, InputErrorCode, ServiceError, ServiceResult};
pub use id_list::HARD_MAX_BULK_IDS;
pub use scope::{Scope, Scoped, Tx};
pub use workspace::WorkspaceId;
