#!/usr/bin/env bash
# Serving benchmark: single-row requests against `aidlc server` and against `mlflow models serve`
# of the same logistic regression, in one run, at concurrency 1 and 32, with the `oha` load
# generator. Both servers get the same body on the same path: MLflow's scoring protocol,
# `POST /invocations` with a one-row `dataframe_split`.
#
#   aidlc: the release build serves testdata/onnx/logreg_binary.onnx (the copy of
#     shared/models/logreg_binary.onnx) through ONNX Runtime, deployed from the `champion`
#     alias, with the server's defaults: prediction log on when the build has one, request log
#     at `warn`. When `aidlc deploy --help` offers `--strategy`, the same file is registered as
#     version 2 and a shadow rollout mirrors every request to it (`[deploy] interval = "1h"`
#     keeps the rollout on its shadow step for the whole run).
#   MLflow: `mlflow models serve --env-manager local` of the scikit-learn LogisticRegression
#     with the ONNX model's weights (bench/serving_model.py), with its default worker count
#     (1) and with `-w 2`, one per core.
#
# Usage: bench/serving.sh [--duration SECS] [--warmup SECS] [--mlflow-workers "1 2"]
#                         [--only aidlc|mlflow] [--out FILE]
#
# Environment: CARGO_TARGET_DIR (default <repo>/target) is where the release build goes;
# AIDLC_BIN overrides the aidlc binary; OHA_BIN overrides the load generator (by default it is
# installed once into target/tools with `cargo install oha --locked`). The Python environment is
# target/mlflow-venv (the one CI uses), created on the first run. The Markdown summary goes to
# stdout and, with --out, to FILE.
set -euo pipefail

duration=10
warmup=3
mlflow_workers="1 2"
only=""
out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) duration="$2"; shift 2 ;;
    --warmup) warmup="$2"; shift 2 ;;
    --mlflow-workers) mlflow_workers="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    *) echo "usage: $0 [--duration SECS] [--warmup SECS] [--mlflow-workers \"1 2\"] [--only aidlc|mlflow] [--out FILE]" >&2; exit 2 ;;
  esac
done

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
aidlc_bin=${AIDLC_BIN:-$target/release/aidlc}
venv=$root/target/mlflow-venv
oha_bin=${OHA_BIN:-$root/target/tools/bin/oha}
onnx_model=$root/testdata/onnx/logreg_binary.onnx

# The same environment as .ci/run, so either creates it for the other.
if ! "$venv/bin/python" -c 'import mlflow, sklearn, skl2onnx, onnxruntime, tritonclient.http
assert onnxruntime.__version__ == "1.32.0"' 2>/dev/null; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'mlflow==3.17.*' scikit-learn skl2onnx 'onnxruntime==1.32.0' \
    'tritonclient[http]' requests
fi
ORT_DYLIB_PATH="$(ls "$venv"/lib/python3*/site-packages/onnxruntime/capi/libonnxruntime.so.* | head -1)"
export ORT_DYLIB_PATH
# `mlflow models serve` starts `uvicorn` by name.
export PATH="$venv/bin:$PATH"
if [ ! -x "$oha_bin" ]; then
  cargo install oha --locked --root "$root/target/tools"
fi
if [ -z "${AIDLC_BIN:-}" ] && [ "$only" != "mlflow" ]; then
  cargo build --release -p aidlc
fi

work=$(mktemp -d)
# Every server runs in its own process group (setsid), so stopping it stops its workers too.
groups=()
stop_group() { kill -TERM -- "-$1" 2>/dev/null || true; }
cleanup() {
  for g in "${groups[@]}"; do stop_group "$g"; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { "$venv/bin/python" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
cells=$work/cells.tsv
notes=$work/notes.txt
: > "$cells"
: > "$notes"
note() { echo "$*" | tee -a "$notes" >&2; }

# One oha run: $1 label, $2 concurrency, $3 seconds, $4 URL, $5 (optional) the server's
# Prometheus URL, read before and after so the server's own latency histogram of the cell can be
# set beside the client's figures. The JSON goes to $work/<label>-c<n>.json.
load() {
  local label=$1 conc=$2 secs=$3 url=$4 metrics=${5:-}
  local file=$work/$label-c$conc.json
  local before; before=$(loadavg)
  if [ -n "$metrics" ]; then curl -s "$metrics" > "$file.metrics-before"; fi
  "$oha_bin" --no-tui --output-format json -z "${secs}s" -c "$conc" -w \
    -m POST -H 'Content-Type: application/json' -D "$work/body.json" "$url" > "$file"
  if [ -n "$metrics" ]; then curl -s "$metrics" > "$file.metrics-after"; fi
  printf '%s\t%s\t%s\t%s\t%s\n' "$label" "$conc" "$file" "$before" "${metrics:+$file.metrics}" >> "$cells"
}

# Warm-up (not recorded), then the two measured cells.
measure() {
  local label=$1 url=$2 metrics=${3:-}
  "$oha_bin" --no-tui -z "${warmup}s" -c 32 -m POST -H 'Content-Type: application/json' \
    -D "$work/body.json" "$url" > /dev/null
  load "$label" 1 "$duration" "$url" "$metrics"
  load "$label" 32 "$duration" "$url" "$metrics"
}

note "load average before: $(loadavg) ($(nproc) cores; $(uptime -p))"
"$venv/bin/python" "$bench/serving_model.py" --onnx "$onnx_model" \
  --expected "${onnx_model%.onnx}.expected.json" --model-dir "$work/mlflow-model" \
  --body "$work/body.json" | tee -a "$notes" >&2

if [ "$only" != "mlflow" ]; then
  proj=$work/aidlc
  a() { "$aidlc_bin" --project "$proj" "$@"; }
  a init > /dev/null
  shadow=off
  # Help texts are read whole first: `grep -q` closing a pipe early would fail it (pipefail).
  deploy_help=$(a deploy --help)
  server_help=$(a server --help)
  if grep -q -- '--strategy' <<< "$deploy_help"; then
    # A long interval keeps the rollout on its first (shadow) step for the whole run.
    awk 'BEGIN { done = 0 }
         /^\[deploy\]/ { print; print "interval = \"1h\""; done = 1; skip = 1; next }
         /^\[/ { skip = 0 }
         skip && /^[[:space:]]*interval[[:space:]]*=/ { next }
         { print }
         END { if (!done) { print ""; print "[deploy]"; print "interval = \"1h\"" } }' \
      "$proj/aidlc.toml" > "$proj/aidlc.toml.new"
    mv "$proj/aidlc.toml.new" "$proj/aidlc.toml"
    shadow=on
  fi
  a models register logreg --file "$onnx_model" > /dev/null
  a models alias logreg champion 1 --override "bench" > /dev/null
  a deploy bench --model logreg | tee -a "$notes" >&2
  if [ "$shadow" = on ]; then
    a models register logreg --file "$onnx_model" > /dev/null
    override=()
    if grep -q -- '--override' <<< "$deploy_help"; then override=(--override "bench"); fi
    a deploy bench --version 2 --strategy shadow "${override[@]}" | tee -a "$notes" >&2
  fi
  predlog="absent from this build"
  if grep -q -- '--prediction-log' <<< "$server_help"; then predlog="on (default folder)"; fi
  setsid "$aidlc_bin" --project "$proj" server --bind 127.0.0.1:0 --log-level warn \
    > "$proj/ready" 2> "$proj/server.log" &
  groups+=($!)
  for _ in $(seq 1 200); do grep -q listening "$proj/ready" 2>/dev/null && break; sleep 0.1; done
  addr=$(sed -n 's/.*listening on //p' "$proj/ready")
  [ -n "$addr" ] || { echo "aidlc server did not start:"; cat "$proj/server.log"; exit 1; } >&2
  note "aidlc answer: $(curl -s -D - -o "$work/answer" -H 'Content-Type: application/json' \
    --data @"$work/body.json" "$addr/invocations" | grep -i '^x-aidlc-' | tr -d '\r' | tr '\n' ' ')$(cat "$work/answer")"
  if [ "$shadow" = on ]; then
    a deploy status bench 2>&1 | sed 's/^/  deploy status: /' | tee -a "$notes" >&2 || true
  fi
  measure aidlc "$addr/invocations" "$addr/metrics"
  curl -s "$addr/metrics" > "$work/metrics.txt"
  note "aidlc: $(awk '/^aidlc_inference_requests_total/ { n += $NF } END { printf "%d requests counted by /metrics", n }' "$work/metrics.txt")"
  grep -E '^aidlc_(shadow|prediction_log)_' "$work/metrics.txt" | sed 's/^/  metrics: /' | tee -a "$notes" >&2 || true
  if [ "$shadow" = on ]; then
    a deploy status bench 2>&1 | sed 's/^/  deploy status after: /' | tee -a "$notes" >&2 || true
    shadow="on ($(awk '/^aidlc_shadow_requests_scored_total/ { s += $NF }
      /^aidlc_shadow_requests_dropped_total/ { d += $NF }
      END { printf "%d copies scored, %d dropped", s, d }' "$work/metrics.txt"))"
  fi
  stop_group "${groups[-1]}"
  wait "${groups[-1]}" 2>/dev/null || true
  logged=0
  if [ -d "$proj/.aidlc/predictions" ]; then logged=$(du -sb "$proj/.aidlc/predictions" | cut -f1); fi
  note "aidlc: shadow $shadow; prediction log $predlog ($logged bytes in .aidlc/predictions after the run)"
  tail -5 "$proj/server.log" | sed 's/^/  server log: /' >&2
fi

if [ "$only" != "aidlc" ]; then
  for w in $mlflow_workers; do
    port=$(free_port)
    setsid mlflow models serve -m "$work/mlflow-model" --env-manager local -h 127.0.0.1 \
      -p "$port" -w "$w" > "$work/mlflow-w$w.log" 2>&1 &
    groups+=($!)
    for _ in $(seq 1 600); do
      curl -sf "http://127.0.0.1:$port/ping" > /dev/null 2>&1 && break
      sleep 0.2
    done
    note "mlflow -w $w answer: $(curl -s -H 'Content-Type: application/json' \
      --data @"$work/body.json" "http://127.0.0.1:$port/invocations")"
    measure "mlflow-w$w" "http://127.0.0.1:$port/invocations"
    stop_group "${groups[-1]}"
    wait "${groups[-1]}" 2>/dev/null || true
  done
fi

note "load average after: $(loadavg)"
"$venv/bin/python" "$bench/serving_report.py" "$cells" "$notes" \
  --aidlc-version "$("$aidlc_bin" --version 2>/dev/null || echo aidlc) (tree $(git rev-parse --short HEAD))" \
  --oha-version "$("$oha_bin" --version)" --duration "$duration" \
  --shadow "${shadow:-not run}" --prediction-log "${predlog:-not run}" ${out:+--out "$out"}
