//! Diagnostics of `aidlc.toml`: what `check` reports, the error `parse` returns, and the
//! mapping from byte offsets to lines and columns.

use std::fmt;
use std::ops::Range;

use serde::{Deserialize, Serialize};

/// How serious a finding is. Only errors make `check` fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The contract is incomplete or wrong; later stages refuse to run.
    Error,
    /// Worth a look, but it does not block anything.
    Warning,
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        })
    }
}

/// The kind of a finding, stable for tools that read `check --json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DiagnosticCode {
    /// The text is not valid TOML.
    Syntax,
    /// The file holds no settings at all.
    Empty,
    /// A key or section aidlc does not know.
    UnknownKey,
    /// A value of the wrong TOML type, such as a string where a number belongs.
    WrongType,
    /// A value of the right type that cannot mean anything: an unknown task, an unparsable
    /// delay, a rule that is not a valid expression.
    InvalidValue,
    /// A value left as the template's empty placeholder `""`.
    Placeholder,
    /// A required key or section is absent.
    Missing,
    /// Values that contradict each other or the task, such as `rmse` for a classification.
    Inconsistent,
    /// A well-formed value aidlc cannot accept, such as a negative latency budget.
    BadValue,
    /// A column the data does not have.
    UnknownColumn,
}

impl DiagnosticCode {
    /// Whether `ProblemSpec::parse` rejects a file with this finding. These are the problems of
    /// form (the file cannot be read into typed values); the others are problems of content,
    /// which only `check` reports, so that an unfinished contract can still be loaded.
    pub fn is_malformed(self) -> bool {
        matches!(
            self,
            DiagnosticCode::Syntax
                | DiagnosticCode::Empty
                | DiagnosticCode::UnknownKey
                | DiagnosticCode::WrongType
                | DiagnosticCode::InvalidValue
        )
    }
}

/// One finding of `check`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// The dotted key path the finding is about, such as `baseline` or `problem.outcome.target`.
    /// Empty when it concerns the whole file.
    pub key: String,
    /// 1-based line, when the finding has a place in the file.
    pub line: Option<usize>,
    /// 1-based column (in characters) on that line.
    pub column: Option<usize>,
    /// Whether it blocks.
    pub severity: Severity,
    /// The kind of finding.
    pub code: DiagnosticCode,
    /// A sentence for the user, naming the key and, where it helps, the allowed values.
    pub message: String,
}

/// Everything `check` found in one file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckReport {
    /// The file name the diagnostics refer to.
    pub file: String,
    /// All findings, in file order; findings without a line come last.
    pub diagnostics: Vec<Diagnostic>,
}

impl CheckReport {
    /// True when no finding is an error; warnings do not block.
    pub fn is_ok(&self) -> bool {
        !self
            .diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    /// The findings that block.
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    /// The findings that only warn.
    pub fn warnings(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Warning)
    }
}

impl fmt::Display for CheckReport {
    /// One line per finding, `file:line:column: severity: message`, like a compiler.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.diagnostics {
            f.write_str(&self.file)?;
            if let Some(line) = d.line {
                write!(f, ":{line}")?;
                if let Some(column) = d.column {
                    write!(f, ":{column}")?;
                }
            }
            writeln!(f, ": {}: {}", d.severity, d.message)?;
        }
        Ok(())
    }
}

/// Why `ProblemSpec::parse` rejected a file.
#[derive(Debug, Clone, PartialEq, thiserror::Error, Serialize, Deserialize)]
#[error("{file}:{line}:{column}: {message}")]
pub struct SpecError {
    /// The file name given to `parse`.
    pub file: String,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in characters) of the problem.
    pub column: usize,
    /// The dotted key path of the problem; empty when it concerns the whole file.
    pub key: String,
    /// The kind of problem.
    pub code: DiagnosticCode,
    /// What is wrong, naming the key.
    pub message: String,
}

/// Maps byte offsets of a text to 1-based lines and character columns.
pub(crate) struct LineIndex<'a> {
    text: &'a str,
    line_starts: Vec<usize>,
}

impl<'a> LineIndex<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        let mut line_starts = vec![0];
        line_starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        LineIndex { text, line_starts }
    }

    /// The 1-based line and character column of a byte offset. Offsets past the end or inside a
    /// multi-byte character are clamped, because spans come from another crate and a wrong
    /// position is better than a panic.
    pub(crate) fn position(&self, offset: usize) -> (usize, usize) {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let line = self.line_starts.partition_point(|&start| start <= offset);
        let start = self.line_starts[line - 1];
        let column = self.text[start..offset].chars().count() + 1;
        (line, column)
    }

    pub(crate) fn span_position(&self, span: &Range<usize>) -> (usize, usize) {
        self.position(span.start)
    }

    /// The text of a 1-based line, without its line break.
    pub(crate) fn line_text(&self, line: usize) -> &'a str {
        let Some(&start) = self.line_starts.get(line.wrapping_sub(1)) else {
            return "";
        };
        let end = self
            .line_starts
            .get(line)
            .map_or(self.text.len(), |&next| next - 1);
        self.text[start..end].trim_end_matches('\r')
    }

    pub(crate) fn line_count(&self) -> usize {
        self.line_starts.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_count_characters_not_bytes() {
        let index = LineIndex::new("a = 1\nné = 2\r\nlast");
        assert_eq!(index.position(0), (1, 1));
        assert_eq!(index.position(6), (2, 1));
        // "né" is three bytes, so the `=` at byte 10 is the fourth character of its line.
        assert_eq!(index.position(10), (2, 4));
        assert_eq!(index.position(usize::MAX), (3, 5));
        assert_eq!(index.line_text(2), "né = 2");
        assert_eq!(index.line_text(3), "last");
        assert_eq!(index.line_text(9), "");
        assert_eq!(index.line_count(), 3);
    }
}
