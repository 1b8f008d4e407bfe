//! k-sample Anderson–Darling test (Scholz & Stephens 1987), reproducing scipy 1.17
//! `anderson_ksamp`: the standardised statistic, the seven tabulated critical values and the
//! interpolated p-value, capped at 0.25 and floored at 0.001.
//!
//! Inputs must be free of NaN (callers strip missing values first); NaN is rejected with
//! [`AndersonError::ContainsNan`].

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How ties enter the statistic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AndersonVariant {
    /// Scholz & Stephens' A²_akN, built on mid-ranks; valid with ties (scipy's default).
    Midrank,
    /// A²_kN with right-continuous empirical distribution functions.
    Right,
}

impl FromStr for AndersonVariant {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "midrank" => Ok(AndersonVariant::Midrank),
            "right" => Ok(AndersonVariant::Right),
            other => Err(format!(
                "unknown Anderson–Darling variant {other:?} (midrank, right)"
            )),
        }
    }
}

/// Significance levels of the tabulated critical values, in the order scipy reports them.
pub const SIGNIFICANCE_LEVELS: [f64; 7] = [0.25, 0.1, 0.05, 0.025, 0.01, 0.005, 0.001];

/// Interpolation coefficients b0, b1, b2 of Scholz & Stephens (1987), Table 2: the critical value
/// for m = k − 1 degrees of freedom is b0 + b1/√m + b2/m.
const B0: [f64; 7] = [0.675, 1.281, 1.645, 1.96, 2.326, 2.573, 3.085];
const B1: [f64; 7] = [-0.245, 0.25, 0.678, 1.149, 1.822, 2.364, 3.615];
const B2: [f64; 7] = [-0.105, -0.305, -0.362, -0.391, -0.396, -0.345, -0.154];

/// The outcome of the k-sample Anderson–Darling test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AndersonResult {
    /// The standardised statistic (A² − (k − 1)) / σ.
    pub statistic: f64,
    /// Critical values at [`SIGNIFICANCE_LEVELS`].
    pub critical_values: Vec<f64>,
    pub significance_levels: Vec<f64>,
    /// Approximate p-value from the quadratic fit of log(significance) on the critical values.
    pub pvalue: f64,
    /// The statistic is below every critical value: the true p-value is larger than 0.25.
    pub pvalue_capped: bool,
    /// The statistic is above every critical value: the true p-value is smaller than 0.001.
    pub pvalue_floored: bool,
}

/// Invalid input for the Anderson–Darling test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AndersonError {
    /// Fewer than two samples were given.
    TooFewSamples,
    /// A sample has no observations.
    EmptySample,
    /// All pooled observations are equal, so there is nothing to compare.
    SingleDistinctValue,
    /// Fewer than four pooled observations: the variance of the statistic is undefined.
    TooFewObservations,
    /// A sample contains NaN; callers must remove missing values first.
    ContainsNan,
}

impl fmt::Display for AndersonError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let msg = match self {
            AndersonError::TooFewSamples => {
                "Anderson–Darling k-sample test needs at least two samples"
            }
            AndersonError::EmptySample => {
                "Anderson–Darling k-sample test got a sample without observations"
            }
            AndersonError::SingleDistinctValue => {
                "Anderson–Darling k-sample test needs more than one distinct value"
            }
            AndersonError::TooFewObservations => {
                "Anderson–Darling k-sample test needs at least four observations in total"
            }
            AndersonError::ContainsNan => {
                "Anderson–Darling input contains NaN; remove missing values first"
            }
        };
        f.write_str(msg)
    }
}

impl std::error::Error for AndersonError {}

/// k-sample Anderson–Darling test on NaN-free samples.
pub fn anderson_ksamp(
    samples: &[&[f64]],
    variant: AndersonVariant,
) -> Result<AndersonResult, AndersonError> {
    let k = samples.len();
    if k < 2 {
        return Err(AndersonError::TooFewSamples);
    }
    if samples.iter().any(|s| s.is_empty()) {
        return Err(AndersonError::EmptySample);
    }
    if samples.iter().any(|s| s.iter().any(|v| v.is_nan())) {
        return Err(AndersonError::ContainsNan);
    }
    let sorted: Vec<Vec<f64>> = samples
        .iter()
        .map(|s| {
            let mut v = s.to_vec();
            v.sort_unstable_by(f64::total_cmp);
            v
        })
        .collect();
    let mut pooled: Vec<f64> = sorted.iter().flatten().copied().collect();
    pooled.sort_unstable_by(f64::total_cmp);
    let total = pooled.len();

    // Distinct pooled values with their multiplicities l_j.
    let mut distinct: Vec<(f64, usize)> = Vec::new();
    for &v in &pooled {
        match distinct.last_mut() {
            Some((last, count)) if *last == v => *count += 1,
            _ => distinct.push((v, 1)),
        }
    }
    if distinct.len() < 2 {
        return Err(AndersonError::SingleDistinctValue);
    }
    if total < 4 {
        return Err(AndersonError::TooFewObservations);
    }

    let a2 = match variant {
        AndersonVariant::Midrank => a2_midrank(&sorted, &distinct, total),
        AndersonVariant::Right => a2_right(&sorted, &distinct, total),
    };
    let sizes: Vec<f64> = sorted.iter().map(|s| s.len() as f64).collect();
    let sigma2 = statistic_variance(&sizes, total);
    let m = (k - 1) as f64;
    let statistic = (a2 - m) / sigma2.sqrt();

    let critical_values: Vec<f64> = (0..7)
        .map(|i| B0[i] + B1[i] / m.sqrt() + B2[i] / m)
        .collect();
    let cmin = critical_values
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min);
    let cmax = critical_values
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max);
    let (pvalue, pvalue_capped, pvalue_floored) = if statistic < cmin {
        (0.25, true, false)
    } else if statistic > cmax {
        (0.001, false, true)
    } else {
        let log_sig: Vec<f64> = SIGNIFICANCE_LEVELS.iter().map(|s| s.ln()).collect();
        let [c2, c1, c0] = quadratic_least_squares(&critical_values, &log_sig);
        (
            (c2 * statistic * statistic + c1 * statistic + c0).exp(),
            false,
            false,
        )
    };
    Ok(AndersonResult {
        statistic,
        critical_values,
        significance_levels: SIGNIFICANCE_LEVELS.to_vec(),
        pvalue,
        pvalue_capped,
        pvalue_floored,
    })
}

/// For each sorted sample, the number of its values equal to each distinct pooled value
/// (one merge per sample).
fn counts_at_distinct(sample: &[f64], distinct: &[(f64, usize)]) -> Vec<usize> {
    let mut out = Vec::with_capacity(distinct.len());
    let mut pos = 0;
    for &(z, _) in distinct {
        let start = pos;
        while pos < sample.len() && sample[pos] <= z {
            pos += 1;
        }
        out.push(pos - start);
    }
    out
}

/// A²_akN (Scholz & Stephens eq. 7): mid-rank empirical distribution functions, summed over all
/// distinct values, times (N − 1)/N.
fn a2_midrank(sorted: &[Vec<f64>], distinct: &[(f64, usize)], total: usize) -> f64 {
    let nf = total as f64;
    let mut a2 = 0.0;
    for sample in sorted {
        let ni = sample.len() as f64;
        let f = counts_at_distinct(sample, distinct);
        let mut below_pooled = 0usize;
        let mut upto_sample = 0usize;
        let mut inner_sum = 0.0;
        for (&(_, lj), &fij) in distinct.iter().zip(&f) {
            upto_sample += fij;
            let lj_f = lj as f64;
            // B_j: pooled mid-rank count; M_ij: the sample's mid-rank count.
            let bj = below_pooled as f64 + lj_f / 2.0;
            let mij = upto_sample as f64 - fij as f64 / 2.0;
            let num = nf * mij - bj * ni;
            inner_sum += lj_f / nf * num * num / (bj * (nf - bj) - nf * lj_f / 4.0);
            below_pooled += lj;
        }
        a2 += inner_sum / ni;
    }
    a2 * (nf - 1.0) / nf
}

/// A²_kN (Scholz & Stephens eq. 6): right-continuous empirical distribution functions, summed
/// over all distinct values but the largest (where B_j = N and the term is 0/0).
fn a2_right(sorted: &[Vec<f64>], distinct: &[(f64, usize)], total: usize) -> f64 {
    let nf = total as f64;
    let inner_distinct = &distinct[..distinct.len() - 1];
    let mut a2 = 0.0;
    for sample in sorted {
        let ni = sample.len() as f64;
        let f = counts_at_distinct(sample, inner_distinct);
        let mut upto_pooled = 0usize;
        let mut upto_sample = 0usize;
        let mut inner_sum = 0.0;
        for (&(_, lj), &fij) in inner_distinct.iter().zip(&f) {
            upto_pooled += lj;
            upto_sample += fij;
            let bj = upto_pooled as f64;
            let num = nf * upto_sample as f64 - bj * ni;
            inner_sum += lj as f64 / nf * num * num / (bj * (nf - bj));
        }
        a2 += inner_sum / ni;
    }
    a2
}

/// Variance of A²_kN under the null (Scholz & Stephens eq. 4), from the sample sizes alone.
fn statistic_variance(sizes: &[f64], total: usize) -> f64 {
    let k = sizes.len() as f64;
    let nf = total as f64;
    let big_h: f64 = sizes.iter().map(|n| 1.0 / n).sum();
    // h = Σ_{i=1}^{N−1} 1/i and g = Σ_{i=1}^{N−2} Σ_{j=i+1}^{N−1} 1/((N − i) j), accumulated the
    // way scipy does: running sums of 1/(N−1), 1/(N−2), …, 1/2 divided by 2, 3, …, N − 1.
    let mut running = 0.0;
    let mut g = 0.0;
    for (idx, denom) in (2..total).rev().enumerate() {
        running += 1.0 / denom as f64;
        g += running / (idx + 2) as f64;
    }
    let h = running + 1.0;
    let a = (4.0 * g - 6.0) * (k - 1.0) + (10.0 - 6.0 * g) * big_h;
    let b = (2.0 * g - 4.0) * k * k + 8.0 * h * k + (2.0 * g - 14.0 * h - 4.0) * big_h - 8.0 * h
        + 4.0 * g
        - 6.0;
    let c = (6.0 * h + 2.0 * g - 2.0) * k * k
        + (4.0 * h - 4.0 * g + 6.0) * k
        + (2.0 * h - 6.0) * big_h
        + 4.0 * h;
    let d = (2.0 * h + 6.0) * k * k - 4.0 * h * k;
    (a * nf.powi(3) + b * nf.powi(2) + c * nf + d) / ((nf - 1.0) * (nf - 2.0) * (nf - 3.0))
}

/// Least-squares quadratic through (x_i, y_i): returns [c2, c1, c0] for c2·x² + c1·x + c0.
///
/// Solved by Householder QR of the column-scaled Vandermonde matrix, which stays accurate where
/// the normal equations would square the condition number.
fn quadratic_least_squares(x: &[f64], y: &[f64]) -> [f64; 3] {
    let rows = x.len();
    // Column-major Vandermonde matrix [x², x, 1], each column scaled to unit norm.
    let mut cols: [Vec<f64>; 3] = [
        x.iter().map(|xi| xi * xi).collect(),
        x.to_vec(),
        vec![1.0; rows],
    ];
    let mut scale = [0.0f64; 3];
    for (col, s) in cols.iter_mut().zip(scale.iter_mut()) {
        *s = col.iter().map(|v| v * v).sum::<f64>().sqrt();
        col.iter_mut().for_each(|v| *v /= *s);
    }
    let mut rhs = y.to_vec();
    // Householder reflections I − 2vvᵀ/(vᵀv) applied to the trailing rows of every column.
    let reflect = |v: &[f64], vnorm2: f64, target: &mut [f64]| {
        let dot: f64 = v.iter().zip(target.iter()).map(|(a, b)| a * b).sum();
        let f = 2.0 * dot / vnorm2;
        target.iter_mut().zip(v).for_each(|(t, vi)| *t -= f * vi);
    };
    for c in 0..3 {
        let norm = cols[c][c..].iter().map(|v| v * v).sum::<f64>().sqrt();
        let alpha = if cols[c][c] > 0.0 { -norm } else { norm };
        let mut v: Vec<f64> = cols[c][c..].to_vec();
        v[0] -= alpha;
        let vnorm2: f64 = v.iter().map(|t| t * t).sum();
        if vnorm2 == 0.0 {
            continue;
        }
        for col in cols[c..].iter_mut() {
            reflect(&v, vnorm2, &mut col[c..]);
        }
        reflect(&v, vnorm2, &mut rhs[c..]);
    }
    // Back substitution with the upper-triangular R (entry (r, c) is cols[c][r]).
    let mut coef = [0.0f64; 3];
    for r in (0..3).rev() {
        let s: f64 = ((r + 1)..3).map(|c| cols[c][r] * coef[c]).sum();
        coef[r] = (rhs[r] - s) / cols[r][r];
    }
    [coef[0] / scale[0], coef[1] / scale[1], coef[2] / scale[2]]
}
