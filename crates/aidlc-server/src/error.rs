//! The server's errors and the one exhaustive mapping from each to an HTTP status and a stable
//! error code (MLflow's codes, which the native API shares).
//!
//! A client mistake is never a 5xx: the MLflow client retries 5xx answers for minutes, so only
//! failures the client cannot cause (the database, the disk) map there.

use aidlc_core::rollout::RolloutError;
use aidlc_models::ModelError;
use aidlc_service::iterate::IterateError;
use aidlc_service::labels::LabelError;
use aidlc_service::rollout::RolloutServiceError;
use aidlc_store::{ArtifactError, PredictionLogError, StoreError};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A missing or malformed argument (MLflow INVALID_PARAMETER_VALUE).
    #[error("{0}")]
    InvalidParameter(String),
    /// A named thing that does not exist (MLflow RESOURCE_DOES_NOT_EXIST).
    #[error("{0}")]
    NotFound(String),
    /// A path the server does not serve.
    #[error("{0}")]
    NoEndpoint(String),
    /// Reading or writing the artifact folder failed on the server's side.
    #[error("artifact storage failed: {0}")]
    Io(#[from] std::io::Error),
    /// A model artifact could not be read from the artifact store.
    #[error(transparent)]
    Artifact(#[from] ArtifactError),
    /// Loading a model, or checking input against its signature, or scoring failed.
    #[error(transparent)]
    Model(#[from] ModelError),
    /// A request body larger than the endpoint takes.
    #[error("the request body is larger than {limit} bytes")]
    TooLarge { limit: usize },
    /// A content type the endpoint does not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// A deployment whose model cannot be served right now (its alias is not set).
    #[error("{0}")]
    NotReady(String),
    /// The prediction log could not take an answer's records, so the answer is withheld.
    #[error(transparent)]
    PredictionLog(#[from] PredictionLogError),
    /// Starting, judging, approving, rejecting or rolling back a rollout.
    #[error(transparent)]
    Rollout(#[from] RolloutServiceError),
    /// Recording labels.
    #[error(transparent)]
    Label(#[from] LabelError),
    /// Approving or rejecting a retraining pipeline run.
    #[error(transparent)]
    Iterate(#[from] IterateError),
    /// The server lacks a setting the request needs (say, the project's `aidlc.toml`).
    #[error("{0}")]
    Unconfigured(String),
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn invalid(msg: impl Into<String>) -> Self {
        ApiError::InvalidParameter(msg.into())
    }

    pub fn not_found(msg: impl Into<String>) -> Self {
        ApiError::NotFound(msg.into())
    }

    /// The status and error code of every error; no catch-all arm, so a new error variant (here
    /// or in the store) does not compile until it is classified.
    pub fn classify(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::InvalidParameter(_) => (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE"),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"),
            ApiError::NoEndpoint(_) => (StatusCode::NOT_FOUND, "ENDPOINT_NOT_FOUND"),
            ApiError::Io(_) => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
            // The brief of every inference protocol: an oversized body is the client's mistake.
            ApiError::TooLarge { .. } => (StatusCode::BAD_REQUEST, "BAD_REQUEST"),
            ApiError::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "BAD_REQUEST")
            }
            ApiError::NotReady(_) => (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE"),
            ApiError::Artifact(e) => match e {
                // The registry names an artifact the store lost or that no longer hashes right:
                // the server's data is wrong, not the request.
                ArtifactError::NotFound(_)
                | ArtifactError::Corrupt { .. }
                | ArtifactError::Io { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
            },
            ApiError::Model(e) => match e {
                // Input that does not fit the model's signature names the field: a 400.
                ModelError::MissingFeature { .. }
                | ModelError::WrongType { .. }
                | ModelError::WrongCount { .. }
                | ModelError::BadValue { .. } => {
                    (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
                }
                // ONNX Runtime is not configured: the model exists but cannot be served yet.
                ModelError::RuntimeUnavailable { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE")
                }
                ModelError::Format { .. }
                | ModelError::Runtime(_)
                | ModelError::Training(_)
                | ModelError::Io { .. } => (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR"),
            },
            ApiError::Store(e) => ApiError::store_status(e),
            ApiError::PredictionLog(e) => match e {
                // The log's writer or the stream is down: the client may retry later.
                PredictionLogError::Closed
                | PredictionLogError::Io { .. }
                | PredictionLogError::JetStream { .. } => {
                    (StatusCode::SERVICE_UNAVAILABLE, "TEMPORARILY_UNAVAILABLE")
                }
                PredictionLogError::Corrupt { .. }
                | PredictionLogError::Arrow { .. }
                | PredictionLogError::InvalidRecord { .. } => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
                }
            },
            ApiError::Rollout(e) => match e {
                RolloutServiceError::Store(e) => ApiError::store_status(e),
                RolloutServiceError::NotFound(_) => {
                    (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST")
                }
                RolloutServiceError::Invalid(_)
                | RolloutServiceError::State(RolloutError::NotAwaitingApproval { .. })
                | RolloutServiceError::State(RolloutError::Finished { .. }) => {
                    (StatusCode::BAD_REQUEST, "INVALID_STATE")
                }
                RolloutServiceError::MissingReason(_) => {
                    (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
                }
                RolloutServiceError::Refused(_) => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
                RolloutServiceError::Corrupt { .. } => {
                    (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
                }
            },
            ApiError::Label(e) => match e {
                LabelError::Store(e) => ApiError::store_status(e),
                LabelError::Data(_) | LabelError::Invalid(_) => {
                    (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
                }
            },
            ApiError::Iterate(e) => match e {
                IterateError::Store(e) => ApiError::store_status(e),
                IterateError::Invalid(_) => (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE"),
                IterateError::NotAwaitingApproval { .. } => {
                    (StatusCode::BAD_REQUEST, "INVALID_STATE")
                }
            },
            // A decision the server cannot make as configured: asking again will not help,
            // and a 5xx would have MLflow-style clients retry for minutes.
            ApiError::Unconfigured(_) => (StatusCode::CONFLICT, "INVALID_STATE"),
        }
    }

    fn store_status(e: &StoreError) -> (StatusCode, &'static str) {
        match e {
            StoreError::NotFound { .. } => (StatusCode::NOT_FOUND, "RESOURCE_DOES_NOT_EXIST"),
            // MLflow answers a duplicate name with 400, not 409; clients branch on the code.
            StoreError::AlreadyExists { .. } => {
                (StatusCode::BAD_REQUEST, "RESOURCE_ALREADY_EXISTS")
            }
            StoreError::Invalid(_) | StoreError::Conflict(_) => {
                (StatusCode::BAD_REQUEST, "INVALID_PARAMETER_VALUE")
            }
            StoreError::Refused(_) => (StatusCode::FORBIDDEN, "PERMISSION_DENIED"),
            StoreError::InvalidUrl(_) | StoreError::Corrupt(_) | StoreError::Database(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL_ERROR")
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.classify();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        let body = aidlc_api::mlflow::ErrorBody {
            error_code: code.to_string(),
            message: self.to_string(),
        };
        (status, axum::Json(body)).into_response()
    }
}
