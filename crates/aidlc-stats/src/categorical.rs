//! Drift statistics on category counts: chi-square test of homogeneity (2×K contingency, as
//! scipy/NannyML), Evidently's chi-square goodness of fit and pooled two-proportion z-test,
//! Hellinger distance (Bhattacharyya and L2 forms), L-infinity distance with its arg-max
//! category, and frequencies over the union of categories.
//!
//! Categories are strings; a category present on one side only is kept with a zero count on
//! the other side. Counts are `u64`.

use std::collections::BTreeMap;

use crate::binning::InputError;
use crate::special::{chi2_sf, normal_sf};

/// Counts per category, ordered by category name.
pub type CategoryCounts = BTreeMap<String, u64>;

/// Both sides' counts and frequencies over the sorted union of their categories.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CategoryFrequencies {
    pub categories: Vec<String>,
    pub reference_counts: Vec<u64>,
    pub current_counts: Vec<u64>,
    /// reference count / reference total (0 for categories the reference lacks).
    pub reference: Vec<f64>,
    /// current count / current total (0 for categories the current sample lacks).
    pub current: Vec<f64>,
}

/// Aligns two count maps over the sorted union of their categories and divides each side by its
/// own total. Fails when a side has no observations.
pub fn frequencies(
    reference: &CategoryCounts,
    current: &CategoryCounts,
) -> Result<CategoryFrequencies, InputError> {
    let mut union: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    for (category, &count) in reference {
        union.entry(category.as_str()).or_default().0 += count;
    }
    for (category, &count) in current {
        union.entry(category.as_str()).or_default().1 += count;
    }
    let categories: Vec<String> = union.keys().map(|c| c.to_string()).collect();
    let reference_counts: Vec<u64> = union.values().map(|c| c.0).collect();
    let current_counts: Vec<u64> = union.values().map(|c| c.1).collect();
    let reference = shares(&reference_counts, "reference")?;
    let current = shares(&current_counts, "current")?;
    Ok(CategoryFrequencies {
        categories,
        reference_counts,
        current_counts,
        reference,
        current,
    })
}

/// count / total for each entry; fails on a zero total.
pub fn shares(counts: &[u64], what: &'static str) -> Result<Vec<f64>, InputError> {
    let total: u64 = counts.iter().sum();
    if total == 0 {
        return Err(InputError::Empty { what });
    }
    Ok(counts.iter().map(|&c| c as f64 / total as f64).collect())
}

/// Counts the labels of a column, skipping missing ones; returns the counts and the number of
/// missing labels.
pub fn count_categories<S: AsRef<str>>(labels: &[Option<S>]) -> (CategoryCounts, u64) {
    let mut counts = CategoryCounts::new();
    let mut missing = 0u64;
    for label in labels {
        match label {
            Some(label) => *counts.entry(label.as_ref().to_string()).or_default() += 1,
            None => missing += 1,
        }
    }
    (counts, missing)
}

fn check_aligned(reference: &[u64], current: &[u64]) -> Result<(), InputError> {
    if reference.len() != current.len() {
        return Err(InputError::LengthMismatch {
            what: "reference and current counts",
            left: reference.len(),
            right: current.len(),
        });
    }
    if reference.is_empty() {
        return Err(InputError::Empty { what: "categories" });
    }
    Ok(())
}

/// Result of the 2×K chi-square test of homogeneity.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ContingencyResult {
    pub statistic: f64,
    pub p_value: f64,
    pub dof: usize,
    /// Expected counts, rows [reference, current], over `categories_used`.
    pub expected_freq: Vec<Vec<f64>>,
    /// Categories kept (those with a non-zero count on at least one side).
    pub categories_used: Vec<String>,
    /// Categories dropped because both sides count zero (scipy would reject the table).
    pub categories_dropped_all_zero: Vec<String>,
    /// Whether Yates' continuity correction was applied (only for a 2×2 table).
    pub yates_applied: bool,
}

/// Chi-square test of homogeneity of the 2×K table [reference counts; current counts]
/// (scipy's `chi2_contingency`, NannyML's `chi2`).
///
/// Columns that are zero on both sides are dropped first. With `correction`, Yates' correction
/// is applied only when dof = 1, moving each observed cell toward its expected value by at most
/// 0.5 and never past it. A single remaining category gives statistic 0 and p-value 1.
pub fn chi2_contingency<S: AsRef<str>>(
    categories: &[S],
    reference_counts: &[u64],
    current_counts: &[u64],
    correction: bool,
) -> Result<ContingencyResult, InputError> {
    check_aligned(reference_counts, current_counts)?;
    if categories.len() != reference_counts.len() {
        return Err(InputError::LengthMismatch {
            what: "categories and counts",
            left: categories.len(),
            right: reference_counts.len(),
        });
    }
    let mut categories_used = Vec::new();
    let mut categories_dropped_all_zero = Vec::new();
    let mut table: [Vec<f64>; 2] = [Vec::new(), Vec::new()];
    for ((category, &r), &c) in categories.iter().zip(reference_counts).zip(current_counts) {
        if r == 0 && c == 0 {
            categories_dropped_all_zero.push(category.as_ref().to_string());
        } else {
            categories_used.push(category.as_ref().to_string());
            table[0].push(r as f64);
            table[1].push(c as f64);
        }
    }
    let row_totals = [table[0].iter().sum::<f64>(), table[1].iter().sum::<f64>()];
    if row_totals[0] == 0.0 {
        return Err(InputError::Empty {
            what: "reference counts",
        });
    }
    if row_totals[1] == 0.0 {
        return Err(InputError::Empty {
            what: "current counts",
        });
    }
    let total = row_totals[0] + row_totals[1];
    let k = categories_used.len();
    let column_totals: Vec<f64> = (0..k).map(|j| table[0][j] + table[1][j]).collect();
    // scipy multiplies the margins before dividing by the grand total.
    let expected_freq: Vec<Vec<f64>> = row_totals
        .iter()
        .map(|&row| column_totals.iter().map(|&col| row * col / total).collect())
        .collect();
    let dof = k - 1;
    if dof == 0 {
        return Ok(ContingencyResult {
            statistic: 0.0,
            p_value: 1.0,
            dof,
            expected_freq,
            categories_used,
            categories_dropped_all_zero,
            yates_applied: false,
        });
    }
    let yates_applied = correction && dof == 1;
    let mut statistic = 0.0;
    for (observed_row, expected_row) in table.iter().zip(&expected_freq) {
        for (&observed, &expected) in observed_row.iter().zip(expected_row) {
            let observed = if yates_applied {
                let diff = expected - observed;
                observed + diff.abs().min(0.5).copysign(diff)
            } else {
                observed
            };
            statistic += (observed - expected) * (observed - expected) / expected;
        }
    }
    Ok(ContingencyResult {
        statistic,
        p_value: chi2_sf(statistic, dof as f64),
        dof,
        expected_freq,
        categories_used,
        categories_dropped_all_zero,
        yates_applied,
    })
}

/// Result of Evidently's chi-square goodness-of-fit test.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct GofResult {
    pub statistic: f64,
    pub p_value: f64,
    pub dof: usize,
    /// Expected current counts: reference counts × (n_current / n_reference).
    pub f_exp: Vec<f64>,
}

/// Evidently's `chisquare`: current counts against the reference counts scaled to the current
/// total, p-value from χ² with K − 1 degrees of freedom (scipy's `chisquare`).
///
/// A category absent from the reference but present in the current sample makes the statistic
/// infinite (p = 0); a single category leaves no degree of freedom and gives a NaN p-value, as
/// scipy does (Evidently then reports no drift).
pub fn chisquare_gof(
    reference_counts: &[u64],
    current_counts: &[u64],
) -> Result<GofResult, InputError> {
    check_aligned(reference_counts, current_counts)?;
    let n_reference: u64 = reference_counts.iter().sum();
    let n_current: u64 = current_counts.iter().sum();
    if n_reference == 0 {
        return Err(InputError::Empty {
            what: "reference counts",
        });
    }
    if n_current == 0 {
        return Err(InputError::Empty {
            what: "current counts",
        });
    }
    let scale = n_current as f64 / n_reference as f64;
    let f_exp: Vec<f64> = reference_counts.iter().map(|&r| r as f64 * scale).collect();
    let mut statistic = 0.0;
    for (&observed, &expected) in current_counts.iter().zip(&f_exp) {
        let observed = observed as f64;
        if expected == 0.0 && observed == 0.0 {
            // A category seen on neither side carries no information.
            continue;
        }
        statistic += (observed - expected) * (observed - expected) / expected;
    }
    let observed_categories = reference_counts
        .iter()
        .zip(current_counts)
        .filter(|&(&r, &c)| r > 0 || c > 0)
        .count();
    let dof = observed_categories - 1;
    let p_value = if dof == 0 {
        f64::NAN
    } else {
        chi2_sf(statistic, dof as f64)
    };
    Ok(GofResult {
        statistic,
        p_value,
        dof,
        f_exp,
    })
}

/// Result of the pooled two-proportion z-test.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ZTestResult {
    /// (p_ref − p_cur) / sqrt(P(1 − P)(1/n_ref + 1/n_cur)) with P the pooled proportion.
    pub z: f64,
    /// Two-sided p-value 2·(1 − Φ(|z|)).
    pub p_value: f64,
}

/// Pooled two-proportion z-test of `reference_events` of `n_reference` against
/// `current_events` of `n_current`.
///
/// When both sides are entirely events or entirely non-events there is nothing to compare and
/// the p-value is 1 (Evidently's rule for a column holding one and the same value on both sides).
pub fn two_proportion_z_test(
    reference_events: u64,
    n_reference: u64,
    current_events: u64,
    n_current: u64,
) -> Result<ZTestResult, InputError> {
    if n_reference == 0 {
        return Err(InputError::Empty { what: "reference" });
    }
    if n_current == 0 {
        return Err(InputError::Empty { what: "current" });
    }
    if reference_events > n_reference || current_events > n_current {
        return Err(InputError::Invalid {
            what: "more events than observations".into(),
        });
    }
    let (n1, n2) = (n_reference as f64, n_current as f64);
    let p1 = reference_events as f64 / n1;
    let p2 = current_events as f64 / n2;
    let pooled = (p1 * n1 + p2 * n2) / (n1 + n2);
    if pooled == 0.0 || pooled == 1.0 {
        return Ok(ZTestResult {
            z: 0.0,
            p_value: 1.0,
        });
    }
    let z = (p1 - p2) / (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    Ok(ZTestResult {
        z,
        p_value: 2.0 * normal_sf(z.abs()),
    })
}

/// Evidently's `z` test on counts aligned over the sorted categories: the event is "not the
/// first category" (Evidently's indicator), compared between reference and current.
pub fn z_test_first_category(
    reference_counts: &[u64],
    current_counts: &[u64],
) -> Result<ZTestResult, InputError> {
    check_aligned(reference_counts, current_counts)?;
    let n_reference: u64 = reference_counts.iter().sum();
    let n_current: u64 = current_counts.iter().sum();
    two_proportion_z_test(
        n_reference.saturating_sub(reference_counts[0]),
        n_reference,
        n_current.saturating_sub(current_counts[0]),
        n_current,
    )
}

/// Hellinger distance in both of its usual forms.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct HellingerResult {
    /// BC = Σ sqrt(p·q), clipped to [0, 1].
    pub bhattacharyya_coefficient: f64,
    /// sqrt(1 − BC) (Evidently form).
    pub hellinger: f64,
    /// ‖√p − √q‖₂ / √2 (NannyML form); equal to `hellinger` in exact arithmetic.
    pub hellinger_l2_form: f64,
}

fn check_frequencies(p: &[f64], q: &[f64]) -> Result<(), InputError> {
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
    if p.iter().chain(q).any(|x| !x.is_finite() || *x < 0.0) {
        return Err(InputError::Invalid {
            what: "frequencies must be finite and >= 0".into(),
        });
    }
    Ok(())
}

/// Hellinger distance between two frequency vectors (each summing to 1) aligned over the same
/// categories or bins.
pub fn hellinger(p: &[f64], q: &[f64]) -> Result<HellingerResult, InputError> {
    check_frequencies(p, q)?;
    let mut bc = 0.0;
    let mut squares = 0.0;
    for (&a, &b) in p.iter().zip(q) {
        bc += (a * b).sqrt();
        let d = a.sqrt() - b.sqrt();
        squares += d * d;
    }
    let bhattacharyya_coefficient = bc.clamp(0.0, 1.0);
    Ok(HellingerResult {
        bhattacharyya_coefficient,
        hellinger: (1.0 - bhattacharyya_coefficient).sqrt(),
        hellinger_l2_form: squares.sqrt() / std::f64::consts::SQRT_2,
    })
}

/// L-infinity distance max |p − q| and the index where it is reached.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LInfinityResult {
    pub distance: f64,
    /// Index of the category with the largest difference; `None` when several tie.
    pub argmax: Option<usize>,
}

/// L-infinity distance between two frequency vectors (NannyML, Vertex AI, SageMaker form).
pub fn l_infinity(p: &[f64], q: &[f64]) -> Result<LInfinityResult, InputError> {
    check_frequencies(p, q)?;
    let mut distance = f64::NEG_INFINITY;
    let mut argmax = None;
    for (i, (&a, &b)) in p.iter().zip(q).enumerate() {
        let d = (a - b).abs();
        if d > distance {
            distance = d;
            argmax = Some(i);
        } else if d == distance {
            argmax = None;
        }
    }
    Ok(LInfinityResult { distance, argmax })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(pairs: &[(&str, u64)]) -> CategoryCounts {
        pairs.iter().map(|&(c, n)| (c.to_string(), n)).collect()
    }

    #[test]
    fn union_of_categories() {
        let f = frequencies(
            &counts(&[("a", 6), ("b", 4)]),
            &counts(&[("a", 5), ("x", 5)]),
        )
        .unwrap();
        assert_eq!(f.categories, vec!["a", "b", "x"]);
        assert_eq!(f.reference, vec![0.6, 0.4, 0.0]);
        assert_eq!(f.current, vec![0.5, 0.0, 0.5]);
        assert!(frequencies(&counts(&[]), &counts(&[("a", 1)])).is_err());
    }

    #[test]
    fn yates_is_clamped_at_the_expected_value() {
        let r = chi2_contingency(&["a", "b"], &[10, 11], &[11, 10], true).unwrap();
        assert_eq!(r.statistic, 0.0);
        assert_eq!(r.p_value, 1.0);
        assert!(r.yates_applied);
    }

    #[test]
    fn all_zero_columns_are_dropped() {
        let r = chi2_contingency(&["a", "ghost", "b"], &[5, 0, 5], &[4, 0, 6], false).unwrap();
        assert_eq!(r.categories_dropped_all_zero, vec!["ghost"]);
        assert_eq!(r.dof, 1);
        assert!(!r.yates_applied);
    }

    #[test]
    fn single_category_has_no_dof() {
        let r = chi2_contingency(&["a"], &[5], &[4], true).unwrap();
        assert_eq!((r.statistic, r.p_value, r.dof), (0.0, 1.0, 0));
    }

    #[test]
    fn gof_with_new_category_is_infinite() {
        let r = chisquare_gof(&[10, 0], &[5, 5]).unwrap();
        assert_eq!(r.statistic, f64::INFINITY);
        assert_eq!(r.p_value, 0.0);
    }

    #[test]
    fn z_test_symmetric_and_degenerate() {
        let a = two_proportion_z_test(30, 100, 45, 100).unwrap();
        let b = two_proportion_z_test(45, 100, 30, 100).unwrap();
        assert_eq!(a.p_value, b.p_value);
        assert_eq!(a.z, -b.z);
        assert_eq!(two_proportion_z_test(0, 10, 0, 20).unwrap().p_value, 1.0);
    }

    #[test]
    fn l_infinity_ties_have_no_argmax() {
        let r = l_infinity(&[0.5, 0.5], &[0.25, 0.75]).unwrap();
        assert_eq!(r.distance, 0.25);
        assert_eq!(r.argmax, None);
        let r = l_infinity(&[0.5, 0.3, 0.2], &[0.45, 0.32, 0.23]).unwrap();
        assert_eq!(r.argmax, Some(0));
    }

    #[test]
    fn hellinger_of_disjoint_is_one() {
        let r = hellinger(&[0.5, 0.5, 0.0], &[0.0, 0.0, 1.0]).unwrap();
        assert_eq!(r.hellinger, 1.0);
        assert!((r.hellinger_l2_form - 1.0).abs() < 1e-15);
    }
}
