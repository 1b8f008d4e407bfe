//! Two-sample Cramér–von Mises test, reproducing scipy 1.17 `cramervonmises_2samp`: the
//! statistic T from mid-ranks, the exact permutation p-value for small samples and the
//! asymptotic p-value from the limiting (infinite-sample) Cramér–von Mises distribution.
//!
//! Inputs must be free of NaN (callers strip missing values first); NaN is rejected with
//! [`CvmError::ContainsNan`].

use serde::{Deserialize, Serialize};
use std::f64::consts::PI;
use std::fmt;
use std::str::FromStr;

/// How the p-value is computed. `Auto` is exact when max(n, m) <= 20, asymptotic otherwise.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CvmMethod {
    Auto,
    Exact,
    Asymptotic,
}

impl FromStr for CvmMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(CvmMethod::Auto),
            "exact" => Ok(CvmMethod::Exact),
            "asymptotic" | "asymp" => Ok(CvmMethod::Asymptotic),
            other => Err(format!(
                "unknown Cramér–von Mises method {other:?} (auto, exact, asymptotic)"
            )),
        }
    }
}

/// scipy's `auto` rule: exact p-values while the larger sample has at most this many values.
pub const MAX_AUTO_EXACT_N: usize = 20;

/// The outcome of the two-sample Cramér–von Mises test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CvmResult {
    /// T = U/(nm(n+m)) − (4nm − 1)/(6(n+m)) (Anderson 1962, eq. 9).
    pub statistic: f64,
    pub pvalue: f64,
    /// `Exact` or `Asymptotic`.
    pub method_used: CvmMethod,
}

/// Invalid input for the Cramér–von Mises test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CvmError {
    /// Each sample needs at least two observations.
    TooFewObservations,
    /// A sample contains NaN; callers must remove missing values first.
    ContainsNan,
}

impl fmt::Display for CvmError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CvmError::TooFewObservations => {
                f.write_str("Cramér–von Mises test needs at least two observations per sample")
            }
            CvmError::ContainsNan => {
                f.write_str("Cramér–von Mises input contains NaN; remove missing values first")
            }
        }
    }
}

impl std::error::Error for CvmError {}

/// Two-sample Cramér–von Mises test on NaN-free samples.
pub fn cramervonmises_2samp(
    x: &[f64],
    y: &[f64],
    method: CvmMethod,
) -> Result<CvmResult, CvmError> {
    if x.len() <= 1 || y.len() <= 1 {
        return Err(CvmError::TooFewObservations);
    }
    if x.iter().chain(y).any(|v| v.is_nan()) {
        return Err(CvmError::ContainsNan);
    }
    let mut xs = x.to_vec();
    let mut ys = y.to_vec();
    xs.sort_unstable_by(f64::total_cmp);
    ys.sort_unstable_by(f64::total_cmp);
    let (nx, ny) = (xs.len(), ys.len());
    let method = match method {
        CvmMethod::Auto if nx.max(ny) > MAX_AUTO_EXACT_N => CvmMethod::Asymptotic,
        CvmMethod::Auto => CvmMethod::Exact,
        other => other,
    };

    let u = rank_sum_u(&xs, &ys);
    let (nxf, nyf) = (nx as f64, ny as f64);
    let k = nxf * nyf;
    let big_n = nxf + nyf;
    let statistic = u / (k * big_n) - (4.0 * k - 1.0) / (6.0 * big_n);

    let pvalue = match method {
        CvmMethod::Exact => exact_pvalue(u, nx as u64, ny as u64),
        _ => {
            // Mean and variance of T (Anderson 1962, eqs. 11 and 14), then the normalised
            // statistic of eq. 15, referred to the limiting one-sample distribution.
            let et = (1.0 + 1.0 / big_n) / 6.0;
            let vt = (big_n + 1.0) * (4.0 * k * big_n - 3.0 * (nxf * nxf + nyf * nyf) - 2.0 * k)
                / (45.0 * big_n * big_n * 4.0 * k);
            let tn = 1.0 / 6.0 + (statistic - et) / (45.0 * vt).sqrt();
            // Below 0.003 the limiting cdf is under 1.3e-18, so the p-value is 1.
            if tn < 0.003 {
                1.0
            } else {
                (1.0 - cdf_cvm_inf(tn)).max(0.0)
            }
        }
    };
    Ok(CvmResult {
        statistic,
        pvalue,
        method_used: method,
    })
}

/// U = n Σ (r_i − i)² + m Σ (s_j − j)² (Anderson 1962, eq. 10), where r and s are the mid-ranks of
/// the sorted x and y values in the pooled sample. With at most half-integral mid-ranks every
/// term is a multiple of 1/4, so U is exact in floating point for any realistic size.
fn rank_sum_u(xs: &[f64], ys: &[f64]) -> f64 {
    let (nx, ny) = (xs.len(), ys.len());
    let (mut i, mut j) = (0usize, 0usize);
    let (mut sum_x, mut sum_y) = (0.0f64, 0.0f64);
    while i < nx || j < ny {
        let t = if j == ny || (i < nx && xs[i] <= ys[j]) {
            xs[i]
        } else {
            ys[j]
        };
        let (i0, j0) = (i, j);
        while i < nx && xs[i] <= t {
            i += 1;
        }
        while j < ny && ys[j] <= t {
            j += 1;
        }
        // Pooled positions i0 + j0 + 1 ..= i + j share the average rank.
        let mid_rank = (i0 + j0 + 1 + i + j) as f64 / 2.0;
        for idx in i0..i {
            let dev = mid_rank - (idx + 1) as f64;
            sum_x += dev * dev;
        }
        for idx in j0..j {
            let dev = mid_rank - (idx + 1) as f64;
            sum_y += dev * dev;
        }
    }
    nx as f64 * sum_x + ny as f64 * sum_y
}

/// Exact p-value P(U' >= U) over all C(n+m, n) equally likely interleavings (Xiao, Gordon &
/// Yakovlev 2006, Algorithm 1).
///
/// With l = lcm(n, m), a = l/n and b = l/m, an interleaving is a lattice path and its statistic
/// is a monotone function of Σ (a·v − b·u)² over the visited points (u y-values and v x-values
/// so far). The distribution of that sum is built point by point as sorted (value, count) lists.
/// The observed U is mapped to the same scale with scipy's floor division (so half-integral
/// mid-rank statistics are rounded down exactly as the reference does).
fn exact_pvalue(u: f64, m: u64, n: u64) -> f64 {
    let g = gcd(m, n);
    let lcm = m / g * n;
    let a = lcm / m;
    let b = lcm / n;
    let mn = m * n;
    let zeta = py_floor_div(
        (lcm * lcm) as f64 * (m + n) as f64 * (6.0 * u - (mn * (4 * mn - 1)) as f64),
        (6 * mn * mn) as f64,
    );

    // gs[v] is the distribution at (current u, v): sorted (value, count) pairs. Counts are kept
    // as f64: exact below 2^53 (every case with n + m <= 54), and relatively accurate beyond.
    let m_us = m as usize;
    let mut gs: Vec<Vec<(u64, f64)>> = vec![Vec::new(); m_us + 1];
    gs[0].push((0, 1.0));
    let mut next: Vec<Vec<(u64, f64)>> = vec![Vec::new(); m_us + 1];
    for uu in 0..=n {
        for v in 0..=m_us {
            // next[v − 1] is the point to the left (same u), gs[v] the point below (u − 1).
            let (done, rest) = next.split_at_mut(v);
            let out = &mut rest[0];
            out.clear();
            let left: &[(u64, f64)] = if v == 0 { &[] } else { &done[v - 1] };
            merge_distributions(left, &gs[v], out);
            let diff = (a * v as u64) as i64 - (b * uu) as i64;
            let add = (diff * diff) as u64;
            for entry in out.iter_mut() {
                entry.0 += add;
            }
        }
        std::mem::swap(&mut gs, &mut next);
    }
    let total = binomial(m + n, m);
    let tail: f64 = gs[m_us]
        .iter()
        .filter(|(value, _)| *value as f64 >= zeta)
        .map(|(_, c)| c)
        .sum();
    tail / total
}

fn merge_distributions(p: &[(u64, f64)], q: &[(u64, f64)], out: &mut Vec<(u64, f64)>) {
    let (mut i, mut j) = (0, 0);
    while i < p.len() && j < q.len() {
        match p[i].0.cmp(&q[j].0) {
            std::cmp::Ordering::Less => {
                out.push(p[i]);
                i += 1;
            }
            std::cmp::Ordering::Greater => {
                out.push(q[j]);
                j += 1;
            }
            std::cmp::Ordering::Equal => {
                out.push((p[i].0, p[i].1 + q[j].1));
                i += 1;
                j += 1;
            }
        }
    }
    out.extend_from_slice(&p[i..]);
    out.extend_from_slice(&q[j..]);
}

/// Python's float floor division `a // b`: the floor of the exact quotient, computed through the
/// exact remainder so that a quotient just below an integer is not rounded up to it.
fn py_floor_div(a: f64, b: f64) -> f64 {
    let rem = a % b;
    let mut div = (a - rem) / b;
    if rem != 0.0 && ((b < 0.0) != (rem < 0.0)) {
        div -= 1.0;
    }
    let floor = div.floor();
    if div - floor > 0.5 {
        floor + 1.0
    } else {
        floor
    }
}

fn gcd(mut a: u64, mut b: u64) -> u64 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// C(n, k) as a float, by the multiplicative formula (exact while it fits in 53 bits).
fn binomial(n: u64, k: u64) -> f64 {
    let k = k.min(n - k);
    let mut c = 1.0f64;
    for i in 1..=k {
        c = c * (n - k + i) as f64 / i as f64;
    }
    c.round()
}

/// CDF of the limiting Cramér–von Mises distribution (Csörgő & Faraway 1996, eq. 1.3):
/// Σ_k Γ(k + ½)/(Γ(½) k!) · √(4k+1) · e^{−q_k} K_{1/4}(q_k) / (π √x), q_k = (4k+1)²/(16x),
/// written as in scipy with Γ(k + ½)/Γ(k + 1)/(π^{3/2} √x). Terms are added until one is below
/// 1e-7 in magnitude (that term included), the same truncation scipy uses.
fn cdf_cvm_inf(x: f64) -> f64 {
    let mut total = 0.0;
    // Γ(k + ½)/Γ(k + 1), starting from Γ(½)/Γ(1) = √π.
    let mut gamma_ratio = PI.sqrt();
    let prefactor = 1.0 / (PI.powf(1.5) * x.sqrt());
    let mut k = 0u32;
    loop {
        let y = (4 * k + 1) as f64;
        let q = y * y / (16.0 * x);
        let term = gamma_ratio * prefactor * y.sqrt() * (-2.0 * q).exp() * scaled_bessel_k(0.25, q);
        total += term;
        if term.abs() < 1e-7 {
            break;
        }
        gamma_ratio *= (k as f64 + 0.5) / (k as f64 + 1.0);
        k += 1;
    }
    total
}

/// e^q · K_ν(q) for q > 0, from K_ν(q) = ∫_0^∞ exp(−q cosh t) cosh(νt) dt.
///
/// The integrand exp(−q(cosh t − 1)) cosh(νt) is analytic and decays double-exponentially, so
/// the trapezoidal rule converges geometrically in the step; a step resolving the peak width
/// 1/√q gives full double precision.
fn scaled_bessel_k(nu: f64, q: f64) -> f64 {
    let step = (0.25 / q.sqrt()).min(0.1);
    let integrand = |t: f64| (-q * (t.cosh() - 1.0)).exp() * (nu * t).cosh();
    let mut sum = 0.5 * integrand(0.0);
    let mut i = 1u32;
    loop {
        let f = integrand(i as f64 * step);
        sum += f;
        if f < 1e-18 * sum {
            break;
        }
        i += 1;
    }
    sum * step
}

#[cfg(test)]
mod tests {
    use super::*;

    /// K_{1/4} by the independent route π/(2 sin(π/4)) · (I_{−1/4}(x) − I_{1/4}(x)), with the
    /// power series of I_ν (accurate for moderate x).
    fn bessel_k_quarter_by_series(x: f64) -> f64 {
        fn bessel_i(nu: f64, x: f64, gamma_nu_plus_1: f64) -> f64 {
            let half = x / 2.0;
            let mut term = half.powf(nu) / gamma_nu_plus_1;
            let mut sum = term;
            for k in 1..200 {
                let kf = k as f64;
                term *= half * half / (kf * (kf + nu));
                sum += term;
                if term < 1e-18 * sum {
                    break;
                }
            }
            sum
        }
        // Γ(5/4) = Γ(1/4)/4 and Γ(3/4), from their known decimal expansions.
        let gamma_quarter = 3.625_609_908_221_908;
        let gamma_three_quarters = 1.225_416_702_465_177_6;
        let i_pos = bessel_i(0.25, x, gamma_quarter / 4.0);
        let i_neg = bessel_i(-0.25, x, gamma_three_quarters);
        PI / (2.0 * (PI / 4.0).sin()) * (i_neg - i_pos)
    }

    #[test]
    fn bessel_k_matches_series() {
        for &x in &[0.01, 0.1, 0.5, 1.0, 2.0, 5.0] {
            let k = scaled_bessel_k(0.25, x) * (-x).exp();
            let reference = bessel_k_quarter_by_series(x);
            assert!(
                (k - reference).abs() <= 1e-12 * reference,
                "x={x}: {k} vs {reference}"
            );
        }
    }

    #[test]
    fn limiting_cdf_is_a_distribution_function() {
        let mut last = 0.0;
        for i in 1..200 {
            let c = cdf_cvm_inf(i as f64 * 0.01);
            assert!(
                c >= last - 1e-12 && c <= 1.0 + 1e-9,
                "cdf at {}: {c}",
                i as f64 * 0.01
            );
            last = c;
        }
        assert!(last > 0.9999);
    }

    #[test]
    fn exact_pvalue_is_one_at_the_minimum() {
        // The smallest possible U (perfectly interleaved samples) has p-value 1.
        let x = [1.0, 3.0, 5.0];
        let y = [2.0, 4.0, 6.0];
        let r = cramervonmises_2samp(&x, &y, CvmMethod::Exact).unwrap();
        assert!((r.pvalue - 1.0).abs() < 1e-15, "{r:?}");
    }

    #[test]
    fn python_floor_division() {
        assert_eq!(py_floor_div(7.0, 2.0), 3.0);
        assert_eq!(py_floor_div(-7.0, 2.0), -4.0);
        assert_eq!(py_floor_div(6.0, 2.0), 3.0);
        assert_eq!(py_floor_div(-0.5, 6.0), -1.0);
    }
}
