//! Column profiles computed in one streaming pass over record batches: the value type, counts,
//! missing values, distinct values, min/max/mean/std, quantiles, a histogram, the most frequent
//! categories, and the statistics crate's drift reference profiles, so that the profile of a
//! dataset version is also its monitoring reference.
//!
//! Memory is bounded per column, whatever the number of rows:
//! - distinct values are counted exactly up to [`ProfileOptions::distinct_cap`] (a set of 64-bit
//!   value hashes), then estimated with a HyperLogLog sketch (about 0.8 % standard error);
//! - category counts are exact up to [`ProfileOptions::category_cap`] categories; past that, the
//!   new categories are tallied together and the profile says the list is incomplete;
//! - quantiles, the histogram and the numeric drift reference come from one seeded uniform
//!   sample of [`ProfileOptions::sample_rows`] rows (the same rows for every column), so they
//!   are exact whenever the file has at most that many rows;
//! - count, missing, min, max, mean and standard deviation are always exact (Welford's
//!   streaming update; the standard deviation uses n − 1, as pandas' `describe` does).

use std::collections::{HashMap, HashSet};

use aidlc_stats::drift::{CategoricalReference, NumericReference};
use serde::{Deserialize, Serialize};

use crate::column::{Column, ColumnKind, ColumnSchema};
use crate::datetime::{format_datetime_ms, parse_datetime_ms};
use crate::reader::Batch;
use crate::sketch::{HyperLogLog, RowReservoir, hash_number, hash_text};

/// The type of a column's values, inferred from the data or set in `[data.columns]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValueType {
    Integer,
    Float,
    Boolean,
    Categorical,
    String,
    Datetime,
}

impl ValueType {
    /// The lower-case name used in `aidlc.toml` and in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            ValueType::Integer => "integer",
            ValueType::Float => "float",
            ValueType::Boolean => "boolean",
            ValueType::Categorical => "categorical",
            ValueType::String => "string",
            ValueType::Datetime => "datetime",
        }
    }

    /// Reads the lower-case name.
    pub fn parse(name: &str) -> Option<ValueType> {
        Some(match name {
            "integer" => ValueType::Integer,
            "float" => ValueType::Float,
            "boolean" => ValueType::Boolean,
            "categorical" => ValueType::Categorical,
            "string" => ValueType::String,
            "datetime" => ValueType::Datetime,
            _ => return None,
        })
    }

    /// How a column of this type is read: numbers (booleans as 0/1) or text.
    pub fn read_kind(self) -> ColumnKind {
        match self {
            ValueType::Integer | ValueType::Float | ValueType::Boolean => ColumnKind::Numeric,
            ValueType::Categorical | ValueType::String | ValueType::Datetime => {
                ColumnKind::Categorical
            }
        }
    }
}

impl std::fmt::Display for ValueType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Bounds that keep the profiler's memory independent of the number of rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileOptions {
    /// Distinct values counted exactly per column before switching to the HyperLogLog estimate.
    pub distinct_cap: usize,
    /// Categories counted individually per text column.
    pub category_cap: usize,
    /// Rows in the uniform sample behind quantiles, histograms and numeric references.
    pub sample_rows: usize,
    /// Seed of the row sample, so the same file always gives the same profile.
    pub seed: u64,
    /// Categories listed in `top_categories`.
    pub top_categories: usize,
    /// Equal-width bins of the histogram.
    pub histogram_bins: usize,
    /// A text column with at most this many distinct values, and either at most
    /// [`SMALL_CATEGORY_COUNT`] of them or at most half as many as values, is categorical;
    /// otherwise it is free text.
    pub categorical_max_distinct: u64,
}

impl Default for ProfileOptions {
    fn default() -> Self {
        ProfileOptions {
            distinct_cap: 100_000,
            category_cap: 10_000,
            sample_rows: 100_000,
            seed: 0x5eed,
            top_categories: 20,
            histogram_bins: 20,
            categorical_max_distinct: 1000,
        }
    }
}

/// So few distinct labels that a text column is categorical however short the file is.
pub const SMALL_CATEGORY_COUNT: u64 = 20;

/// The probabilities at which quantiles are reported.
pub const QUANTILE_LEVELS: [f64; 7] = [0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99];

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Quantile {
    pub p: f64,
    pub value: f64,
}

/// Equal-width bins: `counts[i]` values fall in `[edges[i], edges[i + 1])` (the last bin is
/// closed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Histogram {
    pub edges: Vec<f64>,
    pub counts: Vec<u64>,
    /// True when the counts are over the row sample rather than every row.
    pub sampled: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryFrequency {
    pub value: String,
    pub count: u64,
    /// Share of the non-missing values.
    pub share: f64,
}

/// The profile of one column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ColumnProfile {
    pub name: String,
    pub value_type: ValueType,
    /// True when `[data.columns]` set the type.
    pub type_overridden: bool,
    /// Rows, missing values included.
    pub count: u64,
    pub missing: u64,
    pub distinct: u64,
    /// False when `distinct` is the HyperLogLog estimate.
    pub distinct_exact: bool,
    /// Numeric columns: over finite values; datetime columns: milliseconds since the epoch.
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub mean: Option<f64>,
    pub std: Option<f64>,
    /// Datetime columns: the earliest and latest instant in ISO form.
    pub min_time: Option<String>,
    pub max_time: Option<String>,
    pub quantiles: Vec<Quantile>,
    /// True when the quantiles are over every row (the file fits in the sample).
    pub quantiles_exact: bool,
    pub histogram: Option<Histogram>,
    pub top_categories: Vec<CategoryFrequency>,
    /// False when the column had more categories than the profiler counts individually.
    pub categories_complete: bool,
    /// The monitoring reference of a numeric column (fitted on the row sample).
    pub numeric_reference: Option<NumericReference>,
    /// The monitoring reference of a categorical column (exact counts).
    pub categorical_reference: Option<CategoricalReference>,
}

/// The profile of a dataset version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetProfile {
    pub rows: u64,
    /// Rows in the uniform sample behind quantiles, histograms and numeric references.
    pub sample_rows: u64,
    pub columns: Vec<ColumnProfile>,
}

impl DatasetProfile {
    pub fn column(&self, name: &str) -> Option<&ColumnProfile> {
        self.columns.iter().find(|c| c.name == name)
    }
}

/// A value that contradicts the type set in `[data.columns]`.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeConflict {
    pub column: String,
    /// Data row, counted from 0 after the header.
    pub row: usize,
    pub value: String,
    pub expected: ValueType,
}

struct Distinct {
    exact: Option<HashSet<u64>>,
    sketch: HyperLogLog,
}

impl Distinct {
    fn new() -> Distinct {
        Distinct {
            exact: Some(HashSet::new()),
            sketch: HyperLogLog::new(),
        }
    }

    #[inline]
    fn insert(&mut self, hash: u64, cap: usize) {
        self.sketch.insert_hash(hash);
        if let Some(set) = &mut self.exact {
            set.insert(hash);
            if set.len() > cap {
                self.exact = None;
            }
        }
    }

    fn count(&self) -> (u64, bool) {
        match &self.exact {
            Some(set) => (set.len() as u64, true),
            None => (self.sketch.estimate(), false),
        }
    }
}

struct NumericState {
    missing: u64,
    infinite: u64,
    finite: u64,
    mean: f64,
    m2: f64,
    min: f64,
    max: f64,
    all_integral: bool,
    all_binary: bool,
    distinct: Distinct,
    sample: Vec<f64>,
}

struct TextState {
    missing: u64,
    present: u64,
    counts: HashMap<String, u64>,
    uncounted: u64,
    distinct: Distinct,
    all_datetime: bool,
    time_min: i64,
    time_max: i64,
}

enum State {
    Numeric(NumericState),
    Text(TextState),
}

struct ColumnPlan {
    name: String,
    expected: Option<ValueType>,
    state: State,
}

/// Accumulates the profile of a table batch by batch.
pub struct Profiler {
    columns: Vec<ColumnPlan>,
    reservoir: RowReservoir,
    rows: u64,
    options: ProfileOptions,
}

impl Profiler {
    /// A profiler for batches with this schema; `expected` holds the types set by the user.
    pub fn new(
        schema: &[ColumnSchema],
        expected: &HashMap<String, ValueType>,
        options: ProfileOptions,
    ) -> Profiler {
        let columns = schema
            .iter()
            .map(|c| ColumnPlan {
                name: c.name.clone(),
                expected: expected.get(&c.name).copied(),
                state: match c.kind {
                    ColumnKind::Numeric => State::Numeric(NumericState {
                        missing: 0,
                        infinite: 0,
                        finite: 0,
                        mean: 0.0,
                        m2: 0.0,
                        min: f64::INFINITY,
                        max: f64::NEG_INFINITY,
                        all_integral: true,
                        all_binary: true,
                        distinct: Distinct::new(),
                        sample: Vec::new(),
                    }),
                    ColumnKind::Categorical => State::Text(TextState {
                        missing: 0,
                        present: 0,
                        counts: HashMap::new(),
                        uncounted: 0,
                        distinct: Distinct::new(),
                        all_datetime: true,
                        time_min: i64::MAX,
                        time_max: i64::MIN,
                    }),
                },
            })
            .collect();
        Profiler {
            columns,
            reservoir: RowReservoir::new(options.sample_rows, options.seed),
            rows: 0,
            options,
        }
    }

    /// Adds one batch (its columns in schema order). Fails at the first value that contradicts
    /// a type set by the user.
    pub fn update(&mut self, batch: &Batch) -> Result<(), TypeConflict> {
        let distinct_cap = self.options.distinct_cap;
        let category_cap = self.options.category_cap;
        for (plan, column) in self.columns.iter_mut().zip(&batch.columns) {
            match (&mut plan.state, column) {
                (State::Numeric(state), Column::Numeric(values)) => {
                    for (i, &v) in values.iter().enumerate() {
                        if v.is_nan() {
                            state.missing += 1;
                            continue;
                        }
                        let integral = v.fract() == 0.0;
                        let binary = v == 0.0 || v == 1.0;
                        let conflict = match plan.expected {
                            Some(ValueType::Integer) => !integral,
                            Some(ValueType::Boolean) => !binary,
                            _ => false,
                        };
                        if conflict {
                            return Err(TypeConflict {
                                column: plan.name.clone(),
                                row: batch.first_row + i,
                                value: v.to_string(),
                                expected: plan.expected.expect("checked above"),
                            });
                        }
                        state.all_integral &= integral;
                        state.all_binary &= binary;
                        state.distinct.insert(hash_number(v), distinct_cap);
                        if !v.is_finite() {
                            state.infinite += 1;
                            continue;
                        }
                        state.finite += 1;
                        let delta = v - state.mean;
                        state.mean += delta / state.finite as f64;
                        state.m2 += delta * (v - state.mean);
                        state.min = state.min.min(v);
                        state.max = state.max.max(v);
                    }
                }
                (State::Text(state), Column::Categorical(labels)) => {
                    let want_time = plan.expected == Some(ValueType::Datetime);
                    for (i, label) in labels.iter().enumerate() {
                        let Some(label) = label else {
                            state.missing += 1;
                            continue;
                        };
                        state.present += 1;
                        state.distinct.insert(hash_text(label), distinct_cap);
                        if let Some(count) = state.counts.get_mut(label.as_str()) {
                            *count += 1;
                        } else if state.counts.len() < category_cap {
                            state.counts.insert(label.clone(), 1);
                        } else {
                            state.uncounted += 1;
                        }
                        if state.all_datetime {
                            match parse_datetime_ms(label) {
                                Some(ms) => {
                                    state.time_min = state.time_min.min(ms);
                                    state.time_max = state.time_max.max(ms);
                                }
                                None if want_time => {
                                    return Err(TypeConflict {
                                        column: plan.name.clone(),
                                        row: batch.first_row + i,
                                        value: label.clone(),
                                        expected: ValueType::Datetime,
                                    });
                                }
                                None => state.all_datetime = false,
                            }
                        }
                    }
                }
                _ => unreachable!("batches follow the profiler's schema"),
            }
        }
        // One draw per row keeps the sample's rows aligned across the numeric columns.
        for r in 0..batch.n_rows {
            let Some(slot) = self.reservoir.offer() else {
                continue;
            };
            for (plan, column) in self.columns.iter_mut().zip(&batch.columns) {
                if let (State::Numeric(state), Column::Numeric(values)) = (&mut plan.state, column)
                {
                    if slot == state.sample.len() {
                        state.sample.push(values[r]);
                    } else {
                        state.sample[slot] = values[r];
                    }
                }
            }
        }
        self.rows += batch.n_rows as u64;
        Ok(())
    }

    /// Rows profiled so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    /// The finished profile.
    pub fn finish(self) -> DatasetProfile {
        let options = &self.options;
        let rows = self.rows;
        let sample_rows = rows.min(options.sample_rows as u64);
        let columns = self
            .columns
            .into_iter()
            .map(|plan| finish_column(plan, rows, options))
            .collect();
        DatasetProfile {
            rows,
            sample_rows,
            columns,
        }
    }
}

fn finish_column(plan: ColumnPlan, rows: u64, options: &ProfileOptions) -> ColumnProfile {
    let quantiles_exact = rows <= options.sample_rows as u64;
    match plan.state {
        State::Numeric(state) => {
            let present = state.finite + state.infinite;
            let inferred = if present == 0 {
                ValueType::Float
            } else if state.all_binary {
                ValueType::Boolean
            } else if state.all_integral {
                ValueType::Integer
            } else {
                ValueType::Float
            };
            let reference = NumericReference::fit(plan.name.clone(), &state.sample);
            let quantiles = if reference.sorted.is_empty() {
                Vec::new()
            } else {
                QUANTILE_LEVELS
                    .iter()
                    .map(|&p| Quantile {
                        p,
                        value: quantile_sorted(&reference.sorted, p),
                    })
                    .collect()
            };
            let histogram = histogram(&reference.sorted, options.histogram_bins, !quantiles_exact);
            let (distinct, distinct_exact) = state.distinct.count();
            let finite = state.finite > 0;
            ColumnProfile {
                name: plan.name,
                value_type: plan.expected.unwrap_or(inferred),
                type_overridden: plan.expected.is_some(),
                count: rows,
                missing: state.missing,
                distinct,
                distinct_exact,
                min: finite.then_some(state.min),
                max: finite.then_some(state.max),
                mean: finite.then_some(state.mean),
                std: (state.finite > 1).then(|| (state.m2 / (state.finite - 1) as f64).sqrt()),
                min_time: None,
                max_time: None,
                quantiles,
                quantiles_exact,
                histogram,
                top_categories: Vec::new(),
                categories_complete: true,
                numeric_reference: Some(reference),
                categorical_reference: None,
            }
        }
        State::Text(state) => {
            let (distinct, distinct_exact) = if state.uncounted == 0 {
                (state.counts.len() as u64, true)
            } else {
                state.distinct.count()
            };
            let inferred = if state.present > 0 && state.all_datetime {
                ValueType::Datetime
            } else if distinct <= options.categorical_max_distinct
                && (distinct <= SMALL_CATEGORY_COUNT
                    || distinct as f64 <= 0.5 * state.present as f64)
            {
                ValueType::Categorical
            } else {
                ValueType::String
            };
            let value_type = plan.expected.unwrap_or(inferred);
            let mut top: Vec<(&String, &u64)> = state.counts.iter().collect();
            top.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
            let present = state.present.max(1) as f64;
            let top_categories = top
                .iter()
                .take(options.top_categories)
                .map(|&(value, &count)| CategoryFrequency {
                    value: (*value).clone(),
                    count,
                    share: count as f64 / present,
                })
                .collect();
            let categories_complete = state.uncounted == 0;
            let times = value_type == ValueType::Datetime && state.present > 0;
            let categorical_reference = (value_type == ValueType::Categorical).then(|| {
                CategoricalReference::from_counts(
                    plan.name.clone(),
                    state.counts.iter().map(|(k, &v)| (k.clone(), v)).collect(),
                    state.missing,
                )
            });
            ColumnProfile {
                name: plan.name,
                value_type,
                type_overridden: plan.expected.is_some(),
                count: rows,
                missing: state.missing,
                distinct,
                distinct_exact,
                min: times.then_some(state.time_min as f64),
                max: times.then_some(state.time_max as f64),
                mean: None,
                std: None,
                min_time: times.then(|| format_datetime_ms(state.time_min)),
                max_time: times.then(|| format_datetime_ms(state.time_max)),
                quantiles: Vec::new(),
                quantiles_exact,
                histogram: None,
                top_categories,
                categories_complete,
                numeric_reference: None,
                categorical_reference,
            }
        }
    }
}

/// The `p` quantile of ascending values with linear interpolation between order statistics
/// (numpy's default, also pandas' `describe`).
pub fn quantile_sorted(sorted: &[f64], p: f64) -> f64 {
    let position = p * (sorted.len() - 1) as f64;
    let lower = position.floor() as usize;
    let upper = position.ceil() as usize;
    let weight = position - lower as f64;
    sorted[lower] + (sorted[upper] - sorted[lower]) * weight
}

fn histogram(sorted: &[f64], bins: usize, sampled: bool) -> Option<Histogram> {
    let (&low, &high) = (sorted.first()?, sorted.last()?);
    let bins = if high > low { bins.max(1) } else { 1 };
    let width = (high - low) / bins as f64;
    let edges: Vec<f64> = (0..=bins)
        .map(|i| {
            if i == bins {
                high
            } else {
                low + width * i as f64
            }
        })
        .collect();
    let mut counts = vec![0u64; bins];
    for &v in sorted {
        let index = if width > 0.0 {
            (((v - low) / width) as usize).min(bins - 1)
        } else {
            0
        };
        counts[index] += 1;
    }
    Some(Histogram {
        edges,
        counts,
        sampled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(first_row: usize, columns: Vec<Column>) -> Batch {
        Batch {
            first_row,
            n_rows: columns[0].len(),
            columns,
        }
    }

    fn schema() -> Vec<ColumnSchema> {
        vec![
            ColumnSchema {
                name: "x".into(),
                kind: ColumnKind::Numeric,
            },
            ColumnSchema {
                name: "c".into(),
                kind: ColumnKind::Categorical,
            },
        ]
    }

    #[test]
    fn streaming_profile_equals_the_direct_computation() {
        let values: Vec<f64> = (0..1000).map(|i| ((i * 37) % 101) as f64 * 0.5).collect();
        let labels: Vec<Option<String>> = (0..1000)
            .map(|i| (i % 10 != 0).then(|| format!("k{}", i % 3)))
            .collect();
        let mut profiler = Profiler::new(&schema(), &HashMap::new(), ProfileOptions::default());
        for start in (0..1000).step_by(300) {
            let end = (start + 300).min(1000);
            profiler
                .update(&batch(
                    start,
                    vec![
                        Column::Numeric(values[start..end].to_vec()),
                        Column::Categorical(labels[start..end].to_vec()),
                    ],
                ))
                .unwrap();
        }
        let profile = profiler.finish();
        let x = profile.column("x").unwrap();
        let n = values.len() as f64;
        let mean = values.iter().sum::<f64>() / n;
        let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1.0);
        assert!((x.mean.unwrap() - mean).abs() < 1e-9);
        assert!((x.std.unwrap() - var.sqrt()).abs() < 1e-9);
        assert_eq!(x.distinct, 101);
        assert_eq!(x.value_type, ValueType::Float);
        let mut sorted = values.clone();
        sorted.sort_by(f64::total_cmp);
        assert_eq!(x.quantiles[3].value, quantile_sorted(&sorted, 0.5));
        assert_eq!(
            x.histogram.as_ref().unwrap().counts.iter().sum::<u64>(),
            1000
        );
        let c = profile.column("c").unwrap();
        assert_eq!(c.missing, 100);
        assert_eq!(c.distinct, 3);
        assert_eq!(c.value_type, ValueType::Categorical);
        assert_eq!(c.top_categories.iter().map(|t| t.count).sum::<u64>(), 900);
        assert_eq!(c.categorical_reference.as_ref().unwrap().n_missing, 100);
    }

    #[test]
    fn integer_boolean_and_datetime_are_inferred_and_overrides_are_enforced() {
        let schema = vec![
            ColumnSchema {
                name: "i".into(),
                kind: ColumnKind::Numeric,
            },
            ColumnSchema {
                name: "b".into(),
                kind: ColumnKind::Numeric,
            },
            ColumnSchema {
                name: "t".into(),
                kind: ColumnKind::Categorical,
            },
        ];
        let columns = vec![
            Column::Numeric(vec![3.0, 4.0, f64::NAN]),
            Column::Numeric(vec![1.0, 0.0, 1.0]),
            Column::Categorical(vec![
                Some("2020-01-01".into()),
                None,
                Some("2020-03-01 10:00:00".into()),
            ]),
        ];
        let mut profiler = Profiler::new(&schema, &HashMap::new(), ProfileOptions::default());
        profiler.update(&batch(0, columns)).unwrap();
        let profile = profiler.finish();
        assert_eq!(profile.columns[0].value_type, ValueType::Integer);
        assert_eq!(profile.columns[1].value_type, ValueType::Boolean);
        assert_eq!(profile.columns[2].value_type, ValueType::Datetime);
        assert_eq!(
            profile.columns[2].max_time.as_deref(),
            Some("2020-03-01T10:00:00.000Z")
        );

        let expected = HashMap::from([("i".to_string(), ValueType::Integer)]);
        let mut strict = Profiler::new(&schema[..1], &expected, ProfileOptions::default());
        let conflict = strict
            .update(&batch(5, vec![Column::Numeric(vec![1.0, 2.5])]))
            .unwrap_err();
        assert_eq!((conflict.row, conflict.value.as_str()), (6, "2.5"));
    }

    #[test]
    fn distinct_switches_to_the_estimate_past_the_cap() {
        let options = ProfileOptions {
            distinct_cap: 100,
            sample_rows: 50,
            ..ProfileOptions::default()
        };
        let mut profiler = Profiler::new(&schema()[..1], &HashMap::new(), options);
        let values: Vec<f64> = (0..20_000).map(|i| i as f64).collect();
        profiler
            .update(&batch(0, vec![Column::Numeric(values)]))
            .unwrap();
        let x = profiler.finish().columns.remove(0);
        assert!(!x.distinct_exact);
        assert!((x.distinct as f64 - 20_000.0).abs() / 20_000.0 < 0.03);
        assert!(!x.quantiles_exact);
        assert_eq!(x.numeric_reference.unwrap().sorted.len(), 50);
        assert_eq!(x.min, Some(0.0));
        assert_eq!(x.max, Some(19_999.0));
    }
}
