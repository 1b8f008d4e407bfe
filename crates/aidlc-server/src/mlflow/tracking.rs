//! Handlers of MLflow's tracking endpoints: experiments, runs, metrics and logged models.

use super::convert::{self, to_store_kvs};
use super::search::{page_token, parse_filter, parse_page_token, run_clauses, run_order};
use super::{Query, body, max_results, missing, required, view_type};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::mlflow as wire;
use aidlc_core::records::RunStatus;
use aidlc_store::{
    Comparison, ExperimentSearch, FilterValue, KeyValue, Lifecycle, LogBatch, LoggedModelSearch,
    LoggedModelStatus, Metric, ModelOutput, NewLoggedModel, NewTrackedRun, RunSearch, RunUpdate,
    TrackingStore,
};
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};

type Reply<T> = ApiResult<Json<T>>;

/// MLflow's client refuses ids outside this shape, so the server answers them as "not found".
fn experiment_id(raw: &str) -> ApiResult<i64> {
    raw.parse::<i64>()
        .map_err(|_| ApiError::not_found(format!("Could not find experiment with ID {raw}")))
}

fn run_id(run_id: Option<String>, run_uuid: Option<String>) -> ApiResult<String> {
    run_id
        .filter(|r| !r.is_empty())
        .or(run_uuid.filter(|r| !r.is_empty()))
        .ok_or_else(|| missing("run_id"))
}

fn run_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Run with id={id} not found"))
}

async fn experiment_reply(state: &AppState, id: i64) -> Reply<wire::ExperimentResponse> {
    let e = state
        .store()
        .get_experiment(id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("No Experiment with id={id} exists")))?;
    Ok(Json(wire::ExperimentResponse {
        experiment: convert::experiment(&e),
    }))
}

pub async fn get_experiment_by_name(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::ExperimentResponse> {
    let name = Query::parse(q).required("experiment_name")?;
    let e = s
        .store()
        .get_experiment_by_name(&name)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!("Could not find experiment with name '{name}'"))
        })?;
    Ok(Json(wire::ExperimentResponse {
        experiment: convert::experiment(&e),
    }))
}

pub async fn get_experiment(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::ExperimentResponse> {
    let id = experiment_id(&Query::parse(q).required("experiment_id")?)?;
    experiment_reply(&s, id).await
}

pub async fn create_experiment(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::CreateExperimentResponse> {
    let req: wire::CreateExperiment = body(&b)?;
    let name = required(req.name, "name")?;
    let e = s
        .store()
        .create_experiment(
            &s.audit(None),
            &name,
            req.artifact_location,
            to_store_kvs(req.tags),
        )
        .await?;
    Ok(Json(wire::CreateExperimentResponse {
        experiment_id: e.id.to_string(),
    }))
}

async fn search_experiments_with(
    s: &AppState,
    req: wire::SearchExperiments,
) -> Reply<wire::SearchExperimentsResponse> {
    let mut name = None;
    for t in parse_filter(req.filter.as_deref().unwrap_or("")).map_err(ApiError::invalid)? {
        match (t.prefix.as_deref(), t.key.as_str(), t.op, t.value) {
            (
                None | Some("attribute" | "attributes" | "attr"),
                "name",
                op @ (Comparison::Eq | Comparison::Like | Comparison::ILike),
                FilterValue::Text(v),
            ) => {
                name = Some((op, v));
            }
            (_, key, _, _) => {
                return Err(ApiError::invalid(format!(
                    "unsupported experiment filter on `{key}`"
                )));
            }
        }
    }
    let search = ExperimentSearch {
        view: view_type(req.view_type.as_deref())?,
        name,
        max_results: max_results(req.max_results, 1000)?,
        offset: parse_page_token(req.page_token.as_deref()).map_err(ApiError::invalid)?,
    };
    let page = s.store().search_experiments(&search).await?;
    Ok(Json(wire::SearchExperimentsResponse {
        experiments: page.items.iter().map(convert::experiment).collect(),
        next_page_token: page_token(page.next_offset),
    }))
}

pub async fn search_experiments(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::SearchExperimentsResponse> {
    search_experiments_with(&s, body(&b)?).await
}

pub async fn search_experiments_get(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::SearchExperimentsResponse> {
    let q = Query::parse(q);
    let req = wire::SearchExperiments {
        max_results: q.int("max_results")?,
        filter: q.one("filter"),
        view_type: q.one("view_type"),
        order_by: q.all("order_by"),
        page_token: q.one("page_token"),
    };
    search_experiments_with(&s, req).await
}

async fn experiment_lifecycle(s: &AppState, b: &[u8], lifecycle: Lifecycle) -> Reply<wire::Empty> {
    let req: wire::ExperimentRef = body(b)?;
    let id = experiment_id(&required(req.experiment_id, "experiment_id")?)?;
    s.store()
        .set_experiment_lifecycle(&s.audit(None), id, lifecycle)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn delete_experiment(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    experiment_lifecycle(&s, &b, Lifecycle::Deleted).await
}

pub async fn restore_experiment(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    experiment_lifecycle(&s, &b, Lifecycle::Active).await
}

pub async fn set_experiment_tag(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::SetExperimentTag = body(&b)?;
    let id = experiment_id(&required(req.experiment_id, "experiment_id")?)?;
    let tag = KeyValue {
        key: required(req.key, "key")?,
        value: req.value.unwrap_or_default(),
    };
    s.store()
        .set_experiment_tag(&s.audit(None), id, tag)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn create_run(State(s): State<AppState>, b: Bytes) -> Reply<wire::RunResponse> {
    let req: wire::CreateRun = body(&b)?;
    let experiment = experiment_id(
        req.experiment_id
            .as_deref()
            .filter(|e| !e.is_empty())
            .unwrap_or("0"),
    )?;
    let run = NewTrackedRun {
        experiment_id: experiment,
        name: req.run_name.unwrap_or_default(),
        user_id: req
            .user_id
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "unknown".to_string()),
        start_time: req.start_time.unwrap_or_else(|| s.now_ms()),
        tags: to_store_kvs(req.tags),
    };
    let run = s.store().create_tracked_run(&s.audit(None), run).await?;
    Ok(Json(wire::RunResponse {
        run: convert::run(&run),
    }))
}

pub async fn get_run(State(s): State<AppState>, RawQuery(q): RawQuery) -> Reply<wire::RunResponse> {
    let q = Query::parse(q);
    let id = run_id(q.one("run_id"), q.one("run_uuid"))?;
    let run = s
        .store()
        .get_tracked_run(&id)
        .await?
        .ok_or_else(|| run_not_found(&id))?;
    Ok(Json(wire::RunResponse {
        run: convert::run(&run),
    }))
}

pub async fn update_run(State(s): State<AppState>, b: Bytes) -> Reply<wire::UpdateRunResponse> {
    let req: wire::UpdateRun = body(&b)?;
    let id = run_id(req.run_id, req.run_uuid)?;
    let status = req
        .status
        .map(|st| {
            RunStatus::parse(&st)
                .ok_or_else(|| ApiError::invalid(format!("invalid run status `{st}`")))
        })
        .transpose()?;
    let run = s
        .store()
        .update_tracked_run(
            &s.audit(None),
            &id,
            RunUpdate {
                status,
                end_time: req.end_time,
                name: req.run_name,
            },
        )
        .await?;
    Ok(Json(wire::UpdateRunResponse {
        run_info: convert::run_info(&run),
    }))
}

async fn write(s: &AppState, id: &str, batch: LogBatch) -> Reply<wire::Empty> {
    s.store().log_batch(&s.audit(None), id, batch).await?;
    Ok(Json(wire::Empty {}))
}

pub async fn log_param(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::LogParam = body(&b)?;
    let id = run_id(req.run_id, req.run_uuid)?;
    let param = KeyValue {
        key: required(req.key, "key")?,
        value: req.value.ok_or_else(|| missing("value"))?,
    };
    write(
        &s,
        &id,
        LogBatch {
            params: vec![param],
            ..Default::default()
        },
    )
    .await
}

pub async fn set_tag(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::SetTag = body(&b)?;
    let id = run_id(req.run_id, req.run_uuid)?;
    let tag = KeyValue {
        key: required(req.key, "key")?,
        value: req.value.ok_or_else(|| missing("value"))?,
    };
    write(
        &s,
        &id,
        LogBatch {
            tags: vec![tag],
            ..Default::default()
        },
    )
    .await
}

pub async fn delete_tag(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::DeleteTag = body(&b)?;
    let id = required(req.run_id, "run_id")?;
    let key = required(req.key, "key")?;
    s.store().delete_run_tag(&s.audit(None), &id, &key).await?;
    Ok(Json(wire::Empty {}))
}

fn store_metric(m: wire::Metric, now: i64) -> ApiResult<Metric> {
    if m.key.is_empty() {
        return Err(missing("metrics.key"));
    }
    Ok(Metric {
        key: m.key,
        value: m.value,
        timestamp: m.timestamp.unwrap_or(now),
        step: m.step.unwrap_or(0),
        model_id: m.model_id.filter(|x| !x.is_empty()),
        dataset_name: m.dataset_name.filter(|x| !x.is_empty()),
        dataset_digest: m.dataset_digest.filter(|x| !x.is_empty()),
    })
}

pub async fn log_metric(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::LogMetric = body(&b)?;
    let id = run_id(req.run_id, req.run_uuid)?;
    let metric = store_metric(
        wire::Metric {
            key: required(req.key, "key")?,
            value: req.value,
            timestamp: Some(req.timestamp.ok_or_else(|| missing("timestamp"))?),
            step: req.step,
            model_id: req.model_id,
            dataset_name: req.dataset_name,
            dataset_digest: req.dataset_digest,
            run_id: None,
        },
        s.now_ms(),
    )?;
    write(
        &s,
        &id,
        LogBatch {
            metrics: vec![metric],
            ..Default::default()
        },
    )
    .await
}

/// MLflow's per-request limits, so a client that works here also works against MLflow.
const MAX_BATCH_METRICS: usize = 1000;
const MAX_BATCH_PARAMS: usize = 100;
const MAX_BATCH_TAGS: usize = 100;

pub async fn log_batch(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::LogBatch = body(&b)?;
    let id = required(req.run_id, "run_id")?;
    if req.metrics.len() > MAX_BATCH_METRICS
        || req.params.len() > MAX_BATCH_PARAMS
        || req.tags.len() > MAX_BATCH_TAGS
    {
        return Err(ApiError::invalid(format!(
            "A batch logging request can contain at most {MAX_BATCH_METRICS} metrics, {MAX_BATCH_PARAMS} params and {MAX_BATCH_TAGS} tags"
        )));
    }
    let now = s.now_ms();
    let metrics = req
        .metrics
        .into_iter()
        .map(|m| store_metric(m, now))
        .collect::<ApiResult<Vec<_>>>()?;
    write(
        &s,
        &id,
        LogBatch {
            metrics,
            params: to_store_kvs(req.params),
            tags: to_store_kvs(req.tags),
        },
    )
    .await
}

async fn run_lifecycle(s: &AppState, b: &[u8], lifecycle: Lifecycle) -> Reply<wire::Empty> {
    let req: wire::RunRef = body(b)?;
    let id = run_id(req.run_id, req.run_uuid)?;
    s.store()
        .set_run_lifecycle(&s.audit(None), &id, lifecycle)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn delete_run(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    run_lifecycle(&s, &b, Lifecycle::Deleted).await
}

pub async fn restore_run(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    run_lifecycle(&s, &b, Lifecycle::Active).await
}

pub async fn search_runs(State(s): State<AppState>, b: Bytes) -> Reply<wire::SearchRunsResponse> {
    let req: wire::SearchRuns = body(&b)?;
    let experiment_ids = req
        .experiment_ids
        .iter()
        .map(|e| {
            e.parse::<i64>()
                .map_err(|_| ApiError::invalid(format!("invalid experiment id `{e}`")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let search = RunSearch {
        experiment_ids,
        clauses: run_clauses(req.filter.as_deref().unwrap_or(""))
            .map_err(|e| ApiError::invalid(format!("Invalid filter: {e}")))?,
        order: run_order(&req.order_by)
            .map_err(|e| ApiError::invalid(format!("Invalid order_by: {e}")))?,
        view: view_type(req.run_view_type.as_deref())?,
        max_results: max_results(req.max_results, 1000)?,
        offset: parse_page_token(req.page_token.as_deref()).map_err(ApiError::invalid)?,
    };
    let page = s.store().search_tracked_runs(&search).await?;
    Ok(Json(wire::SearchRunsResponse {
        runs: page.items.iter().map(convert::run).collect(),
        next_page_token: page_token(page.next_offset),
    }))
}

pub async fn log_outputs(State(s): State<AppState>, b: Bytes) -> Reply<wire::Empty> {
    let req: wire::LogOutputs = body(&b)?;
    let id = required(req.run_id, "run_id")?;
    let outputs = req
        .models
        .into_iter()
        .map(|m| {
            if m.model_id.is_empty() {
                return Err(missing("models.model_id"));
            }
            Ok(ModelOutput {
                model_id: m.model_id,
                step: m.step.unwrap_or(0),
            })
        })
        .collect::<ApiResult<Vec<_>>>()?;
    s.store()
        .log_run_outputs(&s.audit(None), &id, outputs)
        .await?;
    Ok(Json(wire::Empty {}))
}

pub async fn metric_history(
    State(s): State<AppState>,
    RawQuery(q): RawQuery,
) -> Reply<wire::MetricHistoryResponse> {
    let q = Query::parse(q);
    let id = run_id(q.one("run_id"), q.one("run_uuid"))?;
    let key = q.required("metric_key")?;
    let max = max_results(q.int("max_results")?, 25_000)?;
    let offset = parse_page_token(q.one("page_token").as_deref()).map_err(ApiError::invalid)?;
    let page = s.store().metric_history(&id, &key, max, offset).await?;
    Ok(Json(wire::MetricHistoryResponse {
        metrics: page.items.iter().map(convert::metric).collect(),
        next_page_token: page_token(page.next_offset),
    }))
}

fn logged_model_not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("Logged model with ID '{id}' not found"))
}

pub async fn create_logged_model(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::LoggedModelResponse> {
    let req: wire::CreateLoggedModel = body(&b)?;
    let experiment = experiment_id(&required(req.experiment_id, "experiment_id")?)?;
    let model = NewLoggedModel {
        experiment_id: experiment,
        name: req
            .name
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "model".to_string()),
        source_run_id: req.source_run_id.filter(|r| !r.is_empty()),
        model_type: req.model_type.filter(|t| !t.is_empty()),
        params: to_store_kvs(req.params),
        tags: to_store_kvs(req.tags),
    };
    let m = s.store().create_logged_model(&s.audit(None), model).await?;
    Ok(Json(wire::LoggedModelResponse {
        model: convert::logged_model(&m),
    }))
}

pub async fn get_logged_model(
    State(s): State<AppState>,
    Path(id): Path<String>,
) -> Reply<wire::LoggedModelResponse> {
    let m = s
        .store()
        .get_logged_model(&id)
        .await?
        .ok_or_else(|| logged_model_not_found(&id))?;
    Ok(Json(wire::LoggedModelResponse {
        model: convert::logged_model(&m),
    }))
}

pub async fn finalize_logged_model(
    State(s): State<AppState>,
    Path(id): Path<String>,
    b: Bytes,
) -> Reply<wire::LoggedModelResponse> {
    let req: wire::FinalizeLoggedModel = body(&b)?;
    let raw = required(req.status, "status")?;
    let status = LoggedModelStatus::parse(&raw)
        .ok_or_else(|| ApiError::invalid(format!("invalid logged model status `{raw}`")))?;
    let m = s
        .store()
        .set_logged_model_status(&s.audit(None), &id, status)
        .await?;
    Ok(Json(wire::LoggedModelResponse {
        model: convert::logged_model(&m),
    }))
}

pub async fn set_logged_model_tags(
    State(s): State<AppState>,
    Path(id): Path<String>,
    b: Bytes,
) -> Reply<wire::LoggedModelResponse> {
    let req: wire::SetLoggedModelTags = body(&b)?;
    s.store()
        .set_logged_model_tags(&s.audit(None), &id, to_store_kvs(req.tags))
        .await?;
    let m = s
        .store()
        .get_logged_model(&id)
        .await?
        .ok_or_else(|| logged_model_not_found(&id))?;
    Ok(Json(wire::LoggedModelResponse {
        model: convert::logged_model(&m),
    }))
}

pub async fn search_logged_models(
    State(s): State<AppState>,
    b: Bytes,
) -> Reply<wire::SearchLoggedModelsResponse> {
    let req: wire::SearchLoggedModels = body(&b)?;
    let experiment_ids = req
        .experiment_ids
        .iter()
        .map(|e| {
            e.parse::<i64>()
                .map_err(|_| ApiError::invalid(format!("invalid experiment id `{e}`")))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let mut search = LoggedModelSearch {
        experiment_ids,
        name: None,
        source_run_id: None,
        max_results: max_results(req.max_results, 50)?,
        offset: parse_page_token(req.page_token.as_deref()).map_err(ApiError::invalid)?,
    };
    for t in parse_filter(req.filter.as_deref().unwrap_or("")).map_err(ApiError::invalid)? {
        match (t.key.as_str(), t.op, t.value) {
            ("name", Comparison::Eq, FilterValue::Text(v)) => search.name = Some(v),
            ("source_run_id", Comparison::Eq, FilterValue::Text(v)) => {
                search.source_run_id = Some(v)
            }
            (key, _, _) => {
                return Err(ApiError::invalid(format!(
                    "unsupported logged model filter on `{key}`"
                )));
            }
        }
    }
    let page = s.store().search_logged_models(&search).await?;
    Ok(Json(wire::SearchLoggedModelsResponse {
        models: page.items.iter().map(convert::logged_model).collect(),
        next_page_token: page_token(page.next_offset),
    }))
}
