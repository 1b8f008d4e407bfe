//! `[evaluate]`: how aidlc evaluates a model on held-out rows — the slices, the bootstrap, the
//! robustness checks — and `[evaluate.gates]`, the rules a model must pass, written as
//! `<metric path> <op> <rhs>` (`roc_auc >= baseline + 0.05`, `p99_latency_ms <= constraints`).
//!
//! Metric paths name numbers an evaluation report holds:
//!
//! | path | meaning |
//! |---|---|
//! | `roc_auc`, `log_loss`, `rmse`, … | a model metric ([`Metric`]) on all held-out rows |
//! | `ece` | expected calibration error (10 equal-width bins; multiclass: of the top class) |
//! | `worst_slice.<metric>` | the metric on the worst slice with enough rows |
//! | `p50_latency_ms`, `p99_latency_ms` | single-row prediction latency |
//! | `model_size_mb` | the model artifact, in megabytes of 1,000,000 bytes |
//! | `value_per_1k` | business value per 1,000 predictions at the operating threshold (0.5) |
//! | `best_value_per_1k` | the same at the value-maximising threshold (binary only) |
//! | `robustness.<perturbation>.<metric>` | the primary metric on perturbed rows |
//! | `robustness.<perturbation>.<metric>_drop` | how much worse it got (positive = worse) |
//! | `robustness.max_drop` | the largest drop over every perturbation |
//!
//! The right-hand side is a number, `baseline` or `champion` (that model's value of the same
//! path) optionally `+ number` or `- number`, or `constraints` (the matching `[constraints]`
//! budget: `p99_latency_ms` ↔ `p99_latency_ms`, `model_size_mb` ↔ `max_model_size_mb`).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::diagnostic::{DiagnosticCode, Severity};
use super::reader::{ReadSection, Reader, Section};
use super::validate::Findings;
use super::{Keyword, Metric, ProblemSpec, Task};
use crate::expr::{Expr, ExprError};

/// Resamples of the bootstrap when `[evaluate] bootstrap` is not written.
pub const DEFAULT_BOOTSTRAP: usize = 1000;
/// Quantile bins of a numeric slice column when `[evaluate] slice_bins` is not written.
pub const DEFAULT_SLICE_BINS: usize = 4;
/// Rows a slice needs before it can be the worst slice, when `min_slice_rows` is not written.
pub const DEFAULT_MIN_SLICE_ROWS: usize = 30;

keyword_enum! {
    /// A perturbation of the held-out rows in the robustness check.
    Perturbation {
        /// Gaussian noise of 0.1 × each numeric feature's standard deviation.
        Noise01 => "noise_0.1",
        /// Gaussian noise of 0.5 × each numeric feature's standard deviation.
        Noise05 => "noise_0.5",
        /// Gaussian noise of 1.0 × each numeric feature's standard deviation.
        Noise10 => "noise_1.0",
        /// 10% of every feature's values replaced by a missing value.
        Missing01 => "missing_0.1",
        /// 30% of every feature's values replaced by a missing value.
        Missing03 => "missing_0.3",
        /// 10% of every categorical feature's values replaced by another seen category.
        Swap01 => "swap_0.1",
        /// 30% of every categorical feature's values replaced by another seen category.
        Swap03 => "swap_0.3",
    }
}

/// What a perturbation does, with its size.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PerturbationKind {
    /// Noise with this fraction of each numeric feature's standard deviation.
    Noise(f64),
    /// This share of values made missing.
    Missing(f64),
    /// This share of categorical values swapped for another category.
    Swap(f64),
}

impl Perturbation {
    /// What the perturbation does.
    pub fn kind(self) -> PerturbationKind {
        match self {
            Perturbation::Noise01 => PerturbationKind::Noise(0.1),
            Perturbation::Noise05 => PerturbationKind::Noise(0.5),
            Perturbation::Noise10 => PerturbationKind::Noise(1.0),
            Perturbation::Missing01 => PerturbationKind::Missing(0.1),
            Perturbation::Missing03 => PerturbationKind::Missing(0.3),
            Perturbation::Swap01 => PerturbationKind::Swap(0.1),
            Perturbation::Swap03 => PerturbationKind::Swap(0.3),
        }
    }
}

/// A number an evaluation report holds, named in a gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GatePath {
    /// A model metric on all held-out rows.
    Metric(Metric),
    /// Expected calibration error.
    Ece,
    /// The metric on the worst slice with enough rows.
    WorstSlice(Metric),
    /// Median single-row latency in milliseconds.
    P50LatencyMs,
    /// 99th-percentile single-row latency in milliseconds.
    P99LatencyMs,
    /// Model size in megabytes (1,000,000 bytes).
    ModelSizeMb,
    /// Business value per 1,000 predictions at the operating threshold.
    ValuePer1k,
    /// Business value per 1,000 predictions at the value-maximising threshold.
    BestValuePer1k,
    /// The primary metric under a perturbation, or its drop when `drop`.
    Robustness {
        perturbation: Perturbation,
        metric: Metric,
        drop: bool,
    },
    /// The largest drop of the primary metric over every perturbation.
    RobustnessMaxDrop,
}

const PATH_EXPECTED: &str = "a metric (such as roc_auc or rmse), ece, worst_slice.<metric>, \
     p50_latency_ms, p99_latency_ms, model_size_mb, value_per_1k, best_value_per_1k, \
     robustness.<perturbation>.<metric>, robustness.<perturbation>.<metric>_drop or \
     robustness.max_drop";

impl GatePath {
    /// Whether a larger value is better, which decides what "worse" means in messages.
    pub fn higher_is_better(self) -> bool {
        match self {
            GatePath::Metric(m) | GatePath::WorstSlice(m) => m.higher_is_better(),
            GatePath::Robustness {
                metric,
                drop: false,
                ..
            } => metric.higher_is_better(),
            GatePath::ValuePer1k | GatePath::BestValuePer1k => true,
            GatePath::Ece
            | GatePath::P50LatencyMs
            | GatePath::P99LatencyMs
            | GatePath::ModelSizeMb
            | GatePath::Robustness { drop: true, .. }
            | GatePath::RobustnessMaxDrop => false,
        }
    }

    /// Whether `baseline` and `champion` have a value for the path too. Latency, size and
    /// robustness are measured for the candidate only.
    pub fn compares_models(self) -> bool {
        !matches!(
            self,
            GatePath::P50LatencyMs
                | GatePath::P99LatencyMs
                | GatePath::ModelSizeMb
                | GatePath::Robustness { .. }
                | GatePath::RobustnessMaxDrop
        )
    }
}

impl FromStr for GatePath {
    type Err = String;

    fn from_str(text: &str) -> Result<GatePath, String> {
        let text = text.trim();
        let metric = |name: &str| Metric::from_keyword(name);
        let unknown = || format!("unknown metric path `{text}`: expected {PATH_EXPECTED}");
        let path = match text {
            "ece" => GatePath::Ece,
            "p50_latency_ms" => GatePath::P50LatencyMs,
            "p99_latency_ms" => GatePath::P99LatencyMs,
            "model_size_mb" => GatePath::ModelSizeMb,
            "value_per_1k" => GatePath::ValuePer1k,
            "best_value_per_1k" => GatePath::BestValuePer1k,
            "robustness.max_drop" => GatePath::RobustnessMaxDrop,
            _ => {
                if let Some(rest) = text.strip_prefix("worst_slice.") {
                    GatePath::WorstSlice(metric(rest).ok_or_else(unknown)?)
                } else if let Some(rest) = text.strip_prefix("robustness.") {
                    let (perturbation, tail) = Perturbation::ALL
                        .iter()
                        .find_map(|p| {
                            rest.strip_prefix(p.as_str())
                                .and_then(|t| t.strip_prefix('.'))
                                .map(|t| (*p, t))
                        })
                        .ok_or_else(|| {
                            format!(
                                "unknown perturbation in `{text}`: expected {}",
                                Perturbation::expected()
                            )
                        })?;
                    match tail.strip_suffix("_drop").and_then(metric) {
                        Some(m) => GatePath::Robustness {
                            perturbation,
                            metric: m,
                            drop: true,
                        },
                        None => GatePath::Robustness {
                            perturbation,
                            metric: metric(tail).ok_or_else(unknown)?,
                            drop: false,
                        },
                    }
                } else {
                    GatePath::Metric(metric(text).ok_or_else(unknown)?)
                }
            }
        };
        Ok(path)
    }
}

impl fmt::Display for GatePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GatePath::Metric(m) => f.write_str(m.as_str()),
            GatePath::Ece => f.write_str("ece"),
            GatePath::WorstSlice(m) => write!(f, "worst_slice.{m}"),
            GatePath::P50LatencyMs => f.write_str("p50_latency_ms"),
            GatePath::P99LatencyMs => f.write_str("p99_latency_ms"),
            GatePath::ModelSizeMb => f.write_str("model_size_mb"),
            GatePath::ValuePer1k => f.write_str("value_per_1k"),
            GatePath::BestValuePer1k => f.write_str("best_value_per_1k"),
            GatePath::Robustness {
                perturbation,
                metric,
                drop,
            } => write!(
                f,
                "robustness.{perturbation}.{metric}{}",
                if *drop { "_drop" } else { "" }
            ),
            GatePath::RobustnessMaxDrop => f.write_str("robustness.max_drop"),
        }
    }
}

/// The comparison of a gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum GateOp {
    #[serde(rename = ">=")]
    Ge,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = "<")]
    Lt,
}

impl GateOp {
    pub fn symbol(self) -> &'static str {
        match self {
            GateOp::Ge => ">=",
            GateOp::Gt => ">",
            GateOp::Le => "<=",
            GateOp::Lt => "<",
        }
    }

    /// Whether `value op threshold` holds.
    pub fn holds(self, value: f64, threshold: f64) -> bool {
        match self {
            GateOp::Ge => value >= threshold,
            GateOp::Gt => value > threshold,
            GateOp::Le => value <= threshold,
            GateOp::Lt => value < threshold,
        }
    }
}

/// The right-hand side of a gate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum GateRhs {
    /// A fixed number.
    Number(f64),
    /// The baseline's value of the same path, plus `offset` (which may be negative).
    Baseline { offset: f64 },
    /// The champion's value of the same path, plus `offset`.
    Champion { offset: f64 },
    /// The matching `[constraints]` budget.
    Constraints,
}

impl fmt::Display for GateRhs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let with_offset = |f: &mut fmt::Formatter<'_>, word: &str, offset: f64| {
            if offset > 0.0 {
                write!(f, "{word} + {offset}")
            } else if offset < 0.0 {
                write!(f, "{word} - {}", -offset)
            } else {
                f.write_str(word)
            }
        };
        match self {
            GateRhs::Number(n) => write!(f, "{n}"),
            GateRhs::Baseline { offset } => with_offset(f, "baseline", *offset),
            GateRhs::Champion { offset } => with_offset(f, "champion", *offset),
            GateRhs::Constraints => f.write_str("constraints"),
        }
    }
}

/// One rule of `[evaluate.gates]`: `<metric path> <op> <rhs>`. It serializes as its text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gate {
    pub path: GatePath,
    pub op: GateOp,
    pub rhs: GateRhs,
}

impl Gate {
    /// Parses a gate rule. The error carries the reason and, where it can point, the 1-based
    /// character column inside the rule.
    pub fn parse(text: &str) -> Result<Gate, (String, Option<usize>)> {
        let chars: Vec<char> = text.chars().collect();
        let at = chars
            .iter()
            .position(|c| matches!(c, '<' | '>' | '='))
            .ok_or_else(|| {
                (
                    "a gate is `<metric path> <op> <value>` with op one of >=, >, <=, <, such as \
                     \"roc_auc >= baseline + 0.05\""
                        .to_string(),
                    None,
                )
            })?;
        let (op, width) = match (chars[at], chars.get(at + 1)) {
            ('>', Some('=')) => (GateOp::Ge, 2),
            ('<', Some('=')) => (GateOp::Le, 2),
            ('>', _) => (GateOp::Gt, 1),
            ('<', _) => (GateOp::Lt, 1),
            _ => {
                return Err((
                    "`=` is not a gate comparison: use >=, >, <= or <".to_string(),
                    Some(at + 1),
                ));
            }
        };
        let lhs: String = chars[..at].iter().collect();
        let rhs: String = chars[at + width..].iter().collect();
        let lhs_column = 1 + lhs.len() - lhs.trim_start().len();
        if lhs.trim().is_empty() {
            return Err((
                "the metric path is missing before the comparison".into(),
                Some(1),
            ));
        }
        let path = lhs
            .parse::<GatePath>()
            .map_err(|reason| (reason, Some(lhs_column)))?;
        let rhs_column = at + width + 1 + (rhs.chars().count() - rhs.trim_start().chars().count());
        let rhs = parse_rhs(rhs.trim()).map_err(|reason| (reason, Some(rhs_column)))?;
        Ok(Gate { path, op, rhs })
    }
}

fn parse_rhs(text: &str) -> Result<GateRhs, String> {
    let expected = "a number, `baseline`, `champion` (each optionally `+ number` or `- number`) \
                    or `constraints`";
    if text.is_empty() {
        return Err(format!(
            "the value after the comparison is missing: expected {expected}"
        ));
    }
    if let Ok(n) = text.parse::<f64>() {
        if n.is_finite() {
            return Ok(GateRhs::Number(n));
        }
        return Err(format!("`{text}` is not a finite number"));
    }
    if text == "constraints" {
        return Ok(GateRhs::Constraints);
    }
    for (word, make) in [
        (
            "baseline",
            (|offset| GateRhs::Baseline { offset }) as fn(f64) -> GateRhs,
        ),
        ("champion", |offset| GateRhs::Champion { offset }),
    ] {
        let Some(rest) = text.strip_prefix(word) else {
            continue;
        };
        let rest = rest.trim();
        if rest.is_empty() {
            return Ok(make(0.0));
        }
        let (sign, number) = match rest.split_at(1) {
            ("+", n) => (1.0, n.trim()),
            ("-", n) => (-1.0, n.trim()),
            _ => {
                return Err(format!(
                    "after `{word}` expected `+ number` or `- number`, found `{rest}`"
                ));
            }
        };
        return match number.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(make(sign * n)),
            _ => Err(format!(
                "after `{word}` expected `+ number` or `- number`, found `{rest}`"
            )),
        };
    }
    Err(format!("`{text}`: expected {expected}"))
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.path, self.op.symbol(), self.rhs)
    }
}

impl Serialize for Gate {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Gate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Gate, D::Error> {
        let text = String::deserialize(deserializer)?;
        Gate::parse(&text).map_err(|(reason, _)| serde::de::Error::custom(reason))
    }
}

/// One entry of `[evaluate] slices`: a column name (one slice per category, or quantile bins of
/// a numeric column) or an expression (one slice of the rows where it is true). It serializes
/// as its text.
#[derive(Debug, Clone, PartialEq)]
pub enum SliceSpec {
    /// A column, written as its bare or back-quoted name.
    Column(String),
    /// Rows where the expression is true.
    Expression(Expr),
}

impl SliceSpec {
    /// Reads a slice: a lone column name is a column slice, anything else an expression.
    pub fn parse(text: &str) -> Result<SliceSpec, ExprError> {
        Ok(match Expr::parse(text)? {
            Expr::Column(name) => SliceSpec::Column(name),
            expr => SliceSpec::Expression(expr),
        })
    }

    /// The columns the slice reads.
    pub fn columns(&self) -> Vec<String> {
        match self {
            SliceSpec::Column(name) => vec![name.clone()],
            SliceSpec::Expression(expr) => expr.columns(),
        }
    }
}

impl fmt::Display for SliceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SliceSpec::Column(name) => write!(f, "{}", Expr::Column(name.clone())),
            SliceSpec::Expression(expr) => write!(f, "{expr}"),
        }
    }
}

impl Serialize for SliceSpec {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for SliceSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<SliceSpec, D::Error> {
        let text = String::deserialize(deserializer)?;
        SliceSpec::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// `[evaluate]`. Every key is optional; the defaults are the `DEFAULT_*` constants, a seed of
/// 0 and robustness on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EvaluateSection {
    /// `slices = ["visibility < -0.5", "salary_range"]`.
    pub slices: Vec<SliceSpec>,
    /// Quantile bins of a numeric slice column.
    pub slice_bins: Option<f64>,
    /// Rows a slice needs before it counts for the worst slice.
    pub min_slice_rows: Option<f64>,
    /// Bootstrap resamples for confidence intervals.
    pub bootstrap: Option<f64>,
    /// Seed of the bootstrap and of the robustness perturbations.
    pub seed: Option<f64>,
    /// Whether to run the robustness checks.
    pub robustness: Option<bool>,
    /// `[evaluate.gates]`: name → rule.
    pub gates: BTreeMap<String, Gate>,
}

impl EvaluateSection {
    /// Bootstrap resamples, with the default.
    pub fn bootstrap_resamples(&self) -> usize {
        self.bootstrap.map_or(DEFAULT_BOOTSTRAP, |n| n as usize)
    }

    /// The seed, with the default 0.
    pub fn seed_value(&self) -> u64 {
        self.seed.map_or(0, |s| s as u64)
    }

    /// Quantile bins of numeric slice columns, with the default.
    pub fn bins(&self) -> usize {
        self.slice_bins.map_or(DEFAULT_SLICE_BINS, |n| n as usize)
    }

    /// Rows a slice needs to count for the worst slice, with the default.
    pub fn min_rows(&self) -> usize {
        self.min_slice_rows
            .map_or(DEFAULT_MIN_SLICE_ROWS, |n| n as usize)
    }

    /// Whether robustness checks run, with the default (on).
    pub fn robustness_on(&self) -> bool {
        self.robustness.unwrap_or(true)
    }
}

impl ReadSection for EvaluateSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        EvaluateSection {
            slices: r.parsed_list(s, "slices", "a column name or an expression", |text| {
                SliceSpec::parse(text).map_err(|err| match err {
                    ExprError::Syntax { column, message } => {
                        (format!("column {column}: {message}"), Some(column))
                    }
                    other => (other.to_string(), None),
                })
            }),
            slice_bins: r.number(s, "slice_bins"),
            min_slice_rows: r.number(s, "min_slice_rows"),
            bootstrap: r.number(s, "bootstrap"),
            seed: r.number(s, "seed"),
            robustness: r.boolean(s, "robustness"),
            gates: r.parsed_map(
                s,
                "gates",
                "a rule such as \"roc_auc >= baseline\"",
                Gate::parse,
            ),
        }
    }
}

/// The content rules of `[evaluate]`: whole numbers in range, gates whose paths fit the task and
/// the rest of the contract, and slices that do not read the label.
pub(super) fn validate(spec: &ProblemSpec, f: &mut Findings<'_>) {
    let e = &spec.evaluate;
    for (key, value, low, high) in [
        ("evaluate.bootstrap", e.bootstrap, 1.0, 100_000.0),
        ("evaluate.slice_bins", e.slice_bins, 2.0, 20.0),
        ("evaluate.min_slice_rows", e.min_slice_rows, 1.0, 1e12),
        ("evaluate.seed", e.seed, 0.0, u64::MAX as f64),
    ] {
        if let Some(v) = value
            && (v.fract() != 0.0 || v < low || v > high)
        {
            let range = if high >= 1e12 {
                format!("a whole number >= {low}")
            } else {
                format!("a whole number from {low} to {high}")
            };
            f.error(
                key,
                DiagnosticCode::BadValue,
                format!("`{key}` = {v} must be {range}"),
            );
        }
    }
    if let Some(n) = e.bootstrap
        && (1.0..200.0).contains(&n)
    {
        f.push(
            "evaluate.bootstrap",
            Severity::Warning,
            DiagnosticCode::BadValue,
            format!("`evaluate.bootstrap` = {n} resamples give rough 95% intervals; use 1000"),
        );
    }
    if let Some(label) = &spec.problem.label.column {
        for (i, slice) in e.slices.iter().enumerate() {
            if slice.columns().contains(label) {
                f.error(
                    &format!("evaluate.slices[{i}]"),
                    DiagnosticCode::Inconsistent,
                    format!(
                        "the slice `{slice}` reads the label column `{label}`; slices group rows \
                         by what is known at prediction time"
                    ),
                );
            }
        }
    }
    let task = spec.problem.task;
    let primary = spec.baseline.metric;
    for (name, gate) in &e.gates {
        let key = format!("evaluate.gates.{name}");
        for problem in gate_problems(spec, gate, task, primary) {
            f.error(
                &key,
                DiagnosticCode::Inconsistent,
                format!("gate `{name}` = \"{gate}\": {problem}"),
            );
        }
    }
}

/// Why a gate cannot be evaluated for this contract, if it cannot.
fn gate_problems(
    spec: &ProblemSpec,
    gate: &Gate,
    task: Option<Task>,
    primary: Option<Metric>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let e = &spec.evaluate;
    let metric_fits = |m: Metric, problems: &mut Vec<String>| {
        if let Some(task) = task
            && !m.fits(task)
        {
            let fitting: Vec<&str> = Metric::for_task(task).iter().map(|m| m.as_str()).collect();
            problems.push(format!(
                "metric `{m}` does not fit the task `{task}`; use one of {}",
                fitting.join(", ")
            ));
        }
    };
    match gate.path {
        GatePath::Metric(m) => metric_fits(m, &mut problems),
        GatePath::WorstSlice(m) => {
            metric_fits(m, &mut problems);
            if e.slices.is_empty() {
                problems.push("`worst_slice` needs slices: set `evaluate.slices`".into());
            }
        }
        GatePath::Ece => {
            if task == Some(Task::Regression) {
                problems.push("calibration (`ece`) applies to classification only".into());
            }
        }
        GatePath::ValuePer1k => {
            if task == Some(Task::MulticlassClassification) {
                problems.push(
                    "business value is computed for binary classification and regression".into(),
                );
            }
        }
        GatePath::BestValuePer1k => {
            if task.is_some() && task != Some(Task::BinaryClassification) {
                problems.push(
                    "`best_value_per_1k` sweeps thresholds, which needs binary classification"
                        .into(),
                );
            }
        }
        GatePath::Robustness { metric, .. } => {
            if Some(metric) != primary {
                problems.push(format!(
                    "robustness is measured on the primary metric `{}`, not `{metric}`",
                    primary.map_or("(baseline.metric is not set)", Metric::as_str)
                ));
            }
        }
        GatePath::RobustnessMaxDrop
        | GatePath::P50LatencyMs
        | GatePath::P99LatencyMs
        | GatePath::ModelSizeMb => {}
    }
    if matches!(
        gate.path,
        GatePath::Robustness { .. } | GatePath::RobustnessMaxDrop
    ) && e.robustness == Some(false)
    {
        problems.push("robustness checks are off (`evaluate.robustness = false`)".into());
    }
    match gate.rhs {
        GateRhs::Constraints => {
            let budget = match gate.path {
                GatePath::P99LatencyMs => Some(("p99_latency_ms", spec.constraints.p99_latency_ms)),
                GatePath::ModelSizeMb => {
                    Some(("max_model_size_mb", spec.constraints.max_model_size_mb))
                }
                _ => None,
            };
            match budget {
                None => problems.push(format!(
                    "`constraints` only compares p99_latency_ms and model_size_mb with their \
                     budgets, not `{}`",
                    gate.path
                )),
                Some((key, None)) => {
                    problems.push(format!("`constraints.{key}` is not set"));
                }
                Some(_) => {}
            }
        }
        GateRhs::Baseline { .. } | GateRhs::Champion { .. } if !gate.path.compares_models() => {
            problems.push(format!(
                "`{}` is measured for the candidate only; compare it with a number or \
                 `constraints`",
                gate.path
            ));
        }
        _ => {}
    }
    problems
}
