//! The Page-Hinkley test for a change in the mean, as implemented in river 0.26.
//!
//! Two cumulative sums of deviations from the running mean (which already includes the current
//! value) are kept with a forgetting factor: one drifting down by `delta` per step to expose
//! increases, one drifting up to expose decreases. Drift is signalled once at least
//! `min_instances` values were seen and a sum has moved more than `threshold` away from its
//! running extreme. river starts the tracked minimum at +inf but the tracked maximum at -1
//! (not -inf); that quirk is reproduced because it changes when downward drifts fire.

use super::{DriftDetector, InvalidConfig, RunningMean};
use serde::{Deserialize, Serialize};

/// Which direction of change is tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum PageHinkleyMode {
    /// Only increases of the mean.
    Up,
    /// Only decreases of the mean.
    Down,
    /// Either direction.
    #[default]
    Both,
}

/// Page-Hinkley parameters; `Default` is river's `drift.PageHinkley()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PageHinkleyConfig {
    /// No drift is reported before this many values were seen.
    pub min_instances: u32,
    /// Magnitude of change tolerated per step.
    pub delta: f64,
    /// Detection threshold (lambda).
    pub threshold: f64,
    /// Forgetting factor applied to the cumulative sums.
    pub alpha: f64,
    /// Direction of change to detect.
    pub mode: PageHinkleyMode,
}

impl Default for PageHinkleyConfig {
    fn default() -> Self {
        Self {
            min_instances: 30,
            delta: 0.005,
            threshold: 50.0,
            alpha: 1.0 - 0.0001,
            mode: PageHinkleyMode::Both,
        }
    }
}

/// The Page-Hinkley detector.
#[derive(Debug, Clone, PartialEq)]
pub struct PageHinkley {
    config: PageHinkleyConfig,
    mean: RunningMean,
    sum_increase: f64,
    sum_decrease: f64,
    min_increase: f64,
    max_decrease: f64,
    drift: bool,
}

impl PageHinkley {
    /// Builds a detector; the numeric parameters must be finite.
    pub fn new(config: PageHinkleyConfig) -> Result<Self, InvalidConfig> {
        for (name, value) in [
            ("delta", config.delta),
            ("threshold", config.threshold),
            ("alpha", config.alpha),
        ] {
            if !value.is_finite() {
                return Err(InvalidConfig::new(name, format!("{value} is not finite")));
            }
        }
        let mut detector = Self {
            config,
            mean: RunningMean::default(),
            sum_increase: 0.0,
            sum_decrease: 0.0,
            min_increase: f64::INFINITY,
            max_decrease: -1.0,
            drift: false,
        };
        detector.reset();
        Ok(detector)
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &PageHinkleyConfig {
        &self.config
    }

    /// Forgets everything, as river does on the update after a detection.
    pub fn reset(&mut self) {
        self.mean = RunningMean::default();
        self.sum_increase = 0.0;
        self.sum_decrease = 0.0;
        self.min_increase = f64::INFINITY;
        // river initialises the running maximum to -1 rather than -inf.
        self.max_decrease = -1.0;
        self.drift = false;
    }
}

impl Default for PageHinkley {
    fn default() -> Self {
        Self::new(PageHinkleyConfig::default()).expect("river's defaults are valid")
    }
}

impl DriftDetector for PageHinkley {
    fn update(&mut self, x: f64) {
        if self.drift {
            self.reset();
        }
        self.mean.update(x);
        let deviation = x - self.mean.mean;
        let config = &self.config;
        self.sum_increase = config.alpha * self.sum_increase + deviation - config.delta;
        self.sum_decrease = config.alpha * self.sum_decrease + deviation + config.delta;
        if self.sum_increase < self.min_increase {
            self.min_increase = self.sum_increase;
        }
        if self.sum_decrease > self.max_decrease {
            self.max_decrease = self.sum_decrease;
        }
        if self.mean.n >= f64::from(config.min_instances) {
            let increase = self.sum_increase - self.min_increase > config.threshold;
            let decrease = self.max_decrease - self.sum_decrease > config.threshold;
            self.drift = match config.mode {
                PageHinkleyMode::Up => increase,
                PageHinkleyMode::Down => decrease,
                PageHinkleyMode::Both => increase || decrease,
            };
        }
    }

    fn drift_detected(&self) -> bool {
        self.drift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mode_deserialises_from_river_spelling() {
        let config: PageHinkleyConfig =
            serde_json::from_str(r#"{"mode": "down", "threshold": 10.0}"#).expect("valid json");
        assert_eq!(config.mode, PageHinkleyMode::Down);
        assert_eq!(config.min_instances, 30);
    }

    #[test]
    fn upward_shift_not_seen_in_down_mode() {
        let stream: Vec<f64> = (0..400).map(|i| if i < 200 { 0.0 } else { 3.0 }).collect();
        let mut up = PageHinkley::new(PageHinkleyConfig {
            mode: PageHinkleyMode::Up,
            ..PageHinkleyConfig::default()
        })
        .expect("valid config");
        let mut down = PageHinkley::new(PageHinkleyConfig {
            mode: PageHinkleyMode::Down,
            ..PageHinkleyConfig::default()
        })
        .expect("valid config");
        assert!(!super::super::detect_all(&mut up, &stream).0.is_empty());
        assert!(super::super::detect_all(&mut down, &stream).0.is_empty());
    }
}
