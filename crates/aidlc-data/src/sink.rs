//! Writing typed batches to a Parquet file, batch by batch: numeric columns as nullable
//! float64 (a missing value is a null), text columns as nullable UTF-8.

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
