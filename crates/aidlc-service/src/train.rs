//! The development stage: `aidlc train` as a use case. It takes a valid dataset version, splits
//! it as `[split]` says (the split is recorded with its leakage report), trains with a built-in
//! trainer or an external command, and records everything as one tracked run — lineage as tags,
//! hyperparameters as params, the validation curve as metrics, logs and the model as artifacts —
//! then registers the model version with its lineage. A failed training is a FAILED run and
//! nothing is registered.

use crate::data::{self as data_service, DataServiceError, IngestRequest};
use crate::split::{
    SplitColumns, SplitData, SplitManifest, SplitServiceError, load_dataset, record_split,
};
use aidlc_core::ids::ContentHash;
use aidlc_core::records::{DatasetVersion, RunStatus as TrackedStatus};
use aidlc_core::spec::{
    BuiltinTrainer, ClassWeight, LabelValue, ProblemSpec, SplitKind as SpecSplitKind, Task,
};
use aidlc_data::split::{Fractions, SplitKind, SplitPlan};
use aidlc_data::{Column, Table};
use aidlc_models::train::{
    ClassWeight as ModelClassWeight, GbdtParams, LinearParams, Target, TrainSet, TrainerSpec,
};
use aidlc_models::{Frame, ModelError};
use aidlc_store::{
    ArtifactStore, AuditContext, AuditStore, DatasetStore, KeyValue, LocalArtifactStore, LogBatch,
    Metric as TrackedMetric, NewRegistryVersion, NewTrackedRun, RegistryStore, RegistryVersion,
    RunUpdate, SplitStore, StoreError, TrackedRun, TrackingStore,
};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Why training did not produce a registered model.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    #[error(transparent)]
    Data(#[from] DataServiceError),
    #[error(transparent)]
    Split(#[from] SplitServiceError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Artifact(#[from] aidlc_store::ArtifactError),
    #[error("{0}")]
    Invalid(String),
    /// The trainer ran and failed; the run is recorded as FAILED.
    #[error("training failed (run {run_id} recorded as FAILED): {reason}")]
    Failed { run_id: String, reason: String },
}

type Result<T, E = TrainError> = std::result::Result<T, E>;

/// Where the training data comes from.
#[derive(Debug, Clone)]
pub enum TrainData {
    /// A file, ingested first (an unchanged file is the version already recorded).
    File(Box<IngestRequest>),
    /// A recorded dataset version, `NAME` (newest) or `NAME@VERSION`.
    Dataset(String),
}

/// Everything `train` needs besides the store.
#[derive(Debug, Clone)]
pub struct TrainRequest {
    pub spec: ProblemSpec,
    pub project_dir: PathBuf,
    pub data: TrainData,
    /// The registered model the version goes to.
    pub model_name: String,
    pub run_name: Option<String>,
    /// Root of the MLflow artifact proxy, where run artifacts live
    /// (`mlflow-artifacts:/EXP/RUN/artifacts` → `ROOT/EXP/RUN/artifacts`).
    pub run_artifacts_root: PathBuf,
    /// The tracking server an external command may log to (`MLFLOW_TRACKING_URI`).
    pub tracking_uri: Option<String>,
    /// The external command's time limit when `[train] timeout` is not written.
    pub default_timeout: Duration,
    /// Versions of the tools involved, recorded as `aidlc.tool.*` tags.
    pub tool_versions: Vec<(String, String)>,
}

/// What a successful training recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TrainOutcome {
    pub run: TrackedRun,
    pub version: RegistryVersion,
    pub dataset: String,
    pub split_manifest: ContentHash,
    pub trainer: String,
    pub rows: SplitRows,
    pub duration_ms: i64,
    pub best_iteration: Option<usize>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct SplitRows {
    pub train: usize,
    pub valid: usize,
    pub test: usize,
}

/// The split plan and columns `[split]` and `[problem]` describe. Without `[split]`, a problem
/// with a time column splits in time, a classification is stratified, anything else random.
pub fn plan_from_spec(spec: &ProblemSpec) -> Result<(SplitPlan, SplitColumns)> {
    let s = &spec.split;
    let problem = &spec.problem;
    let kind = match s.kind {
        Some(k) => k,
        None if problem.time.is_some() => SpecSplitKind::Temporal,
        None if problem.task.is_some_and(Task::is_classification) => SpecSplitKind::Stratified,
        None => SpecSplitKind::Random,
    };
    let kind: SplitKind = kind.as_str().parse().map_err(TrainError::Invalid)?;
    let written = [s.train, s.valid, s.test];
    let fractions = if written.iter().all(Option::is_none) {
        Fractions::default()
    } else {
        Fractions {
            train: s.train.unwrap_or(0.0),
            valid: s.valid.unwrap_or(0.0),
            test: s.test.unwrap_or(0.0),
        }
    };
    let instant = |text: &Option<String>, key: &str| -> Result<Option<i64>> {
        text.as_deref()
            .map(|t| {
                aidlc_data::time::parse_instant_ms(t).ok_or_else(|| {
                    TrainError::Invalid(format!(
                        "`{key}` = {t:?} is not a date or date-time (YYYY-MM-DD[THH:MM[:SS]])"
                    ))
                })
            })
            .transpose()
    };
    let plan = SplitPlan {
        kind,
        fractions,
        seed: s.seed.map_or(0, |x| x as u64),
        valid_start_ms: instant(&s.valid_start, "split.valid_start")?,
        test_start_ms: instant(&s.test_start, "split.test_start")?,
        gap_ms: s.gap.map_or(0, |g| g.seconds as i64 * 1000),
    };
    let columns = SplitColumns {
        entity: problem.entity.clone(),
        time: problem.time.clone(),
        label: problem.label.column.clone(),
        positive_label: problem.label.positive_value.as_ref().map(label_text),
        label_delay_ms: problem.label.delay.map(|d| d.seconds as i64 * 1000),
        time_unit_ms: problem.time_unit.map(|d| d.seconds as i64 * 1000),
    };
    Ok((plan, columns))
}

/// A label value as the text class names use ("1", "yes").
pub fn label_text(value: &LabelValue) -> String {
    match value {
        LabelValue::Bool(b) => if *b { "1" } else { "0" }.to_string(),
        LabelValue::Integer(i) => i.to_string(),
        LabelValue::Float(x) => format!("{x}"),
        LabelValue::Text(t) => t.clone(),
    }
}

/// The rows of a table at the given indices, in that order.
pub fn take_rows(table: &Table, rows: &[u32]) -> Table {
    let columns = table
        .columns
        .iter()
        .map(|c| match c {
            Column::Numeric(v) => Column::Numeric(rows.iter().map(|&i| v[i as usize]).collect()),
            Column::Categorical(v) => {
                Column::Categorical(rows.iter().map(|&i| v[i as usize].clone()).collect())
            }
        })
        .collect();
    Table {
        path: table.path.clone(),
        format: table.format,
        schema: table.schema.clone(),
        columns,
        n_rows: rows.len(),
    }
}

/// The feature columns: `[train] features` when written, else every column but the label,
/// time, entity and `[data] exclude`.
pub fn feature_columns(spec: &ProblemSpec, table: &Table) -> Result<Vec<String>> {
    if !spec.train.features.is_empty() {
        for f in &spec.train.features {
            if table.column(f).is_none() {
                return Err(TrainError::Invalid(format!(
                    "`train.features` names `{f}`, which the data does not have; columns: {}",
                    table.names().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        return Ok(spec.train.features.clone());
    }
    let p = &spec.problem;
    let skip: Vec<&str> = [&p.label.column, &p.time, &p.entity]
        .into_iter()
        .flatten()
        .map(String::as_str)
        .chain(spec.data.exclude.iter().map(String::as_str))
        .collect();
    let features: Vec<String> = table
        .names()
        .filter(|n| !skip.contains(n))
        .map(str::to_owned)
        .collect();
    if features.is_empty() {
        return Err(TrainError::Invalid(
            "no feature columns are left after the label, time, entity and [data] exclude".into(),
        ));
    }
    Ok(features)
}

/// The classes of a classification label, in a fixed order: for a binary task the negative
/// class first and the positive class (`positive_value`) second, so that probability column 1
/// is P(positive); otherwise sorted (numerically when all are numbers).
pub fn classes_of(spec: &ProblemSpec, label: &Column) -> Result<Vec<String>> {
    let mut seen: Vec<String> = label_texts(label).into_iter().flatten().collect();
    seen.sort();
    seen.dedup();
    let numeric: Option<Vec<f64>> = seen.iter().map(|s| s.parse::<f64>().ok()).collect();
    if let Some(mut pairs) = numeric.map(|n| n.into_iter().zip(seen.clone()).collect::<Vec<_>>()) {
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0));
        seen = pairs.into_iter().map(|(_, s)| s).collect();
    }
    if spec.problem.task == Some(Task::BinaryClassification) {
        let positive = spec
            .problem
            .label
            .positive_value
            .as_ref()
            .map(label_text)
            .ok_or_else(|| {
                TrainError::Invalid("a binary task needs `problem.label.positive_value`".into())
            })?;
        let positive = seen
            .iter()
            .find(|s| same_label(s, &positive))
            .cloned()
            .ok_or_else(|| {
                TrainError::Invalid(format!(
                    "the label has no row with the positive value {positive:?}; values: {}",
                    seen.join(", ")
                ))
            })?;
        let negatives: Vec<&String> = seen.iter().filter(|s| **s != positive).collect();
        if negatives.len() != 1 {
            return Err(TrainError::Invalid(format!(
                "a binary label needs exactly two values; found {}",
                seen.join(", ")
            )));
        }
        return Ok(vec![negatives[0].clone(), positive]);
    }
    if seen.len() < 2 {
        return Err(TrainError::Invalid(format!(
            "the label needs at least two classes; found {}",
            seen.join(", ")
        )));
    }
    Ok(seen)
}

/// Equal as labels: "1" and "1.0" name the same class.
fn same_label(a: &str, b: &str) -> bool {
    a == b
        || matches!((a.parse::<f64>(), b.parse::<f64>()), (Ok(x), Ok(y)) if x == y)
        || matches!(
            (a, b),
            ("true", "1") | ("1", "true") | ("false", "0") | ("0", "false")
        )
}

/// A label column as class names. Whole numbers are written without a fraction, so a label
/// stored as float64 in Parquet (`1.0`) names the same class as in the CSV it came from (`1`).
fn label_texts(label: &Column) -> Vec<Option<String>> {
    crate::split::texts(label)
        .into_iter()
        .map(|t| t.map(|t| normalize_label(&t)))
        .collect()
}

fn normalize_label(text: &str) -> String {
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x.fract() == 0.0 && x.abs() < 1e15 => format!("{}", x as i64),
        _ => text.to_string(),
    }
}

/// The target of a table's label column, with the row that breaks it named.
pub fn target_of(spec: &ProblemSpec, table: &Table, classes: Option<&[String]>) -> Result<Target> {
    let name = spec
        .problem
        .label
        .column
        .as_deref()
        .ok_or_else(|| TrainError::Invalid("missing `problem.label.column`".into()))?;
    let label = table.column(name).ok_or_else(|| {
        TrainError::Invalid(format!("the label column `{name}` is not in the data"))
    })?;
    match classes {
        Some(classes) => {
            let texts = label_texts(label);
            let mut y = Vec::with_capacity(texts.len());
            for (row, t) in texts.iter().enumerate() {
                let t = t.as_deref().ok_or_else(|| {
                    TrainError::Invalid(format!("label `{name}`, row {}: missing value", row + 1))
                })?;
                let k = classes
                    .iter()
                    .position(|c| same_label(c, t))
                    .ok_or_else(|| {
                        TrainError::Invalid(format!(
                            "label `{name}`, row {}: {t:?} is not one of the training classes ({})",
                            row + 1,
                            classes.join(", ")
                        ))
                    })?;
                y.push(k);
            }
            Ok(Target::Classes {
                classes: classes.to_vec(),
                y,
            })
        }
        None => match label {
            Column::Numeric(v) => {
                if let Some(row) = v.iter().position(|x| !x.is_finite()) {
                    return Err(TrainError::Invalid(format!(
                        "label `{name}`, row {}: missing or not a finite number",
                        row + 1
                    )));
                }
                Ok(Target::Values(v.clone()))
            }
            Column::Categorical(_) => Err(TrainError::Invalid(format!(
                "label `{name}` holds text; a regression needs numbers"
            ))),
        },
    }
}

fn train_set(table: &Table, features: &[String], target: Target) -> Result<TrainSet> {
    let columns = features
        .iter()
        .map(|f| table.column(f).cloned().expect("features were checked"))
        .collect();
    let frame = Frame::new(features.to_vec(), columns).map_err(model_err)?;
    Ok(TrainSet {
        features: frame,
        target,
        weights: None,
    })
}

fn model_err(e: ModelError) -> TrainError {
    TrainError::Invalid(e.to_string())
}

/// The built-in trainer `[train]` asks for, with its hyperparameters.
pub fn trainer_spec(spec: &ProblemSpec, trainer: BuiltinTrainer) -> TrainerSpec {
    let t = &spec.train;
    let whole = |x: Option<f64>| x.map(|v| v as usize);
    match trainer {
        BuiltinTrainer::Baseline => match spec.baseline.kind {
            Some(aidlc_core::spec::BaselineKind::Majority) => TrainerSpec::Majority,
            Some(aidlc_core::spec::BaselineKind::Mean) => TrainerSpec::Mean,
            _ if spec.problem.task == Some(Task::Regression) => TrainerSpec::Mean,
            _ => TrainerSpec::Prior,
        },
        BuiltinTrainer::Logistic => {
            let mut p = LinearParams::default();
            if let Some(l2) = t.logistic.l2 {
                p.l2 = l2;
            }
            if let Some(m) = whole(t.logistic.max_iter) {
                p.max_iter = m;
            }
            if t.logistic.class_weight == Some(ClassWeight::Balanced) {
                p.class_weight = ModelClassWeight::Balanced;
            }
            TrainerSpec::Linear(p)
        }
        BuiltinTrainer::Gbdt => {
            let g = &t.gbdt;
            let mut p = GbdtParams::default();
            if let Some(v) = whole(g.n_trees) {
                p.n_trees = v;
            }
            if let Some(v) = g.learning_rate {
                p.learning_rate = v;
            }
            if let Some(v) = whole(g.max_leaves) {
                p.max_leaves = v;
            }
            if g.max_depth.is_some() {
                p.max_depth = whole(g.max_depth);
            }
            if let Some(v) = whole(g.min_samples_leaf) {
                p.min_samples_leaf = v;
            }
            if let Some(v) = g.l2 {
                p.l2 = v;
            }
            if let Some(v) = whole(g.max_bins) {
                p.max_bins = v;
            }
            if g.early_stopping_rounds.is_some() {
                p.early_stopping_rounds = whole(g.early_stopping_rounds);
            }
            if let Some(v) = g.subsample {
                p.subsample = v;
            }
            if let Some(v) = g.feature_fraction {
                p.feature_fraction = v;
            }
            TrainerSpec::Gbdt(p)
        }
    }
}

/// The data, split and frames of one training, before any run exists.
pub struct Prepared {
    pub version: DatasetVersion,
    pub data: SplitData,
    pub manifest_hash: ContentHash,
    pub manifest: SplitManifest,
    pub train: Table,
    pub valid: Table,
    pub test: Table,
    pub features: Vec<String>,
    pub classes: Option<Vec<String>>,
}

/// Resolves the dataset (refusing an invalid version unless the context carries an override
/// reason, which is audited), records the split and cuts the tables.
pub async fn prepare<S>(
    store: &S,
    artifacts: &LocalArtifactStore,
    ctx: &AuditContext,
    spec: &ProblemSpec,
    data: &TrainData,
    scratch: &Path,
) -> Result<Prepared>
where
    S: DatasetStore + SplitStore + AuditStore + Sync,
{
    let (plan, columns) = plan_from_spec(spec)?;
    let reference = match data {
        TrainData::File(request) => {
            let outcome = data_service::ingest(store, artifacts, ctx, request, &mut |_| {}).await?;
            format!("{}@{}", outcome.version.data.name, outcome.version.version)
        }
        TrainData::Dataset(r) => r.clone(),
    };
    let data = load_dataset(store, artifacts, &reference, &columns, scratch)
        .await?
        .ok_or_else(|| TrainError::Invalid(format!("no dataset `{reference}` is recorded")))?;
    let (name, number) = reference
        .rsplit_once('@')
        .map_or((reference.as_str(), None), |(n, v)| (n, v.parse().ok()));
    let version = store
        .get_dataset_version(name, number)
        .await?
        .ok_or_else(|| TrainError::Invalid(format!("no dataset `{reference}` is recorded")))?;
    data_service::require_valid(store, ctx, &version, "training").await?;
    let summary = record_split(store, artifacts, ctx, &data, &plan, &columns).await?;
    let manifest: SplitManifest = serde_json::from_slice(
        &artifacts.get_bytes(&summary.manifest_hash).await?,
    )
    .map_err(|e| TrainError::Invalid(format!("the stored split manifest cannot be read: {e}")))?;
    let a = &manifest.assignment;
    if a.train.is_empty() {
        return Err(TrainError::Invalid(
            "the split left no training rows".into(),
        ));
    }
    let train = take_rows(&data.table, &a.train);
    let valid = take_rows(&data.table, &a.valid);
    let test = take_rows(&data.table, &a.test);
    let features = feature_columns(spec, &data.table)?;
    let task = spec
        .problem
        .task
        .ok_or_else(|| TrainError::Invalid("missing `problem.task`".into()))?;
    let classes = if task.is_classification() {
        let label = spec.problem.label.column.as_deref().unwrap_or_default();
        let column = train.column(label).ok_or_else(|| {
            TrainError::Invalid(format!("the label column `{label}` is not in the data"))
        })?;
        Some(classes_of(spec, column)?)
    } else {
        None
    };
    Ok(Prepared {
        version,
        data,
        manifest_hash: summary.manifest_hash,
        manifest,
        train,
        valid,
        test,
        features,
        classes,
    })
}

/// The current git commit of a folder and whether its work tree has changes; `None` outside a
/// repository or without git.
pub fn git_state(dir: &Path) -> Option<(String, bool)> {
    let run = |args: &[&str]| {
        std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
    };
    let commit = run(&["rev-parse", "HEAD"])?.trim().to_string();
    let dirty = run(&["status", "--porcelain"]).is_some_and(|s| !s.trim().is_empty());
    Some((commit, dirty))
}

fn kv(key: &str, value: impl ToString) -> KeyValue {
    KeyValue {
        key: key.to_string(),
        value: value.to_string(),
    }
}

/// The local folder behind a run's `mlflow-artifacts:/…` URI.
pub fn run_artifact_dir(root: &Path, artifact_uri: &str) -> Option<PathBuf> {
    let rest = artifact_uri.strip_prefix("mlflow-artifacts:")?;
    let rest = rest.trim_start_matches('/');
    let mut out = root.to_path_buf();
    for part in rest.split('/') {
        if part.is_empty() || part == "." || part == ".." {
            continue;
        }
        out.push(part);
    }
    Some(out)
}

/// Trains and registers, recording one tracked run. The framing gate is the caller's (the CLI
/// checks `aidlc.toml` first); the dataset gate is here.
pub async fn train<S>(
    store: &S,
    artifacts: &LocalArtifactStore,
    ctx: &AuditContext,
    request: &TrainRequest,
) -> Result<TrainOutcome>
where
    S: DatasetStore + SplitStore + AuditStore + TrackingStore + RegistryStore + Sync,
{
    let spec = &request.spec;
    let started = Instant::now();
    let scratch = tempfile::tempdir()
        .map_err(|e| TrainError::Invalid(format!("cannot make a scratch folder: {e}")))?;
    let prepared = prepare(store, artifacts, ctx, spec, &request.data, scratch.path()).await?;
    let trainer_name = match (&spec.train.builtin, &spec.train.command) {
        (Some(b), None) => b.as_str().to_string(),
        (None, Some(_)) => "command".to_string(),
        (None, None) => {
            return Err(TrainError::Invalid(
                "[train] needs `builtin` (\"baseline\", \"logistic\", \"gbdt\") or `command`"
                    .into(),
            ));
        }
        (Some(_), Some(_)) => {
            return Err(TrainError::Invalid(
                "give `train.builtin` or `train.command`, not both".into(),
            ));
        }
    };

    // The run exists before training starts, so a crash or failure leaves a visible record.
    let experiment = match store.get_experiment_by_name(&request.model_name).await? {
        Some(e) => e,
        None => {
            store
                .create_experiment(ctx, &request.model_name, None, Vec::new())
                .await?
        }
    };
    let git = git_state(&request.project_dir);
    let version = &prepared.version;
    let mut tags = vec![
        kv("aidlc.dataset", &version.id.0),
        kv(
            "aidlc.dataset_ref",
            format!("{}@{}", version.data.name, version.version),
        ),
        kv("aidlc.dataset_hash", &version.data.hash),
        kv("aidlc.split", &prepared.manifest_hash),
        kv("aidlc.trainer", &trainer_name),
        kv("mlflow.source.type", "LOCAL"),
        kv("mlflow.source.name", "aidlc train"),
    ];
    if let Some((commit, dirty)) = &git {
        tags.push(kv("mlflow.source.git.commit", commit));
        tags.push(kv("aidlc.git_dirty", dirty));
    }
    for (tool, v) in &request.tool_versions {
        tags.push(kv(&format!("aidlc.tool.{tool}"), v));
    }
    if let Some(name) = &request.run_name {
        tags.push(kv("mlflow.runName", name));
    }
    let run = store
        .create_tracked_run(
            ctx,
            NewTrackedRun {
                experiment_id: experiment.id,
                name: request.run_name.clone().unwrap_or_default(),
                user_id: ctx.actor.clone(),
                start_time: ctx.at_ms,
                tags,
            },
        )
        .await?;
    let run_dir = run_artifact_dir(&request.run_artifacts_root, &run.artifact_uri)
        .ok_or_else(|| TrainError::Invalid(format!("run artifact URI {}", run.artifact_uri)))?;
    let rows = SplitRows {
        train: prepared.train.n_rows,
        valid: prepared.valid.n_rows,
        test: prepared.test.n_rows,
    };
    let mut params = vec![
        kv("trainer", &trainer_name),
        kv("features", prepared.features.join(",")),
        kv("rows.train", rows.train),
        kv("rows.valid", rows.valid),
        kv("rows.test", rows.test),
    ];

    let result = match (&spec.train.builtin, &spec.train.command) {
        (Some(builtin), _) => {
            let trainer = trainer_spec(spec, *builtin);
            if let Ok(serde_json::Value::Object(map)) = serde_json::to_value(&trainer) {
                flatten_params("", &serde_json::Value::Object(map), &mut params);
            }
            train_builtin(spec, &prepared, &trainer)
                .map(|(bytes, outcome)| (bytes, "model.json", outcome.0, outcome.1))
        }
        (None, Some(command)) => {
            params.push(kv("command", command));
            run_command(request, &prepared, command, &run, &run_dir)
                .map(|bytes| (bytes, "model.onnx", None, Vec::new()))
        }
        (None, None) => unreachable!("checked above"),
    };
    store
        .log_batch(
            ctx,
            &run.id,
            LogBatch {
                params: dedup_params(params),
                ..LogBatch::default()
            },
        )
        .await?;
    let (bytes, file_name, best_iteration, history) = match result {
        Ok(ok) => ok,
        Err(reason) => {
            finish_run(store, ctx, &run.id, TrackedStatus::Failed, started).await?;
            return Err(TrainError::Failed {
                run_id: run.id.clone(),
                reason,
            });
        }
    };

    let hash = artifacts.put_bytes(bytes.clone()).await?;
    let model_dir = run_dir.join("model");
    std::fs::create_dir_all(&model_dir)
        .and_then(|()| std::fs::write(model_dir.join(file_name), &bytes))
        .map_err(|e| TrainError::Invalid(format!("{}: {e}", model_dir.display())))?;
    let now = ctx.at_ms + started.elapsed().as_millis() as i64;
    let mut metrics: Vec<TrackedMetric> = history
        .iter()
        .enumerate()
        .map(|(step, loss)| TrackedMetric {
            key: "valid_loss".into(),
            value: *loss,
            timestamp: now,
            step: step as i64,
            model_id: None,
            dataset_name: None,
            dataset_digest: None,
        })
        .collect();
    let duration_ms = started.elapsed().as_millis() as i64;
    metrics.push(TrackedMetric {
        key: "training_seconds".into(),
        value: duration_ms as f64 / 1000.0,
        timestamp: now,
        step: 0,
        model_id: None,
        dataset_name: None,
        dataset_digest: None,
    });
    let mut tags = vec![
        kv("aidlc.artifact", &hash),
        kv("aidlc.duration_ms", duration_ms),
    ];
    if let Some(best) = best_iteration {
        tags.push(kv("aidlc.best_iteration", best));
    }
    store
        .log_batch(
            ctx,
            &run.id,
            LogBatch {
                metrics,
                params: Vec::new(),
                tags,
            },
        )
        .await?;
    let version = store
        .create_registry_version(
            ctx,
            NewRegistryVersion {
                model: request.model_name.clone(),
                artifact: hash.clone(),
                source: format!("runs:/{}/model/{file_name}", run.id),
                run_id: Some(run.id.clone()),
                logged_model_id: None,
                description: String::new(),
                tags: vec![kv("aidlc.trainer", &trainer_name)],
                dataset_version: Some(prepared.version.id.clone()),
                split: Some(prepared.manifest_hash.clone()),
                git_commit: git.as_ref().map(|g| g.0.clone()),
                git_dirty: git.as_ref().map(|g| g.1),
                create_model: true,
            },
        )
        .await?;
    let run = finish_run(store, ctx, &run.id, TrackedStatus::Finished, started).await?;
    Ok(TrainOutcome {
        run,
        version,
        dataset: format!(
            "{}@{}",
            prepared.version.data.name, prepared.version.version
        ),
        split_manifest: prepared.manifest_hash,
        trainer: trainer_name,
        rows,
        duration_ms,
        best_iteration,
    })
}

async fn finish_run<S: TrackingStore>(
    store: &S,
    ctx: &AuditContext,
    id: &str,
    status: TrackedStatus,
    started: Instant,
) -> Result<TrackedRun> {
    Ok(store
        .update_tracked_run(
            ctx,
            id,
            RunUpdate {
                status: Some(status),
                end_time: Some(ctx.at_ms + started.elapsed().as_millis() as i64),
                name: None,
            },
        )
        .await?)
}

/// MLflow params are one value per key; later values of a repeated key are dropped.
fn dedup_params(params: Vec<KeyValue>) -> Vec<KeyValue> {
    let mut seen = std::collections::HashSet::new();
    params
        .into_iter()
        .filter(|p| seen.insert(p.key.clone()))
        .collect()
}

fn flatten_params(prefix: &str, value: &serde_json::Value, out: &mut Vec<KeyValue>) {
    match value {
        serde_json::Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                flatten_params(&key, v, out);
            }
        }
        serde_json::Value::Null => {}
        serde_json::Value::String(s) => out.push(kv(prefix, s)),
        other => out.push(kv(prefix, other)),
    }
}

/// Model bytes, best iteration and validation-loss history of a built-in training, or the
/// reason it failed.
#[allow(clippy::type_complexity)]
fn train_builtin(
    spec: &ProblemSpec,
    prepared: &Prepared,
    trainer: &TrainerSpec,
) -> std::result::Result<(Vec<u8>, (Option<usize>, Vec<f64>)), String> {
    let build = |table: &Table| -> Result<TrainSet> {
        let target = target_of(spec, table, prepared.classes.as_deref())?;
        train_set(table, &prepared.features, target)
    };
    let mut train = build(&prepared.train).map_err(|e| e.to_string())?;
    if matches!(trainer, TrainerSpec::Gbdt(_))
        && spec.train.gbdt.class_weight == Some(ClassWeight::Balanced)
        && let Target::Classes { classes, y } = &train.target
    {
        train.weights = Some(balanced_weights(y, classes.len()));
    }
    let valid = if prepared.valid.n_rows > 0 {
        Some(build(&prepared.valid).map_err(|e| e.to_string())?)
    } else {
        None
    };
    let seed = spec.train.seed.map_or(0, |s| s as u64);
    let outcome = aidlc_models::train::train(trainer, &train, valid.as_ref(), seed)
        .map_err(|e| e.to_string())?;
    Ok((
        outcome.model.to_bytes(),
        (outcome.best_iteration, outcome.valid_history),
    ))
}

/// Row weights that give every class the same total weight: `n / (k · n_class)`.
fn balanced_weights(y: &[usize], k: usize) -> Vec<f64> {
    let mut counts = vec![0usize; k];
    for &c in y {
        counts[c] += 1;
    }
    let n = y.len() as f64;
    y.iter()
        .map(|&c| n / (k as f64 * counts[c] as f64))
        .collect()
}

/// Runs the external command and returns the bytes of the `model.onnx` it wrote, or why it
/// failed. Its stdout and stderr become run artifacts either way.
fn run_command(
    request: &TrainRequest,
    prepared: &Prepared,
    command: &str,
    run: &TrackedRun,
    run_dir: &Path,
) -> std::result::Result<Vec<u8>, String> {
    let work = tempfile::tempdir().map_err(|e| format!("cannot make a scratch folder: {e}"))?;
    let train_path = work.path().join("train.parquet");
    let valid_path = work.path().join("valid.parquet");
    let output = work.path().join("output");
    std::fs::create_dir_all(&output).map_err(|e| e.to_string())?;
    for (path, table) in [
        (&train_path, &prepared.train),
        (&valid_path, &prepared.valid),
    ] {
        aidlc_data::write_table(path, &table.schema, &table.columns)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    let logs = run_dir.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("{}: {e}", logs.display()))?;
    let stdout = std::fs::File::create(logs.join("stdout.txt")).map_err(|e| e.to_string())?;
    let stderr = std::fs::File::create(logs.join("stderr.txt")).map_err(|e| e.to_string())?;
    let mut cmd = std::process::Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(&request.project_dir)
        .env("AIDLC_TRAIN_PATH", &train_path)
        .env("AIDLC_VALID_PATH", &valid_path)
        .env("AIDLC_OUTPUT_DIR", &output)
        .env("AIDLC_FEATURES", prepared.features.join(","))
        .env("MLFLOW_RUN_ID", &run.id)
        .env("MLFLOW_EXPERIMENT_ID", run.experiment_id.to_string())
        .stdin(std::process::Stdio::null())
        .stdout(stdout)
        .stderr(stderr);
    if let Some(label) = &request.spec.problem.label.column {
        cmd.env("AIDLC_LABEL", label);
    }
    match &request.tracking_uri {
        Some(uri) => {
            cmd.env("MLFLOW_TRACKING_URI", uri);
        }
        None => {
            cmd.env_remove("MLFLOW_TRACKING_URI");
        }
    }
    let timeout = request
        .spec
        .train
        .timeout
        .map_or(request.default_timeout, |t| {
            Duration::from_secs(t.seconds.max(1))
        });
    // Its own process group, so a timeout stops the command's children too (a shell running
    // python, say), not just the shell.
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot start `{command}`: {e}"))?;
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                #[cfg(unix)]
                let _ = std::process::Command::new("kill")
                    .args(["-s", "KILL", "--", &format!("-{}", child.id())])
                    .status();
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`{command}` ran past its {}s timeout and was stopped",
                    timeout.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for `{command}`: {e}")),
        }
    };
    if !status.success() {
        let tail = std::fs::read_to_string(logs.join("stderr.txt")).unwrap_or_default();
        let tail: Vec<&str> = tail.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(format!(
            "`{command}` exited with {status}{}",
            if tail.is_empty() {
                String::new()
            } else {
                format!("; stderr ends with:\n{}", tail.join("\n"))
            }
        ));
    }
    let model = output.join("model.onnx");
    let bytes = std::fs::read(&model).map_err(|_| {
        format!(
            "`{command}` succeeded but wrote no model.onnx into $AIDLC_OUTPUT_DIR ({})",
            output.display()
        )
    })?;
    // A model ONNX Runtime cannot load is refused now rather than at serving time; without the
    // runtime the file is kept as it is.
    match aidlc_models::load_model_bytes(bytes.clone(), "model.onnx") {
        Ok(_) | Err(ModelError::RuntimeUnavailable { .. }) => Ok(bytes),
        Err(e) => Err(format!("model.onnx cannot be loaded: {e}")),
    }
}
