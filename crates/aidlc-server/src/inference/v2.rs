//! The Open Inference Protocol v2 REST endpoints (KServe v2, Triton HTTP): server and model
//! metadata, health and inference with JSON tensors or the binary tensor extension.
//!
//! Binary extension: with the `Inference-Header-Content-Length` header, the body is that many
//! bytes of JSON followed by raw little-endian tensor bytes, claimed in input order by each
//! input's `parameters.binary_data_size`; BYTES elements are a 4-byte length and the bytes. An
//! output is written in binary when the request asks (`parameters.binary_data` on the output, or
//! `parameters.binary_data_output` on the request), and the answer then carries the same header.
//!
//! Tensors: a model with one unnamed tensor input takes it as `[N, width]` (any numeric
//! datatype); a model with named features takes one tensor per feature, `[N]` or `[N, 1]`
//! (numbers, or BYTES for a categorical feature). A classifier answers `label` ([N]: INT64 holding
//! the class when every class is an integer, else BYTES holding the class name) and
//! `probabilities` (FP32 [N, classes], in class order); a regressor answers `variable`
//! (FP32 [N, 1]).

use super::input::{self, RawColumn, Unknown};
use super::{
    LabelKind, Protocol, RequestMeta, ServedVersion, Target, answer, describe, error_response,
    read_body,
};
use crate::AppState;
use crate::error::{ApiError, ApiResult};
use aidlc_api::inference::v2 as wire;
use aidlc_models::{FeatureKind, Frame, Inputs, ModelError, Predictions, Signature};
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{Map, Value};

/// The header carrying the length of the JSON part of a binary request or answer.
const HEADER_LENGTH: &str = "inference-header-content-length";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/v2", get(server_metadata))
        .route("/v2/health/live", get(live))
        .route("/v2/health/ready", get(ready))
        .route("/v2/models/{m}", get(metadata))
        .route("/v2/models/{m}/versions/{v}", get(metadata_version))
        .route("/v2/models/{m}/ready", get(model_ready))
        .route(
            "/v2/models/{m}/versions/{v}/ready",
            get(model_ready_version),
        )
        .route("/v2/models/{m}/infer", post(infer))
        .route("/v2/models/{m}/versions/{v}/infer", post(infer_version))
}

async fn server_metadata() -> Json<wire::ServerMetadata> {
    Json(wire::ServerMetadata {
        name: "aidlc".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        extensions: vec!["binary_tensor_data".into()],
    })
}

async fn live() -> Json<wire::Live> {
    Json(wire::Live { live: true })
}

/// Ready when every deployment has a model to serve (binding any not bound yet).
async fn ready(State(s): State<AppState>) -> Response {
    match s.serving().bind_all().await {
        Ok(true) => Json(wire::Ready { ready: true }).into_response(),
        Ok(false) => error_response(
            Protocol::OpenInference,
            ApiError::NotReady("a deployment's alias names no version".into()),
        ),
        Err(e) => error_response(Protocol::OpenInference, e),
    }
}

fn version_number(v: &str) -> ApiResult<i64> {
    v.parse().map_err(|_| {
        ApiError::not_found(format!(
            "model version `{v}` not found: versions are registry version numbers"
        ))
    })
}

/// Datatype and shape of a model's inputs and outputs.
fn model_metadata(endpoint: &str, served: &ServedVersion) -> wire::ModelMetadata {
    let signature = served.scorer.signature();
    let inputs = match &signature.inputs {
        Inputs::Tensor { name, width } => vec![wire::TensorMetadata {
            name: name.clone(),
            datatype: "FP32".into(),
            shape: vec![-1, *width as i64],
        }],
        Inputs::Named { features } => features
            .iter()
            .map(|f| wire::TensorMetadata {
                name: f.name.clone(),
                datatype: match f.kind {
                    FeatureKind::Numeric => "FP64".into(),
                    FeatureKind::Categorical => "BYTES".into(),
                },
                shape: vec![-1, 1],
            })
            .collect(),
    };
    let outputs = match &served.label {
        _ if signature.classes().is_empty() => vec![wire::TensorMetadata {
            name: "variable".into(),
            datatype: "FP32".into(),
            shape: vec![-1, 1],
        }],
        label => vec![
            wire::TensorMetadata {
                name: "label".into(),
                datatype: label_datatype(label).into(),
                shape: vec![-1],
            },
            wire::TensorMetadata {
                name: "probabilities".into(),
                datatype: "FP32".into(),
                shape: vec![-1, signature.classes().len() as i64],
            },
        ],
    };
    wire::ModelMetadata {
        name: endpoint.to_string(),
        versions: vec![served.version.to_string()],
        platform: served.platform().into(),
        inputs,
        outputs,
    }
}

fn label_datatype(label: &LabelKind) -> &'static str {
    match label {
        LabelKind::Integer(_) => "INT64",
        LabelKind::Text => "BYTES",
    }
}

async fn metadata_of(s: AppState, m: String, v: Option<i64>) -> Response {
    describe(&s, Protocol::OpenInference, m, v, |t| {
        Json(model_metadata(&t.endpoint.name, &t.served)).into_response()
    })
    .await
}

async fn metadata(State(s): State<AppState>, Path(m): Path<String>) -> Response {
    metadata_of(s, m, None).await
}

async fn metadata_version(
    State(s): State<AppState>,
    Path((m, v)): Path<(String, String)>,
) -> Response {
    match version_number(&v) {
        Ok(v) => metadata_of(s, m, Some(v)).await,
        Err(e) => error_response(Protocol::OpenInference, e),
    }
}

async fn model_ready_of(s: AppState, m: String, v: Option<i64>) -> Response {
    describe(&s, Protocol::OpenInference, m, v, |t| {
        Json(wire::ModelReady {
            name: t.endpoint.name.clone(),
            ready: true,
        })
        .into_response()
    })
    .await
}

async fn model_ready(State(s): State<AppState>, Path(m): Path<String>) -> Response {
    model_ready_of(s, m, None).await
}

async fn model_ready_version(
    State(s): State<AppState>,
    Path((m, v)): Path<(String, String)>,
) -> Response {
    match version_number(&v) {
        Ok(v) => model_ready_of(s, m, Some(v)).await,
        Err(e) => error_response(Protocol::OpenInference, e),
    }
}

async fn infer(
    State(s): State<AppState>,
    Path(m): Path<String>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    answer(&s, Protocol::OpenInference, Ok(m), None, meta, |t| {
        run_inference(t, headers, body)
    })
    .await
}

async fn infer_version(
    State(s): State<AppState>,
    Path((m, v)): Path<(String, String)>,
    meta: RequestMeta,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match version_number(&v) {
        Ok(v) => {
            answer(&s, Protocol::OpenInference, Ok(m), Some(v), meta, |t| {
                run_inference(t, headers, body)
            })
            .await
        }
        Err(e) => error_response(Protocol::OpenInference, e),
    }
}

/// An input tensor's values.
enum Values {
    Numbers(Vec<f64>),
    Text(Vec<String>),
}

impl Values {
    fn len(&self) -> usize {
        match self {
            Values::Numbers(v) => v.len(),
            Values::Text(v) => v.len(),
        }
    }
}

/// The byte width of a numeric datatype, or why the datatype is not taken.
fn element_size(name: &str, datatype: &str) -> ApiResult<Option<usize>> {
    Ok(Some(match datatype {
        "FP64" | "INT64" | "UINT64" => 8,
        "FP32" | "INT32" | "UINT32" => 4,
        "INT16" | "UINT16" => 2,
        "INT8" | "UINT8" => 1,
        "BYTES" => return Ok(None),
        other => {
            return Err(ApiError::invalid(format!(
                "input `{name}`: datatype {other} is not supported; use FP32, FP64, an integer type or BYTES"
            )));
        }
    }))
}

fn decode_binary(name: &str, datatype: &str, bytes: &[u8], count: usize) -> ApiResult<Values> {
    let Some(size) = element_size(name, datatype)? else {
        let mut out = Vec::with_capacity(count);
        let mut rest = bytes;
        while !rest.is_empty() {
            let Some((len, tail)) = rest.split_first_chunk::<4>() else {
                return Err(ApiError::invalid(format!(
                    "input `{name}`: BYTES element {} has a truncated length prefix",
                    out.len()
                )));
            };
            let len = u32::from_le_bytes(*len) as usize;
            if tail.len() < len {
                return Err(ApiError::invalid(format!(
                    "input `{name}`: BYTES element {} claims {len} bytes, {} remain",
                    out.len(),
                    tail.len()
                )));
            }
            let text = std::str::from_utf8(&tail[..len]).map_err(|_| {
                ApiError::invalid(format!(
                    "input `{name}`: BYTES element {} is not UTF-8 text",
                    out.len()
                ))
            })?;
            out.push(text.to_string());
            rest = &tail[len..];
        }
        if out.len() != count {
            return Err(ApiError::invalid(format!(
                "input `{name}`: {} BYTES elements where the shape holds {count}",
                out.len()
            )));
        }
        return Ok(Values::Text(out));
    };
    if bytes.len() != count * size {
        return Err(ApiError::invalid(format!(
            "input `{name}`: binary_data_size is {} bytes, but {count} {datatype} values take {}",
            bytes.len(),
            count * size
        )));
    }
    let chunks = bytes.chunks_exact(size);
    let values: Vec<f64> = match datatype {
        "FP32" => chunks
            .map(|c| f32::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        "FP64" => chunks
            .map(|c| f64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect(),
        "INT64" => chunks
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        "UINT64" => chunks
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        "INT32" => chunks
            .map(|c| i32::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        "UINT32" => chunks
            .map(|c| u32::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        "INT16" => chunks
            .map(|c| i16::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        "UINT16" => chunks
            .map(|c| u16::from_le_bytes(c.try_into().unwrap_or_default()) as f64)
            .collect(),
        "INT8" => chunks.map(|c| c[0] as i8 as f64).collect(),
        _ => chunks.map(|c| c[0] as f64).collect(),
    };
    Ok(Values::Numbers(values))
}

fn flatten<'a>(value: &'a Value, out: &mut Vec<&'a Value>) {
    match value {
        Value::Array(items) => items.iter().for_each(|v| flatten(v, out)),
        scalar => out.push(scalar),
    }
}

fn decode_json(
    name: &str,
    datatype: &str,
    data: Option<&Value>,
    count: usize,
) -> ApiResult<Values> {
    let data = data.ok_or_else(|| {
        ApiError::invalid(format!(
            "input `{name}` has neither `data` nor parameters.binary_data_size"
        ))
    })?;
    let mut flat = Vec::with_capacity(count);
    flatten(data, &mut flat);
    if flat.len() != count {
        return Err(ApiError::invalid(format!(
            "input `{name}`: {} values where the shape holds {count}",
            flat.len()
        )));
    }
    match element_size(name, datatype)? {
        None => flat
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::String(s) => Ok(s.clone()),
                _ => Err(ApiError::invalid(format!(
                    "input `{name}`: element {i} is not text, as BYTES requires"
                ))),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Values::Text),
        Some(_) => flat
            .iter()
            .enumerate()
            .map(|(i, v)| match v {
                Value::Number(n) => Ok(n.as_f64().unwrap_or(f64::NAN)),
                Value::Null => Ok(f64::NAN),
                _ => Err(ApiError::invalid(format!(
                    "input `{name}`: element {i} is not a number, as {datatype} requires"
                ))),
            })
            .collect::<ApiResult<Vec<_>>>()
            .map(Values::Numbers),
    }
}

fn param_bool(params: Option<&Map<String, Value>>, key: &str) -> bool {
    params
        .and_then(|p| p.get(key))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The request's tensors as the frame the model takes.
fn frame_of(signature: &Signature, tensors: Vec<(String, Vec<usize>, Values)>) -> ApiResult<Frame> {
    match &signature.inputs {
        Inputs::Tensor { name, width } => {
            let mut tensors = tensors.into_iter();
            let (Some((given, shape, values)), None) = (tensors.next(), tensors.next()) else {
                return Err(ApiError::invalid(format!(
                    "the model takes exactly one input, `{name}` FP32 [-1, {width}]"
                )));
            };
            if &given != name {
                return Err(ApiError::invalid(format!(
                    "unknown input `{given}`: the model takes `{name}` FP32 [-1, {width}]"
                )));
            }
            if shape.len() != 2 || shape[1] != *width {
                return Err(ApiError::invalid(format!(
                    "input `{name}`: shape {shape:?} does not match [-1, {width}]"
                )));
            }
            let Values::Numbers(values) = values else {
                return Err(ModelError::WrongType {
                    name: name.clone(),
                    expected: "numbers".into(),
                    found: "text".into(),
                }
                .into());
            };
            let n = shape[0];
            let columns = (0..*width)
                .map(|j| {
                    let column = (0..n).map(|i| values[i * width + j]).collect();
                    (j.to_string(), RawColumn::Numbers(column))
                })
                .collect();
            input::frame_for(signature, columns, true, Unknown::Reject)
        }
        Inputs::Named { .. } => {
            let mut columns = Vec::with_capacity(tensors.len());
            for (name, shape, values) in tensors {
                if !(shape.len() == 1 || (shape.len() == 2 && shape[1] == 1)) {
                    return Err(ApiError::invalid(format!(
                        "input `{name}`: shape {shape:?}; each feature is a tensor of [N] or [N, 1]"
                    )));
                }
                let raw = match values {
                    Values::Numbers(v) => RawColumn::Numbers(v),
                    Values::Text(v) => RawColumn::Text(v.into_iter().map(Some).collect()),
                };
                columns.push((name, raw));
            }
            input::frame_for(signature, columns, false, Unknown::Reject)
        }
    }
}

/// One output tensor ready to be written.
struct OutputTensor {
    name: &'static str,
    shape: Vec<u64>,
    data: wire::TensorData,
}

impl OutputTensor {
    fn datatype(&self) -> &'static str {
        match self.data {
            wire::TensorData::Int(_) => "INT64",
            wire::TensorData::Float(_) => "FP32",
            wire::TensorData::Text(_) => "BYTES",
        }
    }

    fn to_bytes(&self) -> Vec<u8> {
        match &self.data {
            wire::TensorData::Int(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            wire::TensorData::Float(v) => v.iter().flat_map(|x| x.to_le_bytes()).collect(),
            wire::TensorData::Text(v) => {
                let mut out = Vec::new();
                for s in v {
                    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
                out
            }
        }
    }
}

fn output_tensors(served: &ServedVersion, predictions: Predictions) -> Vec<OutputTensor> {
    match predictions {
        Predictions::Classes {
            classes,
            labels,
            probabilities,
        } => {
            let n = labels.len() as u64;
            let label = match &served.label {
                LabelKind::Integer(ints) => {
                    wire::TensorData::Int(labels.iter().map(|&l| ints[l]).collect())
                }
                LabelKind::Text => {
                    wire::TensorData::Text(labels.iter().map(|&l| classes[l].clone()).collect())
                }
            };
            vec![
                OutputTensor {
                    name: "label",
                    shape: vec![n],
                    data: label,
                },
                OutputTensor {
                    name: "probabilities",
                    shape: vec![n, classes.len() as u64],
                    data: wire::TensorData::Float(
                        probabilities.iter().map(|&p| p as f32).collect(),
                    ),
                },
            ]
        }
        Predictions::Values(values) => vec![OutputTensor {
            name: "variable",
            shape: vec![values.len() as u64, 1],
            data: wire::TensorData::Float(values.iter().map(|&v| v as f32).collect()),
        }],
    }
}

async fn run_inference(target: Target, headers: HeaderMap, body: Body) -> ApiResult<Response> {
    let bytes = read_body(body).await?;
    let (json, binary) = match headers.get(HEADER_LENGTH) {
        Some(h) => {
            let len: usize = h
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse().ok())
                .ok_or_else(|| {
                    ApiError::invalid("Inference-Header-Content-Length is not a byte count")
                })?;
            if len > bytes.len() {
                return Err(ApiError::invalid(format!(
                    "Inference-Header-Content-Length is {len}, but the body has {} bytes",
                    bytes.len()
                )));
            }
            bytes.split_at(len)
        }
        None => (&bytes[..], &[][..]),
    };
    let req: wire::InferRequest = serde_json::from_slice(json)
        .map_err(|e| ApiError::invalid(format!("invalid inference request: {e}")))?;
    if req.inputs.is_empty() {
        return Err(ApiError::invalid("the request has no inputs"));
    }
    let mut offset = 0;
    let mut tensors = Vec::with_capacity(req.inputs.len());
    for input in req.inputs {
        let shape = input
            .shape
            .iter()
            .map(|&d| usize::try_from(d))
            .collect::<Result<Vec<usize>, _>>()
            .map_err(|_| {
                ApiError::invalid(format!(
                    "input `{}`: shape {:?} has a negative dimension",
                    input.name, input.shape
                ))
            })?;
        let count = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| ApiError::invalid(format!("input `{}`: shape too large", input.name)))?;
        let binary_size = input
            .parameters
            .as_ref()
            .and_then(|p| p.get("binary_data_size"))
            .map(|v| {
                v.as_u64().map(|n| n as usize).ok_or_else(|| {
                    ApiError::invalid(format!(
                        "input `{}`: binary_data_size must be a byte count",
                        input.name
                    ))
                })
            })
            .transpose()?;
        let values = match binary_size {
            Some(size) => {
                let end = offset + size;
                if end > binary.len() {
                    return Err(ApiError::invalid(format!(
                        "input `{}`: binary_data_size {size} goes past the end of the body",
                        input.name
                    )));
                }
                let values =
                    decode_binary(&input.name, &input.datatype, &binary[offset..end], count)?;
                offset = end;
                values
            }
            None => decode_json(&input.name, &input.datatype, input.data.as_ref(), count)?,
        };
        debug_assert_eq!(values.len(), count);
        tensors.push((input.name, shape, values));
    }
    if offset != binary.len() {
        return Err(ApiError::invalid(format!(
            "{} bytes after the JSON header belong to no input",
            binary.len() - offset
        )));
    }
    let frame = frame_of(target.served.scorer.signature(), tensors)?;
    let scored = target.score(frame).await?;
    let served = &scored.served;
    let variant = scored.variant;
    let all = output_tensors(served, scored.predictions);
    let all_binary = param_bool(req.parameters.as_ref(), "binary_data_output");
    let chosen: Vec<(OutputTensor, bool)> = match req.outputs {
        None => all.into_iter().map(|t| (t, all_binary)).collect(),
        Some(wanted) => {
            let mut all: Vec<Option<OutputTensor>> = all.into_iter().map(Some).collect();
            let names: Vec<&str> = all.iter().flatten().map(|t| t.name).collect::<Vec<_>>();
            let names = names.join(", ");
            let mut chosen = Vec::with_capacity(wanted.len());
            for w in wanted {
                let found = all
                    .iter_mut()
                    .find(|t| t.as_ref().is_some_and(|t| t.name == w.name))
                    .and_then(Option::take)
                    .ok_or_else(|| {
                        ApiError::invalid(format!(
                            "unknown output `{}` (the model gives: {names})",
                            w.name
                        ))
                    })?;
                let binary = w
                    .parameters
                    .as_ref()
                    .and_then(|p| p.get("binary_data"))
                    .and_then(Value::as_bool)
                    .unwrap_or(all_binary);
                chosen.push((found, binary));
            }
            chosen
        }
    };
    let mut tail = Vec::new();
    let outputs = chosen
        .into_iter()
        .map(|(t, binary)| {
            let datatype = t.datatype().to_string();
            if binary {
                let bytes = t.to_bytes();
                let mut params = Map::new();
                params.insert("binary_data_size".into(), Value::from(bytes.len()));
                tail.extend_from_slice(&bytes);
                wire::InferOutput {
                    name: t.name.into(),
                    datatype,
                    shape: t.shape,
                    parameters: Some(params),
                    data: None,
                }
            } else {
                wire::InferOutput {
                    name: t.name.into(),
                    datatype,
                    shape: t.shape,
                    parameters: None,
                    data: Some(t.data),
                }
            }
        })
        .collect();
    let answer = wire::InferResponse {
        model_name: target.endpoint.name.clone(),
        model_version: Some(served.version.to_string()),
        id: req.id,
        outputs,
    };
    let mut head = serde_json::to_vec(&answer).map_err(|e| {
        ApiError::Model(ModelError::Runtime(format!("cannot write the answer: {e}")))
    })?;
    if tail.is_empty() {
        let mut response = (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            head,
        )
            .into_response();
        stamp_version(&mut response, served.version, variant);
        return Ok(response);
    }
    let header_len = head.len();
    head.extend_from_slice(&tail);
    let mut response = (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/octet-stream")],
        head,
    )
        .into_response();
    response
        .headers_mut()
        .insert(HEADER_LENGTH, HeaderValue::from(header_len));
    stamp_version(&mut response, served.version, variant);
    Ok(response)
}

fn stamp_version(response: &mut Response, version: i64, variant: &'static str) {
    let headers = response.headers_mut();
    headers.insert(super::VERSION_HEADER, HeaderValue::from(version));
    headers.insert(super::VARIANT_HEADER, HeaderValue::from_static(variant));
}
