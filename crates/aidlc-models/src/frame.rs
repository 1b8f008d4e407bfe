//! A frame: named columns of equal length, the input every model scores. [`Frame::select`]
//! builds the frame a model takes from any table, checking it against the model's signature.

use crate::error::ModelError;
use crate::signature::{FeatureKind, Inputs, Signature};
use aidlc_data::{Column, Table};

/// Named columns of equal length.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Frame {
    pub names: Vec<String>,
    pub columns: Vec<Column>,
    pub n_rows: usize,
}

impl Frame {
    /// A frame of the given columns; fails when their lengths differ.
    pub fn new(names: Vec<String>, columns: Vec<Column>) -> Result<Frame, ModelError> {
        let n_rows = columns.first().map_or(0, Column::len);
        if let Some(i) = columns.iter().position(|c| c.len() != n_rows) {
            return Err(ModelError::BadValue {
                name: names.get(i).cloned().unwrap_or_default(),
                row: n_rows.min(columns[i].len()),
                reason: format!(
                    "column has {} rows where the first has {n_rows}",
                    columns[i].len()
                ),
            });
        }
        Ok(Frame {
            names,
            columns,
            n_rows,
        })
    }

    /// The frame of a table's columns.
    pub fn from_table(table: &Table) -> Frame {
        Frame {
            names: table.names().map(str::to_owned).collect(),
            columns: table.columns.clone(),
            n_rows: table.n_rows,
        }
    }

    /// The column with this name.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| &self.columns[i])
    }

    /// Rows `range` of every column.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Frame {
        let columns = self
            .columns
            .iter()
            .map(|c| match c {
                Column::Numeric(v) => Column::Numeric(v[range.clone()].to_vec()),
                Column::Categorical(v) => Column::Categorical(v[range.clone()].to_vec()),
            })
            .collect();
        Frame {
            names: self.names.clone(),
            columns,
            n_rows: range.len(),
        }
    }

    /// The frame `signature` takes, built from this one: named features are found by name
    /// (numbers become text for a categorical feature; text never becomes a number), and a tensor
    /// input takes the columns in `explicit` or else every numeric column in order. Errors name
    /// the feature and, for values, the row.
    pub fn select(
        &self,
        signature: &Signature,
        explicit: Option<&[String]>,
    ) -> Result<Frame, ModelError> {
        match &signature.inputs {
            Inputs::Named { features } => {
                let expected = || {
                    features
                        .iter()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let mut names = Vec::with_capacity(features.len());
                let mut columns = Vec::with_capacity(features.len());
                for f in features {
                    let column =
                        self.column(&f.name)
                            .ok_or_else(|| ModelError::MissingFeature {
                                name: f.name.clone(),
                                expected: expected(),
                            })?;
                    let column = match (f.kind, column) {
                        (FeatureKind::Numeric, Column::Numeric(v)) => Column::Numeric(v.clone()),
                        (FeatureKind::Categorical, Column::Categorical(v)) => {
                            Column::Categorical(v.clone())
                        }
                        (FeatureKind::Categorical, Column::Numeric(v)) => Column::Categorical(
                            v.iter()
                                .map(|x| (!x.is_nan()).then(|| format!("{x}")))
                                .collect(),
                        ),
                        (FeatureKind::Numeric, Column::Categorical(_)) => {
                            return Err(ModelError::WrongType {
                                name: f.name.clone(),
                                expected: "numbers".into(),
                                found: "text".into(),
                            });
                        }
                    };
                    if !f.nullable
                        && let Some(row) = first_missing(&column)
                    {
                        return Err(ModelError::BadValue {
                            name: f.name.clone(),
                            row,
                            reason: "missing value, and the model does not accept missing values"
                                .into(),
                        });
                    }
                    names.push(f.name.clone());
                    columns.push(column);
                }
                Ok(Frame {
                    names,
                    columns,
                    n_rows: self.n_rows,
                })
            }
            Inputs::Tensor { width, .. } => {
                let chosen: Vec<String> = match explicit {
                    Some(list) => list.to_vec(),
                    None => self
                        .names
                        .iter()
                        .zip(&self.columns)
                        .filter(|(_, c)| matches!(c, Column::Numeric(_)))
                        .map(|(n, _)| n.clone())
                        .collect(),
                };
                if chosen.len() != *width {
                    let hint = if explicit.is_some() {
                        String::new()
                    } else {
                        format!(
                            " ({}); list the model's columns in order with --features",
                            chosen.join(", ")
                        )
                    };
                    return Err(ModelError::WrongCount {
                        expected: *width,
                        found: chosen.len(),
                        hint,
                    });
                }
                let mut columns = Vec::with_capacity(chosen.len());
                for name in &chosen {
                    match self.column(name) {
                        Some(Column::Numeric(v)) => columns.push(Column::Numeric(v.clone())),
                        Some(Column::Categorical(_)) => {
                            return Err(ModelError::WrongType {
                                name: name.clone(),
                                expected: "numbers".into(),
                                found: "text".into(),
                            });
                        }
                        None => {
                            return Err(ModelError::MissingFeature {
                                name: name.clone(),
                                expected: self.names.join(", "),
                            });
                        }
                    }
                }
                Ok(Frame {
                    names: chosen,
                    columns,
                    n_rows: self.n_rows,
                })
            }
        }
    }

    /// The numeric columns as one row-major `f32` matrix (`n_rows × columns`); text columns
    /// are not allowed here.
    pub fn to_f32_rows(&self) -> Result<Vec<f32>, ModelError> {
        let width = self.columns.len();
        let mut out = vec![0f32; self.n_rows * width];
        for (j, (name, column)) in self.names.iter().zip(&self.columns).enumerate() {
            let Column::Numeric(values) = column else {
                return Err(ModelError::WrongType {
                    name: name.clone(),
                    expected: "numbers".into(),
                    found: "text".into(),
                });
            };
            for (i, v) in values.iter().enumerate() {
                out[i * width + j] = *v as f32;
            }
        }
        Ok(out)
    }
}

fn first_missing(column: &Column) -> Option<usize> {
    match column {
        Column::Numeric(v) => v.iter().position(|x| x.is_nan()),
        Column::Categorical(v) => v.iter().position(Option::is_none),
    }
}
