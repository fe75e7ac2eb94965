//! What reading an import file yields, and the limits it reads under.

use entity::enums::Platform;

use crate::service::{
    errors::InputErrorCode,
    text::{DisplayName, Email, Handle, Niche, SegmentName},
};

/// The most bytes one record (a CSV record, quoted line breaks included, or a JSONL line) may
/// take; a longer one is a [`FileFault`], found after reading little more than this much of it.
pub const MAX_RECORD_BYTES: usize = 64 * 1024;

/// The most segments one row may list.
pub const MAX_SEGMENTS_PER_ROW: usize = 50;

/// How an import file is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// Comma-separated values with a header row of column names.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// A row that passed every check: an influencer as `createInfluencer` would take it, plus the
/// segments to put it in. `None` means the row does not give that field.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The `handle` column, without a leading `@`.
    pub handle: Handle,
    /// The `platform` column.
    pub platform: Platform,
    /// The `displayName` column.
    pub display_name: Option<DisplayName>,
    /// The `email` column.
    pub email: Option<Email>,
    /// The `niche` column.
    pub niche: Option<Niche>,
    /// The `followerCount` column.
    pub follower_count: Option<i32>,
    /// The segments the row names, each once (by its folded key), in the order given.
    pub segments: Vec<SegmentName>,
}

/// One problem with a refused row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowError {
    /// The 1-based line the row starts on.
    pub line: u64,
    /// The column (or JSON key) at fault, in its canonical spelling (`displayName`) when it is a
    /// known one, as written when it is not; `None` when the row as a whole is at fault.
    pub column: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
    /// What is wrong, for a program.
    pub code: InputErrorCode,
}

/// Why the file cannot be read on: the last item a [`Reader`] yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileFault {
    /// The 1-based line where reading stopped.
    pub line: u64,
    /// The column at fault, when one is (a header column).
    pub column: Option<String>,
    /// What is wrong, for a person.
    pub message: String,
    /// What is wrong, for a program: `TOO_MANY` for too many rows, `INVALID` otherwise.
    pub code: InputErrorCode,
}

/// What reading an import file yields, one at a time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// A good row.
    Row(Row),
    /// A refused row: every problem it has, all on the same line. Reading goes on.
    Refused(Vec<RowError>),
    /// The file cannot be read on; nothing follows.
    Fault(FileFault),
}

/// How many characters of a cell a message echoes, or an unknown column's name keeps.
const EXCERPT_CHARS: usize = 40;

/// The start of `text`, quoted and with control characters escaped, for a message that echoes
/// what the file holds: a cell may be 64 KiB long and hold line breaks.
pub(super) fn excerpt(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => format!("{text:?}"),
        Some((end, _)) => format!("{:?}…", &text[..end]),
    }
}

/// The start of a name the file gives (an unknown column or key), kept in an error's `column`.
pub(super) fn clip(text: &str) -> String {
    match text.char_indices().nth(EXCERPT_CHARS) {
        None => text.to_owned(),
        Some((end, _)) => format!("{}…", &text[..end]),
    }
}
