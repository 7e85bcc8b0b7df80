"""LightGBM on the flights feature matrix that mlpipe's gbdt benchmark
fitted, for scripts/bench/gbdt.sh: the fastest CPU trainer of the field,
as a reference beside the issue's peer (XGBoost, xgb_frontier.py).

It reads the files BenchmarkFlightsQuality exports (MLPIPE_BENCH_EXPORT;
see xgb_frontier.py for their layout). Categorical columns (codes
0..card-1) are LightGBM categorical features, split natively as mlpipe's
gbdt and XGBoost split them; numeric columns are passed as they are (NaN is
missing).

Parameters: objective binary, num_leaves 255, max_depth -1, learning_rate
0.1, max_bin 255 (XGBoost's peer setting); everything else LightGBM's
defaults (min_data_in_leaf 20, lambda_l2 0, cat_smooth 10, cat_l2 10).
--params JSON sets more over them, such as {"use_quantized_grad": true}
(LightGBM 4's quantized training: gradients of 4 levels by default,
histograms of packed integers).

Two modes, as xgb_frontier.py's:

  full    early stopping on the validation log loss (patience --patience),
          at most --rounds rounds; the fit time is time.perf_counter around
          Dataset construction and lightgbm.train. Prints the fit time,
          rounds, best round, test ROC AUC and log loss of the best round,
          and the test ROC AUC of the model as trained up to each of the
          times --at.
  rounds  exactly --rounds rounds without early stopping (the validation
          log loss still evaluated every round), and prints the seconds per
          round after the first.

Prints one JSON object. The library comes from LightGBM's sources, built
by scripts/bench/lightgbm.sh; run with PYTHONPATH set to its
python-package directory, as that script prints.
"""
import json
import os
import sys
import time

import numpy as np

from xgb_frontier import arguments, auc_at, log_loss, roc_auc, timings


def load(d, name):
    return np.load(os.path.join(d, name + "-x.npy")), np.load(os.path.join(d, name + "-y.npy"))


def version(lgb):
    """LightGBM's version: the package's, or (a package built from source
    has none) the VERSION.txt that lightgbm.sh puts beside it."""
    v = getattr(lgb, "__version__", None)
    if v:
        return v
    with open(os.path.join(os.path.dirname(lgb.__file__), "..", "VERSION.txt")) as f:
        return f.read().strip()


def main():
    ap = arguments(__doc__, "num_threads")
    ap.add_argument("--params", default="{}", help="JSON: parameters set over the peer setting")
    args = ap.parse_args()

    import lightgbm as lgb

    cols = json.load(open(os.path.join(args.dir, "columns.json")))
    cats = [j for j, c in enumerate(cols) if c["kind"] == 1]
    names = [c["name"] for c in cols]
    xtr, ytr = load(args.dir, "train")
    xva, yva = load(args.dir, "valid")
    params = dict(objective="binary", num_leaves=255, max_depth=-1, learning_rate=0.1, max_bin=255,
                  num_threads=args.threads, metric="binary_logloss", verbose=-1)
    params.update(json.loads(args.params))
    elapsed, cpu = [], []

    def trace(env):
        elapsed.append(time.perf_counter() - t0)
        cpu.append(time.process_time())
        if env.iteration % 100 == 0:
            print("lgb_frontier: round %d at %.1f s, valid log loss %.5f" %
                  (env.iteration, elapsed[-1], env.evaluation_result_list[0][2]), file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    dtr = lgb.Dataset(xtr, ytr, feature_name=names, categorical_feature=cats, free_raw_data=False)
    dva = lgb.Dataset(xva, yva, reference=dtr, feature_name=names, categorical_feature=cats)
    callbacks = [trace]
    if args.mode == "full":
        callbacks.append(lgb.early_stopping(args.patience, verbose=False))
    bst = lgb.train(params, dtr, args.rounds, valid_sets=[dva], valid_names=["valid"], callbacks=callbacks)
    fit_s = time.perf_counter() - t0
    out = {"version": version(lgb), "params": params, **timings(fit_s, elapsed, cpu)}
    if args.mode == "full":
        xte, yte = load(args.dir, "test")
        best = bst.best_iteration or len(elapsed)
        p = bst.predict(xte, num_iteration=best)
        out.update(best_rounds=best, valid_log_loss=float(bst.best_score["valid"]["binary_logloss"]),
                   test_auc=roc_auc(yte, p), test_log_loss=log_loss(yte, p))
        out["at"] = auc_at(args.at, elapsed, best, yte, lambda n: bst.predict(xte, num_iteration=n))
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
