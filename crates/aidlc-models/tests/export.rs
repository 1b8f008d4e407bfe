//! ONNX export of built-in models: each hand-built model, exported and scored by ONNX Runtime,
//! must give what the native scorer gives, on rows with missing values and unknown categories.
//! The checks of the written protobuf need no runtime and always run.

mod support;

use aidlc_data::Column;
use aidlc_models::builtin::{Encoding, FORMAT, LinearModel, Link, Predictor, Tree, TreeEnsemble};
use aidlc_models::onnx::proto::{self, ClassLabels};
use aidlc_models::onnx::{OnnxModel, export_onnx};
use aidlc_models::{
    BuiltinModel, Feature, FeatureKind, Frame, Inputs, Model, ModelError, ModelTask, Predictions,
    Signature,
};

const NAN: f64 = f64::NAN;

fn numeric(name: &str) -> Feature {
    Feature {
        name: name.into(),
        kind: FeatureKind::Numeric,
        nullable: true,
    }
}

fn categorical(name: &str) -> Feature {
    Feature {
        name: name.into(),
        kind: FeatureKind::Categorical,
        nullable: true,
    }
}

fn plain() -> Encoding {
    Encoding::Numeric {
        fill: None,
        center: 0.0,
        scale: 1.0,
    }
}

fn cats(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn classifier(classes: &[&str]) -> ModelTask {
    ModelTask::Classifier {
        classes: cats(classes),
    }
}

fn model(
    task: ModelTask,
    features: Vec<Feature>,
    encodings: Vec<Encoding>,
    predictor: Predictor,
) -> BuiltinModel {
    let model = BuiltinModel {
        format: FORMAT.into(),
        signature: Signature {
            task,
            inputs: Inputs::Named { features },
        },
        encodings,
        predictor,
        training: serde_json::Value::Null,
    };
    model.check().unwrap();
    model
}

/// A tree from `(feature, threshold, left, right, missing_left)` splits and `(value)` leaves,
/// listed by node index.
enum N {
    Split(u32, f32, u32, u32, bool),
    Leaf(f64),
}

fn tree(output: usize, nodes: &[N]) -> Tree {
    let mut t = Tree {
        output,
        feature: vec![],
        threshold: vec![],
        left: vec![],
        right: vec![],
        missing_left: vec![],
        value: vec![],
    };
    for n in nodes {
        let (f, th, l, r, m, v) = match *n {
            N::Split(f, th, l, r, m) => (f, th, l, r, m, 0.0),
            N::Leaf(v) => (0, 0.0, 0, 0, false, v),
        };
        t.feature.push(f);
        t.threshold.push(th);
        t.left.push(l);
        t.right.push(r);
        t.missing_left.push(m);
        t.value.push(v);
    }
    t
}

/// The rows every model is scored on: missing numbers, a value exactly on a threshold (0.5),
/// unknown and missing categories.
fn table() -> Frame {
    Frame::new(
        cats(&["colour", "x", "y", "z", "size", "extra"]),
        vec![
            Column::Categorical(
                [
                    Some("red"),
                    Some("blue"),
                    None,
                    Some("green"),
                    Some("blue"),
                    Some("red"),
                    Some("teal"),
                    Some("blue"),
                ]
                .iter()
                .map(|c| c.map(str::to_string))
                .collect(),
            ),
            Column::Numeric(vec![1.0, NAN, -2.0, 0.5, 3.25, 0.49, NAN, 12.0]),
            Column::Numeric(vec![0.3, 1.7, NAN, -4.0, 2.5, 0.0, 8.0, -1.25]),
            Column::Numeric(vec![100.0, -50.0, 7.5, NAN, 0.0, 42.0, -3.0, 1e3]),
            Column::Categorical(
                [
                    Some("s"),
                    Some("l"),
                    Some("m"),
                    None,
                    Some("xl"),
                    Some("m"),
                    Some("s"),
                    Some("l"),
                ]
                .iter()
                .map(|c| c.map(str::to_string))
                .collect(),
            ),
            Column::Numeric(vec![0.0; 8]),
        ],
    )
    .unwrap()
}

fn linear_binary() -> BuiltinModel {
    model(
        classifier(&["no", "yes"]),
        vec![numeric("x"), categorical("colour"), numeric("y")],
        vec![
            Encoding::Numeric {
                fill: Some(3.0),
                center: 1.0,
                scale: 2.0,
            },
            Encoding::OneHot {
                categories: cats(&["red", "blue"]),
            },
            Encoding::Numeric {
                fill: Some(0.0),
                center: -0.5,
                scale: 4.0,
            },
        ],
        Predictor::Linear(LinearModel {
            weights: vec![vec![1.0, 0.5, -0.5, 0.75]],
            bias: vec![0.25],
            link: Link::Logistic,
        }),
    )
}

fn linear_multiclass() -> BuiltinModel {
    model(
        classifier(&["low", "mid", "high"]),
        vec![numeric("x"), numeric("y"), numeric("z")],
        vec![
            Encoding::Numeric {
                fill: Some(0.5),
                center: 0.25,
                scale: 1.5,
            },
            Encoding::Numeric {
                fill: Some(-1.0),
                center: 0.0,
                scale: 3.0,
            },
            Encoding::Numeric {
                fill: Some(10.0),
                center: 20.0,
                scale: 100.0,
            },
        ],
        Predictor::Linear(LinearModel {
            weights: vec![
                vec![0.5, -1.0, 2.0],
                vec![-0.25, 0.75, 0.1],
                vec![1.5, 0.2, -3.0],
            ],
            bias: vec![0.1, -0.2, 0.3],
            link: Link::Softmax,
        }),
    )
}

fn linear_regressor() -> BuiltinModel {
    model(
        ModelTask::Regressor,
        vec![numeric("z"), categorical("size"), numeric("x")],
        vec![
            Encoding::Numeric {
                fill: Some(5.0),
                center: 10.0,
                scale: 50.0,
            },
            Encoding::OneHot {
                categories: cats(&["s", "m", "l"]),
            },
            Encoding::Numeric {
                fill: Some(-1.0),
                center: 0.0,
                scale: 1.0,
            },
        ],
        Predictor::Linear(LinearModel {
            weights: vec![vec![120.5, -3.0, 0.0, 7.25, 12.0]],
            bias: vec![1000.0],
            link: Link::Identity,
        }),
    )
}

/// Binary trees over a plain number with missing values (no fill, so NaN reaches the splits),
/// an ordinal category (unknown → NaN) and a one-hot category.
fn trees_binary() -> BuiltinModel {
    // Dense vector: [x, colour (ordinal), s, m, l].
    model(
        classifier(&["0", "1"]),
        vec![numeric("x"), categorical("colour"), categorical("size")],
        vec![
            plain(),
            Encoding::Ordinal {
                categories: cats(&["red", "blue", "green"]),
            },
            Encoding::OneHot {
                categories: cats(&["s", "m", "l"]),
            },
        ],
        Predictor::Trees(TreeEnsemble {
            base_scores: vec![0.3],
            trees: vec![
                tree(
                    0,
                    &[
                        N::Split(0, 0.5, 1, 2, true),
                        N::Split(1, 0.5, 3, 4, false),
                        N::Leaf(1.25),
                        N::Leaf(-0.5),
                        N::Leaf(0.75),
                    ],
                ),
                tree(
                    0,
                    &[
                        N::Split(3, 0.5, 1, 2, false),
                        N::Split(1, 1.5, 3, 4, true),
                        N::Leaf(-1.0),
                        N::Leaf(0.4),
                        N::Leaf(-0.2),
                    ],
                ),
                tree(0, &[N::Leaf(0.125)]),
            ],
            link: Link::Logistic,
        }),
    )
}

fn trees_multiclass() -> BuiltinModel {
    model(
        classifier(&["a", "b", "c"]),
        vec![numeric("x"), numeric("y")],
        vec![plain(), plain()],
        Predictor::Trees(TreeEnsemble {
            base_scores: vec![0.1, -0.3, 0.2],
            trees: vec![
                tree(
                    0,
                    &[N::Split(0, 0.5, 1, 2, true), N::Leaf(1.0), N::Leaf(-1.0)],
                ),
                tree(
                    1,
                    &[N::Split(1, 0.0, 1, 2, false), N::Leaf(0.5), N::Leaf(2.0)],
                ),
                tree(
                    2,
                    &[
                        N::Split(0, 2.0, 1, 2, false),
                        N::Split(1, -2.0, 3, 4, true),
                        N::Leaf(1.5),
                        N::Leaf(-0.75),
                        N::Leaf(0.25),
                    ],
                ),
                tree(
                    0,
                    &[N::Split(1, 5.0, 1, 2, true), N::Leaf(0.2), N::Leaf(-2.5)],
                ),
            ],
            link: Link::Softmax,
        }),
    )
}

fn trees_regressor() -> BuiltinModel {
    model(
        ModelTask::Regressor,
        vec![numeric("z"), numeric("x")],
        vec![
            Encoding::Numeric {
                fill: Some(1.0),
                center: 0.0,
                scale: 1.0,
            },
            plain(),
        ],
        Predictor::Trees(TreeEnsemble {
            base_scores: vec![250.0],
            trees: vec![
                tree(
                    0,
                    &[
                        N::Split(0, 10.0, 1, 2, false),
                        N::Split(1, 0.5, 3, 4, false),
                        N::Leaf(-80.5),
                        N::Leaf(13.0),
                        N::Leaf(-7.125),
                    ],
                ),
                tree(
                    0,
                    &[N::Split(1, -1.0, 1, 2, true), N::Leaf(40.0), N::Leaf(0.5)],
                ),
            ],
            link: Link::Identity,
        }),
    )
}

/// A category seen in no training row has an ordinal encoding without categories: every value
/// is unknown, NaN, and follows the missing branch.
fn trees_unseen_category() -> BuiltinModel {
    model(
        ModelTask::Regressor,
        vec![numeric("x"), categorical("colour")],
        vec![plain(), Encoding::Ordinal { categories: vec![] }],
        Predictor::Trees(TreeEnsemble {
            base_scores: vec![0.0],
            trees: vec![tree(
                0,
                &[
                    N::Split(1, 0.5, 1, 2, false),
                    N::Leaf(5.0),
                    N::Split(0, 0.5, 3, 4, true),
                    N::Leaf(-1.0),
                    N::Leaf(2.0),
                ],
            )],
            link: Link::Identity,
        }),
    )
}

/// Built like the prior baseline: its encodings pass features through untouched (an ordinal
/// encoding without categories) and the constant never reads them.
fn constant_classifier() -> BuiltinModel {
    model(
        classifier(&["x", "y", "z"]),
        vec![categorical("colour"), numeric("x")],
        vec![Encoding::Ordinal { categories: vec![] }, plain()],
        Predictor::Constant {
            scores: vec![0.2, 0.5, 0.3],
        },
    )
}

fn constant_regressor() -> BuiltinModel {
    model(
        ModelTask::Regressor,
        vec![numeric("y")],
        vec![plain()],
        Predictor::Constant {
            scores: vec![-17.75],
        },
    )
}

fn all_models() -> Vec<(&'static str, BuiltinModel)> {
    vec![
        ("linear_binary", linear_binary()),
        ("linear_multiclass", linear_multiclass()),
        ("linear_regressor", linear_regressor()),
        ("trees_binary", trees_binary()),
        ("trees_multiclass", trees_multiclass()),
        ("trees_regressor", trees_regressor()),
        ("trees_unseen_category", trees_unseen_category()),
        ("constant_classifier", constant_classifier()),
        ("constant_regressor", constant_regressor()),
    ]
}

fn assert_close(name: &str, native: &Predictions, onnx: &Predictions) {
    match (native, onnx) {
        (
            Predictions::Classes {
                classes,
                labels,
                probabilities,
            },
            Predictions::Classes {
                classes: onnx_classes,
                labels: onnx_labels,
                probabilities: onnx_probabilities,
            },
        ) => {
            assert_eq!(classes, onnx_classes, "{name}: classes");
            assert_eq!(labels, onnx_labels, "{name}: labels");
            assert_eq!(probabilities.len(), onnx_probabilities.len());
            for (i, (a, b)) in probabilities.iter().zip(onnx_probabilities).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-5,
                    "{name}: probability {i}: native {a}, ONNX {b}"
                );
            }
        }
        (Predictions::Values(native), Predictions::Values(onnx)) => {
            assert_eq!(native.len(), onnx.len());
            for (i, (a, b)) in native.iter().zip(onnx).enumerate() {
                assert!(
                    (a - b).abs() <= 1e-4 * a.abs().max(1.0),
                    "{name}: row {i}: native {a}, ONNX {b}"
                );
            }
        }
        _ => panic!("{name}: native and ONNX disagree on the task"),
    }
}

#[test]
fn exported_models_score_like_the_native_scorer() {
    if !support::runtime_ready() {
        return;
    }
    let table = table();
    for (name, builtin) in all_models() {
        let bytes = export_onnx(&builtin).unwrap();
        let onnx = OnnxModel::from_bytes(bytes, name).unwrap();
        // The names and kinds travel in the metadata, so the loaded model takes the same table.
        assert_eq!(onnx.signature(), builtin.signature(), "{name}: signature");
        let input = table.select(builtin.signature(), None).unwrap();
        let native = builtin.predict(&input).unwrap();
        let exported = onnx.predict(&input).unwrap();
        assert_close(name, &native, &exported);
        // Row by row, as a server scores single requests.
        for i in 0..input.n_rows {
            let one = input.slice(i..i + 1);
            assert_close(
                name,
                &builtin.predict(&one).unwrap(),
                &onnx.predict(&one).unwrap(),
            );
        }
    }
}

#[test]
fn the_rows_reach_every_branch_of_the_binary_trees() {
    // Guards the test data: without NaN and unknown categories reaching the splits, the
    // comparison above would not exercise missing-value routing.
    let model = trees_binary();
    let input = table().select(model.signature(), None).unwrap();
    let Predictions::Classes { probabilities, .. } = model.predict(&input).unwrap() else {
        panic!("a classifier")
    };
    let mut distinct: Vec<i64> = probabilities
        .iter()
        .skip(1)
        .step_by(2)
        .map(|p| (p * 1e9) as i64)
        .collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert!(distinct.len() >= 5, "{distinct:?}");
}

#[test]
fn exported_bytes_carry_the_contract() {
    // No runtime needed: the protobuf is read back by aidlc's own reader.
    let bytes = export_onnx(&trees_binary()).unwrap();
    let summary = proto::summarize(&bytes).unwrap();
    assert_eq!(summary.ir_version, 8);
    assert_eq!(
        summary.operators,
        [
            "ai.onnx.ml:LabelEncoder",
            "ai.onnx.ml:OneHotEncoder",
            ":Squeeze",
            ":Concat",
            "ai.onnx.ml:TreeEnsembleClassifier"
        ]
    );
    assert_eq!(summary.class_labels, Some(ClassLabels::Ints(vec![0, 1])));
    assert_eq!(summary.metadata("aidlc.classes"), Some(r#"["0","1"]"#));
    let features: serde_json::Value =
        serde_json::from_str(summary.metadata("aidlc.features").unwrap()).unwrap();
    assert_eq!(
        features[1],
        serde_json::json!({"name": "colour", "kind": "categorical", "nullable": true})
    );

    let summary = proto::summarize(&export_onnx(&linear_multiclass()).unwrap()).unwrap();
    assert_eq!(
        summary.operators,
        [
            "ai.onnx.ml:Imputer",
            ":Sub",
            ":Div",
            "ai.onnx.ml:LinearClassifier"
        ]
    );
    assert_eq!(
        summary.metadata("aidlc.classes"),
        Some(r#"["low","mid","high"]"#)
    );
    let summary = proto::summarize(&export_onnx(&trees_regressor()).unwrap()).unwrap();
    assert_eq!(
        summary.operators,
        ["ai.onnx.ml:Imputer", "ai.onnx.ml:TreeEnsembleRegressor"]
    );
    assert_eq!(summary.class_labels, None);
    // Export is deterministic: the same model gives the same bytes.
    assert_eq!(
        export_onnx(&trees_binary()).unwrap(),
        export_onnx(&trees_binary()).unwrap()
    );
}

#[test]
fn models_the_contract_cannot_express_are_refused_with_the_reason() {
    let mut m = trees_binary();
    m.encodings[2] = Encoding::OneHot {
        categories: cats(&["s", "m", "s"]),
    };
    let err = export_onnx(&m).unwrap_err();
    assert!(
        matches!(err, ModelError::Format { .. }) && err.to_string().contains("`s` is listed twice"),
        "{err}"
    );
    let mut m = linear_binary();
    m.signature.inputs = Inputs::Named {
        features: vec![numeric("x"), categorical("label"), numeric("y")],
    };
    let err = export_onnx(&m).unwrap_err();
    assert!(err.to_string().contains("feature `label`"), "{err}");
    let mut m = linear_binary();
    if let Predictor::Linear(l) = &mut m.predictor {
        l.link = Link::Softmax;
    }
    let err = export_onnx(&m).unwrap_err();
    assert!(
        err.to_string().contains("2 classes and a Softmax link"),
        "{err}"
    );
}
