#!/usr/bin/env bash
# The main job on the embedded default store: frame the rainfall project, check it, ingest it,
# train and evaluate a model on the years before the change, then measure drift on car-loan.
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
