//! Cutting the byte stream into records before anything parses them, so that no record is ever
//! held whole past [`MAX_RECORD_BYTES`]: the `csv` crate buffers a record however long it is,
//! and a 100 MB upload may be one line.
//!
//! A JSONL record is a line. A CSV record ends at a line break outside quotes; the quote states
//! here are those of the `csv` crate's parser with its default settings (a `"` opens a quoted
//! field only at the start of a field; inside one, `""` is a quote), so every record handed on is
//! exactly one record to it.

use std::io::{self, BufRead, BufReader, Read};

use super::items::{FileFault, MAX_RECORD_BYTES};
use crate::service::errors::InputErrorCode;

/// The UTF-8 byte order mark some exports start with.
const BOM: [u8; 3] = [0xEF, 0xBB, 0xBF];

/// Where the splitter is in a CSV record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quotes {
    /// At the start of a field, where a `"` opens a quoted one.
    FieldStart,
    /// In a field that is not quoted: a `"` is just a character.
    Unquoted,
    /// Inside a quoted field: a line break is part of the field.
    Quoted,
    /// Just after a `"` inside a quoted field: the field's end, or half of a `""`.
    QuoteInQuoted,
}

/// The records of a file, one at a time.
pub(super) struct Records<R> {
    input: BufReader<R>,
    /// Whether records are CSV (quoted line breaks do not end them) rather than lines.
    csv: bool,
    /// The current record's bytes, without its line break (nor the `\r` of a `\r\n`).
    record: Vec<u8>,
    /// The line the reader is on: 1 plus the line breaks read so far.
    line: u64,
    /// How many bytes of the byte order mark the file has started with so far; `None` once past
    /// the start of the file.
    bom_matched: Option<usize>,
}

impl<R: Read> Records<R> {
    pub(super) fn new(input: R, csv: bool) -> Self {
        Self {
            input: BufReader::with_capacity(8 * 1024, input),
            csv,
            record: Vec::new(),
            line: 1,
            bom_matched: Some(0),
        }
    }

    /// The bytes of the record [`Records::next_record`] returned last.
    pub(super) fn record(&self) -> &[u8] {
        &self.record
    }

    /// The line the reader has reached: where the file ended, after the last record.
    pub(super) fn line(&self) -> u64 {
        self.line
    }

    /// Reads the next record; returns the line it starts on, or `None` at the end of the file.
    /// A fault (a record too long, a quote never closed, a read that failed) ends the file: the
    /// caller must not ask again.
    pub(super) fn next_record(&mut self) -> Result<Option<u64>, FileFault> {
        self.record.clear();
        let start = self.line;
        let mut quotes = Quotes::FieldStart;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(fault(self.line, format!("the file could not be read: {e}"))),
            };
            if chunk.is_empty() {
                return self.end_of_file(start, quotes);
            }
            let mut used = 0;
            let mut ended = false;
            for &byte in chunk {
                used += 1;
                if let Some(matched) = self.bom_matched {
                    if byte == BOM[matched] {
                        self.bom_matched = (matched + 1 < BOM.len()).then_some(matched + 1);
                        continue;
                    }
                    // A start that only looked like a byte order mark is data after all.
                    self.bom_matched = None;
                    self.record.extend_from_slice(&BOM[..matched]);
                    quotes = if matched > 0 {
                        Quotes::Unquoted
                    } else {
                        quotes
                    };
                }
                if byte == b'\n' {
                    self.line += 1;
                }
                if byte == b'\n' && quotes != Quotes::Quoted {
                    ended = true;
                    break;
                }
                self.record.push(byte);
                if self.csv {
                    quotes = next_quotes(quotes, byte);
                }
                if self.record.len() > MAX_RECORD_BYTES {
                    return Err(too_long(self.csv, start));
                }
            }
            self.input.consume(used);
            if ended {
                if self.record.last() == Some(&b'\r') {
                    self.record.pop();
                }
                return Ok(Some(start));
            }
        }
    }

    fn end_of_file(&mut self, start: u64, quotes: Quotes) -> Result<Option<u64>, FileFault> {
        if let Some(matched) = self.bom_matched.take() {
            self.record.extend_from_slice(&BOM[..matched]);
        }
        if quotes == Quotes::Quoted {
            return Err(fault(
                start,
                format!("a quote opened in the record starting on line {start} is never closed"),
            ));
        }
        if self.record.is_empty() {
            return Ok(None);
        }
        if self.record.last() == Some(&b'\r') {
            self.record.pop();
        }
        Ok(Some(start))
    }
}

fn too_long(csv: bool, start: u64) -> FileFault {
    let what = if csv { "record" } else { "line" };
    fault(
        start,
        format!("the {what} starting on line {start} is longer than {MAX_RECORD_BYTES} bytes"),
    )
}

/// The quote state after `byte` (not a line break outside quotes, which ends the record).
fn next_quotes(quotes: Quotes, byte: u8) -> Quotes {
    match (quotes, byte) {
        (Quotes::FieldStart, b'"') => Quotes::Quoted,
        (Quotes::Quoted, b'"') => Quotes::QuoteInQuoted,
        (Quotes::Quoted, _) => Quotes::Quoted,
        (Quotes::QuoteInQuoted, b'"') => Quotes::Quoted,
        (_, b',') => Quotes::FieldStart,
        _ => Quotes::Unquoted,
    }
}

fn fault(line: u64, message: String) -> FileFault {
    FileFault {
        line,
        column: None,
        message,
        code: InputErrorCode::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every record of `input` as text with its line, then the fault or `None` that ended it.
    fn split(input: &[u8], csv: bool) -> (Vec<(u64, String)>, Option<FileFault>) {
        let mut records = Records::new(input, csv);
        let mut out = Vec::new();
        loop {
            match records.next_record() {
                Ok(Some(line)) => {
                    out.push((line, String::from_utf8_lossy(records.record()).into_owned()));
                }
                Ok(None) => return (out, None),
                Err(fault) => return (out, Some(fault)),
            }
        }
    }

    fn owned(records: &[(u64, &str)]) -> Vec<(u64, String)> {
        records.iter().map(|(l, r)| (*l, (*r).to_owned())).collect()
    }

    #[test]
    fn csv_records_end_at_line_breaks_outside_quotes() {
        let input = b"a,\"b\nc\",d\r\n\"x\"\"\ny\",z\n\nlast,\"\"\"\"";
        assert_eq!(
            split(input, true),
            (
                owned(&[
                    (1, "a,\"b\nc\",d"),
                    (3, "\"x\"\"\ny\",z"),
                    (5, ""),
                    (6, "last,\"\"\"\""),
                ]),
                None
            )
        );
    }

    #[test]
    fn a_quote_inside_an_unquoted_field_is_a_character() {
        let input = b"5\" screen,ok\nnext,row\n";
        assert_eq!(
            split(input, true),
            (owned(&[(1, "5\" screen,ok"), (2, "next,row")]), None)
        );
    }

    #[test]
    fn lines_ignore_quotes() {
        let input = b"{\"a\":\"\\\"\"}\r\n\"\n{}";
        assert_eq!(
            split(input, false),
            (
                owned(&[(1, "{\"a\":\"\\\"\"}"), (2, "\""), (3, "{}")]),
                None
            )
        );
    }

    #[test]
    fn the_byte_order_mark_is_skipped_before_quotes_are_read() {
        let input = b"\xEF\xBB\xBF\"a\nb\",c\n";
        assert_eq!(split(input, true), (owned(&[(1, "\"a\nb\",c")]), None));
        let only_like_it = b"\xEF\xBBx\n\xEF";
        assert_eq!(
            split(only_like_it, true),
            (
                vec![(1, "\u{FFFD}x".to_owned()), (2, "\u{FFFD}".to_owned())],
                None
            )
        );
        assert_eq!(split(b"\xEF\xBB", false).0.len(), 1);
        assert_eq!(split(b"\xEF\xBB\xBF", false), (vec![], None));
    }

    #[test]
    fn a_quote_never_closed_is_a_fault_at_its_record() {
        let input = b"h\nok\n\"open,\nmore\n";
        assert_eq!(
            split(input, true),
            (
                owned(&[(1, "h"), (2, "ok")]),
                Some(fault(
                    3,
                    "a quote opened in the record starting on line 3 is never closed".to_owned()
                ))
            )
        );
    }
}
