//! Linear models on standardised features: L2-regularised logistic regression (binary, and
//! multinomial with one weight vector per class) solved by L-BFGS, and ridge regression solved
//! exactly from the normal equations.
//!
//! The objective is scikit-learn's, so both reach the same optimum on the same encoded data:
//! logistic regression minimises `Σ sᵢ·lossᵢ + l2/2·‖W‖²` (the intercepts are not penalised;
//! `sᵢ` is the row weight times its class weight), which is scikit-learn's `LogisticRegression`
//! with `C = 1/l2`; ridge minimises `Σ sᵢ·(yᵢ − ŷᵢ)² + l2·‖β‖²`, scikit-learn's `Ridge` with
//! `alpha = l2`.

use super::{Target, TrainOutcome, TrainSet, mean_loss, model_of, thread_count};
use crate::builtin::{Encoding, LinearModel, Link, Predictor};
use crate::error::ModelError;
use crate::frame::Frame;
use crate::{Model, Predictions};
use aidlc_data::Column;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Parameters of the linear trainers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LinearParams {
    /// L2 penalty on the weights (not the intercepts): scikit-learn's `1/C` for logistic
    /// regression, its `alpha` for ridge. Default 1 (scikit-learn's defaults).
    pub l2: f64,
    /// `none`, or `balanced`: each class weighs `total weight / (n_classes · weight of the
    /// class)`, row weights included, as scikit-learn's `class_weight="balanced"`.
    /// Classification only.
    pub class_weight: ClassWeight,
    /// The most L-BFGS iterations.
    pub max_iter: usize,
    /// Convergence: the largest gradient component of the objective divided by the total row
    /// weight.
    pub tol: f64,
    /// The most one-hot columns per categorical feature: its most frequent training categories;
    /// rarer and unseen categories encode as all zeros.
    pub max_categories: usize,
    /// Worker threads for logistic regression; `None` uses every core. The model is the same
    /// for any value.
    pub threads: Option<usize>,
}

impl Default for LinearParams {
    fn default() -> Self {
        LinearParams {
            l2: 1.0,
            class_weight: ClassWeight::None,
            max_iter: 1000,
            tol: 1e-9,
            max_categories: 50,
            threads: None,
        }
    }
}

/// How classes are weighted against each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClassWeight {
    #[default]
    None,
    Balanced,
}

pub(super) fn train(
    params: &LinearParams,
    train: &TrainSet,
    valid: Option<&TrainSet>,
) -> Result<TrainOutcome, ModelError> {
    if !(params.l2.is_finite() && params.l2 >= 0.0) {
        return Err(ModelError::Training(format!(
            "linear: l2 must be a non-negative number, got {}",
            params.l2
        )));
    }
    let encodings = fit_encodings(&train.features, params.max_categories);
    let x = encode(&train.features, &encodings);
    let d = encodings.iter().map(Encoding::width).sum::<usize>();
    let n = train.features.n_rows;
    let (predictor, iterations) = match &train.target {
        Target::Classes { classes, y } => {
            let k = classes.len();
            let mut s: Vec<f64> = (0..n).map(|i| train.weight(i)).collect();
            if params.class_weight == ClassWeight::Balanced {
                let mut counts = vec![0.0; k];
                y.iter().zip(&s).for_each(|(&c, w)| counts[c] += w);
                let total: f64 = counts.iter().sum();
                for (i, &c) in y.iter().enumerate() {
                    s[i] *= total / (k as f64 * counts[c]);
                }
            }
            let problem = Logistic {
                x: &x,
                d,
                y,
                s: &s,
                outputs: if k == 2 { 1 } else { k },
                l2: params.l2,
                total: s.iter().sum(),
                threads: thread_count(params.threads),
            };
            let (theta, iterations) = lbfgs(&problem, params.max_iter, params.tol)?;
            let (weights, bias) = problem.unpack(&theta);
            let link = if k == 2 {
                Link::Logistic
            } else {
                Link::Softmax
            };
            (
                Predictor::Linear(LinearModel {
                    weights,
                    bias,
                    link,
                }),
                iterations,
            )
        }
        Target::Values(v) => {
            if params.class_weight != ClassWeight::None {
                return Err(ModelError::Training(
                    "linear: class_weight applies to classification only".into(),
                ));
            }
            let s: Vec<f64> = (0..n).map(|i| train.weight(i)).collect();
            let (weights, bias) = ridge(&x, d, v, &s, params.l2)?;
            (
                Predictor::Linear(LinearModel {
                    weights: vec![weights],
                    bias: vec![bias],
                    link: Link::Identity,
                }),
                1,
            )
        }
    };
    let importance = importance(&train.features, &encodings, &predictor);
    let model = model_of(train, encodings, predictor);
    let valid_history = match valid {
        Some(v) => {
            let frame = v.features.select(&model.signature, None)?;
            let predicted = match model.predict(&frame)? {
                Predictions::Classes { probabilities, .. } => probabilities,
                Predictions::Values(values) => values,
            };
            vec![mean_loss(&v.target, v.weights.as_deref(), &predicted)]
        }
        None => Vec::new(),
    };
    Ok(TrainOutcome {
        model,
        iterations,
        best_iteration: None,
        valid_history,
        feature_importance: importance,
    })
}

/// Standardisation of numeric features (mean and population standard deviation of the
/// non-missing training values; a missing value becomes the mean) and one-hot encoding of the
/// most frequent categories (ties broken by name).
fn fit_encodings(frame: &Frame, max_categories: usize) -> Vec<Encoding> {
    frame
        .columns
        .iter()
        .map(|column| match column {
            Column::Numeric(v) => {
                let (mut n, mut sum) = (0usize, 0.0);
                for x in v.iter().filter(|x| !x.is_nan()) {
                    n += 1;
                    sum += x;
                }
                let mean = if n > 0 { sum / n as f64 } else { 0.0 };
                let var = if n > 0 {
                    v.iter()
                        .filter(|x| !x.is_nan())
                        .map(|x| (x - mean) * (x - mean))
                        .sum::<f64>()
                        / n as f64
                } else {
                    0.0
                };
                let sd = var.sqrt();
                Encoding::Numeric {
                    fill: Some(mean),
                    center: mean,
                    scale: if sd > 0.0 && sd.is_finite() { sd } else { 1.0 },
                }
            }
            Column::Categorical(v) => Encoding::OneHot {
                categories: frequent_categories(v, max_categories),
            },
        })
        .collect()
}

/// The `limit` most frequent categories, most frequent first, ties by name.
pub(super) fn frequent_categories(values: &[Option<String>], limit: usize) -> Vec<String> {
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for v in values.iter().flatten() {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
    ranked
        .into_iter()
        .take(limit)
        .map(|(c, _)| c.to_owned())
        .collect()
}

/// The encoded rows, row-major, computed as the native scorer computes them.
fn encode(frame: &Frame, encodings: &[Encoding]) -> Vec<f64> {
    let d: usize = encodings.iter().map(Encoding::width).sum();
    let n = frame.n_rows;
    let mut x = vec![0.0; n * d];
    let mut offset = 0;
    for (encoding, column) in encodings.iter().zip(&frame.columns) {
        match (encoding, column) {
            (
                Encoding::Numeric {
                    fill,
                    center,
                    scale,
                },
                Column::Numeric(v),
            ) => {
                for (i, &value) in v.iter().enumerate() {
                    let value = if value.is_nan() {
                        fill.unwrap_or(value)
                    } else {
                        value
                    };
                    x[i * d + offset] = (value - center) / scale;
                }
            }
            (Encoding::OneHot { categories }, Column::Categorical(v)) => {
                let index: HashMap<&str, usize> = categories
                    .iter()
                    .enumerate()
                    .map(|(k, c)| (c.as_str(), k))
                    .collect();
                for (i, value) in v.iter().enumerate() {
                    if let Some(&k) = value.as_deref().and_then(|c| index.get(c)) {
                        x[i * d + offset + k] = 1.0;
                    }
                }
            }
            // The encodings were fitted on these columns, so kinds always match.
            _ => {}
        }
        offset += encoding.width();
    }
    x
}

/// The mean absolute weight over each feature's encoded columns and the outputs.
fn importance(frame: &Frame, encodings: &[Encoding], predictor: &Predictor) -> Vec<(String, f64)> {
    let Predictor::Linear(m) = predictor else {
        return Vec::new();
    };
    let mut offset = 0;
    frame
        .names
        .iter()
        .zip(encodings)
        .map(|(name, e)| {
            let w = e.width();
            let total: f64 = m
                .weights
                .iter()
                .map(|row| row[offset..offset + w].iter().map(|x| x.abs()).sum::<f64>())
                .sum();
            offset += w;
            let count = (w * m.weights.len()).max(1);
            (name.clone(), total / count as f64)
        })
        .collect()
}

/// Ridge regression with an unpenalised intercept, from the weighted normal equations.
fn ridge(
    x: &[f64],
    d: usize,
    y: &[f64],
    s: &[f64],
    l2: f64,
) -> Result<(Vec<f64>, f64), ModelError> {
    let p = d + 1;
    let mut a = vec![0.0; p * p];
    let mut b = vec![0.0; p];
    let mut row = vec![0.0; p];
    for (i, &yi) in y.iter().enumerate() {
        row[..d].copy_from_slice(&x[i * d..(i + 1) * d]);
        row[d] = 1.0;
        let w = s[i];
        for j in 0..p {
            let wj = w * row[j];
            b[j] += wj * yi;
            for k in j..p {
                a[j * p + k] += wj * row[k];
            }
        }
    }
    for j in 0..p {
        for k in 0..j {
            a[j * p + k] = a[k * p + j];
        }
    }
    for j in 0..d {
        a[j * p + j] += l2;
    }
    let beta = solve(a, b, p).ok_or_else(|| {
        ModelError::Training(
            "linear: the features are collinear; set l2 above 0 to regularise".into(),
        )
    })?;
    Ok((beta[..d].to_vec(), beta[d]))
}

/// Solves `a·x = b` (`a` is `p × p`, row-major) by Gaussian elimination with partial pivoting;
/// `None` when `a` is singular.
fn solve(mut a: Vec<f64>, mut b: Vec<f64>, p: usize) -> Option<Vec<f64>> {
    let scale = (0..p)
        .map(|j| a[j * p + j].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    for col in 0..p {
        let pivot = (col..p)
            .max_by(|&i, &j| a[i * p + col].abs().total_cmp(&a[j * p + col].abs()))
            .unwrap_or(col);
        if a[pivot * p + col].abs() <= 1e-12 * scale {
            return None;
        }
        if pivot != col {
            for k in 0..p {
                a.swap(col * p + k, pivot * p + k);
            }
            b.swap(col, pivot);
        }
        for r in col + 1..p {
            let f = a[r * p + col] / a[col * p + col];
            if f != 0.0 {
                for k in col..p {
                    a[r * p + k] -= f * a[col * p + k];
                }
                b[r] -= f * b[col];
            }
        }
    }
    let mut x = vec![0.0; p];
    for r in (0..p).rev() {
        let mut v = b[r];
        for k in r + 1..p {
            v -= a[r * p + k] * x[k];
        }
        x[r] = v / a[r * p + r];
    }
    Some(x)
}

/// The logistic objective over encoded rows. Parameters are `outputs` blocks of `d` weights
/// followed by `outputs` intercepts.
struct Logistic<'a> {
    x: &'a [f64],
    d: usize,
    y: &'a [usize],
    s: &'a [f64],
    outputs: usize,
    l2: f64,
    total: f64,
    threads: usize,
}

impl Logistic<'_> {
    fn size(&self) -> usize {
        self.outputs * (self.d + 1)
    }

    fn unpack(&self, theta: &[f64]) -> (Vec<Vec<f64>>, Vec<f64>) {
        let d = self.d;
        let weights = (0..self.outputs)
            .map(|k| theta[k * d..(k + 1) * d].to_vec())
            .collect();
        let bias = theta[self.outputs * d..].to_vec();
        (weights, bias)
    }

    /// The objective divided by the total row weight, and its gradient into `grad`. Rows are
    /// summed in fixed blocks, in parallel, and the blocks added in order: the result does not
    /// depend on the number of threads.
    fn eval(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        const BLOCK: usize = 16_384;
        let (d, m) = (self.d, self.outputs);
        let n = self.y.len();
        let blocks = n.div_ceil(BLOCK).max(1);
        let mut partial = vec![0.0; blocks * (grad.len() + 1)];
        let width = grad.len() + 1;
        let work = |b: usize, out: &mut [f64]| {
            let rows = b * BLOCK..((b + 1) * BLOCK).min(n);
            let (loss, g) = out.split_at_mut(1);
            loss[0] = self.eval_rows(rows, theta, g);
        };
        let per = blocks.div_ceil(self.threads.max(1));
        if self.threads <= 1 || blocks == 1 {
            for (b, out) in partial.chunks_mut(width).enumerate() {
                work(b, out);
            }
        } else {
            let work = &work;
            std::thread::scope(|scope| {
                for (t, group) in partial.chunks_mut(per * width).enumerate() {
                    scope.spawn(move || {
                        for (j, out) in group.chunks_mut(width).enumerate() {
                            work(t * per + j, out);
                        }
                    });
                }
            });
        }
        grad.iter_mut().for_each(|g| *g = 0.0);
        let mut loss = 0.0;
        for out in partial.chunks(width) {
            loss += out[0];
            for (g, p) in grad.iter_mut().zip(&out[1..]) {
                *g += p;
            }
        }
        let w_part = &theta[..m * d];
        let mut penalty = 0.0;
        for (g, w) in grad[..m * d].iter_mut().zip(w_part) {
            penalty += w * w;
            *g += self.l2 * w;
        }
        loss += 0.5 * self.l2 * penalty;
        grad.iter_mut().for_each(|g| *g /= self.total);
        loss / self.total
    }

    /// The weighted loss of rows `rows`, and its gradient (without the penalty) into `grad`,
    /// which starts at zero.
    fn eval_rows(&self, rows: std::ops::Range<usize>, theta: &[f64], grad: &mut [f64]) -> f64 {
        let (d, m) = (self.d, self.outputs);
        let (w_part, b_part) = theta.split_at(m * d);
        let mut loss = 0.0;
        let mut z = vec![0.0; m];
        for i in rows {
            let (s, class) = (self.s[i], self.y[i]);
            if s == 0.0 {
                continue;
            }
            let row = &self.x[i * d..(i + 1) * d];
            for k in 0..m {
                z[k] = b_part[k]
                    + w_part[k * d..(k + 1) * d]
                        .iter()
                        .zip(row)
                        .map(|(w, x)| w * x)
                        .sum::<f64>();
            }
            if m == 1 {
                let t = (class == 1) as u8 as f64;
                // log(1 + e^z) − t·z, computed without overflow.
                let softplus = z[0].max(0.0) + (-z[0].abs()).exp().ln_1p();
                loss += s * (softplus - t * z[0]);
                let p = 1.0 / (1.0 + (-z[0]).exp());
                z[0] = s * (p - t);
            } else {
                let max = z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let sum: f64 = z.iter().map(|v| (v - max).exp()).sum();
                let log_sum = max + sum.ln();
                loss += s * (log_sum - z[class]);
                for (k, v) in z.iter_mut().enumerate() {
                    let p = (*v - log_sum).exp();
                    *v = s * (p - f64::from(k == class));
                }
            }
            for k in 0..m {
                let r = z[k];
                let g = &mut grad[k * d..(k + 1) * d];
                for (g, x) in g.iter_mut().zip(row) {
                    *g += r * x;
                }
                grad[m * d + k] += r;
            }
        }
        loss
    }
}

/// Minimises the logistic objective from zero with L-BFGS (ten corrections, backtracking
/// Armijo line search). Stops when the largest gradient component is at most `tol`, when steps
/// no longer lower the objective (the optimum to machine precision), or after `max_iter`
/// iterations. Returns the parameters and the iterations run.
fn lbfgs(problem: &Logistic, max_iter: usize, tol: f64) -> Result<(Vec<f64>, usize), ModelError> {
    const MEMORY: usize = 10;
    let size = problem.size();
    let mut theta = vec![0.0; size];
    let mut grad = vec![0.0; size];
    let mut f = problem.eval(&theta, &mut grad);
    let mut s_hist: Vec<Vec<f64>> = Vec::new();
    let mut y_hist: Vec<Vec<f64>> = Vec::new();
    let mut rho: Vec<f64> = Vec::new();
    let mut next = vec![0.0; size];
    let mut next_grad = vec![0.0; size];
    let mut iterations = 0;
    let max_abs = |g: &[f64]| g.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    while iterations < max_iter && max_abs(&grad) > tol {
        iterations += 1;
        // Two-loop recursion: direction = −H·grad.
        let mut q: Vec<f64> = grad.clone();
        let mut alpha = vec![0.0; s_hist.len()];
        for j in (0..s_hist.len()).rev() {
            alpha[j] = rho[j] * dot(&s_hist[j], &q);
            axpy(-alpha[j], &y_hist[j], &mut q);
        }
        if let (Some(s), Some(y)) = (s_hist.last(), y_hist.last()) {
            let gamma = dot(s, y) / dot(y, y);
            q.iter_mut().for_each(|v| *v *= gamma);
        } else {
            let norm = dot(&grad, &grad).sqrt();
            q.iter_mut().for_each(|v| *v /= norm.max(1.0));
        }
        for j in 0..s_hist.len() {
            let beta = rho[j] * dot(&y_hist[j], &q);
            axpy(alpha[j] - beta, &s_hist[j], &mut q);
        }
        let mut direction: Vec<f64> = q.iter().map(|v| -v).collect();
        let mut slope = dot(&grad, &direction);
        if slope >= 0.0 {
            // Not a descent direction (rounding): restart from steepest descent.
            s_hist.clear();
            y_hist.clear();
            rho.clear();
            direction = grad.iter().map(|g| -g).collect();
            slope = dot(&grad, &direction);
        }
        let mut step = 1.0;
        let mut accepted = false;
        let mut stalled = false;
        for _ in 0..60 {
            for ((n, t), d) in next.iter_mut().zip(&theta).zip(&direction) {
                *n = t + step * d;
            }
            let f_next = problem.eval(&next, &mut next_grad);
            if f_next.is_finite() && f_next <= f + 1e-4 * step * slope {
                accepted = true;
                let s: Vec<f64> = next.iter().zip(&theta).map(|(a, b)| a - b).collect();
                let y: Vec<f64> = next_grad.iter().zip(&grad).map(|(a, b)| a - b).collect();
                let sy = dot(&s, &y);
                if sy > 1e-16 * dot(&y, &y).max(f64::MIN_POSITIVE) {
                    if s_hist.len() == MEMORY {
                        s_hist.remove(0);
                        y_hist.remove(0);
                        rho.remove(0);
                    }
                    s_hist.push(s);
                    y_hist.push(y);
                    rho.push(1.0 / sy);
                }
                // A step that no longer lowers the objective at all means the optimum is
                // reached to machine precision: rounding hides any further progress.
                stalled = f_next >= f;
                std::mem::swap(&mut theta, &mut next);
                std::mem::swap(&mut grad, &mut next_grad);
                f = f_next;
                break;
            }
            step *= 0.5;
        }
        if !accepted || stalled {
            break;
        }
    }
    if theta.iter().any(|v| !v.is_finite()) {
        return Err(ModelError::Training(
            "linear: the optimiser diverged (non-finite weights)".into(),
        ));
    }
    Ok((theta, iterations))
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn axpy(a: f64, x: &[f64], y: &mut [f64]) {
    for (y, x) in y.iter_mut().zip(x) {
        *y += a * x;
    }
}
