//! ADWIN (adaptive windowing, Bifet & Gavaldà 2007) as implemented in river 0.26.
//!
//! The window is kept as an exponential histogram: row `r` holds up to `max_buckets` summaries
//! of `2^r` consecutive values each (its total and its sum of squared deviations). Every `clock`
//! updates, once the window is longer than `grace_period`, every boundary between summaries is
//! tried as a cut point from the oldest end; when the two sub-window means differ by more than
//! the Hoeffding-style bound the oldest summary is dropped and the scan restarts.
//!
//! Floating-point operations are performed in river's order so that cut decisions, and with
//! them the detection indices and the final window, agree with river.

use super::{DriftDetector, InvalidConfig, check_open_unit};
use serde::{Deserialize, Serialize};

/// ADWIN parameters; `Default` is river's `drift.ADWIN()`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AdwinConfig {
    /// Confidence value of the cut test.
    pub delta: f64,
    /// Cut points are only checked on every `clock`-th update.
    pub clock: u32,
    /// Summaries kept per histogram row before the two oldest are merged.
    pub max_buckets: usize,
    /// Both sub-windows must hold at least this many values for a cut.
    pub min_window_length: u32,
    /// No cut is checked while the window holds this many values or fewer.
    pub grace_period: u32,
}

impl Default for AdwinConfig {
    fn default() -> Self {
        Self {
            delta: 0.002,
            clock: 32,
            max_buckets: 5,
            min_window_length: 5,
            grace_period: 10,
        }
    }
}

/// One row of the exponential histogram; index 0 is the oldest summary of the row.
#[derive(Debug, Clone, PartialEq)]
struct HistogramRow {
    totals: Vec<f64>,
    variances: Vec<f64>,
}

impl HistogramRow {
    fn with_capacity(capacity: usize) -> Self {
        Self {
            totals: Vec::with_capacity(capacity),
            variances: Vec::with_capacity(capacity),
        }
    }

    fn len(&self) -> usize {
        self.totals.len()
    }

    fn push(&mut self, total: f64, variance: f64) {
        self.totals.push(total);
        self.variances.push(variance);
    }

    fn drop_oldest(&mut self, count: usize) {
        self.totals.drain(..count);
        self.variances.drain(..count);
    }
}

/// The ADWIN detector.
#[derive(Debug, Clone, PartialEq)]
pub struct Adwin {
    config: AdwinConfig,
    /// `rows[r]` summarises blocks of `2^r` values; higher rows are older.
    rows: Vec<HistogramRow>,
    total: f64,
    variance: f64,
    width: f64,
    tick: u64,
    drift: bool,
}

impl Adwin {
    /// Builds a detector, rejecting parameters for which the test is undefined.
    pub fn new(config: AdwinConfig) -> Result<Self, InvalidConfig> {
        check_open_unit("delta", config.delta)?;
        if config.clock == 0 {
            return Err(InvalidConfig::new("clock", "must be at least 1"));
        }
        if config.max_buckets == 0 {
            return Err(InvalidConfig::new("max_buckets", "must be at least 1"));
        }
        let mut detector = Self {
            config,
            rows: Vec::new(),
            total: 0.0,
            variance: 0.0,
            width: 0.0,
            tick: 0,
            drift: false,
        };
        detector.reset();
        Ok(detector)
    }

    /// The configuration the detector was built with.
    pub fn config(&self) -> &AdwinConfig {
        &self.config
    }

    /// Forgets the whole window, as river does on the update after a detection.
    pub fn reset(&mut self) {
        self.rows = vec![HistogramRow::with_capacity(self.config.max_buckets + 1)];
        self.total = 0.0;
        self.variance = 0.0;
        self.width = 0.0;
        self.tick = 0;
        self.drift = false;
    }

    /// Number of values in the current window.
    pub fn width(&self) -> usize {
        self.width as usize
    }

    /// Sum of the values in the window.
    pub fn total(&self) -> f64 {
        self.total
    }

    /// Sum of squared deviations from the window mean (not divided by the width).
    pub fn variance(&self) -> f64 {
        self.variance
    }

    /// Mean of the window (0 for an empty window).
    pub fn estimation(&self) -> f64 {
        if self.width == 0.0 {
            0.0
        } else {
            self.total / self.width
        }
    }

    fn insert(&mut self, value: f64) {
        self.rows[0].push(value, 0.0);
        self.width += 1.0;
        if self.width > 1.0 {
            let deviation = value - self.total / (self.width - 1.0);
            self.variance += (self.width - 1.0) * deviation * deviation / self.width;
        }
        self.total += value;
        self.merge_full_rows();
    }

    /// Merges the two oldest summaries of every row that overflowed, cascading upwards.
    fn merge_full_rows(&mut self) {
        let overflow = self.config.max_buckets + 1;
        let mut row = 0;
        while self.rows[row].len() == overflow {
            let block = (row as f64).exp2();
            let (first, second) = (self.rows[row].totals[0], self.rows[row].totals[1]);
            let mean_gap = first / block - second / block;
            let merged_variance = self.rows[row].variances[0]
                + self.rows[row].variances[1]
                + block * 0.5 * mean_gap * mean_gap;
            if row + 1 == self.rows.len() {
                self.rows.push(HistogramRow::with_capacity(overflow));
            }
            self.rows[row + 1].push(first + second, merged_variance);
            self.rows[row].drop_oldest(2);
            row += 1;
        }
    }

    /// Drops the oldest summary of the window and updates the window statistics.
    fn drop_oldest_block(&mut self) {
        let last = self.rows.len() - 1;
        let block = (last as f64).exp2();
        let block_total = self.rows[last].totals[0];
        let block_variance = self.rows[last].variances[0];
        let block_mean = block_total / block;
        self.width -= block;
        self.total -= block_total;
        let rest_mean = self.total / self.width;
        let gap = block_mean - rest_mean;
        self.variance -= block_variance + block * self.width * gap * gap / (block + self.width);
        self.rows[last].drop_oldest(1);
        if self.rows[last].len() == 0 {
            self.rows.pop();
        }
    }

    /// Whether a mean gap between an older part of `n_old` values and a newer part of `n_new`
    /// values exceeds the cut bound for the current window.
    fn cut_exceeds_bound(&self, n_old: f64, n_new: f64, mean_gap: f64) -> bool {
        let min_length = f64::from(self.config.min_window_length);
        let delta_prime = (2.0 * self.width.ln() / self.config.delta).ln();
        let harmonic = 1.0 / (n_old - min_length + 1.0) + 1.0 / (n_new - min_length + 1.0);
        let epsilon = (2.0 * harmonic * (self.variance / self.width) * delta_prime).sqrt()
            + 2.0 / 3.0 * delta_prime * harmonic;
        mean_gap.abs() > epsilon
    }

    /// Scans the cut points from the oldest summary; returns true when some cut fired. After a
    /// cut the oldest summary is dropped and the scan restarts on the shorter window.
    fn scan_for_change(&mut self) -> bool {
        let min_length = f64::from(self.config.min_window_length);
        let mut changed = false;
        let mut rescan = true;
        while rescan {
            rescan = false;
            let mut n_old = 0.0;
            let mut n_new = self.width;
            let mut sum_old = 0.0;
            let mut sum_new = self.total;
            'rows: for row in (0..self.rows.len()).rev() {
                let block = (row as f64).exp2();
                let entries = self.rows[row].len();
                for entry in 0..entries {
                    let block_total = self.rows[row].totals[entry];
                    n_old += block;
                    n_new -= block;
                    sum_old += block_total;
                    sum_new -= block_total;
                    // The newest summary cannot be a cut point: the newer part would be empty.
                    if row == 0 && entry + 1 == entries {
                        break 'rows;
                    }
                    let mean_gap = sum_old / n_old - sum_new / n_new;
                    if n_new >= min_length
                        && n_old >= min_length
                        && self.cut_exceeds_bound(n_old, n_new, mean_gap)
                    {
                        rescan = true;
                        changed = true;
                        if self.width > 0.0 {
                            self.drop_oldest_block();
                            break 'rows;
                        }
                    }
                }
            }
        }
        changed
    }
}

impl Default for Adwin {
    fn default() -> Self {
        Self::new(AdwinConfig::default()).expect("river's defaults are valid")
    }
}

impl DriftDetector for Adwin {
    fn update(&mut self, x: f64) {
        if self.drift {
            self.reset();
        }
        self.insert(x);
        self.tick += 1;
        let on_clock = self.tick.is_multiple_of(u64::from(self.config.clock));
        self.drift =
            on_clock && self.width > f64::from(self.config.grace_period) && self.scan_for_change();
    }

    fn drift_detected(&self) -> bool {
        self.drift
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_statistics_of_short_stream() {
        let mut adwin = Adwin::default();
        for v in [1.0, 2.0, 3.0, 4.0, 5.0] {
            adwin.update(v);
        }
        assert_eq!(adwin.width(), 5);
        assert_eq!(adwin.total(), 15.0);
        assert!((adwin.variance() - 10.0).abs() < 1e-12);
        assert_eq!(adwin.estimation(), 3.0);
    }

    #[test]
    fn constant_stream_never_drifts_and_keeps_everything() {
        let mut adwin = Adwin::default();
        for _ in 0..3000 {
            adwin.update(1.0);
            assert!(!adwin.drift_detected());
        }
        assert_eq!(adwin.width(), 3000);
    }

    #[test]
    fn large_shift_is_detected_and_window_shrinks() {
        let mut adwin = Adwin::default();
        let stream: Vec<f64> = (0..1000)
            .map(|i| if i < 500 { 0.0 } else { 10.0 })
            .collect();
        let (drifts, _) = super::super::detect_all(&mut adwin, &stream);
        assert!(!drifts.is_empty());
        assert!(drifts[0] >= 500);
    }

    #[test]
    fn rejects_zero_clock() {
        let config = AdwinConfig {
            clock: 0,
            ..AdwinConfig::default()
        };
        assert!(Adwin::new(config).is_err());
    }
}
