"""An external trainer for `aidlc train`: scikit-learn logistic regression exported with skl2onnx.

aidlc runs this in the project folder with:
  AIDLC_TRAIN_PATH, AIDLC_VALID_PATH  Parquet files of the split (all columns)
  AIDLC_FEATURES                      the feature columns, comma-separated
  AIDLC_LABEL                         the label column
  AIDLC_OUTPUT_DIR                    where model.onnx must be written
  MLFLOW_TRACKING_URI, MLFLOW_RUN_ID  aidlc's tracking server and the run it opened
Anything logged with the mlflow client lands in that run; stdout and stderr are kept as run
artifacts.
"""

import json
import os

import mlflow
import numpy as np
import pandas as pd
from onnx import StringStringEntryProto
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

features = os.environ["AIDLC_FEATURES"].split(",")
label = os.environ["AIDLC_LABEL"]
train = pd.read_parquet(os.environ["AIDLC_TRAIN_PATH"])
valid = pd.read_parquet(os.environ["AIDLC_VALID_PATH"])
x_train = train[features].to_numpy(dtype=np.float32)
y_train = train[label].astype(int).to_numpy()
x_valid = valid[features].to_numpy(dtype=np.float32)
y_valid = valid[label].astype(int).to_numpy()

C = float(os.environ.get("TRAIN_C", "1.0"))
model = make_pipeline(StandardScaler(), LogisticRegression(C=C, max_iter=1000))
model.fit(x_train, y_train)
auc = roc_auc_score(y_valid, model.predict_proba(x_valid)[:, 1])
print(f"validation roc_auc {auc:.4f} on {len(y_valid)} rows")

# The run is aidlc's: log into it rather than starting a new one.
with mlflow.start_run(run_id=os.environ["MLFLOW_RUN_ID"]):
    mlflow.log_param("C", C)
    mlflow.log_metric("valid_roc_auc", auc)

# One float input [N, F] named `input`, no ZipMap: outputs `label` and `probabilities`. The
# `aidlc.features` metadata tells aidlc which column is which.
onx = convert_sklearn(
    model,
    initial_types=[("input", FloatTensorType([None, len(features)]))],
    options={id(model.steps[-1][1]): {"zipmap": False}},
    target_opset={"": 17, "ai.onnx.ml": 3},
)
onx.metadata_props.append(
    StringStringEntryProto(
        key="aidlc.features",
        value=json.dumps([{"name": f, "kind": "numeric", "nullable": False} for f in features]),
    )
)
with open(os.path.join(os.environ["AIDLC_OUTPUT_DIR"], "model.onnx"), "wb") as f:
    f.write(onx.SerializeToString())
