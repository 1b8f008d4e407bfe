//! The built-in format's native scorer on small hand-made models.

use aidlc_data::Column;
use aidlc_models::builtin::{Encoding, FORMAT, LinearModel, Link, Predictor, Tree, TreeEnsemble};
use aidlc_models::{
    BuiltinModel, Feature, FeatureKind, Frame, Inputs, Model, ModelTask, Predictions, Signature,
};
use std::path::Path;

fn features() -> Vec<Feature> {
    vec![
        Feature {
            name: "x".into(),
            kind: FeatureKind::Numeric,
            nullable: true,
        },
        Feature {
            name: "colour".into(),
            kind: FeatureKind::Categorical,
            nullable: true,
        },
    ]
}

fn frame() -> Frame {
    Frame::new(
        vec!["colour".into(), "x".into(), "unused".into()],
        vec![
            Column::Categorical(vec![Some("red".into()), Some("blue".into()), None]),
            Column::Numeric(vec![1.0, f64::NAN, -2.0]),
            Column::Numeric(vec![0.0, 0.0, 0.0]),
        ],
    )
    .unwrap()
}

#[test]
fn linear_logistic_model_scores_one_hot_and_filled_values() {
    let model = BuiltinModel {
        format: FORMAT.into(),
        signature: Signature {
            task: ModelTask::Classifier {
                classes: vec!["0".into(), "1".into()],
            },
            inputs: Inputs::Named {
                features: features(),
            },
        },
        encodings: vec![
            Encoding::Numeric {
                fill: Some(3.0),
                center: 1.0,
                scale: 2.0,
            },
            Encoding::OneHot {
                categories: vec!["red".into(), "blue".into()],
            },
        ],
        predictor: Predictor::Linear(LinearModel {
            weights: vec![vec![1.0, 0.5, -0.5]],
            bias: vec![0.25],
            link: Link::Logistic,
        }),
        training: serde_json::Value::Null,
    };
    model.check().unwrap();
    let input = frame().select(model.signature(), None).unwrap();
    assert_eq!(input.names, vec!["x", "colour"]);
    let Predictions::Classes {
        labels,
        probabilities,
        ..
    } = model.predict(&input).unwrap()
    else {
        panic!("a classifier answers classes")
    };
    let sigmoid = |s: f64| 1.0 / (1.0 + (-s).exp());
    // Row 0: x=1 → 0; red → +0.5. Row 1: x missing → 3 → 1; blue → -0.5. Row 2: x=-2 → -1.5.
    let expected = [sigmoid(0.75), sigmoid(0.75), sigmoid(-1.25)];
    for (i, p) in expected.iter().enumerate() {
        assert!((probabilities[2 * i + 1] - p).abs() < 1e-12);
        assert!((probabilities[2 * i] - (1.0 - p)).abs() < 1e-12);
    }
    assert_eq!(labels, vec![1, 1, 0]);
    let bytes = model.to_bytes();
    assert_eq!(
        BuiltinModel::from_bytes(&bytes, Path::new("m.json")).unwrap(),
        model
    );
}

#[test]
fn trees_compare_in_f32_and_route_missing_values() {
    let tree = Tree {
        output: 0,
        feature: vec![0, 0, 0],
        threshold: vec![0.5, 0.0, 0.0],
        left: vec![1, 0, 0],
        right: vec![2, 0, 0],
        missing_left: vec![false, false, false],
        value: vec![0.0, -1.0, 2.0],
    };
    let model = BuiltinModel {
        format: FORMAT.into(),
        signature: Signature {
            task: ModelTask::Regressor,
            inputs: Inputs::Named {
                features: features(),
            },
        },
        encodings: vec![
            Encoding::Numeric {
                fill: None,
                center: 0.0,
                scale: 1.0,
            },
            Encoding::Ordinal {
                categories: vec!["red".into()],
            },
        ],
        predictor: Predictor::Trees(TreeEnsemble {
            base_scores: vec![10.0],
            trees: vec![tree],
            link: Link::Identity,
        }),
        training: serde_json::Value::Null,
    };
    model.check().unwrap();
    let input = frame().select(model.signature(), None).unwrap();
    assert_eq!(
        model.predict(&input).unwrap(),
        Predictions::Values(vec![12.0, 12.0, 9.0])
    );
}

#[test]
fn select_names_the_missing_feature_and_wrong_types() {
    let signature = Signature {
        task: ModelTask::Regressor,
        inputs: Inputs::Named {
            features: vec![Feature {
                name: "colour".into(),
                kind: FeatureKind::Numeric,
                nullable: true,
            }],
        },
    };
    let err = frame().select(&signature, None).unwrap_err().to_string();
    assert!(
        err.contains("`colour`") && err.contains("expected numbers"),
        "{err}"
    );
    let tensor = Signature {
        task: ModelTask::Regressor,
        inputs: Inputs::Tensor {
            name: "input".into(),
            width: 3,
        },
    };
    let err = frame().select(&tensor, None).unwrap_err().to_string();
    assert!(
        err.contains("takes 3 numeric features, the input has 2"),
        "{err}"
    );
    let ok = frame()
        .select(&tensor, Some(&["x".into(), "unused".into(), "x".into()]))
        .unwrap();
    assert_eq!(ok.to_f32_rows().unwrap().len(), 9);
}
