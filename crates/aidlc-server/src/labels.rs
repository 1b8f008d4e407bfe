//! `POST /api/v1/labels`: labels that arrive after their predictions, keyed by request id or by
//! entity and event time, recorded in one batch.

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::native as wire;
use aidlc_data::time::parse_instant_ms;
use aidlc_service::labels::{LabelInput, record_label_inputs};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;

/// Where labels sent through the API come from, as the label store records it.
const SOURCE: &str = "api";

fn time_ms(t: &wire::WireTime, at: &str) -> ApiResult<i64> {
    match t {
        wire::WireTime::Millis(ms) => Ok(*ms),
        wire::WireTime::Text(text) => parse_instant_ms(text).ok_or_else(|| {
            ApiError::invalid(format!(
                "{at} = {text:?} is not a time: use milliseconds since the epoch or RFC 3339 (2025-06-01T00:00:00Z)"
            ))
        }),
    }
}

fn value_text(v: &wire::WireLabelValue) -> String {
    match v {
        wire::WireLabelValue::Text(s) => s.clone(),
        wire::WireLabelValue::Bool(b) => b.to_string(),
        // Whole numbers are written as label files write them (`1`, not `1.0`), so a label
        // sent as a number joins the classes a model was trained on.
        wire::WireLabelValue::Number(x) if x.fract() == 0.0 && x.abs() < 1e15 => {
            format!("{}", *x as i64)
        }
        wire::WireLabelValue::Number(x) => x.to_string(),
    }
}

pub async fn record(
    State(s): State<AppState>,
    b: Bytes,
) -> ApiResult<Json<wire::RecordLabelsResponse>> {
    let req: wire::RecordLabelsRequest = crate::mlflow::body(&b)?;
    let name = req
        .name
        .or_else(|| s.config().monitor.as_ref()?.label_name.clone())
        .ok_or_else(|| {
            ApiError::invalid(
                "no label set: send `name`, or serve a project whose aidlc.toml sets `[problem.label] column`",
            )
        })?;
    let mut inputs = Vec::with_capacity(req.labels.len());
    for (i, l) in req.labels.iter().enumerate() {
        inputs.push(LabelInput {
            request_id: l.request_id.clone(),
            entity: l.entity.clone(),
            event_at_ms: l
                .event_time
                .as_ref()
                .map(|t| time_ms(t, &format!("labels[{i}].event_time")))
                .transpose()?,
            value: l.value.as_ref().map(value_text),
            available_at_ms: l
                .available_at
                .as_ref()
                .map(|t| time_ms(t, &format!("labels[{i}].available_at")))
                .transpose()?,
        });
    }
    let received = inputs.len();
    let report = record_label_inputs(s.store(), &s.audit(None), &name, inputs, SOURCE).await?;
    Ok(Json(wire::RecordLabelsResponse {
        name: report.name,
        received,
        inserted: report.outcome.inserted,
        already_present: report.outcome.already_present,
    }))
}
