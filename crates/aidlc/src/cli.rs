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
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Framing: write aidlc.toml (a commented template, or a bundled example project with its data).
    Init(InitArgs),
    /// Framing: check aidlc.toml and list every problem with its key and line (exit 1 if any).
    Check(CheckArgs),
    /// Show the resolved settings (project, store, artifacts, actor) and where each came from.
    Config,
    /// Monitoring: per-column drift between a reference and a current data file.
    Drift(DriftArgs),
    /// The tamper-evident audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// Data: split a data file or dataset version, with a leakage report.
    #[command(subcommand)]
    Data(DataSplitArgs),
    /// Data: labels that arrive after the predictions they judge.
    #[command(subcommand)]
    Labels(LabelsCommand),
    /// Data: point-in-time joins of entity rows with feature rows.
    #[command(subcommand)]
    Features(FeaturesCommand),
}

#[derive(Debug, Subcommand)]
pub enum DataSplitArgs {
    /// Split into train/valid/test as `[split]` in aidlc.toml says (flags override), write the
    /// leakage report, store the manifest and record it (exit 1 on a forbidden overlap).
    Split(SplitArgs),
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
    /// The column with the entity or prediction key.
    #[arg(long, value_name = "COLUMN")]
    pub key: String,
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
}
