//! The columns of an import file (the keys of a JSONL object) and the CSV header row.

use csv::ByteRecord;

use super::items::{FileFault, clip, excerpt};
use crate::service::errors::InputErrorCode;

/// A column of an import file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(super) enum Column {
    Handle,
    Platform,
    DisplayName,
    Email,
    Niche,
    FollowerCount,
    Segments,
}

impl Column {
    /// Every column, in the order an error message lists them.
    pub(super) const ALL: [Column; 7] = [
        Column::Handle,
        Column::Platform,
        Column::DisplayName,
        Column::Email,
        Column::Niche,
        Column::FollowerCount,
        Column::Segments,
    ];

    /// The canonical spelling, as the API's `createInfluencer` input names the field.
    pub(super) const fn name(self) -> &'static str {
        match self {
            Column::Handle => "handle",
            Column::Platform => "platform",
            Column::DisplayName => "displayName",
            Column::Email => "email",
            Column::Niche => "niche",
            Column::FollowerCount => "followerCount",
            Column::Segments => "segments",
        }
    }

    /// The column a header cell or JSON key names. Exports spell names every way (`Display
    /// Name`, `display_name`, `DISPLAYNAME`), so ASCII case, spaces, `_` and `-` do not count.
    pub(super) fn find(written: &str) -> Option<Column> {
        let folded: String = written
            .chars()
            .filter(|c| !matches!(c, '_' | '-') && !c.is_ascii_whitespace())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        Column::ALL
            .into_iter()
            .find(|column| column.name().eq_ignore_ascii_case(&folded))
    }

    /// Where the column's cell sits in a row's [`Column::ALL`]-ordered array.
    pub(super) fn index(self) -> usize {
        self as usize
    }
}

/// The known column names, for messages about an unknown one.
pub(super) fn known_columns() -> String {
    Column::ALL.map(Column::name).join(", ")
}

/// The columns a CSV header row names, in order; a fault when it names a column twice, one that
/// is unknown, or lacks `handle` or `platform`.
pub(super) fn header(record: &ByteRecord, line: u64) -> Result<Vec<Column>, FileFault> {
    let fault = |column: Option<String>, message: String| FileFault {
        line,
        column,
        message,
        code: InputErrorCode::Invalid,
    };
    let mut columns: Vec<Column> = Vec::with_capacity(record.len());
    for (position, cell) in record.iter().enumerate() {
        let position = position + 1;
        let Ok(written) = std::str::from_utf8(cell) else {
            return Err(fault(
                None,
                format!("header column {position} is not valid UTF-8"),
            ));
        };
        let Some(column) = Column::find(written) else {
            let message = if written.trim().is_empty() {
                format!("header column {position} has no name")
            } else {
                format!(
                    "unknown column {}: the columns are {}",
                    excerpt(written),
                    known_columns()
                )
            };
            return Err(fault(Some(clip(written)), message));
        };
        if let Some(first) = columns.iter().position(|c| *c == column) {
            return Err(fault(
                Some(column.name().to_owned()),
                format!(
                    "the column {} is in the header twice (columns {} and {position})",
                    column.name(),
                    first + 1
                ),
            ));
        }
        columns.push(column);
    }
    for required in [Column::Handle, Column::Platform] {
        if !columns.contains(&required) {
            return Err(fault(
                Some(required.name().to_owned()),
                format!("the header has no {} column", required.name()),
            ));
        }
    }
    Ok(columns)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_whatever_their_case_spaces_underscores_and_dashes() {
        let found: Vec<Option<Column>> = [
            "Display Name",
            "display_name",
            "DISPLAYNAME",
            "display-name",
            " displayName ",
            "Follower Count",
            "follower_count",
            "HANDLE",
            "Platform",
            "e-mail",
            "segment",
            "name",
        ]
        .into_iter()
        .map(Column::find)
        .collect();
        assert_eq!(
            found,
            [
                Some(Column::DisplayName),
                Some(Column::DisplayName),
                Some(Column::DisplayName),
                Some(Column::DisplayName),
                Some(Column::DisplayName),
                Some(Column::FollowerCount),
                Some(Column::FollowerCount),
                Some(Column::Handle),
                Some(Column::Platform),
                Some(Column::Email),
                None,
                None,
            ]
        );
    }

    #[test]
    fn every_column_sits_at_its_index() {
        for (i, column) in Column::ALL.into_iter().enumerate() {
            assert_eq!(column.index(), i);
            assert_eq!(Column::find(column.name()), Some(column));
        }
    }
}
