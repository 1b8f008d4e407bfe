//! The ONNX test models (scikit-learn, XGBoost and LightGBM exports in `testdata/onnx`) scored
//! through ONNX Runtime must give onnxruntime's own outputs, recorded beside each model.

mod support;

use aidlc_data::Column;
use aidlc_models::onnx::proto;
use aidlc_models::{
    Frame, Inputs, ModelError, ModelTask, Predictions, load_model, load_model_bytes,
};
use serde::Deserialize;

const MODELS: [&str; 10] = [
    "logreg_binary",
    "logreg_multiclass",
    "scaler_logreg",
    "scaler_div_logreg",
    "rf_classifier",
    "gb_classifier",
    "hgb_classifier",
    "gb_regressor",
    "xgb_classifier",
    "lgbm_classifier",
];

#[derive(Deserialize)]
struct Expected {
    rows: Vec<Vec<f64>>,
    expected: Outputs,
}

#[derive(Deserialize)]
struct Outputs {
    label: Option<Vec<usize>>,
    probabilities: Option<Vec<Vec<f64>>>,
    variable: Option<Vec<Vec<f64>>>,
}

fn expected(model: &str) -> Expected {
    let path = support::models_dir().join(format!("{model}.expected.json"));
    serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap()
}

/// A table of the rows with columns `f0..f9`, as a user's file would give them.
fn frame(rows: &[Vec<f64>]) -> Frame {
    let width = rows[0].len();
    Frame::new(
        (0..width).map(|j| format!("f{j}")).collect(),
        (0..width)
            .map(|j| Column::Numeric(rows.iter().map(|r| r[j]).collect()))
            .collect(),
    )
    .unwrap()
}

fn check(model: &str, outputs: &Outputs, predictions: &Predictions, rows: std::ops::Range<usize>) {
    match predictions {
        Predictions::Classes {
            classes,
            labels,
            probabilities,
        } => {
            let want_labels = &outputs.label.as_ref().unwrap()[rows.clone()];
            assert_eq!(labels, want_labels, "{model}: labels");
            let want = &outputs.probabilities.as_ref().unwrap()[rows];
            let k = classes.len();
            for (i, row) in want.iter().enumerate() {
                assert_eq!(row.len(), k, "{model}: classes");
                for (c, p) in row.iter().enumerate() {
                    let got = probabilities[i * k + c];
                    assert!(
                        (got - p).abs() <= 1e-5,
                        "{model}: row {i} class {c}: {got} vs {p}"
                    );
                }
            }
        }
        Predictions::Values(values) => {
            let want = &outputs.variable.as_ref().unwrap()[rows];
            assert_eq!(values.len(), want.len());
            for (got, row) in values.iter().zip(want) {
                let v = row[0];
                assert!(
                    (got - v).abs() <= 1e-3 * v.abs().max(1.0),
                    "{model}: {got} vs {v}"
                );
            }
        }
    }
}

#[test]
fn every_test_model_reproduces_onnxruntime_on_batches_of_five_and_of_one() {
    if !support::runtime_ready() {
        return;
    }
    for name in MODELS {
        let model = load_model(&support::models_dir().join(format!("{name}.onnx"))).unwrap();
        let expected = expected(name);
        let signature = model.signature();
        assert_eq!(
            signature.inputs,
            Inputs::Tensor {
                name: "input".into(),
                width: 10
            },
            "{name}"
        );
        let want_task = match &expected.expected {
            Outputs {
                variable: Some(_), ..
            } => ModelTask::Regressor,
            Outputs {
                probabilities: Some(p),
                ..
            } => ModelTask::Classifier {
                classes: (0..p[0].len()).map(|c| c.to_string()).collect(),
            },
            _ => unreachable!("every expectation has outputs"),
        };
        assert_eq!(signature.task, want_task, "{name}");

        let table = frame(&expected.rows);
        let input = table.select(signature, None).unwrap();
        let batch = model.predict(&input).unwrap();
        assert_eq!(batch.n_rows(), 5);
        check(name, &expected.expected, &batch, 0..5);
        for i in 0..5 {
            let one = model.predict(&input.slice(i..i + 1)).unwrap();
            check(name, &expected.expected, &one, i..i + 1);
        }
        let none = model.predict(&input.slice(0..0)).unwrap();
        assert_eq!(none.n_rows(), 0);
    }
}

#[test]
fn concurrent_predictions_share_the_session_pool() {
    if !support::runtime_ready() {
        return;
    }
    let model = load_model(&support::models_dir().join("hgb_classifier.onnx")).unwrap();
    let expected = expected("hgb_classifier");
    let input = frame(&expected.rows)
        .select(model.signature(), None)
        .unwrap();
    let reference = model.predict(&input).unwrap();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                s.spawn(|| {
                    (0..20)
                        .map(|_| model.predict(&input).unwrap())
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for p in h.join().unwrap() {
                assert_eq!(p, reference);
            }
        }
    });
}

#[test]
fn wrong_width_and_text_columns_are_named() {
    if !support::runtime_ready() {
        return;
    }
    let model = load_model(&support::models_dir().join("logreg_binary.onnx")).unwrap();
    let rows = expected("logreg_binary").rows;
    let mut narrow = frame(&rows);
    narrow.names.pop();
    narrow.columns.pop();
    // Through `Frame::select`, as a caller does…
    let err = narrow.select(model.signature(), None).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::WrongCount {
                expected: 10,
                found: 9,
                ..
            }
        ),
        "{err}"
    );
    // …and straight into `predict`, which checks again.
    let err = model.predict(&narrow).unwrap_err();
    assert!(
        matches!(
            err,
            ModelError::WrongCount {
                expected: 10,
                found: 9,
                ..
            }
        ),
        "{err}"
    );

    let mut with_text = frame(&rows);
    with_text.columns[3] = Column::Categorical(vec![Some("a".into()); 5]);
    let err = model.predict(&with_text).unwrap_err();
    match &err {
        ModelError::WrongType { name, found, .. } => {
            assert_eq!((name.as_str(), found.as_str()), ("f3", "text"))
        }
        other => panic!("expected WrongType, got {other}"),
    }
    let names: Vec<String> = (0..10).map(|j| format!("f{j}")).collect();
    let err = with_text
        .select(model.signature(), Some(&names))
        .unwrap_err();
    assert!(err.to_string().contains("`f3`"), "{err}");
}

#[test]
fn the_format_is_told_from_the_bytes() {
    // Needs no runtime: reading the protobuf is aidlc's own code.
    let bytes = std::fs::read(support::models_dir().join("lgbm_classifier.onnx")).unwrap();
    let summary = proto::summarize(&bytes).unwrap();
    assert_eq!(
        summary.class_labels,
        Some(proto::ClassLabels::Ints(vec![0, 1]))
    );
    assert!(
        summary
            .operators
            .contains(&"ai.onnx.ml:TreeEnsembleClassifier".to_string())
    );
    assert!(summary.operators.contains(&":Cast".to_string()));
    assert_eq!(
        aidlc_models::detect_format(&bytes, "m.onnx").unwrap(),
        aidlc_models::ModelFormat::Onnx
    );
    let err = load_model_bytes(b"\x01\x02not a model".to_vec(), "junk.bin")
        .err()
        .expect("junk is refused");
    assert!(
        matches!(err, ModelError::Format { .. }) && err.to_string().starts_with("junk.bin: "),
        "{err}"
    );
    let err = load_model_bytes(br#"{"format": "other"}"#.to_vec(), "m.json")
        .err()
        .expect("a JSON file that is not a model is refused");
    assert!(err.to_string().contains("not an aidlc model"), "{err}");
}
