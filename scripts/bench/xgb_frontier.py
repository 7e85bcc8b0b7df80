"""XGBoost on the flights feature matrix that mlpipe's gbdt benchmark fitted,
for scripts/bench/gbdt.sh.

The matrix is not rebuilt here: train/gbdt's BenchmarkFlightsQuality writes
the default config's feature matrix (features.Fit on the training split,
Transform of validation and test) to DIR when MLPIPE_BENCH_EXPORT=DIR is
set, as NumPy files, and this script reads exactly those numbers:

  DIR/{train,valid,test}-x.npy   float64, rows x columns (column-major)
  DIR/{train,valid,test}-y.npy   float64 labels, 0 or 1
  DIR/columns.json               features.ColumnInfo per column: name, kind
                                 (0 numeric, 1 categorical) and card

Categorical columns (codes 0..card-1; code 0 is the pipeline's "unknown")
become pandas categoricals with categories 0..card-1, so that XGBoost splits
them natively (enable_categorical=True), as mlpipe's gbdt does; numeric
columns are passed as they are (NaN is missing for both).

Two modes:

  full    objective binary:logistic, tree_method hist, grow_policy lossguide,
          max_leaves 255, max_depth 0, eta 0.1, early stopping on the
          validation log loss (patience --patience), at most --rounds rounds;
          the fit time is time.perf_counter around DMatrix construction and
          xgboost.train (mlpipe's fit time includes its binning too). Prints
          the fit time, rounds, best round, test ROC AUC and log loss of the
          best round, and the trace: after each round, the elapsed training
          time; the test ROC AUC of the model as trained up to given times
          (--at) is computed afterwards from the trace, with iteration_range.
  rounds  the same parameters for exactly --rounds rounds without early
          stopping (the validation log loss is still evaluated every round,
          as in full), and prints the seconds per round after the first.

Prints one JSON object. Use Debian's python3 with python3-xgboost,
python3-pandas and python3-sklearn (only for nothing: AUC is computed here).
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import pandas as pd


def roc_auc(y, p):
    """ROC AUC as the Mann-Whitney U statistic from average ranks (ties
    count one half), as mlpipe's evaluate.ROCAUC computes it."""
    y = np.asarray(y, dtype=bool)
    ranks = pd.Series(p).rank(method="average").to_numpy()
    pos = y.sum()
    neg = len(y) - pos
    return float((ranks[y].sum() - pos * (pos + 1) / 2) / (pos * neg))


def log_loss(y, p):
    p = np.clip(np.asarray(p, dtype=np.float64), 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def frame(d, name, cols):
    x = np.load(os.path.join(d, name + "-x.npy"))
    y = np.load(os.path.join(d, name + "-y.npy"))
    data = {}
    for j, c in enumerate(cols):
        if c["kind"] == 1:
            data[c["name"]] = pd.Categorical.from_codes(x[:, j].astype(np.int64), categories=list(range(c["card"])))
        else:
            data[c["name"]] = x[:, j]
    return pd.DataFrame(data), y


def arguments(doc, threads_help):
    """The command-line arguments both frontier scripts take; the caller
    adds its own before parse_args."""
    ap = argparse.ArgumentParser(description=doc.split("\n")[0])
    ap.add_argument("dir", help="the directory BenchmarkFlightsQuality exported the matrix to")
    ap.add_argument("--mode", choices=["full", "rounds"], default="full")
    ap.add_argument("--rounds", type=int, default=2000, help="full: the most rounds; rounds: exactly this many")
    ap.add_argument("--patience", type=int, default=50, help="early stopping rounds (full)")
    ap.add_argument("--threads", type=int, default=2, help=threads_help)
    ap.add_argument("--at", default="", help="full: comma-separated training times (s) to report the test AUC at")
    return ap


def timings(fit_s, elapsed, cpu):
    """The fit time and the wall and CPU seconds per round after the first,
    from the elapsed time and process CPU time at the end of each round."""
    return {"fit_s": fit_s, "rounds_run": len(elapsed),
            "s_per_round": (elapsed[-1] - elapsed[0]) / max(1, len(elapsed) - 1),
            "cpu_s_per_round": (cpu[-1] - cpu[0]) / max(1, len(cpu) - 1),
            "omp_env": {k: v for k, v in os.environ.items() if k.startswith("OMP_")}}


def auc_at(at, elapsed, best, y, predict):
    """The test ROC AUC of the model as trained up to each time of at (a
    comma-separated list of seconds): predict(n) scores the test rows with
    the first n rounds; past the end of training, the model kept (best)."""
    out = []
    for t in [float(v) for v in at.split(",") if v]:
        n = sum(1 for e in elapsed if e <= t)
        if n == 0:
            out.append({"s": t, "rounds": 0, "test_auc": None})
            continue
        n = min(n, best) if n >= len(elapsed) else n  # past the end: the model that was kept
        out.append({"s": t, "rounds": n, "test_auc": roc_auc(y, predict(n))})
    return out


def main():
    args = arguments(__doc__, "nthread").parse_args()

    import xgboost as xgb

    cols = json.load(open(os.path.join(args.dir, "columns.json")))
    xtr, ytr = frame(args.dir, "train", cols)
    xva, yva = frame(args.dir, "valid", cols)
    params = dict(objective="binary:logistic", tree_method="hist", grow_policy="lossguide", max_leaves=255,
                  max_depth=0, eta=0.1, nthread=args.threads, eval_metric="logloss")
    call = ("xgboost.train(%s, num_boost_round=%d, evals=[(valid, 'valid')]%s)" %
            (json.dumps(params, sort_keys=True), args.rounds,
             ", early_stopping_rounds=%d" % args.patience if args.mode == "full" else ""))
    elapsed = []
    cpu = []  # process CPU seconds (every thread) at the end of each round

    class Trace(xgb.callback.TrainingCallback):
        def after_iteration(self, model, epoch, evals_log):
            elapsed.append(time.perf_counter() - t0)
            cpu.append(time.process_time())
            if epoch % 100 == 0:
                print("xgb_frontier: round %d at %.1f s, valid log loss %.5f" %
                      (epoch, elapsed[-1], evals_log["valid"]["logloss"][-1]), file=sys.stderr, flush=True)
            return False

    t0 = time.perf_counter()
    dtr = xgb.DMatrix(xtr, ytr, enable_categorical=True, nthread=args.threads)
    dva = xgb.DMatrix(xva, yva, enable_categorical=True, nthread=args.threads)
    kw = dict(early_stopping_rounds=args.patience) if args.mode == "full" else {}
    bst = xgb.train(params, dtr, args.rounds, evals=[(dva, "valid")], callbacks=[Trace()], verbose_eval=False, **kw)
    fit_s = time.perf_counter() - t0
    out = {"version": xgb.__version__, "call": call, "threads": args.threads, **timings(fit_s, elapsed, cpu)}
    if args.mode == "full":
        xte, yte = frame(args.dir, "test", cols)
        dte = xgb.DMatrix(xte, enable_categorical=True, nthread=args.threads)
        best = bst.best_iteration + 1
        p = bst.predict(dte, iteration_range=(0, best))
        out.update(best_rounds=best, valid_log_loss=float(bst.best_score), test_auc=roc_auc(yte, p),
                   test_log_loss=log_loss(yte, p))
        out["at"] = auc_at(args.at, elapsed, best, yte, lambda n: bst.predict(dte, iteration_range=(0, n)))
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
