#!/usr/bin/env python3
"""The Markdown summary of bench/serving.sh: one row per server and concurrency from oha's JSON
reports, then the two figures the serving targets are about (aidlc's requests/s over MLflow's at
concurrency 32, and aidlc's p99 at concurrency 1).

Usage: serving_report.py CELLS NOTES [--out FILE] [--aidlc-version V] [--oha-version V]
                         [--duration S] [--shadow on|off] [--prediction-log on|off]
CELLS has one tab-separated line per run: label, concurrency, oha JSON file, load average.
"""
import argparse
import json

LABELS = {"aidlc": "`aidlc server`"}


def label_text(label):
    if label in LABELS:
        return LABELS[label]
    if label.startswith("mlflow-w"):
        workers = label[len("mlflow-w"):]
        return f"`mlflow models serve` -w {workers}"
    return label


def server_histogram(prefix):
    """The cell's requests in the server's own latency histogram (answering variants only):
    cumulative counts by upper bound in seconds, from /metrics read before and after it."""
    def read(path):
        counts = {}
        for line in open(path):
            if not line.startswith("aidlc_inference_request_duration_seconds_bucket{"):
                continue
            labels, value = line.rsplit(" ", 1)
            if 'variant="shadow"' in labels:
                continue
            bound = labels.split('le="')[1].split('"')[0]
            counts[bound] = counts.get(bound, 0) + int(float(value))
        return counts
    before, after = read(prefix + "-before"), read(prefix + "-after")
    return {b: after[b] - before.get(b, 0) for b in after}


def cell(label, conc, path, load, metrics=""):
    report = json.load(open(path))
    statuses = {int(k): v for k, v in report["statusCodeDistribution"].items()}
    answered = sum(statuses.values())
    failed = sum(v for k, v in statuses.items() if not 200 <= k < 300)
    broken = sum(report["errorDistribution"].values())
    seconds = report["summary"]["total"]
    pct = report["latencyPercentiles"]
    return {
        "label": label,
        "concurrency": int(conc),
        "rps": (answered - failed) / seconds,
        "p50_ms": pct["p50"] * 1e3,
        "p99_ms": pct["p99"] * 1e3,
        "errors": failed + broken,
        "requests": answered + broken,
        "load": load.split()[0],
        "server": server_histogram(metrics) if metrics else None,
        "error_kinds": {**{f"HTTP {k}": v for k, v in statuses.items() if not 200 <= k < 300},
                        **report["errorDistribution"]},
    }


def ms(v):
    return f"{v:.3f} ms" if v < 10 else f"{v:.1f} ms"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cells")
    ap.add_argument("notes")
    ap.add_argument("--out")
    ap.add_argument("--aidlc-version", default="unknown")
    ap.add_argument("--oha-version", default="unknown")
    ap.add_argument("--duration", default="?")
    ap.add_argument("--shadow", default="not run")
    ap.add_argument("--prediction-log", default="not run")
    args = ap.parse_args()

    rows = []
    for line in open(args.cells):
        if line.strip():
            rows.append(cell(*line.rstrip("\n").split("\t")))

    lines = [
        f"{args.aidlc_version}; shadow rollout: **{args.shadow}**; "
        f"prediction log: **{args.prediction_log}**; load generator {args.oha_version}, "
        f"{args.duration} s per cell after a warm-up; one-row `dataframe_split` on "
        "`POST /invocations`.",
        "",
        "| server | concurrency | requests/s | p50 | p99 | errors | requests | load avg (1 min) at start |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        lines.append(
            f"| {label_text(r['label'])} | {r['concurrency']} | {r['rps']:,.0f} | "
            f"{ms(r['p50_ms'])} | {ms(r['p99_ms'])} | {r['errors']} | {r['requests']:,} | {r['load']} |")
    for r in rows:
        if r["error_kinds"]:
            lines.append(f"\nErrors, {label_text(r['label'])} at {r['concurrency']}: {r['error_kinds']}")

    for r in rows:
        h = r["server"]
        if h and h.get("+Inf"):
            total = h["+Inf"]
            shares = ", ".join(f"{100 * h[b] / total:.2f} % within {float(b) * 1e3:g} ms"
                               for b in ("0.00025", "0.001") if b in h)
            lines.append(f"\nServer-side (aidlc's own histogram, handler to answer), "
                         f"concurrency {r['concurrency']}: {total:,} requests, {shares}.")

    def find(label, conc):
        return next((r for r in rows if r["label"] == label and r["concurrency"] == conc), None)

    lines.append("")
    aidlc32, aidlc1 = find("aidlc", 32), find("aidlc", 1)
    mlflow32 = [r for r in rows if r["label"].startswith("mlflow") and r["concurrency"] == 32]
    if aidlc32 and mlflow32:
        for m in mlflow32:
            ratio = aidlc32["rps"] / m["rps"] if m["rps"] > 0 else float("inf")
            verdict = "meets" if ratio >= 20 else "misses"
            lines.append(f"- requests/s at concurrency 32, aidlc / {label_text(m['label'])}: "
                         f"**{ratio:.1f}×** ({verdict} the 20× target)")
    if aidlc1:
        verdict = "meets" if aidlc1["p99_ms"] < 1 else "misses"
        lines.append(f"- aidlc p99 at concurrency 1: **{ms(aidlc1['p99_ms'])}** "
                     f"({verdict} the < 1 ms target)")
    lines.append("")
    lines.append("Run notes:")
    lines.append("")
    lines.append("```")
    lines.extend(line.rstrip("\n") for line in open(args.notes) if line.strip())
    lines.append("```")

    text = "\n".join(lines) + "\n"
    print(text, end="")
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
