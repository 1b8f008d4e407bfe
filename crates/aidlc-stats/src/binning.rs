//! numpy-compatible binning and ordering of samples: `histogram_bin_edges` (Sturges, Doane),
//! histogram counts, the `linear` (Hyndman–Fan type 7) quantile, numpy's pairwise summation
//! for means and standard deviations, Evidently's binning of two samples, a fast radix sort for
//! floats, and the input-error type shared by the distance modules.
//!
//! The drift distances (PSI, Jensen–Shannon) are only reproducible to the bit when their bin
//! edges are, so every function here follows numpy's arithmetic order, not just its formula:
//! a bin count computed as `ceil(ptp / width)` can differ by one from `ceil(log2(n) + 1)`.

use std::fmt;

/// Why a distance or test could not be computed from the given input.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum InputError {
    /// A sample (named by `what`) has no values.
    Empty { what: &'static str },
    /// Two inputs that must be aligned have different lengths.
    LengthMismatch {
        what: &'static str,
        left: usize,
        right: usize,
    },
    /// A value is NaN or infinite where only finite values are meaningful.
    NonFinite { what: &'static str },
    /// A `_sorted` entry point received data that is not sorted ascending.
    NotSorted { what: &'static str },
    /// A parameter or weight is outside its domain (negative weight, zero total, ...).
    Invalid { what: String },
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InputError::Empty { what } => write!(f, "{what} is empty"),
            InputError::LengthMismatch { what, left, right } => {
                write!(f, "{what}: lengths differ ({left} vs {right})")
            }
            InputError::NonFinite { what } => write!(f, "{what} contains NaN or infinite values"),
            InputError::NotSorted { what } => write!(f, "{what} is not sorted ascending"),
            InputError::Invalid { what } => write!(f, "invalid input: {what}"),
        }
    }
}

impl std::error::Error for InputError {}

/// Fails with `Empty` or `NonFinite` unless `values` is a non-empty finite sample.
pub(crate) fn check_finite_sample(values: &[f64], what: &'static str) -> Result<(), InputError> {
    if values.is_empty() {
        return Err(InputError::Empty { what });
    }
    if values.iter().any(|v| !v.is_finite()) {
        return Err(InputError::NonFinite { what });
    }
    Ok(())
}

/// Like `check_finite_sample`, and also requires ascending order (checked in O(n)).
pub(crate) fn check_sorted_sample(values: &[f64], what: &'static str) -> Result<(), InputError> {
    check_finite_sample(values, what)?;
    if values.windows(2).any(|w| w[1] < w[0]) {
        return Err(InputError::NotSorted { what });
    }
    Ok(())
}

/// numpy's pairwise summation (the algorithm behind `np.sum`/`np.mean` on a contiguous
/// float64 array): blocks of at most 128 values are summed with eight interleaved accumulators,
/// larger arrays are split in two at a multiple of eight. Reproducing it makes means, standard
/// deviations and skewness bit-identical to numpy in the common case.
pub fn pairwise_sum(values: &[f64]) -> f64 {
    const BLOCK: usize = 128;
    let n = values.len();
    if n < 8 {
        let mut sum = 0.0;
        for &v in values {
            sum += v;
        }
        sum
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&values[..8]);
        let full = n - n % 8;
        let mut i = 8;
        while i < full {
            for (acc, &v) in r.iter_mut().zip(&values[i..i + 8]) {
                *acc += v;
            }
            i += 8;
        }
        let mut sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &values[full..] {
            sum += v;
        }
        sum
    } else {
        let mut half = n / 2;
        half -= half % 8;
        pairwise_sum(&values[..half]) + pairwise_sum(&values[half..])
    }
}

/// Pairwise sum of `f(v)` over `values`, evaluated block by block so that no temporary array of
/// the full length is needed while keeping numpy's summation order.
fn pairwise_sum_map(values: &[f64], f: &impl Fn(f64) -> f64) -> f64 {
    const BLOCK: usize = 128;
    if values.len() <= BLOCK {
        let mut buffer = [0.0f64; BLOCK];
        for (b, &v) in buffer.iter_mut().zip(values) {
            *b = f(v);
        }
        pairwise_sum(&buffer[..values.len()])
    } else {
        let mut half = values.len() / 2;
        half -= half % 8;
        pairwise_sum_map(&values[..half], f) + pairwise_sum_map(&values[half..], f)
    }
}

/// Arithmetic mean as numpy computes it (pairwise sum divided by n). NaN for an empty slice.
pub fn mean(values: &[f64]) -> f64 {
    pairwise_sum(values) / values.len() as f64
}

/// Population standard deviation (ddof = 0) as `np.std` computes it: the pairwise sum of squared
/// deviations from the numpy mean, divided by n, square-rooted. NaN for an empty slice.
pub fn std_population(values: &[f64]) -> f64 {
    let m = mean(values);
    (pairwise_sum_map(values, &|v| (v - m) * (v - m)) / values.len() as f64).sqrt()
}

/// The two numpy binning rules aidlc needs (`bins="sturges"` and `bins="doane"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BinRule {
    /// width = ptp / (log2(n) + 1).
    Sturges,
    /// width = ptp / (1 + log2(n) + log2(1 + |g1| / σ_g1)); one bin when n ≤ 2 or std is 0.
    Doane,
}

/// `np.linspace(first, last, n_bins + 1)`: edge i is `first + i·step` with the last edge set to
/// `last` exactly (numpy's order of operations, so the edges agree to the bit).
pub fn equal_width_edges(first: f64, last: f64, n_bins: usize) -> Vec<f64> {
    let n_bins = n_bins.max(1);
    let div = n_bins as f64;
    let delta = last - first;
    let step = delta / div;
    let mut edges: Vec<f64> = if step == 0.0 {
        (0..=n_bins)
            .map(|i| i as f64 / div * delta + first)
            .collect()
    } else {
        (0..=n_bins).map(|i| i as f64 * step + first).collect()
    };
    edges[n_bins] = last;
    edges
}

/// numpy's outer edges: the data range, widened to [min − 0.5, max + 0.5] when it is empty.
fn outer_edges(min: f64, max: f64) -> (f64, f64) {
    if min == max {
        (min - 0.5, max + 0.5)
    } else {
        (min, max)
    }
}

/// Number of bins for a rule's width: ceil((last − first) / width), or 1 for width 0.
fn bin_count(first: f64, last: f64, width: f64) -> usize {
    if width > 0.0 {
        ((last - first) / width).ceil().max(1.0) as usize
    } else {
        1
    }
}

/// Sturges edges for a sample described only by its size and range; this is what Evidently
/// needs on reference ∪ current, whose min, max and size are known without concatenating.
pub fn sturges_edges(min: f64, max: f64, n: usize) -> Vec<f64> {
    let (first, last) = outer_edges(min, max);
    let width = (max - min) / ((n as f64).log2() + 1.0);
    equal_width_edges(first, last, bin_count(first, last, width))
}

/// Doane bin width for a finite non-empty sample (0 means a single bin).
fn doane_width(values: &[f64], min: f64, max: f64) -> f64 {
    let n = values.len();
    if n <= 2 {
        return 0.0;
    }
    let nf = n as f64;
    let sigma_g1 = (6.0 * (nf - 2.0) / ((nf + 1.0) * (nf + 3.0))).sqrt();
    let sigma = std_population(values);
    if sigma.is_nan() || sigma <= 0.0 {
        return 0.0;
    }
    let m = mean(values);
    // Standardise first, then cube, the order numpy uses for the skewness. (numpy cubes with
    // `pow`; a product differs from it by at most an ulp per term, which moves the bin count
    // only if ptp / width lands within ~1e-15 of an integer, and is twenty times faster.)
    let g1 = pairwise_sum_map(values, &|v| {
        let z = (v - m) / sigma;
        z * z * z
    }) / nf;
    (max - min) / (1.0 + nf.log2() + (1.0 + g1.abs() / sigma_g1).log2())
}

/// `np.histogram_bin_edges(values, bins=rule)` for a finite, non-empty sample.
pub fn histogram_bin_edges(values: &[f64], rule: BinRule) -> Result<Vec<f64>, InputError> {
    check_finite_sample(values, "sample")?;
    let (min, max) = values
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), &v| {
            (lo.min(v), hi.max(v))
        });
    Ok(match rule {
        BinRule::Sturges => sturges_edges(min, max, values.len()),
        BinRule::Doane => {
            let (first, last) = outer_edges(min, max);
            let width = doane_width(values, min, max);
            equal_width_edges(first, last, bin_count(first, last, width))
        }
    })
}

/// Index of the bin holding `x` under numpy's rule — bins are [e_i, e_{i+1}) except the last,
/// which is closed — or `None` when x lies outside [first edge, last edge] (or is NaN).
pub fn bin_index(edges: &[f64], x: f64) -> Option<usize> {
    let n_bins = edges.len().checked_sub(1).filter(|&n| n > 0)?;
    if !(x >= edges[0] && x <= edges[n_bins]) {
        return None;
    }
    // The number of edges ≤ x is at least 1 here; a value on the last edge joins the last bin.
    let at_most = edges.partition_point(|&e| e <= x);
    Some((at_most - 1).min(n_bins - 1))
}

/// Histogram counts of `values` on `edges` with numpy's rule (see `bin_index`), plus the number
/// of values that fell outside the edges. Values on an interior edge go to the bin on its right.
pub fn histogram_counts(values: &[f64], edges: &[f64]) -> (Vec<u64>, u64) {
    let n_bins = edges.len().saturating_sub(1);
    let mut counts = vec![0u64; n_bins];
    let mut outside = 0u64;
    for &x in values {
        match bin_index(edges, x) {
            Some(i) => counts[i] += 1,
            None => outside += 1,
        }
    }
    (counts, outside)
}

/// `histogram_counts` for data sorted ascending, in O(bins · log n): each edge is located once
/// by binary search instead of placing every value.
pub fn histogram_counts_sorted(sorted: &[f64], edges: &[f64]) -> (Vec<u64>, u64) {
    if edges.len() < 2 {
        return (Vec::new(), sorted.len() as u64);
    }
    let n_bins = edges.len() - 1;
    let mut counts = Vec::with_capacity(n_bins);
    let mut start = sorted.partition_point(|&x| x < edges[0]);
    let first_inside = start;
    for (i, &edge) in edges[1..].iter().enumerate() {
        // Interior bins stop before their right edge; the last bin includes it.
        let end = if i + 1 == n_bins {
            sorted.partition_point(|&x| x <= edge)
        } else {
            sorted.partition_point(|&x| x < edge)
        };
        let end = end.max(start);
        counts.push((end - start) as u64);
        start = end;
    }
    let inside = start - first_inside;
    (counts, (sorted.len() - inside) as u64)
}

/// numpy's `_lerp`: a + (b − a)·t for t < 0.5, b − (b − a)·(1 − t) otherwise, which keeps the
/// interpolation monotone and exact at both ends.
fn lerp(a: f64, b: f64, t: f64) -> f64 {
    let diff = b - a;
    if t >= 0.5 {
        b - diff * (1.0 - t)
    } else {
        a + diff * t
    }
}

/// `np.quantile(sorted, q, method="linear")` (Hyndman–Fan type 7) on data sorted ascending:
/// position (n − 1)·q, linear interpolation between its neighbours. NaN for empty data.
pub fn quantile_linear_sorted(sorted: &[f64], q: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || q.is_nan() {
        return f64::NAN;
    }
    let position = (n - 1) as f64 * q;
    if position >= (n - 1) as f64 {
        return sorted[n - 1];
    }
    if position < 0.0 {
        return sorted[0];
    }
    let below = position.floor();
    let i = below as usize;
    lerp(sorted[i], sorted[i + 1], position - below)
}

/// `np.quantile(values, q, method="linear")` for an unsorted finite sample.
pub fn quantile_linear(values: &[f64], q: f64) -> Result<f64, InputError> {
    check_finite_sample(values, "sample")?;
    Ok(quantile_linear_sorted(&sorted_copy(values), q))
}

/// Maps a float to an unsigned key whose order is IEEE-754 total order (−NaN < −∞ < … < −0 <
/// +0 < … < +∞ < +NaN), so integer radix passes sort floats.
#[inline]
fn order_key(x: f64) -> u64 {
    let bits = x.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | (1 << 63)
    }
}

#[inline]
fn from_order_key(key: u64) -> f64 {
    if key >> 63 == 1 {
        f64::from_bits(key & !(1 << 63))
    } else {
        f64::from_bits(!key)
    }
}

/// Sorts floats ascending in IEEE-754 total order (so −0 before +0, NaN at the ends).
///
/// The floats are mapped to order-preserving integer keys and sorted as integers, which is
/// roughly twice as fast as comparing floats with `total_cmp` on 10⁶ values; sorting is the
/// dominant cost of the two-sample drift statistics, which all run on sorted data.
pub fn sort_floats(values: &mut [f64]) {
    let mut keys: Vec<u64> = values.iter().map(|&v| order_key(v)).collect();
    keys.sort_unstable();
    for (v, &k) in values.iter_mut().zip(&keys) {
        *v = from_order_key(k);
    }
}

/// The finite values of `values` sorted ascending, with the numbers of NaN and of ±∞ removed.
pub fn sorted_finite(values: &[f64]) -> (Vec<f64>, u64, u64) {
    let mut keys: Vec<u64> = Vec::with_capacity(values.len());
    let (mut n_nan, mut n_inf) = (0u64, 0u64);
    for &v in values {
        if v.is_finite() {
            keys.push(order_key(v));
        } else if v.is_nan() {
            n_nan += 1;
        } else {
            n_inf += 1;
        }
    }
    keys.sort_unstable();
    (keys.into_iter().map(from_order_key).collect(), n_nan, n_inf)
}

/// A sorted copy of `values` (see `sort_floats`).
pub fn sorted_copy(values: &[f64]) -> Vec<f64> {
    let mut sorted = values.to_vec();
    sort_floats(&mut sorted);
    sorted
}

/// Distinct values of a sorted sample and how often each occurs (runs of equal values;
/// −0 and +0 count as one value, as in pandas).
pub fn distinct_counts_sorted(sorted: &[f64]) -> Vec<(f64, u64)> {
    let mut out: Vec<(f64, u64)> = Vec::new();
    for &x in sorted {
        match out.last_mut() {
            Some((value, count)) if *value == x => *count += 1,
            _ => out.push((x, 1)),
        }
    }
    out
}

/// Number of distinct values of a sorted sample.
pub fn n_distinct_sorted(sorted: &[f64]) -> usize {
    if sorted.is_empty() {
        return 0;
    }
    1 + sorted.windows(2).filter(|w| w[1] != w[0]).count()
}

/// Number of distinct values over two sorted samples together (a linear merge).
pub fn n_distinct_union_sorted(a: &[f64], b: &[f64]) -> usize {
    let (mut i, mut j, mut distinct) = (0, 0, 0);
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        distinct += 1;
        while i < a.len() && a[i] == v {
            i += 1;
        }
        while j < b.len() && b[j] == v {
            j += 1;
        }
    }
    distinct
}

/// Counts of both sorted samples over the union of their distinct values (ascending): the
/// categorical view of a numeric column. Returns (values, reference counts, current counts).
pub fn union_value_counts_sorted(a: &[f64], b: &[f64]) -> (Vec<f64>, Vec<u64>, Vec<u64>) {
    let (mut i, mut j) = (0, 0);
    let (mut values, mut counts_a, mut counts_b) = (Vec::new(), Vec::new(), Vec::new());
    while i < a.len() || j < b.len() {
        let v = match (a.get(i), b.get(j)) {
            (Some(&x), Some(&y)) => x.min(y),
            (Some(&x), None) => x,
            (None, Some(&y)) => y,
            (None, None) => break,
        };
        let start_i = i;
        while i < a.len() && a[i] == v {
            i += 1;
        }
        let start_j = j;
        while j < b.len() && b[j] == v {
            j += 1;
        }
        values.push(v);
        counts_a.push((i - start_i) as u64);
        counts_b.push((j - start_j) as u64);
    }
    (values, counts_a, counts_b)
}

/// How Evidently binned a numeric column for `psi`, `jensenshannon` and `kl_div`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub enum EvidentlyBinning {
    /// More than 20 distinct reference values: Sturges edges on reference ∪ current.
    SturgesCombined { edges: Vec<f64> },
    /// At most 20 distinct reference values: one bin per distinct value over both sides.
    DistinctValues { values: Vec<f64> },
}

/// Evidently's binned proportions of two numeric samples (`get_binned_data`).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EvidentlyBins {
    pub binning: EvidentlyBinning,
    /// Reference share per bin (count / n_reference), after zero filling when requested.
    pub reference: Vec<f64>,
    /// Current share per bin (count / n_current), after zero filling when requested.
    pub current: Vec<f64>,
}

/// Above this many distinct reference values Evidently bins a numeric column with Sturges edges
/// instead of using one bin per value.
pub const EVIDENTLY_MAX_DISTINCT_FOR_VALUE_BINS: usize = 20;

/// Evidently's replacement of empty bins on one side: the smallest non-zero share divided by
/// 10⁶ when that share is at most 1e-4, otherwise 1e-4.
pub fn evidently_fill_zeroes(proportions: &mut [f64]) {
    let smallest = proportions
        .iter()
        .copied()
        .filter(|&p| p != 0.0)
        .fold(f64::INFINITY, f64::min);
    if !smallest.is_finite() {
        return;
    }
    let fill = if smallest <= 1e-4 {
        smallest / 1e6
    } else {
        1e-4
    };
    for p in proportions.iter_mut().filter(|p| **p == 0.0) {
        *p = fill;
    }
}

/// Evidently's binning of two sorted, finite, non-empty numeric samples, with the zero filling
/// used by `psi`/`kl_div` (`fill_zeroes = true`) or without it (`jensenshannon`).
pub fn evidently_bins_sorted(
    reference: &[f64],
    current: &[f64],
    fill_zeroes: bool,
) -> Result<EvidentlyBins, InputError> {
    check_sorted_sample(reference, "reference")?;
    check_sorted_sample(current, "current")?;
    Ok(evidently_bins_sorted_unchecked(
        reference,
        current,
        n_distinct_sorted(reference),
        fill_zeroes,
    ))
}

/// `evidently_bins_sorted` for samples the caller guarantees to be sorted, finite and non-empty,
/// with the reference's distinct-value count supplied (a drift profile stores it).
pub(crate) fn evidently_bins_sorted_unchecked(
    reference: &[f64],
    current: &[f64],
    reference_distinct: usize,
    fill_zeroes: bool,
) -> EvidentlyBins {
    let n_ref = reference.len() as f64;
    let n_cur = current.len() as f64;
    let (binning, mut ref_share, mut cur_share) =
        if reference_distinct > EVIDENTLY_MAX_DISTINCT_FOR_VALUE_BINS {
            let min = reference[0].min(current[0]);
            let max = reference[reference.len() - 1].max(current[current.len() - 1]);
            let edges = sturges_edges(min, max, reference.len() + current.len());
            let (ref_counts, _) = histogram_counts_sorted(reference, &edges);
            let (cur_counts, _) = histogram_counts_sorted(current, &edges);
            let ref_share: Vec<f64> = ref_counts.iter().map(|&c| c as f64 / n_ref).collect();
            let cur_share: Vec<f64> = cur_counts.iter().map(|&c| c as f64 / n_cur).collect();
            (
                EvidentlyBinning::SturgesCombined { edges },
                ref_share,
                cur_share,
            )
        } else {
            let (values, ref_counts, cur_counts) = union_value_counts_sorted(reference, current);
            let ref_share: Vec<f64> = ref_counts.iter().map(|&c| c as f64 / n_ref).collect();
            let cur_share: Vec<f64> = cur_counts.iter().map(|&c| c as f64 / n_cur).collect();
            (
                EvidentlyBinning::DistinctValues { values },
                ref_share,
                cur_share,
            )
        };
    if fill_zeroes {
        evidently_fill_zeroes(&mut ref_share);
        evidently_fill_zeroes(&mut cur_share);
    }
    EvidentlyBins {
        binning,
        reference: ref_share,
        current: cur_share,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairwise_sum_matches_plain_sum_on_exact_values() {
        let values: Vec<f64> = (0..1000).map(f64::from).collect();
        assert_eq!(pairwise_sum(&values), 499_500.0);
        assert_eq!(pairwise_sum(&values[..5]), 10.0);
        assert_eq!(pairwise_sum(&values[..100]), 4950.0);
        assert_eq!(pairwise_sum_map(&values, &|v| 2.0 * v), 999_000.0);
    }

    #[test]
    fn std_population_of_small_sample() {
        assert_eq!(
            std_population(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0]),
            2.0
        );
    }

    #[test]
    fn sturges_edges_follow_numpy() {
        // n = 8: log2(8) + 1 = 4 bins over [0, 8].
        let values = [0.0, 1.0, 2.0, 3.0, 5.0, 6.0, 7.0, 8.0];
        let edges = histogram_bin_edges(&values, BinRule::Sturges).unwrap();
        assert_eq!(edges, vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        let (counts, outside) = histogram_counts(&values, &edges);
        assert_eq!(counts, vec![2, 2, 1, 3]);
        assert_eq!(outside, 0);
        assert_eq!(histogram_counts_sorted(&values, &edges), (counts, 0));
    }

    #[test]
    fn constant_sample_is_widened() {
        let edges = histogram_bin_edges(&[3.0; 5], BinRule::Doane).unwrap();
        assert_eq!(edges, vec![2.5, 3.5]);
        let edges = histogram_bin_edges(&[3.0; 5], BinRule::Sturges).unwrap();
        assert_eq!(edges, vec![2.5, 3.5]);
    }

    #[test]
    fn edge_values_go_right_and_last_edge_is_closed() {
        let edges = [0.0, 1.0, 2.0];
        assert_eq!(bin_index(&edges, 1.0), Some(1));
        assert_eq!(bin_index(&edges, 2.0), Some(1));
        assert_eq!(bin_index(&edges, 0.0), Some(0));
        assert_eq!(bin_index(&edges, 2.5), None);
        assert_eq!(bin_index(&edges, -0.1), None);
        let sorted = [-1.0, 0.0, 0.5, 1.0, 1.0, 2.0, 3.0];
        assert_eq!(histogram_counts_sorted(&sorted, &edges), (vec![2, 3], 2));
        assert_eq!(histogram_counts(&sorted, &edges), (vec![2, 3], 2));
    }

    #[test]
    fn linear_quantile_type7() {
        let sorted = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile_linear_sorted(&sorted, 0.5), 2.5);
        assert_eq!(quantile_linear_sorted(&sorted, 0.0), 1.0);
        assert_eq!(quantile_linear_sorted(&sorted, 1.0), 4.0);
        assert!((quantile_linear_sorted(&sorted, 0.1) - 1.3).abs() < 1e-15);
        assert_eq!(quantile_linear_sorted(&[7.0], 0.3), 7.0);
    }

    #[test]
    fn sorted_finite_counts_removed_values() {
        let (sorted, n_nan, n_inf) =
            sorted_finite(&[3.0, f64::NAN, -1.0, f64::INFINITY, 0.5, f64::NEG_INFINITY]);
        assert_eq!(sorted, vec![-1.0, 0.5, 3.0]);
        assert_eq!((n_nan, n_inf), (1, 2));
    }

    #[test]
    fn key_sort_matches_comparison_sort() {
        // A deterministic mix of magnitudes, signs, zeros and infinities.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut values: Vec<f64> = (0..5000)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                let mantissa = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
                match i % 50 {
                    0 => 0.0,
                    1 => -0.0,
                    2 => f64::INFINITY,
                    3 => f64::NEG_INFINITY,
                    _ => mantissa * 10f64.powi((i % 40) - 20),
                }
            })
            .collect();
        let mut expected = values.clone();
        expected.sort_by(f64::total_cmp);
        sort_floats(&mut values);
        let same = values
            .iter()
            .zip(&expected)
            .all(|(a, b)| a.to_bits() == b.to_bits());
        assert!(same);
    }

    #[test]
    fn union_counts_merge_sorted_samples() {
        let a = [1.0, 1.0, 2.0, 5.0];
        let b = [0.0, 2.0, 2.0, 6.0];
        let (values, ca, cb) = union_value_counts_sorted(&a, &b);
        assert_eq!(values, vec![0.0, 1.0, 2.0, 5.0, 6.0]);
        assert_eq!(ca, vec![0, 2, 1, 1, 0]);
        assert_eq!(cb, vec![1, 0, 2, 0, 1]);
        assert_eq!(n_distinct_union_sorted(&a, &b), 5);
        assert_eq!(n_distinct_sorted(&a), 3);
    }

    #[test]
    fn evidently_zero_filling() {
        let mut shares = vec![0.5, 0.0, 0.5];
        evidently_fill_zeroes(&mut shares);
        assert_eq!(shares, vec![0.5, 1e-4, 0.5]);
        let mut shares = vec![0.99995, 0.00005, 0.0];
        evidently_fill_zeroes(&mut shares);
        assert_eq!(shares[2], 0.00005 / 1e6);
    }
}
