//! Data drift between two tabular files: read both, profile each reference column once, compare
//! the current column with the statistics crate's unified drift API, and summarise per dataset.
//!
//! The work per column is two sorts (one per side) shared by every method, then linear merges
//! and binary searches, so a column costs O(n log n) whatever the number of methods. Columns are
//! spread over [`DRIFT_THREADS`] scoped threads.

use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};

use aidlc_data::{
    Column, ColumnKind, DataError, FileFormat, ReadOptions, Table, column_names, read_table,
};
use aidlc_stats::drift::{
    self as stats_drift, CategoricalReference, ColumnDriftResult, DatasetDriftSummary, DriftMethod,
    NumericReference, NumericSample, UnknownMethod,
};
use serde::{Deserialize, Serialize};

/// Threads used for reading (one per file) and for the per-column statistics.
pub const DRIFT_THREADS: usize = 2;

/// Which drift method to run on each column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum MethodChoice {
    /// Evidently's automatic choice per column (p-value tests up to 1,000 reference values,
    /// distances above; see `DriftMethod::evidently_auto`).
    #[default]
    Auto,
    /// One named method on every column.
    Method(DriftMethod),
    /// The automatic choice decides each column's verdict, and every column also gets the
    /// statistics of [`ALL_NUMERIC_METHODS`] or [`ALL_CATEGORICAL_METHODS`] for inspection.
    All,
}

/// The methods `MethodChoice::All` computes on a numeric column: exact KS (with its p-value),
/// Evidently's normed Wasserstein, PSI on reference deciles and Evidently's Jensen–Shannon.
pub const ALL_NUMERIC_METHODS: [DriftMethod; 4] = [
    DriftMethod::Ks,
    DriftMethod::WassersteinNormed,
    DriftMethod::Psi,
    DriftMethod::JensenShannon,
];

/// The methods `MethodChoice::All` computes on a categorical column.
pub const ALL_CATEGORICAL_METHODS: [DriftMethod; 4] = [
    DriftMethod::ChiSquareGof,
    DriftMethod::JensenShannon,
    DriftMethod::Psi,
    DriftMethod::LInfinity,
];

impl MethodChoice {
    /// Whether the choice only works on numbers, so every column must be read as numeric.
    pub fn needs_numeric(self) -> bool {
        match self {
            MethodChoice::Method(method) => {
                !method.applies_to(stats_drift::ColumnKind::Categorical)
            }
            MethodChoice::Auto | MethodChoice::All => false,
        }
    }
}

impl fmt::Display for MethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MethodChoice::Auto => f.write_str("auto"),
            MethodChoice::All => f.write_str("all"),
            MethodChoice::Method(method) => f.write_str(method.name()),
        }
    }
}

impl FromStr for MethodChoice {
    type Err = UnknownMethodChoice;

    /// `auto`, `all`, or any name `DriftMethod` accepts.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Ok(MethodChoice::Auto),
            "all" => Ok(MethodChoice::All),
            _ => s
                .parse::<DriftMethod>()
                .map(MethodChoice::Method)
                .map_err(UnknownMethodChoice),
        }
    }
}

impl From<MethodChoice> for String {
    fn from(choice: MethodChoice) -> String {
        choice.to_string()
    }
}

impl TryFrom<String> for MethodChoice {
    type Error = UnknownMethodChoice;

    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// A method name that is neither `auto`, `all` nor a drift method.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownMethodChoice(pub UnknownMethod);

impl fmt::Display for UnknownMethodChoice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} — or \"auto\" or \"all\"", self.0)
    }
}

impl std::error::Error for UnknownMethodChoice {}

/// What to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftRequest {
    pub reference: PathBuf,
    pub current: PathBuf,
    /// Columns to compare; `None` compares every column, and then both files must have the
    /// same set of columns.
    pub columns: Option<Vec<String>>,
    pub method: MethodChoice,
    /// Threshold of the deciding method of every column; `None` keeps each method's default.
    /// In `All` mode the extra methods keep their defaults.
    pub threshold: Option<f64>,
    /// Share of drifted columns at or above which the dataset counts as drifted.
    pub drift_share: f64,
    /// Data rows of the reference file to use (from 0, after the header); `None` uses all.
    pub reference_rows: Option<Range<usize>>,
    /// Data rows of the current file to use; `None` uses all.
    pub current_rows: Option<Range<usize>>,
}

impl DriftRequest {
    /// A request with the defaults: every column, automatic method, default thresholds,
    /// Evidently's drift share of 0.5, all rows.
    pub fn new(reference: impl Into<PathBuf>, current: impl Into<PathBuf>) -> DriftRequest {
        DriftRequest {
            reference: reference.into(),
            current: current.into(),
            columns: None,
            method: MethodChoice::Auto,
            threshold: None,
            drift_share: stats_drift::DEFAULT_DRIFT_SHARE,
            reference_rows: None,
            current_rows: None,
        }
    }
}

impl Default for DriftRequest {
    fn default() -> Self {
        DriftRequest::new(PathBuf::new(), PathBuf::new())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DriftError {
    /// A file could not be read, lacks a column, or holds text where numbers are needed.
    #[error(transparent)]
    Data(#[from] DataError),
    #[error("invalid drift request: {0}")]
    InvalidRequest(String),
}

/// One input file as the report describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatasetInfo {
    pub path: String,
    pub format: FileFormat,
    /// Rows read (after any row range).
    pub n_rows: usize,
}

/// The drift report: one deciding result per column plus the dataset verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriftReport {
    pub reference: DatasetInfo,
    pub current: DatasetInfo,
    pub method: MethodChoice,
    /// One result per column, in the requested order; its `drifted` is the column's verdict.
    pub columns: Vec<ColumnDriftResult>,
    /// In `All` mode, the other methods' results (column order, then method order); empty
    /// otherwise.
    pub other_results: Vec<ColumnDriftResult>,
    /// Share of drifted columns among `columns` and the dataset verdict.
    pub summary: DatasetDriftSummary,
}

/// Both files read into memory, ready for [`compute_report`].
#[derive(Debug, Clone, PartialEq)]
pub struct DriftInputs {
    pub reference: Table,
    pub current: Table,
}

/// Reads both files and computes the report: [`load_inputs`] then [`compute_report`].
pub fn drift_report(request: &DriftRequest) -> Result<DriftReport, DriftError> {
    let inputs = load_inputs(request)?;
    compute_report(request, &inputs)
}

/// Checks the request and the two files' columns, then reads both files in parallel.
///
/// Column kinds: a method that needs numbers reads every column as numeric, so text in a column
/// is an error naming the file, line, column and value. Otherwise each file's kinds are inferred
/// and the reference decides: a current column holding text where the reference has numbers is
/// an error of the same kind, and a reference text column reads the current column as text too.
pub fn load_inputs(request: &DriftRequest) -> Result<DriftInputs, DriftError> {
    validate(request)?;
    let columns = select_columns(request)?;

    let mut options = ReadOptions {
        columns: Some(columns.clone()),
        ..ReadOptions::default()
    };
    if request.method.needs_numeric() {
        options.kinds = columns
            .iter()
            .map(|c| (c.clone(), ColumnKind::Numeric))
            .collect();
    }
    let reference_options = ReadOptions {
        row_range: request.reference_rows.clone(),
        ..options.clone()
    };
    let current_options = ReadOptions {
        row_range: request.current_rows.clone(),
        ..options
    };

    let (reference, current) = std::thread::scope(|scope| {
        let reference = scope.spawn(|| read_table(&request.reference, &reference_options));
        let current = read_table(&request.current, &current_options);
        (
            reference.join().expect("reference reader panicked"),
            current,
        )
    });
    let reference = reference?;
    let mut current = current?;

    // Columns whose kind differs between the files are read again from the current file with the
    // reference's kind imposed; a numeric reference column then reports the first text value.
    let mismatched: BTreeMap<String, ColumnKind> = reference
        .schema
        .iter()
        .zip(&current.schema)
        .filter(|(r, c)| r.kind != c.kind)
        .map(|(r, _)| (r.name.clone(), r.kind))
        .collect();
    if !mismatched.is_empty() {
        let again = ReadOptions {
            columns: Some(mismatched.keys().cloned().collect()),
            kinds: mismatched,
            ..current_options
        };
        let fixed = read_table(&request.current, &again)?;
        for (schema, column) in fixed.schema.into_iter().zip(fixed.columns) {
            let j = current
                .schema
                .iter()
                .position(|c| c.name == schema.name)
                .expect("column was read");
            current.schema[j] = schema;
            current.columns[j] = column;
        }
    }
    Ok(DriftInputs { reference, current })
}

/// Computes every column's drift on inputs read by [`load_inputs`] for the same request.
pub fn compute_report(
    request: &DriftRequest,
    inputs: &DriftInputs,
) -> Result<DriftReport, DriftError> {
    validate(request)?;
    let DriftInputs { reference, current } = inputs;
    let pairs: Vec<(&str, &Column, &Column)> = reference
        .schema
        .iter()
        .zip(&reference.columns)
        .map(|(schema, column)| {
            let current_column = current.column(&schema.name).ok_or_else(|| {
                DriftError::Data(DataError::UnknownColumn {
                    path: current.path.clone(),
                    column: schema.name.clone(),
                    available: current.names().map(str::to_owned).collect(),
                })
            })?;
            Ok((schema.name.as_str(), column, current_column))
        })
        .collect::<Result<_, DriftError>>()?;

    let per_column = parallel_map(
        &pairs,
        DRIFT_THREADS,
        |&(name, reference_column, current_column)| {
            column_drift(
                name,
                reference_column,
                current_column,
                request.method,
                request.threshold,
            )
        },
    );

    let mut columns = Vec::with_capacity(per_column.len());
    let mut other_results = Vec::new();
    for (decision, others) in per_column {
        columns.push(decision);
        other_results.extend(others);
    }
    let summary = stats_drift::dataset_drift(&columns, request.drift_share);
    Ok(DriftReport {
        reference: dataset_info(reference),
        current: dataset_info(current),
        method: request.method,
        columns,
        other_results,
        summary,
    })
}

fn dataset_info(table: &Table) -> DatasetInfo {
    DatasetInfo {
        path: table.path.display().to_string(),
        format: table.format,
        n_rows: table.n_rows,
    }
}

fn validate(request: &DriftRequest) -> Result<(), DriftError> {
    if let Some(threshold) = request.threshold
        && !(threshold.is_finite() && threshold >= 0.0)
    {
        return Err(DriftError::InvalidRequest(format!(
            "threshold must be a finite number >= 0, got {threshold}"
        )));
    }
    if !(0.0..=1.0).contains(&request.drift_share) {
        return Err(DriftError::InvalidRequest(format!(
            "drift share must lie in [0, 1], got {}",
            request.drift_share
        )));
    }
    if let Some(columns) = &request.columns
        && columns.is_empty()
    {
        return Err(DriftError::InvalidRequest(
            "the column list is empty".to_owned(),
        ));
    }
    Ok(())
}

/// The columns to compare, checked against both files' headers before any data is read, so a
/// missing column is reported at once and always for the file that lacks it.
fn select_columns(request: &DriftRequest) -> Result<Vec<String>, DriftError> {
    let reference_names = column_names(&request.reference)?;
    let current_names = column_names(&request.current)?;
    let missing = |path: &Path, column: &str, available: &[String]| {
        DriftError::Data(DataError::UnknownColumn {
            path: path.to_path_buf(),
            column: column.to_owned(),
            available: available.to_vec(),
        })
    };
    match &request.columns {
        Some(columns) => {
            for column in columns {
                if !reference_names.contains(column) {
                    return Err(missing(&request.reference, column, &reference_names));
                }
                if !current_names.contains(column) {
                    return Err(missing(&request.current, column, &current_names));
                }
            }
            Ok(columns.clone())
        }
        None => {
            if let Some(column) = reference_names.iter().find(|c| !current_names.contains(c)) {
                return Err(missing(&request.current, column, &current_names));
            }
            if let Some(column) = current_names.iter().find(|c| !reference_names.contains(c)) {
                return Err(missing(&request.reference, column, &reference_names));
            }
            Ok(reference_names)
        }
    }
}

/// The deciding result of one column and, in `All` mode, the other methods' results.
fn column_drift(
    name: &str,
    reference: &Column,
    current: &Column,
    choice: MethodChoice,
    threshold: Option<f64>,
) -> (ColumnDriftResult, Vec<ColumnDriftResult>) {
    match (reference, current) {
        (Column::Numeric(reference), Column::Numeric(current)) => {
            let profile = numeric_profile(name, reference, doane_bins_needed(choice));
            let sample = NumericSample::new(current);
            let decision = match choice {
                MethodChoice::Method(method) => profile.compare_sample(&sample, method, threshold),
                MethodChoice::Auto | MethodChoice::All => {
                    auto_numeric(&profile, &sample, threshold)
                }
            };
            let others = match choice {
                MethodChoice::All => ALL_NUMERIC_METHODS
                    .iter()
                    .filter(|&&m| m != decision.method)
                    .map(|&m| profile.compare_sample(&sample, m, None))
                    .collect(),
                _ => Vec::new(),
            };
            (decision, others)
        }
        (reference, current) => {
            let labels = |column: &Column| -> Vec<Option<String>> {
                match column {
                    Column::Categorical(labels) => labels.clone(),
                    // Only reached if a caller pairs a numeric with a categorical column; the
                    // numbers then count as labels, the way Evidently treats low-cardinality numbers.
                    Column::Numeric(values) => values
                        .iter()
                        .map(|v| (!v.is_nan()).then(|| v.to_string()))
                        .collect(),
                }
            };
            let (reference_labels, current_labels) = (labels(reference), labels(current));
            let profile = CategoricalReference::fit(name, &reference_labels);
            let (counts, n_missing) = aidlc_stats::categorical::count_categories(&current_labels);
            let decision = match choice {
                MethodChoice::Method(method) => {
                    profile.compare_counts(&counts, n_missing, method, threshold)
                }
                MethodChoice::Auto | MethodChoice::All => {
                    let n_unique = profile.n_unique_combined(&counts);
                    let method = DriftMethod::evidently_auto(
                        stats_drift::ColumnKind::Categorical,
                        profile.n_valid(),
                        n_unique,
                    );
                    let mut result = profile.compare_counts(&counts, n_missing, method, threshold);
                    result.n_unique_combined = Some(n_unique);
                    result
                }
            };
            let others = match choice {
                MethodChoice::All => ALL_CATEGORICAL_METHODS
                    .iter()
                    .filter(|&&m| m != decision.method)
                    .map(|&m| profile.compare_counts(&counts, n_missing, m, None))
                    .collect(),
                _ => Vec::new(),
            };
            (decision, others)
        }
    }
}

/// Whether a method choice may read the reference's Doane bins (NannyML's Jensen–Shannon and
/// Hellinger). The list names the methods known not to, so a method added later to the
/// statistics crate gets the bins by default.
fn doane_bins_needed(choice: MethodChoice) -> bool {
    let without_doane = |method: DriftMethod| {
        matches!(
            method,
            DriftMethod::Ks
                | DriftMethod::Wasserstein
                | DriftMethod::WassersteinNormed
                | DriftMethod::Psi
                | DriftMethod::PsiEvidently
                | DriftMethod::JensenShannon
                | DriftMethod::Chi2
                | DriftMethod::ChiSquareGof
                | DriftMethod::ZTest
                | DriftMethod::LInfinity
                | DriftMethod::AndersonDarling
                | DriftMethod::CramerVonMises
        )
    };
    match choice {
        MethodChoice::Method(method) => !without_doane(method),
        // The automatic choice picks among KS, normed Wasserstein, Jensen–Shannon (Evidently),
        // chi-square and z; `All` adds its numeric methods.
        MethodChoice::Auto | MethodChoice::All => {
            let auto_picks = [
                DriftMethod::Ks,
                DriftMethod::WassersteinNormed,
                DriftMethod::JensenShannon,
                DriftMethod::ChiSquareGof,
                DriftMethod::ZTest,
            ];
            !auto_picks
                .into_iter()
                .chain(ALL_NUMERIC_METHODS)
                .all(without_doane)
        }
    }
}

/// The reference profile of a numeric column, equal to `NumericReference::fit` (a test checks
/// it) but cheaper on large columns: the finite values are sorted without an extra row-order
/// copy when the column has no missing values, and the Doane bins are only fitted when asked
/// for. On 10⁶ values this saves about a third of the profile's time.
fn numeric_profile(name: &str, values: &[f64], with_doane_bins: bool) -> NumericReference {
    let (sorted, n_nan, n_inf) = aidlc_stats::binning::sorted_finite(values);
    // The standard deviation and the Doane skewness are summed in row order, as `fit` does.
    let row_order: std::borrow::Cow<'_, [f64]> = if n_nan + n_inf == 0 {
        std::borrow::Cow::Borrowed(values)
    } else {
        std::borrow::Cow::Owned(values.iter().copied().filter(|v| v.is_finite()).collect())
    };
    let std = if sorted.is_empty() {
        0.0
    } else {
        aidlc_stats::binning::std_population(&row_order)
    };
    let js_doane = if with_doane_bins {
        aidlc_stats::jensen_shannon::JsDoaneReference::fit_with_sorted(&row_order, &sorted).ok()
    } else {
        None
    };
    NumericReference {
        column: name.to_owned(),
        n_distinct: aidlc_stats::binning::n_distinct_sorted(&sorted) as u64,
        psi: aidlc_stats::psi::PsiReference::fit_sorted(&sorted).ok(),
        js_doane,
        n_total: values.len() as u64,
        n_nan,
        n_inf,
        std,
        sorted,
    }
}

/// Evidently's automatic method for a numeric column, at `threshold` when one is given.
///
/// The choice depends on the number of distinct values over both sides only through thresholds,
/// and that number is at least the reference's own distinct count. When the choice is the same
/// at that lower bound and at infinity, the merge that counts the union (as costly as a KS
/// statistic on large columns) is skipped and `n_unique_combined` stays `None`.
fn auto_numeric(
    profile: &NumericReference,
    sample: &NumericSample,
    threshold: Option<f64>,
) -> ColumnDriftResult {
    let kind = stats_drift::ColumnKind::Numeric;
    let at_least = DriftMethod::evidently_auto(kind, profile.n_valid(), profile.n_distinct);
    let at_most = DriftMethod::evidently_auto(kind, profile.n_valid(), u64::MAX);
    if at_least == at_most {
        return profile.compare_sample(sample, at_least, threshold);
    }
    let n_unique = profile.n_unique_combined(sample);
    let method = DriftMethod::evidently_auto(kind, profile.n_valid(), n_unique);
    let mut result = profile.compare_sample(sample, method, threshold);
    result.n_unique_combined = Some(n_unique);
    result
}

/// Applies `work` to every item on up to `threads` scoped threads (the caller's thread is one of
/// them) and returns the results in item order. Items are handed out one at a time, so a slow
/// column does not hold back the others.
fn parallel_map<T: Sync, R: Send>(
    items: &[T],
    threads: usize,
    work: impl Fn(&T) -> R + Sync,
) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let run = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(item) = items.get(i) else { break };
            done.push((i, work(item)));
        }
        done
    };
    let helpers = threads.clamp(1, items.len().max(1)) - 1;
    let mut slots: Vec<Option<R>> = (0..items.len()).map(|_| None).collect();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..helpers).map(|_| scope.spawn(run)).collect();
        let mut finished = run();
        for handle in handles {
            finished.extend(handle.join().expect("drift worker panicked"));
        }
        for (i, result) in finished {
            slots[i] = Some(result);
        }
    });
    slots
        .into_iter()
        .map(|slot| slot.expect("every item was processed"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn method_choice_parses_and_prints() {
        assert_eq!("auto".parse::<MethodChoice>().unwrap(), MethodChoice::Auto);
        assert_eq!("ALL".parse::<MethodChoice>().unwrap(), MethodChoice::All);
        assert_eq!(
            "ks".parse::<MethodChoice>().unwrap(),
            MethodChoice::Method(DriftMethod::Ks)
        );
        assert_eq!(
            "jensenshannon".parse::<MethodChoice>().unwrap(),
            MethodChoice::Method(DriftMethod::JensenShannon)
        );
        let error = "bogus".parse::<MethodChoice>().unwrap_err().to_string();
        assert!(error.contains("bogus") && error.contains("auto"), "{error}");
        for choice in [
            MethodChoice::Auto,
            MethodChoice::All,
            MethodChoice::Method(DriftMethod::Psi),
        ] {
            assert_eq!(choice.to_string().parse::<MethodChoice>().unwrap(), choice);
        }
        assert!(MethodChoice::Method(DriftMethod::Ks).needs_numeric());
        assert!(!MethodChoice::Method(DriftMethod::JensenShannon).needs_numeric());
        assert!(!MethodChoice::All.needs_numeric());
    }

    #[test]
    fn parallel_map_keeps_order() {
        let items: Vec<u64> = (0..57).collect();
        let squares = parallel_map(&items, DRIFT_THREADS, |x| x * x);
        assert_eq!(squares, items.iter().map(|x| x * x).collect::<Vec<_>>());
        assert!(parallel_map(&[] as &[u64], DRIFT_THREADS, |x| *x).is_empty());
    }

    #[test]
    fn numeric_profile_equals_the_statistics_crate_fit() {
        let samples: Vec<Vec<f64>> = vec![
            (0..5000)
                .map(|i| ((i * 7919) % 1013) as f64 * 0.37 - 90.0)
                .collect(),
            vec![
                3.0,
                f64::NAN,
                -1.5,
                f64::INFINITY,
                3.0,
                0.0,
                -0.0,
                f64::NEG_INFINITY,
                2.25,
                1e-300,
            ],
            vec![1.0; 17],
            vec![f64::NAN, f64::NAN],
            Vec::new(),
        ];
        for values in samples {
            let expected = NumericReference::fit("x", &values);
            assert_eq!(numeric_profile("x", &values, true), expected, "{values:?}");
            let lean = numeric_profile("x", &values, false);
            assert_eq!(lean.js_doane, None);
            assert_eq!(
                NumericReference {
                    js_doane: expected.js_doane.clone(),
                    ..lean
                },
                expected
            );
        }
        assert!(!doane_bins_needed(MethodChoice::All));
        assert!(!doane_bins_needed(MethodChoice::Auto));
        assert!(doane_bins_needed(MethodChoice::Method(
            DriftMethod::Hellinger
        )));
        assert!(doane_bins_needed(MethodChoice::Method(
            DriftMethod::JensenShannonNannyml
        )));
    }

    #[test]
    fn auto_choice_matches_the_statistics_crate() {
        // Many distinct values, few distinct values, and a reference with few values whose union
        // with the current side crosses the distinct-value threshold.
        let cases: Vec<(Vec<f64>, Vec<f64>)> = vec![
            (
                (0..3000).map(|i| (i as f64).sqrt()).collect(),
                (0..2000).map(|i| (i as f64).cbrt()).collect(),
            ),
            (
                (0..3000).map(|i| (i % 3) as f64).collect(),
                (0..2000).map(|i| (i % 4) as f64).collect(),
            ),
            (
                (0..800).map(|i| (i % 4) as f64).collect(),
                (0..700).map(|i| (i % 9) as f64).collect(),
            ),
            (
                (0..800).map(|i| (i % 2) as f64).collect(),
                (0..700).map(|i| (i % 2) as f64).collect(),
            ),
        ];
        for (reference, current) in cases {
            let profile = NumericReference::fit("x", &reference);
            let sample = NumericSample::new(&current);
            let expected = profile.compare_sample_auto(&sample);
            let ours = auto_numeric(&profile, &sample, None);
            assert_eq!(ours.method, expected.method);
            assert_eq!(
                (ours.statistic, ours.p_value, ours.drifted),
                (expected.statistic, expected.p_value, expected.drifted)
            );
            if ours.n_unique_combined.is_some() {
                assert_eq!(ours, expected);
            }
        }
    }

    #[test]
    fn numeric_columns_share_one_profile_across_methods() {
        let reference: Vec<f64> = (0..2000).map(|i| (i as f64 * 0.37).sin()).collect();
        let current: Vec<f64> = (0..1500).map(|i| (i as f64 * 0.41).sin() + 0.5).collect();
        let (decision, others) = column_drift(
            "x",
            &Column::Numeric(reference.clone()),
            &Column::Numeric(current.clone()),
            MethodChoice::All,
            None,
        );
        assert_eq!(decision.method, DriftMethod::WassersteinNormed);
        assert!(decision.drifted);
        let methods: Vec<DriftMethod> = others.iter().map(|r| r.method).collect();
        assert_eq!(
            methods,
            vec![
                DriftMethod::Ks,
                DriftMethod::Psi,
                DriftMethod::JensenShannon
            ]
        );
        // Each result equals what the statistics crate gives for that method on its own.
        let profile = NumericReference::fit("x", &reference);
        for result in &others {
            assert_eq!(result, &profile.compare(&current, result.method, None));
        }
    }
}
