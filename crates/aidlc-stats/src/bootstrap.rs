//! Seeded percentile-bootstrap confidence intervals for any statistic of row-aligned data.
//!
//! A resample draws `n` row indices uniformly with replacement from the crate's own
//! [`Rng`](crate::rng::Rng) seeded by the caller, so an interval is a deterministic function of
//! (data, statistic, `n_resamples`, `confidence`, `seed`). The interval is the percentile
//! interval: the (1 − c)/2 and (1 + c)/2 quantiles (linear interpolation, numpy's default) of
//! the statistic over the resamples.
//!
//! Resamples on which the statistic is undefined (for example a single class when computing
//! ROC AUC) are skipped and counted rather than retried, so the random stream — and therefore
//! every other resample — does not depend on which ones were skipped.

use crate::metrics::{Metric, MetricError, evaluate};
use crate::rng::Rng;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The knobs of a bootstrap run; all explicit so that a run can be reproduced.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BootstrapConfig {
    /// Number of resamples drawn (including those later skipped as degenerate).
    pub n_resamples: usize,
    /// Coverage of the interval, strictly between 0 and 1 (e.g. 0.95).
    pub confidence: f64,
    /// Seed of the resampling stream.
    pub seed: u64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        BootstrapConfig {
            n_resamples: 1000,
            confidence: 0.95,
            seed: 0,
        }
    }
}

/// A percentile bootstrap interval and how it was obtained.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BootstrapInterval {
    /// The statistic on the original rows (None when it is undefined there).
    pub estimate: Option<f64>,
    pub lower: f64,
    pub upper: f64,
    /// Standard deviation (ddof = 1) of the statistic over the valid resamples.
    pub standard_error: f64,
    pub confidence: f64,
    pub n_resamples: usize,
    /// Resamples whose statistic was defined and finite.
    pub n_valid: usize,
    /// Resamples skipped because the statistic was undefined or not finite.
    pub n_skipped: usize,
}

/// Why a bootstrap interval could not be computed.
#[derive(Debug, Clone, PartialEq)]
pub enum BootstrapError {
    /// There are no rows to resample.
    Empty,
    /// A configuration value is out of range.
    InvalidParameter {
        name: &'static str,
        rule: &'static str,
    },
    /// The statistic was undefined on every resample.
    AllResamplesDegenerate { n_resamples: usize },
    /// The metric could not be computed on the original data (wrong lengths, labels, …).
    Metric(MetricError),
}

impl fmt::Display for BootstrapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BootstrapError::Empty => write!(f, "no rows to resample"),
            BootstrapError::InvalidParameter { name, rule } => {
                write!(f, "invalid parameter {name}: {rule}")
            }
            BootstrapError::AllResamplesDegenerate { n_resamples } => {
                write!(
                    f,
                    "the statistic was undefined on all {n_resamples} resamples"
                )
            }
            BootstrapError::Metric(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for BootstrapError {}

impl From<MetricError> for BootstrapError {
    fn from(e: MetricError) -> Self {
        BootstrapError::Metric(e)
    }
}

fn check_config(n_rows: usize, config: &BootstrapConfig) -> Result<(), BootstrapError> {
    if n_rows == 0 {
        return Err(BootstrapError::Empty);
    }
    if config.n_resamples == 0 {
        return Err(BootstrapError::InvalidParameter {
            name: "n_resamples",
            rule: "must be at least 1",
        });
    }
    if !(config.confidence > 0.0 && config.confidence < 1.0) {
        return Err(BootstrapError::InvalidParameter {
            name: "confidence",
            rule: "must be strictly between 0 and 1",
        });
    }
    Ok(())
}

/// Fills `indices` with `n` row indices drawn uniformly with replacement.
pub fn resample_indices(rng: &mut Rng, n: usize, indices: &mut Vec<usize>) {
    indices.clear();
    indices.extend((0..n).map(|_| rng.below_usize(n)));
}

/// Linear-interpolation quantile (numpy's default) of sorted values.
fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    let position = q * (sorted.len() - 1) as f64;
    let lo = position.floor() as usize;
    let hi = (lo + 1).min(sorted.len() - 1);
    let fraction = position - lo as f64;
    sorted[lo] + (sorted[hi] - sorted[lo]) * fraction
}

/// Percentile bootstrap of `statistic` over `n_rows` rows.
///
/// `statistic` receives the row indices of one resample (with repetitions) and returns the
/// value, or `None` when it is undefined on that resample; non-finite values count as
/// undefined too. It is first called once with the identity indices `0..n_rows` for the
/// point estimate.
pub fn bootstrap<F>(
    n_rows: usize,
    config: &BootstrapConfig,
    mut statistic: F,
) -> Result<BootstrapInterval, BootstrapError>
where
    F: FnMut(&[usize]) -> Option<f64>,
{
    check_config(n_rows, config)?;
    let mut indices: Vec<usize> = (0..n_rows).collect();
    let estimate = statistic(&indices).filter(|v| v.is_finite());
    let mut rng = Rng::seed_from_u64(config.seed);
    let mut values = Vec::with_capacity(config.n_resamples);
    for _ in 0..config.n_resamples {
        resample_indices(&mut rng, n_rows, &mut indices);
        if let Some(v) = statistic(&indices).filter(|v| v.is_finite()) {
            values.push(v);
        }
    }
    let n_valid = values.len();
    if n_valid == 0 {
        return Err(BootstrapError::AllResamplesDegenerate {
            n_resamples: config.n_resamples,
        });
    }
    values.sort_unstable_by(f64::total_cmp);
    let tail = (1.0 - config.confidence) / 2.0;
    let mean = values.iter().sum::<f64>() / n_valid as f64;
    let standard_error = if n_valid > 1 {
        let ss: f64 = values.iter().map(|v| (v - mean) * (v - mean)).sum();
        (ss / (n_valid - 1) as f64).sqrt()
    } else {
        f64::NAN
    };
    Ok(BootstrapInterval {
        estimate,
        lower: quantile_sorted(&values, tail),
        upper: quantile_sorted(&values, 1.0 - tail),
        standard_error,
        confidence: config.confidence,
        n_resamples: config.n_resamples,
        n_valid,
        n_skipped: config.n_resamples - n_valid,
    })
}

/// Percentile bootstrap of a named [`Metric`] on aligned truth and predictions.
///
/// The original data must be valid for the metric (otherwise the metric's error is returned);
/// resamples on which it is undefined (e.g. one class for ROC AUC) are skipped and counted.
pub fn bootstrap_metric(
    metric: Metric,
    y_true: &[f64],
    y_pred: &[f64],
    config: &BootstrapConfig,
) -> Result<BootstrapInterval, BootstrapError> {
    if y_true.is_empty() {
        return Err(BootstrapError::Empty);
    }
    // Validates lengths and values once up front, so that a resample can only fail for being
    // degenerate, never for bad input.
    let full = evaluate(metric, y_true, y_pred);
    match full {
        Err(MetricError::SingleClass) | Ok(_) => {}
        Err(e) => return Err(e.into()),
    }
    let mut t = Vec::with_capacity(y_true.len());
    let mut p = Vec::with_capacity(y_pred.len());
    bootstrap(y_true.len(), config, |rows| {
        t.clear();
        p.clear();
        t.extend(rows.iter().map(|&i| y_true[i]));
        p.extend(rows.iter().map(|&i| y_pred[i]));
        evaluate(metric, &t, &p).ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn interval_of_the_mean_brackets_the_estimate() {
        let data: Vec<f64> = (0..200).map(|i| (i % 17) as f64).collect();
        let config = BootstrapConfig {
            n_resamples: 500,
            confidence: 0.9,
            seed: 3,
        };
        let mean =
            |rows: &[usize]| Some(rows.iter().map(|&i| data[i]).sum::<f64>() / rows.len() as f64);
        let ci = bootstrap(data.len(), &config, mean).unwrap();
        let estimate = ci.estimate.unwrap();
        assert!(ci.lower < estimate && estimate < ci.upper, "{ci:?}");
        assert_eq!(ci.n_valid, 500);
        assert_eq!(ci.n_skipped, 0);
        // The sd of the data is about 4.9, so the standard error of the mean is about 0.35.
        assert!((ci.standard_error - 0.35).abs() < 0.07, "{ci:?}");
    }

    #[test]
    fn degenerate_resamples_are_skipped_and_counted() {
        // One positive among ten rows: about (0.9)^10 ≈ 35 % of resamples miss it.
        let y = [1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0];
        let s = [0.9, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.95];
        let config = BootstrapConfig {
            n_resamples: 400,
            confidence: 0.95,
            seed: 11,
        };
        let ci = bootstrap_metric(Metric::RocAuc, &y, &s, &config).unwrap();
        assert_eq!(ci.n_valid + ci.n_skipped, 400);
        assert!(ci.n_skipped > 80 && ci.n_skipped < 200, "{ci:?}");
        assert!((ci.estimate.unwrap() - 8.0 / 9.0).abs() < 1e-12);
        assert!(ci.lower <= ci.upper && ci.upper <= 1.0);

        let all_negative = [0.0; 10];
        let only_one = bootstrap_metric(Metric::RocAuc, &all_negative, &s, &config);
        assert_eq!(
            only_one,
            Err(BootstrapError::AllResamplesDegenerate { n_resamples: 400 })
        );
    }

    #[test]
    fn invalid_input_is_rejected() {
        let config = BootstrapConfig::default();
        assert_eq!(
            bootstrap(0, &config, |_| Some(1.0)),
            Err(BootstrapError::Empty)
        );
        let bad = BootstrapConfig {
            confidence: 1.0,
            ..config
        };
        assert!(matches!(
            bootstrap(3, &bad, |_| Some(1.0)),
            Err(BootstrapError::InvalidParameter { .. })
        ));
        assert!(matches!(
            bootstrap_metric(Metric::Mae, &[1.0, 2.0], &[1.0], &config),
            Err(BootstrapError::Metric(MetricError::LengthMismatch { .. }))
        ));
    }

    proptest! {
        #[test]
        fn same_seed_gives_the_same_interval(
            values in proptest::collection::vec(-100.0f64..100.0, 1..50),
            seed in any::<u64>(),
        ) {
            let config = BootstrapConfig { n_resamples: 64, confidence: 0.8, seed };
            let median = |rows: &[usize]| {
                let mut v: Vec<f64> = rows.iter().map(|&i| values[i]).collect();
                v.sort_by(f64::total_cmp);
                Some(v[v.len() / 2])
            };
            let a = bootstrap(values.len(), &config, median).unwrap();
            let b = bootstrap(values.len(), &config, median).unwrap();
            prop_assert_eq!(&a, &b);
            prop_assert!(a.lower <= a.upper);
        }
    }
}
