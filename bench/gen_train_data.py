"""Writes the gradient-boosted trees benchmark data to --out (once; existing files are kept).

- rain_{train,valid,test}.csv: datasets/noaa_rainfall_bellevue_ne.csv rows 0-7999, 8000-9999 and
  10000-11999 (before the relationship changes at row 12,000), without the day index; label `rain`.
- synth_{train,valid,test}.parquet: 1,000,000 / 200,000 / 200,000 rows, seed 7: 20 float64
  features (x0..x19, 2% missing in x0..x4), 2 text categoricals (c0 with 8 levels, c1 with 200
  levels), and a binary label `y` from a noisy non-linear function of them.
"""
import argparse
import os

import numpy as np
import pandas as pd

parser = argparse.ArgumentParser()
parser.add_argument("--out", required=True)
parser.add_argument("--rain", required=True)
args = parser.parse_args()
os.makedirs(args.out, exist_ok=True)


def rain():
    if all(os.path.exists(f"{args.out}/rain_{p}.csv") for p in ("train", "valid", "test")):
        return
    df = pd.read_csv(args.rain)
    df = df.drop(columns=df.columns[0])
    for part, (a, b) in {"train": (0, 8000), "valid": (8000, 10000), "test": (10000, 12000)}.items():
        df.iloc[a:b].to_csv(f"{args.out}/rain_{part}.csv", index=False)


def synth():
    if all(os.path.exists(f"{args.out}/synth_{p}.parquet") for p in ("train", "valid", "test")):
        return
    rng = np.random.default_rng(7)
    n = 1_400_000
    x = rng.standard_normal((n, 20))
    c0 = rng.integers(0, 8, n)
    c1 = np.minimum(rng.zipf(1.3, n), 200) - 1
    effect0 = rng.standard_normal(8)
    effect1 = rng.standard_normal(200) * 0.5
    logit = (
        1.2 * x[:, 0]
        - 0.8 * x[:, 1] * x[:, 2]
        + np.sin(2 * x[:, 3])
        + 0.6 * np.abs(x[:, 4])
        + 0.5 * (x[:, 5] > 0.5)
        + 0.3 * x[:, 6] ** 2
        - 0.4 * x[:, 7] * (x[:, 8] > 0)
        + 0.2 * x[:, 9:14].sum(axis=1)
        + effect0[c0]
        + effect1[c1]
        - 0.8
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    for j in range(5):
        x[rng.random(n) < 0.02, j] = np.nan
    df = pd.DataFrame({f"x{j}": x[:, j] for j in range(20)})
    df["c0"] = [f"g{v}" for v in c0]
    df["c1"] = [f"k{v}" for v in c1]
    df["y"] = y
    for part, (a, b) in {"train": (0, 1_000_000), "valid": (1_000_000, 1_200_000), "test": (1_200_000, n)}.items():
        df.iloc[a:b].to_parquet(f"{args.out}/synth_{part}.parquet", index=False)


rain()
synth()
