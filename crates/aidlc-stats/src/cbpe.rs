//! Confidence-based performance estimation (CBPE, NannyML's method) for binary classifiers:
//! estimating accuracy, precision, recall, specificity, F1 and ROC AUC on data without labels
//! from the model's (calibrated) probabilities.
//!
//! The idea: if p = P(y = 1 | x) is well calibrated, a row predicted positive is a true positive
//! with probability p and a false positive with probability 1 − p, so the *expected* confusion
//! matrix of a chunk is E[TP] = Σ_{ŷ=1} p, E[FP] = Σ_{ŷ=1} (1 − p), E[FN] = Σ_{ŷ=0} p,
//! E[TN] = Σ_{ŷ=0} (1 − p), and the metrics are computed from those expected counts. The
//! estimated ROC AUC orders rows by descending *uncalibrated* score, accumulates expected TP =
//! cumsum(p) and FP = rank − TP (both prefixed with 0 and rounded to 5 decimals as numpy's
//! `round`), normalises by the totals and takes the trapezoidal area. Undefined estimates
//! (e.g. precision with no predicted positive) are NaN. CBPE assumes no concept drift:
//! P(y | x) must be the same in the chunk as in the reference.
//!
//! [`CbpeEstimator`] reproduces NannyML's workflow: fitted on a labelled reference it decides
//! whether to calibrate (isotonic regression), fits the sampling-error components and the alert
//! thresholds, and then estimates every metric on any unlabelled chunk with a ±3σ band.
//!
//! Calibration decision (NannyML's rule): no calibration when the reference has one class or
//! its ROC AUC exceeds 0.999; otherwise 10 stratified shuffle splits with 10 % test rows, an
//! isotonic calibrator fitted on each training part and applied to its test part, the test parts
//! pooled, and the expected calibration error over 10 equal-count bins compared before and after;
//! calibrate only when it decreases. The splits are drawn with this crate's seeded
//! [`Rng`](crate::rng::Rng), not scikit-learn's `StratifiedShuffleSplit(random_state=42)`, so
//! the folds differ from NannyML's and the decision can differ when the two ECEs are very close.

use crate::calibration::{IsotonicCalibrator, equal_count_calibration_error};
use crate::metrics::{Metric, MetricError, roc_auc};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The metrics CBPE estimates, in NannyML's order.
pub const CBPE_METRICS: [Metric; 6] = [
    Metric::RocAuc,
    Metric::F1,
    Metric::Precision,
    Metric::Recall,
    Metric::Specificity,
    Metric::Accuracy,
];

/// Decimals kept of the cumulative expected TP/FP in the estimated ROC AUC (NannyML's rounding).
const ROC_AUC_ROUNDING_DECIMALS: i32 = 5;

/// The expected confusion matrix of a chunk (sums of probabilities, hence fractional counts).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ExpectedConfusion {
    pub true_positives: f64,
    pub false_positives: f64,
    pub false_negatives: f64,
    pub true_negatives: f64,
}

impl ExpectedConfusion {
    fn total(&self) -> f64 {
        self.true_positives + self.false_positives + self.false_negatives + self.true_negatives
    }

    /// (TP + TN) / n.
    pub fn accuracy(&self) -> f64 {
        (self.true_positives + self.true_negatives) / self.total()
    }

    /// TP / (TP + FP); NaN without predicted positives.
    pub fn precision(&self) -> f64 {
        self.true_positives / (self.true_positives + self.false_positives)
    }

    /// TP / (TP + FN); NaN when the expected number of positives is 0.
    pub fn recall(&self) -> f64 {
        self.true_positives / (self.true_positives + self.false_negatives)
    }

    /// TN / (TN + FP); NaN when the expected number of negatives is 0.
    pub fn specificity(&self) -> f64 {
        self.true_negatives / (self.true_negatives + self.false_positives)
    }

    /// 2·TP / (2·TP + FP + FN); NaN when it is 0/0.
    pub fn f1(&self) -> f64 {
        let tp2 = 2.0 * self.true_positives;
        tp2 / (tp2 + self.false_positives + self.false_negatives)
    }
}

/// CBPE estimates of one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CbpeMetrics {
    pub expected_confusion: ExpectedConfusion,
    pub accuracy: f64,
    pub precision: f64,
    pub recall: f64,
    pub specificity: f64,
    pub f1: f64,
    pub roc_auc: f64,
}

impl CbpeMetrics {
    /// The estimate of one of the [`CBPE_METRICS`] (NaN for a metric CBPE does not estimate).
    pub fn get(&self, metric: Metric) -> f64 {
        match metric {
            Metric::Accuracy => self.accuracy,
            Metric::Precision => self.precision,
            Metric::Recall => self.recall,
            Metric::Specificity => self.specificity,
            Metric::F1 => self.f1,
            Metric::RocAuc => self.roc_auc,
            _ => f64::NAN,
        }
    }
}

fn check_aligned(a: usize, b: usize) -> Result<(), MetricError> {
    if a == 0 || b == 0 {
        return Err(MetricError::Empty);
    }
    if a != b {
        return Err(MetricError::LengthMismatch {
            expected: a,
            found: b,
        });
    }
    Ok(())
}

fn check_probabilities(p: &[f64]) -> Result<(), MetricError> {
    for (index, &value) in p.iter().enumerate() {
        if value.is_nan() {
            return Err(MetricError::NonFinite { index });
        }
        if !(0.0..=1.0).contains(&value) {
            return Err(MetricError::ProbabilityOutOfRange { index, value });
        }
    }
    Ok(())
}

fn check_binary(labels: &[f64]) -> Result<(), MetricError> {
    match labels.iter().position(|&y| y != 0.0 && y != 1.0) {
        Some(index) => Err(MetricError::InvalidLabel {
            index,
            value: labels[index],
        }),
        None => Ok(()),
    }
}

/// The expected confusion matrix from calibrated probabilities and 0/1 predicted labels.
pub fn expected_confusion(
    calibrated: &[f64],
    y_pred: &[f64],
) -> Result<ExpectedConfusion, MetricError> {
    check_aligned(calibrated.len(), y_pred.len())?;
    check_probabilities(calibrated)?;
    check_binary(y_pred)?;
    let mut cm = ExpectedConfusion::default();
    for (&p, &predicted) in calibrated.iter().zip(y_pred) {
        if predicted == 1.0 {
            cm.true_positives += p;
            cm.false_positives += 1.0 - p;
        } else {
            cm.false_negatives += p;
            cm.true_negatives += 1.0 - p;
        }
    }
    Ok(cm)
}

/// numpy's `round(x, decimals)`: scale, round half to even, scale back.
fn round_decimals(x: f64, decimals: i32) -> f64 {
    let scale = 10f64.powi(decimals);
    (x * scale).round_ties_even() / scale
}

/// CBPE's estimated ROC AUC; NaN when the expected positives or negatives total 0.
///
/// Rows are ordered by descending uncalibrated score. Rows with tied scores are taken in
/// reverse input order, the order NannyML's reversed ascending `argsort` gives (exactly so for
/// a stable sort); within a tie the order matters only when the calibrated probabilities of the
/// tied rows differ.
pub fn estimated_roc_auc(calibrated: &[f64], uncalibrated: &[f64]) -> Result<f64, MetricError> {
    check_aligned(calibrated.len(), uncalibrated.len())?;
    check_probabilities(calibrated)?;
    if let Some(index) = uncalibrated.iter().position(|v| v.is_nan()) {
        return Err(MetricError::NonFinite { index });
    }
    let mut order: Vec<usize> = (0..calibrated.len()).collect();
    order.sort_unstable_by(|&a, &b| uncalibrated[b].total_cmp(&uncalibrated[a]).then(b.cmp(&a)));

    // Cumulative expected TP/FP after each row, rounded; the curve starts at (0, 0).
    let n = order.len();
    let mut tps = Vec::with_capacity(n + 1);
    let mut fps = Vec::with_capacity(n + 1);
    tps.push(0.0);
    fps.push(0.0);
    let mut cumulative = 0.0;
    for (rank, &i) in order.iter().enumerate() {
        cumulative += calibrated[i];
        let tp = round_decimals(cumulative, ROC_AUC_ROUNDING_DECIMALS);
        tps.push(tp);
        fps.push(round_decimals(
            (rank + 1) as f64 - tp,
            ROC_AUC_ROUNDING_DECIMALS,
        ));
    }
    let (tp_total, fp_total) = (tps[n], fps[n]);
    if tp_total == 0.0 || fp_total == 0.0 {
        return Ok(f64::NAN);
    }
    let mut area = 0.0;
    for k in 1..=n {
        let dx = fps[k] / fp_total - fps[k - 1] / fp_total;
        area += dx * (tps[k] / tp_total + tps[k - 1] / tp_total) / 2.0;
    }
    Ok(area)
}

/// All CBPE estimates of a chunk from calibrated probabilities, predicted labels and the
/// uncalibrated scores (which only order the rows for ROC AUC).
pub fn estimate_metrics(
    calibrated: &[f64],
    y_pred: &[f64],
    uncalibrated: &[f64],
) -> Result<CbpeMetrics, MetricError> {
    let cm = expected_confusion(calibrated, y_pred)?;
    let roc_auc = estimated_roc_auc(calibrated, uncalibrated)?;
    Ok(CbpeMetrics {
        expected_confusion: cm,
        accuracy: cm.accuracy(),
        precision: cm.precision(),
        recall: cm.recall(),
        specificity: cm.specificity(),
        f1: cm.f1(),
        roc_auc,
    })
}

// ---------------------------------------------------------------------------------------------
// Calibration decision.

/// Why the calibration decision came out as it did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationReason {
    /// The reference labels hold a single class: nothing to calibrate against.
    SingleClass,
    /// Reference ROC AUC > 0.999: the scores already separate the classes.
    NearPerfectAuc,
    /// Some class has too few rows for stratified train/test splits.
    TooFewRows,
    /// Isotonic calibration lowered the cross-validated ECE.
    EceDecreased,
    /// Isotonic calibration did not lower the cross-validated ECE.
    EceNotDecreased,
    /// The caller forced calibration on or off.
    Forced,
}

/// The outcome of the calibration decision on the reference data.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationDecision {
    pub calibrate: bool,
    pub reason: CalibrationReason,
    /// Pooled out-of-fold ECE of the raw probabilities (when the folds were run).
    pub ece_before: Option<f64>,
    /// Pooled out-of-fold ECE of the isotonic-calibrated probabilities.
    pub ece_after: Option<f64>,
}

/// Settings of the calibration decision (NannyML's values by default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CalibrationCheckConfig {
    pub n_splits: usize,
    /// Fraction of rows in each test part; the test size is ⌈fraction·n⌉ as scikit-learn's.
    pub test_fraction: f64,
    pub n_bins: usize,
    pub seed: u64,
}

impl Default for CalibrationCheckConfig {
    fn default() -> Self {
        CalibrationCheckConfig {
            n_splits: 10,
            test_fraction: 0.1,
            n_bins: 10,
            seed: 42,
        }
    }
}

/// Test rows of one stratified shuffle split: each class contributes test rows in proportion
/// to its size (largest remainders, at least one row of each class left for training).
fn stratified_test_rows(
    class_rows: &[Vec<usize>],
    n_test: usize,
    rng: &mut Rng,
    scratch: &mut Vec<usize>,
) -> Vec<usize> {
    let n: usize = class_rows.iter().map(Vec::len).sum();
    let mut quota: Vec<usize> = class_rows.iter().map(|r| r.len() * n_test / n).collect();
    let mut remainders: Vec<(usize, usize)> = class_rows
        .iter()
        .enumerate()
        .map(|(c, r)| (r.len() * n_test % n, c))
        .collect();
    // Largest remainder first; equal remainders go to the smaller class index for determinism.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let mut missing = n_test - quota.iter().sum::<usize>();
    for &(_, c) in remainders.iter().cycle().take(2 * remainders.len()) {
        if missing == 0 {
            break;
        }
        if quota[c] + 1 < class_rows[c].len() {
            quota[c] += 1;
            missing -= 1;
        }
    }
    let mut test = Vec::with_capacity(n_test);
    for (rows, &k) in class_rows.iter().zip(&quota) {
        scratch.clear();
        scratch.extend_from_slice(rows);
        // A partial Fisher–Yates shuffle: the first k positions are a uniform random sample.
        for i in 0..k.min(scratch.len()) {
            let j = i + rng.below_usize(scratch.len() - i);
            scratch.swap(i, j);
        }
        test.extend_from_slice(&scratch[..k]);
    }
    test.sort_unstable();
    test
}

/// Decides, on labelled reference data, whether isotonic calibration improves the
/// probabilities (see the module documentation for the rule).
pub fn calibration_decision(
    y_true: &[f64],
    y_pred_proba: &[f64],
    config: &CalibrationCheckConfig,
) -> Result<CalibrationDecision, MetricError> {
    check_aligned(y_true.len(), y_pred_proba.len())?;
    check_binary(y_true)?;
    check_probabilities(y_pred_proba)?;
    if !(config.test_fraction > 0.0 && config.test_fraction < 1.0) {
        return Err(MetricError::InvalidParameter {
            name: "test_fraction",
            rule: "must be strictly between 0 and 1",
        });
    }
    if config.n_splits == 0 || config.n_bins == 0 {
        return Err(MetricError::InvalidParameter {
            name: "n_splits / n_bins",
            rule: "must be at least 1",
        });
    }
    let skip = |reason| CalibrationDecision {
        calibrate: false,
        reason,
        ece_before: None,
        ece_after: None,
    };
    let auc = match roc_auc(y_true, y_pred_proba) {
        Err(MetricError::SingleClass) => return Ok(skip(CalibrationReason::SingleClass)),
        other => other?,
    };
    if auc > 0.999 {
        return Ok(skip(CalibrationReason::NearPerfectAuc));
    }
    let n = y_true.len();
    let class_rows: Vec<Vec<usize>> = [0.0, 1.0]
        .iter()
        .map(|&c| (0..n).filter(|&i| y_true[i] == c).collect())
        .collect();
    let n_test = (config.test_fraction * n as f64).ceil() as usize;
    // scikit-learn requires at least two rows per class and at least one row of each class in
    // both the training and the test part.
    if class_rows.iter().any(|r| r.len() < 2) || n_test < 2 || n - n_test < 2 {
        return Ok(skip(CalibrationReason::TooFewRows));
    }

    let mut rng = Rng::seed_from_u64(config.seed);
    let mut scratch = Vec::new();
    let mut in_test = vec![false; n];
    let (mut train_x, mut train_y) = (Vec::new(), Vec::new());
    let mut pooled_true = Vec::with_capacity(n_test * config.n_splits);
    let mut pooled_raw = Vec::with_capacity(n_test * config.n_splits);
    let mut pooled_calibrated = Vec::with_capacity(n_test * config.n_splits);
    for _ in 0..config.n_splits {
        let test = stratified_test_rows(&class_rows, n_test, &mut rng, &mut scratch);
        in_test.iter_mut().for_each(|t| *t = false);
        for &i in &test {
            in_test[i] = true;
        }
        train_x.clear();
        train_y.clear();
        for i in (0..n).filter(|&i| !in_test[i]) {
            train_x.push(y_pred_proba[i]);
            train_y.push(y_true[i]);
        }
        let calibrator = IsotonicCalibrator::fit(&train_x, &train_y)?;
        for &i in &test {
            pooled_true.push(y_true[i]);
            pooled_raw.push(y_pred_proba[i]);
            pooled_calibrated.push(calibrator.predict(y_pred_proba[i]));
        }
    }
    let before = equal_count_calibration_error(&pooled_true, &pooled_raw, config.n_bins)?;
    let after = equal_count_calibration_error(&pooled_true, &pooled_calibrated, config.n_bins)?;
    let calibrate = after < before;
    Ok(CalibrationDecision {
        calibrate,
        reason: if calibrate {
            CalibrationReason::EceDecreased
        } else {
            CalibrationReason::EceNotDecreased
        },
        ece_before: Some(before),
        ece_after: Some(after),
    })
}

// ---------------------------------------------------------------------------------------------
// The fitted estimator.

/// Whether the estimator calibrates the probabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationPolicy {
    /// NannyML's cross-validated decision ([`calibration_decision`]).
    Auto,
    Always,
    Never,
}

/// Settings of [`CbpeEstimator::fit`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CbpeConfig {
    pub calibration: CalibrationPolicy,
    pub calibration_check: CalibrationCheckConfig,
    /// Width of the confidence band in sampling-error units (NannyML: 3).
    pub band_sigmas: f64,
    /// Width of the alert thresholds in standard deviations of the reference-chunk
    /// realized values (NannyML's `StandardDeviationThreshold`: 3).
    pub threshold_sigmas: f64,
}

impl Default for CbpeConfig {
    fn default() -> Self {
        CbpeConfig {
            calibration: CalibrationPolicy::Auto,
            calibration_check: CalibrationCheckConfig::default(),
            band_sigmas: 3.0,
            threshold_sigmas: 3.0,
        }
    }
}

/// What the estimator learned about one metric on the reference.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReferenceMetric {
    pub metric: Metric,
    /// The realized value on the whole reference (NaN when undefined).
    pub realized: f64,
    /// Standard deviation of the per-row contributions that make up the metric.
    pub sampling_std: f64,
    /// Fraction of reference rows that contribute to the metric (e.g. predicted positives for
    /// precision); a chunk of n rows has an effective size of n times this fraction.
    pub sampling_fraction: f64,
    /// Alert thresholds: mean ∓ k·std (population) of the realized values on the reference
    /// chunks, clipped to [0, 1]; None without reference chunks.
    pub lower_threshold: Option<f64>,
    pub upper_threshold: Option<f64>,
}

/// One metric's estimate on a chunk, with its band and alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EstimatedMetric {
    pub metric: Metric,
    pub value: f64,
    /// Estimated standard error: sampling_std / √(n · sampling_fraction).
    pub sampling_error: f64,
    /// value − k·sampling_error, clipped at 0.
    pub lower_confidence_bound: f64,
    /// value + k·sampling_error, clipped at 1.
    pub upper_confidence_bound: f64,
    pub lower_threshold: Option<f64>,
    pub upper_threshold: Option<f64>,
    /// The estimate lies outside the alert thresholds.
    pub alert: bool,
}

/// The CBPE result for one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CbpeEstimate {
    pub n_rows: usize,
    pub expected_confusion: ExpectedConfusion,
    pub metrics: Vec<EstimatedMetric>,
}

impl CbpeEstimate {
    /// The estimate of one metric, if CBPE estimates it.
    pub fn get(&self, metric: Metric) -> Option<&EstimatedMetric> {
        self.metrics.iter().find(|m| m.metric == metric)
    }
}

/// A CBPE model fitted on labelled reference data; serializable so it can be stored with the
/// monitored model and applied to later chunks.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CbpeEstimator {
    pub calibration: CalibrationDecision,
    /// The isotonic calibrator fitted on the whole reference, when calibrating.
    pub calibrator: Option<IsotonicCalibrator>,
    pub reference: Vec<ReferenceMetric>,
    pub band_sigmas: f64,
    pub n_reference_rows: usize,
}

/// Population standard deviation of 0/1 outcomes given as a count of ones out of n.
fn bernoulli_std(ones: usize, n: usize) -> f64 {
    if n == 0 {
        return f64::NAN;
    }
    let p = ones as f64 / n as f64;
    (p * (1.0 - p)).sqrt()
}

/// Population mean and standard deviation of the finite values.
fn mean_and_std(values: &[f64]) -> Option<(f64, f64)> {
    let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
    if finite.is_empty() {
        return None;
    }
    let n = finite.len() as f64;
    let mean = finite.iter().sum::<f64>() / n;
    let var = finite.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
    Some((mean, var.sqrt()))
}

/// Realized metric values on labelled rows, with undefined ratios as NaN.
fn realized(y_true: &[f64], y_pred: &[f64], scores: &[f64]) -> [f64; 6] {
    let (mut tp, mut fp, mut tn, mut fn_) = (0.0, 0.0, 0.0, 0.0);
    for (&t, &p) in y_true.iter().zip(y_pred) {
        match (t == 1.0, p == 1.0) {
            (true, true) => tp += 1.0,
            (false, true) => fp += 1.0,
            (false, false) => tn += 1.0,
            (true, false) => fn_ += 1.0,
        }
    }
    let cm = ExpectedConfusion {
        true_positives: tp,
        false_positives: fp,
        false_negatives: fn_,
        true_negatives: tn,
    };
    let auc = roc_auc(y_true, scores).unwrap_or(f64::NAN);
    // Same order as CBPE_METRICS.
    [
        auc,
        cm.f1(),
        cm.precision(),
        cm.recall(),
        cm.specificity(),
        cm.accuracy(),
    ]
}

/// The ROC AUC sampling-error components, following NannyML's approach: the minority class is
/// treated as "positive" (labels and scores flipped if needed), each of its rows gets its
/// placement value — the fraction of the other class ranked below it, ties counting one half —
/// and the component is the population std of those placements with the minority fraction.
fn roc_auc_components(y_true: &[f64], scores: &[f64]) -> (f64, f64) {
    let n = y_true.len();
    let positives = y_true.iter().filter(|&&y| y == 1.0).count();
    if positives == 0 || positives == n {
        return (f64::NAN, 0.0);
    }
    let flip = positives * 2 > n;
    let minority_label = if flip { 0.0 } else { 1.0 };
    let n_minority = if flip { n - positives } else { positives };
    let n_majority = n - n_minority;
    let oriented = |s: f64| if flip { -s } else { s };
    let mut rows: Vec<(f64, bool)> = y_true
        .iter()
        .zip(scores)
        .map(|(&y, &s)| (oriented(s), y == minority_label))
        .collect();
    rows.sort_unstable_by(|a, b| a.0.total_cmp(&b.0));
    let mut placements = Vec::with_capacity(n_minority);
    let mut majority_below = 0usize;
    let mut i = 0;
    while i < rows.len() {
        let mut j = i;
        let (mut tied_majority, mut tied_minority) = (0usize, 0usize);
        while j < rows.len() && rows[j].0 == rows[i].0 {
            if rows[j].1 {
                tied_minority += 1;
            } else {
                tied_majority += 1;
            }
            j += 1;
        }
        let placement = (majority_below as f64 + 0.5 * tied_majority as f64) / n_majority as f64;
        placements.extend(std::iter::repeat_n(placement, tied_minority));
        majority_below += tied_majority;
        i = j;
    }
    let (_, std) = mean_and_std(&placements).unwrap_or((f64::NAN, f64::NAN));
    (std, n_minority as f64 / n as f64)
}

impl CbpeEstimator {
    /// Fits CBPE on labelled reference data.
    ///
    /// `y_pred_proba` are the model's probabilities of class 1 (uncalibrated), `y_pred` its
    /// 0/1 predictions and `y_true` the labels. `reference_chunks` are row ranges of the
    /// reference whose realized metrics set the alert thresholds (none → no thresholds).
    pub fn fit(
        y_pred_proba: &[f64],
        y_pred: &[f64],
        y_true: &[f64],
        reference_chunks: &[Range<usize>],
        config: &CbpeConfig,
    ) -> Result<Self, MetricError> {
        check_aligned(y_pred_proba.len(), y_pred.len())?;
        check_aligned(y_pred_proba.len(), y_true.len())?;
        check_probabilities(y_pred_proba)?;
        check_binary(y_pred)?;
        check_binary(y_true)?;
        let n = y_true.len();
        if reference_chunks
            .iter()
            .any(|r| r.start >= r.end || r.end > n)
        {
            return Err(MetricError::InvalidParameter {
                name: "reference_chunks",
                rule: "every range must be non-empty and inside the reference rows",
            });
        }

        let calibration = match config.calibration {
            CalibrationPolicy::Auto => {
                calibration_decision(y_true, y_pred_proba, &config.calibration_check)?
            }
            policy => CalibrationDecision {
                calibrate: policy == CalibrationPolicy::Always,
                reason: CalibrationReason::Forced,
                ece_before: None,
                ece_after: None,
            },
        };
        let calibrator = if calibration.calibrate {
            Some(IsotonicCalibrator::fit(y_pred_proba, y_true)?)
        } else {
            None
        };

        // Sampling-error components: the std of the per-row outcome that each metric averages,
        // over the rows that metric looks at, and the share of rows it looks at.
        let count = |f: &dyn Fn(bool, bool) -> bool| {
            y_true
                .iter()
                .zip(y_pred)
                .filter(|&(&t, &p)| f(t == 1.0, p == 1.0))
                .count()
        };
        let tp = count(&|t, p| t && p);
        let fp = count(&|t, p| !t && p);
        let fn_ = count(&|t, p| t && !p);
        let tn = count(&|t, p| !t && !p);
        let frac = |k: usize| k as f64 / n as f64;
        let components = [
            roc_auc_components(y_true, y_pred_proba),
            // F1: rows that are not true negatives; the outcome is "is a true positive".
            (bernoulli_std(tp, tp + fp + fn_), frac(tp + fp + fn_)),
            // Precision: predicted positives; outcome "is correct".
            (bernoulli_std(tp, tp + fp), frac(tp + fp)),
            // Recall: actual positives.
            (bernoulli_std(tp, tp + fn_), frac(tp + fn_)),
            // Specificity: actual negatives.
            (bernoulli_std(tn, tn + fp), frac(tn + fp)),
            // Accuracy: every row.
            (bernoulli_std(tp + tn, n), 1.0),
        ];

        let whole = realized(y_true, y_pred, y_pred_proba);
        let per_chunk: Vec<[f64; 6]> = reference_chunks
            .iter()
            .map(|r| {
                let r = r.clone();
                realized(&y_true[r.clone()], &y_pred[r.clone()], &y_pred_proba[r])
            })
            .collect();
        let reference = CBPE_METRICS
            .iter()
            .enumerate()
            .map(|(k, &metric)| {
                let values: Vec<f64> = per_chunk.iter().map(|v| v[k]).collect();
                let limits = mean_and_std(&values).map(|(mean, std)| {
                    (
                        (mean - config.threshold_sigmas * std).clamp(0.0, 1.0),
                        (mean + config.threshold_sigmas * std).clamp(0.0, 1.0),
                    )
                });
                ReferenceMetric {
                    metric,
                    realized: whole[k],
                    sampling_std: components[k].0,
                    sampling_fraction: components[k].1,
                    lower_threshold: limits.map(|l| l.0),
                    upper_threshold: limits.map(|l| l.1),
                }
            })
            .collect();
        Ok(CbpeEstimator {
            calibration,
            calibrator,
            reference,
            band_sigmas: config.band_sigmas,
            n_reference_rows: n,
        })
    }

    /// The probabilities CBPE uses for a chunk (calibrated when the decision said so).
    pub fn calibrate(&self, y_pred_proba: &[f64]) -> Vec<f64> {
        match &self.calibrator {
            Some(c) => c.predict_many(y_pred_proba),
            None => y_pred_proba.to_vec(),
        }
    }

    /// Estimates every metric on an unlabelled chunk of probabilities and 0/1 predictions.
    pub fn estimate(
        &self,
        y_pred_proba: &[f64],
        y_pred: &[f64],
    ) -> Result<CbpeEstimate, MetricError> {
        check_aligned(y_pred_proba.len(), y_pred.len())?;
        check_probabilities(y_pred_proba)?;
        let calibrated = self.calibrate(y_pred_proba);
        let estimates = estimate_metrics(&calibrated, y_pred, y_pred_proba)?;
        let n = y_pred.len() as f64;
        let metrics = self
            .reference
            .iter()
            .map(|r| {
                let value = estimates.get(r.metric);
                let effective_n = n * r.sampling_fraction;
                let sampling_error = if effective_n > 0.0 {
                    r.sampling_std / effective_n.sqrt()
                } else {
                    f64::NAN
                };
                let half_width = self.band_sigmas * sampling_error;
                let outside_lower = r.lower_threshold.is_some_and(|l| value < l);
                let outside_upper = r.upper_threshold.is_some_and(|u| value > u);
                EstimatedMetric {
                    metric: r.metric,
                    value,
                    sampling_error,
                    lower_confidence_bound: (value - half_width).max(0.0),
                    upper_confidence_bound: (value + half_width).min(1.0),
                    lower_threshold: r.lower_threshold,
                    upper_threshold: r.upper_threshold,
                    alert: outside_lower || outside_upper,
                }
            })
            .collect();
        Ok(CbpeEstimate {
            n_rows: y_pred.len(),
            expected_confusion: estimates.expected_confusion,
            metrics,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + b.abs())
    }

    #[test]
    fn expected_confusion_by_hand() {
        let p = [0.9, 0.6, 0.2, 0.4];
        let pred = [1.0, 1.0, 0.0, 0.0];
        let m = estimate_metrics(&p, &pred, &p).unwrap();
        let cm = m.expected_confusion;
        assert!(close(cm.true_positives, 1.5));
        assert!(close(cm.false_positives, 0.5));
        assert!(close(cm.false_negatives, 0.6));
        assert!(close(cm.true_negatives, 1.4));
        assert!(close(m.accuracy, 2.9 / 4.0));
        assert!(close(m.precision, 0.75));
        assert!(close(m.recall, 1.5 / 2.1));
        assert!(close(m.specificity, 1.4 / 1.9));
        assert!(close(m.f1, 3.0 / 4.1));
        // No predicted positives: precision is undefined.
        let m = estimate_metrics(&p, &[0.0; 4], &p).unwrap();
        assert!(m.precision.is_nan());
    }

    #[test]
    fn estimated_auc_by_hand() {
        // Descending score order: p = 0.9, 0.6, 0.4, 0.2 → TP 0.9, 1.5, 1.9, 2.1 and
        // FP 0.1, 0.5, 1.1, 1.9. Normalised: fpr = 0, 1/19, 5/19, 11/19, 1;
        // tpr = 0, 9/21, 15/21, 19/21, 1.
        let p = [0.2, 0.9, 0.4, 0.6];
        let auc = estimated_roc_auc(&p, &p).unwrap();
        let fpr = [0.0, 1.0 / 19.0, 5.0 / 19.0, 11.0 / 19.0, 1.0];
        let tpr = [0.0, 9.0 / 21.0, 15.0 / 21.0, 19.0 / 21.0, 1.0];
        let expected: f64 = (1..5)
            .map(|k| (fpr[k] - fpr[k - 1]) * (tpr[k] + tpr[k - 1]) / 2.0)
            .sum();
        assert!(close(auc, expected));
        // Order comes from the uncalibrated scores, not from p.
        let reversed = estimated_roc_auc(&p, &[0.8, 0.1, 0.6, 0.4]).unwrap();
        assert!(reversed < 0.5);
        assert!(
            estimated_roc_auc(&[0.0, 0.0], &[0.3, 0.2])
                .unwrap()
                .is_nan()
        );
        assert_eq!(round_decimals(0.000_005, 5), 0.0);
        assert_eq!(round_decimals(1.234_565_1, 5), 1.23457);
    }

    /// A reference where P(y = 1) = score exactly (well calibrated) and predictions at 0.5.
    fn calibrated_sample(seed: u64, n: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let mut rng = Rng::seed_from_u64(seed);
        let proba: Vec<f64> = (0..n).map(|_| rng.next_f64()).collect();
        let y_true = proba
            .iter()
            .map(|&p| if rng.next_f64() < p { 1.0 } else { 0.0 })
            .collect();
        let y_pred = proba
            .iter()
            .map(|&p| if p >= 0.5 { 1.0 } else { 0.0 })
            .collect();
        (proba, y_pred, y_true)
    }

    #[test]
    fn estimator_tracks_realized_accuracy_on_calibrated_data() {
        let (proba, pred, truth) = calibrated_sample(1, 20_000);
        let chunks: Vec<Range<usize>> = (0..10).map(|k| k * 2000..(k + 1) * 2000).collect();
        let est =
            CbpeEstimator::fit(&proba, &pred, &truth, &chunks, &CbpeConfig::default()).unwrap();
        let (cp, cpred, ctruth) = calibrated_sample(2, 5000);
        let out = est.estimate(&cp, &cpred).unwrap();
        let acc = out.get(Metric::Accuracy).unwrap();
        let realized = crate::metrics::accuracy(&ctruth, &cpred).unwrap();
        // Uniform p and threshold 0.5 give accuracy 0.75; the estimate must be within a few
        // sampling errors of the realized value.
        assert!((acc.value - 0.75).abs() < 0.02, "{acc:?}");
        assert!(
            (acc.value - realized).abs() < 4.0 * acc.sampling_error,
            "{acc:?} {realized}"
        );
        assert!(acc.lower_confidence_bound < acc.value && acc.value < acc.upper_confidence_bound);
        assert!(!acc.alert);
        let auc = out.get(Metric::RocAuc).unwrap();
        assert!((auc.value - 0.8333).abs() < 0.02, "{auc:?}");
        assert!(auc.sampling_error > 0.0 && auc.sampling_error < 0.02);

        // serde_json's default float parser may be off by one ulp, so the restored estimator is
        // compared by what it computes.
        let json = serde_json::to_string(&est).unwrap();
        let back: CbpeEstimator = serde_json::from_str(&json).unwrap();
        assert_eq!(back.calibration, est.calibration);
        let again = back.estimate(&cp, &cpred).unwrap();
        for (a, b) in again.metrics.iter().zip(&out.metrics) {
            assert!(close(a.value, b.value) && close(a.sampling_error, b.sampling_error));
        }
    }

    #[test]
    fn miscalibrated_reference_is_calibrated_and_then_corrected() {
        // The model reports p² while the truth is p: isotonic calibration should be chosen and
        // bring the estimated accuracy back to the realized one.
        let (proba, pred, truth) = calibrated_sample(5, 20_000);
        let squashed: Vec<f64> = proba.iter().map(|p| p * p).collect();
        let decision =
            calibration_decision(&truth, &squashed, &CalibrationCheckConfig::default()).unwrap();
        assert!(decision.calibrate, "{decision:?}");
        assert!(decision.ece_after.unwrap() < decision.ece_before.unwrap());

        let est =
            CbpeEstimator::fit(&squashed, &pred, &truth, &[], &CbpeConfig::default()).unwrap();
        assert!(est.calibrator.is_some());
        let (cp, cpred, ctruth) = calibrated_sample(6, 5000);
        let csquashed: Vec<f64> = cp.iter().map(|p| p * p).collect();
        let out = est.estimate(&csquashed, &cpred).unwrap();
        let acc = out.get(Metric::Accuracy).unwrap();
        let realized = crate::metrics::accuracy(&ctruth, &cpred).unwrap();
        assert!((acc.value - realized).abs() < 0.03, "{acc:?} {realized}");
        assert_eq!(acc.lower_threshold, None);

        // On already calibrated data isotonic has nothing to fix.
        let decision =
            calibration_decision(&truth, &proba, &CalibrationCheckConfig::default()).unwrap();
        assert_eq!(
            decision.reason == CalibrationReason::EceDecreased,
            decision.calibrate
        );
    }

    #[test]
    fn calibration_decision_skips_degenerate_references() {
        let cfg = CalibrationCheckConfig::default();
        let single = calibration_decision(&[1.0, 1.0, 1.0], &[0.2, 0.5, 0.9], &cfg).unwrap();
        assert_eq!(single.reason, CalibrationReason::SingleClass);
        assert!(!single.calibrate);
        let perfect =
            calibration_decision(&[0.0, 0.0, 1.0, 1.0], &[0.1, 0.2, 0.8, 0.9], &cfg).unwrap();
        assert_eq!(perfect.reason, CalibrationReason::NearPerfectAuc);
        let tiny = calibration_decision(&[0.0, 1.0, 1.0], &[0.6, 0.2, 0.9], &cfg).unwrap();
        assert_eq!(tiny.reason, CalibrationReason::TooFewRows);
    }

    #[test]
    fn stratified_split_keeps_class_proportions() {
        let labels: Vec<f64> = (0..100).map(|i| if i < 30 { 1.0 } else { 0.0 }).collect();
        let class_rows: Vec<Vec<usize>> = [0.0, 1.0]
            .iter()
            .map(|&c| (0..100).filter(|&i| labels[i] == c).collect())
            .collect();
        let mut rng = Rng::seed_from_u64(1);
        let mut scratch = Vec::new();
        let a = stratified_test_rows(&class_rows, 10, &mut rng, &mut scratch);
        let b = stratified_test_rows(&class_rows, 10, &mut rng, &mut scratch);
        assert_eq!(a.len(), 10);
        assert_eq!(a.iter().filter(|&&i| labels[i] == 1.0).count(), 3);
        assert_ne!(a, b);
        let mut dedup = a.clone();
        dedup.dedup();
        assert_eq!(dedup, a);
    }

    #[test]
    fn alerts_fire_outside_the_reference_thresholds() {
        let (proba, pred, truth) = calibrated_sample(9, 10_000);
        let chunks: Vec<Range<usize>> = (0..10).map(|k| k * 1000..(k + 1) * 1000).collect();
        let config = CbpeConfig {
            calibration: CalibrationPolicy::Never,
            ..CbpeConfig::default()
        };
        let est = CbpeEstimator::fit(&proba, &pred, &truth, &chunks, &config).unwrap();
        assert!(est.calibrator.is_none());
        // A chunk where every probability sits at 0.5 looks like a coin-flip model.
        let flat = vec![0.5; 1000];
        let flat_pred = vec![1.0; 1000];
        let out = est.estimate(&flat, &flat_pred).unwrap();
        let acc = out.get(Metric::Accuracy).unwrap();
        assert!(close(acc.value, 0.5));
        assert!(acc.alert, "{acc:?}");
        assert!(acc.upper_threshold.unwrap() < 0.85 && acc.lower_threshold.unwrap() > 0.65);
    }
}
