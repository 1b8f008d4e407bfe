//! Reading CSV (plain or gzip) and Parquet files into typed columns, one record batch at a time.
//!
//! Both formats go through arrow record batches of bounded size: CSV fields arrive as text and are
//! parsed here (so the number and missing-value rules of [`crate::column`] apply), Parquet columns
//! arrive typed and are converted.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray};
use arrow::compute::cast;
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use arrow::error::ArrowError;
use arrow::record_batch::RecordBatch;
use flate2::read::MultiGzDecoder;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use serde::{Deserialize, Serialize};

use crate::column::{Column, ColumnKind, ColumnSchema, parse_label, parse_number};
use crate::error::{DataError, FieldCount, Position};

/// Rows per record batch unless the caller asks otherwise: large enough to amortise the per-batch
/// work, small enough that a batch of wide text rows stays a few megabytes.
pub const DEFAULT_BATCH_SIZE: usize = 65_536;

/// Buffer size for reading text files; large reads keep the gzip decoder and the CSV parser busy.
const READ_BUFFER_BYTES: usize = 1 << 20;

/// The on-disk format of a tabular file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileFormat {
    Csv,
    CsvGzip,
    Parquet,
}

/// What to read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadOptions {
    /// The columns to read, in this order; `None` reads every column in file order.
    pub columns: Option<Vec<String>>,
    /// Kinds imposed by the caller; other columns are inferred (CSV: numeric when every non-empty
    /// value is a number; Parquet: numeric for number and boolean types).
    pub kinds: BTreeMap<String, ColumnKind>,
    /// Data rows to keep, counted from 0 after the header; `None` keeps all. An end past the last
    /// row is cut to the file's length.
    pub row_range: Option<Range<usize>>,
    /// Rows per record batch.
    pub batch_size: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            columns: None,
            kinds: BTreeMap::new(),
            row_range: None,
            batch_size: DEFAULT_BATCH_SIZE,
        }
    }
}

impl ReadOptions {
    /// Options that read the named columns and infer their kinds.
    pub fn columns<S: AsRef<str>>(names: &[S]) -> ReadOptions {
        ReadOptions {
            columns: Some(names.iter().map(|n| n.as_ref().to_owned()).collect()),
            ..ReadOptions::default()
        }
    }
}

/// The columns read from one file.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub path: PathBuf,
    pub format: FileFormat,
    /// Name and kind of each column, in the order of `columns`.
    pub schema: Vec<ColumnSchema>,
    pub columns: Vec<Column>,
    pub n_rows: usize,
}

impl Table {
    /// The column with this name, if it was read.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.schema
            .iter()
            .position(|c| c.name == name)
            .map(|i| &self.columns[i])
    }

    /// The names of the columns read, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.schema.iter().map(|c| c.name.as_str())
    }
}

/// One record batch converted to typed columns.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// Index (from 0, after the header) of the batch's first data row in the file.
    pub first_row: usize,
    pub n_rows: usize,
    pub columns: Vec<Column>,
}

/// Detects the format from the first bytes (gzip and Parquet magic numbers) and, failing that,
/// from the extension (`.gz`, `.parquet`, `.pq`); anything else is read as CSV.
pub fn detect_format(path: &Path) -> Result<FileFormat, DataError> {
    let mut file = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut magic = [0u8; 4];
    let mut filled = 0;
    while filled < magic.len() {
        match file.read(&mut magic[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(DataError::io(path, e)),
        }
    }
    if filled >= 2 && magic[..2] == [0x1f, 0x8b] {
        return Ok(FileFormat::CsvGzip);
    }
    if filled == 4 && &magic == b"PAR1" {
        return Ok(FileFormat::Parquet);
    }
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    Ok(match extension.as_deref() {
        Some("gz") => FileFormat::CsvGzip,
        Some("parquet") | Some("pq") => FileFormat::Parquet,
        _ => FileFormat::Csv,
    })
}

/// The names of a file's columns in file order (the CSV header or the Parquet schema).
pub fn column_names(path: &Path) -> Result<Vec<String>, DataError> {
    Ok(OpenFile::open(path)?.column_names)
}

/// The name and kind of each selected column. Caller-imposed kinds win; for CSV the remaining
/// columns are decided by reading the whole file (a column is numeric when every non-empty value
/// is a number), for Parquet by the stored types.
pub fn infer_schema(path: &Path, options: &ReadOptions) -> Result<Vec<ColumnSchema>, DataError> {
    let file = OpenFile::open(path)?;
    let indices = file.resolve(options.columns.as_deref())?;
    let mut schema: Vec<ColumnSchema> = indices
        .iter()
        .map(|&i| ColumnSchema {
            name: file.column_names[i].clone(),
            kind: options
                .kinds
                .get(&file.column_names[i])
                .copied()
                .unwrap_or(file.default_kind(i)),
        })
        .collect();
    if file.format == FileFormat::Parquet {
        return Ok(schema);
    }
    // Only the CSV columns without an imposed kind need a look at the data.
    let undecided: Vec<usize> = (0..indices.len())
        .filter(|&j| !options.kinds.contains_key(&schema[j].name))
        .collect();
    if undecided.is_empty() {
        return Ok(schema);
    }
    let mut still_numeric: Vec<usize> = undecided.clone();
    let probe: Vec<usize> = undecided.iter().map(|&j| indices[j]).collect();
    let mut raw = RawBatches::open(file, &probe, options.row_range.clone(), options.batch_size)?;
    while let Some((_, batch)) = raw.next_batch()? {
        still_numeric.retain(|&j| {
            let position = undecided
                .iter()
                .position(|&u| u == j)
                .expect("probed column");
            text_values_are_numbers(batch.column(raw.positions[position]))
        });
        if still_numeric.is_empty() {
            break;
        }
    }
    for j in undecided {
        schema[j].kind = if still_numeric.contains(&j) {
            ColumnKind::Numeric
        } else {
            ColumnKind::Categorical
        };
    }
    Ok(schema)
}

/// Reads the selected columns of a CSV (plain or gzip) or Parquet file into typed columns.
///
/// CSV kinds are inferred in the same pass: a column starts out numeric and turns categorical at
/// its first non-number; if that happens after the first batch, the column alone is read again
/// as text, so no value is lost and the common all-numeric file is read once.
pub fn read_table(path: &Path, options: &ReadOptions) -> Result<Table, DataError> {
    let file = OpenFile::open(path)?;
    let format = file.format;
    let indices = file.resolve(options.columns.as_deref())?;
    let capacity = file.row_count_hint(options.row_range.as_ref());

    struct Plan {
        name: String,
        file_index: usize,
        kind: ColumnKind,
        /// Whether the kind is settled (imposed, typed by Parquet, or demoted to categorical).
        settled: bool,
        values: Column,
        read_again: bool,
    }
    let mut plans: Vec<Plan> = indices
        .iter()
        .map(|&i| {
            let name = file.column_names[i].clone();
            let imposed = options.kinds.get(&name).copied();
            let kind = imposed.unwrap_or(file.default_kind(i));
            let mut values = Column::empty(kind);
            if let Column::Numeric(v) = &mut values {
                v.reserve(capacity);
            }
            Plan {
                name,
                file_index: i,
                kind,
                settled: imposed.is_some() || format == FileFormat::Parquet,
                values,
                read_again: false,
            }
        })
        .collect();

    let mut raw = RawBatches::open(
        file,
        &indices,
        options.row_range.clone(),
        options.batch_size,
    )?;
    let mut n_rows = 0usize;
    while let Some((first_row, batch)) = raw.next_batch()? {
        for (j, plan) in plans.iter_mut().enumerate() {
            if plan.read_again {
                continue;
            }
            let array = batch.column(raw.positions[j]);
            let place = Place {
                path,
                format,
                column: &plan.name,
                first_row,
            };
            match convert(array, plan.kind, &place) {
                Ok(values) => plan.values.append(values),
                Err(DataError::NotNumeric { .. }) if !plan.settled => {
                    plan.kind = ColumnKind::Categorical;
                    plan.settled = true;
                    if n_rows == 0 {
                        plan.values = convert(array, ColumnKind::Categorical, &place)?;
                    } else {
                        plan.values = Column::empty(ColumnKind::Categorical);
                        plan.read_again = true;
                    }
                }
                Err(error) => return Err(error),
            }
        }
        n_rows += batch.num_rows();
    }

    let again: Vec<usize> = (0..plans.len()).filter(|&j| plans[j].read_again).collect();
    if !again.is_empty() {
        let file = OpenFile::open(path)?;
        let file_indices: Vec<usize> = again.iter().map(|&j| plans[j].file_index).collect();
        let mut raw = RawBatches::open(
            file,
            &file_indices,
            options.row_range.clone(),
            options.batch_size,
        )?;
        while let Some((first_row, batch)) = raw.next_batch()? {
            for (k, &j) in again.iter().enumerate() {
                let place = Place {
                    path,
                    format,
                    column: &plans[j].name,
                    first_row,
                };
                let values = convert(
                    batch.column(raw.positions[k]),
                    ColumnKind::Categorical,
                    &place,
                )?;
                plans[j].values.append(values);
            }
        }
    }

    let schema = plans
        .iter()
        .map(|p| ColumnSchema {
            name: p.name.clone(),
            kind: p.kind,
        })
        .collect();
    let columns = plans.into_iter().map(|p| p.values).collect();
    Ok(Table {
        path: path.to_path_buf(),
        format,
        schema,
        columns,
        n_rows,
    })
}

/// Streams typed record batches of a file with a fixed schema, so memory stays bounded by the
/// batch size. Columns without an imposed kind are inferred first ([`infer_schema`]), which for
/// CSV costs one extra pass over the file.
pub struct BatchReader {
    raw: RawBatches,
    schema: Vec<ColumnSchema>,
}

impl BatchReader {
    pub fn open(path: &Path, options: &ReadOptions) -> Result<BatchReader, DataError> {
        let schema = infer_schema(path, options)?;
        let file = OpenFile::open(path)?;
        let names: Vec<String> = schema.iter().map(|c| c.name.clone()).collect();
        let indices = file.resolve(Some(&names))?;
        let raw = RawBatches::open(
            file,
            &indices,
            options.row_range.clone(),
            options.batch_size,
        )?;
        Ok(BatchReader { raw, schema })
    }

    /// Name and kind of each column in the batches.
    pub fn schema(&self) -> &[ColumnSchema] {
        &self.schema
    }

    fn next_typed(&mut self) -> Result<Option<Batch>, DataError> {
        let Some((first_row, batch)) = self.raw.next_batch()? else {
            return Ok(None);
        };
        let mut columns = Vec::with_capacity(self.schema.len());
        for (j, column) in self.schema.iter().enumerate() {
            let place = Place {
                path: &self.raw.path,
                format: self.raw.format,
                column: &column.name,
                first_row,
            };
            columns.push(convert(
                batch.column(self.raw.positions[j]),
                column.kind,
                &place,
            )?);
        }
        Ok(Some(Batch {
            first_row,
            n_rows: batch.num_rows(),
            columns,
        }))
    }
}

impl Iterator for BatchReader {
    type Item = Result<Batch, DataError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.raw.finished {
            return None;
        }
        let result = self.next_typed();
        if !matches!(result, Ok(Some(_))) {
            // Stop after the end or after the first error: a CSV decoder cannot resume mid-file.
            self.raw.finished = true;
        }
        result.transpose()
    }
}

/// A file whose format is known and whose column names have been read.
struct OpenFile {
    path: PathBuf,
    format: FileFormat,
    column_names: Vec<String>,
    kind: OpenKind,
}

enum OpenKind {
    Csv,
    Parquet(Box<ParquetRecordBatchReaderBuilder<File>>),
}

impl OpenFile {
    fn open(path: &Path) -> Result<OpenFile, DataError> {
        let format = detect_format(path)?;
        match format {
            FileFormat::Csv | FileFormat::CsvGzip => {
                let reader = open_text(path, format)?;
                let (schema, _) = arrow::csv::reader::Format::default()
                    .with_header(true)
                    .infer_schema(reader, Some(0))
                    .map_err(|e| csv_error(path, &[], e))?;
                let column_names: Vec<String> =
                    schema.fields().iter().map(|f| f.name().clone()).collect();
                if column_names.is_empty() || column_names.iter().all(|n| n.trim().is_empty()) {
                    return Err(DataError::NoHeader {
                        path: path.to_path_buf(),
                    });
                }
                Ok(OpenFile {
                    path: path.to_path_buf(),
                    format,
                    column_names,
                    kind: OpenKind::Csv,
                })
            }
            FileFormat::Parquet => {
                let file = File::open(path).map_err(|e| DataError::io(path, e))?;
                let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| {
                    DataError::Parquet {
                        path: path.to_path_buf(),
                        message: e.to_string(),
                    }
                })?;
                let column_names = builder
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                Ok(OpenFile {
                    path: path.to_path_buf(),
                    format,
                    column_names,
                    kind: OpenKind::Parquet(Box::new(builder)),
                })
            }
        }
    }

    /// File indices of the requested columns, in request order.
    fn resolve(&self, requested: Option<&[String]>) -> Result<Vec<usize>, DataError> {
        let lookup = |name: &str| -> Result<usize, DataError> {
            let mut matches = self
                .column_names
                .iter()
                .enumerate()
                .filter(|(_, n)| n.as_str() == name);
            let first = matches
                .next()
                .map(|(i, _)| i)
                .ok_or_else(|| DataError::UnknownColumn {
                    path: self.path.clone(),
                    column: name.to_owned(),
                    available: self.column_names.clone(),
                })?;
            if matches.next().is_some() {
                return Err(DataError::DuplicateColumn {
                    path: self.path.clone(),
                    column: name.to_owned(),
                });
            }
            Ok(first)
        };
        let indices: Vec<usize> = match requested {
            Some(names) => names.iter().map(|n| lookup(n)).collect::<Result<_, _>>()?,
            None => self
                .column_names
                .iter()
                .map(|n| lookup(n))
                .collect::<Result<_, _>>()?,
        };
        for (k, &i) in indices.iter().enumerate() {
            if indices[..k].contains(&i) {
                return Err(DataError::DuplicateColumn {
                    path: self.path.clone(),
                    column: self.column_names[i].clone(),
                });
            }
        }
        Ok(indices)
    }

    /// The kind a column takes when the caller imposes none, before looking at CSV values.
    fn default_kind(&self, index: usize) -> ColumnKind {
        match &self.kind {
            OpenKind::Csv => ColumnKind::Numeric,
            OpenKind::Parquet(builder) => kind_of_type(builder.schema().field(index).data_type()),
        }
    }

    /// How many rows a read will return, when the file says so (Parquet metadata); 0 otherwise.
    fn row_count_hint(&self, range: Option<&Range<usize>>) -> usize {
        match &self.kind {
            OpenKind::Csv => 0,
            OpenKind::Parquet(builder) => {
                let total =
                    usize::try_from(builder.metadata().file_metadata().num_rows()).unwrap_or(0);
                match range {
                    Some(r) => r.end.min(total).saturating_sub(r.start),
                    None => total,
                }
            }
        }
    }
}

/// The default kind of a Parquet column of this arrow type.
fn kind_of_type(data_type: &DataType) -> ColumnKind {
    if data_type.is_numeric() || matches!(data_type, DataType::Boolean | DataType::Null) {
        ColumnKind::Numeric
    } else {
        ColumnKind::Categorical
    }
}

fn open_text(path: &Path, format: FileFormat) -> Result<Box<dyn BufRead + Send>, DataError> {
    let file = File::open(path).map_err(|e| DataError::io(path, e))?;
    Ok(match format {
        FileFormat::CsvGzip => Box::new(BufReader::with_capacity(
            READ_BUFFER_BYTES,
            MultiGzDecoder::new(BufReader::with_capacity(READ_BUFFER_BYTES, file)),
        )),
        _ => Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, file)),
    })
}

/// Where record batches come from; both readers are boxed since they differ much in size.
enum Source {
    Csv(Box<arrow::csv::reader::BufReader<Box<dyn BufRead + Send>>>),
    Parquet(Box<ParquetRecordBatchReader>),
}

/// Untyped record batches of the selected columns.
struct RawBatches {
    path: PathBuf,
    format: FileFormat,
    column_names: Vec<String>,
    /// For each selected column (in selection order), its position in the record batches.
    positions: Vec<usize>,
    source: Source,
    next_row: usize,
    finished: bool,
}

impl RawBatches {
    fn open(
        file: OpenFile,
        indices: &[usize],
        range: Option<Range<usize>>,
        batch_size: usize,
    ) -> Result<RawBatches, DataError> {
        let batch_size = batch_size.max(1);
        let OpenFile {
            path,
            format,
            column_names,
            kind,
        } = file;
        let start = range.as_ref().map_or(0, |r| r.start);
        let (source, positions) = match kind {
            OpenKind::Csv => {
                // Every CSV field is read as text; the conversion to numbers happens here, where the
                // file, line and column of a bad value are known.
                let fields: Vec<Field> = column_names
                    .iter()
                    .map(|n| Field::new(n, DataType::Utf8, true))
                    .collect();
                let mut builder = arrow::csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
                    .with_header(true)
                    .with_header_validation(false)
                    .with_batch_size(batch_size)
                    .with_projection(indices.to_vec());
                if let Some(r) = &range {
                    // arrow-csv offsets the bounds by the header line, so an open-ended range
                    // (`usize::MAX`) is capped well below overflow.
                    let end = r.end.min(usize::MAX / 2).max(r.start);
                    builder = builder.with_bounds(r.start, end);
                }
                let reader = builder
                    .build_buffered(open_text(&path, format)?)
                    .map_err(|e| csv_error(&path, &column_names, e))?;
                // The CSV projection keeps the requested order.
                (Source::Csv(Box::new(reader)), (0..indices.len()).collect())
            }
            OpenKind::Parquet(builder) => {
                let mask = ProjectionMask::roots(builder.parquet_schema(), indices.iter().copied());
                let mut builder = builder.with_batch_size(batch_size).with_projection(mask);
                if let Some(r) = &range {
                    builder = builder
                        .with_offset(r.start)
                        .with_limit(r.end.saturating_sub(r.start));
                }
                let reader = builder.build().map_err(|e| DataError::Parquet {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
                // A Parquet projection yields columns in file order.
                let positions = indices
                    .iter()
                    .map(|&i| indices.iter().filter(|&&other| other < i).count())
                    .collect();
                (Source::Parquet(Box::new(reader)), positions)
            }
        };
        Ok(RawBatches {
            path,
            format,
            column_names,
            positions,
            source,
            next_row: start,
            finished: false,
        })
    }

    /// The next record batch and the index of its first data row.
    fn next_batch(&mut self) -> Result<Option<(usize, RecordBatch)>, DataError> {
        let next = match &mut self.source {
            Source::Csv(reader) => reader
                .next()
                .transpose()
                .map_err(|e| csv_error(&self.path, &self.column_names, e))?,
            Source::Parquet(reader) => {
                reader.next().transpose().map_err(|e| DataError::Parquet {
                    path: self.path.clone(),
                    message: e.to_string(),
                })?
            }
        };
        Ok(next.map(|batch| {
            let first_row = self.next_row;
            self.next_row += batch.num_rows();
            (first_row, batch)
        }))
    }
}

/// Turns an arrow CSV error into one that names the line and, where known, the column.
fn csv_error(path: &Path, column_names: &[String], error: ArrowError) -> DataError {
    let message = match error {
        ArrowError::CsvError(message) => message,
        ArrowError::IoError(_, source) => return DataError::io(path, source),
        other => other.to_string(),
    };
    let path_buf = path.to_path_buf();
    if let Some(rest) = message.strip_prefix("incorrect number of fields for line ") {
        // "<line>, expected <n> got <m>" or "... got more than <m>".
        let line = leading_number(rest);
        let expected = rest.split("expected ").nth(1).and_then(leading_number);
        let found = match rest.split(" got ").nth(1) {
            Some(tail) if tail.starts_with("more than ") => {
                leading_number(&tail["more than ".len()..]).map(FieldCount::MoreThan)
            }
            Some(tail) => leading_number(tail).map(FieldCount::Exactly),
            None => None,
        };
        if let (Some(line), Some(expected), Some(found)) = (line, expected, found) {
            return DataError::RaggedRow {
                path: path_buf,
                line,
                expected,
                found,
            };
        }
    }
    if let Some(rest) = message.strip_prefix("Encountered invalid UTF-8 data for line ") {
        // "<line> and field <field>", the field counted from 1.
        let line = leading_number(rest);
        let field = rest.split("field ").nth(1).and_then(leading_number);
        if let Some(line) = line {
            let column = field
                .and_then(|f| column_names.get(f.wrapping_sub(1)))
                .cloned();
            return DataError::InvalidUtf8 {
                path: path_buf,
                line,
                column,
            };
        }
    }
    if message.starts_with("Encountered UTF-8 error") {
        // The header is read by the csv crate, whose positions count lines from 1.
        let line = message
            .rsplit("at line ")
            .next()
            .and_then(leading_number)
            .unwrap_or(1);
        return DataError::InvalidUtf8 {
            path: path_buf,
            line,
            column: None,
        };
    }
    DataError::Csv {
        path: path_buf,
        message,
    }
}

fn leading_number(text: &str) -> Option<usize> {
    let digits: &str = &text[..text
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(text.len())];
    digits.parse().ok()
}

/// Where a batch of one column comes from, for error messages.
struct Place<'a> {
    path: &'a Path,
    format: FileFormat,
    column: &'a str,
    first_row: usize,
}

impl Place<'_> {
    fn position(&self, index_in_batch: usize) -> Position {
        let row = self.first_row + index_in_batch;
        match self.format {
            // The header is line 1, so data row 0 is line 2.
            FileFormat::Csv | FileFormat::CsvGzip => Position::Line(row + 2),
            FileFormat::Parquet => Position::Row(row + 1),
        }
    }

    fn is_csv(&self) -> bool {
        self.format != FileFormat::Parquet
    }
}

/// Whether every value of a text array reads as a number (or a missing value).
fn text_values_are_numbers(array: &ArrayRef) -> bool {
    let mut all = true;
    for_each_text(array, |_, text| {
        if let Some(text) = text
            && parse_number(text).is_none()
        {
            all = false;
            return false;
        }
        true
    });
    all
}

/// Calls `visit(index, value)` on each value of a string array until it returns false.
fn for_each_text(array: &ArrayRef, mut visit: impl FnMut(usize, Option<&str>) -> bool) {
    match array.data_type() {
        DataType::Utf8 => {
            for (i, value) in array.as_string::<i32>().iter().enumerate() {
                if !visit(i, value) {
                    return;
                }
            }
        }
        DataType::LargeUtf8 => {
            for (i, value) in array.as_string::<i64>().iter().enumerate() {
                if !visit(i, value) {
                    return;
                }
            }
        }
        DataType::Utf8View => {
            for (i, value) in array.as_string_view().iter().enumerate() {
                if !visit(i, value) {
                    return;
                }
            }
        }
        other => unreachable!("for_each_text called on {other}"),
    }
}

fn is_text(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View
    )
}

/// Converts one record-batch column to a typed column.
fn convert(array: &ArrayRef, kind: ColumnKind, place: &Place<'_>) -> Result<Column, DataError> {
    let data_type = array.data_type();
    let as_text = |array: &ArrayRef| -> Result<ArrayRef, DataError> {
        cast(array, &DataType::Utf8).map_err(|e| DataError::NotNumericType {
            path: place.path.to_path_buf(),
            column: place.column.to_owned(),
            data_type: format!("{data_type} ({e})"),
        })
    };
    match kind {
        ColumnKind::Numeric => {
            if is_text(data_type)
                || matches!(data_type, DataType::Dictionary(_, value) if is_text(value))
            {
                let text = if is_text(data_type) {
                    array.clone()
                } else {
                    as_text(array)?
                };
                let mut values = Vec::with_capacity(text.len());
                let mut bad: Option<(usize, String)> = None;
                for_each_text(&text, |i, value| match value {
                    None => {
                        values.push(f64::NAN);
                        true
                    }
                    Some(value) => match parse_number(value) {
                        Some(number) => {
                            values.push(number);
                            true
                        }
                        None => {
                            bad = Some((i, value.to_owned()));
                            false
                        }
                    },
                });
                if let Some((i, value)) = bad {
                    return Err(DataError::NotNumeric {
                        path: place.path.to_path_buf(),
                        position: place.position(i),
                        column: place.column.to_owned(),
                        value,
                    });
                }
                return Ok(Column::Numeric(values));
            }
            if kind_of_type(data_type) != ColumnKind::Numeric {
                return Err(DataError::NotNumericType {
                    path: place.path.to_path_buf(),
                    column: place.column.to_owned(),
                    data_type: data_type.to_string(),
                });
            }
            let floats = if *data_type == DataType::Float64 {
                array.clone()
            } else {
                cast(array, &DataType::Float64).map_err(|e| DataError::NotNumericType {
                    path: place.path.to_path_buf(),
                    column: place.column.to_owned(),
                    data_type: format!("{data_type} ({e})"),
                })?
            };
            let floats = floats.as_primitive::<Float64Type>();
            let values = if floats.null_count() == 0 {
                floats.values().to_vec()
            } else {
                floats.iter().map(|v| v.unwrap_or(f64::NAN)).collect()
            };
            Ok(Column::Numeric(values))
        }
        ColumnKind::Categorical if matches!(data_type, DataType::Float32 | DataType::Float64) => {
            // Floats as labels are written the shortest way (`1`, not arrow's `1.0`), so a
            // numeric label stored as float64 names the same class as the text it was read from.
            let floats =
                cast(array, &DataType::Float64).map_err(|e| DataError::NotNumericType {
                    path: place.path.to_path_buf(),
                    column: place.column.to_owned(),
                    data_type: format!("{data_type} ({e})"),
                })?;
            let floats = floats.as_primitive::<Float64Type>();
            Ok(Column::Categorical(
                floats
                    .iter()
                    .map(|v| v.filter(|x| !x.is_nan()).map(|x| format!("{x}")))
                    .collect(),
            ))
        }
        ColumnKind::Categorical => {
            let text = if is_text(data_type) {
                array.clone()
            } else {
                as_text(array)?
            };
            let mut labels = Vec::with_capacity(text.len());
            // CSV text follows the missing-token rules; Parquet strings are kept as stored,
            // because a Parquet writer marks missing values with real nulls.
            let csv = place.is_csv();
            for_each_text(&text, |_, value| {
                labels.push(match value {
                    None => None,
                    Some(value) if csv => parse_label(value),
                    Some(value) => Some(value.to_owned()),
                });
                true
            });
            Ok(Column::Categorical(labels))
        }
    }
}
