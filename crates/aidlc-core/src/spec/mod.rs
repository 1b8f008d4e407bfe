//! The framing contract `aidlc.toml`: the problem described once, as typed values.
//!
//! Two entry points share one reader:
//!
//! * [`ProblemSpec::parse`] rejects a file that cannot be read into typed values (TOML syntax,
//!   wrong types, unknown keys, unreadable values such as an unknown task, an empty file) with a
//!   [`SpecError`] naming file, line, column and key. It accepts an *unfinished* contract —
//!   missing keys, template placeholders `""`, a metric that does not fit the task — so that
//!   tools such as the store configuration can read it before the user is done.
//! * [`check`] lists every problem, of form and of content, as [`Diagnostic`]s. Later stages
//!   (training, deployment) refuse to run while it reports an error.
//!
//! Every leaf value is an `Option` (or an empty collection) because a parsed contract may be
//! unfinished; [`check`] is what says it is complete.

mod delay;
mod diagnostic;
mod reader;
mod validate;

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use toml::de::DeTable;

use crate::expr::Expr;

pub use delay::LabelDelay;
pub use diagnostic::{CheckReport, Diagnostic, DiagnosticCode, Severity, SpecError};

use diagnostic::LineIndex;
use reader::{Places, ReadSection, Reader, Section};

/// A fixed vocabulary of words a key accepts, such as the task names.
pub(crate) trait Keyword: Copy + 'static {
    /// Every word, in the order messages list them.
    const ALL: &'static [Self];

    /// The word as written in `aidlc.toml`.
    fn keyword(self) -> &'static str;

    fn from_keyword(text: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.keyword() == text)
    }

    /// "one of `a`, `b`, `c`", for messages.
    fn expected() -> String {
        let words: Vec<String> = Self::ALL
            .iter()
            .map(|k| format!("`{}`", k.keyword()))
            .collect();
        format!("one of {}", words.join(", "))
    }
}

/// Declares an enum whose variants are written as fixed words in `aidlc.toml` and in JSON.
macro_rules! keyword_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $word:literal,)+ }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $word)] $variant,)+
        }

        impl $name {
            /// Every value, in the order messages list them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)+];

            /// The word as written in `aidlc.toml`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $word,)+
                }
            }
        }

        impl Keyword for $name {
            const ALL: &'static [Self] = $name::ALL;

            fn keyword(self) -> &'static str {
                self.as_str()
            }
        }

        impl FromStr for $name {
            type Err = String;

            fn from_str(text: &str) -> Result<Self, String> {
                <$name as Keyword>::from_keyword(text)
                    .ok_or_else(|| format!("`{text}`: expected {}", <$name as Keyword>::expected()))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

// After the macro, which it uses.
mod train;
pub use train::{BuiltinTrainer, ClassWeight, GbdtSection, LogisticSection, TrainSection};
// After the macro, which it uses.
mod evaluate;
// After the macro, which it uses.
mod deploy;
// After the macro, which it uses.
mod iterate;
pub use deploy::{
    Approval, DEFAULT_FAILURES_TO_ROLLBACK, DEFAULT_INTERVAL_SECONDS, DEFAULT_MAX_DISAGREEMENT,
    DEFAULT_MAX_ERROR_RATE, DEFAULT_MAX_METRIC_DROP, DEFAULT_MAX_PREDICTION_DRIFT,
    DEFAULT_MIN_LABELS, DEFAULT_MIN_REQUESTS, DEFAULT_STEPS, DeploySection, RolloutStep,
};
pub use iterate::{IterateSection, IterateStrategy};

pub use evaluate::{
    DEFAULT_BOOTSTRAP, DEFAULT_MIN_SLICE_ROWS, DEFAULT_SLICE_BINS, EvaluateSection, Gate, GateOp,
    GatePath, GateRhs, Perturbation, PerturbationKind, SliceSpec,
};
// After the macro, which it uses.
mod monitor;

pub use monitor::{
    AlertCondition, AlertRule, AlertRuleSection, AlertSeverity, Channel, ChannelKind,
    ChannelSection, DEFAULT_MONITOR_INTERVAL, DEFAULT_MONITOR_WINDOW, MonitorMethod, MonitorSpec,
    SIGNAL_FAMILIES, SignalPattern, threshold_problem,
};

keyword_enum! {
    /// What kind of prediction the problem asks for.
    Task {
        /// Two classes, one of which is the positive class.
        BinaryClassification => "binary_classification",
        /// More than two classes.
        MulticlassClassification => "multiclass_classification",
        /// A number.
        Regression => "regression",
    }
}

impl Task {
    /// Whether the task predicts classes.
    pub fn is_classification(self) -> bool {
        self != Task::Regression
    }
}

keyword_enum! {
    /// Which way the business outcome should move.
    Direction {
        /// Higher is better.
        Maximize => "maximize",
        /// Lower is better.
        Minimize => "minimize",
    }
}

keyword_enum! {
    /// How much of the model's reasoning must be explainable.
    Interpretability {
        /// No requirement.
        None => "none",
        /// Per-feature importances must be available.
        FeatureImportance => "feature_importance",
        /// The prediction must move in one direction with chosen features.
        Monotonic => "monotonic",
        /// The model must be linear in its features.
        Linear => "linear",
    }
}

keyword_enum! {
    /// The reference every trained model must beat.
    BaselineKind {
        /// Predicts the class frequencies of the training data (classification).
        Prior => "prior",
        /// Predicts the most frequent class (classification).
        Majority => "majority",
        /// Predicts the mean of the training label (regression).
        Mean => "mean",
        /// A hand-written rule, an expression over columns.
        Rule => "rule",
        /// An existing model, given by path or URI.
        Model => "model",
    }
}

impl BaselineKind {
    /// Whether this kind of baseline can make predictions for the task.
    pub fn fits(self, task: Task) -> bool {
        match self {
            BaselineKind::Prior | BaselineKind::Majority => task.is_classification(),
            BaselineKind::Mean => task == Task::Regression,
            BaselineKind::Rule | BaselineKind::Model => true,
        }
    }
}

keyword_enum! {
    /// The primary model metric, used to compare models with the baseline.
    Metric {
        /// Area under the ROC curve (binary).
        RocAuc => "roc_auc",
        /// Area under the precision-recall curve (binary).
        PrAuc => "pr_auc",
        /// Share of correct predictions.
        Accuracy => "accuracy",
        /// Mean recall over classes.
        BalancedAccuracy => "balanced_accuracy",
        /// F1 of the positive class (binary).
        F1 => "f1",
        /// Precision of the positive class (binary).
        Precision => "precision",
        /// Recall of the positive class (binary).
        Recall => "recall",
        /// Mean negative log-likelihood of the true class.
        LogLoss => "log_loss",
        /// Brier score (binary).
        Brier => "brier",
        /// Unweighted mean F1 over classes (multiclass).
        F1Macro => "f1_macro",
        /// Support-weighted mean F1 over classes (multiclass).
        F1Weighted => "f1_weighted",
        /// Root mean squared error.
        Rmse => "rmse",
        /// Mean absolute error.
        Mae => "mae",
        /// Coefficient of determination.
        R2 => "r2",
        /// Mean absolute percentage error.
        Mape => "mape",
    }
}

impl Metric {
    /// Whether the metric is defined for the task.
    pub fn fits(self, task: Task) -> bool {
        use Metric::*;
        match task {
            Task::BinaryClassification => matches!(
                self,
                RocAuc
                    | PrAuc
                    | Accuracy
                    | BalancedAccuracy
                    | F1
                    | Precision
                    | Recall
                    | LogLoss
                    | Brier
            ),
            Task::MulticlassClassification => matches!(
                self,
                Accuracy | BalancedAccuracy | F1Macro | F1Weighted | LogLoss
            ),
            Task::Regression => matches!(self, Rmse | Mae | R2 | Mape),
        }
    }

    /// The metrics defined for a task.
    pub fn for_task(task: Task) -> Vec<Metric> {
        Metric::ALL
            .iter()
            .copied()
            .filter(|m| m.fits(task))
            .collect()
    }

    /// Whether a larger value means a better model.
    pub fn higher_is_better(self) -> bool {
        use Metric::*;
        !matches!(self, LogLoss | Brier | Rmse | Mae | Mape)
    }
}

keyword_enum! {
    /// A column type that overrides the one inferred from the data.
    ColumnType {
        /// Whole numbers.
        Integer => "integer",
        /// Real numbers.
        Float => "float",
        /// True/false.
        Boolean => "boolean",
        /// A small set of labels, even when written as numbers.
        Categorical => "categorical",
        /// Free text.
        String => "string",
        /// A date or a date and time.
        Datetime => "datetime",
    }
}

keyword_enum! {
    /// How `aidlc data split` assigns rows to train, validation and test.
    SplitKind {
        /// By time: every held-out row is later than every training row.
        Temporal => "temporal",
        /// By entity: each entity's rows go to one split, by a seeded hash of its id.
        EntityGroup => "entity_group",
        /// By entity and time: held-out entities are never seen in training, and held-out rows
        /// come after the training period.
        TemporalEntity => "temporal_entity",
        /// Seeded random rows, in the label's class proportions.
        Stratified => "stratified",
        /// Seeded random rows; leaks when rows repeat an entity, which the leakage report shows.
        Random => "random",
    }
}

impl SplitKind {
    /// Whether the kind needs `[problem] entity`.
    pub fn needs_entity(self) -> bool {
        matches!(self, SplitKind::EntityGroup | SplitKind::TemporalEntity)
    }

    /// Whether the kind needs `[problem] time`.
    pub fn needs_time(self) -> bool {
        matches!(self, SplitKind::Temporal | SplitKind::TemporalEntity)
    }
}

/// The label value that stands for the positive class, as written in `aidlc.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum LabelValue {
    /// `positive_value = true`
    Bool(bool),
    /// `positive_value = 1`
    Integer(i64),
    /// `positive_value = 1.0`
    Float(f64),
    /// `positive_value = "yes"`
    Text(String),
}

/// The parsed framing contract. It may be unfinished; [`check`] says whether it is complete.
///
/// Adding a section is one struct with a `ReadSection` impl (its keys, one line each), one field
/// here and one line in `ProblemSpec`'s own `ReadSection` impl.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ProblemSpec {
    /// `[problem]`: what is predicted, for whom, and what success means.
    pub problem: Problem,
    /// `[constraints]`: what a deployable model must respect.
    pub constraints: Constraints,
    /// `[baseline]`: the reference every model must beat.
    pub baseline: Baseline,
    /// `[business]`: the value of each kind of right and wrong prediction.
    pub business: Business,
    /// `[data]`: where the data is and how to read its columns.
    pub data: DataSection,
    /// `[store]`: where aidlc keeps its records and artifacts.
    pub store: StoreSection,
    /// `[split]`: how the data is split into train, validation and test.
    pub split: SplitSection,
    /// `[train]`: how `aidlc train` makes a model.
    pub train: TrainSection,
    /// `[evaluate]`: slices, bootstrap, robustness and the gates a model must pass.
    pub evaluate: EvaluateSection,
    /// `[deploy]`: the rollout policy of new versions.
    pub deploy: DeploySection,
    /// `[iterate]`: the retraining policy.
    pub iterate: IterateSection,
    /// `[monitor]`: how deployments are monitored, the alert rules and the alert channels.
    pub monitor: MonitorSpec,
    /// `[runtime]`: where the model runtimes are; the command line's configuration ranks it
    /// above defaults and below the environment and flags.
    pub runtime: RuntimeSection,
}

/// `[runtime]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuntimeSection {
    /// Path of the ONNX Runtime shared library (`libonnxruntime.so`).
    pub onnxruntime: Option<String>,
}

impl ReadSection for RuntimeSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        RuntimeSection {
            onnxruntime: r.text(s, "onnxruntime"),
        }
    }
}

/// `[problem]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// A short name for the problem.
    pub name: Option<String>,
    /// What kind of prediction.
    pub task: Option<Task>,
    /// The column that identifies an entity (customer, machine), if rows repeat entities.
    pub entity: Option<String>,
    /// The column holding the time of each row, if the data is ordered in time.
    pub time: Option<String>,
    /// What one unit of a numeric time column stands for, as a duration ("1d" for a day
    /// index, "1s" for epoch seconds); numbers are milliseconds without it.
    pub time_unit: Option<LabelDelay>,
    /// `[problem.outcome]`.
    pub outcome: Outcome,
    /// `[problem.label]`.
    pub label: Label,
}

/// `[problem.outcome]`: the business metric the project exists to move.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// The business metric in words, such as "rain days correctly warned".
    pub metric: Option<String>,
    /// Which way it should move.
    pub direction: Option<Direction>,
    /// The value that counts as success.
    pub target: Option<f64>,
}

/// `[problem.label]`: what the model learns to predict and when the truth arrives.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Label {
    /// The label column.
    pub column: Option<String>,
    /// The positive class in words (classification only).
    pub positive: Option<String>,
    /// The label value that is the positive class (classification only).
    pub positive_value: Option<LabelValue>,
    /// How long after a prediction the true label is known.
    pub delay: Option<LabelDelay>,
    /// For labels keyed by entity and event time: how long after a prediction an event of its
    /// entity still judges it (a churn label "within 30 days" has a 30-day horizon). Without it,
    /// a prediction is judged by the entity's next event, however late.
    pub horizon: Option<LabelDelay>,
}

/// `[constraints]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Constraints {
    /// The 99th-percentile latency budget of one prediction, in milliseconds.
    pub p99_latency_ms: Option<f64>,
    /// The largest acceptable model artifact, in megabytes.
    pub max_model_size_mb: Option<f64>,
    /// The budget per thousand predictions, in the project's currency.
    pub cost_per_1k_predictions: Option<f64>,
    /// How explainable the model must be.
    pub interpretability: Option<Interpretability>,
}

/// `[baseline]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    /// What kind of baseline.
    pub kind: Option<BaselineKind>,
    /// The rule, for `kind = "rule"`.
    pub rule: Option<Expr>,
    /// Path or URI of the model, for `kind = "model"`.
    pub model: Option<String>,
    /// The primary metric for comparing models.
    pub metric: Option<Metric>,
}

/// `[business]`: the value of each outcome, positive for a gain and negative for a cost.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Business {
    /// `tp`: value of a correctly predicted positive.
    #[serde(rename = "tp")]
    pub true_positive: Option<f64>,
    /// `fp`: value of a negative predicted as positive.
    #[serde(rename = "fp")]
    pub false_positive: Option<f64>,
    /// `fn`: value of a positive predicted as negative.
    #[serde(rename = "fn")]
    pub false_negative: Option<f64>,
    /// `tn`: value of a correctly predicted negative.
    #[serde(rename = "tn")]
    pub true_negative: Option<f64>,
    /// Regression: the cost of one unit of absolute error.
    pub cost_per_unit_error: Option<f64>,
}

/// `[data]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataSection {
    /// The data file, relative to the project folder.
    pub source: Option<String>,
    /// `[data.columns]`: column name → type, where the inferred type is wrong.
    pub columns: BTreeMap<String, ColumnType>,
    /// Columns no model may use as features: leaks such as the outputs of an earlier model,
    /// or identifiers.
    pub exclude: Vec<String>,
    /// `[data.expectations]`: rules every ingested version must pass to be valid.
    pub expectations: DataExpectations,
}

/// An inclusive `[low, high]` range.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    pub low: f64,
    pub high: f64,
}

impl Bounds {
    pub fn contains(&self, value: f64) -> bool {
        self.low <= value && value <= self.high
    }
}

/// `[data.expectations]`: validation rules evaluated when a dataset version is ingested. A
/// version that breaks any of them is recorded as invalid, and training refuses it unless
/// overridden.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DataExpectations {
    /// `rows = [low, high]`: the number of data rows.
    pub rows: Option<Bounds>,
    /// `max_missing_share = 0.05`: the largest share of missing values in any column.
    pub max_missing_share: Option<f64>,
    /// `not_null = ["col", …]`: columns without missing values.
    pub not_null: Vec<String>,
    /// `unique = ["col", …]`: columns whose non-missing values are all different.
    pub unique: Vec<String>,
    /// `range = { col = [low, high] }`: every non-missing value inside the bounds.
    pub range: BTreeMap<String, Bounds>,
    /// `in_set = { col = ["a", "b"] }`: every non-missing value one of these.
    pub in_set: BTreeMap<String, Vec<String>>,
    /// `pattern = { col = "regex" }`: every non-missing value matches the regular expression
    /// (anywhere in the value; anchor with `^…$` for a whole match).
    pub pattern: BTreeMap<String, String>,
    /// `mean = { col = [low, high] }`: the column's mean inside the bounds.
    pub mean: BTreeMap<String, Bounds>,
    /// `freshness_column = "col"`: the timestamp column whose newest value must be recent.
    pub freshness_column: Option<String>,
    /// `max_age = "30d"`: how old the newest timestamp may be at ingest time.
    pub max_age: Option<LabelDelay>,
}

impl DataExpectations {
    /// Whether any rule is configured.
    pub fn is_empty(&self) -> bool {
        self == &DataExpectations::default()
    }
}

keyword_enum! {
    /// When the SQLite store acknowledges a write (`[store] sync`).
    StoreSync {
        /// Once the commit is written to the WAL file: it survives a crash or kill of aidlc at
        /// once, and a power cut or OS crash once the WAL is fsynced (within about 100 ms).
        Normal => "normal",
        /// Once the commit is fsynced: it survives a power cut too, at one fsync per write.
        Full => "full",
    }
}

/// `[store]`; the command line's configuration ranks it above defaults and below the
/// environment and flags.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoreSection {
    /// A SQLite file path or a `postgres://` URL.
    pub url: Option<String>,
    /// The folder for artifacts.
    pub artifacts: Option<String>,
    /// When a SQLite write is acknowledged; PostgreSQL follows its server's own setting.
    pub sync: Option<StoreSync>,
}

/// `[split]`. Fractions default to 0.7 / 0.15 / 0.15 and the seed to 0 when not written.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SplitSection {
    /// How rows are assigned.
    pub kind: Option<SplitKind>,
    /// Share of rows (of entities, for entity kinds; of time, for temporal kinds) for training.
    pub train: Option<f64>,
    /// Share for validation.
    pub valid: Option<f64>,
    /// Share for test.
    pub test: Option<f64>,
    /// Seed of the random and hashed assignments; a whole number.
    pub seed: Option<f64>,
    /// Temporal kinds: the first instant of validation, such as "1998-01-01" (instead of the
    /// fractions).
    pub valid_start: Option<String>,
    /// Temporal kinds: the first instant of test.
    pub test_start: Option<String>,
    /// Temporal kinds: rows within this long before the next split's start are dropped
    /// (purge); at least the label delay, so no training label matures in the held-out period.
    pub gap: Option<LabelDelay>,
}

impl ReadSection for SplitSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        SplitSection {
            kind: r.keyword(s, "kind"),
            train: r.number(s, "train"),
            valid: r.number(s, "valid"),
            test: r.number(s, "test"),
            seed: r.number(s, "seed"),
            valid_start: r.text(s, "valid_start"),
            test_start: r.text(s, "test_start"),
            gap: r.parsed(s, "gap", DELAY_EXPECTED, |text| {
                LabelDelay::parse(text).map_err(|reason| (reason, None))
            }),
        }
    }
}

impl ReadSection for Problem {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        Problem {
            name: r.text(s, "name"),
            task: r.keyword(s, "task"),
            entity: r.text(s, "entity"),
            time: r.text(s, "time"),
            time_unit: r.parsed(s, "time_unit", DELAY_EXPECTED, |text| {
                LabelDelay::parse(text).map_err(|reason| (reason, None))
            }),
            outcome: r.section(s, "outcome"),
            label: r.section(s, "label"),
        }
    }
}

impl ReadSection for Outcome {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        Outcome {
            metric: r.text(s, "metric"),
            direction: r.keyword(s, "direction"),
            target: r.number(s, "target"),
        }
    }
}

const DELAY_EXPECTED: &str = "a duration such as \"1d\", \"12h\" or \"30m\"";

impl ReadSection for Label {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        Label {
            column: r.text(s, "column"),
            positive: r.text(s, "positive"),
            positive_value: r.label_value(s, "positive_value"),
            delay: r.parsed(s, "delay", DELAY_EXPECTED, |text| {
                LabelDelay::parse(text).map_err(|reason| (reason, None))
            }),
            horizon: r.parsed(s, "horizon", DELAY_EXPECTED, |text| {
                LabelDelay::parse(text).map_err(|reason| (reason, None))
            }),
        }
    }
}

impl ReadSection for Constraints {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        Constraints {
            p99_latency_ms: r.number(s, "p99_latency_ms"),
            max_model_size_mb: r.number(s, "max_model_size_mb"),
            cost_per_1k_predictions: r.number(s, "cost_per_1k_predictions"),
            interpretability: r.keyword(s, "interpretability"),
        }
    }
}

impl ReadSection for Baseline {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        Baseline {
            kind: r.keyword(s, "kind"),
            rule: r.parsed(s, "rule", "an expression over columns", |text| {
                Expr::parse(text).map_err(|err| match err {
                    crate::expr::ExprError::Syntax { column, message } => {
                        (format!("column {column}: {message}"), Some(column))
                    }
                    other => (other.to_string(), None),
                })
            }),
            model: r.text(s, "model"),
            metric: r.keyword(s, "metric"),
        }
    }
}

impl ReadSection for Business {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        Business {
            true_positive: r.number(s, "tp"),
            false_positive: r.number(s, "fp"),
            false_negative: r.number(s, "fn"),
            true_negative: r.number(s, "tn"),
            cost_per_unit_error: r.number(s, "cost_per_unit_error"),
        }
    }
}

impl ReadSection for DataSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        DataSection {
            source: r.text(s, "source"),
            columns: r.keyword_map(s, "columns"),
            exclude: r.strings(s, "exclude"),
            expectations: r.section(s, "expectations"),
        }
    }
}

impl ReadSection for DataExpectations {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        DataExpectations {
            rows: r.bounds(s, "rows"),
            max_missing_share: r.number(s, "max_missing_share"),
            not_null: r.strings(s, "not_null"),
            unique: r.strings(s, "unique"),
            range: r.bounds_map(s, "range"),
            in_set: r.strings_map(s, "in_set"),
            pattern: r.text_map(s, "pattern"),
            mean: r.bounds_map(s, "mean"),
            freshness_column: r.text(s, "freshness_column"),
            max_age: r.parsed(s, "max_age", DELAY_EXPECTED, |text| {
                LabelDelay::parse(text).map_err(|reason| (reason, None))
            }),
        }
    }
}

impl ReadSection for StoreSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        StoreSection {
            url: r.text(s, "url"),
            artifacts: r.text(s, "artifacts"),
            sync: r.keyword(s, "sync"),
        }
    }
}

impl ReadSection for ProblemSpec {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        ProblemSpec {
            problem: r.section(s, "problem"),
            constraints: r.section(s, "constraints"),
            baseline: r.section(s, "baseline"),
            business: r.section(s, "business"),
            data: r.section(s, "data"),
            store: r.section(s, "store"),
            split: r.section(s, "split"),
            train: r.section(s, "train"),
            evaluate: r.section(s, "evaluate"),
            deploy: r.section(s, "deploy"),
            iterate: r.section(s, "iterate"),
            monitor: r.section(s, "monitor"),
            runtime: r.section(s, "runtime"),
        }
    }
}

/// The result of reading a file once: the typed contract, where its keys are, and the
/// problems of form met on the way.
struct Reading {
    spec: ProblemSpec,
    places: Places,
    diagnostics: Vec<Diagnostic>,
    empty: bool,
}

fn read(text: &str) -> Reading {
    let mut reader = Reader::new(text);
    // Recovery keeps the rest of the file readable after a syntax error, so one `check` run
    // can report the syntax error and the other problems together.
    let (root, errors) = DeTable::parse_recoverable(text);
    for error in &errors {
        let diagnostic = syntax_diagnostic(&reader.lines, error);
        reader.diagnostics.push(diagnostic);
    }
    let syntax_lines: Vec<usize> = reader.diagnostics.iter().filter_map(|d| d.line).collect();
    let empty = errors.is_empty() && root.get_ref().is_empty();
    if empty {
        reader.report(
            "",
            Some((1, 1)),
            Severity::Error,
            DiagnosticCode::Empty,
            "the file is empty: expected at least [problem] and [baseline] \
             (`aidlc init` writes a commented template)"
                .to_string(),
        );
    }
    let mut section = reader.root(root.get_ref());
    let spec = ProblemSpec::read(&mut reader, &mut section);
    reader.finish(&section);
    // Where recovery had to guess, the guessed values would only repeat the syntax error in
    // other words.
    let mut diagnostics = reader.diagnostics;
    diagnostics.retain(|d| {
        d.code == DiagnosticCode::Syntax || !d.line.is_some_and(|l| syntax_lines.contains(&l))
    });
    Reading {
        spec,
        places: reader.places,
        diagnostics,
        empty,
    }
}

/// Turns a TOML syntax error into a diagnostic whose message names the key being written.
fn syntax_diagnostic(lines: &LineIndex<'_>, error: &toml::de::Error) -> Diagnostic {
    let (line, column) = error
        .span()
        .map_or((1, 1), |span| lines.span_position(&span));
    let (key, value_missing) = key_at_line(lines, line);
    let message = if value_missing && !key.is_empty() {
        format!("`{key}` has no value after `=`")
    } else if error.message() == "duplicate key" && !key.is_empty() {
        format!("`{key}` is defined twice")
    } else if key.is_empty() {
        format!("TOML syntax error: {}", error.message())
    } else {
        format!("TOML syntax error at `{key}`: {}", error.message())
    };
    Diagnostic {
        key,
        line: Some(line),
        column: Some(column),
        severity: Severity::Error,
        code: DiagnosticCode::Syntax,
        message,
    }
}

/// Guesses the key path written on a line from the text around it, for messages about text
/// that does not parse: the last `[header]` at or above the line, plus the key before `=`.
/// Also says whether nothing follows the `=`.
fn key_at_line(lines: &LineIndex<'_>, line: usize) -> (String, bool) {
    let header = (1..=line.min(lines.line_count()))
        .rev()
        .map(|l| lines.line_text(l).trim())
        .find(|text| text.starts_with('['))
        .map(|text| {
            let inner = text.trim_start_matches('[');
            let end = inner.find(']').unwrap_or(inner.len());
            inner[..end].trim().to_string()
        })
        .unwrap_or_default();
    let text = lines.line_text(line).trim();
    if text.starts_with('[') || text.starts_with('#') {
        return (header, false);
    }
    let Some((key, value)) = text.split_once('=') else {
        return (header, false);
    };
    let key = key.trim().trim_matches('"');
    let value_missing = value.split('#').next().unwrap_or("").trim().is_empty();
    let path = match (header.is_empty(), key.is_empty()) {
        (_, true) => header,
        (true, false) => key.to_string(),
        (false, false) => format!("{header}.{key}"),
    };
    (path, value_missing)
}

fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| (d.line.is_none(), d.line, d.column));
}

impl ProblemSpec {
    /// Reads `aidlc.toml` text. `file_name` is used in error messages only.
    ///
    /// Fails on problems of form — TOML syntax, a wrong type, an unknown key, a value that cannot
    /// be read (an unknown task, an unparsable delay or rule), an empty file — with the first one
    /// in file order. Problems of content are left to [`check`].
    pub fn parse(text: &str, file_name: &str) -> Result<ProblemSpec, SpecError> {
        let mut reading = read(text);
        sort(&mut reading.diagnostics);
        match reading
            .diagnostics
            .into_iter()
            .find(|d| d.code.is_malformed())
        {
            Some(d) => Err(SpecError {
                file: file_name.to_string(),
                line: d.line.unwrap_or(1),
                column: d.column.unwrap_or(1),
                key: d.key,
                code: d.code,
                message: d.message,
            }),
            None => Ok(reading.spec),
        }
    }
}

/// Lists every problem of `aidlc.toml` text. With `data_columns` (the header of the data),
/// it also names every column the contract mentions that the data does not have.
pub fn check(text: &str, file_name: &str, data_columns: Option<&[String]>) -> CheckReport {
    let reading = read(text);
    let mut diagnostics = reading.diagnostics;
    if !reading.empty {
        diagnostics.extend(validate::validate(
            &reading.spec,
            &reading.places,
            data_columns,
        ));
    }
    sort(&mut diagnostics);
    CheckReport {
        file: file_name.to_string(),
        diagnostics,
    }
}

#[cfg(test)]
mod tests;
