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

/// Serde adapters for protobuf's JSON mapping of scalar types. They take the JSON value as it
/// comes (number or string) with one visitor instead of buffering it for an untagged enum: a
/// `log-batch` request carries three of them per metric.
pub mod proto_json {
    use serde::de::{self, Visitor};
    use serde::{Deserializer, Serializer};
    use std::fmt;

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
            d.deserialize_any(DoubleVisitor)
        }

        struct DoubleVisitor;

        impl Visitor<'_> for DoubleVisitor {
            type Value = f64;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a number, or \"NaN\", \"Infinity\" or \"-Infinity\"")
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<f64, E> {
                Ok(v)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<f64, E> {
                Ok(v as f64)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<f64, E> {
                Ok(v as f64)
            }

            fn visit_str<E: de::Error>(self, t: &str) -> Result<f64, E> {
                match t {
                    "NaN" | "nan" => Ok(f64::NAN),
                    "Infinity" | "inf" => Ok(f64::INFINITY),
                    "-Infinity" | "-inf" => Ok(f64::NEG_INFINITY),
                    other => other
                        .parse()
                        .map_err(|_| E::custom(format!("`{other}` is not a double"))),
                }
            }
        }
    }

    /// An optional protobuf `int64`: a JSON number or a decimal string (both are valid
    /// protobuf JSON); a whole float such as `5.0` counts as its integer.
    pub mod opt_int64 {
        use super::*;

        pub fn serialize<S: Serializer>(v: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
            match v {
                Some(n) => s.serialize_i64(*n),
                None => s.serialize_none(),
            }
        }

        pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
            d.deserialize_option(OptInt64Visitor)
        }

        struct OptInt64Visitor;

        impl<'de> Visitor<'de> for OptInt64Visitor {
            type Value = Option<i64>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an int64 as a number or a decimal string")
            }

            fn visit_none<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Option<i64>, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Option<i64>, D::Error> {
                d.deserialize_any(Int64Visitor).map(Some)
            }
        }

        struct Int64Visitor;

        impl Visitor<'_> for Int64Visitor {
            type Value = i64;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an int64 as a number or a decimal string")
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<i64, E> {
                Ok(v)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<i64, E> {
                i64::try_from(v).map_err(|_| E::custom(format!("`{v}` is not an int64")))
            }

            fn visit_f64<E: de::Error>(self, v: f64) -> Result<i64, E> {
                if v.fract() == 0.0 && v >= i64::MIN as f64 && v < i64::MAX as f64 {
                    Ok(v as i64)
                } else {
                    Err(E::custom(format!("`{v}` is not an int64")))
                }
            }

            fn visit_str<E: de::Error>(self, t: &str) -> Result<i64, E> {
                t.parse()
                    .map_err(|_| E::custom(format!("`{t}` is not an int64")))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    struct Sample {
        #[serde(with = "crate::proto_json::double")]
        value: f64,
        #[serde(default, with = "crate::proto_json::opt_int64")]
        step: Option<i64>,
    }

    fn parse(json: &str) -> Result<Sample, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn doubles_take_numbers_and_protobuf_strings() {
        assert_eq!(parse(r#"{"value": 1.5}"#).unwrap().value, 1.5);
        assert_eq!(parse(r#"{"value": 3}"#).unwrap().value, 3.0);
        assert_eq!(parse(r#"{"value": -3}"#).unwrap().value, -3.0);
        assert!(parse(r#"{"value": "NaN"}"#).unwrap().value.is_nan());
        assert_eq!(
            parse(r#"{"value": "Infinity"}"#).unwrap().value,
            f64::INFINITY
        );
        assert_eq!(
            parse(r#"{"value": "-Infinity"}"#).unwrap().value,
            f64::NEG_INFINITY
        );
        assert_eq!(parse(r#"{"value": "0.25"}"#).unwrap().value, 0.25);
        let err = parse(r#"{"value": "high"}"#).unwrap_err().to_string();
        assert!(err.contains("`high` is not a double"), "{err}");
        assert!(parse(r#"{"value": true}"#).is_err());
        assert!(parse(r#"{"value": null}"#).is_err());
    }

    #[test]
    fn int64s_take_numbers_decimal_strings_and_whole_floats() {
        assert_eq!(parse(r#"{"value": 0, "step": 7}"#).unwrap().step, Some(7));
        assert_eq!(
            parse(r#"{"value": 0, "step": "-7"}"#).unwrap().step,
            Some(-7)
        );
        assert_eq!(parse(r#"{"value": 0, "step": 7.0}"#).unwrap().step, Some(7));
        assert_eq!(parse(r#"{"value": 0, "step": null}"#).unwrap().step, None);
        assert_eq!(parse(r#"{"value": 0}"#).unwrap().step, None);
        assert_eq!(
            parse(r#"{"value": 0, "step": "1700000000000"}"#)
                .unwrap()
                .step,
            Some(1_700_000_000_000)
        );
        for bad in [r#""x""#, "7.5", "18446744073709551615", "true"] {
            assert!(
                parse(&format!(r#"{{"value": 0, "step": {bad}}}"#)).is_err(),
                "{bad}"
            );
        }
    }
}
