//! The command line: global options and the verbs, grouped by stage of the loop.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "aidlc",
    version,
    about = "The AI development life cycle as one tool: framing, data, training, evaluation, deployment, monitoring and retraining.",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes. Precedence: defaults < `aidlc.toml` `[store]` < `AIDLC_*` env < flags.
#[derive(Debug, Args, Clone)]
pub struct GlobalArgs {
    /// Project folder (holds aidlc.toml and, by default, .aidlc/).
    #[arg(long, global = true, env = "AIDLC_PROJECT", value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// Metadata store: a SQLite file path or a postgres:// URL [default: <project>/.aidlc/aidlc.db].
    #[arg(long, global = true, env = "AIDLC_STORE", value_name = "URL")]
    pub store: Option<String>,
    /// Artifact folder [default: <project>/.aidlc/artifacts].
    #[arg(long, global = true, env = "AIDLC_ARTIFACTS", value_name = "DIR")]
    pub artifacts: Option<PathBuf>,
    /// When a SQLite write is acknowledged: `normal` (once written; survives a crash of aidlc,
    /// fsynced within 100 ms) or `full` (once fsynced; survives a power cut) [default: normal].
    #[arg(long, global = true, env = "AIDLC_STORE_SYNC", value_name = "MODE", value_parser = parse_store_sync)]
    pub store_sync: Option<aidlc_core::spec::StoreSync>,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    /// The ONNX Runtime library (libonnxruntime.so) [default: aidlc.toml `[runtime] onnxruntime`,
    /// else $ORT_DYLIB_PATH].
    #[arg(long, global = true, env = "AIDLC_ONNXRUNTIME", value_name = "FILE")]
    pub onnxruntime: Option<PathBuf>,
}

fn parse_store_sync(text: &str) -> Result<aidlc_core::spec::StoreSync, String> {
    text.parse()
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Framing: write aidlc.toml (a commented template, or a bundled example project with its data).
    Init(InitArgs),
    /// Framing: check aidlc.toml and list every problem with its key and line (exit 1 if any).
    Check(CheckArgs),
    /// Show the resolved settings (project, store, artifacts, actor) and where each came from.
    Config,
    /// Data: ingest files as dataset versions, list, show and compare them.
    #[command(subcommand)]
    Data(DataCommand),
    /// Monitoring: per-column drift between a reference and a current data file.
    Drift(DriftArgs),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Serve the MLflow-compatible tracking and registry API, the artifact proxy and the native API.
    Server(ServerArgs),
    /// Deployment: the model registry (register, list, show, governed aliases, lineage).
    #[command(subcommand)]
    Models(ModelsCommand),
    /// Data: labels that arrive after the predictions they judge.
    #[command(subcommand)]
    Labels(LabelsCommand),
    /// Data: point-in-time joins of entity rows with feature rows.
    #[command(subcommand)]
    Features(FeaturesCommand),
    /// Development: train a model as `[train]` says, on a split of a valid dataset version; the run
    /// is tracked and the model registered with its lineage.
    Train(TrainArgs),
    /// Batch scoring: a CSV or Parquet file through a model into Parquet or CSV (input columns + outputs).
    Predict(PredictArgs),
    /// Evaluation: score a model version on its split's held-out rows beside the baseline and the
    /// champion, check `[evaluate.gates]` and store the report (exit 1 when a gate fails).
    Evaluate(EvaluateArgs),
    /// Evaluation: render a version's stored report as a self-contained model card (HTML cards
    /// include the version's monitoring history where it served).
    Report(ReportArgs),
    /// Deployment: serve MODEL@ALIAS at ENDPOINT (a running server picks it up within a second),
    /// or roll a new version out to it (`--version V --strategy canary|shadow|direct`) under the
    /// `[deploy]` policy; `aidlc deploy status ENDPOINT` shows where a rollout is.
    Deploy(DeployArgs),
    /// Deployment: promote a rollout that passed every step and waits for approval
    /// (`[deploy] approval = "required"`); who and why are audited.
    Approve(DecisionArgs),
    /// Deployment: turn down a rollout that waits for approval: it ends rolled back, production
    /// keeps serving, and who and why are audited.
    Reject(RejectArgs),
    /// Deployment: stop the endpoint's rollout (all traffic back to production), or, with none
    /// running, move the alias back to the version the last promotion replaced.
    Rollback(DecisionArgs),
    /// Monitoring: the alerts raised by the `[monitor.alerts]` rules.
    #[command(subcommand)]
    Alerts(AlertsCommand),
    /// Iteration: the governed retraining pipeline (`[iterate]`) and where each model is in the loop.
    #[command(subcommand, name = "loop")]
    Loop(LoopCommand),
    /// Monitoring: drift, prediction drift, performance and concept drift per window of the
    /// prediction log (`run`), the latest window (`status`), the history as HTML (`report`).
    #[command(subcommand)]
    Monitor(MonitorCommand),
    /// The whole loop on the bundled rainfall data in a fresh folder: frame, train, evaluate,
    /// deploy through the real server, replay the following days as traffic, monitor, alert,
    /// retrain, canary, promote — with a timeline of every decision and its evidence.
    Demo(DemoArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// The fresh folder the demo project is built in.
    #[arg(long, default_value = "aidlc-demo", value_name = "DIR")]
    pub dir: std::path::PathBuf,
    /// How many days after the documented change to replay as traffic.
    #[arg(long, default_value_t = 1200, value_name = "N")]
    pub days: usize,
}

#[derive(Debug, Subcommand)]
pub enum LoopCommand {
    /// Run the retraining pipeline now: newest data → validate → split → train → evaluate against
    /// the champion → rollout (or wait for `aidlc loop approve`).
    Run(LoopRunArgs),
    /// For each model: champion, latest pipeline and its steps, rollouts, open alerts.
    Status,
    /// Let a pipeline that waits for approval hand its challenger to the rollout controller.
    Approve(LoopApproveArgs),
    /// End a pipeline that waits for approval without deploying its challenger; who and why
    /// are audited.
    Reject(LoopRejectArgs),
}

#[derive(Debug, Args)]
pub struct LoopRunArgs {
    /// The registered model [default: problem.name].
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Recorded as what started the run.
    #[arg(long, default_value = "manual", value_name = "TEXT")]
    pub trigger: String,
}

#[derive(Debug, Args)]
pub struct LoopApproveArgs {
    /// The registered model.
    pub model: String,
    /// Why (recorded in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct LoopRejectArgs {
    /// The registered model.
    pub model: String,
    /// Why (recorded in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, Subcommand)]
pub enum MonitorCommand {
    /// Monitor the complete `[monitor] window`s of a time range, store the results and run the
    /// `[monitor.alerts]` rules on them (alerts go to `[monitor.channels]`).
    Run(MonitorRunArgs),
    /// The signals of the endpoint's latest monitored window.
    Status { endpoint: String },
    /// Write a self-contained HTML report of the endpoint's monitoring over time: per-feature
    /// drift heatmap, prediction drift, realized vs estimated performance, alerts marked on
    /// the charts, the alert table and the latest window's signals.
    Report(MonitorReportArgs),
}

#[derive(Debug, Args)]
pub struct MonitorReportArgs {
    pub endpoint: String,
    /// The HTML file to write (through a temporary file renamed into place).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Only windows ending after this time: RFC 3339 (`2025-06-01T00:00:00Z`) or milliseconds
    /// since the epoch; default: from the first monitored window.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// Only windows ending at or before this time, same forms; default: to the latest.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
}

#[derive(Debug, Args)]
pub struct MonitorRunArgs {
    pub endpoint: String,
    /// Start of the range: an RFC 3339 time (`2025-06-01T00:00:00Z`) or milliseconds since the
    /// epoch; default: after the last stored window, else the serving version's first prediction.
    #[arg(long, value_name = "TIME")]
    pub from: Option<String>,
    /// End of the range (exclusive), same forms; default: now.
    #[arg(long, value_name = "TIME")]
    pub to: Option<String>,
    /// The prediction log: a folder (read-only, so a running server may own it) or
    /// `nats://HOST:PORT`; default: `.aidlc/predictions` beside the artifact folder.
    #[arg(long, value_name = "DIR|URL")]
    pub prediction_log: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DeployCommand {
    /// Show the endpoint's version, its rollout's step and traffic split, and the last analysis.
    Status { endpoint: String },
}

#[derive(Debug, Subcommand)]
pub enum AlertsCommand {
    /// List alerts, the most recently opened first.
    List(AlertsListArgs),
}

#[derive(Debug, Args)]
pub struct AlertsListArgs {
    /// Only this endpoint's alerts.
    #[arg(long, value_name = "ENDPOINT")]
    pub endpoint: Option<String>,
    /// Only alerts that are still open.
    #[arg(long)]
    pub open: bool,
    /// Only the newest N alerts.
    #[arg(long, value_name = "N")]
    pub limit: Option<i64>,
}

#[derive(Debug, Args)]
pub struct RejectArgs {
    pub endpoint: String,
    /// Why (recorded in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, Args)]
pub struct DecisionArgs {
    pub endpoint: String,
    /// Why (recorded in the audit log).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
}

#[derive(Debug, Args)]
#[command(
    args_conflicts_with_subcommands = true,
    subcommand_negates_reqs = true,
    disable_version_flag = true
)]
pub struct DeployArgs {
    #[command(subcommand)]
    pub command: Option<DeployCommand>,
    /// The endpoint name clients call (`/v2/models/ENDPOINT`, `/endpoints/ENDPOINT/invocations`).
    #[arg(required = true)]
    pub endpoint: Option<String>,
    /// The registered model (needed when the endpoint has no deployment yet).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Roll this registry version out to the endpoint.
    #[arg(long = "version", id = "rollout_version", value_name = "VERSION")]
    pub version: Option<i64>,
    /// How the version reaches production: `canary` (the `[deploy]` steps' traffic shares),
    /// `shadow` (a shadow step first, then the canary steps) or `direct` (move the alias now).
    #[arg(long, default_value = "canary", value_parser = ["canary", "shadow", "direct"], requires = "rollout_version")]
    pub strategy: String,
    /// Start a rollout whose version cannot take a protected alias yet (no passing evaluation
    /// report); the reason is audited.
    #[arg(long = "override", value_name = "REASON", requires = "rollout_version")]
    pub override_reason: Option<String>,
    /// The registry alias the endpoint follows; moving the alias moves the endpoint.
    #[arg(long, default_value = "champion", value_name = "ALIAS")]
    pub alias: String,
}

#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// The model: NAME@ALIAS, NAME/VERSION, NAME (latest version) or a run id.
    #[arg(value_name = "MODEL|RUN")]
    pub reference: String,
    /// Evaluate on this file's rows instead of the version's held-out split (for versions
    /// registered without lineage); the baseline learns from the same rows.
    #[arg(long, value_name = "FILE")]
    pub data: Option<PathBuf>,
    /// Seed of the bootstrap and the robustness perturbations [default: evaluate.seed or 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Bootstrap resamples [default: evaluate.bootstrap or 1000].
    #[arg(long)]
    pub bootstrap: Option<usize>,
    /// Do not compare with the version holding the `champion` alias.
    #[arg(long)]
    pub no_champion: bool,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The model: NAME@ALIAS, NAME/VERSION, NAME (latest version) or a run id.
    #[arg(value_name = "MODEL|RUN")]
    pub reference: String,
    /// The file to write.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// html (self-contained, inline SVG charts) or md.
    #[arg(long, default_value = "html")]
    pub format: String,
}

#[derive(Debug, Args)]
pub struct TrainArgs {
    /// A data file or a recorded dataset NAME[@VERSION] [default: the file in `[data] source`].
    #[arg(long, value_name = "FILE_OR_NAME[@VERSION]")]
    pub data: Option<String>,
    /// The registered model the new version goes to [default: problem.name].
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// A name for the run.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Train even though aidlc.toml fails `aidlc check` or the dataset version is invalid; the
    /// reason is audited.
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
}

#[derive(Debug, Args)]
pub struct PredictArgs {
    /// The model: NAME@ALIAS, NAME/VERSION, or a model file (aidlc JSON or ONNX).
    #[arg(long, value_name = "MODEL")]
    pub model: String,
    /// The rows to score (CSV, gzip CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub input: PathBuf,
    /// Where to write input columns plus predictions (.parquet, .csv or .csv.gz).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// For a model whose input is one [N, F] tensor: the F columns, in order
    /// [default: the file's numeric columns in file order].
    #[arg(long, value_delimiter = ',', value_name = "COLUMNS")]
    pub features: Option<Vec<String>>,
    /// Rows scored per batch; memory stays bounded by it.
    #[arg(long, default_value_t = 8192, value_name = "ROWS")]
    pub batch_size: usize,
}

#[derive(Debug, Args)]
pub struct SplitArgs {
    /// A data file (CSV, gzip CSV, Parquet) or a recorded dataset NAME[@VERSION].
    #[arg(value_name = "FILE_OR_NAME[@VERSION]")]
    pub data: String,
    /// temporal, entity_group, temporal_entity, stratified or random [default: split.kind].
    #[arg(long)]
    pub kind: Option<String>,
    /// The entity column [default: problem.entity].
    #[arg(long, value_name = "COLUMN")]
    pub entity: Option<String>,
    /// The time column [default: problem.time].
    #[arg(long, value_name = "COLUMN")]
    pub time: Option<String>,
    /// The label column [default: problem.label.column].
    #[arg(long, value_name = "COLUMN")]
    pub label: Option<String>,
    /// Share for training [default: split.train or 0.7].
    #[arg(long)]
    pub train: Option<f64>,
    /// Share for validation [default: split.valid or 0.15].
    #[arg(long)]
    pub valid: Option<f64>,
    /// Share for test [default: split.test or 0.15].
    #[arg(long)]
    pub test: Option<f64>,
    /// Seed of random and hashed assignments [default: split.seed or 0].
    #[arg(long)]
    pub seed: Option<u64>,
    /// Temporal kinds: purge rows this long before each held-out start, e.g. 90d [default: split.gap].
    #[arg(long, value_name = "DURATION")]
    pub gap: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum LabelsCommand {
    /// Record labels with the time each became available (idempotent per key and time).
    Ingest(LabelsIngestArgs),
}

#[derive(Debug, Args)]
pub struct LabelsIngestArgs {
    /// The labels file (CSV, gzip CSV or Parquet).
    pub path: PathBuf,
    /// The column with the key: the prediction's request id, or with `--event-time` the entity.
    #[arg(long, value_name = "COLUMN")]
    pub key: String,
    /// The column with the time of the event each label judges; the key is then an entity and
    /// each label judges that entity's predictions made before the event, within
    /// `[problem.label] horizon`.
    #[arg(long, value_name = "COLUMN")]
    pub event_time: Option<String>,
    /// The label column [default: problem.label.column, else `label`].
    #[arg(long, value_name = "COLUMN")]
    pub label: Option<String>,
    /// The column with the time each label became available [default: the ingest time].
    #[arg(long, value_name = "COLUMN")]
    pub time: Option<String>,
    /// The label set's name [default: the label column].
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum FeaturesCommand {
    /// For each entity row, the latest feature row at or before its time (Feast's semantics);
    /// every entity row is kept (left join).
    Join(FeaturesJoinArgs),
}

#[derive(Debug, Args)]
pub struct FeaturesJoinArgs {
    /// Entity rows: key, event time, and anything to pass through (such as the label).
    #[arg(long, value_name = "FILE")]
    pub entities: PathBuf,
    /// Feature rows: key, feature time and feature columns.
    #[arg(long, value_name = "FILE")]
    pub features: PathBuf,
    /// The key column, in both files.
    #[arg(long, value_name = "COLUMN")]
    pub key: String,
    /// The time column, in both files.
    #[arg(long, value_name = "COLUMN")]
    pub time: String,
    /// Ignore feature rows older than this before each entity time, e.g. 30d [default: no limit].
    #[arg(long, value_name = "DURATION")]
    pub ttl: Option<String>,
    /// The feature file's created-time column: breaks ties and, by default, hides rows created
    /// after the entity time.
    #[arg(long, value_name = "COLUMN")]
    pub created_column: Option<String>,
    /// Let rows created after the entity time win (Feast's default; backfills can leak).
    #[arg(long)]
    pub allow_created_after: bool,
    /// Output file; `.parquet` writes Parquet, `.gz` gzip CSV, anything else CSV.
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Write a filled-in example project with its data instead of the template.
    #[arg(long, value_name = "NAME")]
    pub example: Option<String>,
    /// List the bundled examples.
    #[arg(long, conflicts_with = "example")]
    pub list_examples: bool,
    /// Overwrite an existing aidlc.toml or data file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct CheckArgs {}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// List audit entries, oldest first.
    List(AuditListArgs),
    /// Verify the hash chain and name the first entry that was edited, deleted or reordered.
    Verify,
}

#[derive(Debug, Args)]
pub struct AuditListArgs {
    /// Only entries about this object: KIND or KIND:ID (e.g. run:5f1c…, dataset_version).
    #[arg(long, value_name = "KIND[:ID]")]
    pub object: Option<String>,
    /// Only the newest N entries.
    #[arg(long, value_name = "N")]
    pub limit: Option<i64>,
}

#[derive(Debug, Args)]
pub struct DriftArgs {
    /// Reference data (CSV, gzip CSV or Parquet).
    #[arg(long, value_name = "FILE")]
    pub reference: PathBuf,
    /// Current data, with the same columns.
    #[arg(long, value_name = "FILE")]
    pub current: PathBuf,
    /// Columns to compare, comma-separated [default: every column].
    #[arg(long, value_name = "C1,C2")]
    pub columns: Option<String>,
    /// auto (Evidently's rule per column), all, or a method: ks, wasserstein, wasserstein_normed,
    /// psi, jensen_shannon, chi2, chisquare, z, hellinger, l_infinity, anderson, cramer_von_mises.
    #[arg(long, default_value = "auto")]
    pub method: String,
    /// Threshold of the deciding method [default: each method's own].
    #[arg(long)]
    pub threshold: Option<f64>,
    /// Share of drifted columns at or above which the dataset counts as drifted [default: 0.5].
    #[arg(long)]
    pub drift_share: Option<f64>,
    /// Only these data rows of the reference file, 0-based and end-exclusive: START..END.
    #[arg(long, value_name = "START..END", value_parser = parse_row_range)]
    pub reference_rows: Option<std::ops::Range<usize>>,
    /// Only these data rows of the current file, 0-based and end-exclusive: START..END.
    #[arg(long, value_name = "START..END", value_parser = parse_row_range)]
    pub current_rows: Option<std::ops::Range<usize>>,
}

/// Parses `START..END` (either side may be omitted: `..END`, `START..`).
fn parse_row_range(s: &str) -> Result<std::ops::Range<usize>, String> {
    let (a, b) = s
        .split_once("..")
        .ok_or_else(|| format!("`{s}` is not START..END"))?;
    let num = |t: &str, default: usize| -> Result<usize, String> {
        if t.trim().is_empty() {
            Ok(default)
        } else {
            t.trim()
                .parse()
                .map_err(|_| format!("`{t}` in `{s}` is not a row number"))
        }
    };
    let (start, end) = (num(a, 0)?, num(b, usize::MAX)?);
    if start >= end {
        return Err(format!("`{s}` is empty: START must be below END"));
    }
    Ok(start..end)
}

#[derive(Debug, Args)]
pub struct ServerArgs {
    /// Address and port to listen on (port 0 picks a free port, printed on stdout).
    #[arg(
        long,
        env = "AIDLC_BIND",
        default_value = "127.0.0.1:5000",
        value_name = "ADDR:PORT"
    )]
    pub bind: String,
    /// Log level of the request logs on stderr: error, warn, info, debug or trace.
    #[arg(long, env = "AIDLC_LOG", default_value = "info", value_name = "LEVEL")]
    pub log_level: String,
    /// The endpoint `/invocations` serves [default: the only deployed endpoint].
    #[arg(long, env = "AIDLC_DEFAULT_ENDPOINT", value_name = "ENDPOINT")]
    pub default_endpoint: Option<String>,
    /// What this process does: `all` (APIs, inference, rollout controller) or `inference`
    /// (a stateless replica that serves the deployments of the shared store).
    #[arg(long, env = "AIDLC_ROLE", default_value = "all", value_parser = ["all", "inference"])]
    pub role: String,
    /// Where every prediction is logged: a folder (default: `predictions` beside the artifact
    /// folder), `nats://HOST:PORT` for a NATS JetStream stream shared by replicas, or `off`.
    #[arg(
        long,
        env = "AIDLC_PREDICTION_LOG",
        value_name = "DIR|nats://HOST:PORT|off"
    )]
    pub prediction_log: Option<String>,
    /// Shadow copies that may wait to be scored; past it copies are dropped and counted.
    #[arg(long, env = "AIDLC_SHADOW_QUEUE", default_value_t = aidlc_server::inference::DEFAULT_SHADOW_QUEUE)]
    pub shadow_queue: usize,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// Register a model file trained anywhere as the next version of NAME.
    Register(ModelsRegisterArgs),
    /// List registered models with their latest version and aliases.
    List,
    /// Show a model's versions, or one version: NAME, NAME@ALIAS or NAME/VERSION.
    Show {
        #[arg(value_name = "NAME[@ALIAS|/VERSION]")]
        reference: String,
    },
    /// Point ALIAS at VERSION; a protected alias (champion) needs a passing evaluation report or --override.
    Alias(ModelsAliasArgs),
    /// Print a version's lineage (artifact, run, dataset, split, commit, evaluation), marking missing links.
    Lineage {
        #[arg(value_name = "NAME@ALIAS|NAME/VERSION")]
        reference: String,
    },
    /// Write a built-in model version as ONNX, so any ONNX runtime can serve it.
    Export {
        #[arg(value_name = "NAME@ALIAS|NAME/VERSION")]
        reference: String,
        /// The .onnx file to write.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
}

#[derive(Debug, Args)]
pub struct ModelsRegisterArgs {
    /// Registered model name.
    pub name: String,
    /// The model file (e.g. model.onnx); stored content-addressed.
    #[arg(long, value_name = "FILE")]
    pub file: PathBuf,
    /// The run that trained it (its dataset version, split and commit become the lineage).
    #[arg(long, value_name = "RUN")]
    pub run: Option<String>,
}

#[derive(Debug, Args)]
pub struct ModelsAliasArgs {
    pub name: String,
    pub alias: String,
    /// The version the alias will point at.
    #[arg(value_name = "VERSION")]
    pub target_version: i64,
    /// Move a protected alias without a passing evaluation report; the reason is audited.
    #[arg(long = "override", value_name = "REASON")]
    pub override_reason: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum DataCommand {
    /// Split into train/valid/test as `[split]` in aidlc.toml says (flags override), write the
    /// leakage report, store the manifest and record it (exit 1 on a forbidden overlap).
    Split(SplitArgs),
    /// Record a CSV (plain or gzip) or Parquet file as a dataset version: hash, schema, profile,
    /// validation against [data.expectations], and a Parquet copy in the artifact store.
    Ingest(DataIngestArgs),
    /// List dataset versions.
    List(DataListArgs),
    /// Show a version's schema, profile and validation report.
    Show(DataShowArgs),
    /// Compare two versions: schema changes, new and vanished categories, per-column drift.
    Diff(DataDiffArgs),
}

#[derive(Debug, Args)]
pub struct DataIngestArgs {
    /// The data file.
    pub path: PathBuf,
    /// Dataset name [default: the file name without extensions].
    #[arg(long)]
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct DataListArgs {
    /// Only the versions of this dataset.
    pub name: Option<String>,
}

#[derive(Debug, Args)]
pub struct DataShowArgs {
    /// NAME (the latest version) or NAME@VERSION.
    pub reference: String,
}

#[derive(Debug, Args)]
pub struct DataDiffArgs {
    /// The reference version, NAME@A.
    pub from: String,
    /// The version compared with it, NAME@B.
    pub to: String,
}
