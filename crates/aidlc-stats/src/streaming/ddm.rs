//! DDM, the drift detection method of Gama et al. (2004), as implemented in river 0.26
//! (`drift.binary.DDM`).
//!
//! The input is a stream of 0/1 outcomes (1 = error). With `p` the running error rate and
//! `s = sqrt(p(1-p)/n)`, the detector remembers the `(p, s)` pair with the smallest `p + s` seen
//! after the warm start and signals a warning when `p + s` exceeds `p_min + w·s_min` and drift
//! when it exceeds `p_min + d·s_min`. It therefore only reacts to increases of the error rate.

use super::{DriftDetector, InvalidConfig, RunningMean};
use serde::{Deserialize, Serialize};

/// DDM parameters; `Default` is river's `drift.binary.DDM()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DdmConfig {
    /// Number of outcomes to see before any warning or drift can be signalled.
    pub warm_start: u32,
    /// Multiple of `s_min` above `p_min` that opens the warning zone.
    pub warning_threshold: f64,
    /// Multiple of `s_min` above `p_min` that signals drift.
    pub drift_threshold: f64,
}

impl Default for DdmConfig {
    fn default() -> Self {
        Self {
            warm_start: 30,
            warning_threshold: 2.0,
            drift_threshold: 3.0,
        }
    }
}

/// The DDM detector.
#[derive(Debug, Clone, PartialEq)]
pub struct Ddm {
    config: DdmConfig,
    error_rate: RunningMean,
    p_min: f64,
    s_min: f64,
    ps_min: f64,
    drift: bool,
    warning: bool,
}

impl Ddm {
    /// Builds a detector; the thresholds must be finite.
    pub fn new(config: DdmConfig) -> Result<Self, InvalidConfig> {
        for (name, value) in [
            ("warning_threshold", config.warning_threshold),
            ("drift_threshold", config.drift_threshold),
        ] {
            if !value.is_finite() {
                return Err(InvalidConfig::new(name, format!("{value} is not finite")));
            }
        }
        let mut detector = Self {
            config,
            error_rate: RunningMean::default(),
            p_min: f64::INFINITY,
            s_min: f64::INFINITY,
            ps_min: f64::INFINITY,
            drift: false,
            warning: false,
        };
        detector.reset();
        Ok(detector)
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &DdmConfig {
        &self.config
    }

    /// Forgets everything, as river does on the update after a detection.
    pub fn reset(&mut self) {
        self.error_rate = RunningMean::default();
        self.p_min = f64::INFINITY;
        self.s_min = f64::INFINITY;
        self.ps_min = f64::INFINITY;
        self.drift = false;
        self.warning = false;
    }
}

impl Default for Ddm {
    fn default() -> Self {
        Self::new(DdmConfig::default()).expect("river's defaults are valid")
    }
}

impl DriftDetector for Ddm {
    fn update(&mut self, x: f64) {
        if self.drift {
            self.reset();
        }
        self.error_rate.update(x);
        let p = self.error_rate.mean;
        let n = self.error_rate.n;
        let s = (p * (1.0 - p) / n).sqrt();
        if n > f64::from(self.config.warm_start) {
            // A tie with the best pair so far also moves the minimum, as in river.
            if p + s <= self.ps_min {
                self.p_min = p;
                self.s_min = s;
                self.ps_min = p + s;
            }
            self.warning = p + s > self.p_min + self.config.warning_threshold * self.s_min;
            if p + s > self.p_min + self.config.drift_threshold * self.s_min {
                self.drift = true;
                self.warning = false;
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
    fn silent_during_warm_start() {
        let mut ddm = Ddm::default();
        for i in 0..30 {
            ddm.update(if i % 2 == 0 { 1.0 } else { 0.0 });
            assert!(!ddm.drift_detected() && !ddm.warning_detected());
        }
    }

    #[test]
    fn error_increase_is_detected() {
        let stream: Vec<f64> = (0..2000)
            .map(|i| {
                if i < 1000 {
                    f64::from(u8::from(i % 10 == 0))
                } else {
                    1.0
                }
            })
            .collect();
        let (drifts, _) = super::super::detect_all(&mut Ddm::default(), &stream);
        assert!(drifts.first().is_some_and(|&d| d >= 1000));
    }
}
