"""Generates the data of the ingest benchmark (bench/ingest.sh) once: a CSV of about 1 GB with
20 numeric columns (n00..n19: normal floats with 6 decimals, every 10th column an integer
count) and 5 categorical columns (k0..k4 with 5 to 500 labels), plus about 1 % missing values
in n01 and k1. The seed is fixed, so every run benchmarks the same bytes.
"""

import argparse
import os

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

N_NUMERIC = 20
CATEGORY_COUNTS = [5, 12, 40, 120, 500]
CHUNK = 500_000


def chunk(rng: np.random.Generator, rows: int) -> pa.Table:
    columns = {}
    for j in range(N_NUMERIC):
        if j % 10 == 0:
            values = rng.poisson(3 + j, rows).astype(np.int64)
            columns[f"n{j:02d}"] = pa.array(values)
        else:
            values = np.round(rng.normal(10.0 * j, 1.0 + 0.5 * j, rows), 6)
            mask = rng.random(rows) < 0.01 if j == 1 else None
            columns[f"n{j:02d}"] = pa.array(values, mask=mask)
    for k, n in enumerate(CATEGORY_COUNTS):
        labels = np.array([f"cat{k}_{i:03d}" for i in range(n)])
        picks = labels[np.minimum(rng.zipf(1.3, rows) - 1, n - 1)]
        mask = rng.random(rows) < 0.01 if k == 1 else None
        columns[f"k{k}"] = pa.array(picks, mask=mask)
    return pa.table(columns)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "data", "ingest.csv"))
    parser.add_argument("--bytes", type=int, default=1_000_000_000)
    args = parser.parse_args()
    if os.path.exists(args.out):
        return
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    rng = np.random.default_rng(20261204)
    partial = args.out + ".partial"
    with pa.OSFile(partial, "wb") as sink:
        writer = None
        while sink.tell() < args.bytes:
            table = chunk(rng, CHUNK)
            if writer is None:
                writer = pacsv.CSVWriter(sink, table.schema)
            writer.write_table(table)
        writer.close()
    os.replace(partial, args.out)


if __name__ == "__main__":
    main()
