"""The peers of mlpipe's regression on flights delay minutes, for
scripts/bench/regression.sh.

Reads the flights CSV (written by `go run ./scripts/fixtures -full-csv`) with
pandas, builds the raw features of train/gbdt's flights benchmarks (the same
as scripts/bench/peers.py: dep_hour, dep_minute_of_day, day_of_week with
Sunday = 0, day_of_month, month, distance, origin and destination as the
categories of the training split), takes the departure delay in minutes as
the target, splits by time and fits

  xgboost      XGBRegressor(objective='reg:squarederror', tree_method='hist',
               max_depth=8, n_estimators=1000, learning_rate=0.3,
               early_stopping_rounds=20, enable_categorical=True,
               n_jobs=THREADS), early stopping on the validation split (May)
  xgboost_same_patience  the same with early_stopping_rounds=PATIENCE
               (--patience: mlpipe's, from its config), so that both stop
               after as many rounds without improvement
  sklearn_hgb  HistGradientBoostingRegressor(max_iter=200, max_leaf_nodes=31),
               origin and destination as ordinal codes declared in
               categorical_features (early_stopping='auto': on, with its own
               10% of the training rows)
  sklearn_ridge  Ridge(alpha=1.0) on one-hot dep_hour, day_of_week, origin
               and destination and standardised distance, log(distance) and
               day_of_month
  mean         the training mean, predicted for every test row

then prints one JSON object: per model the test RMSE, MAE and R², the fit
wall time (time.perf_counter around fit() only), or "error"; plus the split
sizes, the versions and the peak RSS of this process.

    /usr/bin/python3 scripts/bench/regression_peers.py FLIGHTS.csv \\
        --valid-from 2001-05-01 --test-from 2001-06-01

BENCH_ROWS=N (or --rows N) keeps about N rows (every k-th): for testing this
script quickly, never for the report.
"""
import argparse
import gc
import json
import os
import platform
import resource
import sys
import time

import numpy as np
import pandas as pd

CATEGORICAL = ["origin", "destination"]


def log(msg):
    print("regression peers: " + msg, file=sys.stderr, flush=True)


def metrics(y, p):
    y, p = np.asarray(y, dtype=np.float64), np.asarray(p, dtype=np.float64)
    r = y - p
    return {
        "test_rmse": float(np.sqrt(np.mean(r * r))),
        "test_mae": float(np.mean(np.abs(r))),
        "test_r2": float(1 - np.sum(r * r) / np.sum((y - y.mean()) ** 2)),
    }


def load(path, rows, valid_from, test_from):
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
    y = df["delay"].to_numpy(dtype=np.float64)
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


def timed(fit):
    gc.collect()
    t0 = time.perf_counter()
    fit()
    return time.perf_counter() - t0


def fit_xgboost(raw, y, m, threads, patience=20):
    import xgboost

    model = xgboost.XGBRegressor(objective="reg:squarederror", tree_method="hist", max_depth=8,
                                 n_estimators=1000, learning_rate=0.3, early_stopping_rounds=patience,
                                 enable_categorical=True, n_jobs=threads)
    fit_s = timed(lambda: model.fit(raw[m["train"]], y[m["train"]],
                                    eval_set=[(raw[m["valid"]], y[m["valid"]])], verbose=False))
    out = metrics(y[m["test"]], model.predict(raw[m["test"]]))
    out.update(fit_s=fit_s, version=xgboost.__version__, threads=threads,
               trees=int(model.best_iteration) + 1, patience=patience,
               rounds_run=len(model.evals_result()["validation_0"]["rmse"]),
               call="XGBRegressor(objective='reg:squarederror', tree_method='hist', max_depth=8, "
                    "n_estimators=1000, learning_rate=0.3, early_stopping_rounds=%d, "
                    "enable_categorical=True, n_jobs=%d), eval_set the validation split" % (patience, threads))
    return out


def fit_hgb(raw, y, m):
    import sklearn
    from sklearn.ensemble import HistGradientBoostingRegressor

    X = raw.copy()
    for c in CATEGORICAL:
        codes = X[c].cat.codes.astype(np.float64)
        X[c] = codes.where(codes >= 0)
    X = X.astype(np.float64)
    mask = np.array([c in CATEGORICAL for c in X.columns])
    model = HistGradientBoostingRegressor(max_iter=200, max_leaf_nodes=31, categorical_features=mask, random_state=0)
    fit_s = timed(lambda: model.fit(X[m["train"]], y[m["train"]]))
    out = metrics(y[m["test"]], model.predict(X[m["test"]]))
    out.update(fit_s=fit_s, version=sklearn.__version__, iterations=int(model.n_iter_),
               call="HistGradientBoostingRegressor(max_iter=200, max_leaf_nodes=31, "
                    "categorical_features=[origin, destination], random_state=0)")
    return out


def fit_ridge(raw, y, m):
    import sklearn
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import Ridge
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    X = pd.DataFrame({
        "dep_hour": raw["dep_hour"],
        "day_of_week": raw["day_of_week"],
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
    Xtr = enc.fit_transform(X[m["train"]])
    Xte = enc.transform(X[m["test"]])
    model = Ridge(alpha=1.0)
    fit_s = timed(lambda: model.fit(Xtr, y[m["train"]]))
    out = metrics(y[m["test"]], model.predict(Xte))
    out.update(fit_s=fit_s, version=sklearn.__version__, weights=int(Xtr.shape[1]), solver="auto (sparse input)",
               call="Ridge(alpha=1.0) on one-hot dep_hour, day_of_week, origin, destination + "
                    "standardised distance, log(distance), day_of_month")
    return out


def fit_mean(y, m):
    mean = float(y[m["train"]].mean())
    out = metrics(y[m["test"]], np.full(int(m["test"].sum()), mean))
    out.update(fit_s=0.0, value=mean)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--valid-from", required=True)
    ap.add_argument("--test-from", required=True)
    ap.add_argument("--threads", type=int, default=2, help="XGBoost n_jobs (default 2)")
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS") or 0))
    ap.add_argument("--patience", type=int, default=5,
                    help="xgboost_same_patience's early_stopping_rounds (default 5, mlpipe's)")
    ap.add_argument("--models", default="mean,xgboost,xgboost_same_patience,sklearn_hgb,sklearn_ridge")
    args = ap.parse_args()

    raw, y, m, read_s = load(args.csv, args.rows, args.valid_from, args.test_from)
    result = {
        "csv": args.csv, "read_csv_s": read_s, "rows": int(len(raw)), "bench_rows": args.rows or None,
        "splits": {k: int(v.sum()) for k, v in m.items()},
        "python": platform.python_version(), "pandas": pd.__version__, "numpy": np.__version__,
        "omp_env": {k: v for k, v in os.environ.items() if k.startswith("OMP_")},
    }
    fits = {
        "mean": lambda: fit_mean(y, m),
        "xgboost": lambda: fit_xgboost(raw, y, m, args.threads),
        "xgboost_same_patience": lambda: fit_xgboost(raw, y, m, args.threads, args.patience),
        "sklearn_hgb": lambda: fit_hgb(raw, y, m),
        "sklearn_ridge": lambda: fit_ridge(raw, y, m),
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
    result["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump(result, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
