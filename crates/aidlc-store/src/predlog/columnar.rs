//! The columnar form of predictions: [`PredictionFrame`] (what a scan returns) and the Arrow IPC
//! files sealed segments are converted to (one per endpoint and segment).
//!
//! A feature becomes one column of its kind. A feature with both numbers and texts in the same
//! window gets two columns of the same name, one of each kind; a feature that is missing on every
//! row is a number column of nulls. In Arrow files a feature column is named `n:<feature>`
//! (Float64) or `t:<feature>` (Utf8).

use super::{
    FeatureValue, PredictionLogError, PredictionLogResult, PredictionOutputs, PredictionRecord,
    ScanQuery, Variant,
};
use arrow::array::{
    Array, ArrayRef, Float64Array, Int64Array, ListArray, StringArray, UInt8Array, UInt32Array,
};
use arrow::datatypes::{DataType, Field, Float64Type, Schema};
use arrow::record_batch::RecordBatch;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// The values of one feature over the rows of a frame; `None` is a missing value.
#[derive(Debug, Clone, PartialEq)]
pub enum FeatureValues {
    Number(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl FeatureValues {
    fn len(&self) -> usize {
        match self {
            FeatureValues::Number(v) => v.len(),
            FeatureValues::Text(v) => v.len(),
        }
    }

    fn pad_to(&mut self, n: usize) {
        match self {
            FeatureValues::Number(v) => v.resize(n, None),
            FeatureValues::Text(v) => v.resize(n, None),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeatureColumn {
    pub name: String,
    pub values: FeatureValues,
}

/// Predictions as columns, row `i` of every column being the same record.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PredictionFrame {
    pub request_id: Vec<String>,
    pub time_ms: Vec<i64>,
    pub model: Vec<String>,
    pub version: Vec<i64>,
    pub variant: Vec<Variant>,
    pub latency_us: Vec<u32>,
    /// The entity each request was about, if it named one.
    pub entity: Vec<Option<String>>,
    pub features: Vec<FeatureColumn>,
    pub label: Vec<Option<String>>,
    pub value: Vec<Option<f64>>,
    pub probabilities: Vec<Vec<f64>>,
}

impl PredictionFrame {
    pub fn len(&self) -> usize {
        self.time_ms.len()
    }

    pub fn is_empty(&self) -> bool {
        self.time_ms.is_empty()
    }

    /// The numeric values of a feature with the missing ones left out (what a drift test takes).
    pub fn numbers(&self, feature: &str) -> Vec<f64> {
        self.features
            .iter()
            .filter(|c| c.name == feature)
            .filter_map(|c| match &c.values {
                FeatureValues::Number(v) => Some(v.iter().flatten().copied()),
                FeatureValues::Text(_) => None,
            })
            .flatten()
            .collect()
    }

    /// The frame's rows as records, each listing every feature column of the frame (a feature
    /// with no value on a row reads back as [`FeatureValue::Missing`]). `endpoint` is the one
    /// that was scanned: a frame holds one endpoint.
    pub fn records(&self, endpoint: &str) -> Vec<PredictionRecord> {
        let mut names: Vec<&str> = Vec::new();
        for c in &self.features {
            if !names.contains(&c.name.as_str()) {
                names.push(&c.name);
            }
        }
        (0..self.len())
            .map(|i| {
                let features = names
                    .iter()
                    .map(|&name| {
                        let value = self
                            .features
                            .iter()
                            .filter(|c| c.name == name)
                            .find_map(|c| match &c.values {
                                FeatureValues::Number(v) => v[i].map(FeatureValue::Number),
                                FeatureValues::Text(v) => v[i].clone().map(FeatureValue::Text),
                            })
                            .unwrap_or(FeatureValue::Missing);
                        (name.to_owned(), value)
                    })
                    .collect();
                PredictionRecord {
                    request_id: self.request_id[i].clone(),
                    time_ms: self.time_ms[i],
                    endpoint: endpoint.to_owned(),
                    model: self.model[i].clone(),
                    version: self.version[i],
                    variant: self.variant[i],
                    features,
                    outputs: PredictionOutputs {
                        label: self.label[i].clone(),
                        probabilities: self.probabilities[i].clone(),
                        value: self.value[i],
                    },
                    latency_us: self.latency_us[i],
                    entity: self.entity[i].clone(),
                }
            })
            .collect()
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
}

/// Builds a frame from records and Arrow batches, creating feature columns as they appear.
#[derive(Default)]
pub(crate) struct FrameBuilder {
    frame: PredictionFrame,
    /// Per feature name, its number and text column (index into `frame.features`).
    columns: HashMap<String, [Option<usize>; 2]>,
    /// Whether a column holds any value yet: an all-missing column may still change kind.
    has_value: Vec<bool>,
    /// The previous record's features: name, value tag and column, by position.
    layout: Vec<(String, u8, usize)>,
}

impl FrameBuilder {
    pub(crate) fn len(&self) -> usize {
        self.frame.len()
    }

    /// The column of `name` to write a value of `kind` into, padded to the current row.
    fn column(&mut self, name: &str, kind: Kind, row: usize) -> usize {
        let slot = kind as usize;
        let other = 1 - slot;
        let entry = match self.columns.get_mut(name) {
            Some(e) => e,
            None => self.columns.entry(name.to_owned()).or_insert([None, None]),
        };
        let index = if let Some(i) = entry[slot] {
            i
        } else if let Some(i) = entry[other].filter(|&i| !self.has_value[i]) {
            // A column that so far held only missing values takes the kind of the first value.
            entry[other] = None;
            entry[slot] = Some(i);
            let n = self.frame.features[i].values.len();
            self.frame.features[i].values = empty_values(kind, n);
            i
        } else {
            let i = self.frame.features.len();
            entry[slot] = Some(i);
            self.frame.features.push(FeatureColumn {
                name: name.to_owned(),
                values: empty_values(kind, 0),
            });
            self.has_value.push(false);
            i
        };
        self.frame.features[index].values.pad_to(row);
        index
    }

    /// The column a missing value goes to: the existing one, or a new number column.
    fn missing_column(&mut self, name: &str, row: usize) -> usize {
        match self.columns.get(name) {
            Some(&[Some(i), _]) | Some(&[None, Some(i)]) => {
                self.frame.features[i].values.pad_to(row);
                i
            }
            _ => self.column(name, Kind::Number, row),
        }
    }

    /// The column for the value at position `position` of a record's feature list, through the
    /// previous record's layout when the name and kind are the same (the usual case: one model
    /// sends the same features in the same order), else by name.
    fn feature_column(
        &mut self,
        position: usize,
        name: &str,
        value: &FeatureValue,
        row: usize,
    ) -> usize {
        let tag = match value {
            FeatureValue::Number(_) => 0u8,
            FeatureValue::Text(_) => 1,
            FeatureValue::Missing => 2,
        };
        if let Some((cached_name, cached_tag, i)) = self.layout.get(position)
            && *cached_tag == tag
            && cached_name == name
        {
            let i = *i;
            self.frame.features[i].values.pad_to(row);
            return i;
        }
        let i = match value {
            FeatureValue::Number(_) => self.column(name, Kind::Number, row),
            FeatureValue::Text(_) => self.column(name, Kind::Text, row),
            FeatureValue::Missing => self.missing_column(name, row),
        };
        // A column keeps its index for good (an all-missing one may change kind in place), so the
        // cache stays valid.
        self.layout.truncate(position);
        if self.layout.len() == position {
            self.layout.push((name.to_owned(), tag, i));
        }
        i
    }

    pub(crate) fn push_record(&mut self, r: PredictionRecord) {
        let row = self.frame.len();
        for (position, (name, value)) in r.features.into_iter().enumerate() {
            let i = self.feature_column(position, &name, &value, row);
            match value {
                FeatureValue::Number(x) => {
                    self.has_value[i] = true;
                    if let FeatureValues::Number(v) = &mut self.frame.features[i].values {
                        v.push(Some(x));
                    }
                }
                FeatureValue::Text(s) => {
                    self.has_value[i] = true;
                    if let FeatureValues::Text(v) = &mut self.frame.features[i].values {
                        v.push(Some(s));
                    }
                }
                FeatureValue::Missing => self.frame.features[i].values.pad_to(row + 1),
            }
        }
        let f = &mut self.frame;
        f.request_id.push(r.request_id);
        f.time_ms.push(r.time_ms);
        f.model.push(r.model);
        f.version.push(r.version);
        f.variant.push(r.variant);
        f.latency_us.push(r.latency_us);
        f.entity.push(r.entity);
        f.label.push(r.outputs.label);
        f.value.push(r.outputs.value);
        f.probabilities.push(r.outputs.probabilities);
    }

    /// Appends the rows of an Arrow batch (from [`write_arrow_file`]) that match the query.
    fn push_batch(
        &mut self,
        batch: &RecordBatch,
        query: &ScanQuery,
        path: &Path,
    ) -> PredictionLogResult<()> {
        let bad = |reason: String| PredictionLogError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason,
        };
        let col = |name: &str| {
            batch
                .column_by_name(name)
                .ok_or_else(|| bad(format!("no column `{name}`")))
        };
        let time = downcast::<Int64Array>(col("time_ms")?, "time_ms", path)?;
        let model = downcast::<StringArray>(col("model")?, "model", path)?;
        let version = downcast::<Int64Array>(col("version")?, "version", path)?;
        let variant = downcast::<UInt8Array>(col("variant")?, "variant", path)?;
        let mut variants = Vec::with_capacity(variant.len());
        for code in variant.values().iter() {
            variants.push(
                Variant::from_code(*code)
                    .ok_or_else(|| bad(format!("unknown variant code {code}")))?,
            );
        }
        let rows: Vec<usize> = (0..batch.num_rows())
            .filter(|&i| {
                query.matches(time.value(i), model.value(i), version.value(i), variants[i])
            })
            .collect();
        if rows.is_empty() {
            return Ok(());
        }
        let base = self.frame.len();
        let request_id = downcast::<StringArray>(col("request_id")?, "request_id", path)?;
        let latency = downcast::<UInt32Array>(col("latency_us")?, "latency_us", path)?;
        let label = downcast::<StringArray>(col("label")?, "label", path)?;
        let value = downcast::<Float64Array>(col("value")?, "value", path)?;
        let probabilities = downcast::<ListArray>(col("probabilities")?, "probabilities", path)?;
        // Files sealed before entities were logged have no `entity` column.
        let entity = batch
            .column_by_name("entity")
            .map(|a| downcast::<StringArray>(a, "entity", path))
            .transpose()?;
        let offsets = probabilities.value_offsets();
        let probability_values =
            downcast::<Float64Array>(probabilities.values(), "probabilities", path)?.values();
        let f = &mut self.frame;
        for &i in &rows {
            f.request_id.push(request_id.value(i).to_owned());
            f.time_ms.push(time.value(i));
            f.model.push(model.value(i).to_owned());
            f.version.push(version.value(i));
            f.variant.push(variants[i]);
            f.latency_us.push(latency.value(i));
            f.entity.push(
                entity
                    .filter(|a| a.is_valid(i))
                    .map(|a| a.value(i).to_owned()),
            );
            f.label
                .push(label.is_valid(i).then(|| label.value(i).to_owned()));
            f.value.push(value.is_valid(i).then(|| value.value(i)));
            let (from, to) = (offsets[i] as usize, offsets[i + 1] as usize);
            f.probabilities.push(probability_values[from..to].to_vec());
        }
        let schema = batch.schema();
        for (field, array) in schema.fields().iter().zip(batch.columns()) {
            let (kind, name) = match field.name().split_once(':') {
                Some(("n", name)) => (Kind::Number, name),
                Some(("t", name)) => (Kind::Text, name),
                _ => continue,
            };
            let i = self.column(name, kind, base);
            match (&mut self.frame.features[i].values, kind) {
                (FeatureValues::Number(v), Kind::Number) => {
                    let a = downcast::<Float64Array>(array, field.name(), path)?;
                    v.extend(rows.iter().map(|&r| a.is_valid(r).then(|| a.value(r))));
                    if v[base..].iter().any(Option::is_some) {
                        self.has_value[i] = true;
                    }
                }
                (FeatureValues::Text(v), Kind::Text) => {
                    let a = downcast::<StringArray>(array, field.name(), path)?;
                    v.extend(
                        rows.iter()
                            .map(|&r| a.is_valid(r).then(|| a.value(r).to_owned())),
                    );
                    if v[base..].iter().any(Option::is_some) {
                        self.has_value[i] = true;
                    }
                }
                _ => unreachable!("column() returns a column of the requested kind"),
            }
        }
        Ok(())
    }

    pub(crate) fn finish(mut self) -> PredictionFrame {
        let n = self.frame.len();
        for c in &mut self.frame.features {
            c.values.pad_to(n);
        }
        self.frame
    }
}

fn empty_values(kind: Kind, n: usize) -> FeatureValues {
    match kind {
        Kind::Number => FeatureValues::Number(vec![None; n]),
        Kind::Text => FeatureValues::Text(vec![None; n]),
    }
}

fn downcast<'a, T: 'static>(
    array: &'a ArrayRef,
    column: &str,
    path: &Path,
) -> PredictionLogResult<&'a T> {
    array
        .as_any()
        .downcast_ref::<T>()
        .ok_or_else(|| PredictionLogError::Corrupt {
            path: path.to_path_buf(),
            offset: 0,
            reason: format!("column `{column}` has type {}", array.data_type()),
        })
}

/// The Arrow batch of a frame's rows (a frame holds one endpoint).
pub(crate) fn frame_to_batch(frame: &PredictionFrame, endpoint: &str) -> RecordBatch {
    let mut fields = vec![
        Field::new("request_id", DataType::Utf8, false),
        Field::new("time_ms", DataType::Int64, false),
        Field::new("model", DataType::Utf8, false),
        Field::new("version", DataType::Int64, false),
        Field::new("variant", DataType::UInt8, false),
        Field::new("latency_us", DataType::UInt32, false),
        Field::new("entity", DataType::Utf8, true),
        Field::new("label", DataType::Utf8, true),
        Field::new("value", DataType::Float64, true),
        Field::new(
            "probabilities",
            DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
            false,
        ),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(StringArray::from_iter_values(&frame.request_id)),
        Arc::new(Int64Array::from(frame.time_ms.clone())),
        Arc::new(StringArray::from_iter_values(&frame.model)),
        Arc::new(Int64Array::from(frame.version.clone())),
        Arc::new(UInt8Array::from_iter_values(
            frame.variant.iter().map(|v| v.code()),
        )),
        Arc::new(UInt32Array::from(frame.latency_us.clone())),
        Arc::new(StringArray::from(
            frame
                .entity
                .iter()
                .map(Option::as_deref)
                .collect::<Vec<_>>(),
        )),
        Arc::new(StringArray::from(
            frame.label.iter().map(Option::as_deref).collect::<Vec<_>>(),
        )),
        Arc::new(Float64Array::from(frame.value.clone())),
        Arc::new(ListArray::from_iter_primitive::<Float64Type, _, _>(
            frame
                .probabilities
                .iter()
                .map(|p| Some(p.iter().copied().map(Some))),
        )),
    ];
    for c in &frame.features {
        match &c.values {
            FeatureValues::Number(v) => {
                fields.push(Field::new(format!("n:{}", c.name), DataType::Float64, true));
                columns.push(Arc::new(Float64Array::from(v.clone())));
            }
            FeatureValues::Text(v) => {
                fields.push(Field::new(format!("t:{}", c.name), DataType::Utf8, true));
                columns.push(Arc::new(StringArray::from(
                    v.iter().map(Option::as_deref).collect::<Vec<_>>(),
                )));
            }
        }
    }
    let schema = Schema::new(fields).with_metadata(
        [("aidlc.endpoint".to_owned(), endpoint.to_owned())]
            .into_iter()
            .collect::<HashMap<String, String>>(),
    );
    RecordBatch::try_new(Arc::new(schema), columns)
        .expect("the columns are built to the schema, all of the frame's length")
}

/// Writes the frame as an Arrow IPC file at `path` and fsyncs it.
pub(crate) fn write_arrow_file(
    path: &Path,
    frame: &PredictionFrame,
    endpoint: &str,
) -> PredictionLogResult<()> {
    let arrow_err = |source| PredictionLogError::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let batch = frame_to_batch(frame, endpoint);
    let file = std::fs::File::create(path).map_err(|source| PredictionLogError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let mut writer =
        arrow::ipc::writer::FileWriter::try_new(std::io::BufWriter::new(file), &batch.schema())
            .map_err(arrow_err)?;
    writer.write(&batch).map_err(arrow_err)?;
    writer.finish().map_err(arrow_err)?;
    let file = writer
        .into_inner()
        .map_err(arrow_err)?
        .into_inner()
        .map_err(|e| PredictionLogError::Io {
            path: path.to_path_buf(),
            source: e.into_error(),
        })?;
    file.sync_all().map_err(|source| PredictionLogError::Io {
        path: path.to_path_buf(),
        source,
    })
}

/// Adds the rows of an open Arrow IPC file that match the query.
pub(crate) fn scan_arrow_file(
    file: std::fs::File,
    path: &Path,
    query: &ScanQuery,
    out: &mut FrameBuilder,
) -> PredictionLogResult<()> {
    let arrow_err = |source| PredictionLogError::Arrow {
        path: path.to_path_buf(),
        source,
    };
    let reader = arrow::ipc::reader::FileReader::try_new(std::io::BufReader::new(file), None)
        .map_err(arrow_err)?;
    for batch in reader {
        out.push_batch(&batch.map_err(arrow_err)?, query, path)?;
    }
    Ok(())
}
