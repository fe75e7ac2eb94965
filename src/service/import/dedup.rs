//! The same influencer twice in one file. The import matches each row to the roster by one key;
//! two rows with the same key in one file would both match (or both create) the same influencer,
//! so the later one is refused, naming the line of the first.

use std::collections::HashMap;

use sea_orm::ActiveEnum;
use sha2::{Digest, Sha256};

use super::items::{Row, RowError};
use crate::service::errors::InputErrorCode;

/// How a row finds the influencer it is about: the API's `ImportMatch`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MatchBy {
    /// Same platform and handle, ignoring case and a leading `@` (`PLATFORM_HANDLE`).
    PlatformHandle,
    /// Same e-mail address, ignoring case (`EMAIL`); a row without one matches nothing.
    Email,
}

/// The keys of the good rows of a file so far, each with the line that gave it first.
///
/// A key is kept as the first 128 bits of its SHA-256 digest, so a million rows cost about 30
/// bytes each, however long their handles; two different keys sharing a digest is not a chance
/// worth a thought. The map keeps its default randomly keyed hasher: the digests are public, and
/// a file could be made to pile them into one bucket of a fixed hash.
#[derive(Clone, Debug)]
pub struct Seen {
    by: MatchBy,
    first_line: HashMap<u128, u64>,
}

impl Seen {
    /// Nothing seen yet; rows compared by `by`.
    pub fn new(by: MatchBy) -> Self {
        Self {
            by,
            first_line: HashMap::new(),
        }
    }

    /// Remembers `row`, or, when an earlier row had the same key, the line of that earlier row
    /// (which stays the one remembered). `None` for a row without a key (no e-mail under
    /// [`MatchBy::Email`]), which is never a duplicate.
    pub fn earlier_line(&mut self, row: &Row) -> Option<u64> {
        let key = self.key(row)?;
        match self.first_line.entry(key) {
            std::collections::hash_map::Entry::Occupied(first) => Some(*first.get()),
            std::collections::hash_map::Entry::Vacant(slot) => {
                slot.insert(row.line);
                None
            }
        }
    }

    /// Like [`Seen::earlier_line`], as the error that refuses the later row.
    pub fn duplicate(&mut self, row: &Row) -> Option<RowError> {
        let earlier = self.earlier_line(row)?;
        let column = match self.by {
            MatchBy::PlatformHandle => "handle",
            MatchBy::Email => "email",
        };
        Some(RowError {
            line: row.line,
            column: Some(column.to_owned()),
            message: format!("the same influencer as line {earlier}"),
            code: InputErrorCode::Invalid,
        })
    }

    /// How many distinct keys were seen.
    pub fn len(&self) -> usize {
        self.first_line.len()
    }

    /// Whether no key was seen yet.
    pub fn is_empty(&self) -> bool {
        self.first_line.is_empty()
    }

    fn key(&self, row: &Row) -> Option<u128> {
        let mut hasher = Sha256::new();
        match self.by {
            MatchBy::PlatformHandle => {
                hasher.update(row.platform.to_value().as_bytes());
                // Neither a platform nor a handle holds NUL, so the pair reads back one way.
                hasher.update([0]);
                hasher.update(row.handle.key().as_bytes());
            }
            MatchBy::Email => {
                hasher.update(row.email.as_ref()?.as_str().to_lowercase().as_bytes());
            }
        }
        let digest = hasher.finalize();
        let mut first = [0; 16];
        first.copy_from_slice(&digest[..16]);
        Some(u128::from_be_bytes(first))
    }
}

#[cfg(test)]
mod tests {
    use entity::enums::Platform;

    use super::*;
    use crate::service::text::{Email, Handle};

    fn row(line: u64, handle: &str, platform: Platform, email: Option<&str>) -> Row {
        Row {
            line,
            handle: Handle::parse(handle, &["handle"]).unwrap(),
            platform,
            display_name: None,
            email: Email::parse(email, &["email"]).unwrap(),
            niche: None,
            follower_count: None,
            segments: Vec::new(),
        }
    }

    fn duplicates(by: MatchBy, rows: &[Row]) -> Vec<Option<RowError>> {
        let mut seen = Seen::new(by);
        rows.iter().map(|row| seen.duplicate(row)).collect()
    }

    fn same_as(line: u64, column: &str, earlier: u64) -> Option<RowError> {
        Some(RowError {
            line,
            column: Some(column.to_owned()),
            message: format!("the same influencer as line {earlier}"),
            code: InputErrorCode::Invalid,
        })
    }

    #[test]
    fn by_platform_and_handle_case_and_a_leading_at_do_not_count() {
        let rows = [
            row(2, "ana", Platform::Instagram, Some("ana@x.io")),
            row(3, "@ANA", Platform::Instagram, Some("other@x.io")),
            row(4, "ana", Platform::Tiktok, Some("ana@x.io")),
            row(5, "Ana", Platform::Instagram, None),
            row(6, "ana_", Platform::Instagram, None),
            row(7, "@ana", Platform::Tiktok, None),
        ];
        assert_eq!(
            duplicates(MatchBy::PlatformHandle, &rows),
            [
                None,
                same_as(3, "handle", 2),
                None,
                same_as(5, "handle", 2),
                None,
                same_as(7, "handle", 4),
            ]
        );
    }

    #[test]
    fn by_email_case_does_not_count_and_rows_without_one_never_match() {
        let rows = [
            row(2, "ana", Platform::Instagram, Some("Ana@X.io")),
            row(3, "ana", Platform::Instagram, None),
            row(4, "bob", Platform::Tiktok, Some("ana@x.IO")),
            row(5, "cy", Platform::Instagram, None),
            row(6, "dee", Platform::Instagram, Some("dee@x.io")),
            row(7, "ana", Platform::Instagram, Some("ANA@x.io")),
        ];
        assert_eq!(
            duplicates(MatchBy::Email, &rows),
            [
                None,
                None,
                same_as(4, "email", 2),
                None,
                None,
                same_as(7, "email", 2),
            ]
        );
    }

    #[test]
    fn the_first_line_is_the_one_remembered() {
        let mut seen = Seen::new(MatchBy::PlatformHandle);
        let lines: Vec<Option<u64>> = [10, 20, 30]
            .map(|line| row(line, "ana", Platform::X, None))
            .iter()
            .map(|row| seen.earlier_line(row))
            .collect();
        assert_eq!(lines, [None, Some(10), Some(10)]);
        assert_eq!(seen.len(), 1);
    }
}
