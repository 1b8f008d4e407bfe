"""Times the mlflow client against one tracking server (MLflow's own or aidlc's).

Scenarios (the same as in the reference measurements of docs/benchmarks.md):
  a) one run, 2,000 sequential log_metric calls
  b) 100 log_batch calls of 100 metrics each
  c) search_runs over 500 runs (3 metrics, 3 params, 3 tags each): all runs, and
     `metrics.m0 > 0.5 and params.p0 = '0'` ordered by `metrics.m1 DESC`

Usage: python mlflow_bench.py URI LABEL [--reps N]
Prints one JSON line with the timings in seconds.
"""

import json
import random
import statistics
import sys
import time
import uuid

from mlflow import MlflowClient
from mlflow.entities import Metric, Param, RunTag


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


def scenario_a(client, exp):
    run = client.create_run(exp).info.run_id

    def go():
        for i in range(2000):
            client.log_metric(run, "m", i * 0.001, step=i)

    return timed(go)[0]


def scenario_b(client, exp):
    run = client.create_run(exp).info.run_id
    now = int(time.time() * 1000)

    def go():
        for b in range(100):
            client.log_batch(run, metrics=[Metric(f"m{k}", b * 0.01 + k, now, b) for k in range(100)])

    return timed(go)[0]


def populate(client, exp, n=500, seed=7):
    rng = random.Random(seed)
    now = int(time.time() * 1000)
    for i in range(n):
        run = client.create_run(exp, start_time=now + i).info.run_id
        client.log_batch(
            run,
            metrics=[Metric(f"m{k}", rng.random(), now, 0) for k in range(3)],
            params=[Param(f"p{k}", str(rng.randrange(4))) for k in range(3)],
            tags=[RunTag(f"t{k}", f"v{rng.randrange(10)}") for k in range(3)],
        )
        client.set_terminated(run)


def search_all(client, exp):
    runs, token = [], None
    while True:
        page = client.search_runs([exp], max_results=1000, page_token=token)
        runs.extend(page)
        token = page.token
        if not token:
            return runs


def main():
    uri, label = sys.argv[1], sys.argv[2]
    reps = int(sys.argv[sys.argv.index("--reps") + 1]) if "--reps" in sys.argv else 1
    client = MlflowClient(tracking_uri=uri)
    exp = client.create_experiment(f"bench-{uuid.uuid4().hex[:8]}")
    a = [scenario_a(client, exp) for _ in range(reps)]
    b = [scenario_b(client, exp) for _ in range(reps)]
    search_exp = client.create_experiment(f"bench-search-{uuid.uuid4().hex[:8]}")
    populate_s, _ = timed(lambda: populate(client, search_exp))
    c_all = []
    c_filter = []
    hits = None
    for _ in range(max(reps, 3)):
        t, runs = timed(lambda: search_all(client, search_exp))
        assert len(runs) == 500, len(runs)
        c_all.append(t)
        t, runs = timed(
            lambda: client.search_runs(
                [search_exp], "metrics.m0 > 0.5 and params.p0 = '0'", order_by=["metrics.m1 DESC"], max_results=1000
            )
        )
        c_filter.append(t)
        hits = len(runs)
    print(
        json.dumps(
            {
                "server": label,
                "a_log_metric_2000_s": a,
                "b_log_batch_100x100_s": b,
                "populate_500_runs_s": populate_s,
                "c_search_all_500_s": c_all,
                "c_search_filter_order_s": c_filter,
                "c_filter_hits": hits,
                "median": {
                    "a": statistics.median(a),
                    "b": statistics.median(b),
                    "c_all": statistics.median(c_all),
                    "c_filter": statistics.median(c_filter),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
