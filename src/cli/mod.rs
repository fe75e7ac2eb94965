//! What the command line does besides serving the API: tools that write a database directly,
//! outside any request. They use the domain ([`crate::service`]) and are no part of it.

pub mod export;
pub mod first_key;
mod mix;
pub mod progress;
pub mod seed;
mod seed_history;
