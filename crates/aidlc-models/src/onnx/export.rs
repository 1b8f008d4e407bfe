//! ONNX export of built-in models: the same computation as the native scorer in `builtin.rs`,
//! written as ONNX operators (ai.onnx 17, ai.onnx.ml 3) so any ONNX tool can score an aidlc
//! model.
//!
//! The exported graph's contract:
//! - **Inputs.** When every feature is numeric, one float input `input` of shape `[N, F]` with
//!   the features in signature order — the same contract as the shared test models, so
//!   tritonclient and other tools can call it; the names travel in the metadata property
//!   `aidlc.features`. When some feature is categorical, one input per feature, named after
//!   it, of shape `[N, 1]`: `float` for numbers (NaN is missing), `string` for categories (a
//!   missing category is the empty string).
//! - **Outputs.** Classifiers give `label` (`int64`, `[N]`: the index of the predicted class)
//!   and `probabilities` (`float`, `[N, k]`, columns in class order); the class names are the
//!   metadata property `aidlc.classes` (a JSON list). Regressors give `variable` (`float`,
//!   `[N, 1]`). The label is an index rather than the class name so the outputs match the
//!   contract of models exported from scikit-learn, whose labels are integers.
//! - **Encodings.** A numeric feature's fill is an `Imputer` (NaN → fill), its centre and scale
//!   plain `Sub` and `Div` (the native `(x - center) / scale`, in `float`); one-hot is a
//!   `OneHotEncoder` that gives all zeros for an unknown category; ordinal is a `LabelEncoder`
//!   from the category to its index, NaN when unknown (an ordinal encoding without categories
//!   is a column of NaN). The parts are concatenated in signature order into the dense vector
//!   the predictor reads. A constant predictor reads no features, so its graph has no
//!   encodings: the inputs only size the batch.
//! - **Predictors.** `LinearClassifier`/`LinearRegressor`, `TreeEnsembleClassifier`/
//!   `TreeEnsembleRegressor` (`BRANCH_LEQ`, a missing value follows `missing_left`), and for a
//!   constant the constant expanded to the batch.
//!
//! Scores are computed in `float` (the native scorer uses `f64`), so probabilities agree to
//! about 1e-6; tree splits agree exactly because the native scorer also compares in `f32`.

use crate::builtin::{BuiltinModel, Encoding, LinearModel, Link, Predictor, TreeEnsemble};
use crate::error::ModelError;
use crate::onnx::proto::{
    AttributeProto, AttributeValue, Dim, GraphProto, ModelProto, NodeProto, TensorData,
    TensorProto, ValueInfoProto, data_type,
};
use crate::signature::{FeatureKind, Inputs, ModelTask};
use std::path::PathBuf;

/// The default ONNX opset the exported graphs use.
pub const OPSET: i64 = 17;
/// The `ai.onnx.ml` opset the exported graphs use.
pub const ML_OPSET: i64 = 3;
/// The IR version that goes with opset 17.
const IR_VERSION: i64 = 8;
/// Metadata property holding the features as a JSON list of `{name, kind, nullable}`.
pub const FEATURES_KEY: &str = "aidlc.features";
/// Metadata property holding the class names as a JSON list, in probability-column order.
pub const CLASSES_KEY: &str = "aidlc.classes";
/// The name of the single input of an all-numeric model.
pub const TENSOR_INPUT: &str = "input";

const ML: &str = "ai.onnx.ml";
const OUTPUT_NAMES: [&str; 3] = ["label", "probabilities", "variable"];

/// Writes a built-in model as an ONNX model (`ModelProto` bytes) computing the same outputs.
/// Fails, naming the reason, for models the contract above cannot express.
pub fn export_onnx(model: &BuiltinModel) -> Result<Vec<u8>, ModelError> {
    model.check().map_err(unsupported)?;
    let Inputs::Named { features } = &model.signature.inputs else {
        return Err(unsupported("a built-in model has named inputs"));
    };
    if features.is_empty() {
        return Err(unsupported(
            "a model without features cannot be exported: ONNX needs an input to size the batch",
        ));
    }
    let mut g = Graph::default();
    let all_numeric = features.iter().all(|f| f.kind == FeatureKind::Numeric);
    // A constant never reads its features (the baselines keep them only so they take the same
    // tables as the models they are compared with): its graph declares the inputs, no encodings.
    let constant = matches!(model.predictor, Predictor::Constant { .. });
    let dense = if all_numeric {
        g.inputs.push(ValueInfoProto {
            name: TENSOR_INPUT.into(),
            elem_type: data_type::FLOAT,
            dims: vec![Dim::Param("N".into()), Dim::Value(features.len() as i64)],
        });
        if constant {
            String::new()
        } else {
            g.numeric_block(TENSOR_INPUT, &model.encodings)?
        }
    } else {
        let mut parts = Vec::new();
        for (feature, encoding) in features.iter().zip(&model.encodings) {
            if OUTPUT_NAMES.contains(&feature.name.as_str()) || feature.name.starts_with("aidlc/") {
                return Err(unsupported(format!(
                    "feature `{}` has the name of an output or an internal value of the exported graph",
                    feature.name
                )));
            }
            let elem_type = match feature.kind {
                FeatureKind::Numeric => data_type::FLOAT,
                FeatureKind::Categorical => data_type::STRING,
            };
            g.inputs.push(ValueInfoProto {
                name: feature.name.clone(),
                elem_type,
                dims: vec![Dim::Param("N".into()), Dim::Value(1)],
            });
            if constant {
                continue;
            }
            if let Some(part) = g.encode_feature(&feature.name, feature.kind, encoding)? {
                parts.push(part);
            }
        }
        if constant {
            String::new()
        } else if parts.is_empty() {
            return Err(unsupported("the encodings produce no numbers"));
        } else {
            g.node("Concat", "", &parts, vec![int("axis", 1)])
        }
    };
    let first_input = g.inputs[0].name.clone();
    match (&model.signature.task, &model.predictor) {
        (ModelTask::Classifier { classes }, Predictor::Constant { scores }) => {
            g.constant_classes(&first_input, scores, classes.len())
        }
        (ModelTask::Regressor, Predictor::Constant { scores }) => {
            g.constant_value(&first_input, scores[0])
        }
        (ModelTask::Classifier { classes }, Predictor::Linear(m)) => {
            g.linear_classifier(&dense, m, classes.len())?
        }
        (ModelTask::Regressor, Predictor::Linear(m)) => g.linear_regressor(&dense, m),
        (ModelTask::Classifier { classes }, Predictor::Trees(e)) => {
            g.tree_classifier(&dense, e, classes.len())?
        }
        (ModelTask::Regressor, Predictor::Trees(e)) => g.tree_regressor(&dense, e),
    }
    g.declare_outputs(&model.signature.task);

    let features_json = serde_json::Value::Array(
        features
            .iter()
            .map(|f| {
                serde_json::json!({"name": f.name, "kind": f.kind.as_str(), "nullable": f.nullable})
            })
            .collect(),
    );
    let mut metadata_props = vec![
        (
            "aidlc.format".to_string(),
            crate::builtin::FORMAT.to_string(),
        ),
        (FEATURES_KEY.to_string(), features_json.to_string()),
    ];
    if let ModelTask::Classifier { classes } = &model.signature.task {
        metadata_props.push((
            CLASSES_KEY.to_string(),
            serde_json::json!(classes).to_string(),
        ));
    }
    let proto = ModelProto {
        ir_version: IR_VERSION,
        opset_import: vec![(String::new(), OPSET), (ML.to_string(), ML_OPSET)],
        producer_name: "aidlc".into(),
        producer_version: env!("CARGO_PKG_VERSION").into(),
        graph: GraphProto {
            name: "aidlc_model".into(),
            nodes: g.nodes,
            initializers: g.initializers,
            inputs: g.inputs,
            outputs: g.outputs,
        },
        metadata_props,
    };
    Ok(proto.encode())
}

fn unsupported(reason: impl Into<String>) -> ModelError {
    ModelError::Format {
        path: PathBuf::from("ONNX export"),
        reason: reason.into(),
    }
}

fn int(name: &str, v: i64) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        value: AttributeValue::Int(v),
    }
}

fn ints(name: &str, v: Vec<i64>) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        value: AttributeValue::Ints(v),
    }
}

fn floats(name: &str, v: Vec<f32>) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        value: AttributeValue::Floats(v),
    }
}

fn float(name: &str, v: f32) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        value: AttributeValue::Float(v),
    }
}

fn string(name: &str, v: &str) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        value: AttributeValue::String(v.as_bytes().to_vec()),
    }
}

fn strings<S: AsRef<str>>(name: &str, v: &[S]) -> AttributeProto {
    AttributeProto {
        name: name.into(),
        value: AttributeValue::Strings(v.iter().map(|s| s.as_ref().as_bytes().to_vec()).collect()),
    }
}

/// `post_transform` for a classifier's link; the binary case is handled by the callers.
fn post_transform(link: Link, n_classes: usize) -> Result<&'static str, ModelError> {
    match (link, n_classes) {
        (Link::Logistic, 2) => Ok("LOGISTIC"),
        (Link::Softmax, k) if k > 2 => Ok("SOFTMAX"),
        (Link::Identity, k) if k > 2 => Ok("NONE"),
        (link, k) => Err(unsupported(format!(
            "a classifier with {k} classes and a {link:?} link has no ONNX form (binary takes Logistic, multiclass Softmax or Identity)"
        ))),
    }
}

/// A graph under construction; internal values are named `aidlc/…` so they never meet a
/// feature's name.
#[derive(Default)]
struct Graph {
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    inputs: Vec<ValueInfoProto>,
    outputs: Vec<ValueInfoProto>,
    counter: usize,
}

impl Graph {
    fn fresh(&mut self, what: &str) -> String {
        self.counter += 1;
        format!("aidlc/{what}{}", self.counter)
    }

    /// Adds a node with one output and returns the output's name.
    fn node(
        &mut self,
        op_type: &str,
        domain: &str,
        inputs: &[String],
        attributes: Vec<AttributeProto>,
    ) -> String {
        let output = self.fresh(&op_type.to_ascii_lowercase());
        self.node_to(
            op_type,
            domain,
            inputs,
            std::slice::from_ref(&output),
            attributes,
        );
        output
    }

    fn node_to(
        &mut self,
        op_type: &str,
        domain: &str,
        inputs: &[String],
        outputs: &[String],
        attributes: Vec<AttributeProto>,
    ) {
        let name = format!("aidlc/node{}", self.nodes.len());
        self.nodes.push(NodeProto {
            inputs: inputs.to_vec(),
            outputs: outputs.to_vec(),
            name,
            op_type: op_type.into(),
            domain: domain.into(),
            attributes,
        });
    }

    fn initializer(&mut self, dims: Vec<i64>, data: TensorData) -> String {
        let name = self.fresh("const");
        self.initializers.push(TensorProto {
            name: name.clone(),
            dims,
            data,
        });
        name
    }

    /// Fill, centre and scale on a float tensor whose columns are `encodings` (all numeric).
    fn numeric_block(&mut self, input: &str, encodings: &[Encoding]) -> Result<String, ModelError> {
        let mut fills = Vec::with_capacity(encodings.len());
        let mut centers = Vec::with_capacity(encodings.len());
        let mut scales = Vec::with_capacity(encodings.len());
        for e in encodings {
            let Encoding::Numeric {
                fill,
                center,
                scale,
            } = e
            else {
                return Err(unsupported("a numeric feature has a categorical encoding"));
            };
            fills.push(fill.map_or(f32::NAN, |f| f as f32));
            centers.push(*center as f32);
            scales.push(*scale as f32);
        }
        let width = encodings.len() as i64;
        let mut x = input.to_string();
        if fills.iter().any(|f| !f.is_nan()) {
            x = self.node(
                "Imputer",
                ML,
                &[x],
                vec![
                    floats("imputed_value_floats", fills),
                    float("replaced_value_float", f32::NAN),
                ],
            );
        }
        if centers.iter().any(|&c| c != 0.0) {
            let c = self.initializer(vec![width], TensorData::Float(centers));
            x = self.node("Sub", "", &[x, c], vec![]);
        }
        if scales.iter().any(|&s| s != 1.0) {
            let s = self.initializer(vec![width], TensorData::Float(scales));
            x = self.node("Div", "", &[x, s], vec![]);
        }
        Ok(x)
    }

    /// The dense columns of one feature fed as its own `[N, 1]` input; `None` when the
    /// encoding adds no columns.
    fn encode_feature(
        &mut self,
        name: &str,
        kind: FeatureKind,
        encoding: &Encoding,
    ) -> Result<Option<String>, ModelError> {
        let mismatch = || {
            unsupported(format!(
                "feature `{name}` is {} but its encoding is not",
                kind.as_str()
            ))
        };
        match encoding {
            Encoding::Numeric { .. } => {
                if kind != FeatureKind::Numeric {
                    return Err(mismatch());
                }
                self.numeric_block(name, std::slice::from_ref(encoding))
                    .map(Some)
            }
            Encoding::OneHot { categories } => {
                if kind != FeatureKind::Categorical {
                    return Err(mismatch());
                }
                check_distinct(name, categories)?;
                if categories.is_empty() {
                    return Ok(None);
                }
                // OneHotEncoder appends a dimension: [N, 1] → [N, 1, C]; squeeze it to [N, C].
                let encoded = self.node(
                    "OneHotEncoder",
                    ML,
                    &[name.to_string()],
                    vec![strings("cats_strings", categories), int("zeros", 1)],
                );
                let axes = self.initializer(vec![1], TensorData::Int64(vec![1]));
                Ok(Some(self.node("Squeeze", "", &[encoded, axes], vec![])))
            }
            Encoding::Ordinal { categories } => {
                if kind != FeatureKind::Categorical {
                    return Err(mismatch());
                }
                check_distinct(name, categories)?;
                if categories.is_empty() {
                    // Every value is unknown: a column of NaN shaped like the input, [N, 1].
                    let shape = self.node("Shape", "", &[name.to_string()], vec![]);
                    let nan = AttributeProto {
                        name: "value".into(),
                        value: AttributeValue::Tensor(TensorProto {
                            name: String::new(),
                            dims: vec![1],
                            data: TensorData::Float(vec![f32::NAN]),
                        }),
                    };
                    return Ok(Some(self.node("ConstantOfShape", "", &[shape], vec![nan])));
                }
                let values = (0..categories.len()).map(|k| k as f32).collect();
                Ok(Some(self.node(
                    "LabelEncoder",
                    ML,
                    &[name.to_string()],
                    vec![
                        strings("keys_strings", categories),
                        floats("values_floats", values),
                        float("default_float", f32::NAN),
                    ],
                )))
            }
        }
    }

    fn linear_classifier(
        &mut self,
        dense: &str,
        m: &LinearModel,
        n_classes: usize,
    ) -> Result<(), ModelError> {
        let post = post_transform(m.link, n_classes)?;
        let (coefficients, intercepts): (Vec<f32>, Vec<f32>) = if n_classes == 2 {
            // One logistic score s written as two, (-s, s): the logistic of each is then
            // (1 - p, p), the layout scikit-learn's exports use.
            let w = &m.weights[0];
            (
                w.iter()
                    .map(|v| -v as f32)
                    .chain(w.iter().map(|&v| v as f32))
                    .collect(),
                vec![-m.bias[0] as f32, m.bias[0] as f32],
            )
        } else {
            (
                m.weights.iter().flatten().map(|&v| v as f32).collect(),
                m.bias.iter().map(|&v| v as f32).collect(),
            )
        };
        self.node_to(
            "LinearClassifier",
            ML,
            &[dense.to_string()],
            &["label".into(), "probabilities".into()],
            vec![
                ints("classlabels_ints", (0..n_classes as i64).collect()),
                floats("coefficients", coefficients),
                floats("intercepts", intercepts),
                int("multi_class", 0),
                string("post_transform", post),
            ],
        );
        Ok(())
    }

    fn linear_regressor(&mut self, dense: &str, m: &LinearModel) {
        // A regressor's score is its value: the native scorer applies no link to it.
        self.node_to(
            "LinearRegressor",
            ML,
            &[dense.to_string()],
            &["variable".into()],
            vec![
                floats(
                    "coefficients",
                    m.weights[0].iter().map(|&v| v as f32).collect(),
                ),
                floats("intercepts", vec![m.bias[0] as f32]),
                int("targets", 1),
                string("post_transform", "NONE"),
            ],
        );
    }

    fn tree_classifier(
        &mut self,
        dense: &str,
        e: &TreeEnsemble,
        n_classes: usize,
    ) -> Result<(), ModelError> {
        let post = post_transform(e.link, n_classes)?;
        let nodes = TreeNodes::of(e);
        let mut attributes = nodes.split_attributes();
        attributes.extend([
            ints("class_treeids", nodes.leaf_tree),
            ints("class_nodeids", nodes.leaf_node),
            ints("class_ids", nodes.leaf_output),
            floats("class_weights", nodes.leaf_value),
            // A binary ensemble has one score, for class 1, with one base value; ONNX Runtime
            // then reports (1 - p, p) under LOGISTIC, as for scikit-learn's boosting exports.
            floats(
                "base_values",
                e.base_scores.iter().map(|&v| v as f32).collect(),
            ),
            ints("classlabels_int64s", (0..n_classes as i64).collect()),
            string("post_transform", post),
        ]);
        self.node_to(
            "TreeEnsembleClassifier",
            ML,
            &[dense.to_string()],
            &["label".into(), "probabilities".into()],
            attributes,
        );
        Ok(())
    }

    fn tree_regressor(&mut self, dense: &str, e: &TreeEnsemble) {
        let nodes = TreeNodes::of(e);
        let mut attributes = nodes.split_attributes();
        attributes.extend([
            ints("target_treeids", nodes.leaf_tree),
            ints("target_nodeids", nodes.leaf_node),
            ints("target_ids", nodes.leaf_output),
            floats("target_weights", nodes.leaf_value),
            floats("base_values", vec![e.base_scores[0] as f32]),
            int("n_targets", 1),
            string("aggregate_function", "SUM"),
            string("post_transform", "NONE"),
        ]);
        self.node_to(
            "TreeEnsembleRegressor",
            ML,
            &[dense.to_string()],
            &["variable".into()],
            attributes,
        );
    }

    /// `[N, …tail]` as a shape tensor, N read from `input`'s first dimension.
    fn batch_shape(&mut self, input: &str, tail: &[i64]) -> String {
        let n = self.node(
            "Shape",
            "",
            &[input.to_string()],
            vec![int("start", 0), int("end", 1)],
        );
        if tail.is_empty() {
            return n;
        }
        let tail = self.initializer(vec![tail.len() as i64], TensorData::Int64(tail.to_vec()));
        self.node("Concat", "", &[n, tail], vec![int("axis", 0)])
    }

    fn constant_classes(&mut self, input: &str, scores: &[f64], n_classes: usize) {
        // The first class wins ties, as in the native scorer.
        let best = (0..n_classes).fold(0, |b, c| if scores[c] > scores[b] { c } else { b });
        let probabilities = self.initializer(
            vec![1, n_classes as i64],
            TensorData::Float(scores.iter().map(|&v| v as f32).collect()),
        );
        let label = self.initializer(vec![1], TensorData::Int64(vec![best as i64]));
        let rows = self.batch_shape(input, &[n_classes as i64]);
        self.node_to(
            "Expand",
            "",
            &[probabilities, rows],
            &["probabilities".into()],
            vec![],
        );
        let n = self.batch_shape(input, &[]);
        self.node_to("Expand", "", &[label, n], &["label".into()], vec![]);
    }

    fn constant_value(&mut self, input: &str, value: f64) {
        let value = self.initializer(vec![1, 1], TensorData::Float(vec![value as f32]));
        let shape = self.batch_shape(input, &[1]);
        self.node_to("Expand", "", &[value, shape], &["variable".into()], vec![]);
    }

    fn declare_outputs(&mut self, task: &ModelTask) {
        let n = || Dim::Param("N".into());
        match task {
            ModelTask::Classifier { classes } => {
                self.outputs.push(ValueInfoProto {
                    name: "label".into(),
                    elem_type: data_type::INT64,
                    dims: vec![n()],
                });
                self.outputs.push(ValueInfoProto {
                    name: "probabilities".into(),
                    elem_type: data_type::FLOAT,
                    dims: vec![n(), Dim::Value(classes.len() as i64)],
                });
            }
            ModelTask::Regressor => self.outputs.push(ValueInfoProto {
                name: "variable".into(),
                elem_type: data_type::FLOAT,
                dims: vec![n(), Dim::Value(1)],
            }),
        }
    }
}

/// Categories must be distinct: the native scorer takes the first match, ONNX's encoders
/// would reject or overwrite a repeat.
fn check_distinct(name: &str, categories: &[String]) -> Result<(), ModelError> {
    let mut seen = std::collections::HashSet::new();
    match categories.iter().find(|c| !seen.insert(c.as_str())) {
        Some(c) => Err(unsupported(format!(
            "feature `{name}`: category `{c}` is listed twice"
        ))),
        None => Ok(()),
    }
}

/// A tree ensemble flattened into the parallel attribute lists of ONNX's tree operators.
#[derive(Default)]
struct TreeNodes {
    tree: Vec<i64>,
    node: Vec<i64>,
    feature: Vec<i64>,
    mode: Vec<&'static str>,
    threshold: Vec<f32>,
    true_node: Vec<i64>,
    false_node: Vec<i64>,
    missing_true: Vec<i64>,
    leaf_tree: Vec<i64>,
    leaf_node: Vec<i64>,
    leaf_output: Vec<i64>,
    leaf_value: Vec<f32>,
}

impl TreeNodes {
    fn of(e: &TreeEnsemble) -> TreeNodes {
        let mut out = TreeNodes::default();
        for (t, tree) in e.trees.iter().enumerate() {
            for i in 0..tree.feature.len() {
                out.tree.push(t as i64);
                out.node.push(i as i64);
                if tree.left[i] == 0 {
                    out.feature.push(0);
                    out.mode.push("LEAF");
                    out.threshold.push(0.0);
                    out.true_node.push(0);
                    out.false_node.push(0);
                    out.missing_true.push(0);
                    out.leaf_tree.push(t as i64);
                    out.leaf_node.push(i as i64);
                    out.leaf_output.push(tree.output as i64);
                    out.leaf_value.push(tree.value[i] as f32);
                } else {
                    // `x <= threshold` is the true branch, which the native scorer calls left.
                    out.feature.push(i64::from(tree.feature[i]));
                    out.mode.push("BRANCH_LEQ");
                    out.threshold.push(tree.threshold[i]);
                    out.true_node.push(i64::from(tree.left[i]));
                    out.false_node.push(i64::from(tree.right[i]));
                    out.missing_true.push(i64::from(tree.missing_left[i]));
                }
            }
        }
        if e.trees.is_empty() {
            // ONNX's tree operators need at least one node: a single leaf adding zero.
            out.tree.push(0);
            out.node.push(0);
            out.feature.push(0);
            out.mode.push("LEAF");
            out.threshold.push(0.0);
            out.true_node.push(0);
            out.false_node.push(0);
            out.missing_true.push(0);
            out.leaf_tree.push(0);
            out.leaf_node.push(0);
            out.leaf_output.push(0);
            out.leaf_value.push(0.0);
        }
        out
    }

    fn split_attributes(&self) -> Vec<AttributeProto> {
        vec![
            ints("nodes_treeids", self.tree.clone()),
            ints("nodes_nodeids", self.node.clone()),
            ints("nodes_featureids", self.feature.clone()),
            strings("nodes_modes", &self.mode),
            floats("nodes_values", self.threshold.clone()),
            ints("nodes_truenodeids", self.true_node.clone()),
            ints("nodes_falsenodeids", self.false_node.clone()),
            ints("nodes_missing_value_tracks_true", self.missing_true.clone()),
        ]
    }
}
