//! The `csv` crate's parser, fed one record at a time as `records` cut them. Building a parser
//! costs more than parsing a short record (its transition table is computed for every byte), so
//! one parser reads every record of a file; the records reach it one by one, so that no record
//! is ever buffered whole before its length was checked.

use std::io::{self, Read};

use csv::{ByteRecord, ReaderBuilder, Terminator};

/// The parser's input: the current record and the line break that ends it for the parser.
#[derive(Default)]
struct Feed {
    bytes: Vec<u8>,
    at: usize,
    /// Whether the parser asked for more than the record: it then saw the end of its input.
    ran_out: bool,
}

impl Read for Feed {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let rest = &self.bytes[self.at..];
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        self.ran_out |= n == 0 && !buf.is_empty();
        Ok(n)
    }
}

/// Parses CSV records one at a time.
pub(super) struct CsvParser {
    csv: csv::Reader<Feed>,
    /// Bytes fed so far, to check that the parser stopped at the end of each record.
    fed: u64,
}

/// Whether a record parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Parsed {
    /// The record's fields are in the [`ByteRecord`].
    Fields,
    /// A blank line: no record.
    Blank,
    /// The parser did not see exactly one record: never for a record `records` cut.
    Unreadable,
}

impl CsvParser {
    pub(super) fn new() -> Self {
        Self {
            // `\r` is data: the `\r` of a `\r\n` was taken off with the line break. Fields are
            // counted by the reader, against the header.
            csv: ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .terminator(Terminator::Any(b'\n'))
                .from_reader(Feed::default()),
            fed: 0,
        }
    }

    /// Parses `record` (one CSV record without its line break) into `fields`.
    pub(super) fn parse(&mut self, record: &[u8], fields: &mut ByteRecord) -> Parsed {
        // Given a blank line, the parser would read on for a record, find the end of its input
        // and stop for good.
        if record.is_empty() {
            return Parsed::Blank;
        }
        let feed = self.csv.get_mut();
        feed.bytes.clear();
        feed.bytes.extend_from_slice(record);
        feed.bytes.push(b'\n');
        feed.at = 0;
        self.fed += feed.bytes.len() as u64;
        let parsed = self.csv.read_byte_record(fields);
        // The record was one CSV record to the parser when it ended exactly at the line break
        // fed after it, without looking further.
        let whole = self.csv.position().byte() == self.fed && !self.csv.get_ref().ran_out;
        match parsed {
            Ok(true) if whole => Parsed::Fields,
            _ => {
                // A parser that stopped elsewhere is out of step with the records (or has seen
                // the end of its input, after which it reads nothing).
                *self = Self::new();
                Parsed::Unreadable
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_parser_reads_record_after_record() {
        let mut parser = CsvParser::new();
        let mut fields = ByteRecord::new();
        let mut read = |record: &[u8]| {
            let parsed = parser.parse(record, &mut fields);
            let cells: Vec<String> = fields
                .iter()
                .map(|f| String::from_utf8_lossy(f).into_owned())
                .collect();
            (
                parsed,
                if parsed == Parsed::Fields {
                    cells
                } else {
                    vec![]
                },
            )
        };
        let cells = |cells: &[&str]| cells.iter().map(|c| (*c).to_owned()).collect::<Vec<_>>();
        assert_eq!(read(b"a,b"), (Parsed::Fields, cells(&["a", "b"])));
        assert_eq!(read(b""), (Parsed::Blank, vec![]));
        assert_eq!(
            read(b"\"x,\ny\",\"q\"\"\",\r"),
            (Parsed::Fields, cells(&["x,\ny", "q\"", "\r"]))
        );
        assert_eq!(read(b","), (Parsed::Fields, cells(&["", ""])));
        // Never cut so by `records`: a record with a line break outside quotes, or a quote
        // left open.
        assert_eq!(read(b"a\nb"), (Parsed::Unreadable, vec![]));
        assert_eq!(read(b"\"open"), (Parsed::Unreadable, vec![]));
        assert_eq!(read(b"c,d"), (Parsed::Fields, cells(&["c", "d"])));
    }
}
