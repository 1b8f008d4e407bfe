//! Writing typed batches to a file, batch by batch: Parquet (numeric columns as nullable
//! float64, a missing value a null; text columns as nullable UTF-8) or CSV, plain or gzip.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Float64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;
use parquet::schema::types::ColumnPath;

use crate::column::{Column, ColumnKind, ColumnSchema};
use crate::error::DataError;
use crate::reader::Batch;

/// A Parquet file being written.
pub struct ParquetSink {
    path: PathBuf,
    schema: SchemaRef,
    writer: ArrowWriter<File>,
}

impl ParquetSink {
    /// Creates (or truncates) `path` for batches with this schema.
    pub fn create(path: &Path, columns: &[ColumnSchema]) -> Result<ParquetSink, DataError> {
        let fields: Vec<Field> = columns
            .iter()
            .map(|c| {
                let data_type = match c.kind {
                    ColumnKind::Numeric => DataType::Float64,
                    ColumnKind::Categorical => DataType::Utf8,
                };
                Field::new(&c.name, data_type, true)
            })
            .collect();
        let schema = Arc::new(Schema::new(fields));
        let file = File::create(path).map_err(|e| DataError::io(path, e))?;
        // Snappy keeps writing fast; the row-group size bounds the writer's buffered memory.
        // Dictionary encoding pays for text (few distinct labels) but not for measured floats,
        // where the writer would build a dictionary only to abandon it.
        let mut builder = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(256 * 1024));
        for c in columns {
            builder = builder.set_column_dictionary_enabled(
                ColumnPath::from(c.name.as_str()),
                c.kind == ColumnKind::Categorical,
            );
        }
        let properties = builder.build();
        let writer = ArrowWriter::try_new(file, schema.clone(), Some(properties))
            .map_err(|e| parquet_error(path, e))?;
        Ok(ParquetSink {
            path: path.to_path_buf(),
            schema,
            writer,
        })
    }

    /// Appends one batch (columns in the schema's order).
    pub fn write(&mut self, batch: &Batch) -> Result<(), DataError> {
        let arrays: Vec<ArrayRef> = batch
            .columns
            .iter()
            .map(|column| -> ArrayRef {
                match column {
                    Column::Numeric(values) => Arc::new(Float64Array::from_iter(
                        values.iter().map(|v| (!v.is_nan()).then_some(*v)),
                    )),
                    Column::Categorical(labels) => {
                        Arc::new(StringArray::from_iter(labels.iter().map(|l| l.as_deref())))
                    }
                }
            })
            .collect();
        let record =
            RecordBatch::try_new(self.schema.clone(), arrays).map_err(|e| DataError::Parquet {
                path: self.path.clone(),
                message: e.to_string(),
            })?;
        self.writer
            .write(&record)
            .map_err(|e| parquet_error(&self.path, e))
    }

    /// Writes the footer and flushes the file to disk.
    pub fn finish(self) -> Result<(), DataError> {
        let path = self.path;
        let file = self
            .writer
            .into_inner()
            .map_err(|e| parquet_error(&path, e))?;
        file.sync_all().map_err(|e| DataError::io(&path, e))
    }
}

fn parquet_error(path: &Path, error: parquet::errors::ParquetError) -> DataError {
    DataError::Parquet {
        path: path.to_path_buf(),
        message: error.to_string(),
    }
}

/// A CSV, gzip CSV or Parquet file (by its name) written batch by batch under a temporary name
/// and renamed into place by [`TableSink::finish`], so an interrupted write never leaves half a
/// file under the final name.
pub struct TableSink {
    path: PathBuf,
    tmp: PathBuf,
    /// `None` once finished.
    inner: Option<SinkKind>,
}

enum SinkKind {
    Parquet(ParquetSink),
    Csv(std::io::BufWriter<File>),
    CsvGzip(flate2::write::GzEncoder<std::io::BufWriter<File>>),
}

impl TableSink {
    pub fn create(path: &Path, columns: &[ColumnSchema]) -> Result<TableSink, DataError> {
        use crate::reader::FileFormat;
        let tmp = path.with_extension(format!(
            "{}.tmp",
            path.extension().and_then(|e| e.to_str()).unwrap_or("out")
        ));
        let io = |e: std::io::Error| DataError::io(path, e);
        let inner = match crate::writer::format_for_name(path) {
            FileFormat::Parquet => SinkKind::Parquet(ParquetSink::create(&tmp, columns)?),
            FileFormat::Csv => {
                let mut out = std::io::BufWriter::new(File::create(&tmp).map_err(io)?);
                crate::writer::write_csv_header(&mut out, columns).map_err(io)?;
                SinkKind::Csv(out)
            }
            FileFormat::CsvGzip => {
                let file = std::io::BufWriter::new(File::create(&tmp).map_err(io)?);
                let mut out = flate2::write::GzEncoder::new(file, flate2::Compression::default());
                crate::writer::write_csv_header(&mut out, columns).map_err(io)?;
                SinkKind::CsvGzip(out)
            }
        };
        Ok(TableSink {
            path: path.to_path_buf(),
            tmp,
            inner: Some(inner),
        })
    }

    /// Appends one batch (columns in the schema's order).
    pub fn write(&mut self, batch: &Batch) -> Result<(), DataError> {
        let io = |e: std::io::Error| DataError::io(&self.path, e);
        match &mut self.inner {
            None => Ok(()),
            Some(SinkKind::Parquet(sink)) => sink.write(batch),
            Some(SinkKind::Csv(out)) => {
                crate::writer::write_csv_rows(out, &batch.columns).map_err(io)
            }
            Some(SinkKind::CsvGzip(out)) => {
                crate::writer::write_csv_rows(out, &batch.columns).map_err(io)
            }
        }
    }

    /// Flushes, syncs and renames the file into place.
    pub fn finish(mut self) -> Result<(), DataError> {
        let path = self.path.clone();
        let io = |e: std::io::Error| DataError::io(&path, e);
        match self.inner.take() {
            None => {}
            Some(SinkKind::Parquet(sink)) => sink.finish()?,
            Some(SinkKind::Csv(out)) => out
                .into_inner()
                .map_err(|e| e.into_error())
                .and_then(|f| f.sync_all())
                .map_err(io)?,
            Some(SinkKind::CsvGzip(out)) => out
                .finish()
                .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
                .and_then(|f| f.sync_all())
                .map_err(io)?,
        }
        std::fs::rename(&self.tmp, &self.path).map_err(io)
    }
}

impl Drop for TableSink {
    fn drop(&mut self) {
        // A sink dropped before `finish` was abandoned: its partial file goes.
        if self.inner.is_some() {
            let _ = std::fs::remove_file(&self.tmp);
        }
    }
}
