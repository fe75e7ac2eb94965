//! The request runtime: how a GraphQL request is run, whatever the schema. It takes the built
//! schema and its SDL ([`Api::new`]) and never names a type of the schema.
//!
//!
//! A module belongs here when it is about running requests rather than about what they ask:
//! it would be the same for any schema. Most of them replace or patch a behaviour of
//! async-graphql; each names the behaviour in its docs, and a unit test of it fails once
//! upstream changes that behaviour, so that the module can then be deleted.

pub mod apq;
pub mod batching;
pub mod documents;
pub mod error_codes;
pub mod executor;
pub mod field_order;
pub mod limits;
pub mod null_propagation;
pub mod variables;

pub use executor::{Api, ConnectionLimits, session_value};
