"""Generates the data of the drift benchmark (bench/drift.sh) once.

20 float64 columns, 1,000,000 reference rows and 1,000,000 current rows, written as Parquet
(snappy) and as CSV. Columns c00..c19 are normal with their own mean and scale; in the current
file some columns are shifted by a fraction of their standard deviation (c14..c19: 0.01, 0.02,
0.05, 0.1, 0.2 and 0.3 sigma) and c13 is widened by 20 %, so a report has both stable and
drifted columns. The seed is fixed, so every run benchmarks the same bytes.
"""

import argparse
import json
import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

N_COLUMNS = 20
SHIFTS_IN_SIGMA = {14: 0.01, 15: 0.02, 16: 0.05, 17: 0.1, 18: 0.2, 19: 0.3}
WIDENED = {13: 1.2}


def build(rows: int, seed: int, current: bool) -> pa.Table:
    rng = np.random.default_rng(seed)
    columns = {}
    for j in range(N_COLUMNS):
        mean = 10.0 * j
        scale = 1.0 + 0.5 * j
        shift = SHIFTS_IN_SIGMA.get(j, 0.0) if current else 0.0
        widen = WIDENED.get(j, 1.0) if current else 1.0
        columns[f"c{j:02d}"] = rng.normal(mean + shift * scale, scale * widen, rows)
    return pa.table(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data"))
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    stamp_path = os.path.join(args.out, "params.json")
    params = {"rows": args.rows, "columns": N_COLUMNS, "shifts": SHIFTS_IN_SIGMA, "widened": WIDENED, "version": 1}
    wanted = json.loads(json.dumps(params))
    if os.path.exists(stamp_path):
        with open(stamp_path) as f:
            if json.load(f) == wanted:
                print(f"data already in {args.out}")
                return

    for name, seed, current in [("reference", 20261204, False), ("current", 20261205, True)]:
        table = build(args.rows, seed, current)
        pq.write_table(table, os.path.join(args.out, f"{name}.parquet"), compression="snappy")
        pacsv.write_csv(table, os.path.join(args.out, f"{name}.csv"))
        print(f"wrote {name}: {table.num_rows} rows x {table.num_columns} columns")
    with open(stamp_path, "w") as f:
        json.dump(params, f)


if __name__ == "__main__":
    main()
