//! Vector checks: two-sample tests — Kolmogorov–Smirnov, k-sample Anderson–Darling and
//! Cramér–von Mises against scipy's numbers — plus property tests of the KS test.

use aidlc_stats::anderson::{AndersonVariant, anderson_ksamp};
use aidlc_stats::cvm::{CvmMethod, cramervonmises_2samp};
use aidlc_stats::ks::{Alternative, KsMethod, KsResult, ks_2samp, ks_2samp_sorted};
use proptest::prelude::*;

use crate::check::{self, Case, nums};

/// Reads a string parameter of a case and parses it into one of the crate's enums.
fn param<T: std::str::FromStr<Err = String>>(case: &Case, name: &str) -> T {
    let text = case.params[name]
        .as_str()
        .unwrap_or_else(|| panic!("{}: param {name} is not a string", case.name));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: param {name}: {e}", case.name))
}

#[test]
fn ks_2samp_vectors() {
    let family = check::load("ks_2samp");
    let mut report = check::Report::default();
    for case in &family.cases {
        let x = nums(&case.inputs["x"]);
        let y = nums(&case.inputs["y"]);
        let alternative: Alternative = param(case, "alternative");
        let method: KsMethod = param(case, "method");
        let r = match ks_2samp(&x, &y, alternative, method) {
            Ok(r) => r,
            Err(e) => {
                report.fail(case, format!("error {e}"));
                continue;
            }
        };
        report.float(case, "statistic", r.statistic);
        report.float(case, "pvalue", r.pvalue);
        report.float(case, "statistic_location", r.statistic_location);
        report.exact(case, "statistic_sign", r.statistic_sign);
        report.exact(case, "method_used", r.method_used);
        report.exact(case, "n_x", r.n_x);
        report.exact(case, "n_y", r.n_y);

        // The sorted entry point must agree bit for bit with the sorting one.
        let mut xs = x.clone();
        let mut ys = y.clone();
        xs.sort_by(f64::total_cmp);
        ys.sort_by(f64::total_cmp);
        match ks_2samp_sorted(&xs, &ys, alternative, method) {
            Ok(s) if same(&s, &r) => {}
            Ok(s) => report.fail(case, format!("sorted path differs: {s:?} vs {r:?}")),
            Err(e) => report.fail(case, format!("sorted path error {e}")),
        }
    }
    report.finish(&family);
}

#[test]
fn anderson_ksamp_vectors() {
    let family = check::load("anderson_ksamp");
    let mut report = check::Report::default();
    for case in &family.cases {
        let samples: Vec<Vec<f64>> = case.inputs["samples"]
            .as_array()
            .expect("samples array")
            .iter()
            .map(nums)
            .collect();
        let views: Vec<&[f64]> = samples.iter().map(Vec::as_slice).collect();
        let variant: AndersonVariant = param(case, "variant");
        let r = match anderson_ksamp(&views, variant) {
            Ok(r) => r,
            Err(e) => {
                report.fail(case, format!("error {e}"));
                continue;
            }
        };
        report.float(case, "statistic", r.statistic);
        report.float(case, "pvalue", r.pvalue);
        report.floats(case, "critical_values", &r.critical_values);
        report.floats(case, "significance_levels", &r.significance_levels);
        report.exact(case, "pvalue_capped", r.pvalue_capped);
        report.exact(case, "pvalue_floored", r.pvalue_floored);
    }
    report.finish(&family);
}

#[test]
fn cramervonmises_2samp_vectors() {
    let family = check::load("cramervonmises_2samp");
    let mut report = check::Report::default();
    for case in &family.cases {
        let x = nums(&case.inputs["x"]);
        let y = nums(&case.inputs["y"]);
        let method: CvmMethod = param(case, "method");
        let r = match cramervonmises_2samp(&x, &y, method) {
            Ok(r) => r,
            Err(e) => {
                report.fail(case, format!("error {e}"));
                continue;
            }
        };
        report.float(case, "statistic", r.statistic);
        report.float(case, "pvalue", r.pvalue);
        report.exact(case, "method_used", r.method_used);
    }
    report.finish(&family);
}

/// Equality of two results where NaN equals NaN (the Debug text of every field must agree).
fn same(a: &KsResult, b: &KsResult) -> bool {
    format!("{a:?}") == format!("{b:?}")
}

/// Samples with frequent ties (values on a coarse grid) as well as distinct values.
fn sample(max_len: usize) -> impl Strategy<Value = Vec<f64>> {
    prop_oneof![
        prop::collection::vec(-1e3f64..1e3, 1..max_len),
        prop::collection::vec((0i32..6).prop_map(f64::from), 1..max_len),
    ]
}

fn alternative() -> impl Strategy<Value = Alternative> {
    prop_oneof![
        Just(Alternative::TwoSided),
        Just(Alternative::Less),
        Just(Alternative::Greater)
    ]
}

fn method() -> impl Strategy<Value = KsMethod> {
    prop_oneof![
        Just(KsMethod::Auto),
        Just(KsMethod::Exact),
        Just(KsMethod::Asymp)
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn ks_statistic_and_pvalue_are_in_range(
        x in sample(60), y in sample(60), alt in alternative(), m in method(),
    ) {
        let r = ks_2samp(&x, &y, alt, m).unwrap();
        prop_assert!((0.0..=1.0).contains(&r.statistic), "{r:?}");
        // NaN is reserved for scipy's n_eff = 0 quirk (two single observations, asymptotic).
        if !(x.len() == 1 && y.len() == 1 && r.method_used == KsMethod::Asymp) {
            prop_assert!((0.0..=1.0).contains(&r.pvalue), "{r:?}");
        }
        prop_assert!(r.statistic_sign == 1 || r.statistic_sign == -1);
        prop_assert!(x.contains(&r.statistic_location) || y.contains(&r.statistic_location));
    }

    #[test]
    fn ks_is_invariant_to_row_order(
        x in sample(60), y in sample(60), alt in alternative(), m in method(), seed in any::<u64>(),
    ) {
        let r = ks_2samp(&x, &y, alt, m).unwrap();
        // A deterministic shuffle of both samples (a simple linear-congruential permutation).
        let shuffle = |v: &[f64], salt: u64| {
            let mut keyed: Vec<(u64, f64)> = v
                .iter()
                .enumerate()
                .map(|(i, &x)| {
                    let k = (i as u64 ^ salt).wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                    (k.rotate_left(17), x)
                })
                .collect();
            keyed.sort_by_key(|p| p.0);
            keyed.into_iter().map(|p| p.1).collect::<Vec<f64>>()
        };
        let (xs, ys) = (shuffle(&x, seed), shuffle(&y, seed.rotate_left(7)));
        let s = ks_2samp(&xs, &ys, alt, m).unwrap();
        prop_assert!(same(&r, &s), "{r:?} vs {s:?}");
    }

    #[test]
    fn two_sided_ks_is_symmetric(x in sample(60), y in sample(60), m in method()) {
        let r = ks_2samp(&x, &y, Alternative::TwoSided, m).unwrap();
        let s = ks_2samp(&y, &x, Alternative::TwoSided, m).unwrap();
        prop_assert!((r.statistic - s.statistic).abs() <= 1e-15, "{r:?} vs {s:?}");
        prop_assert!(
            (r.pvalue - s.pvalue).abs() <= 1e-12 || (r.pvalue.is_nan() && s.pvalue.is_nan()),
            "{r:?} vs {s:?}"
        );
    }

    #[test]
    fn one_sided_ks_swaps_with_the_samples(x in sample(60), y in sample(60)) {
        // max(F_x − F_y) of (x, y) is max(F_y − F_x) of (y, x).
        let greater = ks_2samp(&x, &y, Alternative::Greater, KsMethod::Asymp).unwrap();
        let less = ks_2samp(&y, &x, Alternative::Less, KsMethod::Asymp).unwrap();
        prop_assert!((greater.statistic - less.statistic).abs() <= 1e-15);
    }

    #[test]
    fn ks_of_a_sample_with_itself_is_zero(x in sample(80), m in method()) {
        let r = ks_2samp(&x, &x, Alternative::TwoSided, m).unwrap();
        prop_assert_eq!(r.statistic, 0.0);
        prop_assert!(r.pvalue == 1.0 || (x.len() == 1 && r.pvalue.is_nan()), "{r:?}");
    }
}
