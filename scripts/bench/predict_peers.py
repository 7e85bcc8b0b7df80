"""XGBoost's batch prediction and explanation on the flights task, the peers
of `mlpipe predict` and of mlpipe's TreeSHAP, for scripts/bench/predict.sh.

Reads the flights CSV with pandas and builds the raw features exactly as
scripts/bench/peers.py does (its load()), then fits one XGBoost model shaped
like mlpipe's default gbdt, so that both explain models of comparable size:

  XGBClassifier(tree_method='hist', grow_policy='lossguide', max_leaves=4095,
                max_depth=20, n_estimators=25, learning_rate=0.2,
                enable_categorical=True, n_jobs=THREADS)

(mlpipe's defaults: 25 rounds of at most 4,095 leaves and depth 20, learning
rate 0.2; train/gbdt/doc.go). It prints one JSON object with:

  predict      predict_proba on every row of the file (all splits, the rows
               mlpipe predict scores), RUNS times, each timed with
               time.perf_counter: seconds and rows per second; THREADS threads
  contribs     Booster.predict(DMatrix, pred_contribs=True), exact TreeSHAP
               (XGBoost's Algorithm 2 implementation), on the first N rows of
               the test split with ONE thread, seconds per row
  leaves       the model's total leaves, and its trees

Encoding (building the DataFrame and the DMatrix) is not timed; nor is reading
the CSV (pandas 1.5 without pyarrow cannot read the Parquet file that
mlpipe predict reads). Use Debian's python (/usr/bin/python3) with
python3-pandas and python3-xgboost.

    /usr/bin/python3 scripts/bench/predict_peers.py FLIGHTS.csv \\
        --valid-from 2001-05-01 --test-from 2001-06-01 --threshold 15

BENCH_ROWS=N (or --rows N) keeps about N rows, for testing this script only.
"""
import argparse
import json
import os
import resource
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import load, log, roc_auc, timed_fit  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("csv")
    ap.add_argument("--valid-from", required=True)
    ap.add_argument("--test-from", required=True)
    ap.add_argument("--threshold", type=float, required=True)
    ap.add_argument("--threads", type=int, default=2, help="threads of predict_proba (default 2)")
    ap.add_argument("--runs", type=int, default=3, help="timed predict_proba calls (default 3)")
    ap.add_argument("--contribs-rows", type=int, default=200, help="test rows explained (default 200)")
    ap.add_argument("--rows", type=int, default=int(os.environ.get("BENCH_ROWS") or 0))
    args = ap.parse_args()

    import xgboost

    raw, y, masks, _ = load(args.csv, args.rows, args.valid_from, args.test_from, args.threshold)
    tr, te = masks["train"], masks["test"]
    call = ("XGBClassifier(tree_method='hist', grow_policy='lossguide', max_leaves=4095, max_depth=20, "
            "n_estimators=25, learning_rate=0.2, enable_categorical=True, n_jobs=%d)" % args.threads)
    m = xgboost.XGBClassifier(tree_method="hist", grow_policy="lossguide", max_leaves=4095, max_depth=20,
                              n_estimators=25, learning_rate=0.2, enable_categorical=True, n_jobs=args.threads)
    log("fitting " + call)
    fit_s = timed_fit(m, raw[tr], y[tr])
    booster = m.get_booster()
    dump = booster.trees_to_dataframe()
    leaves = int((dump["Feature"] == "Leaf").sum())
    out = {
        "version": xgboost.__version__, "call": call, "fit_s": fit_s, "threads": args.threads,
        "rows": int(len(raw)), "trees": int(dump["Tree"].nunique()), "leaves": leaves,
        "test_auc": roc_auc(y[te], m.predict_proba(raw[te])[:, 1]),
    }

    times = []
    for i in range(args.runs):
        t0 = time.perf_counter()
        m.predict_proba(raw)
        times.append(time.perf_counter() - t0)
        log("predict_proba of %d rows, run %d: %.3f s" % (len(raw), i + 1, times[-1]))
    out["predict"] = {"seconds": times, "rows_per_s": [len(raw) / t for t in times]}

    n = min(args.contribs_rows, int(te.sum()))
    d = xgboost.DMatrix(raw[te].iloc[:n], enable_categorical=True)
    booster.set_param({"nthread": 1})
    t0 = time.perf_counter()
    phi = booster.predict(d, pred_contribs=True)
    s = time.perf_counter() - t0
    margin = booster.predict(d, output_margin=True)
    out["contribs"] = {
        "rows": n, "seconds": s, "seconds_per_row": s / n, "threads": 1,
        # XGBoost's additivity, for the record: max |sum(phi) - margin|.
        "max_additivity_error": float(abs(phi.sum(axis=1) - margin).max()),
    }
    log("pred_contribs of %d rows, 1 thread: %.3f s" % (n, s))
    out["peak_rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    json.dump(out, sys.stdout, indent=1)
    print()


if __name__ == "__main__":
    main()
