//! `aidlc server`: serves the MLflow-compatible API, the artifact proxy and the native API from
//! one process until SIGINT or SIGTERM, then drains in-flight requests.

use crate::app::{App, now_ms};
use crate::cli::ServerArgs;
use crate::commands::iterate::{PipelineSettings, start_scheduler, wants_scheduler};
use aidlc_server::{AppState, Role, ServerConfig};
use aidlc_store::AliasPolicy;
use aidlc_store::predlog::{JetStreamConfig, LocalLogConfig};
use aidlc_store::{AnyPredictionLog, JetStreamPredictionLog, LocalPredictionLog};
use anyhow::Context;
use std::io::Write;
use std::process::ExitCode;
use std::sync::Arc;

pub async fn run(app: &App, args: ServerArgs) -> anyhow::Result<ExitCode> {
    let level = args.log_level.parse::<tracing::Level>().with_context(|| {
        format!(
            "invalid log level `{}`: use error, warn, info, debug or trace",
            args.log_level
        )
    })?;
    // Logs go to stderr so stdout carries only the ready line that scripts and tests read.
    let _ = tracing_subscriber::fmt()
        .with_max_level(level)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();

    let store = app.store().await?;
    // ONNX models need the runtime; built-in models serve without it, so a runtime that does not
    // load is a warning (an ONNX deployment then answers 503 naming the setting).
    if app.settings.onnxruntime.is_some()
        && let Err(e) = app.init_onnx_runtime()
    {
        tracing::warn!(error = %e, "ONNX Runtime did not load");
    }
    let prediction_log = open_prediction_log(app, args.prediction_log.as_deref()).await?;
    let role = match args.role.as_str() {
        "inference" => Role::Inference,
        _ => Role::All,
    };
    let config = ServerConfig {
        store,
        mlflow_artifacts: app.settings.artifacts.join("mlflow"),
        alias_policy: AliasPolicy::default(),
        actor: app.settings.actor.clone(),
        clock: Arc::new(now_ms),
        artifacts: app.settings.artifacts.clone(),
        default_endpoint: args.default_endpoint.clone(),
        prediction_log,
        shadow_queue: args.shadow_queue,
        role,
        monitor: monitor_settings(app),
        spec: match app.spec_if_present() {
            Ok(spec) => spec,
            Err(e) => {
                tracing::warn!(error = %e, "aidlc.toml could not be read: approving a retraining run answers 409 until it can");
                None
            }
        },
    };
    let state = AppState::new(config);
    let controller = state.start_background();
    // The retraining scheduler runs where the controller does, when [iterate] asks for it.
    let scheduler = match (role, PipelineSettings::from_app(app, None)) {
        (Role::All, Ok(settings)) if wants_scheduler(&settings.spec) => {
            Some(start_scheduler(settings, app.store().await?))
        }
        _ => None,
    };
    // Load every deployed model before taking requests, so the first ones do not pay for it.
    if let Err(e) = state.bind_deployments().await {
        tracing::warn!(error = %e, "a deployment could not be bound; it is retried on its first request");
    }
    let listener = tokio::net::TcpListener::bind(&args.bind)
        .await
        .with_context(|| format!("cannot listen on {}", args.bind))?;
    let addr = listener.local_addr()?;
    // The ready signal: the bound address (the real port when asked for port 0).
    println!("aidlc server listening on http://{addr}");
    std::io::stdout().flush()?;
    tracing::info!(%addr, store = app.settings.store, "serving");
    aidlc_server::serve(listener, state.clone(), shutdown_signal())
        .await
        .context("the server stopped with an error")?;
    for task in controller {
        task.abort();
    }
    if let Some(s) = scheduler {
        s.abort();
    }
    state
        .flush_prediction_log()
        .await
        .context("flushing the prediction log at shutdown")?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}

/// Opens the prediction log the flag names: a local folder (the default sits beside the
/// artifact folder), a NATS JetStream server, or none.
async fn open_prediction_log(
    app: &App,
    flag: Option<&str>,
) -> anyhow::Result<Option<Arc<AnyPredictionLog>>> {
    let log = match flag {
        Some("off") => return Ok(None),
        Some(url) if url.starts_with("nats://") => AnyPredictionLog::JetStream(Box::new(
            JetStreamPredictionLog::connect(JetStreamConfig::new(url))
                .await
                .with_context(|| format!("cannot open the prediction log on {url}"))?,
        )),
        Some(dir) => local_log(dir.into())?,
        None => local_log(default_prediction_log_dir(app))?,
    };
    Ok(Some(Arc::new(log)))
}

/// The monitoring settings of the project's `aidlc.toml`; without a readable spec the server
/// serves without scheduled monitoring (and says so).
fn monitor_settings(app: &App) -> Option<aidlc_service::monitor::MonitorSettings> {
    match crate::commands::monitor::settings(app) {
        Ok(settings) => Some(settings),
        Err(e) => {
            tracing::warn!(error = %e, "no scheduled monitoring");
            None
        }
    }
}

/// `predictions` beside the artifact folder (`.aidlc/predictions` by default).
pub fn default_prediction_log_dir(app: &App) -> std::path::PathBuf {
    app.settings
        .artifacts
        .parent()
        .map_or_else(|| "predictions".into(), |p| p.join("predictions"))
}

fn local_log(dir: std::path::PathBuf) -> anyhow::Result<AnyPredictionLog> {
    let log = LocalPredictionLog::open(LocalLogConfig::new(&dir))
        .with_context(|| format!("cannot open the prediction log in {}", dir.display()))?;
    tracing::info!(dir = %dir.display(), "prediction log");
    Ok(AnyPredictionLog::Local(log))
}

/// Resolves on SIGINT (Ctrl-C) or, on Unix, SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
}

/// A tracking server running on its own thread and runtime for as long as a command needs one
/// (an external training command logging with the `mlflow` client). Its own runtime keeps it
/// answering while the command's thread waits on the child process.
pub struct BackgroundServer {
    pub url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl BackgroundServer {
    pub fn start(app: &App) -> anyhow::Result<BackgroundServer> {
        // The same store, opened the way `App::store` opens it.
        if let Some(e) = &app.settings.store_sync_error {
            anyhow::bail!("{e}");
        }
        let store_url = app.settings.store.clone();
        let store_sync = app.settings.store_sync;
        let mlflow_artifacts = app.settings.artifacts.join("mlflow");
        let artifacts = app.settings.artifacts.clone();
        let actor = app.settings.actor.clone();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<anyhow::Result<String>>();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("aidlc-tracking".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(r) => r,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e.into()));
                        return;
                    }
                };
                runtime.block_on(async move {
                    let started = async {
                        let store = aidlc_store::Store::open_with(&store_url, store_sync).await?;
                        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                        anyhow::Ok((store, listener))
                    }
                    .await;
                    let (store, listener) = match started {
                        Ok(ok) => ok,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let addr = match listener.local_addr() {
                        Ok(a) => a,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e.into()));
                            return;
                        }
                    };
                    let config = ServerConfig {
                        store,
                        mlflow_artifacts,
                        alias_policy: AliasPolicy::default(),
                        actor,
                        clock: Arc::new(now_ms),
                        artifacts,
                        default_endpoint: None,
                        prediction_log: None,
                        shadow_queue: aidlc_server::inference::DEFAULT_SHADOW_QUEUE,
                        role: Role::All,
                        monitor: None,
                        spec: None,
                    };
                    let _ = ready_tx.send(Ok(format!("http://{addr}")));
                    let _ = aidlc_server::serve(listener, AppState::new(config), async {
                        let _ = stop_rx.await;
                    })
                    .await;
                });
            })?;
        let url = ready_rx
            .recv()
            .context("the tracking server thread stopped before it was ready")??;
        Ok(BackgroundServer {
            url,
            stop: Some(stop_tx),
            thread: Some(thread),
        })
    }
}

impl Drop for BackgroundServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
