//! EDDM, the early drift detection method of Baena-García et al. (2006), as implemented in
//! river 0.26 (`drift.binary.EDDM`).
//!
//! The input is a stream of 0/1 outcomes (1 = error). On every error the distance (in updates)
//! since the previous error feeds a running mean `m'` and sample standard deviation `s'`. The
//! largest `m' + 2s'` seen is remembered; once past the warm start (in both updates and errors)
//! an error whose `m' + 2s'` is not a new maximum compares the ratio to that maximum with
//! `beta` (drift) and `alpha` (warning). Shrinking gaps between errors mean a rising error rate.
//! As in river, the warning state only changes on errors and survives a drift signal.

use super::{DriftDetector, InvalidConfig, RunningVariance};
use serde::{Deserialize, Serialize};

/// EDDM parameters; `Default` is river's `drift.binary.EDDM()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EddmConfig {
    /// Number of updates, and of errors, needed before warnings or drift can be signalled.
    pub warm_start: u32,
    /// Ratio below which the warning zone is entered.
    pub alpha: f64,
    /// Ratio below which drift is signalled; must not exceed `alpha`.
    pub beta: f64,
}

impl Default for EddmConfig {
    fn default() -> Self {
        Self {
            warm_start: 30,
            alpha: 0.95,
            beta: 0.9,
        }
    }
}

/// The EDDM detector.
#[derive(Debug, Clone, PartialEq)]
pub struct Eddm {
    config: EddmConfig,
    error_distances: RunningVariance,
    n: u64,
    last_error: u64,
    n_errors: u64,
    p2s_max: f64,
    drift: bool,
    warning: bool,
}

impl Eddm {
    /// Builds a detector; like river, rejects `alpha < beta`.
    pub fn new(config: EddmConfig) -> Result<Self, InvalidConfig> {
        if !(config.alpha.is_finite() && config.beta.is_finite()) {
            return Err(InvalidConfig::new("alpha", "alpha and beta must be finite"));
        }
        if config.alpha < config.beta {
            return Err(InvalidConfig::new(
                "alpha",
                "must be greater or equal to beta",
            ));
        }
        let mut detector = Self {
            config,
            error_distances: RunningVariance::default(),
            n: 0,
            last_error: 0,
            n_errors: 0,
            p2s_max: -1.0,
            drift: false,
            warning: false,
        };
        detector.reset();
        Ok(detector)
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &EddmConfig {
        &self.config
    }

    /// Forgets everything, as river does on the update after a detection.
    pub fn reset(&mut self) {
        self.error_distances = RunningVariance::default();
        self.n = 0;
        self.last_error = 0;
        self.n_errors = 0;
        self.p2s_max = -1.0;
        self.drift = false;
        self.warning = false;
    }
}

impl Default for Eddm {
    fn default() -> Self {
        Self::new(EddmConfig::default()).expect("river's defaults are valid")
    }
}

impl DriftDetector for Eddm {
    fn update(&mut self, x: f64) {
        if self.drift {
            self.reset();
        }
        self.n += 1;
        if x != 1.0 {
            return;
        }
        self.n_errors += 1;
        self.error_distances
            .update((self.n - self.last_error) as f64);
        let warm_start = u64::from(self.config.warm_start);
        if self.n > warm_start {
            let mean_distance = self.error_distances.mean.mean;
            // river takes `var ** 0.5`; `powf` goes through the same libm `pow`.
            let std_distance = self.error_distances.sample_variance().powf(0.5);
            let p2s = mean_distance + 2.0 * std_distance;
            if p2s > self.p2s_max {
                self.p2s_max = p2s;
            } else if self.n_errors > warm_start {
                let level = p2s / self.p2s_max;
                if level < self.config.beta {
                    self.drift = true;
                } else {
                    self.warning = level < self.config.alpha;
                }
            }
        }
        self.last_error = self.n;
    }

    fn drift_detected(&self) -> bool {
        self.drift
    }

    fn warning_detected(&self) -> bool {
        self.warning
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_alpha_below_beta() {
        let config = EddmConfig {
            alpha: 0.8,
            beta: 0.9,
            ..EddmConfig::default()
        };
        assert!(Eddm::new(config).is_err());
    }

    #[test]
    fn denser_errors_are_detected_soon_after_the_change() {
        // Errors at rate 0.05, then 0.6: the gaps between errors collapse after position 1500.
        let mut rng = super::super::Mt19937::from_seed(3);
        let stream: Vec<f64> = (0..2000)
            .map(|i| {
                let rate = if i < 1500 { 0.05 } else { 0.6 };
                f64::from(u8::from(f64::from(rng.next_u32()) / 4_294_967_296.0 < rate))
            })
            .collect();
        let (drifts, _) = super::super::detect_all(&mut Eddm::default(), &stream);
        assert!(drifts.iter().any(|&d| (1500..1700).contains(&d)));
    }
}
