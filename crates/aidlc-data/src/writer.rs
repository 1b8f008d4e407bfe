//! Writing typed columns back to a file: CSV (gzip when the name ends in `.gz`) or Parquet,
//! chosen by the file name, so joined training sets can be read back with `read_table`.

use crate::column::{Column, ColumnSchema};
use crate::error::DataError;
use crate::reader::FileFormat;
use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::sync::Arc;

/// Writes the columns to `path` (CSV, gzip CSV or Parquet, by the file name). Missing values are
/// written as empty CSV fields or Parquet nulls. The file is written to a temporary name first
/// and renamed, so a failed write never leaves half a file under the final name.
pub fn write_table(
    path: &Path,
    schema: &[ColumnSchema],
    columns: &[Column],
) -> Result<(), DataError> {
    let format = format_for_name(path);
    let tmp = path.with_extension(format!(
        "{}.tmp",
        path.extension().and_then(|e| e.to_str()).unwrap_or("out")
    ));
    let io = |e: std::io::Error| DataError::io(path, e);
    let file = std::fs::File::create(&tmp).map_err(io)?;
    let written = match format {
        FileFormat::Csv => {
            let mut out = BufWriter::new(file);
            write_csv(&mut out, schema, columns)
                .and_then(|()| out.into_inner().map_err(|e| e.into_error()))
                .and_then(|f| f.sync_all())
                .map_err(io)
        }
        FileFormat::CsvGzip => {
            let mut out =
                flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::default());
            write_csv(&mut out, schema, columns)
                .and_then(|()| out.finish())
                .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
                .and_then(|f| f.sync_all())
                .map_err(io)
        }
        FileFormat::Parquet => write_parquet(path, file, schema, columns),
    };
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::rename(&tmp, path).map_err(io)
}

/// The format a new file gets from its name: `.parquet`/`.pq` Parquet, `.gz` gzip CSV, else CSV.
pub fn format_for_name(path: &Path) -> FileFormat {
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    match extension.as_deref() {
        Some("parquet") | Some("pq") => FileFormat::Parquet,
        Some("gz") => FileFormat::CsvGzip,
        _ => FileFormat::Csv,
    }
}

fn csv_field(out: &mut impl Write, text: &str) -> std::io::Result<()> {
    if text.contains([',', '"', '\n', '\r']) {
        write!(out, "\"{}\"", text.replace('"', "\"\""))
    } else {
        out.write_all(text.as_bytes())
    }
}

fn write_csv(
    out: &mut impl Write,
    schema: &[ColumnSchema],
    columns: &[Column],
) -> std::io::Result<()> {
    write_csv_header(out, schema)?;
    write_csv_rows(out, columns)
}

pub(crate) fn write_csv_header(
    out: &mut impl Write,
    schema: &[ColumnSchema],
) -> std::io::Result<()> {
    for (i, c) in schema.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        csv_field(out, &c.name)?;
    }
    out.write_all(b"\n")
}

pub(crate) fn write_csv_rows(out: &mut impl Write, columns: &[Column]) -> std::io::Result<()> {
    let n_rows = columns.first().map_or(0, Column::len);
    for row in 0..n_rows {
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                out.write_all(b",")?;
            }
            match column {
                Column::Numeric(v) if v[row].is_nan() => {}
                Column::Numeric(v) => write!(out, "{}", v[row])?,
                Column::Categorical(v) => {
                    if let Some(text) = &v[row] {
                        csv_field(out, text)?;
                    }
                }
            }
        }
        out.write_all(b"\n")?;
    }
    Ok(())
}

fn write_parquet(
    path: &Path,
    file: std::fs::File,
    schema: &[ColumnSchema],
    columns: &[Column],
) -> Result<(), DataError> {
    let err = |e: &dyn std::fmt::Display| DataError::Parquet {
        path: path.to_path_buf(),
        message: e.to_string(),
    };
    let fields: Vec<Field> = schema
        .iter()
        .zip(columns)
        .map(|(c, column)| {
            let kind = match column {
                Column::Numeric(_) => DataType::Float64,
                Column::Categorical(_) => DataType::Utf8,
            };
            Field::new(&c.name, kind, true)
        })
        .collect();
    let arrays: Vec<ArrayRef> = columns
        .iter()
        .map(|column| -> ArrayRef {
            match column {
                Column::Numeric(v) => Arc::new(Float64Array::from_iter(
                    v.iter().map(|x| (!x.is_nan()).then_some(*x)),
                )),
                Column::Categorical(v) => Arc::new(StringArray::from_iter(v.iter())),
            }
        })
        .collect();
    let arrow_schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(arrow_schema.clone(), arrays).map_err(|e| err(&e))?;
    let mut writer = ArrowWriter::try_new(file, arrow_schema, None).map_err(|e| err(&e))?;
    writer.write(&batch).map_err(|e| err(&e))?;
    let file = writer.into_inner().map_err(|e| err(&e))?;
    file.sync_all().map_err(|e| DataError::io(path, e))
}
