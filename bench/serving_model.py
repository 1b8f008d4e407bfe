#!/usr/bin/env python3
"""The scikit-learn twin of shared/models/logreg_binary.onnx, saved as an MLflow model, and the
one-row request body both servers get in bench/serving.sh.

The ONNX model was exported by testdata/onnx/export_models.py from a LogisticRegression(lbfgs,
max_iter=2000) fitted on rows 0-2999 of the `binary` data set (make_classification with
random_state=42, columns rescaled, cast to float32). This script fits the same estimator on the
same rows, then gives it the ONNX file's weights: on these badly scaled columns lbfgs stops at
slightly different weights from one scipy/BLAS build to another (up to 0.03 in probability was
seen), and the benchmark must serve one model twice. The result is checked against the
probabilities onnxruntime gave for the 5 fixed rows (<model>.expected.json).

Usage: serving_model.py --onnx logreg_binary.onnx --expected logreg_binary.expected.json
                        --model-dir DIR --body FILE
"""
import argparse
import json

import mlflow.sklearn
import numpy as np
import onnx
import pandas as pd
from mlflow.models import infer_signature
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

N_FEATURES = 10
N_TRAIN = 3000
N_EVAL = 1000
# The per-column scales export_models.py applies to the `binary` data set.
SCALES = np.array([1, 10, 100, 0.1, 5, 50, 0.5, 2, 20, 1000], dtype=np.float64)
COLUMNS = [f"f{j}" for j in range(N_FEATURES)]


def onnx_weights(path):
    """The positive class's weights and intercept of a binary skl2onnx LinearClassifier."""
    graph = onnx.load(path).graph
    (node,) = [n for n in graph.node if n.op_type == "LinearClassifier"]
    attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
    if list(attrs["classlabels_ints"]) != [0, 1] or attrs["post_transform"] != b"LOGISTIC":
        raise SystemExit(f"{path}: not a binary logistic LinearClassifier")
    # One row of coefficients per class; class 1's row is the decision function sklearn keeps.
    coef = np.array(attrs["coefficients"], dtype=np.float64).reshape(2, N_FEATURES)[1]
    return coef, np.array(attrs["intercepts"], dtype=np.float64)[1:]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--onnx", required=True, help="logreg_binary.onnx")
    ap.add_argument("--expected", required=True, help="logreg_binary.expected.json")
    ap.add_argument("--model-dir", required=True, help="where to save the MLflow model")
    ap.add_argument("--body", required=True, help="where to write the request body")
    args = ap.parse_args()

    x, y = make_classification(
        n_samples=N_TRAIN + N_EVAL, n_features=N_FEATURES, n_informative=6,
        n_redundant=2, n_classes=2, random_state=42)
    x = (x * SCALES).astype(np.float32)
    # Fitted on named float64 columns: requests arrive as named columns, and MLflow's schema
    # check refuses to narrow the float64 values JSON parses to.
    frame = pd.DataFrame(x[:N_TRAIN].astype(np.float64), columns=COLUMNS)
    model = LogisticRegression(max_iter=2000).fit(frame, y[:N_TRAIN])
    coef, intercept = onnx_weights(args.onnx)
    model.coef_ = coef.reshape(1, N_FEATURES)
    model.intercept_ = intercept.reshape(1)

    expected = json.load(open(args.expected))
    rows = pd.DataFrame(np.array(expected["rows"], dtype=np.float32).astype(np.float64),
                        columns=COLUMNS)
    want = np.array(expected["expected"]["probabilities"])
    got = model.predict_proba(rows)
    gap = float(np.abs(got - want).max())
    # ONNX Runtime computes in float32, scikit-learn in float64: 1e-5 is the README's tolerance.
    if gap > 1e-5 or model.predict(rows).tolist() != expected["expected"]["label"]:
        raise SystemExit(f"the sklearn twin differs from the ONNX model (max |dp| {gap:.2e})")

    mlflow.sklearn.save_model(
        model, args.model_dir, signature=infer_signature(frame, model.predict(frame)))

    body = {"dataframe_split": {"columns": COLUMNS, "data": [rows.iloc[0].tolist()]}}
    with open(args.body, "w") as f:
        json.dump(body, f)
    print(f"sklearn twin matches the ONNX model on the 5 fixed rows (max |dp| {gap:.1e}); "
          f"answer for the bench row: {int(model.predict(rows.iloc[:1])[0])}")


if __name__ == "__main__":
    main()
