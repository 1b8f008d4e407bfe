//! Population Stability Index in two conventions.
//!
//! aidlc (the credit-scoring recipe): inner edges are the reference deciles (numpy `linear`
//! quantiles at 0.1 … 0.9) with duplicates removed, the outer bins are open, a value equal to
//! an edge goes to the bin on its right, zero shares become ε = 1e-4 (no renormalisation) and
//! PSI = Σ (cur − ref)·ln(cur / ref). Because the bins depend on the reference only, they are
//! fitted once (`PsiReference`) and a current sample is placed by binary search.
//!
//! Evidently (`psi` stat test): Sturges edges on reference ∪ current (or one bin per value when
//! the reference has at most 20 distinct values) and Evidently's zero filling.

use crate::binning::{
    EvidentlyBinning, EvidentlyBins, InputError, check_finite_sample, check_sorted_sample,
    evidently_bins_sorted, quantile_linear_sorted, sorted_copy,
};

/// The default replacement for an empty bin's share.
pub const DEFAULT_EPSILON: f64 = 1e-4;
/// Number of reference-quantile bins of the aidlc convention (before duplicate removal).
pub const DEFAULT_N_BINS: usize = 10;
/// Upper end of the "stable" band (exclusive).
pub const MODERATE_THRESHOLD: f64 = 0.1;
/// Lower end of the "significant" band (inclusive).
pub const SIGNIFICANT_THRESHOLD: f64 = 0.25;

/// The rule-of-thumb reading of a PSI value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PsiBand {
    /// PSI < 0.1: no meaningful shift.
    Stable,
    /// 0.1 ≤ PSI < 0.25: moderate shift.
    Moderate,
    /// PSI ≥ 0.25 (or NaN): significant shift.
    Significant,
}

impl PsiBand {
    /// The band for a PSI value.
    pub fn of(psi: f64) -> PsiBand {
        if psi < MODERATE_THRESHOLD {
            PsiBand::Stable
        } else if psi < SIGNIFICANT_THRESHOLD {
            PsiBand::Moderate
        } else {
            PsiBand::Significant
        }
    }

    /// The band's name: `stable`, `moderate` or `significant`.
    pub fn as_str(self) -> &'static str {
        match self {
            PsiBand::Stable => "stable",
            PsiBand::Moderate => "moderate",
            PsiBand::Significant => "significant",
        }
    }
}

/// Every intermediate of an aidlc-convention PSI, so the binning can be audited.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PsiResult {
    /// Inner edges (deduplicated reference deciles); there are `inner_edges.len() + 1` bins.
    pub inner_edges: Vec<f64>,
    pub reference_counts: Vec<u64>,
    pub current_counts: Vec<u64>,
    /// Reference shares with empty bins replaced by epsilon.
    pub reference_proportions: Vec<f64>,
    /// Current shares with empty bins replaced by epsilon.
    pub current_proportions: Vec<f64>,
    /// Per-bin (cur − ref)·ln(cur / ref).
    pub terms: Vec<f64>,
    pub psi: f64,
    pub band: PsiBand,
    pub epsilon: f64,
}

/// The reference side of the aidlc PSI: its decile edges and bin counts, enough to compare any
/// current sample without the reference data.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PsiReference {
    pub inner_edges: Vec<f64>,
    pub reference_counts: Vec<u64>,
    pub n_reference: u64,
}

/// Deduplicated reference quantiles at 1/n_bins, 2/n_bins, … (numpy `linear`), for data sorted
/// ascending. The quantile levels are computed as i / n_bins, numpy's `np.arange(1, k) / k`.
pub fn quantile_edges_sorted(sorted: &[f64], n_bins: usize) -> Vec<f64> {
    let mut edges: Vec<f64> = (1..n_bins)
        .map(|i| quantile_linear_sorted(sorted, i as f64 / n_bins as f64))
        .collect();
    // Linear interpolation keeps the edges ascending; sorting guards against a last-bit
    // inversion so deduplication sees equal edges side by side.
    edges.sort_by(f64::total_cmp);
    edges.dedup();
    edges
}

/// Counts over the open-ended bins (−∞, e₁), [e₁, e₂), …, [e_k, ∞) of data sorted ascending.
pub fn open_bin_counts_sorted(sorted: &[f64], inner_edges: &[f64]) -> Vec<u64> {
    let mut counts = Vec::with_capacity(inner_edges.len() + 1);
    let mut start = 0;
    for &edge in inner_edges {
        let end = sorted.partition_point(|&x| x < edge).max(start);
        counts.push((end - start) as u64);
        start = end;
    }
    counts.push((sorted.len() - start) as u64);
    counts
}

/// Counts over the open-ended bins of unsorted data (a binary search per value).
pub fn open_bin_counts(values: &[f64], inner_edges: &[f64]) -> Vec<u64> {
    let mut counts = vec![0u64; inner_edges.len() + 1];
    for &x in values {
        // The number of edges ≤ x is the bin index, so an edge value goes right.
        counts[inner_edges.partition_point(|&e| e <= x)] += 1;
    }
    counts
}

/// Shares of each bin with zeros replaced by `epsilon`.
fn shares_with_epsilon(counts: &[u64], n: u64, epsilon: f64) -> Vec<f64> {
    counts
        .iter()
        .map(|&c| if c == 0 { epsilon } else { c as f64 / n as f64 })
        .collect()
}

/// PSI terms (cur − ref)·ln(cur / ref) and their sum.
fn psi_terms(reference: &[f64], current: &[f64]) -> (Vec<f64>, f64) {
    let terms: Vec<f64> = reference
        .iter()
        .zip(current)
        .map(|(&r, &c)| (c - r) * (c / r).ln())
        .collect();
    let psi = terms.iter().sum();
    (terms, psi)
}

fn check_epsilon(epsilon: f64) -> Result<(), InputError> {
    if epsilon.is_finite() && epsilon > 0.0 {
        Ok(())
    } else {
        Err(InputError::Invalid {
            what: format!("epsilon must be finite and > 0, got {epsilon}"),
        })
    }
}

impl PsiReference {
    /// Fits the decile bins on a reference sample sorted ascending (finite, non-empty).
    pub fn fit_sorted(reference_sorted: &[f64]) -> Result<PsiReference, InputError> {
        Self::fit_sorted_with_bins(reference_sorted, DEFAULT_N_BINS)
    }

    /// Fits `n_bins` reference-quantile bins (duplicates removed) on sorted data.
    pub fn fit_sorted_with_bins(
        reference_sorted: &[f64],
        n_bins: usize,
    ) -> Result<PsiReference, InputError> {
        check_sorted_sample(reference_sorted, "reference")?;
        if n_bins == 0 {
            return Err(InputError::Invalid {
                what: "n_bins must be at least 1".into(),
            });
        }
        let inner_edges = quantile_edges_sorted(reference_sorted, n_bins);
        let reference_counts = open_bin_counts_sorted(reference_sorted, &inner_edges);
        Ok(PsiReference {
            inner_edges,
            reference_counts,
            n_reference: reference_sorted.len() as u64,
        })
    }

    /// Fits the decile bins on an unsorted reference sample.
    pub fn fit(reference: &[f64]) -> Result<PsiReference, InputError> {
        check_finite_sample(reference, "reference")?;
        Self::fit_sorted(&sorted_copy(reference))
    }

    /// PSI of a current sample sorted ascending against this reference.
    pub fn compare_sorted(
        &self,
        current_sorted: &[f64],
        epsilon: f64,
    ) -> Result<PsiResult, InputError> {
        check_sorted_sample(current_sorted, "current")?;
        self.compare_sorted_unchecked(current_sorted, epsilon)
    }

    /// `compare_sorted` for data the caller guarantees to be sorted, finite and non-empty.
    pub(crate) fn compare_sorted_unchecked(
        &self,
        current_sorted: &[f64],
        epsilon: f64,
    ) -> Result<PsiResult, InputError> {
        let counts = open_bin_counts_sorted(current_sorted, &self.inner_edges);
        self.result_from_counts(counts, epsilon)
    }

    /// PSI of an unsorted current sample (binary search per value, no sort).
    pub fn compare(&self, current: &[f64], epsilon: f64) -> Result<PsiResult, InputError> {
        check_finite_sample(current, "current")?;
        let counts = open_bin_counts(current, &self.inner_edges);
        self.result_from_counts(counts, epsilon)
    }

    /// PSI from current counts over this reference's bins.
    pub fn result_from_counts(
        &self,
        current_counts: Vec<u64>,
        epsilon: f64,
    ) -> Result<PsiResult, InputError> {
        check_epsilon(epsilon)?;
        if current_counts.len() != self.reference_counts.len() {
            return Err(InputError::LengthMismatch {
                what: "current_counts",
                left: current_counts.len(),
                right: self.reference_counts.len(),
            });
        }
        let n_current: u64 = current_counts.iter().sum();
        if n_current == 0 {
            return Err(InputError::Empty { what: "current" });
        }
        let reference_proportions =
            shares_with_epsilon(&self.reference_counts, self.n_reference, epsilon);
        let current_proportions = shares_with_epsilon(&current_counts, n_current, epsilon);
        let (terms, psi) = psi_terms(&reference_proportions, &current_proportions);
        Ok(PsiResult {
            inner_edges: self.inner_edges.clone(),
            reference_counts: self.reference_counts.clone(),
            current_counts,
            reference_proportions,
            current_proportions,
            terms,
            psi,
            band: PsiBand::of(psi),
            epsilon,
        })
    }
}

/// aidlc-convention PSI of two unsorted finite samples with ε = 1e-4.
pub fn psi(reference: &[f64], current: &[f64]) -> Result<PsiResult, InputError> {
    psi_with_epsilon(reference, current, DEFAULT_EPSILON)
}

/// aidlc-convention PSI with an explicit epsilon for empty bins.
pub fn psi_with_epsilon(
    reference: &[f64],
    current: &[f64],
    epsilon: f64,
) -> Result<PsiResult, InputError> {
    PsiReference::fit(reference)?.compare(current, epsilon)
}

/// aidlc-convention PSI of two samples sorted ascending.
pub fn psi_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
    epsilon: f64,
) -> Result<PsiResult, InputError> {
    PsiReference::fit_sorted(reference_sorted)?.compare_sorted(current_sorted, epsilon)
}

/// Evidently's `psi` result: its binning, the zero-filled shares and the value.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvidentlyPsiResult {
    pub binning: EvidentlyBinning,
    pub reference_proportions: Vec<f64>,
    pub current_proportions: Vec<f64>,
    /// Σ (ref − cur)·ln(ref / cur).
    pub psi: f64,
}

/// Evidently's `psi` on two samples sorted ascending (finite, non-empty).
pub fn psi_evidently_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
) -> Result<EvidentlyPsiResult, InputError> {
    let bins = evidently_bins_sorted(reference_sorted, current_sorted, true)?;
    Ok(psi_from_evidently_bins(bins))
}

/// Evidently's PSI from its zero-filled binned shares.
pub(crate) fn psi_from_evidently_bins(bins: EvidentlyBins) -> EvidentlyPsiResult {
    let psi = bins
        .reference
        .iter()
        .zip(&bins.current)
        .map(|(&r, &c)| (r - c) * (r / c).ln())
        .sum();
    EvidentlyPsiResult {
        binning: bins.binning,
        reference_proportions: bins.reference,
        current_proportions: bins.current,
        psi,
    }
}

/// Evidently's `psi` on two unsorted finite samples.
pub fn psi_evidently(reference: &[f64], current: &[f64]) -> Result<EvidentlyPsiResult, InputError> {
    check_finite_sample(reference, "reference")?;
    check_finite_sample(current, "current")?;
    psi_evidently_sorted(&sorted_copy(reference), &sorted_copy(current))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identical_samples_have_zero_psi() {
        let values: Vec<f64> = (0..100).map(|i| f64::from(i) * 0.37).collect();
        let r = psi(&values, &values).unwrap();
        assert_eq!(r.psi, 0.0);
        assert_eq!(r.band, PsiBand::Stable);
        assert_eq!(r.inner_edges.len(), 9);
        assert_eq!(r.reference_counts.iter().sum::<u64>(), 100);
    }

    #[test]
    fn edge_values_go_right() {
        let edges = [1.0, 2.0];
        assert_eq!(
            open_bin_counts(&[0.0, 1.0, 1.5, 2.0, 3.0], &edges),
            vec![1, 2, 2]
        );
        assert_eq!(
            open_bin_counts_sorted(&[0.0, 1.0, 1.5, 2.0, 3.0], &edges),
            vec![1, 2, 2]
        );
    }

    #[test]
    fn duplicate_edges_are_removed() {
        let reference = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 2.0, 2.0, 3.0, 3.0];
        let r = PsiReference::fit(&reference).unwrap();
        assert_eq!(r.inner_edges.first(), Some(&1.0));
        assert!(r.inner_edges.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn bands() {
        assert_eq!(PsiBand::of(0.0999), PsiBand::Stable);
        assert_eq!(PsiBand::of(0.1), PsiBand::Moderate);
        assert_eq!(PsiBand::of(0.25), PsiBand::Significant);
    }

    #[test]
    fn invalid_epsilon_is_an_error() {
        assert!(psi_with_epsilon(&[1.0, 2.0], &[1.0], 0.0).is_err());
        assert!(psi(&[], &[1.0]).is_err());
    }
}
