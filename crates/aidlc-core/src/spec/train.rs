//! `[train]`: how `aidlc train` makes a model — a built-in trainer with its hyperparameters, or
//! an external command — and the rules a complete section follows.

use serde::{Deserialize, Serialize};

use super::reader::{ReadSection, Reader, Section};
use std::fmt;
use std::str::FromStr;

use super::{Keyword, LabelDelay, Task};

keyword_enum! {
    /// A trainer built into aidlc.
    BuiltinTrainer {
        /// The `[baseline]` itself (prior, majority or mean), as a model.
        Baseline => "baseline",
        /// Logistic regression (classification) or ridge regression (regression).
        Logistic => "logistic",
        /// Histogram-based gradient-boosted trees.
        Gbdt => "gbdt",
    }
}

keyword_enum! {
    /// How classes are weighted in the loss.
    ClassWeight {
        /// Every row counts once.
        None => "none",
        /// Rows weigh inversely to their class's frequency.
        Balanced => "balanced",
    }
}

/// `[train]`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainSection {
    /// A built-in trainer.
    pub builtin: Option<BuiltinTrainer>,
    /// An external training command, run in the project folder; it writes `model.onnx` into
    /// `$AIDLC_OUTPUT_DIR`.
    pub command: Option<String>,
    /// How long the external command may run.
    pub timeout: Option<LabelDelay>,
    /// Seed of every random choice in training; a whole number.
    pub seed: Option<f64>,
    /// The feature columns; every column but the label, time, entity and `[data] exclude` when
    /// not written.
    pub features: Vec<String>,
    /// `[train.logistic]`.
    pub logistic: LogisticSection,
    /// `[train.gbdt]`.
    pub gbdt: GbdtSection,
}

/// `[train.logistic]`: hyperparameters of the linear trainer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LogisticSection {
    /// L2 penalty strength on the standardized weights.
    pub l2: Option<f64>,
    pub class_weight: Option<ClassWeight>,
    pub max_iter: Option<f64>,
}

/// `[train.gbdt]`: hyperparameters of the gradient-boosted trees.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct GbdtSection {
    pub n_trees: Option<f64>,
    pub learning_rate: Option<f64>,
    pub max_leaves: Option<f64>,
    pub max_depth: Option<f64>,
    pub min_samples_leaf: Option<f64>,
    pub l2: Option<f64>,
    pub max_bins: Option<f64>,
    pub early_stopping_rounds: Option<f64>,
    pub subsample: Option<f64>,
    pub feature_fraction: Option<f64>,
    pub class_weight: Option<ClassWeight>,
}

const DURATION_EXPECTED: &str = "a duration such as \"30m\" or \"2h\"";

impl ReadSection for TrainSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        TrainSection {
            builtin: r.keyword(s, "builtin"),
            command: r.text(s, "command"),
            timeout: r.parsed(s, "timeout", DURATION_EXPECTED, |text| {
                LabelDelay::parse(text).map_err(|reason| (reason, None))
            }),
            seed: r.number(s, "seed"),
            features: r.strings(s, "features"),
            logistic: r.section(s, "logistic"),
            gbdt: r.section(s, "gbdt"),
        }
    }
}

impl ReadSection for LogisticSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        LogisticSection {
            l2: r.number(s, "l2"),
            class_weight: r.keyword(s, "class_weight"),
            max_iter: r.number(s, "max_iter"),
        }
    }
}

impl ReadSection for GbdtSection {
    fn read(r: &mut Reader<'_>, s: &mut Section<'_, '_>) -> Self {
        GbdtSection {
            n_trees: r.number(s, "n_trees"),
            learning_rate: r.number(s, "learning_rate"),
            max_leaves: r.number(s, "max_leaves"),
            max_depth: r.number(s, "max_depth"),
            min_samples_leaf: r.number(s, "min_samples_leaf"),
            l2: r.number(s, "l2"),
            max_bins: r.number(s, "max_bins"),
            early_stopping_rounds: r.number(s, "early_stopping_rounds"),
            subsample: r.number(s, "subsample"),
            feature_fraction: r.number(s, "feature_fraction"),
            class_weight: r.keyword(s, "class_weight"),
        }
    }
}

/// A content problem of `[train]`: the key and the message.
pub(crate) fn problems(train: &TrainSection, task: Option<Task>) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if train.builtin.is_some() && train.command.is_some() {
        out.push((
            "train",
            "give `train.builtin` or `train.command`, not both".to_string(),
        ));
    }
    if train
        .command
        .as_deref()
        .is_some_and(|c| c.trim().is_empty())
    {
        out.push(("train.command", "`train.command` is empty".to_string()));
    }
    let whole = |key: &'static str, v: Option<f64>, min: f64, out: &mut Vec<_>| {
        if let Some(v) = v
            && (v.fract() != 0.0 || v < min)
        {
            out.push((
                key,
                format!("`{key}` = {v} must be a whole number >= {min}"),
            ));
        }
    };
    let open_unit = |key: &'static str, v: Option<f64>, out: &mut Vec<_>| {
        if let Some(v) = v
            && !(v > 0.0 && v <= 1.0)
        {
            out.push((key, format!("`{key}` = {v} must be in (0, 1]")));
        }
    };
    let non_negative = |key: &'static str, v: Option<f64>, out: &mut Vec<_>| {
        if let Some(v) = v
            && v < 0.0
        {
            out.push((key, format!("`{key}` = {v} must be >= 0")));
        }
    };
    whole("train.seed", train.seed, 0.0, &mut out);
    non_negative("train.logistic.l2", train.logistic.l2, &mut out);
    whole(
        "train.logistic.max_iter",
        train.logistic.max_iter,
        1.0,
        &mut out,
    );
    let g = &train.gbdt;
    whole("train.gbdt.n_trees", g.n_trees, 1.0, &mut out);
    whole("train.gbdt.max_leaves", g.max_leaves, 2.0, &mut out);
    whole("train.gbdt.max_depth", g.max_depth, 1.0, &mut out);
    whole(
        "train.gbdt.min_samples_leaf",
        g.min_samples_leaf,
        1.0,
        &mut out,
    );
    whole(
        "train.gbdt.early_stopping_rounds",
        g.early_stopping_rounds,
        1.0,
        &mut out,
    );
    whole("train.gbdt.max_bins", g.max_bins, 2.0, &mut out);
    if let Some(b) = g.max_bins
        && b > 255.0
    {
        out.push((
            "train.gbdt.max_bins",
            format!("`train.gbdt.max_bins` = {b} must be at most 255"),
        ));
    }
    open_unit("train.gbdt.learning_rate", g.learning_rate, &mut out);
    open_unit("train.gbdt.subsample", g.subsample, &mut out);
    open_unit("train.gbdt.feature_fraction", g.feature_fraction, &mut out);
    non_negative("train.gbdt.l2", g.l2, &mut out);
    let weighted = train.logistic.class_weight == Some(ClassWeight::Balanced)
        || g.class_weight == Some(ClassWeight::Balanced);
    if weighted && task == Some(Task::Regression) {
        out.push((
            "train",
            "`class_weight = \"balanced\"` needs a classification task".to_string(),
        ));
    }
    out
}
