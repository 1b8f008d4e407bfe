//! Model-quality metrics for binary and multiclass classification and for regression,
//! following scikit-learn's definitions and conventions.
//!
//! Conventions (all chosen to agree with scikit-learn 1.9 so that numbers can be compared):
//!
//! * Binary labels are `f64` values that must be exactly `0.0` or `1.0`; `1.0` is the positive
//!   class. Class labels for multiclass metrics are `usize` indices.
//! * A predicted score is "positive at threshold t" when `score >= t` (scikit-learn's
//!   `roc_curve` convention).
//! * Zero division: when a ratio has a zero denominator (precision with no predicted
//!   positives, recall with no actual positives, F1 with neither, …) the value is `0.0` and the
//!   returned [`MetricValue`] has `ill_defined == true`, like scikit-learn's default
//!   `zero_division="warn"` which returns 0 and warns. R² of fewer than two samples is NaN,
//!   also flagged.
//! * ROC AUC: trapezoidal area under the ROC curve over the *distinct* score thresholds, so
//!   tied scores form one diagonal step (a tie between a positive and a negative counts ½).
//!   It needs both classes and fails with [`MetricError::SingleClass`] otherwise.
//! * Average precision: the step sum Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds (not the
//!   interpolated area), as `average_precision_score`. It needs at least one positive.
//! * Log loss clips every probability to [ε, 1 − ε] with ε = `f64::EPSILON` (2.22e-16), the
//!   machine epsilon of the input dtype that scikit-learn ≥ 1.5 uses. A binary probability `p`
//!   is expanded into the two columns `[1 − p, p]` before clipping. Probabilities outside
//!   [0, 1] are rejected; rows are not renormalised (scikit-learn only warns).
//! * MAPE is the fraction (not percent) mean |y − ŷ| / max(|y|, ε) with ε = `f64::EPSILON`.
//! * R² is 1 − SS_res/SS_tot with scikit-learn's `force_finite` rule: when SS_tot is 0 the
//!   score is 1 if the predictions are perfect and 0 otherwise.
//!
//! Every function validates its input and returns a [`MetricError`] instead of panicking.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Why a metric could not be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricError {
    /// The input has no rows.
    Empty,
    /// Two inputs that must be aligned row by row have different lengths.
    LengthMismatch { expected: usize, found: usize },
    /// The metric needs both classes (e.g. ROC AUC) but the labels hold only one,
    /// or it needs a positive label (average precision, precision–recall curve) and there is none.
    SingleClass,
    /// A binary label that is not 0 or 1, or a class label that is out of range.
    InvalidLabel { index: usize, value: f64 },
    /// A NaN or infinite value where a finite number is required.
    NonFinite { index: usize },
    /// A probability outside [0, 1].
    ProbabilityOutOfRange { index: usize, value: f64 },
    /// A parameter outside its valid range (the name of the parameter and the rule).
    InvalidParameter {
        name: &'static str,
        rule: &'static str,
    },
    /// A metric name that [`Metric::from_str`] does not know.
    UnknownMetric(String),
}

impl fmt::Display for MetricError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MetricError::Empty => write!(f, "empty input"),
            MetricError::LengthMismatch { expected, found } => {
                write!(
                    f,
                    "length mismatch: expected {expected} values, found {found}"
                )
            }
            MetricError::SingleClass => {
                write!(f, "only one class is present; the metric needs both")
            }
            MetricError::InvalidLabel { index, value } => {
                write!(f, "invalid label {value} at index {index}")
            }
            MetricError::NonFinite { index } => write!(f, "non-finite value at index {index}"),
            MetricError::ProbabilityOutOfRange { index, value } => {
                write!(f, "probability {value} at index {index} is outside [0, 1]")
            }
            MetricError::InvalidParameter { name, rule } => {
                write!(f, "invalid parameter {name}: {rule}")
            }
            MetricError::UnknownMetric(name) => write!(f, "unknown metric {name:?}"),
        }
    }
}

impl std::error::Error for MetricError {}

/// A metric value together with a flag telling whether a zero division (or too few samples)
/// made it undefined, in which case `value` holds the conventional substitute.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MetricValue {
    pub value: f64,
    pub ill_defined: bool,
}

impl MetricValue {
    fn defined(value: f64) -> Self {
        MetricValue {
            value,
            ill_defined: false,
        }
    }

    /// `numerator / denominator`, or 0 flagged as ill-defined when the denominator is 0.
    fn ratio(numerator: f64, denominator: f64) -> Self {
        if denominator == 0.0 {
            MetricValue {
                value: 0.0,
                ill_defined: true,
            }
        } else {
            MetricValue::defined(numerator / denominator)
        }
    }
}

/// What a metric expects as its second input in [`evaluate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PredictionKind {
    /// Predicted binary labels, each 0 or 1.
    BinaryLabels,
    /// Predicted class labels (non-negative integers), binary or multiclass.
    ClassLabels,
    /// Scores ranking the positive class (any finite numbers).
    Scores,
    /// Predicted probabilities of the positive class, in [0, 1].
    Probabilities,
    /// Real-valued regression predictions.
    Values,
}

/// A named metric that [`evaluate`] can compute from two aligned columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    Accuracy,
    Precision,
    Recall,
    F1,
    Specificity,
    RocAuc,
    AveragePrecision,
    LogLoss,
    Brier,
    F1Macro,
    F1Micro,
    F1Weighted,
    Mae,
    Mse,
    Rmse,
    R2,
    Mape,
}

impl Metric {
    /// Every metric, in a stable order (for listings and help texts).
    pub const ALL: [Metric; 17] = [
        Metric::Accuracy,
        Metric::Precision,
        Metric::Recall,
        Metric::F1,
        Metric::Specificity,
        Metric::RocAuc,
        Metric::AveragePrecision,
        Metric::LogLoss,
        Metric::Brier,
        Metric::F1Macro,
        Metric::F1Micro,
        Metric::F1Weighted,
        Metric::Mae,
        Metric::Mse,
        Metric::Rmse,
        Metric::R2,
        Metric::Mape,
    ];

    /// The metric's stable string name (the same as its serde form).
    pub fn name(self) -> &'static str {
        match self {
            Metric::Accuracy => "accuracy",
            Metric::Precision => "precision",
            Metric::Recall => "recall",
            Metric::F1 => "f1",
            Metric::Specificity => "specificity",
            Metric::RocAuc => "roc_auc",
            Metric::AveragePrecision => "average_precision",
            Metric::LogLoss => "log_loss",
            Metric::Brier => "brier",
            Metric::F1Macro => "f1_macro",
            Metric::F1Micro => "f1_micro",
            Metric::F1Weighted => "f1_weighted",
            Metric::Mae => "mae",
            Metric::Mse => "mse",
            Metric::Rmse => "rmse",
            Metric::R2 => "r2",
            Metric::Mape => "mape",
        }
    }

    /// Whether a larger value means a better model (false for losses and errors).
    pub fn higher_is_better(self) -> bool {
        !matches!(
            self,
            Metric::LogLoss
                | Metric::Brier
                | Metric::Mae
                | Metric::Mse
                | Metric::Rmse
                | Metric::Mape
        )
    }

    /// What the metric expects as predictions in [`evaluate`].
    pub fn prediction_kind(self) -> PredictionKind {
        match self {
            Metric::Precision | Metric::Recall | Metric::F1 | Metric::Specificity => {
                PredictionKind::BinaryLabels
            }
            Metric::Accuracy | Metric::F1Macro | Metric::F1Micro | Metric::F1Weighted => {
                PredictionKind::ClassLabels
            }
            Metric::RocAuc | Metric::AveragePrecision => PredictionKind::Scores,
            Metric::LogLoss | Metric::Brier => PredictionKind::Probabilities,
            Metric::Mae | Metric::Mse | Metric::Rmse | Metric::R2 | Metric::Mape => {
                PredictionKind::Values
            }
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Metric {
    type Err = MetricError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        Metric::ALL
            .into_iter()
            .find(|m| m.name() == wanted)
            .ok_or_else(|| MetricError::UnknownMetric(s.to_string()))
    }
}

/// Computes `metric` from aligned true values and predictions; see [`evaluate_detailed`].
pub fn evaluate(metric: Metric, y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    evaluate_detailed(metric, y_true, y_pred).map(|v| v.value)
}

/// Computes `metric` and reports whether a zero division made it ill-defined.
///
/// `y_pred` must be of the metric's [`Metric::prediction_kind`]: 0/1 labels for precision,
/// recall, F1 and specificity; class labels (non-negative integers) for accuracy and the
/// averaged F1 scores, in which case `y_true` holds class labels too; scores for ROC AUC and
/// average precision; probabilities for log loss and Brier; values for regression metrics.
/// To evaluate label metrics on scores, threshold them with [`binary_confusion`] first.
pub fn evaluate_detailed(
    metric: Metric,
    y_true: &[f64],
    y_pred: &[f64],
) -> Result<MetricValue, MetricError> {
    let plain = |r: Result<f64, MetricError>| r.map(MetricValue::defined);
    match metric {
        Metric::Accuracy => {
            let (t, p) = class_labels_pair(y_true, y_pred)?;
            plain(multiclass_accuracy(&t, &p))
        }
        Metric::Precision => Ok(confusion_from_labels(y_true, y_pred)?.precision()),
        Metric::Recall => Ok(confusion_from_labels(y_true, y_pred)?.recall()),
        Metric::F1 => Ok(confusion_from_labels(y_true, y_pred)?.f1()),
        Metric::Specificity => Ok(confusion_from_labels(y_true, y_pred)?.specificity()),
        Metric::RocAuc => plain(roc_auc(y_true, y_pred)),
        Metric::AveragePrecision => plain(average_precision(y_true, y_pred)),
        Metric::LogLoss => plain(log_loss(y_true, y_pred)),
        Metric::Brier => plain(brier_score(y_true, y_pred)),
        Metric::F1Macro | Metric::F1Micro | Metric::F1Weighted => {
            let (t, p) = class_labels_pair(y_true, y_pred)?;
            let average = match metric {
                Metric::F1Macro => Average::Macro,
                Metric::F1Micro => Average::Micro,
                _ => Average::Weighted,
            };
            multiclass_f1(&t, &p, average)
        }
        Metric::Mae => plain(mean_absolute_error(y_true, y_pred)),
        Metric::Mse => plain(mean_squared_error(y_true, y_pred)),
        Metric::Rmse => plain(root_mean_squared_error(y_true, y_pred)),
        Metric::R2 => r2_score(y_true, y_pred),
        Metric::Mape => plain(mean_absolute_percentage_error(y_true, y_pred)),
    }
}

// ---------------------------------------------------------------------------------------------
// Validation helpers.

fn check_lengths(a: usize, b: usize) -> Result<(), MetricError> {
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

/// Reads a binary label, rejecting anything but exactly 0 or 1.
fn binary_label(value: f64, index: usize) -> Result<bool, MetricError> {
    if value == 1.0 {
        Ok(true)
    } else if value == 0.0 {
        Ok(false)
    } else {
        Err(MetricError::InvalidLabel { index, value })
    }
}

fn check_finite(values: &[f64]) -> Result<(), MetricError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(index) => Err(MetricError::NonFinite { index }),
        None => Ok(()),
    }
}

fn check_probabilities(values: &[f64]) -> Result<(), MetricError> {
    for (index, &value) in values.iter().enumerate() {
        if value.is_nan() {
            return Err(MetricError::NonFinite { index });
        }
        if !(0.0..=1.0).contains(&value) {
            return Err(MetricError::ProbabilityOutOfRange { index, value });
        }
    }
    Ok(())
}

/// Converts a float class label to an index, rejecting negative and fractional values.
fn class_label(value: f64, index: usize) -> Result<usize, MetricError> {
    if value >= 0.0 && value.fract() == 0.0 && value < u32::MAX as f64 {
        Ok(value as usize)
    } else {
        Err(MetricError::InvalidLabel { index, value })
    }
}

fn class_labels_pair(
    y_true: &[f64],
    y_pred: &[f64],
) -> Result<(Vec<usize>, Vec<usize>), MetricError> {
    check_lengths(y_true.len(), y_pred.len())?;
    let convert = |v: &[f64]| -> Result<Vec<usize>, MetricError> {
        v.iter()
            .enumerate()
            .map(|(i, &x)| class_label(x, i))
            .collect()
    };
    Ok((convert(y_true)?, convert(y_pred)?))
}

// ---------------------------------------------------------------------------------------------
// Binary classification from labels.

/// The 2×2 confusion matrix of a binary classifier (counts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BinaryConfusion {
    pub true_positives: u64,
    pub false_positives: u64,
    pub true_negatives: u64,
    pub false_negatives: u64,
}

impl BinaryConfusion {
    /// Number of rows counted.
    pub fn total(&self) -> u64 {
        self.true_positives + self.false_positives + self.true_negatives + self.false_negatives
    }

    /// (TP + TN) / n; ill-defined only for an empty matrix.
    pub fn accuracy(&self) -> MetricValue {
        MetricValue::ratio(
            (self.true_positives + self.true_negatives) as f64,
            self.total() as f64,
        )
    }

    /// TP / (TP + FP); 0 (flagged) when nothing is predicted positive.
    pub fn precision(&self) -> MetricValue {
        MetricValue::ratio(
            self.true_positives as f64,
            (self.true_positives + self.false_positives) as f64,
        )
    }

    /// TP / (TP + FN); 0 (flagged) when there is no actual positive.
    pub fn recall(&self) -> MetricValue {
        MetricValue::ratio(
            self.true_positives as f64,
            (self.true_positives + self.false_negatives) as f64,
        )
    }

    /// TN / (TN + FP); 0 (flagged) when there is no actual negative.
    pub fn specificity(&self) -> MetricValue {
        MetricValue::ratio(
            self.true_negatives as f64,
            (self.true_negatives + self.false_positives) as f64,
        )
    }

    /// 2·TP / (2·TP + FP + FN), the harmonic mean of precision and recall written so that it
    /// is defined whenever either is; 0 (flagged) when there are no positives at all.
    pub fn f1(&self) -> MetricValue {
        let tp2 = 2.0 * self.true_positives as f64;
        MetricValue::ratio(
            tp2,
            tp2 + (self.false_positives + self.false_negatives) as f64,
        )
    }
}

/// The confusion matrix of predicted 0/1 labels against true 0/1 labels.
pub fn confusion_from_labels(
    y_true: &[f64],
    y_pred: &[f64],
) -> Result<BinaryConfusion, MetricError> {
    check_lengths(y_true.len(), y_pred.len())?;
    let mut cm = BinaryConfusion::default();
    for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
        let actual = binary_label(t, i)?;
        let predicted = binary_label(p, i)?;
        tally(&mut cm, actual, predicted);
    }
    Ok(cm)
}

/// The confusion matrix obtained by predicting positive when `score >= threshold`.
pub fn binary_confusion(
    y_true: &[f64],
    y_score: &[f64],
    threshold: f64,
) -> Result<BinaryConfusion, MetricError> {
    check_lengths(y_true.len(), y_score.len())?;
    if threshold.is_nan() {
        return Err(MetricError::InvalidParameter {
            name: "threshold",
            rule: "must not be NaN",
        });
    }
    let mut cm = BinaryConfusion::default();
    for (i, (&t, &s)) in y_true.iter().zip(y_score).enumerate() {
        let actual = binary_label(t, i)?;
        if s.is_nan() {
            return Err(MetricError::NonFinite { index: i });
        }
        tally(&mut cm, actual, s >= threshold);
    }
    Ok(cm)
}

fn tally(cm: &mut BinaryConfusion, actual: bool, predicted: bool) {
    match (actual, predicted) {
        (true, true) => cm.true_positives += 1,
        (false, true) => cm.false_positives += 1,
        (false, false) => cm.true_negatives += 1,
        (true, false) => cm.false_negatives += 1,
    }
}

/// Fraction of 0/1 predictions equal to the 0/1 truth.
pub fn accuracy(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    Ok(confusion_from_labels(y_true, y_pred)?.accuracy().value)
}

/// Precision of 0/1 predictions (0, flagged, when nothing is predicted positive).
pub fn precision(y_true: &[f64], y_pred: &[f64]) -> Result<MetricValue, MetricError> {
    Ok(confusion_from_labels(y_true, y_pred)?.precision())
}

/// Recall (sensitivity) of 0/1 predictions (0, flagged, without actual positives).
pub fn recall(y_true: &[f64], y_pred: &[f64]) -> Result<MetricValue, MetricError> {
    Ok(confusion_from_labels(y_true, y_pred)?.recall())
}

/// Specificity (true-negative rate) of 0/1 predictions (0, flagged, without actual negatives).
pub fn specificity(y_true: &[f64], y_pred: &[f64]) -> Result<MetricValue, MetricError> {
    Ok(confusion_from_labels(y_true, y_pred)?.specificity())
}

/// F1 score of 0/1 predictions (0, flagged, when neither truth nor prediction has a positive).
pub fn f1(y_true: &[f64], y_pred: &[f64]) -> Result<MetricValue, MetricError> {
    Ok(confusion_from_labels(y_true, y_pred)?.f1())
}

// ---------------------------------------------------------------------------------------------
// Binary classification from scores: ROC and precision–recall.

/// Cumulative counts at each distinct score threshold, highest threshold first.
struct ThresholdSweep {
    thresholds: Vec<f64>,
    /// True positives among rows with `score >= threshold`.
    tps: Vec<u64>,
    /// False positives among rows with `score >= threshold`.
    fps: Vec<u64>,
}

/// Validates labels and scores and returns (score, is_positive) pairs sorted by descending
/// score, plus the number of positives.
fn sorted_pairs(y_true: &[f64], y_score: &[f64]) -> Result<(Vec<(f64, bool)>, u64), MetricError> {
    check_lengths(y_true.len(), y_score.len())?;
    check_finite(y_score)?;
    let mut positives = 0u64;
    let mut pairs = Vec::with_capacity(y_true.len());
    for (i, (&t, &s)) in y_true.iter().zip(y_score).enumerate() {
        let label = binary_label(t, i)?;
        positives += u64::from(label);
        pairs.push((s, label));
    }
    pairs.sort_unstable_by(|a, b| b.0.total_cmp(&a.0));
    Ok((pairs, positives))
}

/// Walks the sorted pairs once and records the cumulative counts at the end of every group of
/// tied scores; ties therefore move the curve diagonally, exactly like scikit-learn.
fn sweep(pairs: &[(f64, bool)]) -> ThresholdSweep {
    let mut out = ThresholdSweep {
        thresholds: Vec::new(),
        tps: Vec::new(),
        fps: Vec::new(),
    };
    let (mut tp, mut fp) = (0u64, 0u64);
    for (i, &(score, positive)) in pairs.iter().enumerate() {
        if positive {
            tp += 1;
        } else {
            fp += 1;
        }
        let group_ends = pairs.get(i + 1).is_none_or(|next| next.0 != score);
        if group_ends {
            out.thresholds.push(score);
            out.tps.push(tp);
            out.fps.push(fp);
        }
    }
    out
}

/// Area under the ROC curve (trapezoid over distinct thresholds; ties count one half).
///
/// Fails with [`MetricError::SingleClass`] when `y_true` holds only one class.
pub fn roc_auc(y_true: &[f64], y_score: &[f64]) -> Result<f64, MetricError> {
    let (pairs, positives) = sorted_pairs(y_true, y_score)?;
    let negatives = pairs.len() as u64 - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricError::SingleClass);
    }
    // The area is accumulated in units of (one negative) × (half a positive) so that every
    // term is an integer and the sum is exact up to 2^53; it is normalised once at the end.
    let (mut tp, mut fp) = (0u64, 0u64);
    let (mut prev_tp, mut prev_fp) = (0u64, 0u64);
    let mut doubled_area = 0.0f64;
    for (i, &(score, positive)) in pairs.iter().enumerate() {
        if positive {
            tp += 1;
        } else {
            fp += 1;
        }
        if pairs.get(i + 1).is_none_or(|next| next.0 != score) {
            doubled_area += ((fp - prev_fp) as f64) * ((tp + prev_tp) as f64);
            prev_tp = tp;
            prev_fp = fp;
        }
    }
    Ok(doubled_area / (2.0 * positives as f64 * negatives as f64))
}

/// Average precision: Σ (Rₙ − Rₙ₋₁)·Pₙ over distinct thresholds in decreasing order.
///
/// Fails with [`MetricError::SingleClass`] when there is no positive label (recall would be
/// undefined); with only positives it is 1.
pub fn average_precision(y_true: &[f64], y_score: &[f64]) -> Result<f64, MetricError> {
    let (pairs, positives) = sorted_pairs(y_true, y_score)?;
    if positives == 0 {
        return Err(MetricError::SingleClass);
    }
    let curve = sweep(&pairs);
    let total = positives as f64;
    let mut ap = 0.0;
    let mut prev_recall = 0.0;
    for (&tp, &fp) in curve.tps.iter().zip(&curve.fps) {
        let recall = tp as f64 / total;
        let precision = tp as f64 / (tp + fp) as f64;
        ap += (recall - prev_recall) * precision;
        prev_recall = recall;
    }
    Ok(ap.max(0.0))
}

/// Points of the ROC curve, in order of decreasing threshold, starting at (0, 0).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RocCurve {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
    /// `thresholds[i]` is the smallest score predicted positive at point i; the first is
    /// +∞ (nothing predicted positive). JSON has no infinity, so it serializes as `null`.
    pub thresholds: Vec<f64>,
}

/// The ROC curve (false-positive rate, true-positive rate) at every distinct threshold.
///
/// With `drop_intermediate` the points that do not change the curve's shape are removed with
/// scikit-learn's rule: an inner point is kept only where the second difference of the FP or
/// the TP counts is non-zero (a corner). Needs both classes.
pub fn roc_curve(
    y_true: &[f64],
    y_score: &[f64],
    drop_intermediate: bool,
) -> Result<RocCurve, MetricError> {
    let (pairs, positives) = sorted_pairs(y_true, y_score)?;
    let negatives = pairs.len() as u64 - positives;
    if positives == 0 || negatives == 0 {
        return Err(MetricError::SingleClass);
    }
    let s = sweep(&pairs);
    let m = s.tps.len();
    let keep = |i: usize| -> bool {
        if !drop_intermediate || m <= 2 || i == 0 || i == m - 1 {
            return true;
        }
        let second_diff = |v: &[u64]| v[i + 1] as i128 - 2 * v[i] as i128 + v[i - 1] as i128;
        second_diff(&s.fps) != 0 || second_diff(&s.tps) != 0
    };
    let mut curve = RocCurve {
        fpr: vec![0.0],
        tpr: vec![0.0],
        thresholds: vec![f64::INFINITY],
    };
    for i in (0..m).filter(|&i| keep(i)) {
        curve.fpr.push(s.fps[i] as f64 / negatives as f64);
        curve.tpr.push(s.tps[i] as f64 / positives as f64);
        curve.thresholds.push(s.thresholds[i]);
    }
    Ok(curve)
}

/// Points of the precision–recall curve in scikit-learn's layout: thresholds increasing, and
/// `precision`/`recall` one longer than `thresholds`, ending with the point (recall 0, precision 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PrecisionRecallCurve {
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
    pub thresholds: Vec<f64>,
}

/// Precision and recall at every distinct threshold (for plotting). Needs a positive label.
pub fn precision_recall_curve(
    y_true: &[f64],
    y_score: &[f64],
) -> Result<PrecisionRecallCurve, MetricError> {
    let (pairs, positives) = sorted_pairs(y_true, y_score)?;
    if positives == 0 {
        return Err(MetricError::SingleClass);
    }
    let s = sweep(&pairs);
    let m = s.tps.len();
    let mut curve = PrecisionRecallCurve {
        precision: Vec::with_capacity(m + 1),
        recall: Vec::with_capacity(m + 1),
        thresholds: Vec::with_capacity(m),
    };
    for i in (0..m).rev() {
        let tp = s.tps[i] as f64;
        curve.precision.push(tp / (s.tps[i] + s.fps[i]) as f64);
        curve.recall.push(tp / positives as f64);
        curve.thresholds.push(s.thresholds[i]);
    }
    curve.precision.push(1.0);
    curve.recall.push(0.0);
    Ok(curve)
}

// ---------------------------------------------------------------------------------------------
// Probabilistic losses.

/// Mean binary cross-entropy of positive-class probabilities, clipped to [ε, 1 − ε].
pub fn log_loss(y_true: &[f64], y_prob: &[f64]) -> Result<f64, MetricError> {
    check_lengths(y_true.len(), y_prob.len())?;
    check_probabilities(y_prob)?;
    let eps = f64::EPSILON;
    let mut total = 0.0;
    for (i, (&t, &p)) in y_true.iter().zip(y_prob).enumerate() {
        // Build the probability of the observed class the way scikit-learn does: first the
        // two columns [1 − p, p], then clipping, so that p = 1 and 1 − p = 0 clip separately.
        let q = if binary_label(t, i)? { p } else { 1.0 - p };
        total -= q.clamp(eps, 1.0 - eps).ln();
    }
    Ok(total / y_true.len() as f64)
}

/// Brier score: mean squared difference between the probability and the 0/1 outcome.
pub fn brier_score(y_true: &[f64], y_prob: &[f64]) -> Result<f64, MetricError> {
    check_lengths(y_true.len(), y_prob.len())?;
    check_probabilities(y_prob)?;
    let mut total = 0.0;
    for (i, (&t, &p)) in y_true.iter().zip(y_prob).enumerate() {
        let y = if binary_label(t, i)? { 1.0 } else { 0.0 };
        total += (p - y) * (p - y);
    }
    Ok(total / y_true.len() as f64)
}

// ---------------------------------------------------------------------------------------------
// Multiclass classification.

/// How per-class F1 scores are combined.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Average {
    /// Unweighted mean over the classes present in truth or prediction.
    Macro,
    /// F1 of the pooled counts (equal to accuracy for single-label problems).
    Micro,
    /// Mean weighted by each class's support (number of true rows).
    Weighted,
}

/// The multiclass confusion matrix: `matrix[true][predicted]` counts, `n_classes` × `n_classes`.
pub fn multiclass_confusion_matrix(
    y_true: &[usize],
    y_pred: &[usize],
    n_classes: usize,
) -> Result<Vec<Vec<u64>>, MetricError> {
    check_lengths(y_true.len(), y_pred.len())?;
    let mut matrix = vec![vec![0u64; n_classes]; n_classes];
    for (i, (&t, &p)) in y_true.iter().zip(y_pred).enumerate() {
        for label in [t, p] {
            if label >= n_classes {
                return Err(MetricError::InvalidLabel {
                    index: i,
                    value: label as f64,
                });
            }
        }
        matrix[t][p] += 1;
    }
    Ok(matrix)
}

/// Fraction of rows whose predicted class equals the true class.
pub fn multiclass_accuracy(y_true: &[usize], y_pred: &[usize]) -> Result<f64, MetricError> {
    check_lengths(y_true.len(), y_pred.len())?;
    let correct = y_true.iter().zip(y_pred).filter(|(t, p)| t == p).count();
    Ok(correct as f64 / y_true.len() as f64)
}

/// Averaged F1 over the classes that occur in `y_true` or `y_pred` (scikit-learn's label set).
///
/// Every class in that set has a true or a predicted row, so its F1 = 2·TP / (true + predicted)
/// is always defined (0 for a class that is only predicted or only true), and the result is
/// never flagged: scikit-learn's `f1_score` warns only for labels with neither.
pub fn multiclass_f1(
    y_true: &[usize],
    y_pred: &[usize],
    average: Average,
) -> Result<MetricValue, MetricError> {
    check_lengths(y_true.len(), y_pred.len())?;
    let n_classes = y_true.iter().chain(y_pred).max().map_or(0, |&m| m + 1);
    if n_classes > 1 << 24 {
        // A label this large would make the per-class tables absurdly big; class labels are
        // expected to be small indices.
        return Err(MetricError::InvalidParameter {
            name: "class label",
            rule: "must be below 2^24",
        });
    }
    let mut true_counts = vec![0u64; n_classes];
    let mut pred_counts = vec![0u64; n_classes];
    let mut hits = vec![0u64; n_classes];
    for (&t, &p) in y_true.iter().zip(y_pred) {
        true_counts[t] += 1;
        pred_counts[p] += 1;
        if t == p {
            hits[t] += 1;
        }
    }
    if average == Average::Micro {
        // Pooled TP = hits, pooled FP = pooled FN = misses, so F1 = accuracy; it is
        // ill-defined only for empty input, which was rejected above.
        let tp: u64 = hits.iter().sum();
        return Ok(MetricValue::defined(tp as f64 / y_true.len() as f64));
    }
    let (mut sum, mut weight_sum, mut present) = (0.0, 0.0, 0usize);
    for c in 0..n_classes {
        if true_counts[c] == 0 && pred_counts[c] == 0 {
            continue;
        }
        present += 1;
        let f1_c = 2.0 * hits[c] as f64 / (true_counts[c] + pred_counts[c]) as f64;
        let weight = match average {
            Average::Weighted => true_counts[c] as f64,
            _ => 1.0,
        };
        sum += weight * f1_c;
        weight_sum += weight;
    }
    let value = match average {
        Average::Macro => sum / present as f64,
        _ => sum / weight_sum,
    };
    Ok(MetricValue::defined(value))
}

/// Mean multiclass cross-entropy of probability rows (row-major, `n_classes` per row),
/// each probability clipped to [ε, 1 − ε]; `y_true[i]` is the column of row i's class.
pub fn multiclass_log_loss(
    y_true: &[usize],
    probabilities: &[f64],
    n_classes: usize,
) -> Result<f64, MetricError> {
    if n_classes == 0 {
        return Err(MetricError::InvalidParameter {
            name: "n_classes",
            rule: "must be at least 1",
        });
    }
    if y_true.is_empty() || probabilities.is_empty() {
        return Err(MetricError::Empty);
    }
    if probabilities.len() != y_true.len() * n_classes {
        return Err(MetricError::LengthMismatch {
            expected: y_true.len() * n_classes,
            found: probabilities.len(),
        });
    }
    check_probabilities(probabilities)?;
    let eps = f64::EPSILON;
    let mut total = 0.0;
    for (i, (&label, row)) in y_true
        .iter()
        .zip(probabilities.chunks_exact(n_classes))
        .enumerate()
    {
        let p = *row.get(label).ok_or(MetricError::InvalidLabel {
            index: i,
            value: label as f64,
        })?;
        total -= p.clamp(eps, 1.0 - eps).ln();
    }
    Ok(total / y_true.len() as f64)
}

// ---------------------------------------------------------------------------------------------
// Regression.

fn check_regression(y_true: &[f64], y_pred: &[f64]) -> Result<(), MetricError> {
    check_lengths(y_true.len(), y_pred.len())?;
    check_finite(y_true)?;
    check_finite(y_pred)
}

/// Mean absolute error.
pub fn mean_absolute_error(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    check_regression(y_true, y_pred)?;
    let sum: f64 = y_true.iter().zip(y_pred).map(|(t, p)| (t - p).abs()).sum();
    Ok(sum / y_true.len() as f64)
}

/// Mean squared error.
pub fn mean_squared_error(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    check_regression(y_true, y_pred)?;
    let sum: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p) * (t - p))
        .sum();
    Ok(sum / y_true.len() as f64)
}

/// Root mean squared error.
pub fn root_mean_squared_error(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    mean_squared_error(y_true, y_pred).map(f64::sqrt)
}

/// Coefficient of determination R² = 1 − SS_res / SS_tot.
///
/// SS_tot = 0 gives 1 for perfect predictions and 0 otherwise (flagged); fewer than two
/// samples give NaN (flagged), as scikit-learn.
pub fn r2_score(y_true: &[f64], y_pred: &[f64]) -> Result<MetricValue, MetricError> {
    check_regression(y_true, y_pred)?;
    let n = y_true.len();
    if n < 2 {
        return Ok(MetricValue {
            value: f64::NAN,
            ill_defined: true,
        });
    }
    let mean = y_true.iter().sum::<f64>() / n as f64;
    let ss_res: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p) * (t - p))
        .sum();
    let ss_tot: f64 = y_true.iter().map(|t| (t - mean) * (t - mean)).sum();
    if ss_tot == 0.0 {
        let value = if ss_res == 0.0 { 1.0 } else { 0.0 };
        return Ok(MetricValue {
            value,
            ill_defined: true,
        });
    }
    Ok(MetricValue::defined(1.0 - ss_res / ss_tot))
}

/// Mean absolute percentage error as a fraction: mean |y − ŷ| / max(|y|, ε), ε = 2.22e-16.
///
/// The ε floor (scikit-learn's) keeps the value finite but huge when some `y` is 0.
pub fn mean_absolute_percentage_error(y_true: &[f64], y_pred: &[f64]) -> Result<f64, MetricError> {
    check_regression(y_true, y_pred)?;
    let sum: f64 = y_true
        .iter()
        .zip(y_pred)
        .map(|(t, p)| (t - p).abs() / t.abs().max(f64::EPSILON))
        .sum();
    Ok(sum / y_true.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + b.abs())
    }

    #[test]
    fn roc_auc_with_ties_counts_half() {
        // Scores (label): 0.9(1) 0.8(0) 0.8(1) 0.5(1) 0.5(0) 0.1(0). Each positive versus each
        // negative: 0.9 beats all 3 → 3; 0.8 ties one, beats two → 2.5; 0.5 ties one, beats
        // one → 1.5. AUC = 7 / 9.
        let y = [1.0, 0.0, 1.0, 1.0, 0.0, 0.0];
        let s = [0.9, 0.8, 0.8, 0.5, 0.5, 0.1];
        assert!(close(roc_auc(&y, &s).unwrap(), 7.0 / 9.0));
    }

    #[test]
    fn roc_auc_errors() {
        assert_eq!(roc_auc(&[], &[]), Err(MetricError::Empty));
        assert_eq!(
            roc_auc(&[1.0, 0.0], &[0.3]),
            Err(MetricError::LengthMismatch {
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            roc_auc(&[1.0, 1.0], &[0.3, 0.4]),
            Err(MetricError::SingleClass)
        );
        assert_eq!(
            roc_auc(&[1.0, 2.0], &[0.3, 0.4]),
            Err(MetricError::InvalidLabel {
                index: 1,
                value: 2.0
            })
        );
        assert_eq!(
            roc_auc(&[1.0, 0.0], &[0.3, f64::NAN]),
            Err(MetricError::NonFinite { index: 1 })
        );
    }

    #[test]
    fn average_precision_by_hand() {
        // Descending: 0.9(1) 0.8(0) 0.7(1) 0.1(0). Recall steps at ranks 1 and 3 with
        // precisions 1 and 2/3: AP = 0.5·1 + 0.5·2/3 = 5/6.
        let y = [0.0, 1.0, 0.0, 1.0];
        let s = [0.1, 0.9, 0.8, 0.7];
        assert!(close(average_precision(&y, &s).unwrap(), 5.0 / 6.0));
        // A tie of a positive and a negative at the top: one step with precision 1/2.
        assert!(close(
            average_precision(&[1.0, 0.0], &[0.5, 0.5]).unwrap(),
            0.5
        ));
        assert_eq!(
            average_precision(&[0.0, 0.0], &[0.5, 0.4]),
            Err(MetricError::SingleClass)
        );
    }

    #[test]
    fn roc_curve_points_and_dropping() {
        let y = [0.0, 0.0, 1.0, 1.0];
        let s = [0.1, 0.4, 0.35, 0.8];
        let c = roc_curve(&y, &s, false).unwrap();
        assert_eq!(c.fpr, vec![0.0, 0.0, 0.5, 0.5, 1.0]);
        assert_eq!(c.tpr, vec![0.0, 0.5, 0.5, 1.0, 1.0]);
        assert_eq!(c.thresholds[1..], [0.8, 0.4, 0.35, 0.1]);
        assert!(c.thresholds[0].is_infinite());
        // Perfect separation: the two intermediate points on the top edge are collinear.
        let c = roc_curve(&[0.0, 0.0, 0.0, 1.0], &[0.1, 0.2, 0.3, 0.9], true).unwrap();
        assert_eq!(c.fpr, vec![0.0, 0.0, 1.0]);
        assert_eq!(c.tpr, vec![0.0, 1.0, 1.0]);
    }

    #[test]
    fn precision_recall_curve_layout() {
        let y = [0.0, 0.0, 1.0, 1.0];
        let s = [0.1, 0.4, 0.35, 0.8];
        let c = precision_recall_curve(&y, &s).unwrap();
        assert_eq!(c.thresholds, vec![0.1, 0.35, 0.4, 0.8]);
        assert_eq!(c.recall, vec![1.0, 1.0, 0.5, 0.5, 0.0]);
        let expected_precision = [0.5, 2.0 / 3.0, 0.5, 1.0, 1.0];
        for (a, b) in c.precision.iter().zip(expected_precision) {
            assert!(close(*a, b));
        }
    }

    #[test]
    fn label_metrics_and_zero_division() {
        let y = [1.0, 1.0, 0.0, 0.0, 1.0];
        let p = [1.0, 0.0, 1.0, 0.0, 1.0];
        let cm = confusion_from_labels(&y, &p).unwrap();
        assert_eq!(
            cm,
            BinaryConfusion {
                true_positives: 2,
                false_positives: 1,
                true_negatives: 1,
                false_negatives: 1
            }
        );
        assert!(close(accuracy(&y, &p).unwrap(), 0.6));
        assert!(close(precision(&y, &p).unwrap().value, 2.0 / 3.0));
        assert!(close(recall(&y, &p).unwrap().value, 2.0 / 3.0));
        assert!(close(specificity(&y, &p).unwrap().value, 0.5));
        assert!(close(f1(&y, &p).unwrap().value, 2.0 / 3.0));

        let none = precision(&[1.0, 0.0], &[0.0, 0.0]).unwrap();
        assert_eq!(
            none,
            MetricValue {
                value: 0.0,
                ill_defined: true
            }
        );
        let f = f1(&[0.0, 0.0], &[0.0, 0.0]).unwrap();
        assert!(f.ill_defined && f.value == 0.0);
        // Recall defined but precision not: F1 is a well-defined 0.
        assert!(!f1(&[1.0, 0.0], &[0.0, 0.0]).unwrap().ill_defined);
    }

    #[test]
    fn threshold_confusion_uses_greater_or_equal() {
        let cm = binary_confusion(&[1.0, 0.0, 1.0], &[0.5, 0.5, 0.49], 0.5).unwrap();
        assert_eq!(cm.true_positives, 1);
        assert_eq!(cm.false_positives, 1);
        assert_eq!(cm.false_negatives, 1);
        assert_eq!(cm.true_negatives, 0);
    }

    #[test]
    fn log_loss_and_brier_by_hand() {
        let y = [1.0, 0.0];
        let p = [0.8, 0.4];
        let expected = -(0.8f64.ln() + 0.6f64.ln()) / 2.0;
        assert!(close(log_loss(&y, &p).unwrap(), expected));
        assert!(close(brier_score(&y, &p).unwrap(), (0.04 + 0.16) / 2.0));
        // A confident mistake is clipped at ε rather than infinite.
        let clipped = log_loss(&[0.0], &[1.0]).unwrap();
        assert!(close(clipped, -(f64::EPSILON.ln())));
        assert!(matches!(
            log_loss(&[0.0], &[1.5]),
            Err(MetricError::ProbabilityOutOfRange { .. })
        ));
    }

    #[test]
    fn multiclass_by_hand() {
        let t = [0, 0, 1, 1, 2, 2];
        let p = [0, 1, 1, 1, 0, 2];
        // Class 0: tp 1, true 2, pred 2 → 0.5. Class 1: tp 2, true 2, pred 3 → 0.8.
        // Class 2: tp 1, true 2, pred 1 → 2/3.
        let macro_f1 = multiclass_f1(&t, &p, Average::Macro).unwrap();
        assert!(close(macro_f1.value, (0.5 + 0.8 + 2.0 / 3.0) / 3.0));
        assert!(!macro_f1.ill_defined);
        let weighted = multiclass_f1(&t, &p, Average::Weighted).unwrap();
        assert!(close(weighted.value, (0.5 + 0.8 + 2.0 / 3.0) / 3.0));
        let micro = multiclass_f1(&t, &p, Average::Micro).unwrap();
        assert!(close(micro.value, 4.0 / 6.0));
        assert!(close(multiclass_accuracy(&t, &p).unwrap(), 4.0 / 6.0));
        let cm = multiclass_confusion_matrix(&t, &p, 3).unwrap();
        assert_eq!(cm, vec![vec![1, 1, 0], vec![0, 2, 0], vec![1, 0, 1]]);
        // Class 3 predicted but never true and class 1 true but never predicted: both have
        // F1 0 and still count in the macro average.
        let f = multiclass_f1(&[0, 1], &[0, 3], Average::Macro).unwrap();
        assert!(!f.ill_defined);
        assert!(close(f.value, 1.0 / 3.0));

        let probs = [0.7, 0.2, 0.1, 0.1, 0.1, 0.8];
        let ll = multiclass_log_loss(&[0, 2], &probs, 3).unwrap();
        assert!(close(ll, -(0.7f64.ln() + 0.8f64.ln()) / 2.0));
        assert!(multiclass_log_loss(&[0, 3], &probs, 3).is_err());
    }

    #[test]
    fn regression_by_hand() {
        let t = [3.0, -0.5, 2.0, 7.0];
        let p = [2.5, 0.0, 2.0, 8.0];
        assert!(close(mean_absolute_error(&t, &p).unwrap(), 0.5));
        assert!(close(mean_squared_error(&t, &p).unwrap(), 0.375));
        assert!(close(
            root_mean_squared_error(&t, &p).unwrap(),
            0.375f64.sqrt()
        ));
        // ȳ = 2.875, SS_tot = 29.1875, SS_res = 1.5.
        assert!(close(r2_score(&t, &p).unwrap().value, 1.0 - 1.5 / 29.1875));
        let mape = (0.5 / 3.0 + 0.5 / 0.5 + 0.0 + 1.0 / 7.0) / 4.0;
        assert!(close(mean_absolute_percentage_error(&t, &p).unwrap(), mape));
        assert_eq!(r2_score(&[1.0, 1.0], &[1.0, 1.0]).unwrap().value, 1.0);
        assert_eq!(r2_score(&[1.0, 1.0], &[1.0, 2.0]).unwrap().value, 0.0);
        assert!(r2_score(&[1.0], &[1.0]).unwrap().value.is_nan());
        assert!(mean_absolute_percentage_error(&[0.0], &[1.0]).unwrap() > 1e15);
    }

    #[test]
    fn metric_names_round_trip_and_evaluate_dispatches() {
        for m in Metric::ALL {
            assert_eq!(m.name().parse::<Metric>().unwrap(), m);
            let json = serde_json::to_string(&m).unwrap();
            assert_eq!(json, format!("\"{}\"", m.name()));
        }
        assert!(matches!(
            "nope".parse::<Metric>(),
            Err(MetricError::UnknownMetric(_))
        ));
        assert!(Metric::RocAuc.higher_is_better());
        assert!(!Metric::Rmse.higher_is_better());
        assert!(!Metric::LogLoss.higher_is_better());

        let y = [1.0, 0.0, 1.0, 0.0];
        let s = [0.9, 0.2, 0.4, 0.6];
        assert!(close(evaluate(Metric::RocAuc, &y, &s).unwrap(), 0.75));
        assert!(close(
            evaluate(Metric::Accuracy, &[0.0, 1.0, 2.0], &[0.0, 1.0, 1.0]).unwrap(),
            2.0 / 3.0
        ));
        assert!(evaluate(Metric::F1, &y, &s).is_err());
        assert!(close(
            evaluate(Metric::Rmse, &[1.0, 2.0], &[1.0, 4.0]).unwrap(),
            2.0f64.sqrt()
        ));
    }

    fn labelled_scores() -> impl Strategy<Value = (Vec<f64>, Vec<f64>)> {
        (2usize..60).prop_flat_map(|n| {
            (
                proptest::collection::vec(prop::bool::ANY, n),
                // Few distinct score values so that ties are common.
                proptest::collection::vec(0u8..12, n),
            )
                .prop_filter_map("needs both classes", |(labels, scores)| {
                    let positives = labels.iter().filter(|&&b| b).count();
                    if positives == 0 || positives == labels.len() {
                        return None;
                    }
                    let y = labels.iter().map(|&b| f64::from(u8::from(b))).collect();
                    let s = scores.iter().map(|&k| f64::from(k) / 11.0).collect();
                    Some((y, s))
                })
        })
    }

    /// Mann–Whitney form of AUC: the fraction of (positive, negative) pairs ranked correctly,
    /// ties counting one half. Quadratic, but an independent check of the sweep.
    fn pairwise_auc(y: &[f64], s: &[f64]) -> f64 {
        let (mut wins, mut pairs) = (0.0, 0.0);
        for i in 0..y.len() {
            for j in 0..y.len() {
                if y[i] == 1.0 && y[j] == 0.0 {
                    pairs += 1.0;
                    if s[i] > s[j] {
                        wins += 1.0;
                    } else if s[i] == s[j] {
                        wins += 0.5;
                    }
                }
            }
        }
        wins / pairs
    }

    proptest! {
        #[test]
        fn auc_of_reversed_scores_is_complement((y, s) in labelled_scores()) {
            let reversed: Vec<f64> = s.iter().map(|v| 1.0 - v).collect();
            let a = roc_auc(&y, &s).unwrap();
            let b = roc_auc(&y, &reversed).unwrap();
            prop_assert!((a + b - 1.0).abs() < 1e-12);
        }

        #[test]
        fn auc_invariant_under_strictly_monotone_transform((y, s) in labelled_scores()) {
            let transformed: Vec<f64> = s.iter().map(|v| (3.0 * v).exp() - 7.0).collect();
            prop_assert_eq!(roc_auc(&y, &s).unwrap(), roc_auc(&y, &transformed).unwrap());
        }

        #[test]
        fn auc_equals_pairwise_probability((y, s) in labelled_scores()) {
            prop_assert!((roc_auc(&y, &s).unwrap() - pairwise_auc(&y, &s)).abs() < 1e-12);
        }

        #[test]
        fn roc_curve_trapezoid_matches_auc((y, s) in labelled_scores(), drop in prop::bool::ANY) {
            let c = roc_curve(&y, &s, drop).unwrap();
            let area: f64 = c.fpr.windows(2).zip(c.tpr.windows(2))
                .map(|(f, t)| (f[1] - f[0]) * (t[1] + t[0]) / 2.0)
                .sum();
            prop_assert!((area - roc_auc(&y, &s).unwrap()).abs() < 1e-12);
        }

        #[test]
        fn average_precision_in_unit_interval((y, s) in labelled_scores()) {
            let ap = average_precision(&y, &s).unwrap();
            prop_assert!((0.0..=1.0 + 1e-12).contains(&ap));
        }
    }
}
