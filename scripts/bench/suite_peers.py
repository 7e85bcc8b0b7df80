"""The peers of the example-dataset suite (scripts/bench/suite.sh), on
the very feature matrices mlpipe fits on: XGBoost with early stopping and
scikit-learn's HistGradientBoosting.

For each directory DIR/NAME-SEED/ that `suite -out DIR` (scripts/bench/suite)
wrote (the pipeline's feature matrices of one split of one dataset:
{train,valid,test}-{x,y}.npy, columns.json, task.json), it fits on the
training split

  xgboost  xgboost.train({objective, tree_method: hist, nthread}, dtrain,
           num_boost_round=ROUNDS, evals=[(dvalid, "valid")],
           early_stopping_rounds=PATIENCE), XGBoost's defaults for the
           rest (eta 0.3, max_depth 6, min_child_weight 1, lambda 1, ...):
           objective binary:logistic, multi:softprob (num_class) or
           reg:squarederror, whose default evaluation metric (logloss,
           mlogloss, rmse) early stopping watches; categorical columns
           as pandas categoricals, split natively (enable_categorical)
  hgb      HistGradientBoostingClassifier / Regressor with its defaults
           (categorical_features for the categorical columns of at most
           255 categories; its own early stopping is off below 10,000
           rows, as in every example dataset), with --threads OpenMP
           threads

and writes each model's predictions of the validation and test splits to
DIR/NAME-SEED/MODEL-{valid,test}.npy (probabilities of class 1, of each
class row by row, or values), which `suite -score xgboost,hgb` scores with
the pipeline's metric code, and MODEL.json (fit time, rounds). It prints
one JSON line per directory and model.

    /usr/bin/python3 scripts/bench/suite_peers.py DIR [--rounds 2000] [--patience 50] [--threads 1]
"""
import argparse
import glob
import json
import os
import time

import numpy as np
import pandas as pd


def frame(d, name, cols):
    """The split as a DataFrame (categorical columns as categoricals of
    codes 0..card-1; a code outside them, such as an unseen category, is
    missing) and its labels."""
    x = np.load(os.path.join(d, name + "-x.npy"))
    data = {}
    for j, c in enumerate(cols):
        if c["kind"] == 1:
            codes = x[:, j]
            ok = np.isfinite(codes) & (codes >= 0) & (codes < c["card"])
            codes = np.where(ok, codes, -1).astype(np.int64)
            data[c["name"]] = pd.Categorical.from_codes(codes, categories=list(range(c["card"])))
        else:
            data[c["name"]] = x[:, j]
    return pd.DataFrame(data), np.load(os.path.join(d, name + "-y.npy"))


def fit_xgboost(task, sets, args):
    import xgboost as xgb
    params = {"tree_method": "hist", "nthread": args.threads}
    if task["task"] == "binary":
        params["objective"] = "binary:logistic"
    elif task["task"] == "multiclass":
        params.update(objective="multi:softprob", num_class=task["classes"])
    else:
        params["objective"] = "reg:squarederror"
    t0 = time.perf_counter()
    dtr = xgb.DMatrix(*sets["train"], enable_categorical=True)
    dva = xgb.DMatrix(*sets["valid"], enable_categorical=True)
    bst = xgb.train(params, dtr, args.rounds, evals=[(dva, "valid")], early_stopping_rounds=args.patience,
                    verbose_eval=False)
    fit_s = time.perf_counter() - t0
    best = bst.best_iteration + 1
    preds = {name: bst.predict(xgb.DMatrix(sets[name][0], enable_categorical=True), iteration_range=(0, best))
             for name in ("valid", "test")}
    return preds, {"version": xgb.__version__, "params": params, "rounds": best, "fit_s": fit_s}


def fit_hgb(task, sets, cols, args):
    import sklearn
    from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
    cats = [c["kind"] == 1 and c["card"] <= 255 for c in cols]

    def numeric(df):
        out = df.copy()
        for c in df.columns:
            if isinstance(df[c].dtype, pd.CategoricalDtype):
                codes = df[c].cat.codes.astype(np.float64)
                out[c] = codes.where(codes >= 0)  # missing or unseen: NaN
        return out.astype(np.float64)

    cls = HistGradientBoostingRegressor if task["task"] == "regression" else HistGradientBoostingClassifier
    m = cls(categorical_features=np.array(cats) if any(cats) else None, random_state=0)
    t0 = time.perf_counter()
    m.fit(numeric(sets["train"][0]), sets["train"][1])
    fit_s = time.perf_counter() - t0
    preds = {}
    for name in ("valid", "test"):
        x = numeric(sets[name][0])
        if task["task"] == "regression":
            preds[name] = m.predict(x)
        else:
            p = m.predict_proba(x)
            preds[name] = p[:, 1] if task["task"] == "binary" else p
    return preds, {"version": sklearn.__version__, "rounds": int(m.n_iter_), "fit_s": fit_s}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--rounds", type=int, default=2000, help="XGBoost's most boosting rounds")
    ap.add_argument("--patience", type=int, default=50, help="XGBoost's early_stopping_rounds")
    ap.add_argument("--threads", type=int, default=1, help="XGBoost's nthread")
    ap.add_argument("--models", default="xgboost,hgb", help="comma-separated peers to fit")
    args = ap.parse_args()
    # Both peers run on OpenMP: one thread each (as many as --threads)
    # fits these small datasets fastest, and a passive wait keeps idle
    # threads from spinning on a shared machine. Set before the peers'
    # libraries load.
    os.environ.setdefault("OMP_NUM_THREADS", str(args.threads))
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

    for d in sorted(glob.glob(os.path.join(args.dir, "*", "task.json"))):
        d = os.path.dirname(d)
        task = json.load(open(os.path.join(d, "task.json")))
        cols = json.load(open(os.path.join(d, "columns.json")))
        sets = {name: frame(d, name, cols) for name in ("train", "valid", "test")}
        for model in args.models.split(","):
            if model == "xgboost":
                preds, info = fit_xgboost(task, sets, args)
            elif model == "hgb":
                preds, info = fit_hgb(task, sets, cols, args)
            else:
                raise SystemExit("unknown peer %r" % model)
            for name, p in preds.items():
                np.save(os.path.join(d, "%s-%s.npy" % (model, name)), np.ascontiguousarray(p, dtype=np.float64).reshape(-1))
            with open(os.path.join(d, model + ".json"), "w") as f:
                json.dump(info, f)
            print(json.dumps({"dir": os.path.basename(d), "model": model, **info}), flush=True)


if __name__ == "__main__":
    main()
