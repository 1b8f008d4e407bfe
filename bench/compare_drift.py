"""Checks that aidlc's drift report (drift_bench --report) holds the same statistics as the
numpy/scipy versions written by python_drift.py --results; prints the largest differences."""

import json
import sys


def main() -> None:
    aidlc_path, python_path = sys.argv[1], sys.argv[2]
    with open(aidlc_path) as f:
        report = json.load(f)
    with open(python_path) as f:
        python = json.load(f)
    aidlc = {}
    for result in report["columns"] + report["other_results"]:
        aidlc[(result["column"], result["method"])] = result
    worst = {}
    for column, values in python.items():
        pairs = [
            ("ks", values["ks"], aidlc[(column, "ks")]["statistic"]),
            ("ks p-value", values["ks_p_value"], aidlc[(column, "ks")]["p_value"]),
            ("wasserstein_normed", values["wasserstein_normed"], aidlc[(column, "wasserstein_normed")]["statistic"]),
            ("psi", values["psi"], aidlc[(column, "psi")]["statistic"]),
            ("jensen_shannon", values["jensen_shannon"], aidlc[(column, "jensen_shannon")]["statistic"]),
        ]
        for name, expected, actual in pairs:
            difference = abs(expected - actual)
            relative = difference / max(abs(expected), 1e-300)
            if name not in worst or relative > worst[name][0]:
                worst[name] = (relative, difference, column, expected, actual)
    print("largest difference aidlc vs numpy/scipy, over all columns:")
    for name, (relative, difference, column, expected, actual) in worst.items():
        print(f"  {name:<20} rel {relative:.2e} abs {difference:.2e} ({column}: scipy {expected:.12g}, aidlc {actual:.12g})")


if __name__ == "__main__":
    main()
