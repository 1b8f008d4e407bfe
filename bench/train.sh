#!/usr/bin/env bash
# Gradient-boosted trees benchmark: aidlc's built-in trainer against LightGBM and scikit-learn's
# HistGradientBoostingClassifier, on the same files with the same parameters (255 bins, 31
# leaves, learning rate 0.1, 20 rows per leaf, no L2, no subsampling), two threads each. For each
# tool: training time (binning + boosting, from data in memory), scoring time of the test rows
# and held-out ROC AUC.
#
# Data sets: the rainfall data (8,000 train / 2,000 validation / 2,000 test rows, 8 numeric
# features, up to 500 rounds with early stopping after 20) and a synthetic one (1M train / 200k
# validation / 200k test rows, 20 numeric features with missing values and 2 text features,
# 100 rounds without early stopping).
#
# Usage: bench/train.sh [--runs N]   (from anywhere)
#
# Environment: CARGO_TARGET_DIR (default <repo>/target) is where the release build goes. The
# Python environment (bench/.venv, shared with the other benchmarks) and the data (bench/data) are
# made on the first run and reused; both are git-ignored.
set -euo pipefail

runs=3
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N]" >&2; exit 2 ;;
  esac
done

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
venv=$bench/.venv
data=$bench/data

# 1. The Python side, pinned.
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c "
import sklearn, lightgbm, pyarrow, pandas
assert sklearn.__version__ == '1.9.1' and lightgbm.__version__ == '4.7.0'" 2> /dev/null; then
  "$venv/bin/pip" install --quiet numpy 'pandas<3' pyarrow scikit-learn==1.9.1 lightgbm==4.7.0
fi

# 2. The data, written once.
"$venv/bin/python" "$bench/gen_train_data.py" --out "$data" --rain "$root/datasets/noaa_rainfall_bellevue_ne.csv"

# 3. The release build of the aidlc side.
cargo build --release -j 2 -p aidlc-models --example train_bench
cargo build --release -j 2 -p aidlc-service --example evaluate_bench
train_bench=$target/release/examples/train_bench
evaluate_bench=$target/release/examples/evaluate_bench

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"

# OpenMP threads (LightGBM, scikit-learn) spin while they wait by default; on a machine shared with
# other jobs the spinning steals the cores they wait for, and LightGBM ran 5-10x slower here
# (docs/benchmarks.md). Passive waiting is fairer to them on a busy machine; set
# OMP_WAIT_POLICY=active to measure the default.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
echo "OMP_WAIT_POLICY=$OMP_WAIT_POLICY"

# One data set: name, label, extension, rounds, early-stopping patience (0: none).
run() {
  local name=$1 label=$2 ext=$3 rounds=$4 patience=$5
  echo
  echo "== $name: $rounds rounds, early stopping ${patience} (0 = off), best of $runs training runs"
  "$train_bench" --train "$data/${name}_train.$ext" --valid "$data/${name}_valid.$ext" \
    --test "$data/${name}_test.$ext" --label "$label" --rounds "$rounds" \
    --early-stopping "$patience" --threads 2 --runs "$runs"
  OMP_NUM_THREADS=2 "$venv/bin/python" "$bench/python_train.py" --data "$data" --name "$name" \
    --label "$label" --rounds "$rounds" --early-stopping "$patience" --threads 2 --runs "$runs"
}

run rain rain csv 500 20
echo
echo "== rain: a whole platform-run evaluation of the boosted trees (1,000 bootstrap resamples, slices, calibration, robustness, business sweep, latency, gates), best and median of $runs"
"$evaluate_bench" --train "$data/rain_train.csv" --valid "$data/rain_valid.csv" \
  --test "$data/rain_test.csv" --runs "$runs"
run synth y parquet 100 0
