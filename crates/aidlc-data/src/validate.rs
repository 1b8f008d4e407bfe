//! Validation of a dataset against `[data.expectations]`, in the same streaming pass as the
//! profile: row rules (not null, unique, in range, in set, pattern) are checked batch by batch,
//! dataset rules (row count, missing share, freshness, mean) from the finished profile.
//!
//! Each rule reports how many values fail and the first few failing rows (row number, its
//! position in the file, and the value). Memory is bounded except for `unique`, which keeps one
//! 64-bit hash per distinct value of its column (8 bytes a row at worst).

use std::collections::{HashMap, HashSet};

use aidlc_core::spec::{Bounds, DataExpectations};
use serde::{Deserialize, Serialize};

use crate::column::{Column, ColumnSchema};
use crate::error::Position;
use crate::profile::{DatasetProfile, ValueType};
use crate::reader::{Batch, FileFormat};
use crate::sketch::{hash_number, hash_text};

/// Failing rows kept per rule as examples.
pub const EXAMPLES_PER_RULE: usize = 5;

/// One failing value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailingRow {
    /// Data row, counted from 0 after the header.
    pub row: usize,
    /// Where the row is in the file ("line 12" for CSV, "row 11" for Parquet).
    pub position: String,
    /// The value as text; `null` for a missing value.
    pub value: Option<String>,
}

/// The outcome of one rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RuleOutcome {
    /// `not_null`, `unique`, `range`, `in_set`, `pattern`, `rows`, `max_missing_share`,
    /// `freshness` or `mean`.
    pub rule: String,
    pub column: Option<String>,
    pub passed: bool,
    /// Values (or, for dataset rules, 1 when the rule fails) that break the rule.
    pub failing: u64,
    pub examples: Vec<FailingRow>,
    /// What was expected and what was found.
    pub detail: String,
}

/// Every rule's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub passed: bool,
    pub rules: Vec<RuleOutcome>,
}

enum Check {
    NotNull,
    Unique(HashSet<u64>),
    Range(Bounds),
    InSet {
        labels: HashSet<String>,
        numbers: Vec<f64>,
    },
    Pattern(regex::Regex),
}

struct RowRule {
    name: &'static str,
    column: String,
    /// Position of the column in the batches; `None` when the data has no such column.
    index: Option<usize>,
    check: Check,
    failing: u64,
    examples: Vec<FailingRow>,
    detail: String,
}

/// Checks batches against the expectations, then the finished profile.
pub struct Validator {
    expectations: DataExpectations,
    format: FileFormat,
    rules: Vec<RowRule>,
}

impl Validator {
    /// Prepares the row rules for batches with this schema. Fails when a pattern is not a
    /// valid regular expression (`aidlc check` reports that first).
    pub fn new(
        expectations: &DataExpectations,
        schema: &[ColumnSchema],
        format: FileFormat,
    ) -> Result<Validator, String> {
        let index = |name: &str| schema.iter().position(|c| c.name == name);
        let mut rules = Vec::new();
        let mut add = |name: &'static str, column: &str, check: Check, detail: String| {
            rules.push(RowRule {
                name,
                column: column.to_string(),
                index: index(column),
                check,
                failing: 0,
                examples: Vec::new(),
                detail,
            });
        };
        for c in &expectations.not_null {
            add("not_null", c, Check::NotNull, "no missing values".into());
        }
        for c in &expectations.unique {
            add(
                "unique",
                c,
                Check::Unique(HashSet::new()),
                "every value different (repeats fail)".into(),
            );
        }
        for (c, bounds) in &expectations.range {
            add(
                "range",
                c,
                Check::Range(*bounds),
                format!("values in [{}, {}]", bounds.low, bounds.high),
            );
        }
        for (c, set) in &expectations.in_set {
            add(
                "in_set",
                c,
                Check::InSet {
                    labels: set.iter().cloned().collect(),
                    numbers: set.iter().filter_map(|s| s.trim().parse().ok()).collect(),
                },
                format!("values in {set:?}"),
            );
        }
        for (c, pattern) in &expectations.pattern {
            let regex = regex::Regex::new(pattern)
                .map_err(|e| format!("data.expectations.pattern.{c}: {e}"))?;
            add(
                "pattern",
                c,
                Check::Pattern(regex),
                format!("values match /{pattern}/"),
            );
        }
        Ok(Validator {
            expectations: expectations.clone(),
            format,
            rules,
        })
    }

    /// Checks the row rules on one batch (columns in schema order).
    pub fn update(&mut self, batch: &Batch) {
        let format = self.format;
        for rule in &mut self.rules {
            let Some(index) = rule.index else { continue };
            let mut fail = |row: usize, value: Option<String>| {
                rule.failing += 1;
                if rule.examples.len() < EXAMPLES_PER_RULE {
                    rule.examples.push(FailingRow {
                        row,
                        position: Position::of_row(format, row).to_string(),
                        value,
                    });
                }
            };
            match &batch.columns[index] {
                Column::Numeric(values) => {
                    for (i, &v) in values.iter().enumerate() {
                        let row = batch.first_row + i;
                        let bad = match &mut rule.check {
                            Check::NotNull => v.is_nan(),
                            _ if v.is_nan() => false,
                            Check::Unique(seen) => !seen.insert(hash_number(v)),
                            Check::Range(bounds) => !bounds.contains(v),
                            Check::InSet { labels, numbers } => {
                                !numbers.contains(&v) && !labels.contains(&v.to_string())
                            }
                            Check::Pattern(regex) => !regex.is_match(&v.to_string()),
                        };
                        if bad {
                            fail(row, (!v.is_nan()).then(|| v.to_string()));
                        }
                    }
                }
                Column::Categorical(labels) => {
                    for (i, label) in labels.iter().enumerate() {
                        let row = batch.first_row + i;
                        let bad = match (&mut rule.check, label) {
                            (Check::NotNull, label) => label.is_none(),
                            (_, None) => false,
                            (Check::Unique(seen), Some(l)) => !seen.insert(hash_text(l)),
                            (Check::Range(bounds), Some(l)) => {
                                !l.trim().parse::<f64>().is_ok_and(|v| bounds.contains(v))
                            }
                            (Check::InSet { labels, .. }, Some(l)) => !labels.contains(l),
                            (Check::Pattern(regex), Some(l)) => !regex.is_match(l),
                        };
                        if bad {
                            fail(row, label.clone());
                        }
                    }
                }
            }
        }
    }

    /// The report: the row rules, then the dataset rules checked on the profile. `now_ms` is
    /// the ingest time, against which freshness is measured.
    pub fn finish(self, profile: &DatasetProfile, now_ms: i64) -> ValidationReport {
        let mut outcomes: Vec<RuleOutcome> = self
            .rules
            .into_iter()
            .map(|rule| match rule.index {
                None => missing_column(rule.name, &rule.column),
                Some(_) => RuleOutcome {
                    rule: rule.name.to_string(),
                    passed: rule.failing == 0,
                    failing: rule.failing,
                    examples: rule.examples,
                    detail: format!("{}; {} failing", rule.detail, rule.failing),
                    column: Some(rule.column),
                },
            })
            .collect();
        let e = &self.expectations;
        if let Some(bounds) = e.rows {
            let rows = profile.rows as f64;
            outcomes.push(dataset_rule(
                "rows",
                None,
                bounds.contains(rows),
                format!(
                    "row count in [{}, {}]; found {}",
                    bounds.low, bounds.high, profile.rows
                ),
            ));
        }
        if let Some(share) = e.max_missing_share {
            for column in &profile.columns {
                let found = if column.count == 0 {
                    0.0
                } else {
                    column.missing as f64 / column.count as f64
                };
                outcomes.push(dataset_rule(
                    "max_missing_share",
                    Some(&column.name),
                    found <= share,
                    format!("missing share at most {share}; found {found:.4}"),
                ));
            }
        }
        if let (Some(name), Some(max_age)) = (&e.freshness_column, &e.max_age) {
            let outcome = match profile.column(name) {
                None => missing_column("freshness", name),
                Some(c) if c.value_type != ValueType::Datetime || c.max.is_none() => dataset_rule(
                    "freshness",
                    Some(name),
                    false,
                    format!("a datetime column with values; found {}", c.value_type),
                ),
                Some(c) => {
                    let newest = c.max.expect("checked above") as i64;
                    let age_ms = now_ms - newest;
                    let limit_ms = max_age.seconds as i64 * 1000;
                    dataset_rule(
                        "freshness",
                        Some(name),
                        age_ms <= limit_ms,
                        format!(
                            "newest value at most {max_age} old at ingest; newest is {} ({} days old)",
                            c.max_time.as_deref().unwrap_or("?"),
                            age_ms / 86_400_000
                        ),
                    )
                }
            };
            outcomes.push(outcome);
        }
        for (name, bounds) in &e.mean {
            let outcome = match profile.column(name) {
                None => missing_column("mean", name),
                Some(c) => match c.mean {
                    Some(mean) if c.numeric_reference.is_some() => dataset_rule(
                        "mean",
                        Some(name),
                        bounds.contains(mean),
                        format!("mean in [{}, {}]; found {mean}", bounds.low, bounds.high),
                    ),
                    _ => dataset_rule(
                        "mean",
                        Some(name),
                        false,
                        format!("a numeric column with values; found {}", c.value_type),
                    ),
                },
            };
            outcomes.push(outcome);
        }
        ValidationReport {
            passed: outcomes.iter().all(|o| o.passed),
            rules: outcomes,
        }
    }
}

fn dataset_rule(rule: &str, column: Option<&str>, passed: bool, detail: String) -> RuleOutcome {
    RuleOutcome {
        rule: rule.to_string(),
        column: column.map(str::to_string),
        passed,
        failing: u64::from(!passed),
        examples: Vec::new(),
        detail,
    }
}

fn missing_column(rule: &str, column: &str) -> RuleOutcome {
    dataset_rule(
        rule,
        Some(column),
        false,
        format!("the data has no column {column:?}"),
    )
}

/// The expected types from `[data.columns]`, in the data crate's terms.
pub fn expected_types(
    columns: &std::collections::BTreeMap<String, aidlc_core::spec::ColumnType>,
) -> HashMap<String, ValueType> {
    use aidlc_core::spec::ColumnType;
    columns
        .iter()
        .map(|(name, t)| {
            let value_type = match t {
                ColumnType::Integer => ValueType::Integer,
                ColumnType::Float => ValueType::Float,
                ColumnType::Boolean => ValueType::Boolean,
                ColumnType::Categorical => ValueType::Categorical,
                ColumnType::String => ValueType::String,
                ColumnType::Datetime => ValueType::Datetime,
            };
            (name.clone(), value_type)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::column::ColumnKind;
    use crate::profile::{ProfileOptions, Profiler};

    #[test]
    fn every_rule_reports_failing_counts_and_examples() {
        let schema = vec![
            ColumnSchema {
                name: "id".into(),
                kind: ColumnKind::Numeric,
            },
            ColumnSchema {
                name: "code".into(),
                kind: ColumnKind::Categorical,
            },
            ColumnSchema {
                name: "t".into(),
                kind: ColumnKind::Categorical,
            },
        ];
        let expectations = DataExpectations {
            rows: Some(Bounds {
                low: 1.0,
                high: 3.0,
            }),
            max_missing_share: Some(0.2),
            not_null: vec!["code".into()],
            unique: vec!["id".into()],
            range: [(
                "id".to_string(),
                Bounds {
                    low: 0.0,
                    high: 2.0,
                },
            )]
            .into(),
            in_set: [("code".to_string(), vec!["a".to_string(), "b".to_string()])].into(),
            pattern: [("code".to_string(), "^[a-z]$".to_string())].into(),
            mean: [(
                "id".to_string(),
                Bounds {
                    low: 0.0,
                    high: 1.0,
                },
            )]
            .into(),
            freshness_column: Some("t".into()),
            max_age: Some(aidlc_core::spec::LabelDelay::parse("10d").unwrap()),
        };
        let batch = Batch {
            first_row: 0,
            n_rows: 4,
            columns: vec![
                Column::Numeric(vec![1.0, 1.0, 5.0, 2.0]),
                Column::Categorical(vec![
                    Some("a".into()),
                    None,
                    Some("C".into()),
                    Some("b".into()),
                ]),
                Column::Categorical(vec![
                    Some("2020-01-01".into()),
                    Some("2020-01-05".into()),
                    Some("2020-01-02".into()),
                    Some("2020-01-03".into()),
                ]),
            ],
        };
        let mut validator = Validator::new(&expectations, &schema, FileFormat::Csv).unwrap();
        validator.update(&batch);
        let mut profiler = Profiler::new(&schema, &HashMap::new(), ProfileOptions::default());
        profiler.update(&batch).unwrap();
        let profile = profiler.finish();
        let now = crate::datetime::parse_datetime_ms("2020-01-10").unwrap();
        let report = validator.finish(&profile, now);
        assert!(!report.passed);
        let find = |rule: &str, column: Option<&str>| {
            report
                .rules
                .iter()
                .find(|r| r.rule == rule && r.column.as_deref() == column)
                .unwrap()
                .clone()
        };
        let not_null = find("not_null", Some("code"));
        assert_eq!(not_null.failing, 1);
        assert_eq!(not_null.examples[0].position, "line 3");
        let unique = find("unique", Some("id"));
        assert_eq!((unique.failing, unique.examples[0].row), (1, 1));
        assert_eq!(find("range", Some("id")).failing, 1);
        assert_eq!(
            find("in_set", Some("code")).examples[0].value.as_deref(),
            Some("C")
        );
        assert_eq!(find("pattern", Some("code")).failing, 1);
        assert!(!find("rows", None).passed);
        assert!(!find("max_missing_share", Some("code")).passed);
        assert!(find("max_missing_share", Some("id")).passed);
        assert!(find("freshness", Some("t")).passed);
        assert!(!find("mean", Some("id")).passed);
    }
}
