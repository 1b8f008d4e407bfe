//! Streaming drift detectors with river's semantics and defaults (river 0.26).
//!
//! Every detector consumes one value per `update` and exposes `drift_detected` (and, for the
//! detectors that have a warning zone, `warning_detected`) for the value just consumed. As in
//! river, a detector that signalled drift resets its whole state at the start of the next
//! update, so the first detection index never depends on the reset policy but later ones do.
//!
//! Each detector has a `Config` whose `Default` is river's default constructor, and whose
//! constructor validates the parameters instead of panicking later in the stream.

pub mod adwin;
pub mod ddm;
pub mod eddm;
pub mod hddm_a;
pub mod hddm_w;
pub mod kswin;
pub mod mt19937;
pub mod page_hinkley;

pub use adwin::{Adwin, AdwinConfig};
pub use ddm::{Ddm, DdmConfig};
pub use eddm::{Eddm, EddmConfig};
pub use hddm_a::{HddmA, HddmAConfig};
pub use hddm_w::{HddmW, HddmWConfig};
pub use kswin::{Kswin, KswinConfig, KswinTest};
pub use mt19937::Mt19937;
pub use page_hinkley::{PageHinkley, PageHinkleyConfig, PageHinkleyMode};

use std::fmt;

/// A detector that watches a stream one value at a time.
pub trait DriftDetector {
    /// Consumes the next value of the stream.
    fn update(&mut self, x: f64);
    /// Whether the value consumed last completed a drift.
    fn drift_detected(&self) -> bool;
    /// Whether the detector is in its warning zone after the last value (false for detectors
    /// without one).
    fn warning_detected(&self) -> bool {
        false
    }
}

/// Feeds a whole stream to `detector` and returns the 0-based positions after which drift, and
/// respectively a warning, was signalled.
pub fn detect_all<D: DriftDetector + ?Sized>(
    detector: &mut D,
    stream: &[f64],
) -> (Vec<usize>, Vec<usize>) {
    let mut drifts = Vec::new();
    let mut warnings = Vec::new();
    for (index, &x) in stream.iter().enumerate() {
        detector.update(x);
        if detector.drift_detected() {
            drifts.push(index);
        }
        if detector.warning_detected() {
            warnings.push(index);
        }
    }
    (drifts, warnings)
}

/// A configuration value that river would reject (or that would make the detector meaningless).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct InvalidConfig {
    /// The offending parameter, spelled as in river's constructor.
    pub parameter: String,
    /// Why the value is not accepted.
    pub reason: String,
}

impl InvalidConfig {
    pub(crate) fn new(parameter: &str, reason: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_string(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for InvalidConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid {}: {}", self.parameter, self.reason)
    }
}

impl std::error::Error for InvalidConfig {}

/// Rejects probabilities outside the open interval (0, 1), where logarithms of the confidence
/// would be infinite or of the wrong sign.
pub(crate) fn check_open_unit(parameter: &str, value: f64) -> Result<(), InvalidConfig> {
    if value > 0.0 && value < 1.0 {
        Ok(())
    } else {
        Err(InvalidConfig::new(
            parameter,
            format!("{value} is not in (0, 1)"),
        ))
    }
}

/// river's `stats.Mean`: an incremental mean whose update order is reproduced exactly so that
/// threshold comparisons flip on the same update as in river.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RunningMean {
    pub(crate) n: f64,
    pub(crate) mean: f64,
}

impl RunningMean {
    pub(crate) fn update(&mut self, x: f64) {
        self.n += 1.0;
        self.mean += (1.0 / self.n) * (x - self.mean);
    }
}

/// river's `stats.Var` with one delta degree of freedom (Welford's update).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct RunningVariance {
    pub(crate) mean: RunningMean,
    sum_of_squares: f64,
}

impl RunningVariance {
    pub(crate) fn update(&mut self, x: f64) {
        let before = self.mean.mean;
        self.mean.update(x);
        self.sum_of_squares += (x - before) * (x - self.mean.mean);
    }

    /// The sample variance, 0 until there are two observations.
    pub(crate) fn sample_variance(&self) -> f64 {
        if self.mean.n > 1.0 {
            self.sum_of_squares / (self.mean.n - 1.0)
        } else {
            0.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_variance_matches_two_pass() {
        let data = [3.0, 5.0, 4.0, 7.0, 10.0, 12.0];
        let mut variance = RunningVariance::default();
        for x in data {
            variance.update(x);
        }
        let mean = data.iter().sum::<f64>() / data.len() as f64;
        let two_pass =
            data.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (data.len() - 1) as f64;
        assert!((variance.sample_variance() - two_pass).abs() < 1e-12);
        assert!((variance.mean.mean - mean).abs() < 1e-12);
    }

    #[test]
    fn detect_all_reports_positions() {
        let mut detector = PageHinkley::new(PageHinkleyConfig {
            threshold: 1.0,
            min_instances: 1,
            ..PageHinkleyConfig::default()
        })
        .expect("valid config");
        let stream: Vec<f64> = (0..50).map(|i| if i < 25 { 0.0 } else { 5.0 }).collect();
        let (drifts, warnings) = detect_all(&mut detector, &stream);
        assert_eq!(drifts.first(), Some(&25));
        assert!(warnings.is_empty());
    }
}
