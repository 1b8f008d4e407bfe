//! aidlc-server: the HTTP face of aidlc (axum). The only crate that knows HTTP.
//!
//! - `/api/2.0/mlflow/...` and `/ajax-api/2.0/mlflow/...`: MLflow's REST API as the `mlflow`
//!   3.x client uses it, so `MLFLOW_TRACKING_URI=http://host:port` works unchanged.
//! - `/api/2.0/mlflow-artifacts/artifacts/...`: the artifact proxy the client uploads to and
//!   downloads from (it never sees a storage path).
//! - `/api/v1/...`: the native API for what MLflow lacks (lineage, governed aliases,
//!   deployments and the rows endpoint).
//! - Inference ([`inference`]): the Open Inference Protocol v2 (`/v2/...`), MLflow's scoring
//!   protocol (`/invocations`, `/endpoints/{name}/invocations`, `/ping`, `/version`) and
//!   Prometheus `/metrics`.
//! - `/api/v1/alerts`: the alerts the monitoring rules raised ([`alerts`], which also delivers
//!   them to webhook and Slack channels over HTTP).
//! - `/api/v1/pipelines`: the retraining pipeline's runs and the approve and reject decisions
//!   of a run waiting for approval.
//! - `/health`.
//! - `/ui/...` ([`ui`]): the web dashboard, server-rendered HTML with its assets compiled in;
//!   `/` redirects there.
//!
//! [`app`] builds the router; it needs no socket, so tests drive it with
//! `tower::ServiceExt::oneshot`. Handlers are thin: extract, call one function, convert. Errors
//! go through the one mapping in [`error`].

pub mod alerts;
pub mod error;
pub mod inference;
mod labels;
mod mlflow;
pub mod monitor;
mod native;
mod pipelines;
pub mod ui;

use aidlc_store::{AliasPolicy, AnyPredictionLog, AuditContext, LocalArtifactStore, Store};
use axum::Router;
use axum::extract::DefaultBodyLimit;
use std::path::PathBuf;
use std::sync::Arc;

pub use error::{ApiError, ApiResult};

/// Milliseconds since the Unix epoch; the binary hands in the clock so the server never reads
/// it itself.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// Largest JSON request body: far above MLflow's own batch limits (1000 metrics per log-batch).
pub const JSON_BODY_LIMIT: usize = 16 * 1024 * 1024;
/// Largest artifact upload through the proxy.
pub const ARTIFACT_BODY_LIMIT: u64 = 4 * 1024 * 1024 * 1024;

/// What a server process does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Everything: the MLflow and native APIs, inference and the rollout controller.
    All,
    /// Inference only, for stateless replicas that read deployments from the shared store:
    /// `/v2`, `/invocations`, the rows endpoint, `/ping`, `/health` and `/metrics`. No API that
    /// writes the store and no controller (the `all` server runs it).
    Inference,
}

/// What the server needs: the store, where proxied artifacts live, the alias policy, who the
/// audit log names for changes made through the server, and the clock.
pub struct ServerConfig {
    pub store: Store,
    /// Root of the MLflow artifact proxy's files (`<artifacts>/mlflow` by default).
    pub mlflow_artifacts: PathBuf,
    pub alias_policy: AliasPolicy,
    pub actor: String,
    pub clock: Clock,
    /// Root of the content-addressed artifact store that registry versions name (the same
    /// folder the CLI's `LocalArtifactStore` uses).
    pub artifacts: PathBuf,
    /// The endpoint `POST /invocations` answers for; without it, the only deployment.
    pub default_endpoint: Option<String>,
    /// Where every answered prediction is appended; `None` turns logging off.
    pub prediction_log: Option<Arc<AnyPredictionLog>>,
    /// Shadow requests that may wait to be scored before copies are dropped.
    pub shadow_queue: usize,
    pub role: Role,
    /// The project's monitoring settings (from `aidlc.toml`, read by the binary); with them and
    /// a prediction log, the `all` server runs the monitor scheduler.
    pub monitor: Option<aidlc_service::monitor::MonitorSettings>,
    /// The project's contract (`aidlc.toml`, read by the binary). Approving a retraining
    /// pipeline through the API starts its challenger's rollout by `[iterate]` and `[deploy]`,
    /// so without it that approval is refused (everything else works).
    pub spec: Option<aidlc_core::spec::ProblemSpec>,
}

/// Shared, cheaply cloned state of every handler: the configuration and the served models.
#[derive(Clone)]
pub struct AppState {
    config: Arc<ServerConfig>,
    serving: Arc<inference::Serving>,
}

impl AppState {
    pub fn new(config: ServerConfig) -> Self {
        let serving = Arc::new(inference::Serving::new(
            config.store.clone(),
            LocalArtifactStore::new(&config.artifacts),
            Arc::clone(&config.clock),
            config.default_endpoint.clone(),
            config.prediction_log.clone(),
            config.shadow_queue,
        ));
        // The shadow worker needs a runtime; state built outside one (some tests) has none and
        // drops shadow copies, counted, like a full queue.
        if tokio::runtime::Handle::try_current().is_ok() {
            inference::start_shadow_worker(&serving);
        }
        Self {
            config: Arc::new(config),
            serving,
        }
    }

    /// Starts the background work of the server's role: for `all`, the rollout controller and,
    /// when monitoring settings and a prediction log are configured, the monitor scheduler.
    pub fn start_background(&self) -> Vec<tokio::task::JoinHandle<()>> {
        if self.config.role != Role::All {
            return Vec::new();
        }
        let mut tasks = vec![inference::start_controller(self.clone())];
        if let (Some(settings), Some(log)) = (&self.config.monitor, &self.config.prediction_log) {
            tasks.push(monitor::start_monitor(
                self.clone(),
                settings.clone(),
                Arc::clone(log),
            ));
        }
        tasks
    }

    /// Makes every acknowledged prediction durable (an fsync of the local log), for shutdown.
    pub async fn flush_prediction_log(&self) -> ApiResult<()> {
        if let Some(log) = &self.config.prediction_log {
            log.flush().await?;
        }
        Ok(())
    }

    pub(crate) fn store(&self) -> &Store {
        &self.config.store
    }

    pub(crate) fn config(&self) -> &ServerConfig {
        &self.config
    }

    /// The served models: endpoint bindings, loaded versions and inference metrics.
    pub fn serving(&self) -> &Arc<inference::Serving> {
        &self.serving
    }

    /// Binds every deployment in the store to its alias's version and loads the models, so the
    /// first requests do not pay for loading. Answers whether every deployment has a version.
    pub async fn bind_deployments(&self) -> ApiResult<bool> {
        self.serving.bind_all().await
    }

    pub(crate) fn now_ms(&self) -> i64 {
        (self.config.clock)()
    }

    /// An audit context for a change made now through the server.
    pub(crate) fn audit(&self, reason: Option<String>) -> AuditContext {
        AuditContext {
            actor: self.config.actor.clone(),
            at_ms: self.now_ms(),
            reason,
        }
    }
}

/// The whole HTTP surface.
pub fn app(state: AppState) -> Router {
    let router = match state.config.role {
        Role::All => {
            let mlflow = mlflow::routes();
            Router::new()
                .nest("/api/2.0/mlflow", mlflow.clone())
                .nest("/ajax-api/2.0/mlflow", mlflow)
                .merge(mlflow::extra_routes())
                .merge(native::routes())
                .merge(pipelines::routes())
                .merge(inference::routes(true))
                .merge(ui::routes())
        }
        Role::Inference => Router::new()
            .merge(native::health_routes())
            .merge(inference::routes(false)),
    };
    router
        .fallback(|uri: axum::http::Uri| async move {
            ApiError::NoEndpoint(format!("no endpoint at {}", uri.path()))
        })
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(axum::middleware::from_fn(log_request))
        .with_state(state)
}

/// One structured log line per request: method, path, status and latency.
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    // Inference answers in tens of microseconds: when the line would be filtered out anyway,
    // skip copying the path and reading the clock.
    if !tracing::enabled!(tracing::Level::INFO) {
        return next.run(req).await;
    }
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let started = std::time::Instant::now();
    let response = next.run(req).await;
    tracing::info!(
        %method,
        path,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    use axum::serve::ListenerExt;
    // Small JSON answers go out at once instead of waiting on Nagle's algorithm; the MLflow
    // client sends one small request at a time and waits for each answer.
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}
