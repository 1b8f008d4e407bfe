//! HDDM_A, the Hoeffding drift detection method with the A-test (Frías-Blanco et al. 2015), as
//! implemented in river 0.26 (`drift.binary.HDDMA`).
//!
//! The global mean of the stream is compared with the mean up to the best earlier cut point:
//! the cut for increases is moved whenever the global mean plus its Hoeffding bound is at or
//! below the cut's mean plus its bound (symmetrically for decreases). A significant increase at
//! `drift_confidence` signals drift, at `warning_confidence` a warning; decreases are only
//! tested with `two_sided_test`. As in river, the bound that moves the cut points always uses
//! `drift_confidence`.

use super::{DriftDetector, InvalidConfig, RunningMean, check_open_unit};
use serde::{Deserialize, Serialize};

/// HDDM_A parameters; `Default` is river's `drift.binary.HDDMA()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HddmAConfig {
    /// Confidence level of the drift test.
    pub drift_confidence: f64,
    /// Confidence level of the warning test.
    pub warning_confidence: f64,
    /// Also test for decreases of the mean.
    pub two_sided_test: bool,
}

impl Default for HddmAConfig {
    fn default() -> Self {
        Self {
            drift_confidence: 0.001,
            warning_confidence: 0.005,
            two_sided_test: false,
        }
    }
}

/// The HDDM_A detector.
#[derive(Debug, Clone, PartialEq)]
pub struct HddmA {
    config: HddmAConfig,
    /// Mean of the whole stream since the last reset.
    global: RunningMean,
    /// Mean up to the cut point used to detect increases.
    increase_cut: RunningMean,
    /// Mean up to the cut point used to detect decreases.
    decrease_cut: RunningMean,
    drift: bool,
    warning: bool,
}

impl HddmA {
    /// Builds a detector; both confidences must lie in (0, 1).
    pub fn new(config: HddmAConfig) -> Result<Self, InvalidConfig> {
        check_open_unit("drift_confidence", config.drift_confidence)?;
        check_open_unit("warning_confidence", config.warning_confidence)?;
        Ok(Self {
            config,
            global: RunningMean::default(),
            increase_cut: RunningMean::default(),
            decrease_cut: RunningMean::default(),
            drift: false,
            warning: false,
        })
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &HddmAConfig {
        &self.config
    }

    /// Forgets everything, as river does on the update after a detection.
    pub fn reset(&mut self) {
        self.global = RunningMean::default();
        self.increase_cut = RunningMean::default();
        self.decrease_cut = RunningMean::default();
        self.drift = false;
        self.warning = false;
    }

    fn hoeffding_bound(&self, n: f64) -> f64 {
        (1.0 / (2.0 * n) * (1.0 / self.config.drift_confidence).ln()).sqrt()
    }

    /// The bound on the difference between the global mean and a cut's mean.
    fn cut_bound(&self, cut: &RunningMean, confidence: f64) -> f64 {
        let m = (self.global.n - cut.n) / cut.n * (1.0 / self.global.n);
        (m / 2.0 * (2.0 / confidence).ln()).sqrt()
    }

    fn mean_increased(&self, confidence: f64) -> bool {
        if self.increase_cut.n == self.global.n {
            return false;
        }
        self.global.mean - self.increase_cut.mean >= self.cut_bound(&self.increase_cut, confidence)
    }

    fn mean_decreased(&self, confidence: f64) -> bool {
        if self.decrease_cut.n == self.global.n {
            return false;
        }
        self.decrease_cut.mean - self.global.mean >= self.cut_bound(&self.decrease_cut, confidence)
    }
}

impl Default for HddmA {
    fn default() -> Self {
        Self::new(HddmAConfig::default()).expect("river's defaults are valid")
    }
}

impl DriftDetector for HddmA {
    fn update(&mut self, x: f64) {
        if self.drift {
            self.reset();
        }
        self.global.update(x);
        if self.increase_cut.n == 0.0 {
            self.increase_cut = self.global;
        }
        if self.decrease_cut.n == 0.0 {
            self.decrease_cut = self.global;
        }

        let global_bound = self.hoeffding_bound(self.global.n);
        let cut_bound = self.hoeffding_bound(self.increase_cut.n);
        if self.increase_cut.mean + cut_bound >= self.global.mean + global_bound {
            self.increase_cut = self.global;
        }
        let cut_bound = self.hoeffding_bound(self.decrease_cut.n);
        if self.decrease_cut.mean - cut_bound <= self.global.mean - global_bound {
            self.decrease_cut = self.global;
        }

        if self.mean_increased(self.config.drift_confidence) {
            self.drift = true;
            self.warning = false;
        } else {
            self.drift = false;
            self.warning = self.mean_increased(self.config.warning_confidence);
        }

        if self.config.two_sided_test {
            if self.mean_decreased(self.config.drift_confidence) {
                self.drift = true;
            } else if self.mean_decreased(self.config.warning_confidence) {
                self.warning = true;
            }
        }
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

    fn shifted(before: u32, after: u32) -> Vec<f64> {
        (0..2000)
            .map(|i| {
                let period = if i < 1000 { before } else { after };
                f64::from(u8::from(i % period == 0))
            })
            .collect()
    }

    #[test]
    fn one_sided_ignores_decrease_two_sided_sees_it() {
        let stream = shifted(2, 10);
        let (drifts, _) = super::super::detect_all(&mut HddmA::default(), &stream);
        assert!(drifts.is_empty());
        let mut two_sided = HddmA::new(HddmAConfig {
            two_sided_test: true,
            ..HddmAConfig::default()
        })
        .expect("valid config");
        let (drifts, _) = super::super::detect_all(&mut two_sided, &stream);
        assert!(drifts.first().is_some_and(|&d| d >= 1000));
    }

    #[test]
    fn rejects_confidence_outside_unit_interval() {
        let config = HddmAConfig {
            drift_confidence: 0.0,
            ..HddmAConfig::default()
        };
        assert!(HddmA::new(config).is_err());
    }
}
