//! ONNX models scored by ONNX Runtime (through `ort`, library loaded at run time).
//!
//! [`init_runtime`] loads the library once per process; until it succeeds, loading an ONNX model
//! answers [`ModelError::RuntimeUnavailable`] and never touches `ort`, whose own fallback would
//! read `ORT_DYLIB_PATH` and panic when the library is missing.
//!
//! What a model takes is read from its session: one float (or double) input `[N, F]` is a
//! tensor input; one input per column (`[N, 1]` or `[N]`, of float, double, int64 or string) is a
//! named input per feature. The metadata property `aidlc.features` (a JSON list of `{name,
//! kind, nullable}`), written by aidlc's export, names the columns of a tensor input. What a
//! model gives: `label` (int64 or string) with `probabilities` (`[N, k]`) is a classifier,
//! `variable` (or a single float output of width 1) a regressor. Class names come from
//! `aidlc.classes`, else from the classifier node's `classlabels_*` attribute, else `0..k-1`.
//!
//! Sessions need `&mut` to run, so each model keeps a small pool: a `predict` takes an idle
//! session or creates one (up to a limit, then waits), which lets concurrent requests score in
//! parallel. Every session runs single-threaded (`intra_op_num_threads = 1`): a server gets its
//! parallelism from concurrent requests, not from splitting one small batch.

use crate::error::ModelError;
use crate::frame::Frame;
use crate::onnx::export::{CLASSES_KEY, FEATURES_KEY};
use crate::onnx::proto::{self, ClassLabels, ModelSummary};
use crate::signature::{Feature, FeatureKind, Inputs, ModelTask, Signature};
use crate::{Model, Predictions};
use aidlc_data::Column;
use ort::environment::Environment;
use ort::session::{Session, SessionInputValue, SessionOutputs};
use ort::value::{DynValue, Tensor, TensorElementType, ValueType};
use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};

/// The process's ONNX Runtime environment, set once by [`init_runtime`].
static ENVIRONMENT: OnceLock<Environment> = OnceLock::new();
/// Serialises [`init_runtime`] so two callers never load the library at once.
static INIT: Mutex<()> = Mutex::new(());

/// Loads ONNX Runtime from `library` (the path of `libonnxruntime.so`, e.g. the one inside the
/// `onnxruntime` wheel), or by the system loader's search for the platform's library name when
/// `None`. Call it once at start-up, before any ONNX model is loaded; later calls return `Ok`
/// without loading again. A library that cannot be loaded, or is older than ONNX Runtime 1.31,
/// gives [`ModelError::RuntimeUnavailable`] (and the call may be retried with another path).
pub fn init_runtime(library: Option<&Path>) -> Result<(), ModelError> {
    let _guard = INIT.lock().unwrap_or_else(PoisonError::into_inner);
    if ENVIRONMENT.get().is_some() {
        return Ok(());
    }
    let path = library.map_or_else(
        || {
            PathBuf::from(format!(
                "{}onnxruntime{}",
                std::env::consts::DLL_PREFIX,
                std::env::consts::DLL_SUFFIX
            ))
        },
        Path::to_path_buf,
    );
    let unavailable = |reason: String| ModelError::RuntimeUnavailable { reason };
    let builder = ort::init_from(&path).map_err(|e| unavailable(e.to_string()))?;
    let environment = builder
        .with_name("aidlc")
        .build()
        .map_err(|e| unavailable(format!("{}: {e}", path.display())))?;
    // Only this function sets the environment, under the lock, after checking it was unset.
    let _ = ENVIRONMENT.set(environment);
    Ok(())
}

/// Whether [`init_runtime`] has succeeded in this process.
pub fn runtime_available() -> bool {
    ENVIRONMENT.get().is_some()
}

fn environment() -> Result<&'static Environment, ModelError> {
    ENVIRONMENT
        .get()
        .ok_or_else(|| ModelError::RuntimeUnavailable {
            reason: "ONNX Runtime was not loaded (init_runtime was not called or failed)".into(),
        })
}

/// Settings of an [`OnnxModel`]'s sessions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OnnxOptions {
    /// The most sessions kept for concurrent `predict` calls; more callers wait for one.
    pub max_sessions: usize,
    /// ONNX Runtime's `intra_op_num_threads` for each session.
    pub intra_op_threads: usize,
}

impl Default for OnnxOptions {
    /// One session per core, each single-threaded.
    fn default() -> Self {
        OnnxOptions {
            max_sessions: std::thread::available_parallelism().map_or(1, |n| n.get()),
            intra_op_threads: 1,
        }
    }
}

/// The element types aidlc feeds to a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Element {
    Float,
    Double,
    Int64,
    Text,
}

impl Element {
    fn of(ty: TensorElementType) -> Option<Element> {
        match ty {
            TensorElementType::Float32 => Some(Element::Float),
            TensorElementType::Float64 => Some(Element::Double),
            TensorElementType::Int64 => Some(Element::Int64),
            TensorElementType::String => Some(Element::Text),
            _ => None,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Element::Float => "float",
            Element::Double => "double",
            Element::Int64 => "int64",
            Element::Text => "string",
        }
    }
}

/// How a frame becomes the session's inputs.
#[derive(Debug, Clone)]
enum Feed {
    /// One `[N, width]` tensor of the frame's columns in order.
    Tensor { name: String, element: Element },
    /// One tensor per feature, in the signature's order; `rank` is 1 (`[N]`) or 2 (`[N, 1]`).
    Columns(Vec<ColumnFeed>),
}

#[derive(Debug, Clone)]
struct ColumnFeed {
    name: String,
    element: Element,
    rank: usize,
}

/// Which outputs hold the answer.
#[derive(Debug, Clone)]
enum Answer {
    Classes {
        label: String,
        probabilities: String,
        /// The label values in probability-column order, when the model declares them;
        /// otherwise a label is the class index.
        label_values: Option<ClassLabels>,
    },
    Values {
        name: String,
    },
}

/// Sessions of one model, created on demand up to a limit.
struct SessionPool {
    bytes: Vec<u8>,
    options: OnnxOptions,
    state: Mutex<PoolState>,
    returned: Condvar,
}

struct PoolState {
    idle: Vec<Session>,
    created: usize,
}

impl SessionPool {
    fn lock(&self) -> MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn new_session(bytes: &[u8], options: OnnxOptions) -> Result<Session, ModelError> {
        let failed = |e: ort::Error<_>| ModelError::Runtime(format!("creating a session: {e}"));
        Session::builder(environment()?)
            .map_err(|e| ModelError::Runtime(format!("creating a session: {e}")))?
            .with_intra_threads(options.intra_op_threads)
            .map_err(failed)?
            .with_inter_threads(1)
            .map_err(failed)?
            .commit_from_memory(bytes)
            .map_err(|e| ModelError::Runtime(format!("loading the model: {e}")))
    }

    /// Runs `f` on an idle session, creating one if none is idle and the limit allows, else
    /// waiting for one to come back.
    fn with_session<R>(
        &self,
        f: impl FnOnce(&mut Session) -> Result<R, ModelError>,
    ) -> Result<R, ModelError> {
        let mut session = {
            let mut state = self.lock();
            loop {
                if let Some(session) = state.idle.pop() {
                    break session;
                }
                if state.created < self.options.max_sessions.max(1) {
                    state.created += 1;
                    drop(state);
                    match Self::new_session(&self.bytes, self.options) {
                        Ok(session) => break session,
                        Err(e) => {
                            self.lock().created -= 1;
                            self.returned.notify_one();
                            return Err(e);
                        }
                    }
                }
                state = self
                    .returned
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        };
        let result = f(&mut session);
        self.lock().idle.push(session);
        self.returned.notify_one();
        result
    }
}

/// An ONNX model scored by ONNX Runtime.
pub struct OnnxModel {
    /// Names the model in errors (its file name, or what the caller passed).
    name: String,
    signature: Signature,
    feed: Feed,
    answer: Answer,
    pool: SessionPool,
}

impl std::fmt::Debug for OnnxModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxModel")
            .field("name", &self.name)
            .field("signature", &self.signature)
            .finish_non_exhaustive()
    }
}

impl OnnxModel {
    /// Reads and loads an ONNX file.
    pub fn load(path: &Path) -> Result<OnnxModel, ModelError> {
        let bytes = std::fs::read(path).map_err(|source| ModelError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_bytes(bytes, &path.display().to_string())
    }

    /// Loads ONNX bytes with the default [`OnnxOptions`]; `name` names the model in errors.
    pub fn from_bytes(bytes: Vec<u8>, name: &str) -> Result<OnnxModel, ModelError> {
        Self::from_bytes_with(bytes, name, OnnxOptions::default())
    }

    /// Loads ONNX bytes: checks ONNX Runtime is loaded, creates the first session and reads the
    /// signature from it. Fails with [`ModelError::Format`] when the inputs or outputs do not
    /// follow a layout aidlc can feed and read.
    pub fn from_bytes_with(
        bytes: Vec<u8>,
        name: &str,
        options: OnnxOptions,
    ) -> Result<OnnxModel, ModelError> {
        let format = |reason: String| ModelError::Format {
            path: PathBuf::from(name),
            reason,
        };
        environment()?;
        let summary =
            proto::summarize(&bytes).map_err(|e| format(format!("not an ONNX model: {e}")))?;
        let session = SessionPool::new_session(&bytes, options).map_err(|e| match e {
            ModelError::Runtime(reason) => format(reason),
            other => other,
        })?;
        let (feed, inputs) = read_inputs(&session, &summary).map_err(format)?;
        let (answer, task) = read_outputs(&session, &summary).map_err(format)?;
        Ok(OnnxModel {
            name: name.to_string(),
            signature: Signature { task, inputs },
            feed,
            answer,
            pool: SessionPool {
                bytes,
                options,
                state: Mutex::new(PoolState {
                    idle: vec![session],
                    created: 1,
                }),
                returned: Condvar::new(),
            },
        })
    }

    /// The model's name as given at load.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The input tensors for a frame, checked against the signature.
    fn tensors(
        &self,
        frame: &Frame,
    ) -> Result<Vec<(Cow<'static, str>, SessionInputValue<'static>)>, ModelError> {
        let n = frame.n_rows;
        match (&self.feed, &self.signature.inputs) {
            (Feed::Tensor { name, element }, Inputs::Tensor { width, .. }) => {
                if frame.columns.len() != *width {
                    return Err(ModelError::WrongCount {
                        expected: *width,
                        found: frame.columns.len(),
                        hint: format!(" ({})", frame.names.join(", ")),
                    });
                }
                let columns: Vec<(&str, &Column)> = frame
                    .names
                    .iter()
                    .map(String::as_str)
                    .zip(&frame.columns)
                    .collect();
                let value = dense_tensor(&columns, *element, n)?;
                Ok(vec![(Cow::Owned(name.clone()), value)])
            }
            (Feed::Tensor { name, element }, Inputs::Named { features }) => {
                let columns = features
                    .iter()
                    .map(|f| find_column(frame, features, f).map(|c| (f.name.as_str(), c)))
                    .collect::<Result<Vec<_>, _>>()?;
                let value = dense_tensor(&columns, *element, n)?;
                Ok(vec![(Cow::Owned(name.clone()), value)])
            }
            (Feed::Columns(feeds), Inputs::Named { features }) => {
                // Every column is found before any is converted, so a missing or mistyped
                // feature is reported ahead of a bad value in another.
                let columns = features
                    .iter()
                    .map(|f| find_column(frame, features, f))
                    .collect::<Result<Vec<_>, _>>()?;
                feeds
                    .iter()
                    .zip(features)
                    .zip(columns)
                    .map(|((feed, feature), column)| {
                        let value = column_tensor(feed, feature, column, n)?;
                        Ok((Cow::Owned(feed.name.clone()), value))
                    })
                    .collect()
            }
            (Feed::Columns(_), Inputs::Tensor { .. }) => {
                unreachable!("a per-column feed always has named inputs")
            }
        }
    }

    fn answer(&self, outputs: &SessionOutputs<'_>, n: usize) -> Result<Predictions, ModelError> {
        let runtime = |what: String| ModelError::Runtime(format!("{}: {what}", self.name));
        match &self.answer {
            Answer::Values { name } => {
                let values = float_output(outputs, name).map_err(runtime)?;
                if values.len() != n {
                    return Err(runtime(format!(
                        "output `{name}` has {} values for {n} rows",
                        values.len()
                    )));
                }
                Ok(Predictions::Values(values))
            }
            Answer::Classes {
                label,
                probabilities,
                label_values,
            } => {
                let classes = self.signature.classes().to_vec();
                let k = classes.len();
                let probabilities_out = float_output(outputs, probabilities).map_err(runtime)?;
                if probabilities_out.len() != n * k {
                    return Err(runtime(format!(
                        "output `{probabilities}` has {} values for {n} rows of {k} classes",
                        probabilities_out.len()
                    )));
                }
                let labels =
                    label_indices(outputs, label, label_values.as_ref(), k).map_err(runtime)?;
                if labels.len() != n {
                    return Err(runtime(format!(
                        "output `{label}` has {} labels for {n} rows",
                        labels.len()
                    )));
                }
                Ok(Predictions::Classes {
                    classes,
                    labels,
                    probabilities: probabilities_out,
                })
            }
        }
    }
}

impl Model for OnnxModel {
    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn predict(&self, features: &Frame) -> Result<Predictions, ModelError> {
        let inputs = self.tensors(features)?;
        if features.n_rows == 0 {
            // Nothing to score; some operators reject empty batches.
            return Ok(match &self.signature.task {
                ModelTask::Classifier { classes } => Predictions::Classes {
                    classes: classes.clone(),
                    labels: Vec::new(),
                    probabilities: Vec::new(),
                },
                ModelTask::Regressor => Predictions::Values(Vec::new()),
            });
        }
        self.pool.with_session(|session| {
            let outputs = session
                .run(inputs)
                .map_err(|e| ModelError::Runtime(format!("{}: {e}", self.name)))?;
            self.answer(&outputs, features.n_rows)
        })
    }
}

/// The column for `feature`, by name, of the kind the feature takes.
fn find_column<'f>(
    frame: &'f Frame,
    features: &[Feature],
    feature: &Feature,
) -> Result<&'f Column, ModelError> {
    let column = frame
        .column(&feature.name)
        .ok_or_else(|| ModelError::MissingFeature {
            name: feature.name.clone(),
            expected: features
                .iter()
                .map(|f| f.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    match (feature.kind, column) {
        (FeatureKind::Numeric, Column::Numeric(_))
        | (FeatureKind::Categorical, Column::Categorical(_)) => Ok(column),
        (kind, column) => Err(ModelError::WrongType {
            name: feature.name.clone(),
            expected: match kind {
                FeatureKind::Numeric => "numbers".into(),
                FeatureKind::Categorical => "text".into(),
            },
            found: match column {
                Column::Numeric(_) => "numbers".into(),
                Column::Categorical(_) => "text".into(),
            },
        }),
    }
}

/// Numeric columns as one row-major `[n, columns]` tensor.
fn dense_tensor(
    columns: &[(&str, &Column)],
    element: Element,
    n: usize,
) -> Result<SessionInputValue<'static>, ModelError> {
    let shape = [n, columns.len()];
    let value = match element {
        Element::Float => tensor(shape, row_major(columns, n, |x| x as f32)?)?,
        _ => tensor(shape, row_major(columns, n, |x| x)?)?,
    };
    Ok(SessionInputValue::from(value))
}

/// Interleaves numeric columns into rows, converting each value.
fn row_major<T: Copy + Default>(
    columns: &[(&str, &Column)],
    n: usize,
    convert: impl Fn(f64) -> T,
) -> Result<Vec<T>, ModelError> {
    let width = columns.len();
    let mut rows = vec![T::default(); n * width];
    for (j, (name, column)) in columns.iter().enumerate() {
        let Column::Numeric(values) = column else {
            return Err(ModelError::WrongType {
                name: name.to_string(),
                expected: "numbers".into(),
                found: "text".into(),
            });
        };
        for (i, &v) in values.iter().take(n).enumerate() {
            rows[i * width + j] = convert(v);
        }
    }
    Ok(rows)
}

/// One column as the `[n, 1]` (or `[n]`) tensor of `feed`'s element type.
fn column_tensor(
    feed: &ColumnFeed,
    feature: &Feature,
    column: &Column,
    n: usize,
) -> Result<SessionInputValue<'static>, ModelError> {
    let shape: Vec<usize> = if feed.rank == 1 { vec![n] } else { vec![n, 1] };
    let value: DynValue = match (feed.element, column) {
        (Element::Float, Column::Numeric(v)) => {
            tensor(shape, v.iter().map(|&x| x as f32).collect())?
        }
        (Element::Double, Column::Numeric(v)) => tensor(shape, v.clone())?,
        (Element::Int64, Column::Numeric(v)) => {
            let mut out = Vec::with_capacity(n);
            for (row, &x) in v.iter().enumerate() {
                if x.fract() != 0.0 || !x.is_finite() || x.abs() > 9.007_199_254_740_992e15 {
                    return Err(ModelError::BadValue {
                        name: feature.name.clone(),
                        row,
                        reason: format!("{x} is not a whole number, and the model takes int64"),
                    });
                }
                out.push(x as i64);
            }
            tensor(shape, out)?
        }
        (Element::Text, Column::Categorical(v)) => {
            // A missing category goes in as the empty string, which no category should be.
            let texts: Vec<String> = v.iter().map(|s| s.clone().unwrap_or_default()).collect();
            Tensor::from_string_array((shape, texts.as_slice()))
                .map_err(|e| ModelError::Runtime(format!("feature `{}`: {e}", feature.name)))?
                .into_dyn()
        }
        (element, column) => {
            return Err(ModelError::WrongType {
                name: feature.name.clone(),
                expected: element.name().into(),
                found: match column {
                    Column::Numeric(_) => "numbers".into(),
                    Column::Categorical(_) => "text".into(),
                },
            });
        }
    };
    Ok(SessionInputValue::from(value))
}

fn tensor<T>(shape: impl ort::value::ToShape, data: Vec<T>) -> Result<DynValue, ModelError>
where
    T: ort::value::PrimitiveTensorElementType + Clone + std::fmt::Debug + 'static,
{
    Tensor::from_array((shape, data))
        .map(Tensor::into_dyn)
        .map_err(|e| ModelError::Runtime(format!("building an input tensor: {e}")))
}

/// A float or double output as `f64`s, row-major.
fn float_output(outputs: &SessionOutputs<'_>, name: &str) -> Result<Vec<f64>, String> {
    let value = outputs
        .get(name)
        .ok_or_else(|| format!("no output `{name}`"))?;
    if let Ok((_, data)) = value.try_extract_tensor::<f32>() {
        return Ok(data.iter().map(|&x| f64::from(x)).collect());
    }
    value
        .try_extract_tensor::<f64>()
        .map(|(_, data)| data.to_vec())
        .map_err(|e| format!("output `{name}`: {e}"))
}

/// The class index of every row's label.
fn label_indices(
    outputs: &SessionOutputs<'_>,
    name: &str,
    label_values: Option<&ClassLabels>,
    k: usize,
) -> Result<Vec<usize>, String> {
    let value = outputs
        .get(name)
        .ok_or_else(|| format!("no output `{name}`"))?;
    let unknown =
        |shown: String| format!("output `{name}`: label {shown} is not one of the model's classes");
    if let Ok((_, data)) = value.try_extract_tensor::<i64>() {
        return data
            .iter()
            .map(|&v| {
                match label_values {
                    Some(ClassLabels::Ints(values)) => values.iter().position(|&c| c == v),
                    _ => usize::try_from(v).ok().filter(|&i| i < k),
                }
                .ok_or_else(|| unknown(v.to_string()))
            })
            .collect();
    }
    let (_, data) = value
        .try_extract_strings()
        .map_err(|e| format!("output `{name}`: {e}"))?;
    let Some(ClassLabels::Strings(values)) = label_values else {
        return Err(format!(
            "output `{name}` gives text labels but the model declares no text class labels"
        ));
    };
    data.iter()
        .map(|v| {
            values
                .iter()
                .position(|c| c == v)
                .ok_or_else(|| unknown(format!("`{v}`")))
        })
        .collect()
}

/// A declared tensor's element type and shape (`-1` for a free dimension).
fn tensor_type(dtype: &ValueType) -> Option<(TensorElementType, Vec<i64>)> {
    match dtype {
        ValueType::Tensor { ty, shape, .. } => Some((*ty, shape.to_vec())),
        _ => None,
    }
}

/// Features named in `aidlc.features`, if the model carries them.
fn metadata_features(summary: &ModelSummary) -> Result<Option<Vec<Feature>>, String> {
    let Some(text) = summary.metadata(FEATURES_KEY) else {
        return Ok(None);
    };
    #[derive(serde::Deserialize)]
    struct Entry {
        name: String,
        kind: FeatureKind,
        #[serde(default = "nullable_default")]
        nullable: bool,
    }
    fn nullable_default() -> bool {
        true
    }
    let entries: Vec<Entry> = serde_json::from_str(text)
        .map_err(|e| format!("metadata `{FEATURES_KEY}` is not a list of {{name, kind}}: {e}"))?;
    Ok(Some(
        entries
            .into_iter()
            .map(|e| Feature {
                name: e.name,
                kind: e.kind,
                nullable: e.nullable,
            })
            .collect(),
    ))
}

/// How to feed the session, and the signature's inputs.
fn read_inputs(session: &Session, summary: &ModelSummary) -> Result<(Feed, Inputs), String> {
    let declared = session.inputs();
    let named = metadata_features(summary)?;
    let describe = |name: &str, dtype: &ValueType| format!("input `{name}` ({dtype:?})");
    if let [only] = declared
        && let Some((ty, shape)) = tensor_type(only.dtype())
        && let Some(element @ (Element::Float | Element::Double)) = Element::of(ty)
        && shape.len() == 2
    {
        let width = match (shape[1], &named) {
            (w, _) if w > 0 => w as usize,
            (_, Some(features)) => features.len(),
            _ => {
                return Err(format!(
                    "{} has no fixed width (shape {shape:?}), so aidlc cannot tell how many features it takes",
                    describe(only.name(), only.dtype())
                ));
            }
        };
        let feed = Feed::Tensor {
            name: only.name().to_string(),
            element,
        };
        return match named {
            None => Ok((
                feed,
                Inputs::Tensor {
                    name: only.name().to_string(),
                    width,
                },
            )),
            Some(features) => {
                if features.len() != width {
                    return Err(format!(
                        "metadata `{FEATURES_KEY}` names {} features but input `{}` is {width} wide",
                        features.len(),
                        only.name()
                    ));
                }
                if let Some(f) = features.iter().find(|f| f.kind != FeatureKind::Numeric) {
                    return Err(format!(
                        "metadata `{FEATURES_KEY}`: feature `{}` is categorical but input `{}` takes numbers",
                        f.name,
                        only.name()
                    ));
                }
                Ok((feed, Inputs::Named { features }))
            }
        };
    }
    // One input per column.
    let mut columns = Vec::with_capacity(declared.len());
    let mut features = Vec::with_capacity(declared.len());
    for input in declared {
        let (ty, shape) = tensor_type(input.dtype())
            .ok_or_else(|| format!("{} is not a tensor", describe(input.name(), input.dtype())))?;
        let element = Element::of(ty).ok_or_else(|| {
            format!(
                "{}: aidlc feeds float, double, int64 or string tensors",
                describe(input.name(), input.dtype())
            )
        })?;
        let rank = match shape.as_slice() {
            [_] => 1,
            [_, 1] | [_, -1] => 2,
            _ => {
                return Err(format!(
                    "input `{}` has shape {shape:?}; with several inputs aidlc feeds one column each, [N, 1] or [N]",
                    input.name()
                ));
            }
        };
        columns.push(ColumnFeed {
            name: input.name().to_string(),
            element,
            rank,
        });
        features.push(Feature {
            name: input.name().to_string(),
            kind: if element == Element::Text {
                FeatureKind::Categorical
            } else {
                FeatureKind::Numeric
            },
            // int64 has no missing value; the others take NaN or the empty string.
            nullable: element != Element::Int64,
        });
    }
    if columns.is_empty() {
        return Err("the model has no inputs".into());
    }
    if let Some(named) = named {
        // The metadata gives the order and nullability; every input must be named once.
        let mut ordered = Vec::with_capacity(columns.len());
        for feature in &named {
            let at = features
                .iter()
                .position(|f| f.name == feature.name)
                .ok_or_else(|| {
                    format!(
                        "metadata `{FEATURES_KEY}` names `{}`, which is not an input",
                        feature.name
                    )
                })?;
            if features[at].kind != feature.kind {
                return Err(format!(
                    "metadata `{FEATURES_KEY}` says `{}` is {} but its input takes {}",
                    feature.name,
                    feature.kind.as_str(),
                    columns[at].element.name()
                ));
            }
            ordered.push((columns[at].clone(), feature.clone()));
        }
        if ordered.len() != columns.len() {
            return Err(format!(
                "metadata `{FEATURES_KEY}` names {} features but the model has {} inputs",
                ordered.len(),
                columns.len()
            ));
        }
        (columns, features) = ordered.into_iter().unzip();
    }
    Ok((Feed::Columns(columns), Inputs::Named { features }))
}

/// Which outputs answer, and the task they imply.
fn read_outputs(session: &Session, summary: &ModelSummary) -> Result<(Answer, ModelTask), String> {
    let outputs = session.outputs();
    let find = |names: &[&str]| outputs.iter().find(|o| names.contains(&o.name()));
    let label = find(&["label", "output_label"]);
    let probabilities = find(&["probabilities", "output_probability"]);
    if let (Some(label), Some(probabilities)) = (label, probabilities) {
        let Some((ty, shape)) = tensor_type(probabilities.dtype()) else {
            return Err(format!(
                "output `{}` is {:?}, not a tensor: export classifiers with ZipMap disabled (skl2onnx: options={{'zipmap': False}})",
                probabilities.name(),
                probabilities.dtype()
            ));
        };
        if !matches!(ty, TensorElementType::Float32 | TensorElementType::Float64)
            || shape.len() != 2
        {
            return Err(format!(
                "output `{}` must be float [N, classes], is {ty:?} {shape:?}",
                probabilities.name()
            ));
        }
        match tensor_type(label.dtype()) {
            Some((TensorElementType::Int64 | TensorElementType::String, _)) => {}
            _ => {
                return Err(format!(
                    "output `{}` must be an int64 or string tensor, is {:?}",
                    label.name(),
                    label.dtype()
                ));
            }
        }
        let label_values = summary.class_labels.clone();
        let from_metadata: Option<Vec<String>> = summary
            .metadata(CLASSES_KEY)
            .map(|text| {
                serde_json::from_str(text)
                    .map_err(|e| format!("metadata `{CLASSES_KEY}` is not a list of names: {e}"))
            })
            .transpose()?;
        let from_labels = label_values.as_ref().map(|labels| match labels {
            ClassLabels::Ints(v) => v.iter().map(i64::to_string).collect::<Vec<_>>(),
            ClassLabels::Strings(v) => v.clone(),
        });
        let k = if shape[1] > 0 {
            shape[1] as usize
        } else if let Some(names) = from_metadata.as_ref().or(from_labels.as_ref()) {
            names.len()
        } else {
            return Err(format!(
                "output `{}` has no fixed number of classes and the model names none",
                probabilities.name()
            ));
        };
        let classes = from_metadata
            .filter(|names| names.len() == k)
            .or(from_labels.filter(|names| names.len() == k))
            .unwrap_or_else(|| (0..k).map(|c| c.to_string()).collect());
        return Ok((
            Answer::Classes {
                label: label.name().to_string(),
                probabilities: probabilities.name().to_string(),
                label_values: label_values.filter(|labels| match labels {
                    ClassLabels::Ints(v) => v.len() == k,
                    ClassLabels::Strings(v) => v.len() == k,
                }),
            },
            ModelTask::Classifier { classes },
        ));
    }
    let single_value = match outputs {
        [only] => Some(only),
        _ => find(&["variable"]),
    };
    if let Some(output) = single_value
        && let Some((ty, shape)) = tensor_type(output.dtype())
        && matches!(ty, TensorElementType::Float32 | TensorElementType::Float64)
        && matches!(shape.as_slice(), [_] | [_, 1])
    {
        return Ok((
            Answer::Values {
                name: output.name().to_string(),
            },
            ModelTask::Regressor,
        ));
    }
    let listed: Vec<String> = outputs
        .iter()
        .map(|o| format!("`{}` {:?}", o.name(), o.dtype()))
        .collect();
    Err(format!(
        "aidlc reads classifiers with outputs `label` + `probabilities` (float [N, k]) and regressors with one float output `variable` [N, 1]; this model has {}",
        listed.join(", ")
    ))
}
