//! aidlc-api: the wire types of aidlc's HTTP APIs, without logic.
//!
//! - [`mlflow`]: MLflow's REST API as the `mlflow` 3.x Python client sends and reads it (field
//!   names exactly as in MLflow's protos; empty repeated fields omitted; NaN and infinities as the
//!   strings protobuf's JSON mapping uses).
//! - [`inference`]: the Open Inference Protocol v2 messages, the native rows endpoint and
//!   deployments.
//! - [`native`]: aidlc's own `/api/v1` API for what MLflow lacks (lineage, governed aliases).

pub mod inference;
pub mod mlflow;
pub mod native;

/// Serde adapters for protobuf's JSON mapping of scalar types.
pub mod proto_json {
    use serde::{Deserialize, Deserializer, Serializer};

    /// A protobuf `double`: numbers, or the strings `"NaN"`, `"Infinity"` and `"-Infinity"`.
    pub mod double {
        use super::*;

        pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
            if v.is_nan() {
                s.serialize_str("NaN")
            } else if v.is_infinite() {
                s.serialize_str(if *v > 0.0 { "Infinity" } else { "-Infinity" })
            } else {
                s.serialize_f64(*v)
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
            #[derive(Deserialize)]
            #[serde(untagged)]
            enum Raw {
                Number(f64),
                Text(String),
            }
            match Raw::deserialize(d)? {
                Raw::Number(n) => Ok(n),
                Raw::Text(t) => match t.as_str() {
                    "NaN" | "nan" => Ok(f64::NAN),
                    "Infinity" | "inf" => Ok(f64::INFINITY),
                    "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
                    other => other.parse().map_err(|_| {
                        serde::de::Error::custom(format!("`{other}` is not a double"))
                    }),
                },
            }
        }
    }

    /// An optional protobuf `int64`: a JSON number or a decimal string (both are valid
    /// protobuf JSON).
    pub mod opt_int64 {
        use super::*;

        pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(n) => s.serialize_i64(*n),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            #[derive(Deserialize)]
            #[serde(untagged)]
            enum Raw {
                Number(i64),
                Float(f64),
                Text(String),
            }
            match Option::<Raw>::deserialize(d)? {
                None => Ok(None),
                Some(Raw::Number(n)) => Ok(Some(n)),
                Some(Raw::Float(f)) if f.fract() == 0.0 => Ok(Some(f as i64)),
                Some(Raw::Float(f)) => {
                    Err(serde::de::Error::custom(format!("`{f}` is not an int64")))
                }
                Some(Raw::Text(t)) => t
                    .parse()
                    .map(Some)
                    .map_err(|_| serde::de::Error::custom(format!("`{t}` is not an int64"))),
            }
        }
    }
}
