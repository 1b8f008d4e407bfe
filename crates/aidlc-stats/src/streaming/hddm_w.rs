//! HDDM_W, the Hoeffding drift detection method with the W-test (Frías-Blanco et al. 2015), as
//! implemented in river 0.26 (`drift.binary.HDDMW`).
//!
//! Exponentially weighted means replace the plain means of HDDM_A. Each weighted sample keeps
//! its "independent bound condition" `ibc = λ² + (1-λ)²·ibc`, and McDiarmid's inequality gives
//! the bound `sqrt(ibc·ln(1/confidence)/2)`. The stream's weighted statistics are copied into a
//! cut sample whenever they reach a new best cut point, after which a second sample collects
//! the values that follow; drift (or a warning) is signalled when the second sample's weighted
//! mean exceeds the cut's by more than the combined bound. Decreases are only tested with
//! `two_sided_test`.

use super::{DriftDetector, InvalidConfig, check_open_unit};
use serde::{Deserialize, Serialize};

/// HDDM_W parameters; `Default` is river's `drift.binary.HDDMW()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct HddmWConfig {
    /// Confidence level of the drift test.
    pub drift_confidence: f64,
    /// Confidence level of the warning test.
    pub warning_confidence: f64,
    /// Weight of the newest value in the exponentially weighted means.
    pub lambda_val: f64,
    /// Also test for decreases of the mean.
    pub two_sided_test: bool,
}

impl Default for HddmWConfig {
    fn default() -> Self {
        Self {
            drift_confidence: 0.001,
            warning_confidence: 0.005,
            lambda_val: 0.05,
            two_sided_test: false,
        }
    }
}

/// Exponentially weighted statistics of part of the stream.
#[derive(Debug, Clone, Copy, PartialEq)]
struct WeightedSample {
    ewma: f64,
    initialised: bool,
    ibc: f64,
}

impl WeightedSample {
    const EMPTY: Self = Self {
        ewma: 0.0,
        initialised: false,
        ibc: 1.0,
    };

    /// The first value becomes the mean; later values are blended in with weight `lambda`.
    fn update(&mut self, x: f64, lambda: f64) {
        if self.initialised {
            self.ewma = lambda * x + (1.0 - lambda) * self.ewma;
        } else {
            self.ewma = x;
            self.initialised = true;
        }
        let complement = 1.0 - lambda;
        self.ibc = lambda * lambda + complement * complement * self.ibc;
    }
}

/// The HDDM_W detector.
#[derive(Debug, Clone, PartialEq)]
pub struct HddmW {
    config: HddmWConfig,
    total: WeightedSample,
    increase_cut: WeightedSample,
    increase_after: WeightedSample,
    decrease_cut: WeightedSample,
    decrease_after: WeightedSample,
    increase_cutpoint: f64,
    decrease_cutpoint: f64,
    drift: bool,
    warning: bool,
}

impl HddmW {
    /// Builds a detector; the confidences must lie in (0, 1) and `lambda_val` in [0, 1].
    pub fn new(config: HddmWConfig) -> Result<Self, InvalidConfig> {
        check_open_unit("drift_confidence", config.drift_confidence)?;
        check_open_unit("warning_confidence", config.warning_confidence)?;
        if !(0.0..=1.0).contains(&config.lambda_val) {
            return Err(InvalidConfig::new(
                "lambda_val",
                format!("{} is not in [0, 1]", config.lambda_val),
            ));
        }
        let mut detector = Self {
            config,
            total: WeightedSample::EMPTY,
            increase_cut: WeightedSample::EMPTY,
            increase_after: WeightedSample::EMPTY,
            decrease_cut: WeightedSample::EMPTY,
            decrease_after: WeightedSample::EMPTY,
            increase_cutpoint: f64::INFINITY,
            decrease_cutpoint: f64::NEG_INFINITY,
            drift: false,
            warning: false,
        };
        detector.reset();
        Ok(detector)
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &HddmWConfig {
        &self.config
    }

    /// Forgets everything, as river does on the update after a detection.
    pub fn reset(&mut self) {
        self.total = WeightedSample::EMPTY;
        self.increase_cut = WeightedSample::EMPTY;
        self.increase_after = WeightedSample::EMPTY;
        self.decrease_cut = WeightedSample::EMPTY;
        self.decrease_after = WeightedSample::EMPTY;
        self.increase_cutpoint = f64::INFINITY;
        self.decrease_cutpoint = f64::NEG_INFINITY;
        self.drift = false;
        self.warning = false;
    }

    fn mcdiarmid_bound(ibc: f64, confidence: f64) -> f64 {
        (ibc * (1.0 / confidence).ln() / 2.0).sqrt()
    }

    /// Whether `later`'s weighted mean exceeds `earlier`'s by more than the combined bound.
    fn exceeds(earlier: &WeightedSample, later: &WeightedSample, confidence: f64) -> bool {
        if !(earlier.initialised && later.initialised) {
            return false;
        }
        let bound = Self::mcdiarmid_bound(earlier.ibc + later.ibc, confidence);
        later.ewma - earlier.ewma > bound
    }

    fn update_increase_samples(&mut self, x: f64) {
        let bound = Self::mcdiarmid_bound(self.total.ibc, self.config.drift_confidence);
        if self.total.ewma + bound < self.increase_cutpoint {
            self.increase_cutpoint = self.total.ewma + bound;
            self.increase_cut = self.total;
            self.increase_after = WeightedSample::EMPTY;
        } else {
            self.increase_after.update(x, self.config.lambda_val);
        }
    }

    fn update_decrease_samples(&mut self, x: f64) {
        let bound = Self::mcdiarmid_bound(self.total.ibc, self.config.drift_confidence);
        if self.total.ewma - bound > self.decrease_cutpoint {
            self.decrease_cutpoint = self.total.ewma - bound;
            self.decrease_cut = self.total;
            self.decrease_after = WeightedSample::EMPTY;
        } else {
            self.decrease_after.update(x, self.config.lambda_val);
        }
    }
}

impl Default for HddmW {
    fn default() -> Self {
        Self::new(HddmWConfig::default()).expect("river's defaults are valid")
    }
}

impl DriftDetector for HddmW {
    fn update(&mut self, x: f64) {
        if self.drift {
            self.reset();
        }
        self.total.update(x, self.config.lambda_val);

        self.update_increase_samples(x);
        let (drift_conf, warning_conf) =
            (self.config.drift_confidence, self.config.warning_confidence);
        if Self::exceeds(&self.increase_cut, &self.increase_after, drift_conf) {
            self.drift = true;
            self.warning = false;
        } else {
            self.drift = false;
            self.warning = Self::exceeds(&self.increase_cut, &self.increase_after, warning_conf);
        }

        // The decrease statistics are maintained even for one-sided tests, as river does.
        self.update_decrease_samples(x);
        if self.config.two_sided_test {
            if Self::exceeds(&self.decrease_after, &self.decrease_cut, drift_conf) {
                self.drift = true;
            } else if Self::exceeds(&self.decrease_after, &self.decrease_cut, warning_conf) {
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

    #[test]
    fn error_increase_is_detected() {
        let stream: Vec<f64> = (0..2000)
            .map(|i| {
                let period = if i < 1000 { 10 } else { 2 };
                f64::from(u8::from(i % period == 0))
            })
            .collect();
        let (drifts, _) = super::super::detect_all(&mut HddmW::default(), &stream);
        assert!(drifts.first().is_some_and(|&d| d >= 1000));
    }

    #[test]
    fn rejects_lambda_outside_unit_interval() {
        let config = HddmWConfig {
            lambda_val: 1.5,
            ..HddmWConfig::default()
        };
        assert!(HddmW::new(config).is_err());
    }
}
