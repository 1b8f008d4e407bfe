//! `aidlc train`: the framing gate, then the training use case — a valid dataset version split
//! as `[split]` says, a built-in trainer or an external command, one tracked run, one registered
//! version with its lineage.

use crate::app::App;
use crate::cli::TrainArgs;
use crate::commands::server::BackgroundServer;
use crate::framing::require_framing;
use crate::output::print_json;
use aidlc_core::spec::ProblemSpec;
use aidlc_data::validate::expected_types;
use aidlc_service::data::IngestRequest;
use aidlc_service::train::{TrainData, TrainError, TrainRequest, train};
use aidlc_store::LocalArtifactStore;
use anyhow::{Context, bail};
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

/// How long an external training command may run when `[train] timeout` is not written.
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

pub async fn run(app: &App, args: TrainArgs) -> anyhow::Result<ExitCode> {
    let spec_path = app.settings.spec_path();
    let store = app.store().await?;
    let ctx = app.audit_context(args.override_reason.clone());
    require_framing(&spec_path, &store, &ctx, "training").await?;
    let spec = app.spec("training follows the framing contract")?;

    let data = match args.data.as_deref() {
        Some(reference) if !Path::new(reference).exists() => TrainData::Dataset(reference.into()),
        Some(file) => TrainData::File(Box::new(ingest_request(&spec, file.into()))),
        None => {
            let source = spec.data.source.as_deref().context(
                "no data: pass --data FILE or NAME[@VERSION], or set `[data] source` in aidlc.toml",
            )?;
            TrainData::File(Box::new(ingest_request(
                &spec,
                app.settings.project_dir.join(source),
            )))
        }
    };
    let model_name = args
        .model
        .clone()
        .or_else(|| spec.problem.name.clone())
        .context("no model name: pass --model NAME or set `problem.name`")?;
    // ONNX models written by external commands are loaded once to check them; built-in
    // trainers do not need the runtime, so its absence is not an error here.
    let _ = app.init_onnx_runtime();
    let server = match spec.train.command {
        Some(_) => Some(BackgroundServer::start(app).context("cannot start the tracking server")?),
        None => None,
    };
    let request = TrainRequest {
        spec,
        project_dir: app.settings.project_dir.clone(),
        data,
        model_name,
        run_name: args.name.clone(),
        run_artifacts_root: app.settings.artifacts.join("mlflow"),
        tracking_uri: server.as_ref().map(|s| s.url.clone()),
        default_timeout: DEFAULT_TIMEOUT,
        tool_versions: vec![("aidlc".into(), env!("CARGO_PKG_VERSION").into())],
    };
    let artifacts = LocalArtifactStore::new(&app.settings.artifacts);
    let outcome = train(&store, &artifacts, &ctx, &request).await;
    drop(server);
    match outcome {
        Ok(o) => {
            if app.settings.json {
                print_json(&o)?;
            } else {
                println!(
                    "trained {} on {} (split {}: {} train, {} valid, {} test rows) in {:.1}s",
                    o.trainer,
                    o.dataset,
                    short(&o.split_manifest.0),
                    o.rows.train,
                    o.rows.valid,
                    o.rows.test,
                    o.duration_ms as f64 / 1000.0
                );
                if let Some(best) = o.best_iteration {
                    println!("early stopping kept {best} rounds");
                }
                println!("run {} (experiment {})", o.run.id, o.run.experiment_id);
                println!(
                    "registered {} version {} ({})",
                    o.version.model, o.version.version, o.version.artifact
                );
                println!(
                    "next: aidlc evaluate {}/{}",
                    o.version.model, o.version.version
                );
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(TrainError::Failed { run_id, reason }) => {
            if app.settings.json {
                print_json(
                    &serde_json::json!({"run_id": run_id, "status": "FAILED", "reason": reason}),
                )?;
            }
            bail!(
                "training failed; run {run_id} is recorded as FAILED and nothing was registered:\n{reason}"
            )
        }
        Err(e) => Err(e.into()),
    }
}

fn ingest_request(spec: &ProblemSpec, path: std::path::PathBuf) -> IngestRequest {
    let mut request = IngestRequest::new(path);
    request.column_types = expected_types(&spec.data.columns);
    request.expectations = spec.data.expectations.clone();
    request
}

fn short(hash: &str) -> &str {
    let hex = hash.strip_prefix("blake3:").unwrap_or(hash);
    &hex[..hex.len().min(12)]
}
