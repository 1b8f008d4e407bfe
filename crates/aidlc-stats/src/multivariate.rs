//! Multivariate drift by PCA data reconstruction (NannyML's "data reconstruction" method).
//!
//! Fitted on reference data: NaN cells are imputed with the reference column mean; columns are
//! standardised with the reference mean and population standard deviation (a zero deviation
//! is replaced by 1, as scikit-learn's `StandardScaler` does); a PCA of the standardised
//! reference keeps the fewest principal components whose cumulative explained-variance ratio
//! exceeds 0.65. For any chunk the drift statistic is the mean over rows of the Euclidean norm
//! of (x − reconstruction(x)) in standardised space: when the correlation structure of the
//! data changes, the reference components no longer capture the rows and the error grows.
//!
//! Conventions:
//! * Component count: scikit-learn's `PCA(n_components=0.65)` rule, k = 1 + (number of
//!   cumulative ratios ≤ 0.65), i.e. the cumulative ratio of the kept components is strictly
//!   greater than the fraction (an exact tie, which only constructed data produce, takes one
//!   more component than "≥" would).
//! * The eigen-decomposition of the reference covariance uses the cyclic Jacobi method, exact to
//!   rounding and fast for the tens of columns this is meant for (O(d³) per sweep).
//! * Sampling error of a chunk of n rows = std (ddof = 1) of the reference per-row errors / √n;
//!   the confidence band is the value ± 3 sampling errors, lower end clipped at 0.
//! * Alert thresholds: mean ± 3·std (population) of the reference chunks' errors, the lower
//!   one clipped at 0; a chunk alerts when its error is outside them.
//! * Input is a row-major matrix of `f64`; categorical columns must be encoded by the caller
//!   (NannyML uses frequency encoding). Infinite cells are rejected.

use crate::metrics::MetricError;
use serde::{Deserialize, Serialize};
use std::ops::Range;

/// How many principal components the model keeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentSelection {
    /// The fewest components whose cumulative explained-variance ratio exceeds this fraction
    /// (strictly between 0 and 1).
    VarianceFraction(f64),
    /// A fixed number of components (capped at the number of columns).
    Fixed(usize),
}

/// Settings of [`PcaReconstructionModel::fit`] (NannyML's values by default).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PcaConfig {
    pub components: ComponentSelection,
    /// Width of the alert thresholds in standard deviations of the reference-chunk errors.
    pub threshold_sigmas: f64,
    /// Width of the confidence band in sampling errors.
    pub band_sigmas: f64,
}

impl Default for PcaConfig {
    fn default() -> Self {
        PcaConfig {
            components: ComponentSelection::VarianceFraction(0.65),
            threshold_sigmas: 3.0,
            band_sigmas: 3.0,
        }
    }
}

/// A fitted PCA reconstruction model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PcaReconstructionModel {
    pub n_features: usize,
    /// Reference column means used to fill NaN cells (0 for an all-NaN column).
    pub imputation_means: Vec<f64>,
    /// Standardisation: z = (x − scaler_means) / scaler_scales.
    pub scaler_means: Vec<f64>,
    pub scaler_scales: Vec<f64>,
    /// Mean of the standardised reference (≈ 0; kept so that centring is exact).
    pub pca_means: Vec<f64>,
    /// Kept principal axes, row-major: component j is `components[j*n_features..(j+1)*n_features]`.
    pub components: Vec<f64>,
    pub n_components: usize,
    /// Explained-variance ratio of every principal axis, largest first.
    pub explained_variance_ratio: Vec<f64>,
    /// Mean per-row reconstruction error on the whole reference.
    pub reference_error: f64,
    /// Standard deviation (ddof = 1) of the per-row reconstruction errors on the reference.
    pub reference_error_std: f64,
    pub lower_threshold: Option<f64>,
    pub upper_threshold: Option<f64>,
    pub band_sigmas: f64,
}

/// The reconstruction-error result of one chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReconstructionResult {
    pub n_rows: usize,
    /// Mean Euclidean reconstruction error over the chunk's rows.
    pub reconstruction_error: f64,
    pub sampling_error: f64,
    pub lower_confidence_bound: f64,
    pub upper_confidence_bound: f64,
    pub lower_threshold: Option<f64>,
    pub upper_threshold: Option<f64>,
    pub alert: bool,
}

fn check_matrix(data: &[f64], n_features: usize) -> Result<usize, MetricError> {
    if n_features == 0 {
        return Err(MetricError::InvalidParameter {
            name: "n_features",
            rule: "must be at least 1",
        });
    }
    if data.is_empty() {
        return Err(MetricError::Empty);
    }
    if !data.len().is_multiple_of(n_features) {
        return Err(MetricError::LengthMismatch {
            expected: data.len().div_ceil(n_features) * n_features,
            found: data.len(),
        });
    }
    if let Some(index) = data.iter().position(|v| v.is_infinite()) {
        return Err(MetricError::NonFinite { index });
    }
    Ok(data.len() / n_features)
}

/// Eigen-decomposition of a symmetric matrix (row-major, d × d) by cyclic Jacobi rotations.
///
/// Returns the eigenvalues in decreasing order and the matching unit eigenvectors as the
/// *columns* of a row-major d × d matrix.
pub fn symmetric_eigen(matrix: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut a = matrix.to_vec();
    let mut v = vec![0.0; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    let scale: f64 = a.iter().map(|x| x * x).sum::<f64>().sqrt();
    for _sweep in 0..100 {
        let off: f64 = (0..d)
            .flat_map(|p| ((p + 1)..d).map(move |q| (p, q)))
            .map(|(p, q)| a[p * d + q] * a[p * d + q])
            .sum::<f64>()
            .sqrt();
        if off <= f64::EPSILON * scale * 1e-3 || off == 0.0 {
            break;
        }
        for p in 0..d {
            for q in (p + 1)..d {
                let apq = a[p * d + q];
                if apq == 0.0 {
                    continue;
                }
                let (app, aqq) = (a[p * d + p], a[q * d + q]);
                // The rotation angle that zeroes a[p][q], with the smaller of the two roots for
                // stability.
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..d {
                    if k != p && k != q {
                        let akp = a[k * d + p];
                        let akq = a[k * d + q];
                        let new_kp = c * akp - s * akq;
                        let new_kq = s * akp + c * akq;
                        a[k * d + p] = new_kp;
                        a[p * d + k] = new_kp;
                        a[k * d + q] = new_kq;
                        a[q * d + k] = new_kq;
                    }
                }
                a[p * d + p] = app - t * apq;
                a[q * d + q] = aqq + t * apq;
                a[p * d + q] = 0.0;
                a[q * d + p] = 0.0;
                for k in 0..d {
                    let vkp = v[k * d + p];
                    let vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&i, &j| a[j * d + j].total_cmp(&a[i * d + i]));
    let values = order.iter().map(|&i| a[i * d + i]).collect();
    let mut vectors = vec![0.0; d * d];
    for (new_col, &old_col) in order.iter().enumerate() {
        for k in 0..d {
            vectors[k * d + new_col] = v[k * d + old_col];
        }
    }
    (values, vectors)
}

/// Population mean and standard deviation of finite values (None when there are none).
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

impl PcaReconstructionModel {
    /// Fits the model on a row-major reference matrix with `n_features` columns.
    ///
    /// `reference_chunks` are row ranges whose mean errors set the alert thresholds
    /// (none → no thresholds). The reference needs at least two rows.
    pub fn fit(
        data: &[f64],
        n_features: usize,
        reference_chunks: &[Range<usize>],
        config: &PcaConfig,
    ) -> Result<Self, MetricError> {
        let n = check_matrix(data, n_features)?;
        if n < 2 {
            return Err(MetricError::InvalidParameter {
                name: "reference",
                rule: "needs at least two rows",
            });
        }
        match config.components {
            ComponentSelection::VarianceFraction(f) if !(f > 0.0 && f < 1.0) => {
                return Err(MetricError::InvalidParameter {
                    name: "components",
                    rule: "variance fraction must be strictly between 0 and 1",
                });
            }
            ComponentSelection::Fixed(0) => {
                return Err(MetricError::InvalidParameter {
                    name: "components",
                    rule: "must keep at least one component",
                });
            }
            _ => {}
        }
        if reference_chunks
            .iter()
            .any(|r| r.start >= r.end || r.end > n)
        {
            return Err(MetricError::InvalidParameter {
                name: "reference_chunks",
                rule: "every range must be non-empty and inside the reference rows",
            });
        }
        let d = n_features;

        // Column means of the non-NaN cells, for imputation.
        let mut sums = vec![0.0; d];
        let mut counts = vec![0usize; d];
        for row in data.chunks_exact(d) {
            for (j, &x) in row.iter().enumerate() {
                if !x.is_nan() {
                    sums[j] += x;
                    counts[j] += 1;
                }
            }
        }
        let imputation_means: Vec<f64> = sums
            .iter()
            .zip(&counts)
            .map(|(&s, &c)| if c > 0 { s / c as f64 } else { 0.0 })
            .collect();
        let impute = |j: usize, x: f64| if x.is_nan() { imputation_means[j] } else { x };

        // Standardisation on the imputed reference (population std; 0 → 1).
        let mut scaler_means = vec![0.0; d];
        for row in data.chunks_exact(d) {
            for (j, &x) in row.iter().enumerate() {
                scaler_means[j] += impute(j, x);
            }
        }
        scaler_means.iter_mut().for_each(|m| *m /= n as f64);
        let mut variances = vec![0.0; d];
        for row in data.chunks_exact(d) {
            for (j, &x) in row.iter().enumerate() {
                let dev = impute(j, x) - scaler_means[j];
                variances[j] += dev * dev;
            }
        }
        let scaler_scales: Vec<f64> = variances
            .iter()
            .map(|&v| {
                let s = (v / n as f64).sqrt();
                if s == 0.0 { 1.0 } else { s }
            })
            .collect();

        let mut z = Vec::with_capacity(data.len());
        for row in data.chunks_exact(d) {
            for (j, &x) in row.iter().enumerate() {
                z.push((impute(j, x) - scaler_means[j]) / scaler_scales[j]);
            }
        }
        let mut pca_means = vec![0.0; d];
        for row in z.chunks_exact(d) {
            for (m, &x) in pca_means.iter_mut().zip(row) {
                *m += x;
            }
        }
        pca_means.iter_mut().for_each(|m| *m /= n as f64);

        // Sample covariance (n − 1), as scikit-learn's PCA; the ratios do not depend on it.
        let mut cov = vec![0.0; d * d];
        let mut centred = vec![0.0; d];
        for row in z.chunks_exact(d) {
            for j in 0..d {
                centred[j] = row[j] - pca_means[j];
            }
            for p in 0..d {
                let cp = centred[p];
                for q in p..d {
                    cov[p * d + q] += cp * centred[q];
                }
            }
        }
        for p in 0..d {
            for q in p..d {
                let c = cov[p * d + q] / (n - 1) as f64;
                cov[p * d + q] = c;
                cov[q * d + p] = c;
            }
        }
        let (eigenvalues, eigenvectors) = symmetric_eigen(&cov, d);
        let clipped: Vec<f64> = eigenvalues.iter().map(|&v| v.max(0.0)).collect();
        let total: f64 = clipped.iter().sum();
        let explained_variance_ratio: Vec<f64> = if total > 0.0 {
            clipped.iter().map(|v| v / total).collect()
        } else {
            vec![0.0; d]
        };
        let n_components = match config.components {
            ComponentSelection::Fixed(k) => k.min(d),
            ComponentSelection::VarianceFraction(f) => {
                let mut cumulative = 0.0;
                let at_or_below = explained_variance_ratio
                    .iter()
                    .take_while(|&&r| {
                        cumulative += r;
                        cumulative <= f
                    })
                    .count();
                (at_or_below + 1).min(d)
            }
        };
        let mut components = Vec::with_capacity(n_components * d);
        for j in 0..n_components {
            components.extend((0..d).map(|k| eigenvectors[k * d + j]));
        }

        let mut model = PcaReconstructionModel {
            n_features: d,
            imputation_means,
            scaler_means,
            scaler_scales,
            pca_means,
            components,
            n_components,
            explained_variance_ratio,
            reference_error: 0.0,
            reference_error_std: 0.0,
            lower_threshold: None,
            upper_threshold: None,
            band_sigmas: config.band_sigmas,
        };
        let errors = model.row_errors(data)?;
        let mean = errors.iter().sum::<f64>() / n as f64;
        let ss: f64 = errors.iter().map(|e| (e - mean) * (e - mean)).sum();
        model.reference_error = mean;
        model.reference_error_std = (ss / (n - 1) as f64).sqrt();
        let chunk_errors: Vec<f64> = reference_chunks
            .iter()
            .map(|r| errors[r.clone()].iter().sum::<f64>() / r.len() as f64)
            .collect();
        if let Some((m, s)) = mean_and_std(&chunk_errors) {
            model.lower_threshold = Some((m - config.threshold_sigmas * s).max(0.0));
            model.upper_threshold = Some(m + config.threshold_sigmas * s);
        }
        Ok(model)
    }

    /// The Euclidean reconstruction error of every row of a row-major matrix.
    pub fn row_errors(&self, data: &[f64]) -> Result<Vec<f64>, MetricError> {
        let d = self.n_features;
        let n = check_matrix(data, d)?;
        let mut errors = Vec::with_capacity(n);
        let mut centred = vec![0.0; d];
        let mut residual = vec![0.0; d];
        for row in data.chunks_exact(d) {
            for j in 0..d {
                let x = if row[j].is_nan() {
                    self.imputation_means[j]
                } else {
                    row[j]
                };
                centred[j] = (x - self.scaler_means[j]) / self.scaler_scales[j] - self.pca_means[j];
            }
            // Residual = centred − Σ_j (centred · v_j) v_j over the kept axes.
            residual.copy_from_slice(&centred);
            for axis in self.components.chunks_exact(d) {
                let projection: f64 = axis.iter().zip(&centred).map(|(a, c)| a * c).sum();
                for (r, a) in residual.iter_mut().zip(axis) {
                    *r -= projection * a;
                }
            }
            errors.push(residual.iter().map(|r| r * r).sum::<f64>().sqrt());
        }
        Ok(errors)
    }

    /// The drift result of one chunk (row-major matrix with the reference's columns).
    pub fn evaluate_chunk(&self, data: &[f64]) -> Result<ReconstructionResult, MetricError> {
        let errors = self.row_errors(data)?;
        let n = errors.len();
        let value = errors.iter().sum::<f64>() / n as f64;
        let sampling_error = self.reference_error_std / (n as f64).sqrt();
        let half_width = self.band_sigmas * sampling_error;
        let alert = self.lower_threshold.is_some_and(|l| value < l)
            || self.upper_threshold.is_some_and(|u| value > u);
        Ok(ReconstructionResult {
            n_rows: n,
            reconstruction_error: value,
            sampling_error,
            lower_confidence_bound: (value - half_width).max(0.0),
            upper_confidence_bound: value + half_width,
            lower_threshold: self.lower_threshold,
            upper_threshold: self.upper_threshold,
            alert,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use proptest::prelude::*;

    #[test]
    fn jacobi_recovers_known_eigenpairs() {
        // [[2, 1], [1, 2]] has eigenvalues 3 and 1 with axes (1, 1)/√2 and (1, −1)/√2.
        let (values, vectors) = symmetric_eigen(&[2.0, 1.0, 1.0, 2.0], 2);
        assert!((values[0] - 3.0).abs() < 1e-14 && (values[1] - 1.0).abs() < 1e-14);
        let h = std::f64::consts::FRAC_1_SQRT_2;
        assert!((vectors[0].abs() - h).abs() < 1e-14 && (vectors[2].abs() - h).abs() < 1e-14);
        assert!(vectors[0] * vectors[2] > 0.0);

        // A 4×4 symmetric matrix: A·v = λ·v for every returned pair and V is orthonormal.
        let a = [
            4.0, 1.0, -2.0, 2.0, 1.0, 2.0, 0.0, 1.0, -2.0, 0.0, 3.0, -2.0, 2.0, 1.0, -2.0, -1.0,
        ];
        let (values, vectors) = symmetric_eigen(&a, 4);
        for j in 0..4 {
            for r in 0..4 {
                let av: f64 = (0..4).map(|k| a[r * 4 + k] * vectors[k * 4 + j]).sum();
                assert!((av - values[j] * vectors[r * 4 + j]).abs() < 1e-12);
            }
            for k in 0..4 {
                let dot: f64 = (0..4)
                    .map(|r| vectors[r * 4 + j] * vectors[r * 4 + k])
                    .sum();
                assert!((dot - if j == k { 1.0 } else { 0.0 }).abs() < 1e-12);
            }
        }
        assert!((values.iter().sum::<f64>() - 8.0).abs() < 1e-12);
        assert!(values.windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn two_perfectly_correlated_columns_reconstruct_exactly() {
        // Column 2 = 2·column 1: after standardisation both are identical, one component holds
        // all variance, and every reference row is reconstructed without error.
        let data: Vec<f64> = (0..20).flat_map(|i| [i as f64, 2.0 * i as f64]).collect();
        let model = PcaReconstructionModel::fit(&data, 2, &[], &PcaConfig::default()).unwrap();
        assert_eq!(model.n_components, 1);
        assert!((model.explained_variance_ratio[0] - 1.0).abs() < 1e-12);
        assert!(model.reference_error < 1e-12);
        // A row that breaks the correlation: standardised (z, −z) is orthogonal to the axis.
        let std = model.scaler_scales[0];
        let mean = model.scaler_means[0];
        let row = [mean + std, 2.0 * (mean - std)];
        let err = model.row_errors(&row).unwrap()[0];
        assert!((err - 2.0f64.sqrt()).abs() < 1e-12, "{err}");
    }

    #[test]
    fn component_count_follows_the_variance_rule_and_nan_is_imputed() {
        // Three independent standard columns: each holds about a third of the variance, so
        // 0.65 needs two components.
        let mut rng = Rng::seed_from_u64(4);
        let mut data: Vec<f64> = (0..3000).map(|_| rng.standard_normal()).collect();
        let model = PcaReconstructionModel::fit(&data, 3, &[], &PcaConfig::default()).unwrap();
        assert_eq!(model.n_components, 2);
        assert!((model.explained_variance_ratio.iter().sum::<f64>() - 1.0).abs() < 1e-12);

        // A NaN is replaced by the column mean before scaling.
        data[0] = f64::NAN;
        let model = PcaReconstructionModel::fit(&data, 3, &[], &PcaConfig::default()).unwrap();
        let imputed = model
            .row_errors(&[model.imputation_means[0], data[1], data[2]])
            .unwrap();
        let with_nan = model.row_errors(&[f64::NAN, data[1], data[2]]).unwrap();
        assert_eq!(imputed, with_nan);
        assert!(matches!(
            model.row_errors(&[1.0, f64::INFINITY, 0.0]),
            Err(MetricError::NonFinite { index: 1 })
        ));
        assert!(matches!(
            model.row_errors(&[1.0, 2.0]),
            Err(MetricError::LengthMismatch { .. })
        ));
    }

    #[test]
    fn broken_correlation_raises_the_error_and_alerts() {
        let mut rng = Rng::seed_from_u64(8);
        // Two tightly correlated pairs: two components hold almost all the variance.
        let correlated = |rng: &mut Rng, n: usize| -> Vec<f64> {
            (0..n)
                .flat_map(|_| {
                    let a = rng.standard_normal();
                    let b = rng.standard_normal();
                    [
                        a,
                        a + 0.1 * rng.standard_normal(),
                        b,
                        b + 0.1 * rng.standard_normal(),
                    ]
                })
                .collect()
        };
        let reference = correlated(&mut rng, 5000);
        let chunks: Vec<Range<usize>> = (0..10).map(|k| k * 500..(k + 1) * 500).collect();
        let model =
            PcaReconstructionModel::fit(&reference, 4, &chunks, &PcaConfig::default()).unwrap();
        assert_eq!(model.n_components, 2);
        assert!(model.lower_threshold.unwrap() >= 0.0);

        let same = model.evaluate_chunk(&correlated(&mut rng, 500)).unwrap();
        assert!(!same.alert, "{same:?}");
        assert!(same.sampling_error > 0.0);
        assert!(same.lower_confidence_bound < same.reconstruction_error);

        // Same marginals, but the first pair is now independent.
        let broken: Vec<f64> = (0..500)
            .flat_map(|_| {
                let a = rng.standard_normal();
                let c = rng.standard_normal() * (1.01f64).sqrt();
                let b = rng.standard_normal();
                [a, c, b, b + 0.1 * rng.standard_normal()]
            })
            .collect();
        let drifted = model.evaluate_chunk(&broken).unwrap();
        assert!(drifted.alert, "{drifted:?}");
        assert!(drifted.reconstruction_error > same.reconstruction_error + 0.2);

        // serde_json's default float parser may be off by one ulp; compare what it computes.
        let json = serde_json::to_string(&model).unwrap();
        let back: PcaReconstructionModel = serde_json::from_str(&json).unwrap();
        let restored = back.evaluate_chunk(&broken).unwrap();
        assert!((restored.reconstruction_error - drifted.reconstruction_error).abs() < 1e-12);
        assert_eq!(restored.alert, drifted.alert);
    }

    proptest! {
        #[test]
        fn keeping_every_component_reconstructs_exactly(
            seed in any::<u64>(),
            d in 1usize..6,
            n in 2usize..40,
        ) {
            let mut rng = Rng::seed_from_u64(seed);
            let data: Vec<f64> = (0..n * d).map(|_| rng.normal(1.0, 3.0)).collect();
            let config = PcaConfig { components: ComponentSelection::Fixed(d), ..PcaConfig::default() };
            let model = PcaReconstructionModel::fit(&data, d, &[], &config).unwrap();
            let fresh: Vec<f64> = (0..5 * d).map(|_| rng.normal(0.0, 10.0)).collect();
            for e in model.row_errors(&data).unwrap().into_iter().chain(model.row_errors(&fresh).unwrap()) {
                prop_assert!(e < 1e-9, "error {}", e);
            }
        }

        #[test]
        fn errors_are_non_negative_and_fewer_components_never_help(
            seed in any::<u64>(),
            n in 3usize..40,
        ) {
            let mut rng = Rng::seed_from_u64(seed);
            let data: Vec<f64> = (0..n * 4).map(|_| rng.standard_normal()).collect();
            let fit = |k| {
                let config = PcaConfig { components: ComponentSelection::Fixed(k), ..PcaConfig::default() };
                PcaReconstructionModel::fit(&data, 4, &[], &config).unwrap()
            };
            let (one, three) = (fit(1), fit(3));
            prop_assert!(one.reference_error >= three.reference_error - 1e-12);
            prop_assert!(three.reference_error >= 0.0);
        }
    }
}
