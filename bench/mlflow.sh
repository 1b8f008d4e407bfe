#!/usr/bin/env bash
# Tracking-server benchmark: the same mlflow 3.17 client (bench/mlflow_bench.py) against MLflow's
# own server (sqlite backend, default 4 workers) and against `aidlc server` (SQLite), one after
# the other in one run: 2,000 sequential log_metric calls, 100 × log_batch of 100 metrics, and
# search_runs over 500 runs (all, and with a filter and an order).
#
# Usage: bench/mlflow.sh [--reps N] [--only aidlc|mlflow]
#
# Environment: CARGO_TARGET_DIR (default <repo>/target) is where the release build goes;
# AIDLC_BIN overrides the aidlc binary. The Python environment is target/mlflow-venv (the one CI
# uses), created on the first run.
set -euo pipefail

reps=1
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --reps) reps="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "usage: $0 [--reps N] [--only aidlc|mlflow]" >&2; exit 2 ;;
  esac
done

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
aidlc_bin=${AIDLC_BIN:-$target/release/aidlc}
venv=$root/target/mlflow-venv

if ! "$venv/bin/python" -c 'import mlflow, sklearn' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'mlflow==3.17.*' scikit-learn
fi
if [ -z "${AIDLC_BIN:-}" ]; then
  cargo build --release --bin aidlc
fi

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ "$only" != "aidlc" ]; then
  port=$(free_port)
  mkdir -p "$work/mlflow/artifacts"
  "$venv/bin/mlflow" server --host 127.0.0.1 --port "$port" \
    --backend-store-uri "sqlite:///$work/mlflow/mlflow.db" \
    --artifacts-destination "$work/mlflow/artifacts" > "$work/mlflow/server.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/health" > /dev/null 2>&1 && break
    sleep 0.2
  done
  "$venv/bin/python" "$bench/mlflow_bench.py" "http://127.0.0.1:$port" "mlflow-server-sqlite" --reps "$reps"
fi

if [ "$only" != "mlflow" ]; then
  mkdir -p "$work/aidlc"
  "$aidlc_bin" --project "$work/aidlc" server --bind 127.0.0.1:0 --log-level warn > "$work/aidlc/ready" &
  pids+=($!)
  for _ in $(seq 1 200); do grep -q listening "$work/aidlc/ready" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's/.*listening on //p' "$work/aidlc/ready")
  "$venv/bin/python" "$bench/mlflow_bench.py" "$addr" "aidlc-server-sqlite" --reps "$reps"
fi

echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
