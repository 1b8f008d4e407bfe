"""Times LightGBM and scikit-learn's HistGradientBoostingClassifier on one benchmark data set
(train/valid/test files from gen_train_data.py) and prints one JSON object per tool.

Both get the parameters aidlc's trainer uses: 255 bins, 31 leaves, learning rate 0.1, at least 20
rows per leaf, no L2, no subsampling, the same rounds and early-stopping patience on the same
validation rows. Text columns are given as numbers: each category's rank by training frequency
(ties by name), unseen categories missing, as aidlc's trainer encodes them. Training time covers
binning and boosting from in-memory arrays (wall seconds, and CPU seconds of all threads);
scoring time is predict_proba on the test rows.
"""
import argparse
import json
import os
import time

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

parser = argparse.ArgumentParser()
parser.add_argument("--data", required=True)
parser.add_argument("--name", required=True, help="rain or synth")
parser.add_argument("--label", required=True)
parser.add_argument("--rounds", type=int, required=True)
parser.add_argument("--early-stopping", type=int, default=0, help="0 runs every round")
parser.add_argument("--threads", type=int, default=2)
parser.add_argument("--runs", type=int, default=1)
args = parser.parse_args()


def read(part):
    for ext in ("parquet", "csv"):
        path = f"{args.data}/{args.name}_{part}.{ext}"
        if os.path.exists(path):
            return pd.read_parquet(path) if ext == "parquet" else pd.read_csv(path)
    raise SystemExit(f"no {args.name}_{part} file in {args.data}")


train, valid, test = read("train"), read("valid"), read("test")
features = [c for c in train.columns if c != args.label]
for c in features:
    if train[c].dtype == object or str(train[c].dtype).startswith("str"):
        counts = train[c].value_counts()
        order = sorted(counts.index, key=lambda k: (-counts[k], k))
        rank = {k: float(i) for i, k in enumerate(order[:255])}
        for df in (train, valid, test):
            df[c] = df[c].map(rank).astype(float)


def arrays(df):
    return df[features].to_numpy(dtype=np.float64), df[args.label].to_numpy().astype(int)


(xt, yt), (xv, yv), (xs, ys) = arrays(train), arrays(valid), arrays(test)
es = args.early_stopping


def lightgbm_run():
    import lightgbm as lgb

    params = dict(objective="binary", learning_rate=0.1, num_leaves=31, max_bin=255,
                  min_data_in_leaf=20, min_sum_hessian_in_leaf=1e-3, lambda_l2=0.0,
                  num_threads=args.threads, verbose=-1, seed=1, deterministic=True,
                  force_col_wise=True)
    start, cpu = time.perf_counter(), time.process_time()
    dtrain = lgb.Dataset(xt, yt, params={"max_bin": 255})
    callbacks = [lgb.early_stopping(es, verbose=False)] if es else []
    dvalid = lgb.Dataset(xv, yv, reference=dtrain)
    booster = lgb.train(params, dtrain, num_boost_round=args.rounds, valid_sets=[dvalid],
                        callbacks=callbacks)
    fit, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    p = booster.predict(xs, num_iteration=booster.best_iteration or None)
    score = time.perf_counter() - start
    return dict(tool=f"LightGBM {lgb.__version__}", train_s=fit, train_cpu_s=fit_cpu, score_s=score,
                auc=roc_auc_score(ys, p), rounds=booster.current_iteration(),
                best=booster.best_iteration or None)


def hgb_run():
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier

    model = HistGradientBoostingClassifier(
        learning_rate=0.1, max_iter=args.rounds, max_leaf_nodes=31, min_samples_leaf=20,
        max_bins=255, l2_regularization=0.0, early_stopping=bool(es),
        n_iter_no_change=es or 10, scoring="loss", tol=0.0, random_state=1)
    start, cpu = time.perf_counter(), time.process_time()
    if es:
        model.fit(xt, yt, X_val=xv, y_val=yv)
    else:
        model.fit(xt, yt)
    fit, fit_cpu = time.perf_counter() - start, time.process_time() - cpu
    start = time.perf_counter()
    p = model.predict_proba(xs)[:, 1]
    score = time.perf_counter() - start
    # With early stopping scikit-learn keeps every round it ran (it does not roll back).
    return dict(tool=f"scikit-learn {sklearn.__version__} HistGradientBoosting", train_s=fit,
                train_cpu_s=fit_cpu,
                score_s=score, auc=roc_auc_score(ys, p), rounds=model.n_iter_, best=None)


for run in (lightgbm_run, hgb_run):
    results = [run() for _ in range(args.runs)]
    best = min(results, key=lambda r: r["train_s"])
    best["train_s_all"] = [round(r["train_s"], 3) for r in results]
    print(json.dumps(best), flush=True)
