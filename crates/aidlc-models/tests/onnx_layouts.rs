//! Input and output layouts of ONNX models from other tools, built here with aidlc's protobuf
//! writer: one input per column (int64 and string), text and non-index class labels, and the
//! layouts aidlc refuses with a reason (ZipMap outputs, inputs of higher rank).

mod support;

use aidlc_data::Column;
use aidlc_models::onnx::OnnxModel;
use aidlc_models::onnx::proto::{
    AttributeProto, AttributeValue, Dim, GraphProto, ModelProto, NodeProto, ValueInfoProto,
    data_type,
};
use aidlc_models::{
    Feature, FeatureKind, Frame, Inputs, Model, ModelError, ModelTask, Predictions,
};

fn attr(name: &str, value: AttributeValue) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        value,
    }
}

fn node(
    op: &str,
    domain: &str,
    inputs: &[&str],
    outputs: &[&str],
    attributes: Vec<AttributeProto>,
) -> NodeProto {
    NodeProto {
        inputs: inputs.iter().map(|s| s.to_string()).collect(),
        outputs: outputs.iter().map(|s| s.to_string()).collect(),
        name: format!("{op}_{}", outputs[0]),
        op_type: op.into(),
        domain: domain.into(),
        attributes,
    }
}

fn value(name: &str, elem_type: i32, dims: &[i64]) -> ValueInfoProto {
    ValueInfoProto {
        name: name.into(),
        elem_type,
        dims: std::iter::once(Dim::Param("N".into()))
            .chain(dims.iter().map(|&d| Dim::Value(d)))
            .collect(),
    }
}

fn onnx(
    nodes: Vec<NodeProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        opset_import: vec![(String::new(), 17), ("ai.onnx.ml".into(), 3)],
        producer_name: "test".into(),
        producer_version: "0".into(),
        graph: GraphProto {
            name: "g".into(),
            nodes,
            initializers: vec![],
            inputs,
            outputs,
        },
        metadata_props: vec![],
    }
    .encode()
}

/// A two-class logistic model over `x` (`[N, 2]`): class 0 scores `x0 - x1`, class 1 the opposite.
fn two_class(labels: AttributeProto, label_type: i32, zipmap: bool) -> Vec<u8> {
    let labels_name = match &labels.value {
        AttributeValue::Strings(_) => "classlabels_strings",
        _ => "classlabels_int64s",
    };
    let mut nodes = vec![node(
        "LinearClassifier",
        "ai.onnx.ml",
        &["x"],
        &["label", if zipmap { "scores" } else { "probabilities" }],
        vec![
            labels.clone(),
            attr(
                "coefficients",
                AttributeValue::Floats(vec![1.0, -1.0, -1.0, 1.0]),
            ),
            attr("intercepts", AttributeValue::Floats(vec![0.0, 0.0])),
            attr(
                "post_transform",
                AttributeValue::String(b"LOGISTIC".to_vec()),
            ),
        ],
    )];
    let mut probabilities = value("probabilities", data_type::FLOAT, &[2]);
    if zipmap {
        nodes.push(node(
            "ZipMap",
            "ai.onnx.ml",
            &["scores"],
            &["probabilities"],
            vec![attr(labels_name, labels.value)],
        ));
        // A sequence of maps; its type is left to ONNX Runtime's inference.
        probabilities.elem_type = 0;
    }
    onnx(
        nodes,
        vec![value("x", data_type::FLOAT, &[2])],
        vec![value("label", label_type, &[]), probabilities],
    )
}

fn xs(rows: &[[f64; 2]]) -> Frame {
    Frame::new(
        vec!["a".into(), "b".into()],
        (0..2)
            .map(|j| Column::Numeric(rows.iter().map(|r| r[j]).collect()))
            .collect(),
    )
    .unwrap()
}

#[test]
fn one_input_per_column_takes_int64_and_text() {
    if !support::runtime_ready() {
        return;
    }
    let bytes = onnx(
        vec![
            node(
                "Cast",
                "",
                &["age"],
                &["age_f"],
                vec![attr("to", AttributeValue::Int(1))],
            ),
            node(
                "LabelEncoder",
                "ai.onnx.ml",
                &["city"],
                &["city_f"],
                vec![
                    attr(
                        "keys_strings",
                        AttributeValue::Strings(vec![b"paris".to_vec(), b"rome".to_vec()]),
                    ),
                    attr("values_floats", AttributeValue::Floats(vec![1.0, 2.0])),
                    attr("default_float", AttributeValue::Float(0.0)),
                ],
            ),
            node(
                "Concat",
                "",
                &["age_f", "city_f"],
                &["dense"],
                vec![attr("axis", AttributeValue::Int(1))],
            ),
            node(
                "LinearRegressor",
                "ai.onnx.ml",
                &["dense"],
                &["variable"],
                vec![
                    attr("coefficients", AttributeValue::Floats(vec![2.0, 10.0])),
                    attr("intercepts", AttributeValue::Floats(vec![0.5])),
                ],
            ),
        ],
        vec![
            value("age", data_type::INT64, &[1]),
            value("city", data_type::STRING, &[1]),
        ],
        vec![value("variable", data_type::FLOAT, &[1])],
    );
    let model = OnnxModel::from_bytes(bytes, "columns.onnx").unwrap();
    assert_eq!(model.signature().task, ModelTask::Regressor);
    assert_eq!(
        model.signature().inputs,
        Inputs::Named {
            features: vec![
                Feature {
                    name: "age".into(),
                    kind: FeatureKind::Numeric,
                    nullable: false
                },
                Feature {
                    name: "city".into(),
                    kind: FeatureKind::Categorical,
                    nullable: true
                },
            ]
        }
    );
    let table = Frame::new(
        vec!["city".into(), "age".into()],
        vec![
            Column::Categorical(vec![Some("rome".into()), None, Some("oslo".into())]),
            Column::Numeric(vec![30.0, 41.0, 7.0]),
        ],
    )
    .unwrap();
    let input = table.select(model.signature(), None).unwrap();
    assert_eq!(
        model.predict(&input).unwrap(),
        Predictions::Values(vec![80.5, 82.5, 14.5])
    );

    let fractional = Frame::new(
        vec!["age".into(), "city".into()],
        vec![
            Column::Numeric(vec![30.0, 41.5]),
            Column::Categorical(vec![None, None]),
        ],
    )
    .unwrap();
    match model.predict(&fractional).unwrap_err() {
        ModelError::BadValue { name, row, .. } => assert_eq!((name.as_str(), row), ("age", 1)),
        other => panic!("expected BadValue, got {other}"),
    }
    let mut missing_age = fractional.clone();
    missing_age.columns[0] = Column::Numeric(vec![f64::NAN, 3.0]);
    let err = missing_age.select(model.signature(), None).unwrap_err();
    assert!(matches!(err, ModelError::BadValue { row: 0, .. }), "{err}");
    let mut text_age = fractional.clone();
    text_age.columns[0] = Column::Categorical(vec![Some("old".into()), None]);
    let err = model.predict(&text_age).unwrap_err();
    assert!(
        matches!(err, ModelError::WrongType { .. }) && err.to_string().contains("`age`"),
        "{err}"
    );
    let only_age = fractional.slice(0..2);
    let only_age = Frame::new(vec!["age".into()], vec![only_age.columns[0].clone()]).unwrap();
    let err = model.predict(&only_age).unwrap_err();
    assert!(
        matches!(err, ModelError::MissingFeature { ref name, .. } if name == "city"),
        "{err}"
    );
}

#[test]
fn class_labels_may_be_text_or_any_integers() {
    if !support::runtime_ready() {
        return;
    }
    let rows = xs(&[[2.0, 0.0], [0.0, 3.0]]);
    let text = two_class(
        attr(
            "classlabels_strings",
            AttributeValue::Strings(vec![b"cat".to_vec(), b"dog".to_vec()]),
        ),
        data_type::STRING,
        false,
    );
    let model = OnnxModel::from_bytes(text, "text_labels.onnx").unwrap();
    assert_eq!(model.signature().classes(), ["cat", "dog"]);
    assert_eq!(
        model.signature().inputs,
        Inputs::Tensor {
            name: "x".into(),
            width: 2
        }
    );
    let Predictions::Classes {
        labels,
        probabilities,
        ..
    } = model.predict(&rows).unwrap()
    else {
        panic!("a classifier")
    };
    assert_eq!(labels, [0, 1]);
    let sigmoid = |s: f64| 1.0 / (1.0 + (-s).exp());
    assert!(
        (probabilities[0] - sigmoid(2.0)).abs() < 1e-6,
        "{probabilities:?}"
    );
    assert!(
        (probabilities[3] - sigmoid(3.0)).abs() < 1e-6,
        "{probabilities:?}"
    );

    let signed = two_class(
        attr("classlabels_ints", AttributeValue::Ints(vec![-1, 1])),
        data_type::INT64,
        false,
    );
    let model = OnnxModel::from_bytes(signed, "signed_labels.onnx").unwrap();
    assert_eq!(model.signature().classes(), ["-1", "1"]);
    let Predictions::Classes { labels, .. } = model.predict(&rows).unwrap() else {
        panic!("a classifier")
    };
    assert_eq!(labels, [0, 1], "label -1 is class 0, label 1 class 1");
}

#[test]
fn layouts_aidlc_cannot_read_are_refused_with_the_reason() {
    if !support::runtime_ready() {
        return;
    }
    let zipmap = two_class(
        attr("classlabels_ints", AttributeValue::Ints(vec![0, 1])),
        data_type::INT64,
        true,
    );
    let err = OnnxModel::from_bytes(zipmap, "zipmap.onnx").unwrap_err();
    assert!(
        matches!(err, ModelError::Format { .. }) && err.to_string().contains("ZipMap disabled"),
        "{err}"
    );

    let cube = onnx(
        vec![node("Identity", "", &["x"], &["variable"], vec![])],
        vec![value("x", data_type::FLOAT, &[2, 2])],
        vec![value("variable", data_type::FLOAT, &[2, 2])],
    );
    let err = OnnxModel::from_bytes(cube, "cube.onnx").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("cube.onnx: input `x` has shape [-1, 2, 2]"),
        "{err}"
    );

    let scores_only = onnx(
        vec![node("Identity", "", &["x"], &["scores"], vec![])],
        vec![value("x", data_type::FLOAT, &[3])],
        vec![value("scores", data_type::FLOAT, &[3])],
    );
    let err = OnnxModel::from_bytes(scores_only, "scores.onnx").unwrap_err();
    assert!(
        err.to_string()
            .contains("outputs `label` + `probabilities`"),
        "{err}"
    );

    let err = OnnxModel::from_bytes(b"\x08\x08garbage".to_vec(), "bad.onnx").unwrap_err();
    assert!(matches!(err, ModelError::Format { .. }), "{err}");
}
