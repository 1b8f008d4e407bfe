//! Wire types of the inference endpoints: the Open Inference Protocol v2 REST messages (the
//! KServe v2 / Triton HTTP protocol), the native rows endpoint and deployments.

use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

/// The Open Inference Protocol v2 REST messages.
pub mod v2 {
    use super::*;

    /// `GET /v2`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ServerMetadata {
        pub name: String,
        pub version: String,
        pub extensions: Vec<String>,
    }

    /// A tensor's name, datatype and shape; a variable dimension is `-1`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct TensorMetadata {
        pub name: String,
        pub datatype: String,
        pub shape: Vec<i64>,
    }

    /// `GET /v2/models/{m}[/versions/{v}]`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ModelMetadata {
        pub name: String,
        pub versions: Vec<String>,
        pub platform: String,
        pub inputs: Vec<TensorMetadata>,
        pub outputs: Vec<TensorMetadata>,
    }

    /// The JSON part of `POST .../infer`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct InferRequest {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Map<String, Value>>,
        pub inputs: Vec<InferInput>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub outputs: Option<Vec<RequestedOutput>>,
    }

    /// One input tensor: its values are in `data` (flat or nested, row-major) or, with the binary
    /// tensor extension, `parameters.binary_data_size` bytes after the JSON header.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct InferInput {
        pub name: String,
        pub shape: Vec<i64>,
        pub datatype: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Map<String, Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub data: Option<Value>,
    }

    /// An output the client asks for; `parameters.binary_data` asks for it in binary.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct RequestedOutput {
        pub name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Map<String, Value>>,
    }

    /// The JSON part of an inference answer.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct InferResponse {
        pub model_name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub model_version: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub id: Option<String>,
        pub outputs: Vec<InferOutput>,
    }

    /// One output tensor: `data` in JSON, or `parameters.binary_data_size` bytes after the header.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct InferOutput {
        pub name: String,
        pub datatype: String,
        pub shape: Vec<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub parameters: Option<Map<String, Value>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        pub data: Option<TensorData>,
    }

    /// The flat, row-major values of an output tensor.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(untagged)]
    pub enum TensorData {
        Int(Vec<i64>),
        Float(Vec<f32>),
        Text(Vec<String>),
    }

    /// Every non-200 answer of the protocol.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ErrorBody {
        pub error: String,
    }

    /// `GET /v2/health/live`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Live {
        pub live: bool,
    }

    /// `GET /v2/health/ready`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Ready {
        pub ready: bool,
    }

    /// `GET /v2/models/{m}/ready`.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ModelReady {
        pub name: String,
        pub ready: bool,
    }
}

/// `PUT /api/v1/deployments/{endpoint}`: serve the version `alias` of `model` at the endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentRequest {
    pub model: String,
    pub alias: String,
}

/// A deployment and the version its alias names now (`None` when the alias is not set).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentView {
    pub endpoint: String,
    pub model: String,
    pub alias: String,
    pub version: Option<i64>,
    pub updated_by: String,
    pub updated_at_ms: i64,
}

/// `GET /api/v1/deployments`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeploymentList {
    pub deployments: Vec<DeploymentView>,
}

/// `POST /api/v1/endpoints/{name}/predict`: rows as objects keyed by feature name (or, for a
/// model with one unnamed tensor input, arrays of numbers in the model's feature order).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictRequest {
    pub rows: Vec<Value>,
    /// The request's id in the prediction log (rows of a batch get `<id>.<row>`); the
    /// `x-request-id` header, or one the server makes, when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The entity the request is about: the sticky key of a canary assignment (the
    /// `x-aidlc-entity-id` header when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entity: Option<String>,
}

/// The answer of the native rows endpoint, naming the version and variant that answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PredictResponse {
    pub model: String,
    pub version: i64,
    pub variant: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    pub predictions: Vec<RowPrediction>,
}

/// One row's prediction: a class with every class's probability, or a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RowPrediction {
    Class {
        label: String,
        probabilities: ClassProbabilities,
    },
    Value {
        value: f64,
    },
}

/// Class name → probability, written as a JSON object in the model's class order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ClassProbabilities(pub Vec<(String, f64)>);

impl Serialize for ClassProbabilities {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (class, p) in &self.0 {
            map.serialize_entry(class, p)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ClassProbabilities {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Pairs;
        impl<'de> Visitor<'de> for Pairs {
            type Value = ClassProbabilities;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of class name to probability")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut pairs = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, f64>()? {
                    pairs.push((k, v));
                }
                Ok(ClassProbabilities(pairs))
            }
        }
        d.deserialize_map(Pairs)
    }
}

/// `GET /api/v1/deployments/{endpoint}/rollout`: the deployment, the version production serves
/// and its latest rollout (steps, traffic, analyses with their checks), as the store keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RolloutStatusView {
    pub endpoint: String,
    pub model: String,
    pub alias: String,
    pub production_version: Option<i64>,
    pub rollout: Option<Value>,
}

/// `POST .../approve`, `.../reject` and `.../rollback` of a rollout or a pipeline: who decides
/// is the server's actor; why is here (required to reject).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DecisionRequest {
    #[serde(default)]
    pub reason: Option<String>,
}
