//! Jensen–Shannon distance and divergence, on weight vectors and on samples binned the way
//! NannyML and Evidently bin them.
//!
//! - On weights: both vectors are normalised to sum 1, m = (p + q)/2, divergence =
//!   (KL(p‖m) + KL(q‖m))/2 with 0·log 0 = 0 (scipy's `jensenshannon` squared), distance = its
//!   square root; any logarithm base (base 2 bounds the distance by 1).
//! - NannyML continuous: numpy Doane edges on the reference, current values outside the edges
//!   collected in one extra "leftover" bin (reference share 0), base 2. The reference side is
//!   fitted once (`JsDoaneReference`).
//! - Evidently: Sturges edges on reference ∪ current (one bin per distinct value when the
//!   reference has at most 20), no epsilon, natural log.
//! - Categorical: frequencies over the union of categories.

use crate::binning::{
    BinRule, EvidentlyBinning, EvidentlyBins, InputError, check_finite_sample, check_sorted_sample,
    evidently_bins_sorted, histogram_bin_edges, histogram_counts, histogram_counts_sorted,
    sorted_copy,
};

/// x·ln(x / y) with scipy's `rel_entr` conventions: 0 when x = 0, +∞ when y = 0 < x.
fn rel_entr(x: f64, y: f64) -> f64 {
    if x > 0.0 && y > 0.0 {
        x * (x / y).ln()
    } else if x == 0.0 && y >= 0.0 {
        0.0
    } else {
        f64::INFINITY
    }
}

/// Validates a weight vector pair and returns the two totals.
fn check_weights(p: &[f64], q: &[f64]) -> Result<(f64, f64), InputError> {
    if p.len() != q.len() {
        return Err(InputError::LengthMismatch {
            what: "p and q",
            left: p.len(),
            right: q.len(),
        });
    }
    if p.is_empty() {
        return Err(InputError::Empty { what: "p" });
    }
    if p.iter().chain(q).any(|w| !w.is_finite() || *w < 0.0) {
        return Err(InputError::Invalid {
            what: "weights must be finite and >= 0".into(),
        });
    }
    let (sum_p, sum_q): (f64, f64) = (p.iter().sum(), q.iter().sum());
    if !(sum_p > 0.0 && sum_q > 0.0) {
        return Err(InputError::Invalid {
            what: "weights must not sum to zero".into(),
        });
    }
    Ok((sum_p, sum_q))
}

/// Jensen–Shannon divergence of two non-negative weight vectors (normalised first), with the
/// logarithm in `base` (`None` = natural log). In base 2 it lies in [0, 1].
pub fn js_divergence(p: &[f64], q: &[f64], base: Option<f64>) -> Result<f64, InputError> {
    let (sum_p, sum_q) = check_weights(p, q)?;
    let mut left = 0.0;
    let mut right = 0.0;
    for (&pi, &qi) in p.iter().zip(q) {
        let pn = pi / sum_p;
        let qn = qi / sum_q;
        let m = (pn + qn) / 2.0;
        left += rel_entr(pn, m);
        right += rel_entr(qn, m);
    }
    let mut js = left + right;
    if let Some(base) = base {
        if !(base.is_finite() && base > 0.0 && base != 1.0) {
            return Err(InputError::Invalid {
                what: format!("logarithm base {base}"),
            });
        }
        js /= base.ln();
    }
    // Each KL term is non-negative in exact arithmetic; clamp last-bit negatives.
    Ok((js / 2.0).max(0.0))
}

/// Jensen–Shannon distance (square root of the divergence), scipy's `jensenshannon`.
pub fn js_distance(p: &[f64], q: &[f64], base: Option<f64>) -> Result<f64, InputError> {
    js_divergence(p, q, base).map(f64::sqrt)
}

/// A binned JS comparison: the bins used, both share vectors and the distance.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BinnedJs {
    /// Bin edges (NannyML: Doane on the reference; Evidently: Sturges on both), or empty when
    /// Evidently used one bin per distinct value (then `values` lists them).
    pub bin_edges: Vec<f64>,
    /// Distinct values used as bins by Evidently's low-cardinality rule, else empty.
    pub values: Vec<f64>,
    /// Reference shares per bin (with a trailing 0 when a leftover bin was added).
    pub reference_proportions: Vec<f64>,
    /// Current shares per bin (with the leftover share appended when there is one).
    pub current_proportions: Vec<f64>,
    /// Current values outside the reference edges (NannyML only; 0 for Evidently).
    pub n_current_outside_edges: u64,
    pub distance: f64,
}

/// The reference side of NannyML's continuous JS: Doane edges and reference shares.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct JsDoaneReference {
    pub bin_edges: Vec<f64>,
    pub reference_proportions: Vec<f64>,
}

impl JsDoaneReference {
    /// Fits Doane edges and reference shares on a finite, non-empty reference sample (any
    /// order; the Doane skewness is summed in the order given, as numpy does).
    pub fn fit(reference: &[f64]) -> Result<JsDoaneReference, InputError> {
        let bin_edges = histogram_bin_edges(reference, BinRule::Doane)?;
        let (counts, _) = histogram_counts(reference, &bin_edges);
        let n = reference.len() as f64;
        let reference_proportions = counts.iter().map(|&c| c as f64 / n).collect();
        Ok(JsDoaneReference {
            bin_edges,
            reference_proportions,
        })
    }

    /// Fits from the reference twice over: in row order for the Doane edges (whose skewness is
    /// summed in that order by numpy) and sorted for the counts (a binary search per edge
    /// instead of per value). Both slices must hold the same finite values.
    pub fn fit_with_sorted(
        reference: &[f64],
        reference_sorted: &[f64],
    ) -> Result<JsDoaneReference, InputError> {
        check_sorted_sample(reference_sorted, "reference_sorted")?;
        if reference.len() != reference_sorted.len() {
            return Err(InputError::LengthMismatch {
                what: "reference and reference_sorted",
                left: reference.len(),
                right: reference_sorted.len(),
            });
        }
        let bin_edges = histogram_bin_edges(reference, BinRule::Doane)?;
        let (counts, _) = histogram_counts_sorted(reference_sorted, &bin_edges);
        let n = reference_sorted.len() as f64;
        let reference_proportions = counts.iter().map(|&c| c as f64 / n).collect();
        Ok(JsDoaneReference {
            bin_edges,
            reference_proportions,
        })
    }

    /// NannyML JS distance (base 2) of a current sample sorted ascending.
    pub fn compare_sorted(&self, current_sorted: &[f64]) -> Result<BinnedJs, InputError> {
        check_sorted_sample(current_sorted, "current")?;
        self.compare_sorted_unchecked(current_sorted)
    }

    /// `compare_sorted` for data the caller guarantees to be sorted, finite and non-empty.
    pub(crate) fn compare_sorted_unchecked(
        &self,
        current_sorted: &[f64],
    ) -> Result<BinnedJs, InputError> {
        let (counts, outside) = histogram_counts_sorted(current_sorted, &self.bin_edges);
        self.with_current_counts(&counts, outside)
    }

    /// NannyML JS distance (base 2) of an unsorted current sample.
    pub fn compare(&self, current: &[f64]) -> Result<BinnedJs, InputError> {
        check_finite_sample(current, "current")?;
        let (counts, outside) = histogram_counts(current, &self.bin_edges);
        self.with_current_counts(&counts, outside)
    }

    fn with_current_counts(&self, counts: &[u64], outside: u64) -> Result<BinnedJs, InputError> {
        let n = (counts.iter().sum::<u64>() + outside) as f64;
        let mut current_proportions: Vec<f64> = counts.iter().map(|&c| c as f64 / n).collect();
        let mut reference_proportions = self.reference_proportions.clone();
        if outside > 0 {
            current_proportions.push(outside as f64 / n);
            reference_proportions.push(0.0);
        }
        let distance = js_distance(&reference_proportions, &current_proportions, Some(2.0))?;
        Ok(BinnedJs {
            bin_edges: self.bin_edges.clone(),
            values: Vec::new(),
            reference_proportions,
            current_proportions,
            n_current_outside_edges: outside,
            distance,
        })
    }
}

/// NannyML's continuous JS distance (Doane on reference, leftover bin, base 2).
pub fn js_nannyml_continuous(reference: &[f64], current: &[f64]) -> Result<BinnedJs, InputError> {
    JsDoaneReference::fit(reference)?.compare(current)
}

/// Evidently's `jensenshannon` on two samples sorted ascending (finite, non-empty).
pub fn js_evidently_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
) -> Result<BinnedJs, InputError> {
    let bins = evidently_bins_sorted(reference_sorted, current_sorted, false)?;
    js_from_evidently_bins(bins)
}

/// Evidently's JS distance (natural log) from its binned shares.
pub(crate) fn js_from_evidently_bins(bins: EvidentlyBins) -> Result<BinnedJs, InputError> {
    let distance = js_distance(&bins.reference, &bins.current, None)?;
    let (bin_edges, values) = match bins.binning {
        EvidentlyBinning::SturgesCombined { edges } => (edges, Vec::new()),
        EvidentlyBinning::DistinctValues { values } => (Vec::new(), values),
    };
    Ok(BinnedJs {
        bin_edges,
        values,
        reference_proportions: bins.reference,
        current_proportions: bins.current,
        n_current_outside_edges: 0,
        distance,
    })
}

/// Evidently's `jensenshannon` on two unsorted finite samples.
pub fn js_evidently(reference: &[f64], current: &[f64]) -> Result<BinnedJs, InputError> {
    check_finite_sample(reference, "reference")?;
    check_finite_sample(current, "current")?;
    js_evidently_sorted(&sorted_copy(reference), &sorted_copy(current))
}

/// JS distance between two count (or frequency) vectors aligned over the union of categories,
/// e.g. from `categorical::frequencies`. NannyML uses base 2, Evidently the natural log; both
/// give the same value whether unseen current categories are kept apart or lumped together,
/// because each of them meets a zero reference share.
pub fn js_categorical(
    reference_counts: &[f64],
    current_counts: &[f64],
    base: Option<f64>,
) -> Result<f64, InputError> {
    js_distance(reference_counts, current_counts, base)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disjoint_supports_reach_the_maximum() {
        assert!((js_distance(&[1.0, 0.0], &[0.0, 1.0], Some(2.0)).unwrap() - 1.0).abs() < 1e-15);
        let natural = js_distance(&[1.0, 0.0], &[0.0, 1.0], None).unwrap();
        assert!((natural - std::f64::consts::LN_2.sqrt()).abs() < 1e-15);
    }

    #[test]
    fn identical_weights_give_zero() {
        assert_eq!(
            js_distance(&[3.0, 1.0, 4.0], &[6.0, 2.0, 8.0], Some(2.0)).unwrap(),
            0.0
        );
    }

    #[test]
    fn invalid_weights_are_errors() {
        assert!(js_distance(&[1.0], &[1.0, 2.0], None).is_err());
        assert!(js_distance(&[0.0, 0.0], &[1.0, 2.0], None).is_err());
        assert!(js_distance(&[-1.0, 2.0], &[1.0, 2.0], None).is_err());
        assert!(js_distance(&[1.0, 2.0], &[1.0, 2.0], Some(1.0)).is_err());
    }

    #[test]
    fn leftover_bin_collects_values_outside_reference_range() {
        let reference: Vec<f64> = (0..50).map(f64::from).collect();
        let current: Vec<f64> = (25..75).map(f64::from).collect();
        let r = js_nannyml_continuous(&reference, &current).unwrap();
        assert_eq!(r.n_current_outside_edges, 25);
        assert_eq!(r.current_proportions.last(), Some(&0.5));
        assert_eq!(r.reference_proportions.last(), Some(&0.0));
        assert_eq!(r.reference_proportions.len(), r.bin_edges.len());
    }
}
