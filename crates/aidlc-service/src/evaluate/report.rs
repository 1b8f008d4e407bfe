//! The evaluation report (`aidlc.eval.v1`): every fact an evaluation establishes, as JSON that
//! is stored once and from which the model card is rendered at any later time.
//!
//! Numbers that can be undefined (a ROC AUC on one class, a slice too small) are `null` in
//! JSON, never NaN, so every stored report reads back.
//!
//! The JSON shape, abridged (`{c, b, h}` is a [`ByModel`]: candidate, baseline, champion or
//! `null`; an estimate is `{value, lower, upper}`):
//!
//! ```text
//! { "format": "aidlc.eval.v1", "passed": false,
//!   "framing": { "problem": {…}, "constraints": {…}, "baseline": {…}, "business": {…} },
//!   "models": [ { "role": "candidate", "name": "…", "reference": "…" }, … ],
//!   "data": { "rows", "rows_without_label", "label", "classes", "class_counts",
//!             "positive_class", "features" },
//!   "settings": { "bootstrap_resamples", "confidence", "seed", "slice_bins", "min_slice_rows",
//!                 "operating_threshold", "latency_rows" },
//!   "primary_metric": "roc_auc",
//!   "metrics": [ { "metric", "higher_is_better", "values": {c, b, h of estimates},
//!                  "delta_vs_baseline": estimate, "delta_vs_champion": estimate|null } ],
//!   "slices": { "min_rows", "worst": { "group", "name", "count", "metric", "value", "overall" },
//!               "groups": [ { "source", "kind", "note", "slices": [ { "name", "count",
//!                 "positives", "enough_rows", "primary": {c, b, h of estimates},
//!                 "metrics": {c, b, h of [value per metric, in `metrics` order]} } ] } ] },
//!   "calibration": { "of", "bins", "models": {c, b, h of { "ece", "mce", "brier",
//!                    "curve": [ { "mean_predicted", "observed", "count" } ] }} } | null,
//!   "roc": {c, b, h of { "fpr": [], "tpr": [] }} | null,
//!   "robustness": { "metric", "clean", "max_drop", "perturbations": [ { "name", "description",
//!                   "value", "drop", "note" } ] } | null,
//!   "business": { "kind", "operating_threshold", "value_per_1k": {c, b, h},
//!                 "best": {c, b, h of { "threshold", "value_per_1k" }} | null,
//!                 "sweep": [ { "threshold", "value_per_1k" } ], "baseline_sweep": […] } | null,
//!   "latency": { "rows_timed", "p50_ms", "p99_ms", "budget_p99_ms", "within_budget" },
//!   "model_size": { "bytes", "mb", "budget_mb", "within_budget" },
//!   "gates": [ { "name", "rule": "roc_auc >= baseline + 0.05", "default", "status":
//!                "pass"|"fail"|"skipped", "value", "threshold", "op", "reason" } ],
//!   "limitations": [ "…" ],
//!   "lineage": <as given> }
//! ```

use aidlc_core::spec::{Baseline, Business, Constraints, Gate, GateOp, Problem};
use serde::{Deserialize, Serialize};

/// The format tag of every report.
pub const EVAL_FORMAT: &str = "aidlc.eval.v1";

/// One evaluation of a candidate model against its baseline (and champion) on held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    /// Always [`EVAL_FORMAT`].
    pub format: String,
    /// Whether every gate passed (a skipped gate does not fail).
    pub passed: bool,
    /// The framing contract the evaluation judged against.
    pub framing: Framing,
    /// The candidate, the baseline and, when there is one, the champion.
    pub models: Vec<ModelRef>,
    /// What was scored.
    pub data: DataSummary,
    /// How the numbers were computed.
    pub settings: EvalSettings,
    /// The `[baseline] metric`.
    pub primary_metric: String,
    /// Every metric of the task, the primary first, for each model, with paired bootstrap
    /// intervals and the candidate's difference to the others.
    pub metrics: Vec<MetricRow>,
    /// `[evaluate] slices`.
    pub slices: SliceReport,
    /// Classifiers only.
    pub calibration: Option<CalibrationReport>,
    /// Binary classifiers only: ROC curve points of each model (downsampled).
    pub roc: Option<ByModel<RocPoints>>,
    /// `None` when `[evaluate] robustness = false`.
    pub robustness: Option<RobustnessReport>,
    /// `None` when `[business]` lacks the values the task needs.
    pub business: Option<BusinessReport>,
    /// Single-row prediction latency of the candidate.
    pub latency: LatencyReport,
    /// The candidate's artifact size.
    pub model_size: ModelSizeReport,
    /// Every gate with its outcome, in name order.
    pub gates: Vec<GateOutcome>,
    /// Sentences derived from the facts above: what a reader should not trust the model with.
    pub limitations: Vec<String>,
    /// Where the model and the data came from, as the caller recorded it (run, dataset version,
    /// split manifest, commit); opaque to the evaluation.
    pub lineage: serde_json::Value,
}

/// The parts of `aidlc.toml` a model card shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Framing {
    pub problem: Problem,
    pub constraints: Constraints,
    pub baseline: Baseline,
    pub business: Business,
}

/// Which model plays which part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Candidate,
    Baseline,
    Champion,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Candidate => "candidate",
            Role::Baseline => "baseline",
            Role::Champion => "champion",
        }
    }
}

/// A model under evaluation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelRef {
    pub role: Role,
    /// A short name (`rainfall-gbt`, `prior`).
    pub name: String,
    /// Where it comes from: `NAME/VERSION`, a run id, a path, a baseline description.
    pub reference: String,
}

/// One value per model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ByModel<T> {
    pub candidate: T,
    pub baseline: T,
    pub champion: Option<T>,
}

impl<T> ByModel<T> {
    /// The value of a role; `None` for a champion that is not there.
    pub fn get(&self, role: Role) -> Option<&T> {
        match role {
            Role::Candidate => Some(&self.candidate),
            Role::Baseline => Some(&self.baseline),
            Role::Champion => self.champion.as_ref(),
        }
    }

    /// The values of candidate, baseline and (when there is a third) champion, in that order.
    pub(crate) fn from_roles(values: Vec<T>) -> ByModel<T> {
        let mut values = values.into_iter();
        let candidate = values.next().expect("a candidate value");
        let baseline = values.next().expect("a baseline value");
        ByModel {
            candidate,
            baseline,
            champion: values.next(),
        }
    }

    /// Applies `f` to every value.
    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> ByModel<U> {
        ByModel {
            candidate: f(&self.candidate),
            baseline: f(&self.baseline),
            champion: self.champion.as_ref().map(f),
        }
    }
}

/// The held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataSummary {
    /// Rows scored (rows with a label).
    pub rows: usize,
    /// Rows left out because their label is missing.
    pub rows_without_label: usize,
    /// The label column.
    pub label: String,
    /// Classification: the classes, in the candidate's order (plus labels it never saw).
    pub classes: Vec<String>,
    /// Classification: held-out rows per class, aligned with `classes`.
    pub class_counts: Vec<usize>,
    /// Binary: the class counted as positive.
    pub positive_class: Option<String>,
    /// The input features of the candidate, in its order.
    pub features: Vec<String>,
}

/// The knobs an evaluation ran with, so it can be repeated.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSettings {
    pub bootstrap_resamples: usize,
    pub confidence: f64,
    pub seed: u64,
    pub slice_bins: usize,
    pub min_slice_rows: usize,
    /// The threshold at which binary predictions count as positive for label metrics and for
    /// the operating business value: P(positive) >= this.
    pub operating_threshold: f64,
    /// Single-row predictions timed for the latency figures.
    pub latency_rows: usize,
}

/// A point estimate with its percentile bootstrap interval.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Estimate {
    /// On all rows; `None` when undefined (such as ROC AUC on one class).
    pub value: Option<f64>,
    pub lower: Option<f64>,
    pub upper: Option<f64>,
}

/// One metric for every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricRow {
    pub metric: String,
    pub higher_is_better: bool,
    pub values: ByModel<Estimate>,
    /// Candidate minus baseline, on the same resamples.
    pub delta_vs_baseline: Estimate,
    /// Candidate minus champion, on the same resamples.
    pub delta_vs_champion: Option<Estimate>,
}

/// Every slice group of `[evaluate] slices` and the worst slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceReport {
    /// Rows a slice needs to count for the worst slice.
    pub min_rows: usize,
    pub groups: Vec<SliceGroup>,
    /// The slice with enough rows where the candidate's primary metric is worst.
    pub worst: Option<WorstSlice>,
}

/// The slices one entry of `[evaluate] slices` produced.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SliceGroup {
    /// The entry as written.
    pub source: String,
    /// `categories`, `quantile_bins` (numeric column) or `expression`.
    pub kind: String,
    pub slices: Vec<Slice>,
    /// Something the reader should know, such as categories left out.
    pub note: Option<String>,
}

/// One slice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Slice {
    /// `salary_range = "40K - 60K €"`, `temperature in [-0.5, 0.3)`, the expression.
    pub name: String,
    pub count: usize,
    /// Binary: positive rows in the slice.
    pub positives: Option<usize>,
    /// Whether the slice has at least `min_rows` rows.
    pub enough_rows: bool,
    /// The primary metric with its interval, per model.
    pub primary: ByModel<Estimate>,
    /// Every metric's point value per model, in the order of the report's `metrics`.
    pub metrics: ByModel<Vec<Option<f64>>>,
}

/// The worst slice by the candidate's primary metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorstSlice {
    pub group: String,
    pub name: String,
    pub count: usize,
    pub metric: String,
    pub value: f64,
    /// The same metric on all rows, for contrast.
    pub overall: Option<f64>,
}

/// Calibration of every model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CalibrationReport {
    /// Binary: P(positive); multiclass: the probability of the predicted class.
    pub of: String,
    pub bins: usize,
    pub models: ByModel<Calibration>,
}

/// One model's calibration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Calibration {
    pub ece: Option<f64>,
    pub mce: Option<f64>,
    /// Binary only.
    pub brier: Option<f64>,
    pub curve: Vec<ReliabilityPoint>,
}

/// One non-empty bin of a reliability curve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReliabilityPoint {
    pub mean_predicted: f64,
    pub observed: f64,
    pub count: u64,
}

/// ROC curve points, from (0, 0) to (1, 1).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RocPoints {
    pub fpr: Vec<f64>,
    pub tpr: Vec<f64>,
}

/// The candidate's primary metric on perturbed held-out rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RobustnessReport {
    pub metric: String,
    /// On the unperturbed rows.
    pub clean: Option<f64>,
    pub perturbations: Vec<PerturbationResult>,
    /// The largest drop over the perturbations that ran.
    pub max_drop: Option<f64>,
}

/// One perturbation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PerturbationResult {
    /// `noise_0.5`, `missing_0.1`, `swap_0.3`.
    pub name: String,
    /// What was done, in words.
    pub description: String,
    pub value: Option<f64>,
    /// How much worse than clean (positive = worse), whichever way the metric points.
    pub drop: Option<f64>,
    /// Why it did not run or has no value, when so.
    pub note: Option<String>,
}

/// Business value from `[business]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusinessReport {
    /// `confusion` (binary, tp/fp/fn/tn) or `error_cost` (regression, cost_per_unit_error).
    pub kind: String,
    /// Binary: the threshold the value is reported at (the report's operating threshold).
    pub operating_threshold: Option<f64>,
    /// Value per 1,000 predictions at the operating threshold, per model.
    pub value_per_1k: ByModel<Option<f64>>,
    /// Binary: the value-maximising threshold and its value, per model.
    pub best: Option<ByModel<ThresholdValue>>,
    /// Binary: the candidate's value per 1,000 predictions at thresholds 0, 0.01, …, 1.
    pub sweep: Vec<ThresholdValue>,
    /// Binary: the baseline's sweep, for the chart.
    pub baseline_sweep: Vec<ThresholdValue>,
}

/// A threshold and the value per 1,000 predictions there.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ThresholdValue {
    pub threshold: f64,
    pub value_per_1k: f64,
}

/// Single-row latency of the candidate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LatencyReport {
    pub rows_timed: usize,
    pub p50_ms: f64,
    pub p99_ms: f64,
    /// `[constraints] p99_latency_ms`.
    pub budget_p99_ms: Option<f64>,
    pub within_budget: Option<bool>,
}

/// The candidate's artifact size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelSizeReport {
    pub bytes: u64,
    /// Megabytes of 1,000,000 bytes.
    pub mb: f64,
    /// `[constraints] max_model_size_mb`.
    pub budget_mb: Option<f64>,
    pub within_budget: Option<bool>,
}

/// Whether a gate passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GateStatus {
    Pass,
    Fail,
    /// The gate compares with a champion and there is none.
    Skipped,
}

/// One gate and its outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GateOutcome {
    pub name: String,
    /// The rule as text.
    pub rule: Gate,
    /// Whether the gate came from `[evaluate.gates]` or is a default (no gates written).
    pub default: bool,
    pub status: GateStatus,
    /// The candidate's value of the path.
    pub value: Option<f64>,
    /// What it was compared with.
    pub threshold: Option<f64>,
    pub op: GateOp,
    /// "roc_auc 0.873 >= baseline 0.500 + 0.05 = 0.550: pass".
    pub reason: String,
}
