#!/usr/bin/env bash
# Serves the ten ONNX test models and a trained built-in model with `aidlc server` and checks
# them with the real tritonclient (binary and JSON) and MLflow's scoring protocol
# (tests/serving/triton_client_test.py).
#
# Usage: tests/serving/run.sh AIDLC_BINARY PYTHON
# PYTHON must have `tritonclient[http]`, numpy and requests; ORT_DYLIB_PATH must name
# libonnxruntime.so. Exits non-zero when a check fails.
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=$(realpath "$1")
py=$2
: "${ORT_DYLIB_PATH:?set ORT_DYLIB_PATH to libonnxruntime.so}"
export ORT_DYLIB_PATH
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT

# A built-in model with named features, and its answers from `aidlc predict` to compare with.
(
  cd "$dir"
  "$bin" init --example rainfall > /dev/null
  "$bin" train --data data/rainfall.csv > train.log 2>&1
  "$bin" models alias rainfall production 1 > /dev/null
  head -21 data/rainfall.csv > rows.csv
  "$bin" predict --model rainfall/1 --input rows.csv --out scored.csv > /dev/null
)
models="logreg_binary logreg_multiclass scaler_logreg scaler_div_logreg rf_classifier gb_classifier hgb_classifier gb_regressor xgb_classifier lgbm_classifier"
for m in $models; do
  "$bin" --project "$dir" models register "$m" --file "testdata/onnx/$m.onnx" > /dev/null
  "$bin" --project "$dir" models alias "$m" production 1 > /dev/null
done

"$bin" --project "$dir" server --bind 127.0.0.1:0 --log-level warn > "$dir/ready" 2> "$dir/server.log" &
pid=$!
for _ in $(seq 1 200); do grep -q listening "$dir/ready" 2>/dev/null && break; sleep 0.1; done
addr=$(sed -n 's/.*listening on //p' "$dir/ready")
rc=0
if [ -z "$addr" ]; then
  echo "aidlc server did not start"; cat "$dir/server.log"; rc=1
else
  # shellcheck disable=SC2086 # one argument per model name
  "$py" tests/serving/triton_client_test.py "$addr" --onnx-dir testdata/onnx --onnx $models \
    --builtin rainfall --scored "$dir/scored.csv" || rc=$?
fi
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
[ "$rc" -eq 0 ] || { echo "serving client test failed; server log:"; tail -40 "$dir/server.log"; }
exit "$rc"
