//! The roster filter: conditions on influencers, composed with `anyOf`, `allOf` and `not`,
//! checked once ([`parse`], [`missing_references`]) and compiled to one SQL condition
//! ([`condition`]) that pages, counts, assigns and removes use alike.
//!
//! Every condition is two-valued: it holds or it does not, never SQL's unknown. A missing niche
//! or follower count simply fails a niche or range condition, and so passes its `not`. This is
//! what makes `not` exact, and the same on SQLite and PostgreSQL.

pub(crate) mod input;
mod own_fields;
mod sql;

pub use input::{
    Engaged, EngagedInput, FilterInput, InfluencerFilter, IntRange, MAX_CONDITIONS, MAX_DEPTH,
    MAX_VALUES, TimeRange, WITHIN_DAYS, parse,
};
pub use own_fields::read_the_same;
pub use sql::{condition, missing_references};
