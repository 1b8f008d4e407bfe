//! Vector checks of the streaming drift detectors against river 0.26.1 (`river_*.json`).
//!
//! Every case builds its detector from the case's own `params` object (the generator writes
//! every constructor argument explicitly), feeds the stream and compares the detection indices
//! and every other expected field.

use crate::check::{self, Case, Report};
use aidlc_stats::streaming::{
    Adwin, AdwinConfig, Ddm, DdmConfig, DriftDetector, Eddm, EddmConfig, HddmA, HddmAConfig, HddmW,
    HddmWConfig, Kswin, KswinConfig, Mt19937, PageHinkley, PageHinkleyConfig, PageHinkleyMode,
    detect_all,
};
use serde_json::Value;

fn param_f64(case: &Case, key: &str) -> f64 {
    check::num(
        case.params
            .get(key)
            .unwrap_or_else(|| panic!("{}: no param {key}", case.name)),
    )
}

fn param_u32(case: &Case, key: &str) -> u32 {
    case.params[key]
        .as_u64()
        .and_then(|v| u32::try_from(v).ok())
        .unwrap_or_else(|| panic!("{}: param {key} is not a small integer", case.name))
}

fn param_bool(case: &Case, key: &str) -> bool {
    case.params[key]
        .as_bool()
        .unwrap_or_else(|| panic!("{}: param {key} is not a boolean", case.name))
}

fn stream(case: &Case) -> Vec<f64> {
    check::nums(&case.inputs["stream"])
}

fn to_i64(indices: &[usize]) -> Vec<i64> {
    indices.iter().map(|&i| i as i64).collect()
}

/// Runs `detector` over the case's stream and checks the index lists the case provides.
fn check_indices<D: DriftDetector>(report: &mut Report, case: &Case, detector: &mut D) {
    let (drifts, warnings) = detect_all(detector, &stream(case));
    report.exact(case, "drift_indices", to_i64(&drifts));
    if case.expected.get("warning_indices").is_some() {
        report.exact(case, "warning_indices", to_i64(&warnings));
    }
}

#[test]
fn river_adwin() {
    let family = check::load("river_adwin");
    let mut report = Report::default();
    for case in &family.cases {
        let config = AdwinConfig {
            delta: param_f64(case, "delta"),
            clock: param_u32(case, "clock"),
            max_buckets: param_u32(case, "max_buckets") as usize,
            min_window_length: param_u32(case, "min_window_length"),
            grace_period: param_u32(case, "grace_period"),
        };
        let mut adwin = match Adwin::new(config) {
            Ok(adwin) => adwin,
            Err(e) => {
                report.fail(case, e);
                continue;
            }
        };
        check_indices(&mut report, case, &mut adwin);
        report.exact(case, "final_width", adwin.width());
        report.float(case, "final_estimation", adwin.estimation());
        report.float(case, "final_variance", adwin.variance());
        report.float(case, "final_total", adwin.total());
    }
    report.finish(&family);
}

#[test]
fn river_page_hinkley() {
    let family = check::load("river_page_hinkley");
    let mut report = Report::default();
    for case in &family.cases {
        let mode = match case.params["mode"].as_str() {
            Some("up") => PageHinkleyMode::Up,
            Some("down") => PageHinkleyMode::Down,
            Some("both") => PageHinkleyMode::Both,
            other => panic!("{}: unknown mode {other:?}", case.name),
        };
        let config = PageHinkleyConfig {
            min_instances: param_u32(case, "min_instances"),
            delta: param_f64(case, "delta"),
            threshold: param_f64(case, "threshold"),
            alpha: param_f64(case, "alpha"),
            mode,
        };
        match PageHinkley::new(config) {
            Ok(mut detector) => check_indices(&mut report, case, &mut detector),
            Err(e) => report.fail(case, e),
        }
    }
    report.finish(&family);
}

#[test]
fn river_ddm() {
    let family = check::load("river_ddm");
    let mut report = Report::default();
    for case in &family.cases {
        let config = DdmConfig {
            warm_start: param_u32(case, "warm_start"),
            warning_threshold: param_f64(case, "warning_threshold"),
            drift_threshold: param_f64(case, "drift_threshold"),
        };
        match Ddm::new(config) {
            Ok(mut detector) => check_indices(&mut report, case, &mut detector),
            Err(e) => report.fail(case, e),
        }
    }
    report.finish(&family);
}

#[test]
fn river_eddm() {
    let family = check::load("river_eddm");
    let mut report = Report::default();
    for case in &family.cases {
        let config = EddmConfig {
            warm_start: param_u32(case, "warm_start"),
            alpha: param_f64(case, "alpha"),
            beta: param_f64(case, "beta"),
        };
        match Eddm::new(config) {
            Ok(mut detector) => check_indices(&mut report, case, &mut detector),
            Err(e) => report.fail(case, e),
        }
    }
    report.finish(&family);
}

#[test]
fn river_hddm_a() {
    let family = check::load("river_hddm_a");
    let mut report = Report::default();
    for case in &family.cases {
        let config = HddmAConfig {
            drift_confidence: param_f64(case, "drift_confidence"),
            warning_confidence: param_f64(case, "warning_confidence"),
            two_sided_test: param_bool(case, "two_sided_test"),
        };
        match HddmA::new(config) {
            Ok(mut detector) => check_indices(&mut report, case, &mut detector),
            Err(e) => report.fail(case, e),
        }
    }
    report.finish(&family);
}

#[test]
fn river_hddm_w() {
    let family = check::load("river_hddm_w");
    let mut report = Report::default();
    for case in &family.cases {
        let config = HddmWConfig {
            drift_confidence: param_f64(case, "drift_confidence"),
            warning_confidence: param_f64(case, "warning_confidence"),
            lambda_val: param_f64(case, "lambda_val"),
            two_sided_test: param_bool(case, "two_sided_test"),
        };
        match HddmW::new(config) {
            Ok(mut detector) => check_indices(&mut report, case, &mut detector),
            Err(e) => report.fail(case, e),
        }
    }
    report.finish(&family);
}

#[test]
fn river_kswin() {
    let family = check::load("river_kswin");
    let mut report = Report::default();
    for case in &family.cases {
        let seed = case.params["seed"].as_u64();
        let window = case.params["window"]
            .as_array()
            .map(|_| check::nums(&case.params["window"]));
        let config = KswinConfig {
            alpha: param_f64(case, "alpha"),
            window_size: param_u32(case, "window_size") as usize,
            stat_size: param_u32(case, "stat_size") as usize,
            seed,
            window,
        };

        // The generator on its own: the first draw after seeding.
        let mut rng = Mt19937::from_seed(seed.unwrap_or(0));
        let first_draw = rng.sample(config.window_size - config.stat_size, config.stat_size);
        let rng_case = sub_case(case, "rng_check", &case.expected["rng_check"]);
        report.exact(&rng_case, "first_sample_call", first_draw);

        let mut kswin = match Kswin::new(config) {
            Ok(kswin) => kswin,
            Err(e) => {
                report.fail(case, e);
                continue;
            }
        };
        let expected_trace = case.exp("test_trace").as_array().expect("test_trace array");
        let mut drifts = Vec::new();
        let mut performed = 0usize;
        for (index, x) in stream(case).into_iter().enumerate() {
            kswin.update(x);
            if kswin.drift_detected() {
                drifts.push(index);
            }
            let Some(test) = kswin.last_test() else {
                continue;
            };
            performed += 1;
            let Some(expected) = expected_trace.get(performed - 1) else {
                continue;
            };
            let entry = sub_case(case, &format!("test_trace[{}]", performed - 1), expected);
            report.exact(&entry, "index", index);
            report.exact(&entry, "sample_indices", &test.sample_indices);
            report.float_as(&entry, "statistic", "test_trace.statistic", test.statistic);
            report.float_as(&entry, "pvalue", "test_trace.pvalue", test.pvalue);
            report.exact(&entry, "drift", kswin.drift_detected());
        }
        if performed != expected_trace.len() {
            report.fail(
                case,
                format!(
                    "{performed} KS tests performed, expected {}",
                    expected_trace.len()
                ),
            );
        }
        report.exact(case, "drift_indices", to_i64(&drifts));
    }
    report.finish(&family);
}

/// A view of a nested expected object as a case of its own, so that its fields can be compared
/// with the parent case's tolerances (e.g. `test_trace.statistic`).
fn sub_case(parent: &Case, label: &str, expected: &Value) -> Case {
    Case {
        name: format!("{} {label}", parent.name),
        inputs: Value::Null,
        params: Value::Null,
        expected: expected.clone(),
        tolerance: parent.tolerance.clone(),
    }
}
