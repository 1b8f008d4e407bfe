//! The served models: each deployment's endpoint bound to the loaded model of the version its
//! alias names, swapped atomically when the alias moves.
//!
//! The hot path takes a read lock, clones an `Arc` and lets go: a request that started on the old
//! model finishes on it (it holds its own `Arc`), and the next one gets the new model. Nothing on
//! the hot path queries the store: an alias moved through this server rebinds its endpoints at
//! once ([`Serving::alias_moved`]), and a change made elsewhere (the CLI, another replica) is
//! picked up by a background recheck at most [`RECHECK_MS`] after it happened.

use super::metrics::{EndpointSeries, Metrics};
use super::traffic::{BoundRollout, ShadowQueue, StepCounts};
use crate::Clock;
use crate::error::{ApiError, ApiResult};
use aidlc_core::rollout::Rollout;
use aidlc_models::{Model, ModelFormat, Predictions};
use aidlc_store::{
    AnyPredictionLog, ArtifactStore, DeploymentStore, LocalArtifactStore, RegistryStore,
    RegistryVersion, Store,
};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

/// How long a binding is trusted before a background recheck of the deployment and its alias.
pub const RECHECK_MS: i64 = 1_000;

/// Batches of at least this many rows are scored on the blocking pool, so a long batch never
/// stalls the runtime's workers; smaller ones are scored inline (a thread hop costs more).
pub const BLOCKING_ROWS: usize = 128;

/// Versions loaded but bound to no endpoint (pinned by `versions/{v}` requests) kept in memory.
const SPARE_VERSIONS: usize = 8;

/// The variant of the deployment's alias.
pub const PRODUCTION: &str = "production";
/// The rollout's candidate answering a share of the traffic.
pub const CANARY: &str = "canary";
/// The rollout's candidate scoring a copy of the traffic (never seen by clients).
pub const SHADOW: &str = "shadow";
/// A request that named its version (`/versions/{v}`) other than the one in production.
pub const PINNED: &str = "pinned";

/// How a classifier's `label` output is written: as the class itself when every class name is an
/// integer (what scikit-learn's `predict` and ONNX classifiers give), else as the class name.
#[derive(Debug, Clone, PartialEq)]
pub enum LabelKind {
    Integer(Vec<i64>),
    Text,
}

/// One registry version's model, loaded once and shared by every endpoint and request.
pub struct ServedVersion {
    pub model: String,
    pub version: i64,
    pub format: ModelFormat,
    pub scorer: Arc<dyn Model>,
    pub label: LabelKind,
}

impl ServedVersion {
    fn new(version: &RegistryVersion, format: ModelFormat, scorer: Arc<dyn Model>) -> Self {
        let classes = scorer.signature().classes();
        let ints: Option<Vec<i64>> = classes.iter().map(|c| c.parse().ok()).collect();
        let label = match ints {
            Some(ints) if !classes.is_empty() => LabelKind::Integer(ints),
            _ => LabelKind::Text,
        };
        ServedVersion {
            model: version.model.clone(),
            version: version.version,
            format,
            scorer,
            label,
        }
    }

    /// The platform string of the Open Inference Protocol's model metadata.
    pub fn platform(&self) -> &'static str {
        match self.format {
            ModelFormat::Builtin => "aidlc_builtin",
            ModelFormat::Onnx => "onnx_onnxv1",
        }
    }

    /// Scores `frame` (already checked against the signature), on the blocking pool for long
    /// batches.
    pub async fn predict(
        self: &Arc<Self>,
        frame: Arc<aidlc_models::Frame>,
    ) -> ApiResult<Predictions> {
        if frame.n_rows < BLOCKING_ROWS {
            return Ok(self.scorer.predict(&frame)?);
        }
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || this.scorer.predict(&frame))
            .await
            .map_err(|e| {
                ApiError::Model(aidlc_models::ModelError::Runtime(format!(
                    "the scoring task of {}/{} failed: {e}",
                    self.model, self.version
                )))
            })?
            .map_err(ApiError::from)
    }
}

/// What a deployment row says, as last read from the store.
#[derive(Debug, Clone, PartialEq)]
struct Route {
    model: String,
    alias: String,
    /// The deployment's active rollout, if any.
    rollout: Option<Rollout>,
}

/// A deployment's endpoint and the version serving it now.
pub struct LiveEndpoint {
    pub name: String,
    route: RwLock<Route>,
    /// `None` while the alias names no version: the endpoint exists but is not ready.
    current: RwLock<Option<Arc<ServedVersion>>>,
    /// The candidate of an active rollout and its share of the traffic.
    rollout: RwLock<Option<Arc<BoundRollout>>>,
    /// Requests and errors per variant since the rollout step was last judged.
    pub counts: StepCounts,
    checked_at_ms: AtomicI64,
    rechecking: AtomicBool,
    /// Serialises rebinds, so a recheck that read the old alias cannot overwrite the version an
    /// alias move just bound.
    rebinding: tokio::sync::Mutex<()>,
    pub swaps: AtomicU64,
    pub series: EndpointSeries,
}

impl LiveEndpoint {
    /// The version serving production traffic now.
    pub fn current(&self) -> Option<Arc<ServedVersion>> {
        self.current
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The active rollout's candidate and traffic, if any.
    pub fn rollout(&self) -> Option<Arc<BoundRollout>> {
        self.rollout
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn model_name(&self) -> String {
        self.route
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .model
            .clone()
    }
}

/// A request's target: the endpoint, the version that answers by default (production, or the
/// pinned one) and its variant; [`Target::score`] may hand the request to a canary instead.
pub struct Target {
    pub endpoint: Arc<LiveEndpoint>,
    pub served: Arc<ServedVersion>,
    pub variant: &'static str,
    pub serving: Arc<Serving>,
    /// The request's id (from `x-request-id`, or made up) and its sticky key for the canary.
    pub request_id: String,
    pub entity: Option<String>,
}

/// Loaded versions by (model, version), each with the sequence number of its load.
type LoadedVersions = HashMap<(String, i64), (u64, Arc<ServedVersion>)>;

/// Every endpoint's binding and the loaded versions.
pub struct Serving {
    store: Store,
    artifacts: LocalArtifactStore,
    clock: Clock,
    pub default_endpoint: Option<String>,
    endpoints: RwLock<HashMap<String, Arc<LiveEndpoint>>>,
    /// Loaded versions by (model, version), with the load sequence number for pruning.
    versions: Mutex<LoadedVersions>,
    loads: AtomicU64,
    /// Serialises cold loads so that concurrent first requests load a model once.
    loading: tokio::sync::Mutex<()>,
    /// The deployments' endpoint names and when they were read, for `/invocations`.
    known: Mutex<Option<(i64, Vec<String>)>>,
    pub metrics: Metrics,
    /// Where every answered prediction is appended; `None` when logging is off.
    pub log: Option<Arc<AnyPredictionLog>>,
    pub shadow: ShadowQueue,
    /// Makes request ids unique across restarts: the start time, then a counter.
    boot_ms: i64,
    next_request: AtomicU64,
}

impl Serving {
    pub fn new(
        store: Store,
        artifacts: LocalArtifactStore,
        clock: Clock,
        default_endpoint: Option<String>,
        log: Option<Arc<AnyPredictionLog>>,
        shadow_capacity: usize,
    ) -> Self {
        let boot_ms = clock();
        Serving {
            store,
            artifacts,
            clock,
            default_endpoint,
            endpoints: RwLock::new(HashMap::new()),
            versions: Mutex::new(HashMap::new()),
            loads: AtomicU64::new(0),
            loading: tokio::sync::Mutex::new(()),
            known: Mutex::new(None),
            metrics: Metrics::default(),
            log,
            shadow: ShadowQueue::new(shadow_capacity),
            boot_ms,
            next_request: AtomicU64::new(0),
        }
    }

    pub(crate) fn now_ms(&self) -> i64 {
        (self.clock)()
    }

    /// A request id for a request that brought none: unique per server start.
    pub(crate) fn new_request_id(&self) -> String {
        let n = self.next_request.fetch_add(1, Ordering::Relaxed);
        format!("{:x}-{n:x}", self.boot_ms)
    }

    /// The bound endpoints, in name order.
    pub fn live_endpoints(&self) -> Vec<Arc<LiveEndpoint>> {
        let mut all: Vec<_> = self
            .endpoints
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .values()
            .cloned()
            .collect();
        all.sort_by(|a, b| a.name.cmp(&b.name));
        all
    }

    fn cached(&self, endpoint: &str) -> Option<Arc<LiveEndpoint>> {
        self.endpoints
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(endpoint)
            .cloned()
    }

    /// The endpoint's binding: from memory, or (first request) from the store. An endpoint with
    /// no deployment is a 404.
    pub async fn endpoint(self: &Arc<Self>, endpoint: &str) -> ApiResult<Arc<LiveEndpoint>> {
        if let Some(live) = self.cached(endpoint) {
            self.recheck_if_stale(&live);
            return Ok(live);
        }
        let _guard = self.loading.lock().await;
        if let Some(live) = self.cached(endpoint) {
            return Ok(live);
        }
        let deployment = self.store.get_deployment(endpoint).await?.ok_or_else(|| {
            ApiError::not_found(format!("no deployment at endpoint `{endpoint}`"))
        })?;
        let live = Arc::new(LiveEndpoint {
            name: endpoint.to_string(),
            route: RwLock::new(Route {
                rollout: active_rollout(&deployment),
                model: deployment.model,
                alias: deployment.alias,
            }),
            current: RwLock::new(None),
            rollout: RwLock::new(None),
            counts: StepCounts::default(),
            checked_at_ms: AtomicI64::new(0),
            rechecking: AtomicBool::new(false),
            rebinding: tokio::sync::Mutex::new(()),
            swaps: AtomicU64::new(0),
            series: EndpointSeries::default(),
        });
        self.rebind(&live).await?;
        self.endpoints
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(endpoint.to_string(), Arc::clone(&live));
        Ok(live)
    }

    /// The version answering a request to `endpoint`: production, or the pinned `version`.
    pub async fn target(
        self: &Arc<Self>,
        endpoint: &str,
        version: Option<i64>,
        request_id: Option<String>,
        entity: Option<String>,
    ) -> ApiResult<Target> {
        let request_id = request_id.unwrap_or_else(|| self.new_request_id());
        let live = self.endpoint(endpoint).await?;
        let current = live.current();
        let (served, variant) = match (version, current) {
            (None, Some(c)) => (c, PRODUCTION),
            (None, None) => {
                let route = live.route.read().unwrap_or_else(|e| e.into_inner()).clone();
                return Err(ApiError::NotReady(format!(
                    "endpoint `{endpoint}` serves {}@{}, and that alias names no version",
                    route.model, route.alias
                )));
            }
            (Some(v), Some(c)) if c.version == v => (c, PRODUCTION),
            (Some(v), _) => {
                let model = live.model_name();
                if let Some(loaded) = self.loaded(&model, v) {
                    return Ok(Target {
                        endpoint: live,
                        served: loaded,
                        variant: PINNED,
                        serving: Arc::clone(self),
                        request_id,
                        entity,
                    });
                }
                let record = self
                    .store
                    .get_registry_version(&model, v)
                    .await?
                    .ok_or_else(|| {
                        ApiError::not_found(format!(
                            "endpoint `{endpoint}` serves model `{model}`, which has no version {v}"
                        ))
                    })?;
                (self.load(&record).await?, PINNED)
            }
        };
        Ok(Target {
            endpoint: live,
            served,
            variant,
            serving: Arc::clone(self),
            request_id,
            entity,
        })
    }

    /// Starts a background recheck of a binding older than [`RECHECK_MS`]; the request goes on
    /// with the current model.
    fn recheck_if_stale(self: &Arc<Self>, live: &Arc<LiveEndpoint>) {
        let now = (self.clock)();
        if now - live.checked_at_ms.load(Ordering::Relaxed) < RECHECK_MS {
            return;
        }
        if live.rechecking.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::clone(self);
        let live = Arc::clone(live);
        tokio::spawn(async move {
            if let Err(e) = this.reload_route(&live).await {
                tracing::warn!(endpoint = live.name, error = %e, "recheck of the deployment failed; serving the current version");
                // Try again after the usual interval, not on the very next request.
                live.checked_at_ms.store((this.clock)(), Ordering::Relaxed);
            }
            live.rechecking.store(false, Ordering::Release);
        });
    }

    /// Rereads an endpoint's deployment and alias now, as the periodic recheck does: for a
    /// change made outside this server (the CLI, another replica) that should not wait for it.
    pub async fn recheck(self: &Arc<Self>, endpoint: &str) -> ApiResult<()> {
        let live = self.endpoint(endpoint).await?;
        self.reload_route(&live).await
    }

    /// Rereads the deployment row and rebinds to its alias.
    async fn reload_route(&self, live: &LiveEndpoint) -> ApiResult<()> {
        if let Some(d) = self.store.get_deployment(&live.name).await? {
            let route = Route {
                rollout: active_rollout(&d),
                model: d.model,
                alias: d.alias,
            };
            *live.route.write().unwrap_or_else(|e| e.into_inner()) = route;
        }
        self.rebind(live).await
    }

    /// Resolves the endpoint's alias and, when it names another version, loads that version and
    /// swaps it in.
    async fn rebind(&self, live: &LiveEndpoint) -> ApiResult<()> {
        let _one_at_a_time = live.rebinding.lock().await;
        let route = live.route.read().unwrap_or_else(|e| e.into_inner()).clone();
        let resolved = self.store.resolve_alias(&route.model, &route.alias).await?;
        let next = match resolved {
            None => {
                self.bind_rollout(live, &route, None).await;
                None
            }
            Some(record) => {
                let same = live
                    .current()
                    .is_some_and(|c| c.model == record.model && c.version == record.version);
                self.bind_rollout(live, &route, Some(record.version)).await;
                if same {
                    live.checked_at_ms.store((self.clock)(), Ordering::Relaxed);
                    return Ok(());
                }
                Some(self.load(&record).await?)
            }
        };
        let changed = {
            let mut current = live.current.write().unwrap_or_else(|e| e.into_inner());
            let changed = current.as_ref().map(|c| c.version) != next.as_ref().map(|n| n.version);
            *current = next;
            changed
        };
        if changed {
            live.swaps.fetch_add(1, Ordering::Relaxed);
            tracing::info!(
                endpoint = live.name,
                model = route.model,
                alias = route.alias,
                version = live.current().map(|c| c.version),
                "endpoint bound"
            );
        }
        live.checked_at_ms.store((self.clock)(), Ordering::Relaxed);
        self.prune();
        Ok(())
    }

    /// Binds (or unbinds) the candidate of the route's active rollout. A candidate that fails to
    /// load is logged and left unbound: production keeps every request meanwhile.
    async fn bind_rollout(&self, live: &LiveEndpoint, route: &Route, production: Option<i64>) {
        let wanted = route
            .rollout
            .as_ref()
            .filter(|r| production.is_some() && Some(r.candidate) != production);
        let Some(r) = wanted else {
            if live
                .rollout
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .take()
                .is_some()
            {
                tracing::info!(endpoint = live.name, "rollout traffic ended");
            }
            return;
        };
        let traffic = r.traffic();
        let existing = live.rollout();
        if let Some(b) = &existing
            && b.id == r.id
            && b.candidate.version == r.candidate
            && b.shadow == traffic.shadow
            && b.canary_percent == traffic.canary_percent
        {
            return;
        }
        let record = match self.store.get_registry_version(&r.model, r.candidate).await {
            Ok(Some(record)) => record,
            Ok(None) => {
                tracing::warn!(
                    endpoint = live.name,
                    version = r.candidate,
                    "the rollout's candidate is not in the registry"
                );
                return;
            }
            Err(e) => {
                tracing::warn!(endpoint = live.name, error = %e, "reading the rollout's candidate failed");
                return;
            }
        };
        match self.load(&record).await {
            Ok(candidate) => {
                tracing::info!(
                    endpoint = live.name,
                    candidate = r.candidate,
                    shadow = traffic.shadow,
                    canary_percent = traffic.canary_percent,
                    "rollout traffic bound"
                );
                if existing.as_ref().is_none_or(|b| b.id != r.id) {
                    live.counts.take();
                }
                *live.rollout.write().unwrap_or_else(|e| e.into_inner()) =
                    Some(Arc::new(BoundRollout {
                        id: r.id.clone(),
                        candidate,
                        shadow: traffic.shadow,
                        canary_percent: traffic.canary_percent,
                    }));
            }
            Err(e) => {
                tracing::warn!(endpoint = live.name, version = r.candidate, error = %e, "loading the rollout's candidate failed");
            }
        }
    }

    /// A version already in memory, found without the store.
    fn loaded(&self, model: &str, version: i64) -> Option<Arc<ServedVersion>> {
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(model.to_string(), version))
            .map(|(_, v)| Arc::clone(v))
    }

    /// The loaded model of a registry version, loading it (off the runtime) on first use.
    pub async fn load(&self, record: &RegistryVersion) -> ApiResult<Arc<ServedVersion>> {
        let key = (record.model.clone(), record.version);
        if let Some((_, v)) = self
            .versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&key)
        {
            return Ok(Arc::clone(v));
        }
        let bytes = self.artifacts.get_bytes(&record.artifact).await?;
        let name = format!("{}/{}", record.model, record.version);
        let loaded = tokio::task::spawn_blocking(move || {
            let format = aidlc_models::detect_format(&bytes, &name)?;
            aidlc_models::load_model_bytes(bytes, &name).map(|m| (format, m))
        })
        .await
        .map_err(|e| {
            ApiError::Model(aidlc_models::ModelError::Runtime(format!(
                "loading {}/{} failed: {e}",
                record.model, record.version
            )))
        })??;
        let served = Arc::new(ServedVersion::new(record, loaded.0, Arc::from(loaded.1)));
        let seq = self.loads.fetch_add(1, Ordering::Relaxed);
        self.versions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, (seq, Arc::clone(&served)));
        self.prune();
        Ok(served)
    }

    /// Drops loaded versions no endpoint serves, beyond the newest [`SPARE_VERSIONS`]. A request
    /// still scoring on a dropped version keeps it alive through its own `Arc`.
    fn prune(&self) {
        let bound: Vec<(String, i64)> = self
            .live_endpoints()
            .iter()
            .flat_map(|l| {
                let current = l.current().map(|c| (c.model.clone(), c.version));
                let candidate = l
                    .rollout()
                    .map(|b| (b.candidate.model.clone(), b.candidate.version));
                current.into_iter().chain(candidate)
            })
            .collect();
        let mut versions = self.versions.lock().unwrap_or_else(|e| e.into_inner());
        let mut spare: Vec<(u64, (String, i64))> = versions
            .iter()
            .filter(|(k, _)| !bound.contains(k))
            .map(|(k, (seq, _))| (*seq, k.clone()))
            .collect();
        if spare.len() <= SPARE_VERSIONS {
            return;
        }
        spare.sort();
        for (_, key) in &spare[..spare.len() - SPARE_VERSIONS] {
            versions.remove(key);
        }
    }

    /// Rebinds every endpoint that serves `model` now: called after an alias of it moved through
    /// this server, so the next request gets the new version. The alias change itself has
    /// happened; a version that fails to load is logged and the endpoint keeps its model until
    /// the next recheck.
    pub async fn alias_moved(&self, model: &str) {
        for live in self.live_endpoints() {
            if live.model_name() == model
                && let Err(e) = self.rebind(&live).await
            {
                tracing::warn!(endpoint = live.name, error = %e, "rebinding after an alias change failed");
            }
        }
    }

    /// Forgets an endpoint's binding (its deployment changed); the next request binds it again.
    pub async fn deployment_changed(self: &Arc<Self>, endpoint: &str) -> ApiResult<()> {
        *self.known.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let existing = self.cached(endpoint);
        match existing {
            Some(live) => self.reload_route(&live).await,
            None => self.endpoint(endpoint).await.map(|_| ()),
        }
    }

    /// Binds every deployment in the store (at start-up, and for readiness checks); answers
    /// whether every one has a version to serve.
    pub async fn bind_all(self: &Arc<Self>) -> ApiResult<bool> {
        let mut ready = true;
        for d in self.store.list_deployments().await? {
            let live = self.endpoint(&d.endpoint).await?;
            ready &= live.current().is_some();
        }
        Ok(ready)
    }

    /// The endpoint `/invocations` answers for: the configured default, else the only
    /// deployment (the list of deployments is reread at most every [`RECHECK_MS`]).
    pub async fn default_endpoint(&self) -> ApiResult<String> {
        if let Some(name) = &self.default_endpoint {
            return Ok(name.clone());
        }
        let now = (self.clock)();
        let fresh = self
            .known
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .filter(|(at, _)| now - at < RECHECK_MS)
            .map(|(_, names)| names.clone());
        let names = match fresh {
            Some(names) => names,
            None => {
                let names: Vec<String> = self
                    .store
                    .list_deployments()
                    .await?
                    .into_iter()
                    .map(|d| d.endpoint)
                    .collect();
                *self.known.lock().unwrap_or_else(|e| e.into_inner()) = Some((now, names.clone()));
                names
            }
        };
        match names.as_slice() {
            [one] => Ok(one.clone()),
            [] => Err(ApiError::not_found(
                "no deployment to answer /invocations; deploy a model first",
            )),
            many => Err(ApiError::not_found(format!(
                "{} deployments and no default endpoint; call /endpoints/NAME/invocations (one of: {}) or configure a default endpoint",
                many.len(),
                many.join(", ")
            ))),
        }
    }
}

/// The deployment's rollout while it still sends traffic to its candidate.
fn active_rollout(d: &aidlc_core::records::Deployment) -> Option<Rollout> {
    match aidlc_service::rollout::rollout_of(d) {
        Ok(r) => r.filter(Rollout::is_active),
        Err(e) => {
            tracing::warn!(endpoint = d.endpoint, error = %e, "ignoring an unreadable rollout state");
            None
        }
    }
}
