"""Generates testdata/sklearn/sklearn_metrics.json: scikit-learn reference values for the
metrics and calibration code of aidlc-stats (checked by crates/aidlc-stats/tests/vectors/metrics.rs).

Run once with scikit-learn installed (outside the repository, e.g. a throwaway venv):
    python gen.py > sklearn_metrics.json
The JSON is committed so that the Rust tests never need Python. The file uses the same case
layout as testdata/vectors (name, inputs, params, expected, tolerance); `params.kind` says which
check a case belongs to. Non-finite numbers are written as the strings "Infinity"/"-Infinity"/"NaN".
"""

import json
import math
import sys

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.isotonic import IsotonicRegression
from sklearn.metrics import (
    accuracy_score,
    average_precision_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    precision_recall_curve,
    precision_score,
    r2_score,
    recall_score,
    roc_auc_score,
    roc_curve,
)

SEED = 20240611
TOL = {"abs": 1e-14, "rel": 1e-12}


def enc(x):
    """JSON-safe value: lists recursively, non-finite floats as strings."""
    if isinstance(x, (list, tuple, np.ndarray)):
        return [enc(v) for v in x]
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (float, np.floating)):
        x = float(x)
        if math.isnan(x):
            return "NaN"
        if math.isinf(x):
            return "Infinity" if x > 0 else "-Infinity"
        return x
    return x


def case(name, kind, inputs, expected, params=None, exact=()):
    params = dict(params or {})
    params["kind"] = kind
    tolerance = {k: ("exact" if k in exact else TOL) for k in expected}
    return {
        "name": name,
        "inputs": {k: enc(v) for k, v in inputs.items()},
        "params": params,
        "expected": {k: enc(v) for k, v in expected.items()},
        "tolerance": tolerance,
    }


def binary_scores_case(name, y, s):
    y = np.asarray(y, dtype=float)
    s = np.asarray(s, dtype=float)
    fpr, tpr, thr = roc_curve(y, s, drop_intermediate=True)
    ffpr, ftpr, fthr = roc_curve(y, s, drop_intermediate=False)
    prec, rec, pthr = precision_recall_curve(y, s)
    return case(
        name,
        "binary_scores",
        {"y_true": y, "y_score": s},
        {
            "roc_auc": roc_auc_score(y, s),
            "average_precision": average_precision_score(y, s),
            "log_loss": log_loss(y, s, labels=[0, 1]),
            "brier": brier_score_loss(y, s),
            "roc_fpr": fpr,
            "roc_tpr": tpr,
            "roc_thresholds": thr,
            "roc_full_fpr": ffpr,
            "roc_full_tpr": ftpr,
            "roc_full_thresholds": fthr,
            "pr_precision": prec,
            "pr_recall": rec,
            "pr_thresholds": pthr,
        },
    )


def binary_labels_case(name, y, p):
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    zd = {"zero_division": 0}
    return case(
        name,
        "binary_labels",
        {"y_true": y, "y_pred": p},
        {
            "accuracy": accuracy_score(y, p),
            "precision": precision_score(y, p, **zd),
            "recall": recall_score(y, p, **zd),
            "f1": f1_score(y, p, **zd),
            "specificity": recall_score(y, p, pos_label=0, **zd),
        },
    )


def main():
    rng = np.random.default_rng(SEED)
    cases = []

    # Binary scores: heavy ties (scores on a coarse grid), exact 0 and 1 probabilities
    # (log-loss clipping), a larger continuous case and an imbalanced one.
    y = [1, 0, 1, 1, 0, 0]
    s = [0.9, 0.8, 0.8, 0.5, 0.5, 0.1]
    cases.append(binary_scores_case("scores_six_rows_ties", y, s))
    n = 40
    y = rng.integers(0, 2, n)
    s = rng.integers(0, 6, n) / 5.0  # values 0, 0.2, ..., 1 with many ties
    cases.append(binary_scores_case("scores_grid_ties_with_0_and_1", y, s))
    n = 300
    y = rng.integers(0, 2, n)
    s = np.clip(rng.normal(0.35 + 0.3 * y, 0.2), 0, 1)
    cases.append(binary_scores_case("scores_continuous_300", y, s))
    n = 200
    y = (rng.random(n) < 0.08).astype(int)
    y[0] = 1
    s = np.round(np.clip(rng.beta(2, 5, n) + 0.25 * y, 0, 1), 2)
    cases.append(binary_scores_case("scores_imbalanced_rounded", y, s))

    # Binary labels, including zero-division situations.
    y = rng.integers(0, 2, 50)
    p = np.where(rng.random(50) < 0.7, y, 1 - y)
    cases.append(binary_labels_case("labels_random_50", y, p))
    cases.append(binary_labels_case("labels_no_predicted_positive", [1, 0, 1, 0], [0, 0, 0, 0]))
    cases.append(binary_labels_case("labels_no_positive_at_all", [0, 0, 0], [0, 0, 0]))

    # Multiclass: labels and probability rows.
    n, k = 60, 4
    yt = rng.integers(0, k, n)
    yt[:k] = np.arange(k)  # every class present, so log_loss needs no explicit labels
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[yt]
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    yp = proba.argmax(axis=1)
    yp[5] = 3  # make sure a wrong prediction of the last class exists
    cases.append(
        case(
            "multiclass_four_classes",
            "multiclass",
            {"y_true": yt, "y_pred": yp, "probabilities": proba.ravel(), "n_classes": k},
            {
                "accuracy": accuracy_score(yt, yp),
                "f1_macro": f1_score(yt, yp, average="macro"),
                "f1_micro": f1_score(yt, yp, average="micro"),
                "f1_weighted": f1_score(yt, yp, average="weighted"),
                "log_loss": log_loss(yt, proba),
                "confusion_matrix": confusion_matrix(yt, yp, labels=list(range(k))).ravel(),
            },
            exact=("confusion_matrix",),
        )
    )

    # Regression, including a zero target for MAPE's epsilon.
    n = 80
    yt = rng.normal(10, 3, n)
    yt[3] = 0.0
    yp = yt + rng.normal(0, 1.5, n)
    cases.append(
        case(
            "regression_80",
            "regression",
            {"y_true": yt, "y_pred": yp},
            {
                "mae": mean_absolute_error(yt, yp),
                "mse": mean_squared_error(yt, yp),
                "rmse": math.sqrt(mean_squared_error(yt, yp)),
                "r2": r2_score(yt, yp),
                "mape": mean_absolute_percentage_error(yt, yp),
            },
        )
    )

    # Calibration curves: uniform and quantile, with probabilities on bin edges and ties.
    n = 150
    prob = np.round(rng.random(n), 1)
    yt = (rng.random(n) < prob).astype(int)
    for strategy, bins in [("uniform", 10), ("quantile", 10), ("quantile", 7), ("uniform", 3)]:
        pt, pp = calibration_curve(yt, prob, n_bins=bins, strategy=strategy)
        cases.append(
            case(
                f"calibration_{strategy}_{bins}",
                "calibration_curve",
                {"y_true": yt, "y_prob": prob},
                {"prob_true": pt, "prob_pred": pp},
                params={"n_bins": bins, "strategy": strategy},
            )
        )
    prob = rng.beta(2, 3, 200)
    yt = (rng.random(200) < prob ** 1.3).astype(int)
    pt, pp = calibration_curve(yt, prob, n_bins=8, strategy="quantile")
    cases.append(
        case(
            "calibration_quantile_continuous",
            "calibration_curve",
            {"y_true": yt, "y_prob": prob},
            {"prob_true": pt, "prob_pred": pp},
            params={"n_bins": 8, "strategy": "quantile"},
        )
    )

    # Isotonic regression: tied x values, 0/1 targets, clipping outside the fitted range.
    for name, x, yv in [
        ("isotonic_ties_binary", np.round(rng.random(60), 1), None),
        ("isotonic_continuous_real_targets", rng.normal(0, 1, 80), "real"),
    ]:
        if yv is None:
            yv = (rng.random(len(x)) < x).astype(float)
        else:
            yv = x + rng.normal(0, 0.8, len(x))
        iso = IsotonicRegression(out_of_bounds="clip", increasing=True).fit(x, yv)
        probes = np.concatenate([[x.min() - 1, x.max() + 1], rng.uniform(x.min(), x.max(), 15), x[:5]])
        cases.append(
            case(
                name,
                "isotonic",
                {"x": x, "y": yv, "probes": probes},
                {
                    "predictions": iso.predict(probes),
                    "x_thresholds": iso.X_thresholds_,
                    "y_thresholds": iso.y_thresholds_,
                },
            )
        )

    doc = {
        "family": "sklearn_metrics",
        "reference": {
            "package": "scikit-learn",
            "version": sklearn.__version__,
            "function": "sklearn.metrics / calibration_curve / IsotonicRegression",
        },
        "conventions": "scikit-learn defaults; log_loss on 1-D probabilities with labels=[0, 1]; "
        "specificity = recall of class 0; zero_division=0 for label metrics.",
        "generator": {"script": "testdata/sklearn/gen.py", "seed": SEED, "numpy": np.__version__},
        "cases": cases,
    }
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
