#!/usr/bin/env bash
# The main job on the embedded default store: frame the rainfall project, check it, ingest it,
# train and evaluate a model on the years before the change, serve it through the real server,
# run the retraining pipeline on the recent days (evaluated against the champion, handed to the
# rollout controller when its gates pass), then measure drift on car-loan.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cargo build -p aidlc --manifest-path "$root/Cargo.toml"
aidlc="${CARGO_TARGET_DIR:-$root/target}/debug/aidlc"
work="$(mktemp -d)"
echo "== working in $work"
cd "$work"
"$aidlc" init --example rainfall
"$aidlc" check
"$aidlc" data ingest data/rainfall.csv
"$aidlc" data show rainfall
echo "== train on the days before the documented change (row 12,000), evaluate, model card"
head -n 12001 data/rainfall.csv > data/early.csv
"$aidlc" train --data data/early.csv
"$aidlc" evaluate rainfall/1
"$aidlc" report rainfall/1 --out card.html
"$aidlc" models alias rainfall champion 1
"$aidlc" predict --model rainfall@champion --input data/rainfall.csv --out scored.parquet
echo "== serve the champion through the real server; every answer lands in the prediction log"
"$aidlc" deploy rain --model rainfall
cat >> aidlc.toml <<'TOML'

[deploy]
steps = ["shadow", "50%", "100%"]
interval = "2s"
min_requests = 30

[iterate]
data = "data/rainfall.csv"
recent = "3000d"
endpoint = "rain"
strategy = "shadow"
TOML
"$aidlc" check
"$aidlc" server --bind 127.0.0.1:0 --log-level warn > server.out &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do grep -q listening server.out 2>/dev/null && break; sleep 0.1; done
url="$(sed -n 's/.*listening on //p' server.out)"
columns="$(head -n 1 data/rainfall.csv | cut -d, -f2-9 | sed 's/[^,]*/"&"/g')"
send() { # rows FROM..TO of the data as single-row requests, one entity per day
  sed -n "$1,$(($1 + $2 - 1))p" data/rainfall.csv | while IFS=, read -r day t dp slp vis aws msw mint maxt _; do
    curl -sf -o /dev/null -H 'Content-Type: application/json' -H "x-aidlc-entity-id: day-$day" \
      -d "{\"dataframe_split\": {\"columns\": [$columns], \"data\": [[$t,$dp,$slp,$vis,$aws,$msw,$mint,$maxt]]}}" \
      "$url/endpoints/rain/invocations"
  done
}
send 12002 50
curl -sf "$url/metrics" | grep -E '^aidlc_(inference_requests_total|prediction_log_records_total)'
echo "== iterate: retrain on the recent days, evaluate against the champion, hand off to the controller"
"$aidlc" loop run || true
"$aidlc" deploy status rain
send 12052 150
sleep 3
"$aidlc" deploy status rain
"$aidlc" loop status
kill "$server"; wait "$server" 2>/dev/null || true
trap - EXIT
"$aidlc" audit verify
"$aidlc" --project car-loan init --example car-loan
"$aidlc" --project car-loan check
cols=car_value,salary_range,debt_to_income_ratio,loan_length,repaid_loan_on_prev_car,size_of_downpayment,driver_tenure
echo "== drift: reference vs the first half of the analysis period (no shift expected)"
"$aidlc" drift --reference car-loan/data/reference.csv.gz --current car-loan/data/analysis.csv.gz \
  --current-rows ..25000 --columns "$cols"
echo "== drift: reference vs the second half (covariate shift from analysis row 25,000)"
"$aidlc" drift --reference car-loan/data/reference.csv.gz --current car-loan/data/analysis.csv.gz \
  --current-rows 25000.. --columns "$cols"
