//! MLflow's scoring protocol, as `mlflow models serve` answers it: `POST /invocations` (the
//! default endpoint) and `POST /endpoints/{name}/invocations` take `dataframe_split`,
//! `dataframe_records`, `instances` or `inputs` JSON, or a CSV table, and answer
//! `{"predictions": [...]}` — a classifier's labels (what scikit-learn's `predict` gives) or a
//! regressor's values. `GET /ping` says whether every deployment can answer; `GET /version` is
//! the server's version as a bare string.

use super::{
    LabelKind, Protocol, RequestMeta, ServedVersion, Target, answer, input, read_body, stamp,
};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_models::{Frame, Predictions};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/invocations", post(invoke_default))
        .route("/endpoints/{name}/invocations", post(invoke))
        .route("/ping", get(ping))
        .route("/version", get(version))
}

/// The four JSON input formats; exactly one must be present.
const FORMATS: [&str; 4] = [
    "dataframe_split",
    "dataframe_records",
    "instances",
    "inputs",
];

enum Payload {
    Json,
    Csv,
}

/// The content types MLflow's server reads, with only `charset=utf-8` allowed as a parameter.
fn payload_kind(headers: &HeaderMap) -> ApiResult<Payload> {
    let raw = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mut parts = raw.split(';');
    let mime = parts.next().unwrap_or("").trim().to_ascii_lowercase();
    for param in parts {
        let param = param.trim().to_ascii_lowercase().replace(' ', "");
        if !param.is_empty() && param != "charset=utf-8" {
            return Err(ApiError::UnsupportedMediaType(
                "The scoring server only supports UTF-8".into(),
            ));
        }
    }
    match mime.as_str() {
        "application/json" => Ok(Payload::Json),
        "text/csv" => Ok(Payload::Csv),
        _ => Err(ApiError::UnsupportedMediaType(format!(
            "This predictor only supports the following content types: application/json, text/csv (got `{raw}`)"
        ))),
    }
}

/// The frame of a JSON body in one of MLflow's four formats.
fn json_frame(served: &ServedVersion, body: &[u8]) -> ApiResult<Frame> {
    let value: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::invalid(format!(
            "Invalid input. Ensure that input is a valid JSON formatted string: {e}"
        ))
    })?;
    let Value::Object(mut object) = value else {
        return Err(ApiError::invalid(format!(
            "Invalid input: expected a JSON object with exactly one of the fields {}; received a {}",
            FORMATS.join(", "),
            match value {
                Value::Array(_) => "list",
                _ => "scalar",
            }
        )));
    };
    let present: Vec<&str> = FORMATS
        .iter()
        .copied()
        .filter(|f| object.contains_key(*f))
        .collect();
    let [format] = present.as_slice() else {
        return Err(ApiError::invalid(format!(
            "Invalid input: the request must have exactly one of the input fields {} (got {})",
            FORMATS.join(", "),
            if present.is_empty() {
                "none".to_string()
            } else {
                present.join(", ")
            }
        )));
    };
    let signature = served.scorer.signature();
    let data = object.remove(*format).unwrap_or(Value::Null);
    match (*format, data) {
        ("dataframe_split", Value::Object(mut split)) => {
            let columns = match split.remove("columns") {
                None | Some(Value::Null) => None,
                Some(Value::Array(names)) => Some(
                    names
                        .into_iter()
                        .map(|n| match n {
                            Value::String(s) => Ok(s),
                            other => Ok(other.to_string()),
                        })
                        .collect::<ApiResult<Vec<String>>>()?,
                ),
                Some(_) => {
                    return Err(ApiError::invalid(
                        "dataframe_split.columns must be a list of column names",
                    ));
                }
            };
            let rows = match split.remove("data") {
                Some(Value::Array(rows)) => rows,
                _ => {
                    return Err(ApiError::invalid(
                        "dataframe_split.data must be a list of rows",
                    ));
                }
            };
            input::from_positional_rows(signature, columns, &rows)
        }
        ("dataframe_records", Value::Array(rows)) => input::from_object_rows(signature, &rows),
        ("instances" | "inputs", Value::Array(rows)) if rows.iter().all(Value::is_object) => {
            input::from_object_rows(signature, &rows)
        }
        ("instances" | "inputs", Value::Array(rows)) => {
            input::from_positional_rows(signature, None, &rows)
        }
        ("instances" | "inputs", Value::Object(columns)) => {
            input::from_columns(signature, &columns)
        }
        (format, _) => Err(ApiError::invalid(format!(
            "Invalid input: `{format}` has the wrong shape (dataframe_split is an object with `data`; dataframe_records a list of objects; instances and inputs a list of rows or an object of columns)"
        ))),
    }
}

/// `predict`'s answer as MLflow writes it: labels for a classifier (numbers when every class is
/// an integer), values for a regressor.
fn predictions_json(served: &ServedVersion, predictions: Predictions) -> Value {
    match predictions {
        Predictions::Classes {
            classes, labels, ..
        } => match &served.label {
            LabelKind::Integer(ints) => json!(labels.iter().map(|&l| ints[l]).collect::<Vec<_>>()),
            LabelKind::Text => json!(labels.iter().map(|&l| &classes[l]).collect::<Vec<_>>()),
        },
        Predictions::Values(values) => json!(values),
    }
}

async fn score(target: Target, kind: Payload, body: Body) -> ApiResult<Response> {
    let bytes = read_body(body).await?;
    let served = &target.served;
    let frame = match kind {
        Payload::Json => json_frame(served, &bytes)?,
        Payload::Csv => {
            let text = std::str::from_utf8(&bytes)
                .map_err(|e| ApiError::invalid(format!("the CSV body is not UTF-8: {e}")))?;
            input::from_csv(served.scorer.signature(), text)?
        }
    };
    if frame.n_rows == 0 {
        return Err(ApiError::invalid("no rows to score"));
    }
    let scored = target.score(frame).await?;
    let mut response = Json(json!({
        "predictions": predictions_json(&scored.served, scored.predictions.clone())
    }))
    .into_response();
    stamp(&mut response, &scored);
    Ok(response)
}

/// The content type is checked before the endpoint is looked up: MLflow's server (one model)
/// answers 415 to a body it cannot read, whatever else is wrong.
async fn invoke_default(
    State(s): State<AppState>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let kind = match payload_kind(&headers) {
        Ok(kind) => kind,
        Err(e) => return e.into_response(),
    };
    let endpoint = s.serving().default_endpoint().await;
    answer(&s, Protocol::Mlflow, endpoint, None, meta, |t| {
        score(t, kind, body)
    })
    .await
}

async fn invoke(
    State(s): State<AppState>,
    Path(name): Path<String>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let kind = match payload_kind(&headers) {
        Ok(kind) => kind,
        Err(e) => return e.into_response(),
    };
    answer(&s, Protocol::Mlflow, Ok(name), None, meta, |t| {
        score(t, kind, body)
    })
    .await
}

/// 200 with a newline (MLflow's body) when every deployment has a model to serve.
async fn ping(State(s): State<AppState>) -> Response {
    match s.serving().bind_all().await {
        Ok(true) => (StatusCode::OK, "\n").into_response(),
        Ok(false) => {
            ApiError::NotReady("a deployment's alias names no version".into()).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn version() -> Response {
    (
        [(header::CONTENT_TYPE, "application/json")],
        env!("CARGO_PKG_VERSION"),
    )
        .into_response()
}
