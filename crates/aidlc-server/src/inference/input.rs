//! Turning request payloads into the frame a model takes, checked against its signature. Every
//! protocol ends here: named columns of raw values go in, a frame in the signature's order comes
//! out, and a mistake is a 400 naming the feature (and the row when a value is wrong).

use crate::error::{ApiError, ApiResult};
use aidlc_data::Column;
use aidlc_models::{FeatureKind, Frame, Inputs, ModelError, Signature};
use serde_json::Value;

/// The values of one input column as the request gave them.
#[derive(Debug, Clone, PartialEq)]
pub enum RawColumn {
    /// Numbers; NaN marks a missing value.
    Numbers(Vec<f64>),
    /// Text; `None` marks a missing value.
    Text(Vec<Option<String>>),
}

impl RawColumn {
    pub fn len(&self) -> usize {
        match self {
            RawColumn::Numbers(v) => v.len(),
            RawColumn::Text(v) => v.len(),
        }
    }

    /// A column of JSON scalars: numbers (and nulls) stay numbers; any text makes it text.
    pub fn from_json<'a>(
        name: &str,
        values: impl ExactSizeIterator<Item = &'a Value> + Clone,
    ) -> ApiResult<RawColumn> {
        let is_text = values.clone().any(Value::is_string);
        if is_text {
            let mut out = Vec::with_capacity(values.len());
            for (row, v) in values.enumerate() {
                out.push(match v {
                    Value::String(s) => Some(s.clone()),
                    Value::Number(n) => Some(format!("{}", n.as_f64().unwrap_or(f64::NAN))),
                    Value::Null => None,
                    other => return Err(bad_scalar(name, row, other)),
                });
            }
            Ok(RawColumn::Text(out))
        } else {
            let mut out = Vec::with_capacity(values.len());
            for (row, v) in values.enumerate() {
                out.push(match v {
                    Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                    Value::Null => f64::NAN,
                    other => return Err(bad_scalar(name, row, other)),
                });
            }
            Ok(RawColumn::Numbers(out))
        }
    }
}

fn bad_scalar(name: &str, row: usize, v: &Value) -> ApiError {
    let found = match v {
        Value::Bool(_) => "a boolean",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
        _ => "a value",
    };
    ApiError::Model(ModelError::BadValue {
        name: name.to_string(),
        row,
        reason: format!("expected a number or text, got {found}"),
    })
}

/// The feature names a model takes, for error messages.
fn expected_names(signature: &Signature) -> String {
    match &signature.inputs {
        Inputs::Named { features } => features
            .iter()
            .map(|f| f.name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        Inputs::Tensor { name, width } => format!("one tensor `{name}` of {width} numbers per row"),
    }
}

/// What to do with a column the model does not take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unknown {
    /// A 400 naming it (the Open Inference Protocol: every input tensor must be the model's).
    Reject,
    /// Leave it out, as MLflow's schema enforcement does; it is named when a feature is missing,
    /// so a misspelt feature is reported with both spellings.
    Ignore,
}

/// The frame `signature` takes from named columns. `ordered` says the columns' order is the
/// caller's own (a table, a CSV header, a positional row), which a model with one unnamed tensor
/// input needs: it takes the columns by position.
pub fn frame_for(
    signature: &Signature,
    columns: Vec<(String, RawColumn)>,
    ordered: bool,
    unknown: Unknown,
) -> ApiResult<Frame> {
    let n_rows = columns.first().map_or(0, |(_, c)| c.len());
    if let Some((name, c)) = columns.iter().find(|(_, c)| c.len() != n_rows) {
        return Err(ApiError::Model(ModelError::BadValue {
            name: name.clone(),
            row: n_rows.min(c.len()),
            reason: format!("column has {} rows where the first has {n_rows}", c.len()),
        }));
    }
    match &signature.inputs {
        Inputs::Named { features } => {
            let unused: Vec<&str> = columns
                .iter()
                .map(|(n, _)| n.as_str())
                .filter(|n| !features.iter().any(|f| f.name == *n))
                .collect();
            if let (Unknown::Reject, Some(name)) = (unknown, unused.first()) {
                return Err(ApiError::invalid(format!(
                    "unknown input `{name}` (the model takes: {})",
                    expected_names(signature)
                )));
            }
            let expected = if unused.is_empty() {
                expected_names(signature)
            } else {
                format!(
                    "{}; the request also has: {}",
                    expected_names(signature),
                    unused.join(", ")
                )
            };
            let mut columns: Vec<Option<(String, RawColumn)>> =
                columns.into_iter().map(Some).collect();
            let mut names = Vec::with_capacity(features.len());
            let mut out = Vec::with_capacity(features.len());
            for f in features {
                let raw = columns
                    .iter_mut()
                    .find(|c| c.as_ref().is_some_and(|(n, _)| n == &f.name))
                    .and_then(Option::take)
                    .map(|(_, c)| c)
                    .ok_or_else(|| ModelError::MissingFeature {
                        name: f.name.clone(),
                        expected: expected.clone(),
                    })?;
                let column = match (f.kind, raw) {
                    (FeatureKind::Numeric, RawColumn::Numbers(v)) => Column::Numeric(v),
                    (FeatureKind::Categorical, RawColumn::Text(v)) => Column::Categorical(v),
                    // The conversion training applies to a numeric column of a categorical
                    // feature (`Frame::select`), so a served row scores as a trained one.
                    (FeatureKind::Categorical, RawColumn::Numbers(v)) => Column::Categorical(
                        v.iter()
                            .map(|x| (!x.is_nan()).then(|| format!("{x}")))
                            .collect(),
                    ),
                    (FeatureKind::Numeric, RawColumn::Text(_)) => {
                        return Err(ModelError::WrongType {
                            name: f.name.clone(),
                            expected: "numbers".into(),
                            found: "text".into(),
                        }
                        .into());
                    }
                };
                if !f.nullable {
                    let missing = match &column {
                        Column::Numeric(v) => v.iter().position(|x| x.is_nan()),
                        Column::Categorical(v) => v.iter().position(Option::is_none),
                    };
                    if let Some(row) = missing {
                        return Err(ModelError::BadValue {
                            name: f.name.clone(),
                            row,
                            reason: "missing value (null or NaN), and the model does not accept missing values".into(),
                        }
                        .into());
                    }
                }
                names.push(f.name.clone());
                out.push(column);
            }
            Ok(Frame {
                names,
                columns: out,
                n_rows,
            })
        }
        Inputs::Tensor { name, width } => {
            if !ordered {
                return Err(ApiError::invalid(format!(
                    "the model takes one unnamed tensor `{name}` of {width} numbers per row; send rows as lists of numbers in the model's feature order (dataframe_split, instances or inputs), not as objects"
                )));
            }
            if columns.len() != *width {
                return Err(ModelError::WrongCount {
                    expected: *width,
                    found: columns.len(),
                    hint: String::new(),
                }
                .into());
            }
            let mut names = Vec::with_capacity(*width);
            let mut out = Vec::with_capacity(*width);
            for (n, c) in columns {
                match c {
                    RawColumn::Numbers(v) => out.push(Column::Numeric(v)),
                    RawColumn::Text(_) => {
                        return Err(ModelError::WrongType {
                            name: n,
                            expected: "numbers".into(),
                            found: "text".into(),
                        }
                        .into());
                    }
                }
                names.push(n);
            }
            Ok(Frame {
                names,
                columns: out,
                n_rows,
            })
        }
    }
}

/// The column names of positional rows: the model's feature names, or the positions of an
/// unnamed tensor.
pub fn positional_names(signature: &Signature) -> Vec<String> {
    match &signature.inputs {
        Inputs::Named { features } => features.iter().map(|f| f.name.clone()).collect(),
        Inputs::Tensor { width, .. } => (0..*width).map(|j| j.to_string()).collect(),
    }
}

/// Rows given as lists of values (a CSV-like table), with their column names.
pub fn from_positional_rows(
    signature: &Signature,
    names: Option<Vec<String>>,
    rows: &[Value],
) -> ApiResult<Frame> {
    let names = names.unwrap_or_else(|| positional_names(signature));
    let width = names.len();
    let mut cells: Vec<Vec<&Value>> = vec![Vec::with_capacity(rows.len()); width];
    for (i, row) in rows.iter().enumerate() {
        let values = match row {
            Value::Array(values) => values,
            // One value per row for a model with one feature.
            scalar if width == 1 && !scalar.is_object() => std::slice::from_ref(scalar),
            _ => {
                return Err(ApiError::invalid(format!(
                    "row {i}: expected a list of {width} values ({})",
                    names.join(", ")
                )));
            }
        };
        if values.len() != width {
            return Err(ApiError::invalid(format!(
                "row {i} has {} values; the model takes {width} ({})",
                values.len(),
                names.join(", ")
            )));
        }
        for (j, v) in values.iter().enumerate() {
            cells[j].push(v);
        }
    }
    let columns = names
        .into_iter()
        .zip(cells)
        .map(|(n, c)| {
            let raw = RawColumn::from_json(&n, c.iter().copied())?;
            Ok((n, raw))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    frame_for(signature, columns, true, Unknown::Ignore)
}

/// Rows given as objects keyed by feature name.
pub fn from_object_rows(signature: &Signature, rows: &[Value]) -> ApiResult<Frame> {
    let mut objects = Vec::with_capacity(rows.len());
    for (i, row) in rows.iter().enumerate() {
        match row {
            Value::Object(o) => objects.push(o),
            _ => {
                return Err(ApiError::invalid(format!(
                    "row {i}: expected an object of feature name to value"
                )));
            }
        }
    }
    if let Inputs::Tensor { .. } = &signature.inputs {
        return frame_for(signature, Vec::new(), false, Unknown::Ignore);
    }
    // Every name any row uses, so an unknown or misspelt feature is reported by name.
    let mut names: Vec<&String> = Vec::new();
    for o in &objects {
        for k in o.keys() {
            if !names.contains(&k) {
                names.push(k);
            }
        }
    }
    let mut columns = Vec::with_capacity(names.len());
    let takes = |name: &str| match &signature.inputs {
        Inputs::Named { features } => features.iter().any(|f| f.name == name),
        Inputs::Tensor { .. } => false,
    };
    for name in names {
        if !takes(name) {
            // Ignored by the model, kept only so a missing feature's error can name it.
            columns.push((
                name.clone(),
                RawColumn::Numbers(vec![f64::NAN; objects.len()]),
            ));
            continue;
        }
        let mut cells = Vec::with_capacity(objects.len());
        for (i, o) in objects.iter().enumerate() {
            cells.push(
                o.get(name.as_str()).ok_or_else(|| {
                    ApiError::invalid(format!("row {i}: missing feature `{name}`"))
                })?,
            );
        }
        let raw = RawColumn::from_json(name, cells.iter().copied())?;
        columns.push((name.clone(), raw));
    }
    if objects.is_empty() {
        return Err(ApiError::invalid("no rows to score"));
    }
    frame_for(signature, columns, false, Unknown::Ignore)
}

/// Columns given as an object of feature name to a list of values.
pub fn from_columns(
    signature: &Signature,
    columns: &serde_json::Map<String, Value>,
) -> ApiResult<Frame> {
    let mut out = Vec::with_capacity(columns.len());
    for (name, values) in columns {
        let raw = match values {
            Value::Array(values) => RawColumn::from_json(name, values.iter())?,
            scalar => RawColumn::from_json(name, std::slice::from_ref(scalar).iter())?,
        };
        out.push((name.clone(), raw));
    }
    frame_for(signature, out, false, Unknown::Ignore)
}

/// A CSV body with a header line: numbers where every value of a column parses as one, text
/// otherwise; an empty field is a missing value. Quoted fields may hold commas, doubled quotes
/// and line breaks.
pub fn from_csv(signature: &Signature, text: &str) -> ApiResult<Frame> {
    let records = parse_csv(text)?;
    let mut records = records.into_iter();
    let header = records
        .next()
        .ok_or_else(|| ApiError::invalid("the CSV body is empty; it needs a header line"))?;
    let width = header.len();
    let mut cells: Vec<Vec<String>> = vec![Vec::new(); width];
    for (i, record) in records.enumerate() {
        if record.len() == 1 && record[0].is_empty() {
            continue;
        }
        if record.len() != width {
            return Err(ApiError::invalid(format!(
                "CSV line {}: {} fields where the header has {width}",
                i + 2,
                record.len()
            )));
        }
        for (j, field) in record.into_iter().enumerate() {
            cells[j].push(field);
        }
    }
    let columns = header
        .into_iter()
        .zip(cells)
        .map(|(name, values)| {
            let numbers: Option<Vec<f64>> = values
                .iter()
                .map(|v| {
                    let v = v.trim();
                    if v.is_empty() {
                        Some(f64::NAN)
                    } else {
                        v.parse::<f64>().ok()
                    }
                })
                .collect();
            let raw = match numbers {
                Some(n) => RawColumn::Numbers(n),
                None => RawColumn::Text(
                    values
                        .into_iter()
                        .map(|v| (!v.is_empty()).then_some(v))
                        .collect(),
                ),
            };
            (name.trim().to_string(), raw)
        })
        .collect();
    frame_for(signature, columns, true, Unknown::Ignore)
}

fn parse_csv(text: &str) -> ApiResult<Vec<Vec<String>>> {
    let mut records = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut quoted = false;
    let mut line = 1;
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                line += 1;
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if quoted {
        return Err(ApiError::invalid(format!(
            "CSV line {line}: a quoted field is not closed"
        )));
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}
