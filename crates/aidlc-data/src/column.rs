//! Typed columns (numeric or categorical) and the text rules that decide what counts as a number
//! or as a missing value.

use serde::{Deserialize, Serialize};

/// How a column is read: as numbers or as category labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ColumnKind {
    /// Integers, floats and booleans (as 0/1); a missing value is NaN.
    Numeric,
    /// Text labels; a missing value is `None`.
    Categorical,
}

impl ColumnKind {
    /// The lower-case name used in reports and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            ColumnKind::Numeric => "numeric",
            ColumnKind::Categorical => "categorical",
        }
    }
}

impl std::fmt::Display for ColumnKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A column's name together with the kind it is read as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnSchema {
    pub name: String,
    pub kind: ColumnKind,
}

/// The values of one column, in row order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Column {
    /// Numbers; missing values are NaN.
    Numeric(Vec<f64>),
    /// Category labels; missing values are `None`.
    Categorical(Vec<Option<String>>),
}

impl Column {
    /// An empty column of the given kind.
    pub fn empty(kind: ColumnKind) -> Column {
        match kind {
            ColumnKind::Numeric => Column::Numeric(Vec::new()),
            ColumnKind::Categorical => Column::Categorical(Vec::new()),
        }
    }

    pub fn kind(&self) -> ColumnKind {
        match self {
            Column::Numeric(_) => ColumnKind::Numeric,
            Column::Categorical(_) => ColumnKind::Categorical,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            Column::Numeric(values) => values.len(),
            Column::Categorical(values) => values.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of missing values (NaN for numeric columns, `None` for categorical ones).
    pub fn n_missing(&self) -> usize {
        match self {
            Column::Numeric(values) => values.iter().filter(|v| v.is_nan()).count(),
            Column::Categorical(values) => values.iter().filter(|v| v.is_none()).count(),
        }
    }

    pub fn as_numeric(&self) -> Option<&[f64]> {
        match self {
            Column::Numeric(values) => Some(values),
            Column::Categorical(_) => None,
        }
    }

    pub fn as_categorical(&self) -> Option<&[Option<String>]> {
        match self {
            Column::Numeric(_) => None,
            Column::Categorical(values) => Some(values),
        }
    }

    /// Appends the values of `other`; both columns must have the same kind.
    pub(crate) fn append(&mut self, other: Column) {
        match (self, other) {
            (Column::Numeric(into), Column::Numeric(from)) => into.extend_from_slice(&from),
            (Column::Categorical(into), Column::Categorical(from)) => into.extend(from),
            _ => unreachable!("batches of one column always share the column's kind"),
        }
    }
}

/// Text tokens read as a missing value, in numeric and categorical columns alike. They follow
/// the defaults of pandas' `read_csv`, so a file reads the same way in aidlc and in a notebook.
const MISSING_TOKENS: &[&str] = &[
    "", "NA", "N/A", "n/a", "NaN", "nan", "NAN", "-NaN", "-nan", "null", "NULL", "Null", "None",
    "<NA>", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "1.#IND", "1.#QNAN",
];

/// Whether a text value stands for a missing value.
pub fn is_missing_token(text: &str) -> bool {
    let trimmed = text.trim_ascii();
    MISSING_TOKENS.contains(&trimmed)
}

/// Reads one text value as a number: a missing token gives NaN, `true`/`false` (any case) give
/// 1 and 0, anything else must parse as a decimal number (surrounding blanks are ignored).
/// Returns `None` when the text is not a number.
pub fn parse_number(text: &str) -> Option<f64> {
    let trimmed = text.trim_ascii();
    // The common case is a plain number; trying it first keeps the token checks off the hot path.
    if let Ok(value) = trimmed.parse::<f64>() {
        return Some(value);
    }
    if MISSING_TOKENS.contains(&trimmed) {
        return Some(f64::NAN);
    }
    if trimmed.eq_ignore_ascii_case("true") {
        return Some(1.0);
    }
    if trimmed.eq_ignore_ascii_case("false") {
        return Some(0.0);
    }
    None
}

/// Reads one text value as a category label: missing tokens give `None`, anything else is kept
/// exactly as written.
pub fn parse_label(text: &str) -> Option<String> {
    if is_missing_token(text) {
        None
    } else {
        Some(text.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_booleans_and_missing_tokens() {
        assert_eq!(parse_number("1.5"), Some(1.5));
        assert_eq!(parse_number(" -2e3 "), Some(-2000.0));
        assert_eq!(parse_number("42"), Some(42.0));
        assert_eq!(parse_number("True"), Some(1.0));
        assert_eq!(parse_number("FALSE"), Some(0.0));
        assert!(parse_number("").unwrap().is_nan());
        assert!(parse_number("NA").unwrap().is_nan());
        assert!(parse_number("null").unwrap().is_nan());
        assert_eq!(parse_number("inf"), Some(f64::INFINITY));
        assert_eq!(parse_number("abc"), None);
        assert_eq!(parse_number("1,000"), None);
        assert_eq!(parse_number("20%"), None);
    }

    #[test]
    fn labels_keep_text_and_drop_missing_tokens() {
        assert_eq!(parse_label("0 - 20K €"), Some("0 - 20K €".to_owned()));
        assert_eq!(parse_label("N/A"), None);
        assert_eq!(parse_label(""), None);
    }

    #[test]
    fn column_counts_missing_values() {
        let numeric = Column::Numeric(vec![1.0, f64::NAN, 3.0]);
        assert_eq!(numeric.n_missing(), 1);
        assert_eq!(numeric.kind(), ColumnKind::Numeric);
        let labels = Column::Categorical(vec![Some("a".into()), None]);
        assert_eq!(labels.n_missing(), 1);
        assert_eq!(labels.len(), 2);
    }
}
