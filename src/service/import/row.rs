//! The checks on one row: the rules `createInfluencer` applies to each field (through the
//! validated types of [`text`](crate::service::text)), the platform, and the segments to put the
//! influencer in. Every problem of a row is reported, not only the first.

use entity::enums::Platform;
use sea_orm::{ActiveEnum, Iterable};
use serde_json::{Number, Value};

use super::{
    cells::unguard_cell,
    columns::Column,
    items::{Item, MAX_SEGMENTS_PER_ROW, Row, RowError, excerpt},
};
use crate::service::{
    errors::{InputError, InputErrorCode},
    text::{DisplayName, Email, Handle, Niche, SegmentName},
    validate,
};

/// One cell as the file holds it.
#[derive(Clone, Copy, Debug)]
pub(super) enum Cell<'a> {
    /// Text as written: a CSV cell or a JSON string.
    Text(&'a str),
    /// A JSON number.
    Number(&'a Number),
    /// A JSON array.
    List(&'a [Value]),
    /// A JSON value no column takes, by what it is (`an object`).
    Other(&'static str),
    /// A cell already refused while reading it (not UTF-8): checked no further.
    Unreadable,
}

impl<'a> Cell<'a> {
    /// The cell of a JSON value; `None` for `null`, which gives nothing.
    pub(super) fn of_json(value: &'a Value) -> Option<Self> {
        Some(match value {
            Value::Null => return None,
            Value::String(text) => Cell::Text(text),
            Value::Number(number) => Cell::Number(number),
            Value::Array(items) => Cell::List(items),
            Value::Bool(_) => Cell::Other("true or false"),
            Value::Object(_) => Cell::Other("an object"),
        })
    }

    fn kind(self) -> &'static str {
        match self {
            Cell::Text(_) => "a string",
            Cell::Number(_) => "a number",
            Cell::List(_) => "a list",
            Cell::Other(kind) => kind,
            Cell::Unreadable => "unreadable",
        }
    }
}

/// A row's cells by column, and the problems found while reading them, before the checks.
pub(super) struct Cells<'a> {
    line: u64,
    /// Whether text cells may carry the exporter's formula guard (CSV, the format spreadsheets
    /// open).
    guarded: bool,
    /// By [`Column::index`]; `None` where the row gives nothing.
    cells: [Option<Cell<'a>>; Column::ALL.len()],
    errors: Vec<RowError>,
}

impl<'a> Cells<'a> {
    pub(super) fn new(line: u64, guarded: bool) -> Self {
        Self {
            line,
            guarded,
            cells: [None; Column::ALL.len()],
            errors: Vec::new(),
        }
    }

    pub(super) fn set(&mut self, column: Column, cell: Option<Cell<'a>>) {
        self.cells[column.index()] = cell;
    }

    /// Records a problem found while reading the row; `column` as it should be reported.
    pub(super) fn refuse(&mut self, column: Option<String>, message: String) {
        self.errors.push(RowError {
            line: self.line,
            column,
            message,
            code: InputErrorCode::Invalid,
        });
    }

    /// The row, or every problem it has.
    pub(super) fn check(mut self) -> Item {
        let handle = match self.text(Column::Handle) {
            Ok(Some(text)) => self.report(Column::Handle, Handle::parse(text, &["handle"])),
            Ok(None) => self.required(Column::Handle),
            Err(()) => None,
        };
        let platform = match self.text(Column::Platform) {
            Ok(Some(text)) => self.report(Column::Platform, platform(text)),
            Ok(None) => self.required(Column::Platform),
            Err(()) => None,
        };
        let display_name = self.optional(Column::DisplayName, |text| {
            DisplayName::parse(text, &["displayName"])
        });
        let email = self.optional(Column::Email, |text| Email::parse(text, &["email"]));
        let niche = self.optional(Column::Niche, |text| Niche::parse(text, &["niche"]));
        let follower_count = match self.cells[Column::FollowerCount.index()].take() {
            None => None,
            Some(cell) => self
                .report(Column::FollowerCount, follower_count(cell))
                .flatten(),
        };
        let segments = self.segments();
        match (handle, platform) {
            (Some(handle), Some(platform)) if self.errors.is_empty() => Item::Row(Row {
                line: self.line,
                handle,
                platform,
                display_name,
                email,
                niche,
                follower_count,
                segments,
            }),
            _ => Item::Refused(self.errors),
        }
    }

    /// The text of a text column: `Ok(None)` when not given, `Err` when the cell is not text
    /// (already reported).
    fn text(&mut self, column: Column) -> Result<Option<&'a str>, ()> {
        match self.cells[column.index()].take() {
            None => Ok(None),
            Some(Cell::Text(text)) if self.guarded => Ok(Some(unguard_cell(text))),
            Some(Cell::Text(text)) => Ok(Some(text)),
            Some(Cell::Unreadable) => Err(()),
            Some(other) => {
                self.error(
                    column,
                    format!("{} must be a string, not {}", column.name(), other.kind()),
                );
                Err(())
            }
        }
    }

    /// An optional text column checked by `parse` (which takes blank for not given).
    fn optional<T>(
        &mut self,
        column: Column,
        parse: impl FnOnce(Option<&str>) -> Result<Option<T>, InputError>,
    ) -> Option<T> {
        match self.text(column) {
            Ok(text) => self.report(column, parse(text)).flatten(),
            Err(()) => None,
        }
    }

    fn segments(&mut self) -> Vec<SegmentName> {
        let column = Column::Segments;
        let names: Vec<&str> = match self.cells[column.index()].take() {
            None | Some(Cell::Unreadable) => return Vec::new(),
            Some(Cell::Text(text)) => {
                let text = if self.guarded {
                    unguard_cell(text)
                } else {
                    text
                };
                text.split(';').map(str::trim).collect()
            }
            Some(Cell::List(items)) => {
                let Some(names) = items.iter().map(Value::as_str).collect::<Option<Vec<_>>>()
                else {
                    self.error(column, "segments must be a list of strings".to_owned());
                    return Vec::new();
                };
                names.into_iter().map(str::trim).collect()
            }
            Some(other) => {
                self.error(
                    column,
                    format!(
                        "segments must be a list of names or a ;-separated string, not {}",
                        other.kind()
                    ),
                );
                return Vec::new();
            }
        };
        let names: Vec<&str> = names.into_iter().filter(|n| !n.is_empty()).collect();
        if names.len() > MAX_SEGMENTS_PER_ROW {
            self.errors.push(RowError {
                line: self.line,
                column: Some(column.name().to_owned()),
                message: format!(
                    "a row may list at most {MAX_SEGMENTS_PER_ROW} segments (this one lists {})",
                    names.len()
                ),
                code: InputErrorCode::TooMany,
            });
            return Vec::new();
        }
        let mut segments: Vec<SegmentName> = Vec::with_capacity(names.len());
        for name in names {
            match SegmentName::parse(name, &["segments"]) {
                Ok(segment) => {
                    // The same segment twice (in any case) is one membership.
                    if !segments.iter().any(|s| s.key() == segment.key()) {
                        segments.push(segment);
                    }
                }
                Err(e) => self.errors.push(RowError {
                    line: self.line,
                    column: Some(column.name().to_owned()),
                    message: format!("segment {}: {}", excerpt(name), e.message),
                    code: e.code,
                }),
            }
        }
        segments
    }

    /// The value, or `None` with its error recorded against `column`.
    fn report<T>(&mut self, column: Column, result: Result<T, InputError>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(e) => {
                self.errors.push(RowError {
                    line: self.line,
                    column: Some(column.name().to_owned()),
                    message: e.message,
                    code: e.code,
                });
                None
            }
        }
    }

    fn required<T>(&mut self, column: Column) -> Option<T> {
        self.error(column, format!("{} is required", column.name()));
        None
    }

    fn error(&mut self, column: Column, message: String) {
        self.refuse(Some(column.name().to_owned()), message);
    }
}

/// A platform by its name in any case (`instagram`, `INSTAGRAM`, `Instagram`).
fn platform(text: &str) -> Result<Platform, InputError> {
    let name = text.trim();
    let invalid =
        |message: String| InputError::new(InputErrorCode::Invalid, &["platform"], message);
    if name.is_empty() {
        return Err(invalid("platform must not be empty".to_owned()));
    }
    Platform::iter()
        .find(|platform| platform.to_value().eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let names: Vec<String> = Platform::iter().map(|p| p.to_value()).collect();
            invalid(format!(
                "{} is not a platform: one of {}",
                excerpt(name),
                names.join(", ")
            ))
        })
}

/// A follower count: digits (a JSON integer in JSONL) that fit the column and pass the API's
/// rule; blank gives nothing. Signs, decimals and exponents are refused rather than guessed at.
fn follower_count(cell: Cell<'_>) -> Result<Option<i32>, InputError> {
    let field = ["followerCount"];
    let invalid = |message: String| InputError::new(InputErrorCode::Invalid, &field, message);
    let too_large = || invalid(format!("followerCount must be at most {}", i32::MAX));
    match cell {
        Cell::Text(text) => {
            let digits = text.trim();
            if digits.is_empty() {
                return Ok(None);
            }
            if !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!(
                    "followerCount must be a whole number written in digits, not {}",
                    excerpt(digits)
                )));
            }
            // Only digits: the one way to fail is to be too large.
            let count = digits.parse::<i32>().map_err(|_| too_large())?;
            validate::follower_count(Some(count), &field)
        }
        Cell::Number(number) if !number.is_f64() => {
            // `as_i64` is `None` only above `i64::MAX`.
            let count = number.as_i64().unwrap_or(i64::MAX);
            if count > i64::from(i32::MAX) {
                return Err(too_large());
            }
            // Below `i32::MIN` is as negative as `i32::MIN`, which the rule refuses.
            validate::follower_count(Some(i32::try_from(count).unwrap_or(i32::MIN)), &field)
        }
        Cell::Number(number) => Err(invalid(format!(
            "followerCount must be a whole number, not {number}"
        ))),
        Cell::Unreadable => Ok(None),
        other => Err(invalid(format!(
            "followerCount must be a whole number, not {}",
            other.kind()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn count(cell: Cell<'_>) -> Result<Option<i32>, String> {
        follower_count(cell).map_err(|e| e.message)
    }

    #[test]
    fn follower_counts_are_digits_that_fit() {
        let texts = [" 12500 ", "", "  ", "0", "2147483647"];
        let counts: Vec<_> = texts.into_iter().map(|t| count(Cell::Text(t))).collect();
        assert_eq!(
            counts,
            [
                Ok(Some(12500)),
                Ok(None),
                Ok(None),
                Ok(Some(0)),
                Ok(Some(i32::MAX))
            ]
        );
        let refused: Vec<_> = ["-5", "1e3", "12.5", "abc", "+5", "1 000", "2147483648"]
            .into_iter()
            .map(|t| count(Cell::Text(t)))
            .collect();
        let digits = |t: &str| {
            Err(format!(
                "followerCount must be a whole number written in digits, not \"{t}\""
            ))
        };
        assert_eq!(
            refused,
            [
                digits("-5"),
                digits("1e3"),
                digits("12.5"),
                digits("abc"),
                digits("+5"),
                digits("1 000"),
                Err("followerCount must be at most 2147483647".to_owned()),
            ]
        );
    }

    #[test]
    fn json_follower_counts_are_integers_that_fit() {
        let numbers: Vec<Value> = serde_json::from_str(
            "[12, -5, 1e3, 12.5, 2147483648, 18446744073709551615, -9223372036854775808]",
        )
        .unwrap();
        let counts: Vec<_> = numbers
            .iter()
            .map(|n| count(Cell::Number(n.as_number().unwrap())))
            .collect();
        assert_eq!(
            counts,
            [
                Ok(Some(12)),
                Err("followerCount must not be negative".to_owned()),
                Err("followerCount must be a whole number, not 1000.0".to_owned()),
                Err("followerCount must be a whole number, not 12.5".to_owned()),
                Err("followerCount must be at most 2147483647".to_owned()),
                Err("followerCount must be at most 2147483647".to_owned()),
                Err("followerCount must not be negative".to_owned()),
            ]
        );
    }

    #[test]
    fn platforms_are_named_in_any_case() {
        let found: Vec<_> = ["instagram", "INSTAGRAM", " Instagram ", "x", "TikTok"]
            .into_iter()
            .map(|name| platform(name).map_err(|e| e.message))
            .collect();
        assert_eq!(
            found,
            [
                Ok(Platform::Instagram),
                Ok(Platform::Instagram),
                Ok(Platform::Instagram),
                Ok(Platform::X),
                Ok(Platform::Tiktok),
            ]
        );
        assert_eq!(
            platform("Facebook").map_err(|e| e.message),
            Err(
                "\"Facebook\" is not a platform: one of INSTAGRAM, TIKTOK, YOUTUBE, TWITCH, X, OTHER"
                    .to_owned()
            )
        );
    }
}
