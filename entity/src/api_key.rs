//! An API key: the credential a client presents. Only a hash of the key is stored.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_key")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub workspace_id: i64,
    /// Numbered by the database, unique across workspaces (one sequence per table).
    #[sea_orm(primary_key)]
    pub id: i64,
    /// What the key is for, as its creator said.
    pub label: String,
    /// The first characters of the key, to recognise it in lists and revoke it.
    pub prefix: String,
    /// SHA-256 of the whole key, hex.
    pub key_hash: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
