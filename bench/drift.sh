#!/usr/bin/env bash
# Drift benchmark: a drift report on 20 float64 columns, 1,000,000 reference rows against
# 1,000,000 current rows, by aidlc, by scipy and by Evidently 0.7.23, on the same files.
#
# Usage: bench/drift.sh [--runs N] [--evidently-runs N]   (from anywhere; Evidently takes minutes)
#
# Environment: CARGO_TARGET_DIR (default <repo>/target) is where the release build goes;
# AIDLC_BIN (default $CARGO_TARGET_DIR/release/aidlc) is the aidlc binary timed end to end when it
# has a `drift` command. The Python environment (bench/.venv) and the data (bench/data) are made
# on the first run and reused; both are git-ignored.
set -euo pipefail

runs=3
evidently_runs=1
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift 2 ;;
    --evidently-runs) evidently_runs="$2"; shift 2 ;;
    *) echo "usage: $0 [--runs N] [--evidently-runs N]" >&2; exit 2 ;;
  esac
done

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
aidlc_bin=${AIDLC_BIN:-$target/release/aidlc}
venv=$bench/.venv
data=$bench/data

# 1. The Python side: scipy and Evidently pinned as in shared/specs/drift-methods.md
#    (Evidently 0.7.23 does not import with pandas 3).
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet numpy 'pandas<3' pyarrow scipy evidently==0.7.23
fi

# 2. The data, generated once (Parquet and CSV of the same values).
"$venv/bin/python" "$bench/gen_drift_data.py" --out "$data"

# 3. Release builds.
cargo build --release -j 2 -p aidlc-service --example drift_bench
drift_bench=$target/release/examples/drift_bench

echo
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $(du -h "$data/reference.parquet" | cut -f1) + $(du -h "$data/current.parquet" | cut -f1) Parquet, $(du -h "$data/reference.csv" | cut -f1) + $(du -h "$data/current.csv" | cut -f1) CSV"

echo
echo "== aidlc library (drift_bench), Parquet, --method all: read both files, then KS (with p-value) + Wasserstein + PSI + JS per column"
"$drift_bench" "$data/reference.parquet" "$data/current.parquet" --method all --runs "$runs" --report "$data/aidlc_report.json" --quiet
echo
echo "== aidlc library (drift_bench), CSV, --method all"
"$drift_bench" "$data/reference.csv" "$data/current.csv" --method all --runs 1 --quiet

echo
if [ -x "$aidlc_bin" ] && "$aidlc_bin" drift --help > /dev/null 2>&1; then
  for format in parquet csv; do
    echo "== $aidlc_bin drift --method all --json, $format (whole process)"
    for _ in $(seq "$runs"); do
      /usr/bin/time -f "   %e s wall, %U s user, %S s system, %M KiB max resident" \
        "$aidlc_bin" drift --reference "$data/reference.$format" --current "$data/current.$format" --method all --json > /dev/null
    done
  done
else
  echo "== no aidlc binary with a drift command at $aidlc_bin: timed the library only"
fi

echo
echo "== Python: pandas, scipy, Evidently"
"$venv/bin/python" "$bench/python_drift.py" --data "$data" --runs "$runs" --evidently-runs "$evidently_runs" \
  --results "$data/python_results.json"

echo
"$venv/bin/python" "$bench/compare_drift.py" "$data/aidlc_report.json" "$data/python_results.json"
