//! The retraining pipeline's API under `/api/v1/pipelines`: its runs, and the two decisions a
//! person makes on a run that waits for approval — approve (its challenger goes to the rollout
//! controller, as `aidlc loop approve` does) and reject (the run ends, nothing is deployed) —
//! each audited with the server's actor and the reason in the body.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::inference::DecisionRequest;
use aidlc_api::native as wire;
use aidlc_service::iterate;
use aidlc_store::{PipelineRecord, PipelineStore};
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::routing::{get, post};
use axum::{Json, Router};

/// Runs listed when no `limit` is given.
const DEFAULT_LIMIT: i64 = 100;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/pipelines", get(list))
        .route("/api/v1/pipelines/{model}/approve", post(approve))
        .route("/api/v1/pipelines/{model}/reject", post(reject))
}

fn view(r: PipelineRecord) -> wire::PipelineView {
    wire::PipelineView {
        id: r.id,
        model: r.model,
        trigger: r.trigger,
        status: r.status,
        state: r.state,
        started_by: r.started_by,
        started_at_ms: r.started_at_ms,
        updated_at_ms: r.updated_at_ms,
    }
}

async fn list(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> ApiResult<Json<wire::PipelineList>> {
    let mut model = None;
    let mut limit = DEFAULT_LIMIT;
    for (key, value) in form_urlencoded::parse(q.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "model" => model = Some(value.into_owned()),
            "limit" => {
                limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| {
                        ApiError::invalid(format!(
                            "`limit` must be a whole number > 0, not {value:?}"
                        ))
                    })?
            }
            other => {
                return Err(ApiError::invalid(format!(
                    "unknown parameter `{other}`: expected model or limit"
                )));
            }
        }
    }
    let runs = s.store().list_pipelines(model.as_deref(), limit).await?;
    Ok(Json(wire::PipelineList {
        pipelines: runs.into_iter().map(view).collect(),
    }))
}

async fn approve(
    State(s): State<AppState>,
    Path(model): Path<String>,
    b: Bytes,
) -> ApiResult<Json<wire::PipelineView>> {
    let req: DecisionRequest = crate::mlflow::body(&b)?;
    let spec = s.config().spec.as_ref().ok_or_else(|| {
        ApiError::Unconfigured(
            "this server was started without a readable aidlc.toml, which the pipeline's rollout follows; \
             start `aidlc server` in the project folder or use `aidlc loop approve`"
                .into(),
        )
    })?;
    let run = iterate::approve(
        s.store(),
        &s.audit(req.reason),
        spec,
        &model,
        &s.config().alias_policy,
    )
    .await?;
    // The hand-off started a rollout: bind its candidate now rather than at the next recheck.
    if let Some(endpoint) = &spec.iterate.endpoint
        && run.status == "handed_off"
    {
        s.serving().deployment_changed(endpoint).await?;
    }
    Ok(Json(view(run)))
}

async fn reject(
    State(s): State<AppState>,
    Path(model): Path<String>,
    b: Bytes,
) -> ApiResult<Json<wire::PipelineView>> {
    let req: DecisionRequest = crate::mlflow::body(&b)?;
    let run = iterate::reject(s.store(), &s.audit(req.reason), &model).await?;
    Ok(Json(view(run)))
}
