//! The error vocabulary: every code a client can read in a response, in one place.
//!
//! - [`codes`]: the codes themselves, as plain Rust with no GraphQL in it: [`Code`], the
//!   top-level `extensions.code` of GraphQL errors (and of the HTTP layer's own error bodies),
//!   and [`InputErrorCode`], the `code` of a payload's `userErrors`. The service layer reports
//!   input errors with the latter, and so does not depend on async-graphql.
//! - [`graphql`]: the same codes on async-graphql's types: `UserErrorCode` (the GraphQL enum,
//!   a mirror of [`InputErrorCode`] the compiler keeps in step), and the helpers that attach a
//!   [`Code`] to an error or read it back.
//!
//! Both halves sit below everything that reports errors (service, GraphQL schema and runtime,
//! HTTP, observability) and use none of them, so every layer can reach them without a cycle.
//! A code's text is written nowhere else in `src` (tests keep literals: they are the clients'
//! view), and never changes: clients and tests match on it.

pub mod codes;
pub mod graphql;

pub use codes::{Code, InputErrorCode};
