#!/usr/bin/env bash
# Ingest benchmark: `aidlc data ingest` (hash + schema pass + profile + validation-free Parquet
# copy + store record) of a ~1 GB CSV with 20 numeric and 5 categorical columns, against pandas
# `read_csv` + `describe(include="all")` on the same file, in one run, with wall time, MB/s and
# peak resident memory from /usr/bin/time -v.
#
# Usage: bench/ingest.sh   (from anywhere)
#
# Environment: CARGO_TARGET_DIR (default <repo>/target) is where the release build goes. The
# Python environment (bench/.venv, shared with bench/drift.sh) and the data (bench/data) are made
# on the first run and reused; both are git-ignored.
set -euo pipefail

bench=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$bench")
cd "$root"
target=${CARGO_TARGET_DIR:-$root/target}
venv=$bench/.venv
data=$bench/data/ingest.csv

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
fi
if ! "$venv/bin/python" -c "import numpy, pandas, pyarrow" 2> /dev/null; then
  "$venv/bin/pip" install --quiet numpy 'pandas<3' pyarrow
fi

"$venv/bin/python" "$bench/gen_ingest_data.py" --out "$data"
cargo build --release -j 2 -p aidlc
aidlc=$target/release/aidlc

bytes=$(stat -c %s "$data")
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "data: $data, $mb MB, $(head -1 "$data" | tr ',' '\n' | wc -l) columns"

# Prints "<seconds> <MB/s> <peak RSS MB>" from a /usr/bin/time -v log.
summarise() {
  awk -v mb="$mb" -F': ' '
    /Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); s = 0
      for (i = 1; i <= n; i++) s = s * 60 + p[i]
    }
    /Maximum resident set size/ { rss = $2 / 1024 }
    END { printf "%.2f s, %.1f MB/s, peak RSS %.0f MB\n", s, mb / s, rss }' "$1"
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo
echo "== aidlc data ingest (release; fresh SQLite store and artifact folder)"
/usr/bin/time -v "$aidlc" --project "$work" data ingest "$data" --name bench > "$work/aidlc.out" 2> "$work/aidlc.time"
cat "$work/aidlc.out"
echo "aidlc: $(summarise "$work/aidlc.time")"
echo "stored Parquet: $(du -sh "$work/.aidlc/artifacts" | cut -f1)"

echo
echo "== pandas read_csv + describe(include='all')"
/usr/bin/time -v "$venv/bin/python" -c "
import sys, pandas as pd
df = pd.read_csv(sys.argv[1])
d = df.describe(include='all')
print(f'pandas {pd.__version__}: {len(df)} rows, describe {d.shape}')
" "$data" 2> "$work/pandas.time"
echo "pandas: $(summarise "$work/pandas.time")"
