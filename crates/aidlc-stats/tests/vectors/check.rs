//! The shared machinery of the vector checker: loading a family, tolerances, comparisons.

use serde_json::Value;
use std::path::PathBuf;

/// One family file (`testdata/vectors/<family>.json`).
pub struct Family {
    pub name: String,
    pub cases: Vec<Case>,
}

/// One case of a family, with its inputs, params, expected values and tolerances.
pub struct Case {
    pub name: String,
    pub inputs: Value,
    pub params: Value,
    pub expected: Value,
    pub tolerance: Value,
}

/// Collects mismatches so that a family reports all of them at once.
#[derive(Default)]
pub struct Report {
    failures: Vec<String>,
    checked: usize,
}

pub fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors")
}

pub fn load(family: &str) -> Family {
    let path = vectors_dir().join(format!("{family}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let doc: Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("cannot parse {}: {e}", path.display()));
    let cases = doc["cases"]
        .as_array()
        .expect("cases array")
        .iter()
        .map(|c| Case {
            name: c["name"].as_str().expect("case name").to_string(),
            inputs: c["inputs"].clone(),
            params: c["params"].clone(),
            expected: c["expected"].clone(),
            tolerance: c["tolerance"].clone(),
        })
        .collect();
    Family {
        name: family.to_string(),
        cases,
    }
}

/// Reads a JSON number or one of the strings "NaN", "Infinity", "-Infinity".
pub fn num(v: &Value) -> f64 {
    match v {
        Value::Number(n) => n.as_f64().expect("f64"),
        Value::String(s) if s == "NaN" => f64::NAN,
        Value::String(s) if s == "Infinity" => f64::INFINITY,
        Value::String(s) if s == "-Infinity" => f64::NEG_INFINITY,
        Value::Null => f64::NAN,
        other => panic!("not a number: {other}"),
    }
}

/// Reads an array of numbers where `null` is a missing value (NaN).
pub fn nums(v: &Value) -> Vec<f64> {
    v.as_array().expect("array").iter().map(num).collect()
}

impl Case {
    fn tol(&self, field: &str) -> (f64, f64) {
        match self.tolerance.get(field) {
            Some(Value::Object(o)) => (
                o.get("abs").map(num).unwrap_or(0.0),
                o.get("rel").map(num).unwrap_or(0.0),
            ),
            _ => (0.0, 0.0),
        }
    }

    /// The expected value at `field`; panics with the case name if absent.
    pub fn exp(&self, field: &str) -> &Value {
        self.expected
            .get(field)
            .unwrap_or_else(|| panic!("{}: no expected field {field}", self.name))
    }
}

fn close(computed: f64, expected: f64, abs: f64, rel: f64) -> bool {
    if expected.is_nan() {
        return computed.is_nan();
    }
    if expected.is_infinite() {
        return computed == expected;
    }
    (computed - expected).abs() <= abs + rel * expected.abs()
}

impl Report {
    /// Compares a float with the case's tolerance for `field` (exact when none is given).
    pub fn float(&mut self, case: &Case, field: &str, computed: f64) {
        self.float_as(case, field, field, computed)
    }

    /// Like `float`, with the tolerance taken from another key (e.g. `test_trace.statistic`).
    pub fn float_as(&mut self, case: &Case, field: &str, tol_key: &str, computed: f64) {
        self.checked += 1;
        let expected = num(case.exp(field));
        let (a, r) = case.tol(tol_key);
        if !close(computed, expected, a, r) {
            self.failures.push(format!(
                "{}: {field}: computed {computed:e}, expected {expected:e} (abs {a:e}, rel {r:e})",
                case.name
            ));
        }
    }

    /// Compares a float array element-wise with the tolerance of `field`.
    pub fn floats(&mut self, case: &Case, field: &str, computed: &[f64]) {
        self.checked += 1;
        let expected = nums(case.exp(field));
        let (a, r) = case.tol(field);
        if expected.len() != computed.len() {
            self.failures.push(format!(
                "{}: {field}: computed length {}, expected {}",
                case.name,
                computed.len(),
                expected.len()
            ));
            return;
        }
        for (i, (c, e)) in computed.iter().zip(&expected).enumerate() {
            if !close(*c, *e, a, r) {
                self.failures.push(format!(
                    "{}: {field}[{i}]: computed {c:e}, expected {e:e} (abs {a:e}, rel {r:e})",
                    case.name
                ));
            }
        }
    }

    /// Compares any value that must match exactly (integers, strings, booleans, index lists).
    pub fn exact<T: serde::Serialize>(&mut self, case: &Case, field: &str, computed: T) {
        self.checked += 1;
        let computed = serde_json::to_value(computed).expect("serializable");
        let expected = case.exp(field);
        let same = match (&computed, expected) {
            (Value::Number(a), Value::Number(b)) => a.as_f64() == b.as_f64(),
            (a, b) => a == b,
        };
        if !same {
            self.failures.push(format!(
                "{}: {field}: computed {computed}, expected {expected}",
                case.name
            ));
        }
    }

    /// Records a free-form failure (e.g. an error returned for a valid case).
    pub fn fail(&mut self, case: &Case, msg: impl std::fmt::Display) {
        self.failures.push(format!("{}: {msg}", case.name));
    }

    /// Panics with every mismatch of the family, or does nothing when all matched.
    pub fn finish(self, family: &Family) {
        assert!(self.checked > 0, "{}: nothing was checked", family.name);
        if !self.failures.is_empty() {
            panic!(
                "{}: {} of {} checks failed:\n  {}",
                family.name,
                self.failures.len(),
                self.checked,
                self.failures.join("\n  ")
            );
        }
    }
}
