//! KSWIN, Kolmogorov-Smirnov windowing (Raab et al. 2020), as implemented in river 0.26.
//!
//! A sliding window of `window_size` values is kept. Once it is full, every update draws
//! `stat_size` distinct positions among the oldest `window_size - stat_size` values with
//! CPython's `random.Random(seed).sample`, and compares those values with the newest `stat_size`
//! values by a two-sample Kolmogorov-Smirnov test (scipy's `auto` method). Drift is signalled
//! when the p-value is at most `alpha` and, as hard-coded in river, the statistic exceeds 0.1.
//! On the update after a drift the window is emptied and the generator re-seeded.

use super::{DriftDetector, InvalidConfig, Mt19937};
use crate::ks::{self, Alternative, KsMethod};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// river requires the KS statistic to exceed this value, on top of the p-value test, before it
/// reports drift; it keeps tiny distribution differences on large windows from firing.
const MIN_STATISTIC: f64 = 0.1;

/// KSWIN parameters; `Default` is river's `drift.KSWIN()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct KswinConfig {
    /// Significance level of the KS test.
    pub alpha: f64,
    /// Length of the sliding window.
    pub window_size: usize,
    /// Number of newest values tested, and of older values sampled for the comparison.
    pub stat_size: usize,
    /// Seed of the sampling generator. river draws an unpredictable seed from the operating
    /// system for `None`; this crate has no entropy source, so `None` behaves like seed 0.
    pub seed: Option<u64>,
    /// Values that pre-fill the window at construction (only the last `window_size` are kept);
    /// a reset does not restore them.
    pub window: Option<Vec<f64>>,
}

impl Default for KswinConfig {
    fn default() -> Self {
        Self {
            alpha: 0.005,
            window_size: 100,
            stat_size: 30,
            seed: None,
            window: None,
        }
    }
}

/// The outcome of the KS test run by the last update.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KswinTest {
    /// Window positions (0 = oldest) of the sampled reference values, in draw order.
    pub sample_indices: Vec<usize>,
    /// KS statistic of the sampled values against the newest `stat_size` values (NaN when the
    /// test could not be computed, e.g. for NaN input).
    pub statistic: f64,
    /// The test's p-value (NaN when the test could not be computed).
    pub pvalue: f64,
}

/// The KSWIN detector.
#[derive(Debug, Clone, PartialEq)]
pub struct Kswin {
    config: KswinConfig,
    window: VecDeque<f64>,
    rng: Mt19937,
    last_test: Option<KswinTest>,
    drift: bool,
    /// Scratch buffers reused by every test so the hot path does not allocate samples.
    sampled: Vec<f64>,
    recent: Vec<f64>,
}

impl Kswin {
    /// Builds a detector, rejecting the parameter combinations river rejects (and a zero
    /// `stat_size`, for which no test exists).
    pub fn new(config: KswinConfig) -> Result<Self, InvalidConfig> {
        if !(0.0..=1.0).contains(&config.alpha) {
            return Err(InvalidConfig::new(
                "alpha",
                format!("{} is not in [0, 1]", config.alpha),
            ));
        }
        if config.stat_size == 0 {
            return Err(InvalidConfig::new("stat_size", "must be at least 1"));
        }
        if config.window_size <= config.stat_size {
            return Err(InvalidConfig::new(
                "stat_size",
                "must be smaller than window_size",
            ));
        }
        let seed = config.seed.unwrap_or(0);
        let mut detector = Self {
            window: VecDeque::with_capacity(config.window_size),
            rng: Mt19937::from_seed(seed),
            last_test: None,
            drift: false,
            sampled: Vec::with_capacity(config.stat_size),
            recent: Vec::with_capacity(config.stat_size),
            config,
        };
        if let Some(initial) = &detector.config.window {
            let skip = initial.len().saturating_sub(detector.config.window_size);
            detector.window.extend(&initial[skip..]);
        }
        Ok(detector)
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &KswinConfig {
        &self.config
    }

    /// Empties the window and re-seeds the generator, as river does after a detection.
    pub fn reset(&mut self) {
        self.window.clear();
        self.rng = Mt19937::from_seed(self.config.seed.unwrap_or(0));
        self.last_test = None;
        self.drift = false;
    }

    /// The KS test performed by the last update, or `None` if it did not test (window not yet
    /// full).
    pub fn last_test(&self) -> Option<&KswinTest> {
        self.last_test.as_ref()
    }

    /// The current window, oldest value first.
    pub fn window(&self) -> impl ExactSizeIterator<Item = f64> + '_ {
        self.window.iter().copied()
    }

    fn run_test(&mut self) {
        let window_size = self.config.window_size;
        let stat_size = self.config.stat_size;
        let reference_span = window_size - stat_size;
        // The sizes were validated at construction, so the sample request is always feasible.
        let sample_indices = self
            .rng
            .sample(reference_span, stat_size)
            .unwrap_or_default();
        self.sampled.clear();
        self.sampled
            .extend(sample_indices.iter().map(|&position| self.window[position]));
        self.recent.clear();
        self.recent
            .extend(self.window.range(reference_span..window_size).copied());

        // The KS statistic does not depend on sample order, so the scratch buffers are sorted
        // in place and handed to the sorted entry point, which avoids copying them again.
        self.sampled.sort_unstable_by(f64::total_cmp);
        self.recent.sort_unstable_by(f64::total_cmp);
        let (statistic, pvalue) = match ks::ks_2samp_sorted(
            &self.sampled,
            &self.recent,
            Alternative::TwoSided,
            KsMethod::Auto,
        ) {
            Ok(result) => (result.statistic, result.pvalue),
            Err(_) => (f64::NAN, f64::NAN),
        };
        // NaN compares false, so an uncomputable test never signals drift (as with scipy's NaN).
        self.drift = pvalue <= self.config.alpha && statistic > MIN_STATISTIC;
        if self.drift {
            // river keeps only the newest values after a drift; the next update resets anyway.
            self.window.drain(..reference_span);
        }
        self.last_test = Some(KswinTest {
            sample_indices,
            statistic,
            pvalue,
        });
    }
}

impl Default for Kswin {
    fn default() -> Self {
        Self::new(KswinConfig::default()).expect("river's defaults are valid")
    }
}

impl DriftDetector for Kswin {
    fn update(&mut self, x: f64) {
        if self.drift {
            self.reset();
        }
        if self.window.len() == self.config.window_size {
            self.window.pop_front();
        }
        self.window.push_back(x);
        if self.window.len() >= self.config.window_size {
            self.run_test();
        } else {
            self.drift = false;
            self.last_test = None;
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
    fn rejects_stat_size_not_below_window_size() {
        let config = KswinConfig {
            window_size: 30,
            stat_size: 30,
            ..KswinConfig::default()
        };
        assert!(Kswin::new(config).is_err());
    }

    #[test]
    fn no_test_before_window_is_full() {
        let mut kswin = Kswin::new(KswinConfig {
            seed: Some(1),
            ..KswinConfig::default()
        })
        .expect("valid config");
        for i in 0..99 {
            kswin.update(f64::from(i));
            assert!(kswin.last_test().is_none());
        }
        kswin.update(0.0);
        let test = kswin.last_test().expect("window is full");
        assert_eq!(test.sample_indices.len(), 30);
        assert!(test.sample_indices.iter().all(|&p| p < 70));
    }

    #[test]
    fn level_shift_is_detected_and_window_restarts() {
        let stream: Vec<f64> = (0..600)
            .map(|i| f64::from((i * 37) % 101) / 101.0 + if i < 300 { 0.0 } else { 5.0 })
            .collect();
        let mut kswin = Kswin::new(KswinConfig {
            seed: Some(42),
            ..KswinConfig::default()
        })
        .expect("valid config");
        let (drifts, _) = super::super::detect_all(&mut kswin, &stream);
        let first = *drifts.first().expect("shift must be detected");
        assert!((300..400).contains(&first));
    }

    #[test]
    fn initial_window_keeps_the_newest_values() {
        let kswin = Kswin::new(KswinConfig {
            window_size: 4,
            stat_size: 2,
            window: Some(vec![1.0, 2.0, 3.0, 4.0, 5.0]),
            ..KswinConfig::default()
        })
        .expect("valid config");
        assert_eq!(kswin.window().collect::<Vec<_>>(), vec![2.0, 3.0, 4.0, 5.0]);
    }
}
