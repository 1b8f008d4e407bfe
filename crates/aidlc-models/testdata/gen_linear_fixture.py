"""Writes linear_sklearn.json: scikit-learn's optimum of the linear problems the aidlc linear
trainer solves, on rows 0-299 of datasets/noaa_rainfall_bellevue_ne.csv.

The data is prepared exactly as crates/aidlc-models/tests/train.rs prepares it: every 17th row's
temperature is missing; a categorical `season` is derived from the day index; numeric features are
standardised with the mean and population standard deviation of their non-missing values (a
missing value becomes the mean); `season` is one-hot over its categories by frequency (ties by
name). scikit-learn then fits the encoded matrix with tight tolerances, so its answer is the
optimum. Run: python gen_linear_fixture.py <repo root>  (scikit-learn 1.9.1, numpy 2.4).
"""
import json
import sys
from collections import Counter

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression, Ridge

root = sys.argv[1]
df = pd.read_csv(f"{root}/datasets/noaa_rainfall_bellevue_ne.csv").iloc[:300]
day = df.iloc[:, 0].to_numpy()
numeric = ["temperature", "dew point", "sea-level pressure", "visibility",
           "average wind speed", "max sustained wind-speed"]
seasons = ["winter", "spring", "summer", "autumn"]
season = [seasons[(int(d) % 365) // 92] for d in day]
rain = df["rain"].to_numpy().astype(int)
temp_raw = df["temperature"].to_numpy().copy()
data = {c: df[c].to_numpy().astype(float).copy() for c in numeric}
data["temperature"][::17] = np.nan

cols, centers, scales = [], [], []
for c in numeric:
    v = data[c]
    present = v[~np.isnan(v)]
    mean = present.mean()
    sd = present.std()
    cols.append((np.where(np.isnan(v), mean, v) - mean) / sd)
    centers.append(mean)
    scales.append(sd)
counts = Counter(season)
cats = sorted(counts, key=lambda k: (-counts[k], k))
for k in cats:
    cols.append(np.array([1.0 if s == k else 0.0 for s in season]))
X = np.column_stack(cols)

def logistic(y, C, sample_weight=None, class_weight=None):
    m = LogisticRegression(C=C, tol=1e-12, max_iter=100000, class_weight=class_weight)
    m.fit(X, y, sample_weight=sample_weight)
    return {"coef": m.coef_.tolist(), "intercept": m.intercept_.tolist(),
            "probabilities": m.predict_proba(X).tolist()}

multi = np.where(rain == 1, 2, np.where(temp_raw < 0, 0, 1))
weights = 1.0 + (np.arange(300) % 3)
ridge = Ridge(alpha=1.0, solver="cholesky").fit(X, df["minimum temperature"].to_numpy())
out = {
    "rows": 300,
    "numeric": numeric,
    "centers": centers,
    "scales": scales,
    "categories": cats,
    "binary": logistic(rain, 1.0),
    "binary_balanced_weighted": logistic(rain, 0.5, sample_weight=weights, class_weight="balanced"),
    "multinomial": logistic(multi, 1.0),
    "ridge": {"coef": ridge.coef_.tolist(), "intercept": float(ridge.intercept_)},
}
with open(f"{root}/crates/aidlc-models/testdata/linear_sklearn.json", "w") as f:
    json.dump(out, f, indent=1)
