//! segments-api: a GraphQL API for sorting an influencer roster into segments, targeting
//! campaigns at them, and letting engagement automations file influencers on their own.
//!
//! Layers, data flowing one way: [`http`] (axum) -> [`graphql`] (its request runtime, and the
//! schema's resolvers: parse ids, shape payloads) -> [`service`] (domain operations, one
//! transaction each) -> `entity` (SeaORM). [`errors`] is the code of every error a client can
//! see, below all of them. [`db`] connects and migrates; [`config`] is the command line, and
//! [`cli`] the subcommands' tools that are no part of the domain (the seed generator);
//! [`observability`] and [`traces`] are the logs, metrics and OpenTelemetry traces.

pub mod cli;
pub mod config;
pub mod db;
pub mod errors;
pub mod graphql;
pub mod http;
pub mod observability;
pub mod service;
pub mod sync;
pub mod traces;
