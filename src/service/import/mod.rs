//! Reading roster import files: CSV with a header row, or JSONL (one JSON object per line), as
//! spreadsheets and CRMs export them. Pure code over any [`std::io::Read`]: the file is streamed
//! one row at a time, each row checked by the same rules `createInfluencer` applies, and nothing
//! is written anywhere; the job that imports decides what to do with each [`Item`].
//!
//! - [`file`]: the reader ([`read`]) and what it yields.
//! - [`cells`]: the spreadsheet formula guard the exporter applies and the reader undoes.
//! - [`dedup`]: the same influencer twice in one file.

pub mod cells;
mod columns;
mod csv_parser;
pub mod dedup;
pub mod file;
mod items;
mod records;
mod row;

pub use cells::{guard_cell, unguard_cell};
pub use dedup::{MatchBy, Seen};
pub use file::{Reader, read};
pub use items::{FileFault, Format, Item, MAX_RECORD_BYTES, MAX_SEGMENTS_PER_ROW, Row, RowError};
