//! Inference: deployments served over three protocols from one model cache.
//!
//! - Open Inference Protocol v2 REST (`/v2/...`, KServe v2 / Triton HTTP) with JSON tensors and
//!   the binary tensor extension `tritonclient.http` uses by default ([`v2`]).
//! - MLflow's scoring protocol (`/invocations`, `/endpoints/{name}/invocations`, `/ping`,
//!   `/version`) ([`scoring`]).
//! - The native rows endpoint and deployments under `/api/v1` ([`rows`]).
//!
//! Every answer that reached a model carries `x-aidlc-model-version` and `x-aidlc-variant`, and
//! is counted in `/metrics` by endpoint, version, variant and protocol. The model name in a v2
//! URL is the endpoint's name; `versions/{v}` pins a registry version of the endpoint's model.

mod cache;
mod controller;
mod input;
mod metrics;
mod rollouts;
mod rows;
mod scoring;
mod traffic;
mod v2;

pub use cache::{
    BLOCKING_ROWS, CANARY, LabelKind, LiveEndpoint, PINNED, PRODUCTION, RECHECK_MS, SHADOW,
    ServedVersion, Serving, Target,
};
pub use controller::{CONTROLLER_ACTOR, start_controller, tick as controller_tick};
pub use metrics::Protocol;
pub use traffic::{
    BoundRollout, DEFAULT_SHADOW_QUEUE, ENTITY_HEADER, REQUEST_ID_HEADER, RequestMeta, Scored,
    canary_position, start_shadow_worker,
};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use http_body_util::BodyExt;
use std::future::Future;
use std::time::Instant;

/// Largest request body an inference endpoint reads; a larger one is a 400 naming the limit.
pub const INFERENCE_BODY_LIMIT: usize = 16 * 1024 * 1024;

/// The header naming the registry version that answered.
pub const VERSION_HEADER: &str = "x-aidlc-model-version";
/// The header naming the variant that answered (`production`, `canary` or `pinned`).
pub const VARIANT_HEADER: &str = "x-aidlc-variant";

/// Stamps an answer with the version and variant that produced it.
pub(crate) fn stamp(response: &mut Response, scored: &Scored) {
    let headers = response.headers_mut();
    headers.insert(VERSION_HEADER, HeaderValue::from(scored.served.version));
    headers.insert(VARIANT_HEADER, HeaderValue::from_static(scored.variant));
}

/// Inference and reading deployments; with `writable`, also the deployment and rollout
/// routes that change the store (not on inference-only replicas).
pub fn routes(writable: bool) -> Router<AppState> {
    let router = Router::new()
        .merge(v2::routes())
        .merge(scoring::routes())
        .merge(rows::routes(writable))
        .route("/metrics", get(metrics_text));
    if writable {
        router.merge(rollouts::routes())
    } else {
        router
    }
}

/// Reads a whole request body, refusing one over [`INFERENCE_BODY_LIMIT`] with a 400.
pub(crate) async fn read_body(body: Body) -> ApiResult<Bytes> {
    match http_body_util::Limited::new(body, INFERENCE_BODY_LIMIT)
        .collect()
        .await
    {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(ApiError::TooLarge {
            limit: INFERENCE_BODY_LIMIT,
        }),
        Err(e) => Err(ApiError::invalid(format!(
            "could not read the request body: {e}"
        ))),
    }
}

/// An error in the shape of the protocol: `{"error": ...}` for v2, MLflow's
/// `{"error_code", "message"}` otherwise.
fn error_response(protocol: Protocol, e: ApiError) -> Response {
    match protocol {
        Protocol::OpenInference => {
            let (status, _) = e.classify();
            if status.is_server_error() {
                tracing::error!(error = %e, "inference failed");
            }
            (
                status,
                axum::Json(aidlc_api::inference::v2::ErrorBody {
                    error: e.to_string(),
                }),
            )
                .into_response()
        }
        Protocol::Mlflow | Protocol::Native => e.into_response(),
    }
}

/// Resolves the request's target, runs `work` on it, stamps the answer with the version and
/// variant that answered and records it in the metrics. Errors take the protocol's shape.
async fn answer<F, Fut>(
    s: &AppState,
    protocol: Protocol,
    endpoint: ApiResult<String>,
    version: Option<i64>,
    meta: RequestMeta,
    work: F,
) -> Response
where
    F: FnOnce(Target) -> Fut,
    Fut: Future<Output = ApiResult<Response>>,
{
    let started = Instant::now();
    let serving = s.serving();
    let target = match endpoint {
        Ok(name) => {
            serving
                .target(&name, version, meta.request_id, meta.entity)
                .await
        }
        Err(e) => Err(e),
    };
    let target = match target {
        Ok(t) => t,
        Err(e) => {
            serving.metrics.unrouted(protocol);
            return error_response(protocol, e);
        }
    };
    let mut served_version = target.served.version;
    let mut variant = target.variant;
    let request_id = HeaderValue::from_str(&target.request_id).ok();
    let endpoint = std::sync::Arc::clone(&target.endpoint);
    let mut response = match work(target).await {
        Ok(r) => r,
        Err(e) => error_response(protocol, e),
    };
    let headers = response.headers_mut();
    // A canary's answer carries its own version and variant (see `stamp`).
    match (
        headers
            .get(VERSION_HEADER)
            .and_then(|v| v.to_str().ok()?.parse().ok()),
        headers
            .get(VARIANT_HEADER)
            .and_then(|v| traffic::variant_name(v.to_str().ok()?)),
    ) {
        (Some(v), Some(name)) => {
            served_version = v;
            variant = name;
        }
        _ => {
            headers.insert(VERSION_HEADER, HeaderValue::from(served_version));
            headers.insert(VARIANT_HEADER, HeaderValue::from_static(variant));
        }
    }
    if let Some(id) = request_id {
        headers.insert(REQUEST_ID_HEADER, id);
    }
    endpoint.series.record(
        served_version,
        variant,
        protocol,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// Resolves the target for a metadata or readiness request and stamps the answer like
/// [`answer`], without counting it as an inference request in the metrics.
async fn describe<F>(
    s: &AppState,
    protocol: Protocol,
    endpoint: String,
    version: Option<i64>,
    work: F,
) -> Response
where
    F: FnOnce(&Target) -> Response,
{
    match s.serving().target(&endpoint, version, None, None).await {
        Ok(target) => {
            let mut response = work(&target);
            let headers = response.headers_mut();
            headers.insert(VERSION_HEADER, HeaderValue::from(target.served.version));
            headers.insert(VARIANT_HEADER, HeaderValue::from_static(target.variant));
            response
        }
        Err(e) => error_response(protocol, e),
    }
}

async fn metrics_text(axum::extract::State(s): axum::extract::State<AppState>) -> Response {
    let serving = s.serving();
    let live = serving.live_endpoints();
    let views: Vec<metrics::EndpointView<'_>> = live
        .iter()
        .map(|l| metrics::EndpointView {
            name: &l.name,
            model: l.model_name(),
            version: l.current().map(|c| c.version),
            swaps: l.swaps.load(std::sync::atomic::Ordering::Relaxed),
            series: &l.series,
        })
        .collect();
    let mut text = metrics::render(&serving.metrics, &views);
    metrics::render_traffic(
        &mut text,
        &metrics::TrafficView {
            shadow_scored: serving
                .shadow
                .scored
                .load(std::sync::atomic::Ordering::Relaxed),
            shadow_dropped: serving
                .shadow
                .drops
                .load(std::sync::atomic::Ordering::Relaxed),
            shadow_errors: serving
                .shadow
                .errors
                .load(std::sync::atomic::Ordering::Relaxed),
            shadow_queue_depth: serving.shadow.depth() as u64,
            log: serving
                .log
                .as_ref()
                .map(|l| aidlc_store::PredictionLog::stats(l.as_ref())),
        },
    );
    (
        StatusCode::OK,
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        text,
    )
        .into_response()
}
