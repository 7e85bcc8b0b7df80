"""The peers of mlpipe's models on the flights task, for scripts/bench/models.sh.

Reads the flights CSV (written by `go run ./scripts/fixtures -full-csv`) with
pandas, builds the raw features of the task, splits by time and fits

  xgboost      XGBClassifier(tree_method='hist', max_depth=8, n_estimators=200,
               enable_categorical=True, n_jobs=THREADS) on the raw features,
               origin and destination as pandas categoricals
  sklearn_hgb  HistGradientBoostingClassifier(max_iter=200, max_leaf_nodes=31)
               on the raw features, origin and destination as ordinal codes
               declared in categorical_features
  sklearn_logreg  LogisticRegression(solver='lbfgs', max_iter=100) on one-hot
               dep_hour, day_of_week, origin and destination and standardised
               distance, log(distance) and day_of_month: the inputs of
               train/logreg's BenchmarkFitFlights (its flightsEncoder)

then prints one JSON object: per model the test ROC AUC, test log loss, fit
wall time (time.perf_counter around fit() only; encoding is not timed, as
in the Go benchmarks), predict time, or "error" if it could not run; plus
the split sizes, the versions and the peak RSS of this process.

Raw features (as train/gbdt's flightsEncoder makes them): dep_hour,
dep_minute_of_day (hour*60 + minute), day_of_week (Sunday = 0), day_of_month,
month, distance, origin, destination; the categories are the airports of the
training split (an airport first seen later is missing / ignored).

Use Debian's python (/usr/bin/python3) with python3-pandas, python3-sklearn
and python3-xgboost. Only pandas and numpy are required; a model whose
library is missing reports "error": "not available: ...".

    /usr/bin/python3 scripts/bench/peers.py FLIGHTS.csv \\
        --valid-from 2001-05-01 --test-from 2001-06-01 --threshold 15

BENCH_ROWS=N (or --rows N) keeps about N rows, every k-th row of the file
(the file is in time order, so every month keeps its share): for testing
this script quickly, never for the report.
"""
import argparse
import gc
import json
import os
import platform
import resource
import sys
import time
import warnings

import numpy as np
import pandas as pd

CATEGORICAL = ["origin", "destination"]


def log(msg):
    print("peers: " + msg, file=sys.stderr, flush=True)


def roc_auc(y, p):
    """Area under the ROC curve: the Mann-Whitney U statistic from average
    ranks (ties count one half), as the Go benchmarks compute it."""
    y = np.asarray(y, dtype=bool)
    ranks = pd.Series(p).rank(method="average").to_numpy()
    pos = y.sum()
    neg = len(y) - pos
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def log_loss(y, p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    y = np.asarray(y, dtype=np.float64)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def load(path, rows, valid_from, test_from, threshold):
    """The raw feature frame, the labels and the three split masks."""
    t0 = time.perf_counter()
    df = pd.read_csv(path, parse_dates=["date"])
    read_s = time.perf_counter() - t0
    if rows and rows < len(df):
        stride = -(-len(df) // rows)
        df = df.iloc[::stride].reset_index(drop=True)
        log("BENCH_ROWS=%d: kept every %d-th row, %d rows" % (rows, stride, len(df)))
    d = df["date"].dt
    raw = pd.DataFrame({
        "dep_hour": d.hour,
        "dep_minute_of_day": d.hour * 60 + d.minute,
        "day_of_week": (d.dayofweek + 1) % 7,  # pandas: Monday = 0; Go: Sunday = 0
        "day_of_month": d.day,
        "month": d.month,
        "distance": df["distance"],
        "origin": df["origin"],
        "destination": df["destination"],
    })
    y = (df["delay"] > threshold).to_numpy(dtype=np.int8)
    date = df["date"]
    masks = {
        "train": (date < pd.Timestamp(valid_from)).to_numpy(),
        "valid": ((date >= pd.Timestamp(valid_from)) & (date < pd.Timestamp(test_from))).to_numpy(),
        "test": (date >= pd.Timestamp(test_from)).to_numpy(),
    }
    for c in CATEGORICAL:
        cats = sorted(raw.loc[masks["train"], c].unique())
        raw[c] = pd.Categorical(raw[c], categories=cats)  # unseen in train -> NaN
    return raw, y, masks, read_s


def timed_fit(model, X, y):
    gc.collect()
    t0 = time.perf_counter()
    model.fit(X, y)
    return time.perf_counter() - t0


def scored(model, X, y, fit_s):
    t0 = time.perf_counter()
    p = model.predict_proba(X)[:, 1]
    predict_s = time.perf_counter() - t0
    return {
        "test_auc": roc_auc(y, p),
        "test_log_loss": log_loss(y, p),
        "fit_s": fit_s,
        "predict_s": predict_s,
        "predict_rows_per_s": len(y) / predict_s if predict_s > 0 else None,
    }


def fit_xgboost(raw, y, tr, te, threads):
    import xgboost

    m = xgboost.XGBClassifier(tree_method="hist", max_depth=8, n_estimators=200,
                              enable_categorical=True, n_jobs=threads)
    fit_s = timed_fit(m, raw[tr], y[tr])
    out = scored(m, raw[te], y[te], fit_s)
    out.update(version=xgboost.__version__, trees=200, threads=threads,
               call="XGBClassifier(tree_method='hist', max_depth=8, n_estimators=200, "
                    "enable_categorical=True, n_jobs=%d)" % threads)
    return out


def fit_hgb(raw, y, tr, te):
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier

    X = raw.copy()
    for c in CATEGORICAL:
        # Ordinal codes 0..k-1 of the training categories; unseen -> NaN.
        codes = X[c].cat.codes.astype(np.float64)
        X[c] = codes.where(codes >= 0)
    X = X.astype(np.float64)
    mask = np.array([c in CATEGORICAL for c in X.columns])
    m = HistGradientBoostingClassifier(max_iter=200, max_leaf_nodes=31,
                                       categorical_features=mask, random_state=0)
    fit_s = timed_fit(m, X[tr], y[tr])
    out = scored(m, X[te], y[te], fit_s)
    out.update(version=sklearn.__version__, iterations=int(m.n_iter_),
               early_stopping=bool(getattr(m, "do_early_stopping_", False)),
               call="HistGradientBoostingClassifier(max_iter=200, max_leaf_nodes=31, "
                    "categorical_features=[origin, destination], random_state=0)")
    return out


def fit_logreg(raw, y, tr, te):
    import sklearn
    from sklearn.compose import ColumnTransformer
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = pd.DataFrame({
        "dep_hour": raw["dep_hour"],
        "day_of_week": raw["day_of_week"],
        # Strings, so that an airport unseen in training is ignored
        # (all-zero block) rather than a NaN category.
        "origin": raw["origin"].astype(str),
        "destination": raw["destination"].astype(str),
        "distance": raw["distance"].astype(np.float64),
        "log_distance": np.log(raw["distance"].astype(np.float64)),
        "day_of_month": raw["day_of_month"].astype(np.float64),
    })
    enc = ColumnTransformer([
        ("onehot", OneHotEncoder(handle_unknown="ignore"), ["dep_hour", "day_of_week", "origin", "destination"]),
        ("scale", StandardScaler(), ["distance", "log_distance", "day_of_month"]),
    ])
    Xtr = enc.fit_transform(X[tr])  # sparse: density is far below 0.3
    Xte = enc.transform(X[te])
    m = LogisticRegression(solver="lbfgs", max_iter=100)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        fit_s = timed_fit(m, Xtr, y[tr])
    out = scored(m, Xte, y[te], fit_s)
    out.update(version=sklearn.__version__, iterations=int(m.n_iter_[0]), weights=int(Xtr.shape[1]),
               converged=not any(issubclass(w.category, ConvergenceWarning) for w in caught),
               call="LogisticRegression(solver='lbfgs', max_iter=100) (C=1.0) on one-hot "
                    "dep_hour, day_of_week, origin, destination + standardised distance, "
                    "log(distance), day_of_month")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--valid-from", required=True, help="first date of the validation split")
    ap.add_argument("--test-from", required=True, help="first date of the test split")
    ap.add_argument("--threshold", type=float, required=True, help="label: delay > THRESHOLD")
    ap.add_argument("--threads", type=int, default=2, help="XGBoost n_jobs (default 2)")
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS") or 0),
                    help="keep about this many rows (testing only; default: all, or $BENCH_ROWS)")
    ap.add_argument("--models", default="xgboost,sklearn_logreg,sklearn_hgb",
                    help="comma-separated subset to fit")
    args = ap.parse_args()

    raw, y, masks, read_s = load(args.csv, args.rows, args.valid_from, args.test_from, args.threshold)
    tr, te = masks["train"], masks["test"]
    result = {
        "csv": args.csv,
        "read_csv_s": read_s,
        "rows": int(len(raw)),
        "bench_rows": args.rows or None,
        "splits": {k: int(v.sum()) for k, v in masks.items()},
        "python": platform.python_version(),
        "pandas": pd.__version__,
        "numpy": np.__version__,
        # OpenMP settings change XGBoost's and HGB's speed on a busy machine.
        "omp_env": {k: v for k, v in os.environ.items() if k.startswith("OMP_")},
    }
    if tr.sum() == 0 or te.sum() == 0 or len(np.unique(y[te])) < 2:
        raise SystemExit("peers: the train or test split is empty or one-class: %s" % result["splits"])
    fits = {
        "xgboost": lambda: fit_xgboost(raw, y, tr, te, args.threads),
        "sklearn_logreg": lambda: fit_logreg(raw, y, tr, te),
        "sklearn_hgb": lambda: fit_hgb(raw, y, tr, te),
    }
    for name in args.models.split(","):
        log("fitting " + name)
        try:
            result[name] = fits[name]()
        except ImportError as e:
            result[name] = {"error": "not available: %s" % e}
        except Exception as e:  # one failed peer must not hide the others
            result[name] = {"error": "%s: %s" % (type(e).__name__, e)}
        log("%s: %s" % (name, json.dumps(result[name])))
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
