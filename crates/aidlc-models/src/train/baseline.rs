//! Baselines every real model must beat: class priors, the majority class and the mean value.
//! They ignore the features, but keep them in the signature so they score the same frames as
//! the models they are compared with.

use super::{Target, TrainOutcome, TrainSet, mean_loss, model_of};
use crate::builtin::{Encoding, Predictor};
use crate::error::ModelError;
use aidlc_data::Column;

/// Encodings that pass every feature through untouched; a constant never reads them.
fn pass_through(set: &TrainSet) -> Vec<Encoding> {
    set.features
        .columns
        .iter()
        .map(|c| match c {
            Column::Numeric(_) => Encoding::Numeric {
                fill: None,
                center: 0.0,
                scale: 1.0,
            },
            Column::Categorical(_) => Encoding::Ordinal {
                categories: Vec::new(),
            },
        })
        .collect()
}

/// The weighted class frequencies, or (with `majority`) probability 1 on the most frequent class
/// (the first class on a tie).
pub(super) fn prior(
    train: &TrainSet,
    valid: Option<&TrainSet>,
    majority: bool,
) -> Result<TrainOutcome, ModelError> {
    let Target::Classes { classes, y } = &train.target else {
        return Err(ModelError::Training(
            "the prior and majority baselines need a classification target; use `mean` for regression".into(),
        ));
    };
    let mut scores = vec![0.0; classes.len()];
    for (i, &c) in y.iter().enumerate() {
        scores[c] += train.weight(i);
    }
    let total: f64 = scores.iter().sum();
    scores.iter_mut().for_each(|s| *s /= total);
    if majority {
        let best = (0..scores.len()).fold(0, |b, c| if scores[c] > scores[b] { c } else { b });
        scores = (0..scores.len()).map(|c| f64::from(c == best)).collect();
    }
    let history = valid
        .map(|v| {
            let predicted: Vec<f64> = (0..v.features.n_rows)
                .flat_map(|_| scores.iter().copied())
                .collect();
            vec![mean_loss(&v.target, v.weights.as_deref(), &predicted)]
        })
        .unwrap_or_default();
    Ok(outcome(train, Predictor::Constant { scores }, history))
}

/// The weighted mean of a regression target.
pub(super) fn mean(train: &TrainSet, valid: Option<&TrainSet>) -> Result<TrainOutcome, ModelError> {
    let Target::Values(v) = &train.target else {
        return Err(ModelError::Training(
            "the mean baseline needs a regression target; use `prior` or `majority` for classes"
                .into(),
        ));
    };
    let (mut sum, mut weight) = (0.0, 0.0);
    for (i, x) in v.iter().enumerate() {
        sum += train.weight(i) * x;
        weight += train.weight(i);
    }
    let value = sum / weight;
    let history = valid
        .map(|v| {
            let predicted = vec![value; v.features.n_rows];
            vec![mean_loss(&v.target, v.weights.as_deref(), &predicted)]
        })
        .unwrap_or_default();
    Ok(outcome(
        train,
        Predictor::Constant {
            scores: vec![value],
        },
        history,
    ))
}

fn outcome(train: &TrainSet, predictor: Predictor, valid_history: Vec<f64>) -> TrainOutcome {
    TrainOutcome {
        model: model_of(train, pass_through(train), predictor),
        iterations: 0,
        best_iteration: None,
        valid_history,
        feature_importance: train
            .features
            .names
            .iter()
            .map(|n| (n.clone(), 0.0))
            .collect(),
    }
}
