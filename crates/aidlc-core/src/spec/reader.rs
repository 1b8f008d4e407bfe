//! Reads typed values out of the span-carrying TOML tree, recording where every key sits and
//! collecting every problem of form (wrong type, unknown key, unreadable value) instead of
//! stopping at the first one.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{Diagnostic, DiagnosticCode, LineIndex, Severity};
use super::{Keyword, LabelValue};

/// Where keys sit in the file and which of them are the empty placeholder `""`.
#[derive(Debug, Default)]
pub(crate) struct Places {
    /// Dotted key path → (line, column) of the key, or of the `[header]` for a section.
    positions: BTreeMap<String, (usize, usize)>,
    /// Key paths whose value is `""`, the template's "fill this in" mark.
    pub(crate) placeholders: BTreeSet<String>,
    /// Key paths whose value has the wrong TOML type; their contents were never read.
    broken: BTreeSet<String>,
}

impl Places {
    /// Whether the key or section is written in the file (placeholders included).
    pub(crate) fn present(&self, path: &str) -> bool {
        self.positions.contains_key(path)
    }

    /// Whether the key's value has the wrong TOML type, such as `[[problem]]` for a section.
    pub(crate) fn is_broken(&self, path: &str) -> bool {
        self.broken.contains(path)
    }

    /// Whether the key holds the placeholder `""`.
    pub(crate) fn is_placeholder(&self, path: &str) -> bool {
        self.placeholders.contains(path)
    }

    /// The position of a key; for an absent key, that of the nearest enclosing section that is
    /// written, so that "missing `target`" points at `[problem.outcome]`.
    pub(crate) fn position(&self, path: &str) -> Option<(usize, usize)> {
        let mut path = path;
        loop {
            if let Some(&position) = self.positions.get(path) {
                return Some(position);
            }
            path = &path[..path.rfind('.')?];
        }
    }
}

/// One table being read: its dotted path, its entries and the keys the reader asked for.
pub(crate) struct Section<'t, 'i> {
    path: String,
    table: &'t DeTable<'i>,
    known: Vec<&'static str>,
}

impl Section<'_, '_> {
    /// The dotted path of a key in this section.
    pub(crate) fn key_path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// How the section is named in messages: `[constraints]`, or "the top level".
    fn describe(&self) -> String {
        if self.path.is_empty() {
            "the top level".to_string()
        } else {
            format!("[{}]", self.path)
        }
    }
}

/// A section type that can be read from its table. Adding a section to `aidlc.toml` means one
/// struct with this trait and one field in `ProblemSpec`.
pub(crate) trait ReadSection: Default {
    fn read(reader: &mut Reader<'_>, section: &mut Section<'_, '_>) -> Self;
}

/// Collects positions and diagnostics while typed values are pulled out of the tree.
pub(crate) struct Reader<'a> {
    pub(crate) lines: LineIndex<'a>,
    pub(crate) diagnostics: Vec<Diagnostic>,
    pub(crate) places: Places,
}

/// The outcome of converting one value.
enum Found<T> {
    /// The value, converted.
    Value(T),
    /// No value, and the problem is already reported (the name says why it is usually absent).
    Placeholder,
    /// The TOML type is wrong; the caller reports it with the expected type.
    Mismatch,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(text: &'a str) -> Self {
        Reader {
            lines: LineIndex::new(text),
            diagnostics: Vec::new(),
            places: Places::default(),
        }
    }

    /// Starts reading the root table.
    pub(crate) fn root<'t, 'i>(&mut self, table: &'t DeTable<'i>) -> Section<'t, 'i> {
        Section {
            path: String::new(),
            table,
            known: Vec::new(),
        }
    }

    pub(crate) fn report(
        &mut self,
        key: &str,
        position: Option<(usize, usize)>,
        severity: Severity,
        code: DiagnosticCode,
        message: String,
    ) {
        self.diagnostics.push(Diagnostic {
            key: key.to_string(),
            line: position.map(|p| p.0),
            column: position.map(|p| p.1),
            severity,
            code,
            message,
        });
    }

    /// Looks a key up, marks it as known, and records its position.
    fn entry<'t, 'i>(
        &mut self,
        section: &mut Section<'t, 'i>,
        key: &'static str,
    ) -> Option<(String, &'t Spanned<DeValue<'i>>)> {
        section.known.push(key);
        let (name, value) = section.table.get_key_value(key)?;
        let path = section.key_path(key);
        let position = match value.get_ref() {
            // A `[header]` table's span is the header itself; an implicit or inline table has
            // no header, so its key is the best place to point at.
            DeValue::Table(_) if value.span().start < name.span().start => {
                self.lines.span_position(&value.span())
            }
            _ => self.lines.span_position(&name.span()),
        };
        self.places.positions.insert(path.clone(), position);
        Some((path, value))
    }

    /// Reads a sub-table with its own section type, then reports its unknown keys.
    pub(crate) fn section<T: ReadSection>(
        &mut self,
        parent: &mut Section<'_, '_>,
        key: &'static str,
    ) -> T {
        let Some((path, value)) = self.entry(parent, key) else {
            return T::default();
        };
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(&path, value, "a table (a [section])");
            return T::default();
        };
        let mut section = Section {
            path,
            table,
            known: Vec::new(),
        };
        let result = T::read(self, &mut section);
        self.finish(&section);
        result
    }

    /// A table whose keys are free names (such as alert rule names), each entry a table read
    /// with its own section type, whose unknown keys are reported like any section's. Positions
    /// are recorded under `path.name`.
    pub(crate) fn section_map<T: ReadSection>(
        &mut self,
        parent: &mut Section<'_, '_>,
        key: &'static str,
        expected: &str,
    ) -> BTreeMap<String, T> {
        let mut result = BTreeMap::new();
        let Some((path, value)) = self.entry(parent, key) else {
            return result;
        };
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(
                &path,
                value,
                &format!("a table of name = {{ … }} ({expected})"),
            );
            return result;
        };
        for (name, value) in table.iter() {
            let entry_path = format!("{path}.{}", name.get_ref());
            let position = match value.get_ref() {
                DeValue::Table(_) if value.span().start < name.span().start => {
                    self.lines.span_position(&value.span())
                }
                _ => self.lines.span_position(&name.span()),
            };
            self.places.positions.insert(entry_path.clone(), position);
            let DeValue::Table(entries) = value.get_ref() else {
                self.wrong_type(&entry_path, value, &format!("a table ({expected})"));
                continue;
            };
            let mut section = Section {
                path: entry_path,
                table: entries,
                known: Vec::new(),
            };
            let read = T::read(self, &mut section);
            self.finish(&section);
            result.insert(name.get_ref().to_string(), read);
        }
        result
    }

    /// Reports every key of the section that the reader never asked for.
    pub(crate) fn finish(&mut self, section: &Section<'_, '_>) {
        for (name, value) in section.table.iter() {
            let key = name.get_ref().as_ref();
            if section.known.contains(&key) {
                continue;
            }
            let path = section.key_path(key);
            let position = self.lines.span_position(&name.span());
            let what = match (section.path.is_empty(), value.get_ref()) {
                (true, DeValue::Table(_)) => format!("unknown section [{key}]"),
                _ => format!("unknown key `{key}` in {}", section.describe()),
            };
            let known = if section.known.is_empty() {
                String::new()
            } else {
                format!(" (known: {})", section.known.join(", "))
            };
            self.report(
                &path,
                Some(position),
                Severity::Error,
                DiagnosticCode::UnknownKey,
                format!("{what}{known}"),
            );
        }
    }

    fn wrong_type(&mut self, path: &str, value: &Spanned<DeValue<'_>>, expected: &str) {
        self.places.broken.insert(path.to_string());
        let shown = match value.get_ref() {
            DeValue::String(s) => format!("string {}", short_quoted(s)),
            DeValue::Table(_) => "a table".to_string(),
            DeValue::Array(_) => "an array".to_string(),
            other => format!("{} {}", other.type_str(), value_source(self, value)),
        };
        self.report(
            path,
            Some(self.lines.span_position(&value.span())),
            Severity::Error,
            DiagnosticCode::WrongType,
            format!("wrong type for `{path}`: expected {expected}, found {shown}"),
        );
    }

    fn invalid(&mut self, path: &str, span: &Range<usize>, message: String) {
        self.report(
            path,
            Some(self.lines.span_position(span)),
            Severity::Error,
            DiagnosticCode::InvalidValue,
            message,
        );
    }

    fn placeholder(&mut self, path: &str, span: &Range<usize>, expected: &str) {
        self.places.placeholders.insert(path.to_string());
        self.report(
            path,
            Some(self.lines.span_position(span)),
            Severity::Error,
            DiagnosticCode::Placeholder,
            format!("`{path}` is not filled in: expected {expected}"),
        );
    }

    /// Shared shape of every scalar read: find the key, treat `""` as a placeholder, convert.
    fn scalar<T>(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
        expected: &str,
        convert: impl FnOnce(&mut Self, &str, &Spanned<DeValue<'_>>) -> Found<T>,
    ) -> Option<T> {
        let (path, value) = self.entry(section, key)?;
        if let DeValue::String(s) = value.get_ref()
            && s.trim().is_empty()
        {
            self.placeholder(&path, &value.span(), expected);
            return None;
        }
        match convert(self, &path, value) {
            Found::Value(v) => Some(v),
            Found::Placeholder => None,
            Found::Mismatch => {
                self.wrong_type(&path, value, expected);
                None
            }
        }
    }

    /// A free-text value.
    pub(crate) fn text(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> Option<String> {
        self.scalar(section, key, "a string", |_, _, value| {
            match value.get_ref() {
                DeValue::String(s) => Found::Value(s.to_string()),
                _ => Found::Mismatch,
            }
        })
    }

    /// A number; TOML integers and floats both count. Infinite and NaN values are rejected,
    /// because no target, budget or business value can be infinite.
    pub(crate) fn number(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> Option<f64> {
        self.scalar(section, key, "a number", |reader, path, value| {
            let Some(number) = to_number(value.get_ref()) else {
                return Found::Mismatch;
            };
            if number.is_finite() {
                Found::Value(number)
            } else {
                reader.invalid(
                    path,
                    &value.span(),
                    format!("`{path}` must be a finite number"),
                );
                Found::Placeholder
            }
        })
    }

    /// One of a fixed set of words.
    pub(crate) fn keyword<K: Keyword>(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> Option<K> {
        let expected = K::expected();
        self.scalar(section, key, &expected, |reader, path, value| {
            let DeValue::String(s) = value.get_ref() else {
                return Found::Mismatch;
            };
            match K::from_keyword(s) {
                Some(k) => Found::Value(k),
                None => {
                    reader.invalid(
                        path,
                        &value.span(),
                        format!(
                            "`{path}` = {} is not allowed: expected {}",
                            short_quoted(s),
                            K::expected()
                        ),
                    );
                    Found::Placeholder
                }
            }
        })
    }

    /// A string that must parse into `T`. `parse` returns the reason and, when it can point into
    /// the string, the 1-based character column of the problem inside it.
    pub(crate) fn parsed<T>(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
        expected: &str,
        parse: impl FnOnce(&str) -> Result<T, (String, Option<usize>)>,
    ) -> Option<T> {
        self.scalar(section, key, expected, |reader, path, value| {
            let DeValue::String(s) = value.get_ref() else {
                return Found::Mismatch;
            };
            match parse(s) {
                Ok(v) => Found::Value(v),
                Err((reason, inner_column)) => {
                    let span = value.span();
                    let (line, column) = reader.lines.span_position(&span);
                    // Inside a one-line string the problem sits after the opening quote; with
                    // escapes or multi-line strings this can be off, but it stays on the line.
                    let column = inner_column.map_or(column, |inner| column + inner);
                    reader.report(
                        path,
                        Some((line, column)),
                        Severity::Error,
                        DiagnosticCode::InvalidValue,
                        format!("`{path}` = {}: {reason}", short_quoted(s)),
                    );
                    Found::Placeholder
                }
            }
        })
    }

    /// A boolean.
    pub(crate) fn boolean(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> Option<bool> {
        self.scalar(section, key, "true or false", |_, _, value| {
            match value.get_ref() {
                DeValue::Boolean(b) => Found::Value(*b),
                _ => Found::Mismatch,
            }
        })
    }

    /// An array of strings, each of which must parse into `T`; `parse` returns the reason and,
    /// when it can point into the string, the 1-based character column of the problem.
    pub(crate) fn parsed_list<T>(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
        expected: &str,
        mut parse: impl FnMut(&str) -> Result<T, (String, Option<usize>)>,
    ) -> Vec<T> {
        let Some((path, value)) = self.entry(section, key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(&path, value, &format!("an array of strings ({expected})"));
            return Vec::new();
        };
        let mut result = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            self.places
                .positions
                .insert(item_path.clone(), self.lines.span_position(&item.span()));
            match item.get_ref() {
                DeValue::String(s) if s.trim().is_empty() => {
                    self.placeholder(&item_path, &item.span(), expected)
                }
                DeValue::String(s) => match parse(s) {
                    Ok(v) => result.push(v),
                    Err((reason, inner)) => self.invalid_inside(&item_path, item, s, reason, inner),
                },
                _ => self.wrong_type(&item_path, item, expected),
            }
        }
        result
    }

    /// A table whose keys are free names and whose values are strings that must parse into
    /// `T`. Positions are recorded under `path.name`.
    pub(crate) fn parsed_map<T>(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
        expected: &str,
        mut parse: impl FnMut(&str) -> Result<T, (String, Option<usize>)>,
    ) -> BTreeMap<String, T> {
        self.free_map(
            section,
            key,
            &format!("a table of name = \"{expected}\""),
            |r, path, value| match value.get_ref() {
                DeValue::String(s) if s.trim().is_empty() => {
                    r.placeholder(path, &value.span(), expected);
                    None
                }
                DeValue::String(s) => match parse(s) {
                    Ok(v) => Some(v),
                    Err((reason, inner)) => {
                        r.invalid_inside(path, value, s, reason, inner);
                        None
                    }
                },
                _ => {
                    r.wrong_type(path, value, expected);
                    None
                }
            },
        )
    }

    /// Reports a string value that does not parse, pointing into the string when the parser
    /// said where.
    fn invalid_inside(
        &mut self,
        path: &str,
        value: &Spanned<DeValue<'_>>,
        text: &str,
        reason: String,
        inner_column: Option<usize>,
    ) {
        let (line, column) = self.lines.span_position(&value.span());
        let column = inner_column.map_or(column, |inner| column + inner);
        self.report(
            path,
            Some((line, column)),
            Severity::Error,
            DiagnosticCode::InvalidValue,
            format!("`{path}` = {}: {reason}", short_quoted(text)),
        );
    }

    /// The value that stands for the positive class: a string, a number or a boolean.
    pub(crate) fn label_value(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> Option<LabelValue> {
        self.scalar(
            section,
            key,
            "a string, integer, float or boolean",
            |_, _, value| match value.get_ref() {
                DeValue::String(s) => Found::Value(LabelValue::Text(s.to_string())),
                DeValue::Boolean(b) => Found::Value(LabelValue::Bool(*b)),
                DeValue::Integer(i) => match i64::from_str_radix(i.as_str(), i.radix()) {
                    Ok(n) => Found::Value(LabelValue::Integer(n)),
                    Err(_) => Found::Mismatch,
                },
                DeValue::Float(f) => match f.as_str().parse::<f64>() {
                    Ok(x) if x.is_finite() => Found::Value(LabelValue::Float(x)),
                    _ => Found::Mismatch,
                },
                _ => Found::Mismatch,
            },
        )
    }

    /// An array of non-empty strings, such as a list of column names.
    pub(crate) fn strings(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> Vec<String> {
        let Some((path, value)) = self.entry(section, key) else {
            return Vec::new();
        };
        let DeValue::Array(items) = value.get_ref() else {
            self.wrong_type(&path, value, "an array of strings");
            return Vec::new();
        };
        let mut result = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let item_path = format!("{path}[{i}]");
            match item.get_ref() {
                DeValue::String(s) if !s.trim().is_empty() => result.push(s.to_string()),
                DeValue::String(_) => self.placeholder(&item_path, &item.span(), "a string"),
                _ => self.wrong_type(&item_path, item, "a string"),
            }
        }
        result
    }

    /// Every entry of a table whose keys are free names (such as column names), each read as a
    /// keyword. Positions are recorded under `path.name`.
    pub(crate) fn keyword_map<K: Keyword>(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> BTreeMap<String, K> {
        let mut result = BTreeMap::new();
        let Some((path, value)) = self.entry(section, key) else {
            return result;
        };
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(&path, value, "a table of column = type");
            return result;
        };
        // Free names cannot go into a section's `known` list, and need not: every entry of this
        // table is a column, so none is unknown.
        for (name, value) in table.iter() {
            let entry_path = format!("{path}.{}", name.get_ref());
            self.places
                .positions
                .insert(entry_path.clone(), self.lines.span_position(&name.span()));
            if let Some(kind) = self.free_keyword::<K>(&entry_path, value) {
                result.insert(name.get_ref().to_string(), kind);
            }
        }
        result
    }

    /// A `[low, high]` pair of numbers, such as the bounds of a value.
    pub(crate) fn bounds(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> Option<super::Bounds> {
        let (path, value) = self.entry(section, key)?;
        self.free_bounds(&path, value)
    }

    /// Every entry of a table whose keys are free names (such as column names), each converted
    /// by `convert`, which reports its own problems. Positions are recorded under `path.name`.
    fn free_map<T>(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
        expected: &str,
        mut convert: impl FnMut(&mut Self, &str, &Spanned<DeValue<'_>>) -> Option<T>,
    ) -> BTreeMap<String, T> {
        let mut result = BTreeMap::new();
        let Some((path, value)) = self.entry(section, key) else {
            return result;
        };
        let DeValue::Table(table) = value.get_ref() else {
            self.wrong_type(&path, value, expected);
            return result;
        };
        for (name, value) in table.iter() {
            let entry_path = format!("{path}.{}", name.get_ref());
            self.places
                .positions
                .insert(entry_path.clone(), self.lines.span_position(&name.span()));
            if let Some(v) = convert(self, &entry_path, value) {
                result.insert(name.get_ref().to_string(), v);
            }
        }
        result
    }

    /// A table of column = `[low, high]`.
    pub(crate) fn bounds_map(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> BTreeMap<String, super::Bounds> {
        self.free_map(
            section,
            key,
            "a table of column = [low, high]",
            |r, path, value| r.free_bounds(path, value),
        )
    }

    /// A table of column = `["value", …]`.
    pub(crate) fn strings_map(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> BTreeMap<String, Vec<String>> {
        self.free_map(
            section,
            key,
            "a table of column = [\"value\", …]",
            |r, path, value| {
                let DeValue::Array(items) = value.get_ref() else {
                    r.wrong_type(path, value, "an array of strings");
                    return None;
                };
                let mut result = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    match item.get_ref() {
                        DeValue::String(s) => result.push(s.to_string()),
                        _ => r.wrong_type(&format!("{path}[{i}]"), item, "a string"),
                    }
                }
                Some(result)
            },
        )
    }

    /// A table of name = number (integer or float), each finite.
    pub(crate) fn number_map(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> BTreeMap<String, f64> {
        self.free_map(
            section,
            key,
            "a table of name = number",
            |r, path, value| match to_number(value.get_ref()) {
                Some(n) if n.is_finite() => Some(n),
                Some(_) => {
                    r.invalid(
                        path,
                        &value.span(),
                        format!("`{path}` must be a finite number"),
                    );
                    None
                }
                None => {
                    r.wrong_type(path, value, "a number");
                    None
                }
            },
        )
    }

    /// A table of column = "text".
    pub(crate) fn text_map(
        &mut self,
        section: &mut Section<'_, '_>,
        key: &'static str,
    ) -> BTreeMap<String, String> {
        self.free_map(
            section,
            key,
            "a table of column = \"text\"",
            |r, path, value| match value.get_ref() {
                DeValue::String(s) if s.trim().is_empty() => {
                    r.placeholder(path, &value.span(), "a string");
                    None
                }
                DeValue::String(s) => Some(s.to_string()),
                _ => {
                    r.wrong_type(path, value, "a string");
                    None
                }
            },
        )
    }

    fn free_bounds(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<super::Bounds> {
        let pair = match value.get_ref() {
            DeValue::Array(items) if items.len() == 2 => {
                match (to_number(items[0].get_ref()), to_number(items[1].get_ref())) {
                    (Some(low), Some(high)) => Some((low, high)),
                    _ => None,
                }
            }
            _ => None,
        };
        let Some((low, high)) = pair else {
            self.wrong_type(path, value, "[low, high] (two numbers)");
            return None;
        };
        if low.is_nan() || high.is_nan() || low > high {
            self.invalid(
                path,
                &value.span(),
                format!("`{path}` must be [low, high] with low <= high"),
            );
            return None;
        }
        Some(super::Bounds { low, high })
    }

    fn free_keyword<K: Keyword>(&mut self, path: &str, value: &Spanned<DeValue<'_>>) -> Option<K> {
        let expected = K::expected();
        match value.get_ref() {
            DeValue::String(s) if s.trim().is_empty() => {
                self.placeholder(path, &value.span(), &expected);
                None
            }
            DeValue::String(s) => {
                let found = K::from_keyword(s);
                if found.is_none() {
                    self.invalid(
                        path,
                        &value.span(),
                        format!(
                            "`{path}` = {} is not allowed: expected {expected}",
                            short_quoted(s)
                        ),
                    );
                }
                found
            }
            _ => {
                self.wrong_type(path, value, &expected);
                None
            }
        }
    }
}

/// A TOML integer or float as `f64`; `None` for other types.
fn to_number(value: &DeValue<'_>) -> Option<f64> {
    match value {
        DeValue::Integer(i) => Some(
            i64::from_str_radix(i.as_str(), i.radix())
                .map(|n| n as f64)
                .unwrap_or_else(|_| i.as_str().parse::<f64>().unwrap_or(f64::NAN)),
        ),
        DeValue::Float(f) => Some(f.as_str().parse::<f64>().unwrap_or(f64::NAN)),
        _ => None,
    }
}

/// The source text of a value, shortened for a message.
fn value_source(reader: &Reader<'_>, value: &Spanned<DeValue<'_>>) -> String {
    let (line, column) = reader.lines.span_position(&value.span());
    let text: String = reader
        .lines
        .line_text(line)
        .chars()
        .skip(column - 1)
        .take(value.span().len().min(40))
        .collect();
    text.trim().to_string()
}

/// A string in double quotes, cut at 40 characters so a long value does not flood a message.
pub(crate) fn short_quoted(s: &str) -> String {
    let mut shown: String = s.chars().take(40).collect();
    if shown.len() < s.len() {
        shown.push('…');
    }
    format!("{shown:?}")
}
