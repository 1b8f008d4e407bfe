//! MLflow's REST API: routes and thin handlers. Each handler reads its arguments (a JSON body,
//! or the query string for GET, where repeated keys are lists and every value is a string),
//! calls one store or service function, and converts the answer.

mod artifacts;
mod convert;
mod registry;
pub mod search;
mod tracking;

pub(crate) use registry::check_alias;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use axum::Router;
use axum::routing::{get, patch, post};
use serde::de::DeserializeOwned;
use std::collections::HashMap;

/// The endpoints under `/api/2.0/mlflow` (also mounted under `/ajax-api/2.0/mlflow`).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/experiments/get-by-name",
            get(tracking::get_experiment_by_name),
        )
        .route("/experiments/create", post(tracking::create_experiment))
        .route("/experiments/get", get(tracking::get_experiment))
        .route(
            "/experiments/search",
            post(tracking::search_experiments).get(tracking::search_experiments_get),
        )
        .route("/experiments/delete", post(tracking::delete_experiment))
        .route("/experiments/restore", post(tracking::restore_experiment))
        .route(
            "/experiments/set-experiment-tag",
            post(tracking::set_experiment_tag),
        )
        .route("/runs/create", post(tracking::create_run))
        .route("/runs/get", get(tracking::get_run))
        .route("/runs/update", post(tracking::update_run))
        .route("/runs/log-parameter", post(tracking::log_param))
        .route("/runs/log-metric", post(tracking::log_metric))
        .route("/runs/set-tag", post(tracking::set_tag))
        .route("/runs/delete-tag", post(tracking::delete_tag))
        .route("/runs/log-batch", post(tracking::log_batch))
        .route("/runs/delete", post(tracking::delete_run))
        .route("/runs/restore", post(tracking::restore_run))
        .route("/runs/search", post(tracking::search_runs))
        .route("/runs/outputs", post(tracking::log_outputs))
        .route("/metrics/get-history", get(tracking::metric_history))
        .route("/logged-models", post(tracking::create_logged_model))
        .route(
            "/logged-models/search",
            post(tracking::search_logged_models),
        )
        .route(
            "/logged-models/{model_id}",
            get(tracking::get_logged_model).patch(tracking::finalize_logged_model),
        )
        .route(
            "/logged-models/{model_id}/tags",
            patch(tracking::set_logged_model_tags),
        )
        .route(
            "/registered-models/create",
            post(registry::create_registered_model),
        )
        .route(
            "/registered-models/get",
            get(registry::get_registered_model),
        )
        .route(
            "/registered-models/search",
            get(registry::search_registered_models),
        )
        .route(
            "/registered-models/alias",
            post(registry::set_alias)
                .get(registry::get_alias)
                .delete(registry::delete_alias),
        )
        .route(
            "/registered-models/set-tag",
            post(registry::set_registered_model_tag),
        )
        .route(
            "/registered-models/delete",
            axum::routing::delete(registry::delete_registered_model),
        )
        .route(
            "/registered-models/get-latest-versions",
            post(registry::get_latest_versions),
        )
        .route(
            "/model-versions/create",
            post(registry::create_model_version),
        )
        .route("/model-versions/get", get(registry::get_model_version))
        .route(
            "/model-versions/get-download-uri",
            get(registry::get_download_uri),
        )
        .route(
            "/model-versions/search",
            get(registry::search_model_versions),
        )
        .route(
            "/model-versions/set-tag",
            post(registry::set_model_version_tag),
        )
        .route(
            "/model-versions/delete-tag",
            axum::routing::delete(registry::delete_model_version_tag),
        )
        .route(
            "/model-versions/update",
            patch(registry::update_model_version),
        )
        .route(
            "/model-versions/transition-stage",
            post(registry::transition_stage),
        )
}

/// Endpoints outside the `/api/2.0/mlflow` prefix: the artifact proxy and the server-info probe.
pub fn extra_routes() -> Router<AppState> {
    Router::new()
        .route("/api/2.0/mlflow-artifacts/artifacts", get(artifacts::list))
        .route(
            "/api/2.0/mlflow-artifacts/artifacts/{*path}",
            get(artifacts::download).put(artifacts::upload),
        )
        .route("/api/3.0/mlflow/server-info", get(artifacts::server_info))
}

/// A GET request's arguments: repeated keys are lists, every value a string.
pub(crate) struct Query(HashMap<String, Vec<String>>);

impl Query {
    pub fn parse(raw: Option<String>) -> Self {
        let mut map: HashMap<String, Vec<String>> = HashMap::new();
        if let Some(raw) = raw {
            for (k, v) in form_urlencoded::parse(raw.as_bytes()) {
                map.entry(k.into_owned()).or_default().push(v.into_owned());
            }
        }
        Query(map)
    }

    pub fn one(&self, key: &str) -> Option<String> {
        self.0.get(key).and_then(|v| v.first()).cloned()
    }

    pub fn all(&self, key: &str) -> Vec<String> {
        self.0.get(key).cloned().unwrap_or_default()
    }

    pub fn required(&self, key: &str) -> ApiResult<String> {
        self.one(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| missing(key))
    }

    pub fn int(&self, key: &str) -> ApiResult<Option<i64>> {
        self.one(key)
            .map(|v| {
                v.parse::<i64>().map_err(|_| {
                    ApiError::invalid(format!("`{key}` must be an integer, got `{v}`"))
                })
            })
            .transpose()
    }
}

/// Parses a JSON body; an empty body counts as `{}`. A malformed body or a wrong JSON type is
/// the client's mistake (400), never a server error.
pub(crate) fn body<T: DeserializeOwned>(bytes: &[u8]) -> ApiResult<T> {
    let bytes = if bytes.iter().all(u8::is_ascii_whitespace) {
        b"{}".as_slice()
    } else {
        bytes
    };
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::invalid(format!("invalid request body: {e}")))
}

pub(crate) fn missing(field: &str) -> ApiError {
    ApiError::invalid(format!("Missing value for required parameter '{field}'"))
}

pub(crate) fn required(value: Option<String>, field: &str) -> ApiResult<String> {
    value
        .filter(|v| !v.is_empty())
        .ok_or_else(|| missing(field))
}

/// MLflow's limits on `max_results`: 1..=50000.
pub(crate) fn max_results(value: Option<i64>, default: i64) -> ApiResult<i64> {
    let n = value.unwrap_or(default);
    if !(1..=50_000).contains(&n) {
        return Err(ApiError::invalid(format!(
            "Invalid value {n} for parameter 'max_results' supplied: it must be between 1 and 50000"
        )));
    }
    Ok(n)
}

pub(crate) fn view_type(value: Option<&str>) -> ApiResult<aidlc_store::ViewType> {
    match value.unwrap_or("ACTIVE_ONLY") {
        "ACTIVE_ONLY" | "" | "1" => Ok(aidlc_store::ViewType::ActiveOnly),
        "DELETED_ONLY" | "2" => Ok(aidlc_store::ViewType::DeletedOnly),
        "ALL" | "3" => Ok(aidlc_store::ViewType::All),
        other => Err(ApiError::invalid(format!("invalid view type `{other}`"))),
    }
}
