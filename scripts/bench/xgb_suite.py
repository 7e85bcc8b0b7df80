"""XGBoost with its default parameters and early stopping on the suite of
datasets that scripts/bench/suite exported, for scripts/bench/gbdt.sh.

For each directory DIR/NAME-SEED/ that `go run ./scripts/bench/suite -out
DIR` wrote (the pipeline's feature matrices of one split of one dataset:
{train,valid,test}-{x,y}.npy, columns.json, task.json), fits

  xgboost.train({objective, tree_method: hist, nthread}, dtrain,
                num_boost_round=ROUNDS, evals=[(dvalid, "valid")],
                early_stopping_rounds=PATIENCE)

with XGBoost's defaults for everything else (eta 0.3, max_depth 6,
min_child_weight 1, lambda 1, ...): objective binary:logistic,
multi:softprob (num_class) or reg:squarederror, whose default evaluation
metric (logloss, mlogloss, rmse) early stopping watches. Categorical
columns (codes 0..card-1) are pandas categoricals, split natively
(enable_categorical=True), as gbdt splits them. It writes the best
iteration's predictions of the validation and test sets to
DIR/NAME-SEED/xgboost-{valid,test}.npy (probabilities of class 1, of each
class row by row, or values), which `suite -score xgboost` scores with the
pipeline's metric code, and prints one JSON line per directory: the
rounds kept and the fit time.

    /usr/bin/python3 scripts/bench/xgb_suite.py DIR [--rounds 2000] [--patience 50]
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def frame(d, name, cols):
    x = np.load(os.path.join(d, name + "-x.npy"))
    data = {}
    for j, c in enumerate(cols):
        if c["kind"] == 1:
            data[c["name"]] = pd.Categorical.from_codes(x[:, j].astype(np.int64), categories=list(range(c["card"])))
        else:
            data[c["name"]] = x[:, j]
    return pd.DataFrame(data), np.load(os.path.join(d, name + "-y.npy"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("dir")
    ap.add_argument("--rounds", type=int, default=2000, help="most boosting rounds")
    ap.add_argument("--patience", type=int, default=50, help="early_stopping_rounds")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args()

    import xgboost as xgb

    for d in sorted(glob.glob(os.path.join(args.dir, "*", "task.json"))):
        d = os.path.dirname(d)
        task = json.load(open(os.path.join(d, "task.json")))
        cols = json.load(open(os.path.join(d, "columns.json")))
        params = {"tree_method": "hist", "nthread": args.threads}
        if task["task"] == "binary":
            params["objective"] = "binary:logistic"
        elif task["task"] == "multiclass":
            params.update(objective="multi:softprob", num_class=task["classes"])
        else:
            params["objective"] = "reg:squarederror"
        sets = {name: frame(d, name, cols) for name in ("train", "valid", "test")}
        t0 = time.perf_counter()
        dtr = xgb.DMatrix(*sets["train"], enable_categorical=True)
        dva = xgb.DMatrix(*sets["valid"], enable_categorical=True)
        bst = xgb.train(params, dtr, args.rounds, evals=[(dva, "valid")], early_stopping_rounds=args.patience,
                        verbose_eval=False)
        fit_s = time.perf_counter() - t0
        best = bst.best_iteration + 1
        for name in ("valid", "test"):
            p = bst.predict(xgb.DMatrix(sets[name][0], enable_categorical=True), iteration_range=(0, best))
            np.save(os.path.join(d, "xgboost-%s.npy" % name), np.ascontiguousarray(p, dtype=np.float64).reshape(-1))
        print(json.dumps({"dir": os.path.basename(d), "version": xgb.__version__, "params": params,
                          "rounds": best, "fit_s": fit_s}), flush=True)


if __name__ == "__main__":
    main()
