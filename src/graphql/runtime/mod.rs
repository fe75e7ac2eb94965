//! The request runtime: how a GraphQL request is run, whatever the schema. It takes the built
//! schema and its SDL ([`Api::new`]) and never names a type of the schema.
//!
//!
//! A module belongs here when it is about running requests rather than about what they ask:
//! it would be the same for any schema. Most of them replace or patch a behaviour of
//! async-graphql 7.2.1; each names that behaviour in its docs, with a link to the upstream
//! source, and has a unit test (`upstream_...`) that runs plain async-graphql and asserts the
//! behaviour as it is, so the test fails once upstream changes it and the module can go.
//!
//! | module | what it is |
//! | --- | --- |
//! | [`executor`] | [`Api`]: the steps around each operation, over HTTP and WebSocket (own) |
//! | [`documents`] | parses kept by their text (own; relies on `set_parsed_query`) |
//! | [`cost`] | cost and rate limits per API key, priced by a second schema (own) |
//! | [`limits`] | tokens, aliases, directives, fragment size (own); missing variables (workaround) |
//! | [`error_codes`] | codes for async-graphql's uncoded refusals (workaround) |
//! | [`variables`] | `Int` variables checked against 32 bits before execution (workaround) |
//! | [`apq`] | persisted queries instead of upstream's extension (workaround) |
//! | [`batching`] | batches without upstream `DataLoader`'s timer (workaround) |
//! | [`null_propagation`] | nulls of failed non-null fields, as the spec says (workaround) |
//! | [`field_order`] | response keys in selection order (workaround) |
//!
//! (The graphql-transport-ws close codes are kept in `http/ws/protocol.rs`, also a workaround.)
//!
//! The runtime uses the service layer only for the request deadline, and
//! [`crate::observability`] for the operation log; it never uses [`super::schema`].

pub mod apq;
pub mod batching;
pub mod cost;
pub mod documents;
pub mod error_codes;
pub mod executor;
pub mod field_order;
pub mod limits;
pub mod null_propagation;
pub mod variables;

pub use executor::{Api, ConnectionLimits, session_value};
