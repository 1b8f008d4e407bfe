//! One-dimensional Wasserstein-1 distance between empirical distributions (scipy's
//! `wasserstein_distance`), plain and weighted, and Evidently's normed variant
//! W1 / max(std(reference, ddof = 0), 0.001).
//!
//! W1 is the area between the two empirical CDFs. Both supports are walked once in ascending
//! order (a linear merge of the sorted samples), so the cost after sorting is O(n + m) with no
//! allocation; the `_sorted` entry points let a caller that already holds sorted data (the drift
//! profiles) skip the sort entirely.

use crate::binning::{
    InputError, check_finite_sample, check_sorted_sample, sort_floats, std_population,
};

/// Evidently's floor on the reference standard deviation used as the norm.
pub const EVIDENTLY_MIN_NORM: f64 = 0.001;

/// Evidently's normed Wasserstein distance together with its parts.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct NormedWasserstein {
    /// Raw W1 distance.
    pub distance: f64,
    /// Population standard deviation (ddof = 0) of the reference.
    pub reference_std: f64,
    /// max(reference_std, 0.001).
    pub norm: f64,
    /// distance / norm, the value Evidently compares with its 0.1 threshold.
    pub normed: f64,
}

/// Neumaier's compensated summation: the merge adds up to 2·10⁶ products of very different
/// magnitudes, and compensation keeps the total independent of their order.
#[derive(Default)]
struct CompensatedSum {
    sum: f64,
    compensation: f64,
}

impl CompensatedSum {
    #[inline]
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn total(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// W1 between two samples that are already sorted ascending (finite, non-empty), in O(n + m).
pub fn wasserstein_distance_sorted(u_sorted: &[f64], v_sorted: &[f64]) -> Result<f64, InputError> {
    check_sorted_sample(u_sorted, "u_values")?;
    check_sorted_sample(v_sorted, "v_values")?;
    Ok(w1_sorted_unchecked(u_sorted, v_sorted))
}

/// W1 of two sorted, finite, non-empty samples without re-validating them (the drift profiles
/// guarantee the invariants and avoid an extra pass over 10⁶ values per method).
///
/// In one dimension the area between the CDFs equals the area between the quantile functions,
/// W1 = ∫₀¹ |U⁻¹(p) − V⁻¹(p)| dp, and both quantile functions are step functions that change
/// at p = k/n and p = l/m. Walking those breakpoints (measured in units of 1/(n·m), so they
/// are exact integers) is a merge whose control flow depends only on k and l, never on the
/// data, so it runs without mispredicted branches; the sample values are only read.
pub(crate) fn w1_sorted_unchecked(u: &[f64], v: &[f64]) -> f64 {
    let (n, m) = (u.len() as u64, v.len() as u64);
    let (mut k, mut l) = (0usize, 0usize);
    let mut position = 0u64;
    let mut area = BlockSum::default();
    while k < u.len() && l < v.len() {
        let next_u = (k as u64 + 1) * m;
        let next_v = (l as u64 + 1) * n;
        let next = next_u.min(next_v);
        area.add((u[k] - v[l]).abs() * (next - position) as f64);
        position = next;
        k += usize::from(next_u == next);
        l += usize::from(next_v == next);
    }
    area.total() / (n as f64 * m as f64)
}

/// Summation in blocks of 1024 terms: the error grows with the block size plus the number of
/// blocks instead of with the number of terms, at the cost of one predictable branch per term.
#[derive(Default)]
struct BlockSum {
    total: f64,
    block: f64,
    count: u32,
}

impl BlockSum {
    #[inline]
    fn add(&mut self, x: f64) {
        self.block += x;
        self.count += 1;
        if self.count == 1024 {
            self.total += self.block;
            self.block = 0.0;
            self.count = 0;
        }
    }

    fn total(&self) -> f64 {
        self.total + self.block
    }
}

/// The area between two step CDFs given as functions of "number of sorted values ≤ t": walks
/// the pooled support, where between consecutive pooled values t_k < t_{k+1} both CDFs are
/// constant and the area is |F_u(t_k) − F_v(t_k)|·(t_{k+1} − t_k).
fn merge_area(
    u: &[f64],
    v: &[f64],
    u_cdf: impl Fn(usize) -> f64,
    v_cdf: impl Fn(usize) -> f64,
) -> f64 {
    let (mut i, mut j) = (0usize, 0usize);
    let mut area = CompensatedSum::default();
    let mut current = u[0].min(v[0]);
    loop {
        while i < u.len() && u[i] <= current {
            i += 1;
        }
        while j < v.len() && v[j] <= current {
            j += 1;
        }
        let next = match (u.get(i), v.get(j)) {
            (Some(&a), Some(&b)) => a.min(b),
            (Some(&a), None) => a,
            (None, Some(&b)) => b,
            (None, None) => break,
        };
        area.add((u_cdf(i) - v_cdf(j)).abs() * (next - current));
        current = next;
    }
    area.total()
}

/// W1 between two unsorted samples (finite, non-empty); sorts copies of both.
pub fn wasserstein_distance(u_values: &[f64], v_values: &[f64]) -> Result<f64, InputError> {
    check_finite_sample(u_values, "u_values")?;
    check_finite_sample(v_values, "v_values")?;
    let mut u = u_values.to_vec();
    let mut v = v_values.to_vec();
    sort_floats(&mut u);
    sort_floats(&mut v);
    wasserstein_distance_sorted(&u, &v)
}

/// Sorts values with their weights by value and returns them with the cumulative weights
/// (prefixed with 0) after checking that weights are finite, non-negative and not all zero.
fn sorted_with_cumulative_weights(
    values: &[f64],
    weights: &[f64],
    what: &'static str,
) -> Result<(Vec<f64>, Vec<f64>), InputError> {
    check_finite_sample(values, what)?;
    if values.len() != weights.len() {
        return Err(InputError::LengthMismatch {
            what,
            left: values.len(),
            right: weights.len(),
        });
    }
    if weights.iter().any(|w| !w.is_finite() || *w < 0.0) {
        return Err(InputError::Invalid {
            what: format!("{what}: weights must be finite and >= 0"),
        });
    }
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_unstable_by(|&a, &b| values[a].total_cmp(&values[b]));
    let sorted: Vec<f64> = order.iter().map(|&k| values[k]).collect();
    let mut cumulative = Vec::with_capacity(values.len() + 1);
    let mut total = 0.0;
    cumulative.push(0.0);
    for &k in &order {
        total += weights[k];
        cumulative.push(total);
    }
    if total <= 0.0 {
        return Err(InputError::Invalid {
            what: format!("{what}: weights sum to zero"),
        });
    }
    Ok((sorted, cumulative))
}

/// Weighted W1: each value carries a non-negative weight and each CDF is normalised by its
/// total weight (scipy's `u_weights`/`v_weights`).
pub fn wasserstein_distance_weighted(
    u_values: &[f64],
    v_values: &[f64],
    u_weights: &[f64],
    v_weights: &[f64],
) -> Result<f64, InputError> {
    let (u, u_cum) = sorted_with_cumulative_weights(u_values, u_weights, "u_values")?;
    let (v, v_cum) = sorted_with_cumulative_weights(v_values, v_weights, "v_values")?;
    let u_total = u_cum[u.len()];
    let v_total = v_cum[v.len()];
    Ok(merge_area(
        &u,
        &v,
        |i| u_cum[i] / u_total,
        |j| v_cum[j] / v_total,
    ))
}

/// max(reference_std, 0.001): the denominator of Evidently's normed distance.
pub fn evidently_norm(reference_std: f64) -> f64 {
    reference_std.max(EVIDENTLY_MIN_NORM)
}

/// Evidently's `wasserstein` statistic on sorted samples: W1 / max(std(reference), 0.001).
pub fn wasserstein_normed_sorted(
    reference_sorted: &[f64],
    current_sorted: &[f64],
) -> Result<NormedWasserstein, InputError> {
    let distance = wasserstein_distance_sorted(reference_sorted, current_sorted)?;
    let reference_std = std_population(reference_sorted);
    Ok(normed_from_parts(distance, reference_std))
}

/// Evidently's `wasserstein` statistic on unsorted samples.
pub fn wasserstein_normed(
    reference: &[f64],
    current: &[f64],
) -> Result<NormedWasserstein, InputError> {
    let distance = wasserstein_distance(reference, current)?;
    // The std is taken in the caller's order, which is the order numpy sums in.
    let reference_std = std_population(reference);
    Ok(normed_from_parts(distance, reference_std))
}

/// Assembles the normed result from a distance and a precomputed reference std.
pub fn normed_from_parts(distance: f64, reference_std: f64) -> NormedWasserstein {
    let norm = evidently_norm(reference_std);
    NormedWasserstein {
        distance,
        reference_std,
        norm,
        normed: distance / norm,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_samples_distance_is_the_shift() {
        let u = [0.0, 1.0, 3.0];
        let v = [5.0, 6.0, 8.0];
        assert_eq!(wasserstein_distance(&u, &v).unwrap(), 5.0);
        assert_eq!(wasserstein_distance(&v, &u).unwrap(), 5.0);
    }

    #[test]
    fn unequal_sizes() {
        let d = wasserstein_distance(&[0.0, 1.0], &[0.0, 2.0, 4.0]).unwrap();
        assert!((d - 1.5).abs() < 1e-15);
    }

    #[test]
    fn weighted_matches_repeated_values() {
        let weighted =
            wasserstein_distance_weighted(&[1.0, 2.0], &[1.5], &[1.0, 3.0], &[2.0]).unwrap();
        let repeated = wasserstein_distance(&[1.0, 2.0, 2.0, 2.0], &[1.5]).unwrap();
        assert!((weighted - repeated).abs() < 1e-15);
    }

    #[test]
    fn invalid_inputs_are_errors() {
        assert!(wasserstein_distance(&[], &[1.0]).is_err());
        assert!(wasserstein_distance(&[f64::NAN], &[1.0]).is_err());
        assert!(wasserstein_distance_sorted(&[2.0, 1.0], &[1.0]).is_err());
        assert!(wasserstein_distance_weighted(&[1.0], &[1.0], &[-1.0], &[1.0]).is_err());
        assert!(wasserstein_distance_weighted(&[1.0], &[1.0], &[0.0], &[1.0]).is_err());
        assert!(wasserstein_distance_weighted(&[1.0], &[1.0], &[1.0, 2.0], &[1.0]).is_err());
    }

    #[test]
    fn constant_reference_uses_norm_floor() {
        let r = wasserstein_normed(&[2.0; 4], &[2.5; 3]).unwrap();
        assert_eq!(r.reference_std, 0.0);
        assert_eq!(r.norm, 0.001);
        assert!((r.normed - 500.0).abs() < 1e-9);
    }
}
