//! The native API (`/api/v1`): the registry with lineage, governed aliases and promotion, and
//! `/health`.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::native as wire;
use aidlc_store::{RegisteredModel, RegistryStore, RegistryVersion};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::routing::{get, post, put};

/// `/health` alone, for inference-only replicas.
pub fn health_routes() -> Router<AppState> {
    Router::new().route("/health", get(health))
}

pub fn routes() -> Router<AppState> {
    health_routes()
        .route("/api/v1/models", get(list_models))
        .route("/api/v1/models/{name}", get(show_model))
        .route(
            "/api/v1/models/{name}/versions/{version}/lineage",
            get(lineage),
        )
        .route("/api/v1/models/{name}/aliases/{alias}", put(set_alias))
        .route("/api/v1/models/{name}/promote", post(promote))
        .route("/api/v1/alerts", get(crate::alerts::list))
        .route("/api/v1/labels", post(crate::labels::record))
}

async fn health(State(s): State<AppState>) -> Json<wire::Health> {
    Json(wire::Health {
        status: "ok".into(),
        store: s.store().backend_name().into(),
        version: env!("CARGO_PKG_VERSION").into(),
    })
}

pub fn version_view(v: &RegistryVersion) -> wire::ModelVersionView {
    wire::ModelVersionView {
        model: v.model.clone(),
        version: v.version,
        artifact: v.artifact.0.clone(),
        source: v.source.clone(),
        run_id: v.run_id.clone(),
        dataset_version: v.dataset_version.as_ref().map(|d| d.0.clone()),
        split: v.split.as_ref().map(|s| s.0.clone()),
        git_commit: v.git_commit.clone(),
        git_dirty: v.git_dirty,
        aliases: v.aliases.clone(),
        created_by: v.created_by.clone(),
        created_at_ms: v.created_at_ms,
    }
}

async fn model_view(s: &AppState, m: &RegisteredModel) -> ApiResult<wire::ModelView> {
    let versions: Vec<wire::ModelVersionView> =
        aidlc_service::registry::all_versions(s.store(), &m.name)
            .await?
            .iter()
            .map(version_view)
            .collect();
    Ok(wire::ModelView {
        name: m.name.clone(),
        description: m.description.clone(),
        aliases: m
            .aliases
            .iter()
            .map(|(alias, version)| wire::AliasView {
                alias: alias.clone(),
                version: *version,
            })
            .collect(),
        versions,
    })
}

async fn list_models(State(s): State<AppState>) -> ApiResult<Json<wire::ModelList>> {
    let mut models = Vec::new();
    let mut offset = 0;
    loop {
        let page = s
            .store()
            .search_registered_models(None, 1000, offset)
            .await?;
        for m in &page.items {
            models.push(model_view(&s, m).await?);
        }
        match page.next_offset {
            Some(o) => offset = o,
            None => break,
        }
    }
    Ok(Json(wire::ModelList { models }))
}

async fn show_model(
    State(s): State<AppState>,
    Path(name): Path<String>,
) -> ApiResult<Json<wire::ModelView>> {
    let m = s
        .store()
        .get_registered_model(&name)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model `{name}` not found")))?;
    Ok(Json(model_view(&s, &m).await?))
}

/// The lineage chain of a version; a `None` value marks a missing link.
pub fn lineage_of(v: &RegistryVersion, evaluation: Option<String>) -> wire::Lineage {
    let links = vec![
        wire::LineageLink {
            link: "artifact".into(),
            value: Some(v.artifact.0.clone()),
        },
        wire::LineageLink {
            link: "run".into(),
            value: v.run_id.clone(),
        },
        wire::LineageLink {
            link: "dataset_version".into(),
            value: v.dataset_version.as_ref().map(|d| d.0.clone()),
        },
        wire::LineageLink {
            link: "split".into(),
            value: v.split.as_ref().map(|h| h.0.clone()),
        },
        wire::LineageLink {
            link: "git_commit".into(),
            value: v.git_commit.as_ref().map(|c| match v.git_dirty {
                Some(true) => format!("{c} (dirty)"),
                _ => c.clone(),
            }),
        },
        wire::LineageLink {
            link: "evaluation_report".into(),
            value: evaluation,
        },
    ];
    let complete = links.iter().all(|l| l.value.is_some());
    wire::Lineage {
        model: v.model.clone(),
        version: v.version,
        links,
        complete,
    }
}

async fn lineage(
    State(s): State<AppState>,
    Path((name, version)): Path<(String, i64)>,
) -> ApiResult<Json<wire::Lineage>> {
    let v = s
        .store()
        .get_registry_version(&name, version)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("model version {name}/{version} not found")))?;
    let reports = s.store().evaluation_reports(&name, version).await?;
    let evaluation = reports.last().map(|r| {
        format!(
            "{} ({})",
            r.id,
            if r.data.passed { "passed" } else { "failed" }
        )
    });
    Ok(Json(lineage_of(&v, evaluation)))
}

async fn set_alias(
    State(s): State<AppState>,
    Path((name, alias)): Path<(String, String)>,
    b: Bytes,
) -> ApiResult<Json<wire::AliasChangeView>> {
    let req: wire::SetAliasRequest = crate::mlflow::body(&b)?;
    crate::mlflow::check_alias(&alias)?;
    let reason = req.override_reason.filter(|r| !r.trim().is_empty());
    let change = s
        .store()
        .set_governed_alias(
            &s.audit(reason),
            &s.config().alias_policy,
            &name,
            &alias,
            req.version,
        )
        .await?;
    s.serving().alias_moved(&name).await;
    Ok(Json(change_view(change)))
}

fn change_view(change: aidlc_store::AliasChange) -> wire::AliasChangeView {
    wire::AliasChangeView {
        model: change.model,
        alias: change.alias,
        version: change.version,
        previous_version: change.previous_version,
        report_id: change.report_id,
        override_reason: change.override_reason,
    }
}

/// A person's promotion: the governed alias move with its reason, refused for a protected
/// alias unless the version passed its latest evaluation or the request overrides.
async fn promote(
    State(s): State<AppState>,
    Path(name): Path<String>,
    b: Bytes,
) -> ApiResult<Json<wire::AliasChangeView>> {
    let req: wire::PromoteRequest = crate::mlflow::body(&b)?;
    if let Some(alias) = &req.alias {
        crate::mlflow::check_alias(alias)?;
    }
    let change = aidlc_service::registry::promote(
        s.store(),
        &s.config().alias_policy,
        &s.audit(req.reason),
        &aidlc_service::registry::Promotion {
            model: &name,
            version: req.version,
            alias: req.alias.as_deref(),
            override_gate: req.override_gate,
        },
    )
    .await?;
    s.serving().alias_moved(&name).await;
    Ok(Json(change_view(change)))
}
