//! The reader of an import file: records cut by `records` (so none is held past
//! [`MAX_RECORD_BYTES`](super::MAX_RECORD_BYTES)), CSV records parsed by the `csv` crate (see
//! `csv_parser`), JSONL lines by `serde_json`, and every row checked by `row`.

use std::{io::Read, iter::FusedIterator};

use csv::ByteRecord;
use serde_json::Value;

use crate::service::errors::InputErrorCode;

use super::{
    columns::{self, Column, known_columns},
    csv_parser::{CsvParser, Parsed},
    items::{FileFault, Format, Item, RowError, clip, excerpt},
    records::Records,
    row::{Cell, Cells},
};

/// Reads an import file one item at a time, never holding more than one record of it.
pub struct Reader<R> {
    records: Records<R>,
    format: Format,
    max_rows: u64,
    /// Data rows met so far (blank lines do not count).
    rows: u64,
    /// The columns of the CSV header, once read.
    header: Option<Vec<Column>>,
    /// Parses the CSV records.
    csv: CsvParser,
    /// The last CSV record parsed (kept for its allocations).
    record: ByteRecord,
    /// Whether the file ended (or a fault ended it): nothing more to yield.
    done: bool,
}

/// A reader of `input` written as `format`. More than `max_rows` data rows is a fault
/// (`TOO_MANY`) at the first row over.
pub fn read<R: Read>(input: R, format: Format, max_rows: u64) -> Reader<R> {
    Reader {
        records: Records::new(input, format == Format::Csv),
        format,
        max_rows,
        rows: 0,
        header: None,
        csv: CsvParser::new(),
        record: ByteRecord::new(),
        done: false,
    }
}

impl<R: Read> Iterator for Reader<R> {
    type Item = Item;

    fn next(&mut self) -> Option<Item> {
        if self.done {
            return None;
        }
        let item = self.next_item();
        self.done = matches!(item, None | Some(Item::Fault(_)));
        item
    }
}

impl<R: Read> FusedIterator for Reader<R> {}

impl<R: Read> Reader<R> {
    fn next_item(&mut self) -> Option<Item> {
        loop {
            let line = match self.records.next_record() {
                Ok(Some(line)) => line,
                Ok(None) => return self.end(),
                Err(fault) => return Some(Item::Fault(fault)),
            };
            let item = match self.format {
                Format::Csv => self.csv_record(line),
                Format::Jsonl => self.json_line(line),
            };
            if item.is_some() {
                return item;
            }
        }
    }

    /// The fault of a file that ended before it held anything.
    fn end(&self) -> Option<Item> {
        let message = match self.format {
            Format::Csv if self.header.is_none() => "the file is empty: it has no header row",
            Format::Jsonl if self.rows == 0 => "the file is empty: it has no JSON lines",
            _ => return None,
        };
        Some(Item::Fault(FileFault {
            line: self.records.line(),
            column: None,
            message: message.to_owned(),
            code: InputErrorCode::Invalid,
        }))
    }

    /// Counts a data row; the fault when it is one too many.
    fn count_row(&mut self, line: u64) -> Option<Item> {
        self.rows += 1;
        (self.rows > self.max_rows).then(|| {
            Item::Fault(FileFault {
                line,
                column: None,
                message: format!("the file has more than {} rows", self.max_rows),
                code: InputErrorCode::TooMany,
            })
        })
    }

    /// The header (read, yielding nothing), a row, or nothing for a blank record.
    fn csv_record(&mut self, line: u64) -> Option<Item> {
        match self.csv.parse(self.records.record(), &mut self.record) {
            Parsed::Fields => {}
            Parsed::Blank => return None,
            Parsed::Unreadable => {
                return Some(refused(
                    line,
                    "the record could not be read as CSV".to_owned(),
                ));
            }
        }
        let Some(header) = &self.header else {
            return match columns::header(&self.record, line) {
                Ok(header) => {
                    self.header = Some(header);
                    None
                }
                Err(fault) => Some(Item::Fault(fault)),
            };
        };
        // Spreadsheets export rows nobody filled in as a line of commas.
        if self.record.iter().all(|cell| cell.trim_ascii().is_empty()) {
            return None;
        }
        let header_len = header.len();
        if let Some(fault) = self.count_row(line) {
            return Some(fault);
        }
        if self.record.len() != header_len {
            return Some(refused(
                line,
                format!("expected {header_len} cells, found {}", self.record.len()),
            ));
        }
        let mut cells = Cells::new(line, true);
        let columns = self.header.iter().flatten();
        for (column, bytes) in columns.zip(self.record.iter()) {
            match std::str::from_utf8(bytes) {
                Ok(text) => cells.set(*column, Some(Cell::Text(text))),
                Err(_) => {
                    cells.set(*column, Some(Cell::Unreadable));
                    cells.refuse(
                        Some(column.name().to_owned()),
                        format!("{} is not valid UTF-8", column.name()),
                    );
                }
            }
        }
        Some(cells.check())
    }

    /// A row, or nothing for a blank line.
    fn json_line(&mut self, line: u64) -> Option<Item> {
        if self.records.record().trim_ascii().is_empty() {
            return None;
        }
        if let Some(fault) = self.count_row(line) {
            return Some(fault);
        }
        let Ok(text) = std::str::from_utf8(self.records.record()) else {
            return Some(refused(line, "the line is not valid UTF-8".to_owned()));
        };
        let value: Value = match serde_json::from_str(text) {
            Ok(value) => value,
            Err(e) => return Some(refused(line, not_json(&e))),
        };
        let Value::Object(object) = &value else {
            let what = match value {
                Value::Array(_) => "a list",
                Value::String(_) => "a string",
                Value::Number(_) => "a number",
                Value::Bool(_) => "true or false",
                Value::Null => "null",
                Value::Object(_) => "an object",
            };
            return Some(refused(
                line,
                format!("the line must be a JSON object, not {what}"),
            ));
        };
        let mut cells = Cells::new(line, false);
        // The key each column was given by, to name both when a row gives one twice.
        let mut given: [Option<&str>; Column::ALL.len()] = [None; Column::ALL.len()];
        for (key, value) in object {
            match Column::find(key) {
                None => cells.refuse(
                    Some(clip(key)),
                    format!(
                        "unknown key {}: the keys are {}",
                        excerpt(key),
                        known_columns()
                    ),
                ),
                Some(column) => match given[column.index()].replace(key) {
                    Some(first) => cells.refuse(
                        Some(column.name().to_owned()),
                        format!(
                            "{} is given twice (as {} and {})",
                            column.name(),
                            excerpt(first),
                            excerpt(key)
                        ),
                    ),
                    None => cells.set(column, Cell::of_json(value)),
                },
            }
        }
        Some(cells.check())
    }
}

/// A row refused as a whole.
fn refused(line: u64, message: String) -> Item {
    Item::Refused(vec![RowError {
        line,
        column: None,
        message,
        code: InputErrorCode::Invalid,
    }])
}

/// Why a line is not JSON, placed by column only: `serde_json`'s own "at line 1" would read as
/// the file's line.
fn not_json(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let reason = text.split(" at line ").next().unwrap_or(&text);
    format!(
        "the line is not valid JSON: {reason} (at character {})",
        e.column()
    )
}

#[cfg(test)]
mod tests {
    use std::{
        cell::Cell as Counter,
        io::{self, Read},
    };

    use entity::enums::Platform;

    use super::*;
    use crate::service::{
        import::{MAX_RECORD_BYTES, Row},
        text::{DisplayName, Email, Handle, Niche, SegmentName},
    };

    const ALL_COLUMNS: &str =
        "handle, platform, displayName, email, niche, followerCount, segments";
    const PLATFORMS: &str = "one of INSTAGRAM, TIKTOK, YOUTUBE, TWITCH, X, OTHER";

    fn csv(input: &str) -> Vec<Item> {
        read(input.as_bytes(), Format::Csv, 1_000).collect()
    }

    fn jsonl(input: &str) -> Vec<Item> {
        read(input.as_bytes(), Format::Jsonl, 1_000).collect()
    }

    fn row(line: u64, handle: &str, platform: Platform) -> Row {
        Row {
            line,
            handle: Handle::parse(handle, &["handle"]).unwrap(),
            platform,
            display_name: None,
            email: None,
            niche: None,
            follower_count: None,
            segments: Vec::new(),
        }
    }

    fn display_name(name: &str) -> Option<DisplayName> {
        DisplayName::parse(Some(name), &["displayName"]).unwrap()
    }

    fn segments(names: &[&str]) -> Vec<SegmentName> {
        names
            .iter()
            .map(|name| SegmentName::parse(name, &["segments"]).unwrap())
            .collect()
    }

    fn error(line: u64, column: Option<&str>, message: &str) -> RowError {
        RowError {
            line,
            column: column.map(str::to_owned),
            message: message.to_owned(),
            code: InputErrorCode::Invalid,
        }
    }

    fn fault(line: u64, column: Option<&str>, message: &str) -> Item {
        Item::Fault(FileFault {
            line,
            column: column.map(str::to_owned),
            message: message.to_owned(),
            code: InputErrorCode::Invalid,
        })
    }

    /// A reader that counts the bytes taken from it.
    struct Counting<'a, R> {
        inner: R,
        taken: &'a Counter<usize>,
    }

    impl<R: Read> Read for Counting<'_, R> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.inner.read(buf)?;
            self.taken.set(self.taken.get() + n);
            Ok(n)
        }
    }

    /// The items of `start` followed by 10 MB of `filler`, and how many bytes were read.
    fn huge(start: &'static [u8], filler: u8, format: Format) -> (Vec<Item>, usize) {
        let taken = Counter::new(0);
        let input = Counting {
            inner: start.chain(io::repeat(filler).take(10 << 20)),
            taken: &taken,
        };
        let items = read(input, format, 1_000).collect();
        (items, taken.get())
    }

    #[test]
    fn a_reader_can_run_on_another_thread() {
        let input = "handle,platform\nana,x\n".as_bytes().to_vec();
        let reader = read(io::Cursor::new(input), Format::Csv, 10);
        let items = std::thread::spawn(move || reader.collect::<Vec<_>>())
            .join()
            .unwrap();
        assert_eq!(items, [Item::Row(row(2, "ana", Platform::X))]);
    }

    #[test]
    fn csv_columns_are_found_whatever_their_spelling() {
        let input = "\u{FEFF}Handle,PLATFORM,Display Name,e_mail,NICHE,follower-count,Segments\r\n\
                     @ana,instagram,Ana B, ANA@x.io ,Fitness, 12500 ,Vip; Summer ;;vip\r\n\
                     bob,TIKTOK,,,,,\r\n";
        assert_eq!(
            csv(input),
            [
                Item::Row(Row {
                    display_name: display_name("Ana B"),
                    email: Email::parse(Some("ANA@x.io"), &["email"]).unwrap(),
                    niche: Niche::parse(Some("Fitness"), &["niche"]).unwrap(),
                    follower_count: Some(12500),
                    segments: segments(&["Vip", "Summer"]),
                    ..row(2, "ana", Platform::Instagram)
                }),
                Item::Row(row(3, "bob", Platform::Tiktok)),
            ]
        );
    }

    #[test]
    fn quoted_commas_quotes_and_line_breaks_keep_the_line_numbers_right() {
        let input = "handle,platform,niche,displayName\n\
                     ana,instagram,\"Food, travel\nand \"\"slow\"\" living\",Ana\n\
                     bob,youtube,,\"Bob, Jr.\"\n\
                     \"cy\",x,\"a\r\nb\nc\",\n\
                     @,twitch,,\n\
                     dee,other,,Dee";
        assert_eq!(
            csv(input),
            [
                Item::Row(Row {
                    niche: Niche::parse(Some("Food, travel\nand \"slow\" living"), &["niche"])
                        .unwrap(),
                    display_name: display_name("Ana"),
                    ..row(2, "ana", Platform::Instagram)
                }),
                Item::Row(Row {
                    display_name: display_name("Bob, Jr."),
                    ..row(4, "bob", Platform::Youtube)
                }),
                Item::Row(Row {
                    niche: Niche::parse(Some("a\r\nb\nc"), &["niche"]).unwrap(),
                    ..row(5, "cy", Platform::X)
                }),
                Item::Refused(vec![error(8, Some("handle"), "handle must not be empty")]),
                Item::Row(Row {
                    display_name: display_name("Dee"),
                    ..row(9, "dee", Platform::Other)
                }),
            ]
        );
    }

    #[test]
    fn blank_lines_and_rows_of_empty_cells_are_skipped_but_counted() {
        let input = "\r\nhandle,platform\n\n,\n , \r\nana,x\n";
        assert_eq!(csv(input), [Item::Row(row(6, "ana", Platform::X))]);
    }

    #[test]
    fn a_header_alone_is_a_file_without_rows() {
        assert_eq!(csv("handle,platform\r\n"), []);
    }

    #[test]
    fn an_empty_file_is_a_fault() {
        let message = "the file is empty: it has no header row";
        assert_eq!(csv(""), [fault(1, None, message)]);
        assert_eq!(csv("\u{FEFF}"), [fault(1, None, message)]);
        assert_eq!(csv("\n\r\n"), [fault(3, None, message)]);
        let message = "the file is empty: it has no JSON lines";
        assert_eq!(jsonl(""), [fault(1, None, message)]);
        assert_eq!(jsonl("\n  \r\n\t"), [fault(3, None, message)]);
    }

    #[test]
    fn a_header_with_an_unknown_missing_or_repeated_column_is_a_fault() {
        let rows = "\nana,x,1\n";
        let cases = [
            (
                "handle,platform,Followers",
                fault(
                    1,
                    Some("Followers"),
                    &format!("unknown column \"Followers\": the columns are {ALL_COLUMNS}"),
                ),
            ),
            (
                "handle,platform,",
                fault(1, Some(""), "header column 3 has no name"),
            ),
            (
                "handle,display_name,niche",
                fault(1, Some("platform"), "the header has no platform column"),
            ),
            (
                "Platform,niche,email",
                fault(1, Some("handle"), "the header has no handle column"),
            ),
            (
                "handle,Display Name,platform,display_name",
                fault(
                    1,
                    Some("displayName"),
                    "the column displayName is in the header twice (columns 2 and 4)",
                ),
            ),
        ];
        for (header, expected) in cases {
            assert_eq!(csv(&format!("{header}{rows}")), [expected], "{header}");
        }
    }

    #[test]
    fn a_quote_never_closed_ends_the_file_at_its_record() {
        let input = "handle,platform\nana,instagram\nbob,\"tiktok\n\ncy,x\n";
        assert_eq!(
            csv(input),
            [
                Item::Row(row(2, "ana", Platform::Instagram)),
                fault(
                    3,
                    None,
                    "a quote opened in the record starting on line 3 is never closed"
                ),
            ]
        );
    }

    #[test]
    fn a_row_with_another_number_of_cells_is_refused_and_reading_goes_on() {
        let input = "handle,platform\nana,instagram,extra\nbob,x\ncy\n";
        assert_eq!(
            csv(input),
            [
                Item::Refused(vec![error(2, None, "expected 2 cells, found 3")]),
                Item::Row(row(3, "bob", Platform::X)),
                Item::Refused(vec![error(4, None, "expected 2 cells, found 1")]),
            ]
        );
    }

    #[test]
    fn every_problem_of_a_row_is_reported_with_its_column() {
        let long = "s".repeat(81);
        let input = format!(
            "handle,platform,displayName,email,niche,followerCount,segments\n\
             ana fit,facebook,Ana,not-an-email,,-5,ok;{long}\n\
             ,,,,,,x\n\
             bob,,,,,1e3,\n"
        );
        let cut = "s".repeat(40);
        assert_eq!(
            csv(&input),
            [
                Item::Refused(vec![
                    error(2, Some("handle"), "handle must not contain spaces"),
                    error(
                        2,
                        Some("platform"),
                        &format!("\"facebook\" is not a platform: {PLATFORMS}")
                    ),
                    error(
                        2,
                        Some("email"),
                        "\"not-an-email\" is not an e-mail address"
                    ),
                    error(
                        2,
                        Some("followerCount"),
                        "followerCount must be a whole number written in digits, not \"-5\""
                    ),
                    error(
                        2,
                        Some("segments"),
                        &format!("segment \"{cut}\"…: name must be at most 80 characters (got 81)")
                    ),
                ]),
                Item::Refused(vec![
                    error(3, Some("handle"), "handle must not be empty"),
                    error(3, Some("platform"), "platform must not be empty"),
                ]),
                Item::Refused(vec![
                    error(4, Some("platform"), "platform must not be empty"),
                    error(
                        4,
                        Some("followerCount"),
                        "followerCount must be a whole number written in digits, not \"1e3\""
                    ),
                ]),
            ]
        );
    }

    #[test]
    fn a_row_lists_at_most_fifty_segments() {
        let names = |n: usize| (1..=n).map(|i| format!("s{i}")).collect::<Vec<_>>();
        let input = format!(
            "handle,platform,segments\nana,x,{}\nbob,x,{}\n",
            names(50).join(";"),
            names(51).join(" ; ")
        );
        let fifty = names(50);
        let fifty: Vec<&str> = fifty.iter().map(String::as_str).collect();
        assert_eq!(
            csv(&input),
            [
                Item::Row(Row {
                    segments: segments(&fifty),
                    ..row(2, "ana", Platform::X)
                }),
                Item::Refused(vec![RowError {
                    line: 3,
                    column: Some("segments".to_owned()),
                    message: "a row may list at most 50 segments (this one lists 51)".to_owned(),
                    code: InputErrorCode::TooMany,
                }]),
            ]
        );
    }

    #[test]
    fn a_csv_cell_that_is_not_utf8_refuses_its_row_naming_the_column() {
        let input = b"handle,platform,niche\nana,nope,\xFF\xFEx\nbob,x,ok\n";
        let items: Vec<Item> = read(&input[..], Format::Csv, 10).collect();
        assert_eq!(
            items,
            [
                Item::Refused(vec![
                    error(2, Some("niche"), "niche is not valid UTF-8"),
                    error(
                        2,
                        Some("platform"),
                        &format!("\"nope\" is not a platform: {PLATFORMS}")
                    ),
                ]),
                Item::Row(Row {
                    niche: Niche::parse(Some("ok"), &["niche"]).unwrap(),
                    ..row(3, "bob", Platform::X)
                }),
            ]
        );
    }

    #[test]
    fn the_exporters_formula_guard_comes_off_csv_text_cells() {
        let input = "handle,platform,displayName,niche,followerCount,segments\n\
                     '@ana,instagram,'=SUM(1),'quoted,,'-vip;=b\n\
                     bob,x,,,'12,\n";
        assert_eq!(
            csv(input),
            [
                Item::Row(Row {
                    display_name: display_name("=SUM(1)"),
                    niche: Niche::parse(Some("'quoted"), &["niche"]).unwrap(),
                    segments: segments(&["-vip", "=b"]),
                    ..row(2, "ana", Platform::Instagram)
                }),
                Item::Refused(vec![error(
                    3,
                    Some("followerCount"),
                    "followerCount must be a whole number written in digits, not \"'12\""
                )]),
            ]
        );
        // JSONL is not opened in spreadsheets, and the exporter leaves it as it is.
        assert_eq!(
            jsonl(r#"{"handle":"ana","platform":"x","displayName":"'=Ana"}"#),
            [Item::Row(Row {
                display_name: display_name("'=Ana"),
                ..row(1, "ana", Platform::X)
            })]
        );
    }

    #[test]
    fn rows_past_the_cap_end_the_file_and_blank_lines_do_not_count() {
        let input = "handle,platform\na,x\n\nb,x\n,\nc,x\nd,x\ne,x\n";
        let mut reader = read(input.as_bytes(), Format::Csv, 3);
        let items: Vec<Item> = reader.by_ref().collect();
        assert_eq!(
            items,
            [
                Item::Row(row(2, "a", Platform::X)),
                Item::Row(row(4, "b", Platform::X)),
                Item::Row(row(6, "c", Platform::X)),
                Item::Fault(FileFault {
                    line: 7,
                    column: None,
                    message: "the file has more than 3 rows".to_owned(),
                    code: InputErrorCode::TooMany,
                }),
            ]
        );
        assert_eq!(reader.next(), None);

        let input = "{\"handle\":\"a\",\"platform\":\"x\"}\n\n[]\n{}\n";
        assert_eq!(
            read(input.as_bytes(), Format::Jsonl, 2).collect::<Vec<_>>(),
            [
                Item::Row(row(1, "a", Platform::X)),
                Item::Refused(vec![error(
                    3,
                    None,
                    "the line must be a JSON object, not a list"
                )]),
                Item::Fault(FileFault {
                    line: 4,
                    column: None,
                    message: "the file has more than 2 rows".to_owned(),
                    code: InputErrorCode::TooMany,
                }),
            ]
        );
    }

    #[test]
    fn a_huge_record_is_refused_after_reading_little_more_than_the_limit() {
        let too_long = |what: &str, line: u64| {
            fault(
                line,
                None,
                &format!("the {what} starting on line {line} is longer than 65536 bytes"),
            )
        };
        let cases = [
            (
                &b"handle,platform\nana,x\n"[..],
                b'a',
                Format::Csv,
                vec![Item::Row(row(2, "ana", Platform::X)), too_long("record", 3)],
            ),
            (
                &b"handle,platform\nana,\"x"[..],
                b'\n',
                Format::Csv,
                vec![too_long("record", 2)],
            ),
            (
                &b"{\"handle\":\""[..],
                b'a',
                Format::Jsonl,
                vec![too_long("line", 1)],
            ),
        ];
        for (start, filler, format, expected) in cases {
            let (items, taken) = huge(start, filler, format);
            assert_eq!(items, expected, "{format:?}");
            assert!(
                taken < 2 * MAX_RECORD_BYTES,
                "{format:?}: read {taken} bytes"
            );
        }
    }

    #[test]
    fn jsonl_takes_lists_or_semicolons_numbers_or_digits_and_null_for_nothing() {
        let input = "\u{FEFF}{\"handle\":\"@ana\",\"platform\":\"instagram\",\"displayName\":\"Ana\",\
                     \"email\":null,\"followerCount\":12500,\"segments\":[\"Vip\",\" Summer \",\"\"]}\r\n\
                     \r\n\
                     {\"Handle\":\"bob\",\"PLATFORM\":\"YouTube\",\"follower_count\":\" 42 \",\
                     \"segments\":\"a; b;;\"}\n   \n\
                     {\"handle\":\"cy\",\"platform\":\"x\",\"niche\":\"Food\",\"segments\":null}";
        assert_eq!(
            jsonl(input),
            [
                Item::Row(Row {
                    display_name: display_name("Ana"),
                    follower_count: Some(12500),
                    segments: segments(&["Vip", "Summer"]),
                    ..row(1, "ana", Platform::Instagram)
                }),
                Item::Row(Row {
                    follower_count: Some(42),
                    segments: segments(&["a", "b"]),
                    ..row(3, "bob", Platform::Youtube)
                }),
                Item::Row(Row {
                    niche: Niche::parse(Some("Food"), &["niche"]).unwrap(),
                    ..row(5, "cy", Platform::X)
                }),
            ]
        );
    }

    #[test]
    fn jsonl_lines_that_are_not_objects_of_known_keys_are_refused_rows() {
        let lines = [
            r#"{"handle": "ana","#,
            "[1,2]",
            r#""x""#,
            "3",
            r#"{"handle":"ana","platform":"x","followers":5}"#,
            r#"{"handle":"ana","platform":"x","displayName":"A","display_name":"B"}"#,
            r#"{"followerCount":"12.5","handle":5,"niche":{"a":1},"platform":true,"segments":[1]}"#,
            r#"{"handle":"ana"}"#,
            r#"{"handle":null,"platform":"x"}"#,
            r#"{"handle":"a","platform":"x","followerCount":1e3,"segments":3}"#,
        ];
        let mut input = lines.join("\n").into_bytes();
        input.extend_from_slice(b"\n{\"handle\":\"\xFF\"}\n");
        let items: Vec<Item> = read(&input[..], Format::Jsonl, 100).collect();
        let refused = |errors: Vec<RowError>| Item::Refused(errors);
        assert_eq!(
            items,
            [
                refused(vec![error(
                    1,
                    None,
                    "the line is not valid JSON: EOF while parsing a value (at character 17)"
                )]),
                refused(vec![error(
                    2,
                    None,
                    "the line must be a JSON object, not a list"
                )]),
                refused(vec![error(
                    3,
                    None,
                    "the line must be a JSON object, not a string"
                )]),
                refused(vec![error(
                    4,
                    None,
                    "the line must be a JSON object, not a number"
                )]),
                refused(vec![error(
                    5,
                    Some("followers"),
                    &format!("unknown key \"followers\": the keys are {ALL_COLUMNS}")
                )]),
                refused(vec![error(
                    6,
                    Some("displayName"),
                    "displayName is given twice (as \"displayName\" and \"display_name\")"
                )]),
                refused(vec![
                    error(7, Some("handle"), "handle must be a string, not a number"),
                    error(
                        7,
                        Some("platform"),
                        "platform must be a string, not true or false"
                    ),
                    error(7, Some("niche"), "niche must be a string, not an object"),
                    error(
                        7,
                        Some("followerCount"),
                        "followerCount must be a whole number written in digits, not \"12.5\""
                    ),
                    error(7, Some("segments"), "segments must be a list of strings"),
                ]),
                refused(vec![error(8, Some("platform"), "platform is required")]),
                refused(vec![error(9, Some("handle"), "handle is required")]),
                refused(vec![
                    error(
                        10,
                        Some("followerCount"),
                        "followerCount must be a whole number, not 1000.0"
                    ),
                    error(
                        10,
                        Some("segments"),
                        "segments must be a list of names or a ;-separated string, not a number"
                    ),
                ]),
                refused(vec![error(11, None, "the line is not valid UTF-8")]),
            ]
        );
    }
}
