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

The fitted peer is cached: fitting it takes minutes on an idle machine (79
at a load of 40), and only its predictions are what the bench compares. The
model is saved with XGBoost's own save_model (JSON) to

  CACHE/xgboost-predict-KEY.json   (CACHE: --cache, else $MLPIPE_BENCH_CACHE,
                                    else ~/.cache/mlpipe/bench)

where KEY is the SHA-256 of what the fit depends on: the CSV's bytes, the
call above (its parameters and threads), --rows, --valid-from, --test-from,
--threshold and the XGBoost version. A later run with the same key loads
the model instead of fitting it ("fit_cached": true, "fit_s" the seconds of
the fit that made it); predict_proba and pred_contribs are timed in every
run, as before. A different CSV, parameter or XGBoost version fits anew.
--no-cache fits and saves nothing; deleting the file forces a fit.

BENCH_ROWS=N (or --rows N) keeps about N rows, for testing this script only.
"""
import argparse
import hashlib
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
    ap.add_argument("--cache", default=os.environ.get("MLPIPE_BENCH_CACHE") or
                    os.path.join(os.path.expanduser("~"), ".cache", "mlpipe", "bench"),
                    help="directory of fitted peer models (default $MLPIPE_BENCH_CACHE or ~/.cache/mlpipe/bench)")
    ap.add_argument("--no-cache", action="store_true", help="fit the peer, and save nothing")
    args = ap.parse_args()

    import xgboost

    raw, y, masks, _ = load(args.csv, args.rows, args.valid_from, args.test_from, args.threshold)
    tr, te = masks["train"], masks["test"]
    call = ("XGBClassifier(tree_method='hist', grow_policy='lossguide', max_leaves=4095, max_depth=20, "
            "n_estimators=25, learning_rate=0.2, enable_categorical=True, n_jobs=%d)" % args.threads)
    m = xgboost.XGBClassifier(tree_method="hist", grow_policy="lossguide", max_leaves=4095, max_depth=20,
                              n_estimators=25, learning_rate=0.2, enable_categorical=True, n_jobs=args.threads)
    path = None
    if not args.no_cache:
        key = cache_key(args, call, xgboost.__version__)
        path = os.path.join(args.cache, "xgboost-predict-%s.json" % key)
    meta = path + ".meta.json" if path else None
    cached = bool(path) and os.path.exists(path) and os.path.exists(meta)
    if cached:
        log("loading the fitted peer from " + path)
        m.load_model(path)
        with open(meta) as f:
            fit_s = json.load(f)["fit_s"]
    else:
        log("fitting " + call)
        fit_s = timed_fit(m, raw[tr], y[tr])
        if path:
            save(m, path, meta, {"fit_s": fit_s, "call": call, "version": xgboost.__version__, "csv": os.path.abspath(args.csv)})
            log("saved the fitted peer to " + path)
    booster = m.get_booster()
    dump = booster.trees_to_dataframe()
    leaves = int((dump["Feature"] == "Leaf").sum())
    out = {
        "version": xgboost.__version__, "call": call, "fit_s": fit_s, "fit_cached": cached, "model_file": path,
        "threads": args.threads,
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


def cache_key(args, call, version):
    """The SHA-256 of what the fitted model depends on (see the top of the file)."""
    h = hashlib.sha256()
    with open(args.csv, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    h.update(json.dumps({"call": call, "rows": args.rows, "valid_from": args.valid_from,
                         "test_from": args.test_from, "threshold": args.threshold,
                         "xgboost": version}, sort_keys=True).encode())
    return h.hexdigest()[:32]


def save(m, path, meta, info):
    """Saves the model and its metadata under temporary names, then renames
    them into place (the model last), so that a run stopped half way leaves
    no model that a later run would take for whole."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    def write_meta(p):
        with open(p, "w") as f:
            json.dump(info, f)

    for name, write in ((meta, write_meta), (path, m.save_model)):
        tmp = "%s.tmp%d.json" % (name, os.getpid())
        write(tmp)
        os.replace(tmp, name)


if __name__ == "__main__":
    main()
