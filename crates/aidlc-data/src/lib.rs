//! aidlc-data: tabular I/O of aidlc — CSV (plain or gzip) and Parquet files read, batch by batch,
//! into typed columns (numbers or category labels), with errors that name the file, the line and
//! the column.
//!
//! The kind rules are simple on purpose, so a user can predict them: a CSV column is numeric when
//! every non-empty value is a number (booleans count as 0/1), a Parquet column is numeric when it
//! stores numbers or booleans, and the caller can impose either kind on any column.
//!
//! On top of reading: splits (`split`), their leakage reports (`leakage`), point-in-time joins
//! (`join`), instants read from columns (`time`) and writing tables back (`writer`).

pub mod column;
pub mod datetime;
pub mod error;
pub mod join;
pub mod leakage;
pub mod profile;
pub mod quotes;
pub mod reader;
pub mod sink;
pub mod sketch;
pub mod split;
pub mod time;
pub mod validate;
pub mod writer;

pub use column::{Column, ColumnKind, ColumnSchema, is_missing_token, parse_label, parse_number};
pub use error::{DataError, FieldCount, Position};
pub use profile::{
    ColumnProfile, DatasetProfile, ProfileOptions, Profiler, TypeConflict, ValueType,
};
pub use reader::{
    Batch, BatchReader, DEFAULT_BATCH_SIZE, FileFormat, ReadOptions, Table, column_names,
    detect_format, infer_schema, read_table,
};
pub use sink::{ParquetSink, TableSink};
pub use writer::{format_for_name, write_table};
