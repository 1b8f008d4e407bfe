//! Errors of tabular reading; each one names the file and, where it applies, the line and column.

use std::fmt;
use std::path::PathBuf;

/// Where in a file a value sits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Position {
    /// A CSV record, counted from 1 with the header as line 1 (a record with a quoted line
    /// break still counts as one line).
    Line(usize),
    /// A Parquet row, counted from 1.
    Row(usize),
}

impl Position {
    /// The position of a data row (counted from 0 after the header) in a file of this format:
    /// a CSV line (the header is line 1) or a Parquet row (counted from 1).
    pub fn of_row(format: crate::reader::FileFormat, row: usize) -> Position {
        match format {
            crate::reader::FileFormat::Parquet => Position::Row(row + 1),
            _ => Position::Line(row + 2),
        }
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Position::Line(line) => write!(f, "line {line}"),
            Position::Row(row) => write!(f, "row {row}"),
        }
    }
}

/// How many fields a ragged CSV record has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldCount {
    Exactly(usize),
    /// The CSV decoder stops counting once a record exceeds the header's width.
    MoreThan(usize),
}

impl fmt::Display for FieldCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FieldCount::Exactly(n) => write!(f, "{n}"),
            FieldCount::MoreThan(n) => write!(f, "more than {n}"),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DataError {
    #[error("{}: file not found", path.display())]
    NotFound { path: PathBuf },

    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{}: no header row (the file is empty or its first line has no column names)", path.display())]
    NoHeader { path: PathBuf },

    #[error("{}: line {line} has {found} fields but the header has {expected}", path.display())]
    RaggedRow {
        path: PathBuf,
        line: usize,
        expected: usize,
        found: FieldCount,
    },

    #[error("{}: line {line}{}: invalid UTF-8", path.display(), column.as_ref().map(|c| format!(", column {c:?}")).unwrap_or_default())]
    InvalidUtf8 {
        path: PathBuf,
        line: usize,
        column: Option<String>,
    },

    #[error("{}: no column {column:?}; available columns: {}", path.display(), available.join(", "))]
    UnknownColumn {
        path: PathBuf,
        column: String,
        available: Vec<String>,
    },

    #[error("{}: column {column:?} appears more than once", path.display())]
    DuplicateColumn { path: PathBuf, column: String },

    #[error("{}: {position}, column {column:?}: {value:?} is not a number", path.display())]
    NotNumeric {
        path: PathBuf,
        position: Position,
        column: String,
        value: String,
    },

    #[error("{}: column {column:?} has type {data_type}, which cannot be read as numbers", path.display())]
    NotNumericType {
        path: PathBuf,
        column: String,
        data_type: String,
    },

    #[error("{}: {position}, column {column:?}: {value:?} is not a valid {expected} (the type set in [data.columns])", path.display())]
    TypeConflict {
        path: PathBuf,
        position: Position,
        column: String,
        value: String,
        expected: String,
    },

    #[error("{}: line {line}{}: a quoted field is never closed (broken quoting)", path.display(), column.as_ref().map(|c| format!(", column {c:?}")).unwrap_or_default())]
    UnclosedQuote {
        path: PathBuf,
        line: usize,
        column: Option<String>,
    },

    #[error("{}: the header has no data rows under it", path.display())]
    NoRows { path: PathBuf },

    #[error("{}: CSV error: {message}", path.display())]
    Csv { path: PathBuf, message: String },

    #[error("{}: Parquet error: {message}", path.display())]
    Parquet { path: PathBuf, message: String },
}

impl DataError {
    /// The file the error is about.
    pub fn path(&self) -> &std::path::Path {
        match self {
            DataError::NotFound { path }
            | DataError::Io { path, .. }
            | DataError::NoHeader { path }
            | DataError::RaggedRow { path, .. }
            | DataError::InvalidUtf8 { path, .. }
            | DataError::UnknownColumn { path, .. }
            | DataError::DuplicateColumn { path, .. }
            | DataError::NotNumeric { path, .. }
            | DataError::NotNumericType { path, .. }
            | DataError::TypeConflict { path, .. }
            | DataError::NoRows { path }
            | DataError::UnclosedQuote { path, .. }
            | DataError::Csv { path, .. }
            | DataError::Parquet { path, .. } => path,
        }
    }

    /// The error of opening or reading `path`, with "not found" told apart from other I/O errors.
    pub fn io(path: &std::path::Path, source: std::io::Error) -> DataError {
        if source.kind() == std::io::ErrorKind::NotFound {
            DataError::NotFound {
                path: path.to_path_buf(),
            }
        } else {
            DataError::Io {
                path: path.to_path_buf(),
                source,
            }
        }
    }
}
