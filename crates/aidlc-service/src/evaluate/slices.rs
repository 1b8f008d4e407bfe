//! Slices of the held-out rows from `[evaluate] slices`: one slice per category of a
//! categorical column, quantile bins of a numeric column, or the rows where an expression is
//! true — each with its count, the primary metric with a paired bootstrap interval, and every
//! metric's point value, per model.

use aidlc_core::expr::Value;
use aidlc_core::spec::{Metric, SliceSpec};
use aidlc_data::{Column, Table};

use super::scoring::{Gathered, Scores, Truth, metrics_on};
use super::{
    ByModel, EvalSettings, EvaluateError, Slice, SliceGroup, SliceReport, WorstSlice,
    paired_bootstrap, quantile_sorted,
};

/// Categories shown per categorical column; the rest are named in the group's note.
const MAX_CATEGORIES: usize = 30;

/// Every slice of every entry, without the worst slice (see [`worst_slice`]).
pub(crate) fn slice_report(
    specs: &[SliceSpec],
    table: &Table,
    truth: &Truth,
    scores: &[Scores],
    metrics: &[Metric],
    settings: &EvalSettings,
) -> Result<SliceReport, EvaluateError> {
    let mut groups = Vec::new();
    let mut gathered = Gathered::default();
    for spec in specs {
        let (kind, members, note) = members(spec, table, settings.slice_bins)?;
        let mut slices = Vec::new();
        for (name, rows) in members {
            let draws = paired_bootstrap(truth, scores, &rows, &metrics[..1], settings);
            let primary = ByModel::from_roles(draws.iter().map(|d| d.estimate(0)).collect());
            let mut point = |s: &Scores| {
                metrics_on(
                    truth,
                    s,
                    &rows,
                    metrics,
                    settings.operating_threshold,
                    &mut gathered,
                )
            };
            let values = ByModel {
                candidate: point(&scores[0]),
                baseline: point(&scores[1]),
                champion: scores.get(2).map(point),
            };
            let positives = match truth {
                Truth::Binary { y, .. } => Some(rows.iter().filter(|&&i| y[i] == 1.0).count()),
                _ => None,
            };
            slices.push(Slice {
                name,
                count: rows.len(),
                positives,
                enough_rows: rows.len() >= settings.min_slice_rows,
                primary,
                metrics: values,
            });
        }
        groups.push(SliceGroup {
            source: spec.to_string(),
            kind: kind.to_string(),
            slices,
            note,
        });
    }
    Ok(SliceReport {
        min_rows: settings.min_slice_rows,
        groups,
        worst: None,
    })
}

/// The slice with enough rows where the candidate's primary metric is worst.
pub(crate) fn worst_slice(
    report: &SliceReport,
    primary: Metric,
    overall: Option<f64>,
) -> Option<WorstSlice> {
    let mut worst: Option<WorstSlice> = None;
    for group in &report.groups {
        for slice in group.slices.iter().filter(|s| s.enough_rows) {
            let Some(value) = slice.primary.candidate.value else {
                continue;
            };
            let better = |a: f64, b: f64| {
                if primary.higher_is_better() {
                    a < b
                } else {
                    a > b
                }
            };
            if worst.as_ref().is_none_or(|w| better(value, w.value)) {
                worst = Some(WorstSlice {
                    group: group.source.clone(),
                    name: slice.name.clone(),
                    count: slice.count,
                    metric: primary.as_str().to_string(),
                    value,
                    overall,
                });
            }
        }
    }
    worst
}

type Members = (&'static str, Vec<(String, Vec<usize>)>, Option<String>);

/// The rows of each slice one entry makes, with the entry's kind and a note.
fn members(spec: &SliceSpec, table: &Table, bins: usize) -> Result<Members, EvaluateError> {
    let slice_error = |reason: String| EvaluateError::Slice {
        slice: spec.to_string(),
        reason,
    };
    match spec {
        SliceSpec::Column(name) => {
            let column = table.column(name).ok_or_else(|| {
                slice_error(format!(
                    "the held-out rows have no column `{name}` ({})",
                    table.path.display()
                ))
            })?;
            match column {
                Column::Categorical(values) => Ok(categories(name, values)),
                Column::Numeric(values) => Ok(numeric_bins(name, values, bins)),
            }
        }
        SliceSpec::Expression(expr) => {
            let frame = aidlc_models::Frame::from_table(table);
            let mut rows = Vec::new();
            for i in 0..table.n_rows {
                let value = expr
                    .eval(&|col: &str| {
                        frame.column(col).map(|c| match c {
                            Column::Numeric(v) if v[i].is_nan() => Value::Null,
                            Column::Numeric(v) => Value::Number(v[i]),
                            Column::Categorical(v) => v[i].clone().map_or(Value::Null, Value::Str),
                        })
                    })
                    .map_err(|e| slice_error(format!("row {i}: {e}")))?;
                match value {
                    Value::Bool(true) => rows.push(i),
                    Value::Bool(false) | Value::Null => {}
                    other => {
                        return Err(slice_error(format!(
                            "row {i}: a slice expression must be true or false, found {}",
                            other.type_name()
                        )));
                    }
                }
            }
            Ok(("expression", vec![(spec.to_string(), rows)], None))
        }
    }
}

fn categories(name: &str, values: &[Option<String>]) -> Members {
    let mut by_category: std::collections::BTreeMap<&str, Vec<usize>> = Default::default();
    let mut missing = Vec::new();
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(c) => by_category.entry(c.as_str()).or_default().push(i),
            None => missing.push(i),
        }
    }
    let mut list: Vec<(&str, Vec<usize>)> = by_category.into_iter().collect();
    // Largest first; equal counts keep their name order.
    list.sort_by_key(|(_, rows)| std::cmp::Reverse(rows.len()));
    let note = (list.len() > MAX_CATEGORIES).then(|| {
        let left: usize = list[MAX_CATEGORIES..].iter().map(|(_, r)| r.len()).sum();
        format!(
            "{} smaller categories ({left} rows) are not shown",
            list.len() - MAX_CATEGORIES
        )
    });
    let mut slices: Vec<(String, Vec<usize>)> = list
        .into_iter()
        .take(MAX_CATEGORIES)
        .map(|(c, rows)| (format!("{name} = {c:?}"), rows))
        .collect();
    if !missing.is_empty() {
        slices.push((format!("{name} is missing"), missing));
    }
    ("categories", slices, note)
}

fn numeric_bins(name: &str, values: &[f64], bins: usize) -> Members {
    let mut present: Vec<f64> = values.iter().copied().filter(|x| !x.is_nan()).collect();
    present.sort_unstable_by(f64::total_cmp);
    let mut distinct = present.clone();
    distinct.dedup();
    let missing: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_nan()).collect();
    let mut slices: Vec<(String, Vec<usize>)> = Vec::new();
    let kind;
    if distinct.len() <= bins {
        // Few values (a flag, a small code): one slice per value reads better than bins.
        kind = "values";
        for v in &distinct {
            let rows = (0..values.len()).filter(|&i| values[i] == *v).collect();
            slices.push((format!("{name} = {v}"), rows));
        }
    } else {
        kind = "quantile_bins";
        let mut edges: Vec<f64> = (0..=bins)
            .map(|k| quantile_sorted(&present, k as f64 / bins as f64))
            .collect();
        edges.dedup();
        let last = edges.len() - 1;
        for b in 0..last {
            let (lo, hi) = (edges[b], edges[b + 1]);
            let closed = b + 1 == last;
            let rows = (0..values.len())
                .filter(|&i| {
                    let x = values[i];
                    x >= lo && (x < hi || (closed && x <= hi))
                })
                .collect();
            let bracket = if closed { ']' } else { ')' };
            slices.push((
                format!("{name} in [{}, {}{bracket}", short(lo), short(hi)),
                rows,
            ));
        }
    }
    if !missing.is_empty() {
        slices.push((format!("{name} is missing"), missing));
    }
    (kind, slices, None)
}

/// A bin edge with four significant digits.
fn short(x: f64) -> String {
    if x == 0.0 || !x.is_finite() {
        return format!("{x}");
    }
    let digits = (3 - x.abs().log10().floor() as i32).max(0) as usize;
    format!("{x:.digits$}")
}
