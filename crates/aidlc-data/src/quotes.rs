//! Detection of a CSV quoted field that is never closed. The CSV decoder reads such a field to
//! the end of the file as one long value, so without this check a file cut in the middle of a
//! quoted field would load with its last rows silently folded into one cell.

use std::io::Read;
use std::path::Path;

use crate::error::DataError;
use crate::reader::{FileFormat, column_names, detect_format};

/// Follows the quoting state of CSV bytes fed in order.
#[derive(Debug, Clone)]
pub struct QuoteScanner {
    in_quotes: bool,
    /// Record number (the header is 1) and field index (from 0) of the current position.
    line: usize,
    field: usize,
    /// Where the quote that is still open started.
    open: (usize, usize),
}

impl Default for QuoteScanner {
    fn default() -> Self {
        QuoteScanner::new()
    }
}

impl QuoteScanner {
    pub fn new() -> QuoteScanner {
        QuoteScanner {
            in_quotes: false,
            line: 1,
            field: 0,
            open: (1, 0),
        }
    }

    /// Feeds the next bytes of the file, following records and fields (slow; used to locate
    /// the quote once a file is known to have one open).
    pub fn feed(&mut self, bytes: &[u8]) {
        for &b in bytes {
            match b {
                b'"' => {
                    // A doubled quote inside a quoted field closes and reopens it, which
                    // leaves the state as it was; only the opening position matters.
                    self.in_quotes = !self.in_quotes;
                    if self.in_quotes {
                        self.open = (self.line, self.field);
                    }
                }
                b',' if !self.in_quotes => self.field += 1,
                b'\n' if !self.in_quotes => {
                    self.line += 1;
                    self.field = 0;
                }
                _ => {}
            }
        }
    }

    /// At the end of the file: the record (line) and field index of an unclosed quote.
    pub fn unclosed(&self) -> Option<(usize, usize)> {
        self.in_quotes.then_some(self.open)
    }
}

/// Counts quote characters: a CSV file has an unclosed quoted field exactly when the count is
/// odd (an escaped quote is doubled), so the hashing pass only needs this fast count and the
/// position is looked up afterwards with [`check_quotes`].
#[derive(Debug, Clone, Copy, Default)]
pub struct QuoteParity {
    quotes: u64,
}

impl QuoteParity {
    /// Adds the quotes of the next bytes (a plain count, which the compiler vectorises).
    pub fn feed(&mut self, bytes: &[u8]) {
        self.quotes += bytes.iter().filter(|&&b| b == b'"').count() as u64;
    }

    /// Whether a quoted field is still open at the end.
    pub fn is_open(&self) -> bool {
        self.quotes % 2 == 1
    }
}

/// The error for an unclosed quote found by a scanner over `path`.
pub fn unclosed_quote_error(path: &Path, line: usize, field: usize) -> DataError {
    let column = column_names(path)
        .ok()
        .and_then(|names| names.get(field).cloned());
    DataError::UnclosedQuote {
        path: path.to_path_buf(),
        line,
        column,
    }
}

/// Scans a CSV or gzip CSV file for an unclosed quote (a Parquet file passes).
pub fn check_quotes(path: &Path) -> Result<(), DataError> {
    let format = detect_format(path)?;
    let file = std::fs::File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut reader: Box<dyn Read> = match format {
        FileFormat::Parquet => return Ok(()),
        FileFormat::CsvGzip => Box::new(flate2::read::MultiGzDecoder::new(
            std::io::BufReader::with_capacity(1 << 20, file),
        )),
        FileFormat::Csv => Box::new(file),
    };
    let mut scanner = QuoteScanner::new();
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = match reader.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(DataError::io(path, e)),
        };
        scanner.feed(&buffer[..n]);
    }
    match scanner.unclosed() {
        Some((line, field)) => Err(unclosed_quote_error(path, line, field)),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_record_and_field_of_an_unclosed_quote() {
        let mut scanner = QuoteScanner::new();
        scanner.feed(b"a,b\n1,\"x\"\"y\"\n2,\"multi\nline\"\n3,\"open");
        assert_eq!(scanner.unclosed(), Some((4, 1)));
        let mut closed = QuoteScanner::new();
        closed.feed(b"a,b\n1,\"x,\ny\"\n");
        assert_eq!(closed.unclosed(), None);
    }
}
