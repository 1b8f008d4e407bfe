//! The rollout API under `/api/v1/deployments/{endpoint}`: the status of the latest rollout,
//! and the decisions a person makes — approve a promotion, reject it, roll back — each audited
//! with its reason. Starting a rollout needs the project's `[deploy]` policy, so it is the CLI's
//! (`aidlc deploy --version`).

use super::read_body;
use crate::AppState;
use crate::error::ApiResult;
use aidlc_api::inference as wire;
use aidlc_service::rollout as service;
use aidlc_store::RegistryStore;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::routing::{get, post};
use axum::{Json, Router};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/deployments/{endpoint}/rollout", get(status))
        .route("/api/v1/deployments/{endpoint}/approve", post(approve))
        .route("/api/v1/deployments/{endpoint}/reject", post(reject))
        .route("/api/v1/deployments/{endpoint}/rollback", post(rollback))
}

async fn view(s: &AppState, endpoint: &str) -> ApiResult<wire::RolloutStatusView> {
    let (d, rollout) = service::status(s.store(), endpoint).await?;
    let production_version = s
        .store()
        .resolve_alias(&d.model, &d.alias)
        .await?
        .map(|v| v.version);
    Ok(wire::RolloutStatusView {
        endpoint: d.endpoint,
        model: d.model,
        alias: d.alias,
        production_version,
        rollout: rollout.map(|r| serde_json::to_value(r).unwrap_or_default()),
    })
}

async fn status(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
) -> ApiResult<Json<wire::RolloutStatusView>> {
    Ok(Json(view(&s, &endpoint).await?))
}

async fn decision(body: Body) -> ApiResult<wire::DecisionRequest> {
    let bytes = read_body(body).await?;
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(wire::DecisionRequest::default());
    }
    crate::mlflow::body(&bytes)
}

async fn approve(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
    body: Body,
) -> ApiResult<Json<wire::RolloutStatusView>> {
    let req = decision(body).await?;
    service::approve(s.store(), &endpoint, &s.audit(req.reason)).await?;
    s.serving().deployment_changed(&endpoint).await?;
    Ok(Json(view(&s, &endpoint).await?))
}

async fn reject(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
    body: Body,
) -> ApiResult<Json<wire::RolloutStatusView>> {
    let req = decision(body).await?;
    service::reject(s.store(), &endpoint, &s.audit(req.reason)).await?;
    s.serving().deployment_changed(&endpoint).await?;
    Ok(Json(view(&s, &endpoint).await?))
}

async fn rollback(
    State(s): State<AppState>,
    Path(endpoint): Path<String>,
    body: Body,
) -> ApiResult<Json<wire::RolloutStatusView>> {
    let req = decision(body).await?;
    service::roll_back(s.store(), &endpoint, &s.audit(req.reason)).await?;
    s.serving().deployment_changed(&endpoint).await?;
    Ok(Json(view(&s, &endpoint).await?))
}
