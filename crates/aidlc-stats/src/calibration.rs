//! Probability calibration: reliability curves, expected / maximum calibration error, and the
//! isotonic-regression and Platt-scaling calibrators.
//!
//! Conventions:
//!
//! * [`reliability_curve`] follows scikit-learn's `calibration_curve`: `Uniform` bins are
//!   `linspace(0, 1, n_bins + 1)`, `Quantile` bins are numpy `percentile` edges (linear
//!   interpolation) of the predicted probabilities. A probability is placed with
//!   `searchsorted(inner_edges, p, side="left")`, so a value equal to an inner edge belongs to
//!   the bin on its *left* (bins are (eᵢ₋₁, eᵢ], the first also holds 0). Empty bins are dropped.
//! * ECE = Σ_b (n_b / N)·|observed_b − mean_predicted_b| over the non-empty bins; MCE is the
//!   largest of those absolute gaps.
//! * [`IsotonicCalibrator`] matches scikit-learn's `IsotonicRegression(increasing=True,
//!   out_of_bounds="clip")`: inputs sorted by x then y; x values closer than 1e-15 to the
//!   first x of their group (numpy's float64 `resolution`) are merged into one point whose target
//!   is the weighted mean; pool-adjacent-violators; prediction is linear interpolation between
//!   the fitted points, with inputs clipped to the fitted x range.
//! * [`PlattCalibrator`] fits P(y = 1 | f) = 1 / (1 + exp(A·f + B)) by Newton's method with a
//!   backtracking line search (Lin, Lin & Weng's robust form of Platt's algorithm), using
//!   Platt's smoothed targets t₊ = (N₊ + 1)/(N₊ + 2) and t₋ = 1/(N₋ + 2) instead of 1 and 0,
//!   which keeps A and B finite on separable data. A is usually negative for scores that grow
//!   with the positive class.

use crate::metrics::MetricError;
use serde::{Deserialize, Serialize};

/// How [`reliability_curve`] places its bin edges.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinStrategy {
    /// Equal-width bins over [0, 1].
    Uniform,
    /// Bins at the quantiles of the predicted probabilities (about equal counts).
    Quantile,
}

/// One non-empty bin of a reliability curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityBin {
    /// Index of the bin among all `n_bins` bins (empty bins are not listed).
    pub index: usize,
    /// Mean predicted probability in the bin ("confidence").
    pub mean_predicted: f64,
    /// Fraction of positive labels in the bin ("accuracy").
    pub observed_frequency: f64,
    /// Number of rows in the bin.
    pub count: u64,
}

/// A reliability diagram: the bin edges and every non-empty bin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityCurve {
    pub strategy: BinStrategy,
    /// The `n_bins + 1` edges (quantile edges may repeat).
    pub edges: Vec<f64>,
    pub bins: Vec<ReliabilityBin>,
}

impl ReliabilityCurve {
    /// Total number of rows.
    pub fn total(&self) -> u64 {
        self.bins.iter().map(|b| b.count).sum()
    }

    /// Expected calibration error: count-weighted mean |observed − predicted| over bins.
    pub fn expected_calibration_error(&self) -> f64 {
        let total = self.total() as f64;
        self.bins
            .iter()
            .map(|b| b.count as f64 / total * (b.observed_frequency - b.mean_predicted).abs())
            .sum()
    }

    /// Maximum calibration error: the largest |observed − predicted| over non-empty bins.
    pub fn maximum_calibration_error(&self) -> f64 {
        self.bins
            .iter()
            .map(|b| (b.observed_frequency - b.mean_predicted).abs())
            .fold(0.0, f64::max)
    }
}

/// Validates binary labels (0/1) aligned with probabilities in [0, 1].
fn check_labels_and_probabilities(y_true: &[f64], y_prob: &[f64]) -> Result<(), MetricError> {
    if y_true.is_empty() || y_prob.is_empty() {
        return Err(MetricError::Empty);
    }
    if y_true.len() != y_prob.len() {
        return Err(MetricError::LengthMismatch {
            expected: y_true.len(),
            found: y_prob.len(),
        });
    }
    for (index, (&y, &p)) in y_true.iter().zip(y_prob).enumerate() {
        if y != 0.0 && y != 1.0 {
            return Err(MetricError::InvalidLabel { index, value: y });
        }
        if p.is_nan() {
            return Err(MetricError::NonFinite { index });
        }
        if !(0.0..=1.0).contains(&p) {
            return Err(MetricError::ProbabilityOutOfRange { index, value: p });
        }
    }
    Ok(())
}

/// numpy's `linspace(0, 1, n + 1)`: i·(1/n), with the last value set to exactly 1.
fn unit_linspace(n: usize) -> Vec<f64> {
    let step = 1.0 / n as f64;
    let mut v: Vec<f64> = (0..=n).map(|i| i as f64 * step).collect();
    v[n] = 1.0;
    v
}

/// numpy's default (`linear`) percentile of sorted data at fraction `q`, reproducing numpy's
/// floating-point steps so that edges that coincide with data points land on the same side.
fn linear_quantile(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    // numpy: virtual index = n·q + (1 − q) − 1, i.e. (n − 1)·q written its way.
    let virtual_index = (n as f64 * q + (1.0 - q)) - 1.0;
    let below = virtual_index.floor().clamp(0.0, (n - 1) as f64);
    let lo = below as usize;
    let hi = (lo + 1).min(n - 1);
    let gamma = virtual_index - below;
    let (a, b) = (sorted[lo], sorted[hi]);
    let diff = b - a;
    // numpy's `_lerp` interpolates from the nearer end for accuracy.
    if gamma >= 0.5 {
        b - diff * (1.0 - gamma)
    } else {
        a + diff * gamma
    }
}

/// The reliability curve of binary labels against predicted probabilities.
pub fn reliability_curve(
    y_true: &[f64],
    y_prob: &[f64],
    n_bins: usize,
    strategy: BinStrategy,
) -> Result<ReliabilityCurve, MetricError> {
    check_labels_and_probabilities(y_true, y_prob)?;
    if n_bins == 0 {
        return Err(MetricError::InvalidParameter {
            name: "n_bins",
            rule: "must be at least 1",
        });
    }
    let edges = match strategy {
        BinStrategy::Uniform => unit_linspace(n_bins),
        BinStrategy::Quantile => {
            let mut sorted = y_prob.to_vec();
            sorted.sort_unstable_by(f64::total_cmp);
            // scikit-learn passes linspace(0, 1)·100 to `percentile`, which divides by 100.
            unit_linspace(n_bins)
                .into_iter()
                .map(|q| linear_quantile(&sorted, (q * 100.0) / 100.0))
                .collect()
        }
    };
    let inner = &edges[1..n_bins];
    let mut sums = vec![0.0f64; n_bins];
    let mut positives = vec![0.0f64; n_bins];
    let mut counts = vec![0u64; n_bins];
    for (&y, &p) in y_true.iter().zip(y_prob) {
        let bin = inner.partition_point(|&e| e < p);
        sums[bin] += p;
        positives[bin] += y;
        counts[bin] += 1;
    }
    let bins = (0..n_bins)
        .filter(|&b| counts[b] > 0)
        .map(|b| ReliabilityBin {
            index: b,
            mean_predicted: sums[b] / counts[b] as f64,
            observed_frequency: positives[b] / counts[b] as f64,
            count: counts[b],
        })
        .collect();
    Ok(ReliabilityCurve {
        strategy,
        edges,
        bins,
    })
}

/// Expected calibration error over `n_bins` bins of the given strategy.
pub fn expected_calibration_error(
    y_true: &[f64],
    y_prob: &[f64],
    n_bins: usize,
    strategy: BinStrategy,
) -> Result<f64, MetricError> {
    Ok(reliability_curve(y_true, y_prob, n_bins, strategy)?.expected_calibration_error())
}

/// Maximum calibration error over `n_bins` bins of the given strategy.
pub fn maximum_calibration_error(
    y_true: &[f64],
    y_prob: &[f64],
    n_bins: usize,
    strategy: BinStrategy,
) -> Result<f64, MetricError> {
    Ok(reliability_curve(y_true, y_prob, n_bins, strategy)?.maximum_calibration_error())
}

/// ECE over bins of equal *row count* after sorting by probability (NannyML's form, used for
/// the CBPE calibration decision).
///
/// Rows are sorted by probability (stable, so tied rows keep their input order) and split into
/// `min(n_bins, n)` consecutive blocks, block b holding rows ⌊b·n/k⌋ .. ⌊(b+1)·n/k⌋; tied
/// probabilities may therefore straddle two blocks, which is what "equal count" means.
pub fn equal_count_calibration_error(
    y_true: &[f64],
    y_prob: &[f64],
    n_bins: usize,
) -> Result<f64, MetricError> {
    check_labels_and_probabilities(y_true, y_prob)?;
    if n_bins == 0 {
        return Err(MetricError::InvalidParameter {
            name: "n_bins",
            rule: "must be at least 1",
        });
    }
    let n = y_prob.len();
    let mut order: Vec<usize> = (0..n).collect();
    order.sort_by(|&a, &b| y_prob[a].total_cmp(&y_prob[b]));
    let k = n_bins.min(n);
    let mut ece = 0.0;
    for b in 0..k {
        let (start, end) = (b * n / k, (b + 1) * n / k);
        let rows = &order[start..end];
        let mean_prob = rows.iter().map(|&i| y_prob[i]).sum::<f64>() / rows.len() as f64;
        let mean_true = rows.iter().map(|&i| y_true[i]).sum::<f64>() / rows.len() as f64;
        ece += rows.len() as f64 / n as f64 * (mean_prob - mean_true).abs();
    }
    Ok(ece)
}

// ---------------------------------------------------------------------------------------------
// Isotonic regression.

/// numpy's float64 `resolution`: x values closer than this are one point for isotonic fitting.
const ISOTONIC_X_RESOLUTION: f64 = 1e-15;

/// A fitted increasing isotonic regression (a monotone piecewise-linear map).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IsotonicCalibrator {
    /// Increasing x coordinates of the fitted points; the first and last are the clip bounds.
    pub x_thresholds: Vec<f64>,
    /// Non-decreasing fitted values at `x_thresholds`.
    pub y_thresholds: Vec<f64>,
}

impl IsotonicCalibrator {
    /// Fits scores `x` to targets `y` (for calibration: 0/1 labels) with unit weights.
    pub fn fit(x: &[f64], y: &[f64]) -> Result<Self, MetricError> {
        Self::fit_weighted(x, y, None)
    }

    /// Fits with optional non-negative sample weights; rows with zero weight are ignored.
    pub fn fit_weighted(
        x: &[f64],
        y: &[f64],
        weights: Option<&[f64]>,
    ) -> Result<Self, MetricError> {
        if x.is_empty() || y.is_empty() {
            return Err(MetricError::Empty);
        }
        if x.len() != y.len() {
            return Err(MetricError::LengthMismatch {
                expected: x.len(),
                found: y.len(),
            });
        }
        if let Some(w) = weights {
            if w.len() != x.len() {
                return Err(MetricError::LengthMismatch {
                    expected: x.len(),
                    found: w.len(),
                });
            }
            if let Some(index) = w.iter().position(|v| !v.is_finite() || *v < 0.0) {
                return Err(MetricError::NonFinite { index });
            }
        }
        for (index, (a, b)) in x.iter().zip(y).enumerate() {
            if !a.is_finite() || !b.is_finite() {
                return Err(MetricError::NonFinite { index });
            }
        }
        let weight = |i: usize| weights.map_or(1.0, |w| w[i]);
        let mut order: Vec<usize> = (0..x.len()).filter(|&i| weight(i) > 0.0).collect();
        if order.is_empty() {
            return Err(MetricError::Empty);
        }
        order.sort_by(|&a, &b| x[a].total_cmp(&x[b]).then(y[a].total_cmp(&y[b])));

        // Merge (nearly) equal x values into one point carrying the weighted mean target; the
        // group keeps the x of its first (smallest) member.
        let mut ux: Vec<f64> = Vec::new();
        let mut wy: Vec<f64> = Vec::new();
        let mut ww: Vec<f64> = Vec::new();
        for &i in &order {
            let w = weight(i);
            match ux.last() {
                Some(&group_x) if x[i] - group_x < ISOTONIC_X_RESOLUTION => {
                    *wy.last_mut().expect("parallel vectors") += w * y[i];
                    *ww.last_mut().expect("parallel vectors") += w;
                }
                _ => {
                    ux.push(x[i]);
                    wy.push(w * y[i]);
                    ww.push(w);
                }
            }
        }
        let fitted = pool_adjacent_violators(&wy, &ww);

        // Keep only the points where the fitted function bends: inside a constant run only the
        // two ends matter for linear interpolation, so the rest is dropped (as scikit-learn does).
        let m = ux.len();
        let mut calibrator = IsotonicCalibrator {
            x_thresholds: Vec::new(),
            y_thresholds: Vec::new(),
        };
        for i in 0..m {
            let keep =
                i == 0 || i == m - 1 || fitted[i] != fitted[i - 1] || fitted[i] != fitted[i + 1];
            if keep {
                calibrator.x_thresholds.push(ux[i]);
                calibrator.y_thresholds.push(fitted[i]);
            }
        }
        Ok(calibrator)
    }

    /// The calibrated value at `x` (clipped to the fitted range; NaN stays NaN).
    pub fn predict(&self, x: f64) -> f64 {
        let xs = &self.x_thresholds;
        let ys = &self.y_thresholds;
        if x.is_nan() || xs.is_empty() {
            return f64::NAN;
        }
        if xs.len() == 1 {
            return ys[0];
        }
        let x = x.clamp(xs[0], xs[xs.len() - 1]);
        // Same segment choice and formula as scipy's `interp1d(kind="linear")`: the segment
        // ends at the first threshold >= x (at least the second one).
        let hi = xs.partition_point(|&t| t < x).clamp(1, xs.len() - 1);
        let lo = hi - 1;
        let slope = (ys[hi] - ys[lo]) / (xs[hi] - xs[lo]);
        slope * (x - xs[lo]) + ys[lo]
    }

    /// Calibrated values for many inputs.
    pub fn predict_many(&self, xs: &[f64]) -> Vec<f64> {
        xs.iter().map(|&x| self.predict(x)).collect()
    }
}

/// Weighted pool-adjacent-violators for a non-decreasing fit.
///
/// `weighted_targets[i]` is Σ w·y of point i and `weights[i]` its Σ w. Adjacent blocks are
/// merged while a block's mean exceeds the next one's; returns one fitted value per point.
fn pool_adjacent_violators(weighted_targets: &[f64], weights: &[f64]) -> Vec<f64> {
    // Each block: (Σ w·y, Σ w, number of points).
    let mut blocks: Vec<(f64, f64, usize)> = Vec::with_capacity(weights.len());
    for (&wy, &w) in weighted_targets.iter().zip(weights) {
        let mut block = (wy, w, 1usize);
        while let Some(&(pwy, pw, pn)) = blocks.last() {
            // Compare means without dividing: pwy/pw >= wy/w  ⇔  pwy·w >= wy·pw (weights > 0).
            if pwy * block.1 >= block.0 * pw {
                blocks.pop();
                block = (pwy + block.0, pw + block.1, pn + block.2);
            } else {
                break;
            }
        }
        blocks.push(block);
    }
    let mut fitted = Vec::with_capacity(weights.len());
    for (wy, w, n) in blocks {
        fitted.extend(std::iter::repeat_n(wy / w, n));
    }
    fitted
}

// ---------------------------------------------------------------------------------------------
// Platt scaling.

/// Platt's sigmoid P(y = 1 | f) = 1 / (1 + exp(a·f + b)).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PlattCalibrator {
    pub a: f64,
    pub b: f64,
}

impl PlattCalibrator {
    /// Newton iterations before giving up (the fit is then the best point found so far).
    const MAX_ITERATIONS: usize = 100;
    /// Line-search steps smaller than this end the search.
    const MIN_STEP: f64 = 1e-10;
    /// Added to the Hessian diagonal so it stays positive definite on flat data.
    const RIDGE: f64 = 1e-12;
    /// Convergence when both gradient components are below this.
    const GRADIENT_TOLERANCE: f64 = 1e-5;

    /// Fits the sigmoid to scores and 0/1 labels (maximum likelihood on smoothed targets).
    pub fn fit(scores: &[f64], labels: &[f64]) -> Result<Self, MetricError> {
        if scores.is_empty() || labels.is_empty() {
            return Err(MetricError::Empty);
        }
        if scores.len() != labels.len() {
            return Err(MetricError::LengthMismatch {
                expected: scores.len(),
                found: labels.len(),
            });
        }
        let mut positives = 0usize;
        for (index, (&f, &y)) in scores.iter().zip(labels).enumerate() {
            if !f.is_finite() {
                return Err(MetricError::NonFinite { index });
            }
            if y != 0.0 && y != 1.0 {
                return Err(MetricError::InvalidLabel { index, value: y });
            }
            positives += usize::from(y == 1.0);
        }
        let negatives = scores.len() - positives;
        let hi_target = (positives as f64 + 1.0) / (positives as f64 + 2.0);
        let lo_target = 1.0 / (negatives as f64 + 2.0);
        let target = |y: f64| if y == 1.0 { hi_target } else { lo_target };

        // Negative log-likelihood Σ log(1 + e^z) − (1 − t)·z with z = a·f + b, written so that
        // the exponential never overflows.
        let objective = |a: f64, b: f64| -> f64 {
            scores
                .iter()
                .zip(labels)
                .map(|(&f, &y)| {
                    let z = a * f + b;
                    let t = target(y);
                    if z >= 0.0 {
                        t * z + (-z).exp().ln_1p()
                    } else {
                        (t - 1.0) * z + z.exp().ln_1p()
                    }
                })
                .sum()
        };

        let mut a = 0.0;
        let mut b = ((negatives as f64 + 1.0) / (positives as f64 + 1.0)).ln();
        let mut value = objective(a, b);
        for _ in 0..Self::MAX_ITERATIONS {
            // Gradient and Hessian of the objective; p is the model's P(y = 1).
            let (mut h11, mut h22, mut h21) = (Self::RIDGE, Self::RIDGE, 0.0);
            let (mut g1, mut g2) = (0.0, 0.0);
            for (&f, &y) in scores.iter().zip(labels) {
                let z = a * f + b;
                let (p, q) = if z >= 0.0 {
                    let e = (-z).exp();
                    (e / (1.0 + e), 1.0 / (1.0 + e))
                } else {
                    let e = z.exp();
                    (1.0 / (1.0 + e), e / (1.0 + e))
                };
                let d2 = p * q;
                h11 += f * f * d2;
                h22 += d2;
                h21 += f * d2;
                let d1 = target(y) - p;
                g1 += f * d1;
                g2 += d1;
            }
            if g1.abs() < Self::GRADIENT_TOLERANCE && g2.abs() < Self::GRADIENT_TOLERANCE {
                break;
            }
            let det = h11 * h22 - h21 * h21;
            let da = -(h22 * g1 - h21 * g2) / det;
            let db = -(-h21 * g1 + h11 * g2) / det;
            let descent = g1 * da + g2 * db;
            let mut step = 1.0;
            let mut improved = false;
            while step >= Self::MIN_STEP {
                let (na, nb) = (a + step * da, b + step * db);
                let candidate = objective(na, nb);
                // Armijo condition: accept a step that decreases the objective enough.
                if candidate < value + 1e-4 * step * descent {
                    a = na;
                    b = nb;
                    value = candidate;
                    improved = true;
                    break;
                }
                step /= 2.0;
            }
            if !improved {
                break;
            }
        }
        Ok(PlattCalibrator { a, b })
    }

    /// The calibrated probability for score `f`.
    pub fn predict(&self, f: f64) -> f64 {
        let z = self.a * f + self.b;
        if z >= 0.0 {
            let e = (-z).exp();
            e / (1.0 + e)
        } else {
            1.0 / (1.0 + z.exp())
        }
    }

    /// Calibrated probabilities for many scores.
    pub fn predict_many(&self, scores: &[f64]) -> Vec<f64> {
        scores.iter().map(|&f| self.predict(f)).collect()
    }
}

/// Which calibrator to fit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalibrationMethod {
    Isotonic,
    Platt,
}

/// A fitted calibrator of either kind, serialized with a `method` tag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum Calibrator {
    Isotonic(IsotonicCalibrator),
    Platt(PlattCalibrator),
}

impl Calibrator {
    /// Fits the chosen calibrator on scores and 0/1 labels.
    pub fn fit(
        method: CalibrationMethod,
        scores: &[f64],
        labels: &[f64],
    ) -> Result<Self, MetricError> {
        match method {
            CalibrationMethod::Isotonic => {
                if let Some(index) = labels.iter().position(|&y| y != 0.0 && y != 1.0) {
                    return Err(MetricError::InvalidLabel {
                        index,
                        value: labels[index],
                    });
                }
                IsotonicCalibrator::fit(scores, labels).map(Calibrator::Isotonic)
            }
            CalibrationMethod::Platt => PlattCalibrator::fit(scores, labels).map(Calibrator::Platt),
        }
    }

    /// The calibrated probability for one score.
    pub fn predict(&self, score: f64) -> f64 {
        match self {
            Calibrator::Isotonic(c) => c.predict(score),
            Calibrator::Platt(c) => c.predict(score),
        }
    }

    /// Calibrated probabilities for many scores.
    pub fn predict_many(&self, scores: &[f64]) -> Vec<f64> {
        scores.iter().map(|&s| self.predict(s)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * (1.0 + b.abs())
    }

    #[test]
    fn uniform_reliability_curve_by_hand() {
        // Two bins split at 0.5; 0.5 itself goes left (searchsorted side "left").
        let y = [0.0, 1.0, 0.0, 1.0, 1.0];
        let p = [0.1, 0.3, 0.5, 0.8, 0.9];
        let c = reliability_curve(&y, &p, 2, BinStrategy::Uniform).unwrap();
        assert_eq!(c.edges, vec![0.0, 0.5, 1.0]);
        assert_eq!(c.bins.len(), 2);
        assert_eq!(c.bins[0].count, 3);
        assert!(close(c.bins[0].mean_predicted, 0.3));
        assert!(close(c.bins[0].observed_frequency, 1.0 / 3.0));
        assert_eq!(c.bins[1].count, 2);
        assert!(close(c.bins[1].mean_predicted, 0.85));
        assert!(close(c.bins[1].observed_frequency, 1.0));
        // ECE = 3/5·|1/3 − 0.3| + 2/5·|1 − 0.85| = 0.02 + 0.06.
        assert!(close(c.expected_calibration_error(), 0.08));
        assert!(close(c.maximum_calibration_error(), 0.15));
    }

    #[test]
    fn empty_bins_are_dropped_and_quantile_edges_follow_numpy() {
        let y = [0.0, 0.0, 1.0, 1.0];
        let p = [0.05, 0.1, 0.92, 0.95];
        let c = reliability_curve(&y, &p, 10, BinStrategy::Uniform).unwrap();
        assert_eq!(
            c.bins.iter().map(|b| b.index).collect::<Vec<_>>(),
            vec![0, 9]
        );
        assert!(close(
            c.expected_calibration_error(),
            0.5 * 0.075 + 0.5 * 0.065
        ));

        // Quartiles of [0.05, 0.1, 0.92, 0.95] at positions 0, 0.75, 1.5, 2.25, 3.
        let q = reliability_curve(&y, &p, 4, BinStrategy::Quantile).unwrap();
        let expected = [0.05, 0.0875, 0.51, 0.9275, 0.95];
        for (e, x) in q.edges.iter().zip(expected) {
            assert!(close(*e, x), "{:?}", q.edges);
        }
        assert_eq!(
            q.bins.iter().map(|b| b.count).collect::<Vec<_>>(),
            vec![1, 1, 1, 1]
        );
    }

    #[test]
    fn ece_by_hand_on_four_uniform_bins() {
        // Within each uniform bin of width 0.25 the mean probability equals the positive rate.
        let p = [0.1, 0.1, 0.4, 0.6, 0.6, 0.6, 0.6, 0.6, 0.9, 0.9];
        let y = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0, 0.0, 1.0, 1.0];
        // Bin [0,0.25]: mean 0.1, rate 0 → gap 0.1; bin (0.25,0.5]: 0.4 vs 0 → 0.4;
        // bin (0.5,0.75]: 0.6 vs 0.6 → 0; bin (0.75,1]: 0.9 vs 1 → 0.1.
        let c = reliability_curve(&y, &p, 4, BinStrategy::Uniform).unwrap();
        assert!(close(
            c.expected_calibration_error(),
            0.2 * 0.1 + 0.1 * 0.4 + 0.2 * 0.1
        ));
        let perfect_p = [0.5, 0.5, 0.5, 0.5];
        let perfect_y = [0.0, 1.0, 1.0, 0.0];
        assert_eq!(
            expected_calibration_error(&perfect_y, &perfect_p, 10, BinStrategy::Uniform).unwrap(),
            0.0
        );
    }

    #[test]
    fn equal_count_ece_by_hand() {
        let p = [0.9, 0.1, 0.2, 0.8];
        let y = [1.0, 0.0, 1.0, 1.0];
        // Sorted: 0.1(0) 0.2(1) | 0.8(1) 0.9(1): |0.15 − 0.5|/2 + |0.85 − 1|/2.
        let ece = equal_count_calibration_error(&y, &p, 2).unwrap();
        assert!(close(ece, 0.5 * 0.35 + 0.5 * 0.15));
        // More bins than rows: one row per bin.
        let ece = equal_count_calibration_error(&y, &p, 10).unwrap();
        assert!(close(ece, (0.1 + 0.8 + 0.2 + 0.1) / 4.0));
    }

    #[test]
    fn calibration_input_errors() {
        assert_eq!(
            reliability_curve(&[], &[], 5, BinStrategy::Uniform),
            Err(MetricError::Empty)
        );
        assert!(matches!(
            reliability_curve(&[1.0], &[1.2], 5, BinStrategy::Uniform),
            Err(MetricError::ProbabilityOutOfRange { .. })
        ));
        assert!(matches!(
            reliability_curve(&[1.0], &[0.2], 0, BinStrategy::Uniform),
            Err(MetricError::InvalidParameter { .. })
        ));
    }

    #[test]
    fn isotonic_pools_violators_and_merges_tied_x() {
        // y = [1, 3, 2, 4]: the violating pair (3, 2) pools to 2.5.
        let iso = IsotonicCalibrator::fit(&[1.0, 2.0, 3.0, 4.0], &[1.0, 3.0, 2.0, 4.0]).unwrap();
        assert_eq!(
            iso.predict_many(&[1.0, 2.0, 3.0, 4.0]),
            vec![1.0, 2.5, 2.5, 4.0]
        );
        // Interpolation between fitted points and clipping outside the fitted range.
        assert!(close(iso.predict(1.5), 1.75));
        assert_eq!(iso.predict(-10.0), 1.0);
        assert_eq!(iso.predict(10.0), 4.0);

        // Tied x: the two rows at x = 2 become one point with target 0.5 (and weight 2), so
        // pooling with the following 0 gives (0.5·2 + 0)/3 = 1/3.
        let iso = IsotonicCalibrator::fit(&[1.0, 2.0, 2.0, 3.0, 4.0], &[0.0, 1.0, 0.0, 0.0, 1.0])
            .unwrap();
        let fitted = iso.predict_many(&[1.0, 2.0, 3.0, 4.0]);
        assert!(close(fitted[1], 1.0 / 3.0) && close(fitted[2], 1.0 / 3.0));
        assert_eq!(fitted[0], 0.0);
        assert_eq!(fitted[3], 1.0);

        // Weights count like repeated rows.
        let weighted =
            IsotonicCalibrator::fit_weighted(&[1.0, 2.0], &[1.0, 0.0], Some(&[3.0, 1.0])).unwrap();
        assert!(close(weighted.predict(1.0), 0.75));
    }

    #[test]
    fn isotonic_constant_runs_are_trimmed_and_serde_round_trips() {
        let iso = IsotonicCalibrator::fit(&[1.0, 2.0, 3.0, 4.0, 5.0], &[0.0, 0.0, 0.0, 0.0, 1.0])
            .unwrap();
        assert_eq!(iso.x_thresholds, vec![1.0, 4.0, 5.0]);
        assert_eq!(iso.y_thresholds, vec![0.0, 0.0, 1.0]);
        let c = Calibrator::Isotonic(iso);
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains("\"method\":\"isotonic\""));
        let back: Calibrator = serde_json::from_str(&json).unwrap();
        assert_eq!(back, c);
        assert!(close(back.predict(4.5), 0.5));
    }

    #[test]
    fn platt_recovers_a_logistic_relationship() {
        // Labels drawn from the exact model P(y=1|f) = 1/(1+exp(−2f + 1)), i.e. a = −2, b = 1.
        let mut rng = crate::rng::Rng::seed_from_u64(42);
        let n = 20_000;
        let scores: Vec<f64> = (0..n).map(|_| rng.normal(0.5, 1.0)).collect();
        let labels: Vec<f64> = scores
            .iter()
            .map(|&f| {
                let p = 1.0 / (1.0 + (-2.0 * f + 1.0).exp());
                if rng.next_f64() < p { 1.0 } else { 0.0 }
            })
            .collect();
        let platt = PlattCalibrator::fit(&scores, &labels).unwrap();
        assert!((platt.a + 2.0).abs() < 0.1, "{platt:?}");
        assert!((platt.b - 1.0).abs() < 0.1, "{platt:?}");
        let p = platt.predict(0.5);
        assert!((p - 0.5).abs() < 0.03, "{p}");
    }

    #[test]
    fn platt_on_separable_data_stays_finite() {
        let scores = [-2.0, -1.0, 1.0, 2.0];
        let labels = [0.0, 0.0, 1.0, 1.0];
        let platt = PlattCalibrator::fit(&scores, &labels).unwrap();
        assert!(platt.a.is_finite() && platt.b.is_finite());
        // The smoothed targets are 3/4 and 1/4, so predictions stay inside (0, 1).
        let p = platt.predict_many(&scores);
        assert!(p[0] < 0.5 && p[3] > 0.5 && p[3] < 1.0 && p[0] > 0.0);
        let c = Calibrator::fit(CalibrationMethod::Platt, &scores, &labels).unwrap();
        // serde_json's default float parser may be off by one ulp; compare predictions.
        let back: Calibrator = serde_json::from_str(&serde_json::to_string(&c).unwrap()).unwrap();
        for s in scores {
            assert!(close(back.predict(s), c.predict(s)));
        }
    }

    proptest! {
        #[test]
        fn ece_lies_in_unit_interval(
            rows in proptest::collection::vec((0.0f64..=1.0, prop::bool::ANY), 1..80),
            n_bins in 1usize..15,
            quantile in prop::bool::ANY,
        ) {
            let p: Vec<f64> = rows.iter().map(|r| r.0).collect();
            let y: Vec<f64> = rows.iter().map(|r| f64::from(u8::from(r.1))).collect();
            let strategy = if quantile { BinStrategy::Quantile } else { BinStrategy::Uniform };
            let curve = reliability_curve(&y, &p, n_bins, strategy).unwrap();
            let ece = curve.expected_calibration_error();
            prop_assert!((0.0..=1.0).contains(&ece));
            prop_assert!(ece <= curve.maximum_calibration_error() + 1e-15);
            prop_assert_eq!(curve.total() as usize, rows.len());
            let eq = equal_count_calibration_error(&y, &p, n_bins).unwrap();
            prop_assert!((0.0..=1.0).contains(&eq));
        }

        #[test]
        fn isotonic_output_is_monotone_and_within_target_range(
            rows in proptest::collection::vec((0u8..30, 0.0f64..1.0), 1..60),
            probes in proptest::collection::vec(-5.0f64..35.0, 1..30),
        ) {
            let x: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let y: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let iso = IsotonicCalibrator::fit(&x, &y).unwrap();
            let mut probes = probes;
            probes.sort_by(f64::total_cmp);
            let out = iso.predict_many(&probes);
            let (lo, hi) = y.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| (a.min(v), b.max(v)));
            for w in out.windows(2) {
                prop_assert!(w[0] <= w[1] + 1e-12);
            }
            for v in out {
                prop_assert!(v >= lo - 1e-12 && v <= hi + 1e-12);
            }
        }

        #[test]
        fn isotonic_fit_preserves_the_weighted_mean(
            rows in proptest::collection::vec((0u8..20, 0.0f64..1.0), 1..60),
        ) {
            // Pooling replaces values by block means, so the overall mean is unchanged.
            let x: Vec<f64> = rows.iter().map(|r| f64::from(r.0)).collect();
            let y: Vec<f64> = rows.iter().map(|r| r.1).collect();
            let iso = IsotonicCalibrator::fit(&x, &y).unwrap();
            let fitted_mean = iso.predict_many(&x).iter().sum::<f64>() / x.len() as f64;
            let mean = y.iter().sum::<f64>() / y.len() as f64;
            prop_assert!((fitted_mean - mean).abs() < 1e-9);
        }
    }
}
