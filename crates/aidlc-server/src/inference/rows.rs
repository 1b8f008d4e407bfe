//! The native inference API: deployments (`/api/v1/deployments`) and the rows endpoint
//! (`POST /api/v1/endpoints/{name}/predict`), which answers with the version and variant that
//! scored the rows.

use super::{Protocol, RequestMeta, Target, answer, input, read_body, stamp};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::inference as wire;
use aidlc_core::records::Deployment;
use aidlc_models::Predictions;
use aidlc_store::{DeploymentStore, RegistryStore};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::Value;

/// The rows endpoint and reading deployments; with `writable`, also creating and re-pointing
/// them (not on inference-only replicas).
pub fn routes(writable: bool) -> Router<AppState> {
    let deployment = if writable {
        get(show_deployment).put(put_deployment)
    } else {
        get(show_deployment)
    };
    Router::new()
        .route("/api/v1/deployments", get(list_deployments))
        .route("/api/v1/deployments/{endpoint}", deployment)
        .route("/api/v1/endpoints/{name}/predict", post(predict))
}

/// Endpoint names appear in URLs of every protocol: letters, digits, `_`, `-` and `.`.
fn check_endpoint_name(name: &str) -> ApiResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "invalid endpoint name `{name}`: use 1 to 128 letters, digits, `_`, `-` or `.`"
        )))
    }
}

async fn view(s: &AppState, d: Deployment) -> ApiResult<wire::DeploymentView> {
    let version = s
        .store()
        .resolve_alias(&d.model, &d.alias)
        .await?
        .map(|v| v.version);
    Ok(wire::DeploymentView {
        endpoint: d.endpoint,
        model: d.model,
        alias: d.alias,
        version,
        updated_by: d.updated_by,
        updated_at_ms: d.updated_at_ms,
    })
}

async fn list_deployments(State(s): State<AppState>) -> ApiResult<Json<wire::DeploymentList>> {
    let mut deployments = Vec::new();
    for d in s.store().list_deployments().await? {
        deployments.push(view(&s, d).await?);
    }
    Ok(Json(wire::DeploymentList { deployments }))
}

async fn show_deployment(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
) -> ApiResult<Json<wire::DeploymentView>> {
    let d =
        s.store().get_deployment(&endpoint).await?.ok_or_else(|| {
            ApiError::not_found(format!("no deployment at endpoint `{endpoint}`"))
        })?;
    Ok(Json(view(&s, d).await?))
}

/// Creates or re-points a deployment; the alias must name a version so the endpoint can answer
/// at once. A rollout state kept by the controller survives re-pointing.
async fn put_deployment(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
    body: Body,
) -> ApiResult<Json<wire::DeploymentView>> {
    check_endpoint_name(&endpoint)?;
    let req: wire::DeploymentRequest = crate::mlflow::body(&read_body(body).await?)?;
    s.store()
        .get_registered_model(&req.model)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model `{}` not found", req.model)))?;
    if s.store()
        .resolve_alias(&req.model, &req.alias)
        .await?
        .is_none()
    {
        return Err(ApiError::invalid(format!(
            "model `{}` has no alias `{}`; set it first (aidlc models alias)",
            req.model, req.alias
        )));
    }
    let state = s
        .store()
        .get_deployment(&endpoint)
        .await?
        .map_or_else(|| serde_json::json!({}), |d| d.state);
    let ctx = s.audit(None);
    let deployment = Deployment {
        endpoint: endpoint.clone(),
        model: req.model,
        alias: req.alias,
        state,
        updated_by: ctx.actor.clone(),
        updated_at_ms: ctx.at_ms,
    };
    s.store()
        .upsert_deployments(&ctx, vec![deployment.clone()])
        .await?;
    s.serving().deployment_changed(&endpoint).await?;
    Ok(Json(view(&s, deployment).await?))
}

/// One prediction per row, in the shape of the native API.
pub fn row_predictions(predictions: Predictions) -> Vec<wire::RowPrediction> {
    match predictions {
        Predictions::Classes {
            classes,
            labels,
            probabilities,
        } => {
            let k = classes.len();
            labels
                .iter()
                .enumerate()
                .map(|(i, &label)| wire::RowPrediction::Class {
                    label: classes.get(label).cloned().unwrap_or_default(),
                    probabilities: wire::ClassProbabilities(
                        classes
                            .iter()
                            .cloned()
                            .zip(probabilities[i * k..(i + 1) * k].iter().copied())
                            .collect(),
                    ),
                })
                .collect()
        }
        Predictions::Values(values) => values
            .into_iter()
            .map(|value| wire::RowPrediction::Value { value })
            .collect(),
    }
}

async fn predict(
    State(s): State<AppState>,
    Path(name): Path<String>,
    meta: RequestMeta,
    body: Body,
) -> Response {
    answer(
        &s,
        Protocol::Native,
        Ok(name),
        None,
        meta,
        |mut target: Target| async move {
            let req: wire::PredictRequest = crate::mlflow::body(&read_body(body).await?)?;
            if let Some(id) = req.request_id.clone().filter(|id| !id.is_empty()) {
                target.request_id = id;
            }
            if let Some(entity) = req.entity.clone() {
                target.entity = Some(entity);
            }
            let signature = target.served.scorer.signature();
            let frame = if req.rows.is_empty() {
                return Err(ApiError::invalid("`rows` is empty: send at least one row"));
            } else if req.rows.iter().all(Value::is_array) {
                input::from_positional_rows(signature, None, &req.rows)?
            } else {
                input::from_object_rows(signature, &req.rows)?
            };
            let scored = target.score(frame).await?;
            let mut response = Json(wire::PredictResponse {
                model: scored.served.model.clone(),
                version: scored.served.version,
                variant: scored.variant.to_string(),
                request_id: Some(target.request_id.clone()),
                predictions: row_predictions(scored.predictions.clone()),
            })
            .into_response();
            stamp(&mut response, &scored);
            Ok(response)
        },
    )
    .await
}
