"""The Python side of the drift benchmark (bench/drift.sh).

Times, on the benchmark's Parquet files: reading them with pandas; scipy `ks_2samp` on every
column; the same four statistics aidlc's `--method all` computes (KS with p-value, Evidently's
normed Wasserstein, PSI on reference deciles, Evidently's Sturges-binned Jensen-Shannon) written
with numpy/scipy; and Evidently 0.7.23's DataDriftPreset (as in shared/specs/drift-methods.md
section 7). The four statistics are also written to a JSON file so drift.sh can check that aidlc
computes the same numbers.
"""

import argparse
import json
import os
import statistics
import time

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon


def psi_deciles(reference: np.ndarray, current: np.ndarray) -> float:
    """aidlc's PSI: reference deciles (numpy linear), duplicate edges dropped, open outer bins,
    [left, right) bins, zero shares replaced by 1e-4, natural log."""
    inner = np.unique(np.quantile(reference, np.linspace(0, 1, 11))[1:-1])
    e = np.bincount(np.searchsorted(inner, reference, side="right"), minlength=len(inner) + 1) / len(reference)
    a = np.bincount(np.searchsorted(inner, current, side="right"), minlength=len(inner) + 1) / len(current)
    e = np.where(e == 0, 1e-4, e)
    a = np.where(a == 0, 1e-4, a)
    return float(np.sum((a - e) * np.log(a / e)))


def js_evidently(reference: np.ndarray, current: np.ndarray) -> float:
    """Evidently's numeric Jensen-Shannon: Sturges edges on both samples, natural log."""
    edges = np.histogram_bin_edges(np.concatenate([reference, current]), bins="sturges")
    p = np.histogram(reference, edges)[0] / len(reference)
    q = np.histogram(current, edges)[0] / len(current)
    return float(jensenshannon(p, q))


def four_statistics(reference: np.ndarray, current: np.ndarray) -> dict:
    ks = stats.ks_2samp(reference, current)
    w = stats.wasserstein_distance(reference, current) / max(np.std(reference), 0.001)
    return {
        "ks": float(ks.statistic),
        "ks_p_value": float(ks.pvalue),
        "wasserstein_normed": float(w),
        "psi": psi_deciles(reference, current),
        "jensen_shannon": js_evidently(reference, current),
    }


def timed(label: str, runs: int, work) -> float:
    seconds = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        seconds.append(time.perf_counter() - start)
    median = statistics.median(seconds)
    print(f"{label}: runs {', '.join(f'{s:.2f}' for s in seconds)} s; median {median:.2f} s", flush=True)
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "data"))
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--evidently-runs", type=int, default=1)
    parser.add_argument("--results", help="write the four statistics per column to this JSON file")
    args = parser.parse_args()

    holder = {}

    def read():
        holder["reference"] = pd.read_parquet(os.path.join(args.data, "reference.parquet"))
        holder["current"] = pd.read_parquet(os.path.join(args.data, "current.parquet"))

    timed("pandas read_parquet, both files", args.runs, read)
    reference, current = holder["reference"], holder["current"]
    columns = list(reference.columns)
    ref = {c: reference[c].to_numpy() for c in columns}
    cur = {c: current[c].to_numpy() for c in columns}

    timed(f"scipy ks_2samp, {len(columns)} columns", args.runs, lambda: [stats.ks_2samp(ref[c], cur[c]) for c in columns])

    results = {}

    def all_four():
        for c in columns:
            results[c] = four_statistics(ref[c], cur[c])

    timed(f"numpy/scipy KS + Wasserstein + PSI + JS, {len(columns)} columns", args.runs, all_four)
    if args.results:
        with open(args.results, "w") as f:
            json.dump(results, f, indent=1)

    if args.evidently_runs > 0:
        from evidently import DataDefinition, Dataset, Report
        from evidently.presets import DataDriftPreset

        definition = DataDefinition(numerical_columns=columns)

        def evidently_report():
            Report([DataDriftPreset()]).run(
                Dataset.from_pandas(current, data_definition=definition),
                Dataset.from_pandas(reference, data_definition=definition),
            )

        timed(f"Evidently 0.7.23 DataDriftPreset, {len(columns)} columns", args.evidently_runs, evidently_report)


if __name__ == "__main__":
    main()
