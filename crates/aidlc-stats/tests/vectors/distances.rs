//! Vector checks: distances and categorical tests — Wasserstein, PSI, Jensen–Shannon,
//! chi-square (contingency and goodness of fit), Hellinger / L-infinity, the NaN convention and
//! Evidently's automatic per-column choice — plus property tests of the distances.

use aidlc_stats::binning::sorted_copy;
use aidlc_stats::categorical::{
    self, CategoryCounts, chi2_contingency, chisquare_gof, frequencies, hellinger, l_infinity,
};
use aidlc_stats::drift::{
    CategoricalReference, ColumnDriftResult, DriftMethod, DriftStatus, NumericReference,
};
use aidlc_stats::jensen_shannon::{
    js_distance, js_divergence, js_evidently, js_nannyml_continuous,
};
use aidlc_stats::psi::{PsiReference, psi_evidently, psi_with_epsilon};
use aidlc_stats::wasserstein::{
    wasserstein_distance, wasserstein_distance_weighted, wasserstein_normed,
};
use proptest::prelude::*;
use serde_json::Value;

use crate::check::{self, Case, Report, nums};

/// Reads a JSON array of strings.
fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

/// Reads a JSON array of non-negative integer counts.
fn counts(v: &Value) -> Vec<u64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_u64().expect("count"))
        .collect()
}

/// Reads a JSON object of category → count.
fn count_map(v: &Value) -> CategoryCounts {
    v.as_object()
        .expect("object")
        .iter()
        .map(|(k, n)| (k.clone(), n.as_u64().expect("count")))
        .collect()
}

/// Reads a JSON array of labels where `null` is a missing label (numbers become their text).
fn labels(v: &Value) -> Vec<Option<String>> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| match x {
            Value::Null => None,
            Value::String(s) => Some(s.clone()),
            other => Some(other.to_string()),
        })
        .collect()
}

/// A view of `case` whose only expected field is `field` (with its own tolerance), so nested
/// arrays such as the rows of `expected_freq` can be compared with the shared checker.
fn sub_case(case: &Case, field: &str, expected: Value, tolerance: Value) -> Case {
    Case {
        name: case.name.clone(),
        inputs: Value::Null,
        params: Value::Null,
        expected: serde_json::json!({ field: expected }),
        tolerance: serde_json::json!({ field: tolerance }),
    }
}

/// Records an error result as a failure and returns `None`.
fn ok_or_fail<T, E: std::fmt::Display>(
    report: &mut Report,
    case: &Case,
    r: Result<T, E>,
) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            report.fail(case, format!("unexpected error: {e}"));
            None
        }
    }
}

#[test]
fn wasserstein_vectors() {
    let family = check::load("wasserstein");
    let mut report = Report::default();
    for case in &family.cases {
        let u = nums(&case.inputs["u_values"]);
        let v = nums(&case.inputs["v_values"]);
        if let Some(u_weights) = case.inputs.get("u_weights") {
            let uw = nums(u_weights);
            let vw = nums(&case.inputs["v_weights"]);
            if let Some(d) = ok_or_fail(
                &mut report,
                case,
                wasserstein_distance_weighted(&u, &v, &uw, &vw),
            ) {
                report.float(case, "distance", d);
            }
        } else if let Some(r) = ok_or_fail(&mut report, case, wasserstein_normed(&u, &v)) {
            report.float(case, "distance", r.distance);
            report.float(case, "reference_std_ddof0", r.reference_std);
            report.float(case, "evidently_normed", r.normed);
            // The sorted entry point and the drift profile must agree with the plain one.
            let reference = NumericReference::fit("x", &u);
            let d = reference.compare(&v, DriftMethod::Wasserstein, None);
            report.float(case, "distance", d.statistic.unwrap_or(f64::NAN));
            let d = reference.compare(&v, DriftMethod::WassersteinNormed, None);
            report.float(case, "evidently_normed", d.statistic.unwrap_or(f64::NAN));
        }
    }
    report.finish(&family);
}

#[test]
fn psi_vectors() {
    let family = check::load("psi");
    let mut report = Report::default();
    for case in &family.cases {
        let reference = nums(&case.inputs["reference"]);
        let current = nums(&case.inputs["current"]);
        if case.params["convention"] == "aidlc" {
            let epsilon = check::num(&case.params["epsilon"]);
            let Some(r) = ok_or_fail(
                &mut report,
                case,
                psi_with_epsilon(&reference, &current, epsilon),
            ) else {
                continue;
            };
            report.floats(case, "inner_edges", &r.inner_edges);
            report.exact(case, "reference_counts", &r.reference_counts);
            report.exact(case, "current_counts", &r.current_counts);
            report.floats(case, "reference_proba_eps", &r.reference_proportions);
            report.floats(case, "current_proba_eps", &r.current_proportions);
            report.floats(case, "psi_terms", &r.terms);
            report.float(case, "psi", r.psi);
            report.exact(case, "band", r.band.as_str());
            // The fitted reference with sorted data must give the same numbers.
            let fitted = PsiReference::fit(&reference)
                .and_then(|p| p.compare_sorted(&sorted_copy(&current), epsilon));
            if let Some(s) = ok_or_fail(&mut report, case, fitted) {
                report.exact(case, "current_counts", &s.current_counts);
                report.float(case, "psi", s.psi);
            }
            let profile = NumericReference::fit("x", &reference);
            let d = profile.compare(&current, DriftMethod::Psi, None);
            report.float(case, "psi", d.statistic.unwrap_or(f64::NAN));
            report.exact(case, "band", d.psi_band.map(|b| b.as_str()));
        } else {
            let Some(r) = ok_or_fail(&mut report, case, psi_evidently(&reference, &current)) else {
                continue;
            };
            match &r.binning {
                aidlc_stats::binning::EvidentlyBinning::SturgesCombined { edges } => {
                    report.floats(case, "bin_edges", edges)
                }
                other => report.fail(case, format!("expected Sturges binning, got {other:?}")),
            }
            // The shares have no tolerance entry (informative); they are checked tightly anyway.
            let tight = serde_json::json!({"abs": 1e-12, "rel": 1e-12});
            for (field, computed) in [
                ("reference_proba_eps", &r.reference_proportions),
                ("current_proba_eps", &r.current_proportions),
            ] {
                let sub = sub_case(case, field, case.exp(field).clone(), tight.clone());
                report.floats(&sub, field, computed);
            }
            report.float(case, "psi", r.psi);
            report.float_as(case, "evidently_drift_score", "psi", r.psi);
            let threshold = check::num(case.exp("evidently_threshold"));
            report.exact(case, "evidently_drifted", r.psi >= threshold);
            let profile = NumericReference::fit("x", &reference);
            let d = profile.compare(&current, DriftMethod::PsiEvidently, None);
            report.float_as(
                case,
                "evidently_drift_score",
                "psi",
                d.statistic.unwrap_or(f64::NAN),
            );
            report.float(case, "evidently_threshold", d.threshold);
            report.exact(case, "evidently_drifted", d.drifted);
        }
    }
    report.finish(&family);
}

#[test]
fn jensen_shannon_vectors() {
    let family = check::load("jensen_shannon");
    let mut report = Report::default();
    for case in &family.cases {
        if case.name.starts_with("hist_") {
            let p = nums(&case.inputs["p"]);
            let q = nums(&case.inputs["q"]);
            if let Some(d) = ok_or_fail(&mut report, case, js_distance(&p, &q, None)) {
                report.float(case, "js_distance_base_e", d);
            }
            if let Some(d) = ok_or_fail(&mut report, case, js_distance(&p, &q, Some(2.0))) {
                report.float(case, "js_distance_base_2", d);
            }
            if let Some(d) = ok_or_fail(&mut report, case, js_divergence(&p, &q, Some(2.0))) {
                report.float(case, "js_divergence_base_2", d);
            }
            continue;
        }
        let reference = nums(&case.inputs["reference"]);
        let current = nums(&case.inputs["current"]);
        let profile = NumericReference::fit("x", &reference);
        let (result, method) = if case.params["binning"] == "doane_on_reference" {
            (
                js_nannyml_continuous(&reference, &current),
                DriftMethod::JensenShannonNannyml,
            )
        } else {
            (
                js_evidently(&reference, &current),
                DriftMethod::JensenShannon,
            )
        };
        let Some(r) = ok_or_fail(&mut report, case, result) else {
            continue;
        };
        report.floats(case, "bin_edges", &r.bin_edges);
        report.floats(case, "reference_proba", &r.reference_proportions);
        report.floats(case, "current_proba", &r.current_proportions);
        if case.expected.get("n_current_outside_edges").is_some() {
            report.exact(case, "n_current_outside_edges", r.n_current_outside_edges);
        }
        report.float(case, "js_distance", r.distance);
        let d = profile.compare(&current, method, None);
        report.float(case, "js_distance", d.statistic.unwrap_or(f64::NAN));
    }
    report.finish(&family);
}

#[test]
fn chi2_contingency_vectors() {
    let family = check::load("chi2_contingency");
    let mut report = Report::default();
    for case in &family.cases {
        let categories = strings(&case.inputs["categories"]);
        let reference = counts(&case.inputs["reference_counts"]);
        let current = counts(&case.inputs["current_counts"]);
        let correction = case.params["correction"].as_bool().unwrap_or(true);
        let Some(r) = ok_or_fail(
            &mut report,
            case,
            chi2_contingency(&categories, &reference, &current, correction),
        ) else {
            continue;
        };
        report.float(case, "statistic", r.statistic);
        report.float(case, "pvalue", r.p_value);
        report.exact(case, "dof", r.dof);
        let expected_rows = case.exp("expected_freq").as_array().expect("rows").clone();
        if expected_rows.len() != r.expected_freq.len() {
            report.fail(case, "expected_freq: wrong number of rows");
        }
        for (row, (computed, expected)) in r.expected_freq.iter().zip(&expected_rows).enumerate() {
            let field = format!("expected_freq[{row}]");
            let sub = sub_case(
                case,
                &field,
                expected.clone(),
                case.tolerance["expected_freq"].clone(),
            );
            report.floats(&sub, &field, computed);
        }
        report.exact(case, "categories_used", &r.categories_used);
        report.exact(
            case,
            "categories_dropped_all_zero",
            &r.categories_dropped_all_zero,
        );
        report.exact(case, "yates_applied", r.yates_applied);
        // The categorical drift profile runs the same test from raw labels.
        if correction {
            let reference_map: CategoryCounts = categories
                .iter()
                .cloned()
                .zip(reference.iter().copied())
                .filter(|(_, n)| *n > 0)
                .collect();
            let current_map: CategoryCounts = categories
                .iter()
                .cloned()
                .zip(current.iter().copied())
                .filter(|(_, n)| *n > 0)
                .collect();
            let profile = CategoricalReference::from_counts("c", reference_map, 0);
            let d = profile.compare_counts(&current_map, 0, DriftMethod::Chi2, None);
            report.float(case, "pvalue", d.p_value.unwrap_or(f64::NAN));
            report.float(case, "statistic", d.statistic.unwrap_or(f64::NAN));
        }
    }
    report.finish(&family);
}

#[test]
fn chisquare_gof_vectors() {
    let family = check::load("chisquare_gof");
    let mut report = Report::default();
    for case in &family.cases {
        let reference = counts(&case.inputs["reference_counts"]);
        let current = counts(&case.inputs["current_counts"]);
        let Some(r) = ok_or_fail(&mut report, case, chisquare_gof(&reference, &current)) else {
            continue;
        };
        report.float(case, "statistic", r.statistic);
        report.float(case, "pvalue", r.p_value);
        report.floats(case, "f_exp", &r.f_exp);
    }
    report.finish(&family);
}

#[test]
fn hellinger_linf_vectors() {
    let family = check::load("hellinger_linf");
    let mut report = Report::default();
    for case in &family.cases {
        let reference = count_map(&case.inputs["reference_counts"]);
        let current = count_map(&case.inputs["current_counts"]);
        let Some(f) = ok_or_fail(&mut report, case, frequencies(&reference, &current)) else {
            continue;
        };
        report.exact(case, "categories_sorted", &f.categories);
        report.floats(case, "reference_freq", &f.reference);
        report.floats(case, "current_freq", &f.current);
        if let Some(h) = ok_or_fail(&mut report, case, hellinger(&f.reference, &f.current)) {
            report.float(
                case,
                "bhattacharyya_coefficient",
                h.bhattacharyya_coefficient,
            );
            report.float(case, "hellinger", h.hellinger);
            report.float(case, "hellinger_l2_form", h.hellinger_l2_form);
        }
        if let Some(l) = ok_or_fail(&mut report, case, l_infinity(&f.reference, &f.current)) {
            report.float(case, "l_infinity", l.distance);
            report.exact(
                case,
                "l_infinity_argmax_category",
                l.argmax.map(|i| f.categories[i].clone()),
            );
        }
        let profile = CategoricalReference::from_counts("c", reference.clone(), 0);
        let d = profile.compare_counts(&current, 0, DriftMethod::Hellinger, None);
        report.float(case, "hellinger", d.statistic.unwrap_or(f64::NAN));
        let d = profile.compare_counts(&current, 0, DriftMethod::LInfinity, None);
        report.float(case, "l_infinity", d.statistic.unwrap_or(f64::NAN));
    }
    report.finish(&family);
}

/// Checks the per-side counts every NaN case reports.
fn check_nan_counts(report: &mut Report, case: &Case, r: &ColumnDriftResult) {
    report.exact(case, "n_reference", r.n_reference);
    report.exact(case, "n_current", r.n_current);
    report.exact(case, "n_nan_reference", r.n_nan_reference);
    report.exact(case, "n_nan_current", r.n_nan_current);
    if case.expected.get("n_valid_reference").is_some() {
        report.exact(case, "n_valid_reference", r.n_valid_reference);
        report.exact(case, "n_valid_current", r.n_valid_current);
    }
}

#[test]
fn nan_handling_vectors() {
    let family = check::load("nan_handling");
    let mut report = Report::default();
    for case in &family.cases {
        if case.name.starts_with("categorical") {
            let reference_labels = labels(&case.inputs["reference"]);
            let current_labels = labels(&case.inputs["current"]);
            let profile = CategoricalReference::fit("c", &reference_labels);
            let chi2 = profile.compare(&current_labels, DriftMethod::Chi2, None);
            check_nan_counts(&mut report, case, &chi2);
            report.float(case, "chi2_statistic", chi2.statistic.unwrap_or(f64::NAN));
            report.float(case, "chi2_pvalue", chi2.p_value.unwrap_or(f64::NAN));
            let (current_counts, _) = categorical::count_categories(&current_labels);
            if let Some(f) = ok_or_fail(
                &mut report,
                case,
                frequencies(&profile.counts, &current_counts),
            ) {
                report.exact(case, "categories", &f.categories);
                report.exact(case, "reference_counts", &f.reference_counts);
                report.exact(case, "current_counts", &f.current_counts);
            }
            report.exact(case, "chi2_dof", chi2.dof);
            let linf = profile.compare(&current_labels, DriftMethod::LInfinity, None);
            report.float(case, "l_infinity", linf.statistic.unwrap_or(f64::NAN));
            let js = profile.compare(&current_labels, DriftMethod::JensenShannonNannyml, None);
            report.float(
                case,
                "js_distance_base2_union",
                js.statistic.unwrap_or(f64::NAN),
            );
            continue;
        }
        let reference = nums(&case.inputs["reference"]);
        let current = nums(&case.inputs["current"]);
        let profile = NumericReference::fit("x", &reference);
        let ks = profile.compare(&current, DriftMethod::Ks, None);
        check_nan_counts(&mut report, case, &ks);
        if case.expected.get("result").is_some() {
            report.exact(case, "result", ks.status.as_str());
            continue;
        }
        if ks.status != DriftStatus::Ok {
            report.fail(case, format!("status {}", ks.status.as_str()));
        }
        report.float(case, "ks_statistic", ks.statistic.unwrap_or(f64::NAN));
        report.float(case, "ks_pvalue", ks.p_value.unwrap_or(f64::NAN));
        report.exact(case, "ks_method_used", ks.detail.as_deref().unwrap_or(""));
        let w = profile.compare(&current, DriftMethod::Wasserstein, None);
        report.float(case, "wasserstein", w.statistic.unwrap_or(f64::NAN));
        let js = profile.compare(&current, DriftMethod::JensenShannonNannyml, None);
        report.float(
            case,
            "js_nannyml_doane_base2",
            js.statistic.unwrap_or(f64::NAN),
        );
        let psi = profile.compare(&current, DriftMethod::Psi, None);
        report.float(case, "psi_aidlc", psi.statistic.unwrap_or(f64::NAN));
    }
    report.finish(&family);
}

#[test]
fn evidently_default_column_drift_vectors() {
    let family = check::load("evidently_default_column_drift");
    let mut report = Report::default();
    for case in &family.cases {
        let result = if case.params["column_type"] == "cat" {
            let profile = CategoricalReference::fit("c", &labels(&case.inputs["reference"]));
            profile.compare_auto(&labels(&case.inputs["current"]))
        } else {
            let profile = NumericReference::fit("x", &nums(&case.inputs["reference"]));
            profile.compare_auto(&nums(&case.inputs["current"]))
        };
        report.exact(case, "method", result.method.evidently_name());
        report.float(case, "drift_score", result.drift_score.unwrap_or(f64::NAN));
        report.float(case, "threshold", result.threshold);
        report.exact(case, "drifted", result.drifted);
        report.exact(case, "n_unique_combined", result.n_unique_combined);
    }
    report.finish(&family);
}

/// Finite samples of 1 to 200 values.
fn sample_strategy() -> impl Strategy<Value = Vec<f64>> {
    prop::collection::vec(-1e3f64..1e3, 1..200)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn psi_of_a_sample_with_itself_is_zero(x in sample_strategy()) {
        let r = psi_with_epsilon(&x, &x, 1e-4).unwrap();
        prop_assert_eq!(r.psi, 0.0);
    }

    #[test]
    fn js_is_symmetric_and_bounded_in_base_2(
        pairs in prop::collection::vec((0.0f64..100.0, 0.0f64..100.0), 1..30)
    ) {
        let p: Vec<f64> = pairs.iter().map(|w| w.0 + 1e-3).collect();
        let q: Vec<f64> = pairs.iter().map(|w| w.1).collect();
        prop_assume!(q.iter().sum::<f64>() > 0.0);
        let pq = js_distance(&p, &q, Some(2.0)).unwrap();
        let qp = js_distance(&q, &p, Some(2.0)).unwrap();
        prop_assert!((pq - qp).abs() <= 1e-12);
        prop_assert!((0.0..=1.0 + 1e-12).contains(&pq));
    }

    #[test]
    fn hellinger_is_within_unit_interval(
        pairs in prop::collection::vec((0u64..50, 0u64..50), 1..20)
    ) {
        let reference: CategoryCounts =
            pairs.iter().enumerate().map(|(i, w)| (format!("k{i}"), w.0 + 1)).collect();
        let current: CategoryCounts =
            pairs.iter().enumerate().filter(|(_, w)| w.1 > 0).map(|(i, w)| (format!("k{i}"), w.1)).collect();
        prop_assume!(!current.is_empty());
        let f = frequencies(&reference, &current).unwrap();
        let h = hellinger(&f.reference, &f.current).unwrap();
        prop_assert!((0.0..=1.0).contains(&h.hellinger));
        prop_assert!((h.hellinger - h.hellinger_l2_form).abs() < 1e-7);
    }

    #[test]
    fn wasserstein_is_symmetric_and_order_invariant(x in sample_strategy(), y in sample_strategy()) {
        let xy = wasserstein_distance(&x, &y).unwrap();
        let yx = wasserstein_distance(&y, &x).unwrap();
        prop_assert!((xy - yx).abs() <= 1e-9 * xy.abs().max(1.0));
        let mut reversed = x.clone();
        reversed.reverse();
        let rotated: Vec<f64> = y.iter().cycle().skip(y.len() / 2).take(y.len()).copied().collect();
        let permuted = wasserstein_distance(&reversed, &rotated).unwrap();
        prop_assert!((xy - permuted).abs() <= 1e-9 * xy.abs().max(1.0));
    }
}
