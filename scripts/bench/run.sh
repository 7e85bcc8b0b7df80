#!/usr/bin/env bash
# scripts/bench/run.sh: measure the speed and memory of ingest, the models
# and their peers, and write BENCHMARKS.md at the repository root. Run it
# with `make bench`, which builds bin/mlpipe first.
#
# Every number in BENCHMARKS.md comes from a measurement made by this run;
# the only literals below are the targets from the project issue.
#
# What it does:
#   1. makes the full 3,000,000-row CSV (go run ./scripts/fixtures -full-csv)
#   2. runs the Go benchmarks of ./ingest (Parquet and CSV load, profile,
#      fingerprint, validate, split) and takes the median ns/op of each
#   3. measures the peak RSS of loading the Parquet file alone, and compares
#      it with the in-memory Arrow table size (the table-MB metric)
#   4. measures wall time and peak RSS of `bin/mlpipe ingest` (median of 3)
#   5. times pandas read_csv of the same CSV, the peer for our CSV loader
#   6. runs scripts/bench/models.sh: the gbdt and logreg fit benchmarks, the
#      features benchmarks, XGBoost and scikit-learn on the same task
#      (scripts/bench/peers.py) and the whole `mlpipe run` (see models.sh)
#   6b. runs scripts/bench/regression.sh: the regression on flights delay
#      minutes (gbdt's objectives, XGBoost, sklearn HGB and Ridge, the
#      training mean, and `mlpipe run` on configs/flights-delay-minutes.yaml)
#   6c. runs scripts/bench/suite.sh: every example dataset's default config
#      and gbdt's defaults against XGBoost (early stopping) and sklearn
#      HistGradientBoosting on the same split and feature matrices (issue
#      16's table, issue 17's target for gbdt's defaults)
#   6d. runs scripts/bench/gbdt.sh: gbdt against XGBoost at the frontier of
#      the flights task: quality, fit time, time per round, memory
#   6e. runs scripts/bench/scale.sh: the default config (gbdt only) at 3M,
#      6M, 12M and 30M rows of tiled flights data (SCALE_SIZES), wall and
#      CPU time per row against 3M, peak RSS, test AUC
#   7. runs scripts/bench/serve.sh (mlserve), scripts/bench/predict.sh
#      (mlpipe predict and explanations against XGBoost), scripts/bench/ui.sh
#      and scripts/bench/backtest.sh (the default backtest)
#   7b. runs scripts/bench/build.sh: the cold build time of both binaries
#   7c. runs scripts/bench/s3.sh: object storage (SeaweedFS) against the
#      local disk (Parquet read, registration, a replica's start)
#   8. writes BENCHMARKS.md
#
# Knobs (environment): BENCH_COUNT (default 5) and BENCH_TIME (default 3x)
# are passed to go test -count / -benchtime of ./ingest; PANDAS_PYTHON
# (default /usr/bin/python3, Debian's python) is the interpreter used for
# pandas and the model peers. BENCH_QUICK=1 skips step 6 (its targets are
# then reported as not measured). models.sh has knobs of its own.
#
# Needs: go, awk, GNU time (/usr/bin/time, Debian package `time`) and
# python3-pandas; the last two are installed with apt-get when missing and
# possible. Without pandas the report says "pandas: not available"; without
# GNU time the RSS figures say "not available". Step 6 also wants jq,
# python3-sklearn and python3-xgboost (installed the same way).

set -euo pipefail

# --- Setup -------------------------------------------------------------------

# Work from the repository root whatever the caller's directory.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)

GO=${GO:-go}
BENCH_COUNT=${BENCH_COUNT:-5}
BENCH_TIME=${BENCH_TIME:-3x}
PANDAS_PYTHON=${PANDAS_PYTHON:-/usr/bin/python3}
BENCH_QUICK=${BENCH_QUICK:-0}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
OUT_DOC="$ROOT/BENCHMARKS.md"

# Targets from the project issue (the only numbers typed into this file).
TARGET_PARQUET_S=0.5   # load data/flights-3m.parquet (3M rows), seconds
TARGET_RSS_X=3         # peak RSS of the Parquet load / in-memory table size
TARGET_PROFILE_S=1     # profile of the full 3M rows, seconds
ROWS=3000000           # rows in the dataset (data/README.md); pandas checks it

# All temporary files (the 106 MB CSV, logs, test binaries) go here, never
# into the repository; the directory is removed however the script exits.
TMP=$(mktemp -d "${TMPDIR:-/tmp}/mlpipe-bench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT

# log, median/minimum/maximum, calc, le, secs, num, thousands, bench_vals,
# bench_metric, time_field, kib_to_mb, or_na and apt_install.
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"

# --- Optional tools via apt ----------------------------------------------------

# GNU time for peak RSS. Without it, RSS is reported as not available.
HAVE_TIME=1
if [ ! -x "$TIME_BIN" ]; then
	apt_install time || true
	[ -x "$TIME_BIN" ] || { HAVE_TIME=0; log "GNU time unavailable: RSS figures will say 'not available'"; }
fi

# pandas from Debian's python (python3 on PATH may be a pyenv build without it).
HAVE_PANDAS=0
if "$PANDAS_PYTHON" -c 'import pandas' >/dev/null 2>&1; then
	HAVE_PANDAS=1
else
	apt_install python3-pandas || true
	"$PANDAS_PYTHON" -c 'import pandas' >/dev/null 2>&1 && HAVE_PANDAS=1
fi
[ "$HAVE_PANDAS" -eq 1 ] || log "pandas: not available; the report will say so"

[ -x bin/mlpipe ] || { echo "bin/mlpipe is missing: run 'make build' (or 'make bench')" >&2; exit 1; }

# --- 0. The machine ------------------------------------------------------------

RUN_DATE=$(date -u '+%Y-%m-%d %H:%M UTC')
NPROC=$(nproc)
CPU_MODEL=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
MEM_GIB=$(awk '/^MemTotal:/ { printf "%.1f", $2 / 1048576 }' /proc/meminfo)
GO_VERSION=$("$GO" version)
OS_NAME=$(awk -F= '$1 == "PRETTY_NAME" { gsub(/"/, "", $2); print $2 }' /etc/os-release 2>/dev/null || true)
KERNEL=$(uname -sr)
LOADAVG_START=$(cut -d' ' -f1-3 /proc/loadavg)
REVISION="$(git rev-parse --short=12 HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD 2>/dev/null || echo ' (with uncommitted changes)')"
PANDAS_VERSION="not available"
[ "$HAVE_PANDAS" -eq 1 ] && PANDAS_VERSION=$("$PANDAS_PYTHON" -c 'import pandas; print(pandas.__version__)')

# --- 1. The full CSV -----------------------------------------------------------

CSV="$TMP/flights-3m.csv"
log "writing the full CSV to $CSV"
"$GO" run ./scripts/fixtures -full-csv "$CSV" >&2
CSV_BYTES=$(wc -c <"$CSV")

# --- 2. Go benchmarks of ./ingest ----------------------------------------------

# -benchtime Nx runs each benchmark N times per measurement, -count repeats
# the measurement; we report the median of the -count measurements.
BENCH_CMD="go test -run '^\$' -bench . -benchtime $BENCH_TIME -count $BENCH_COUNT -benchmem ./ingest"
log "$BENCH_CMD (MLPIPE_BENCH_CSV=$CSV)"
MLPIPE_BENCH_CSV="$CSV" "$GO" test -run '^$' -bench . -benchtime "$BENCH_TIME" -count "$BENCH_COUNT" -benchmem ./ingest \
	2>&1 | tee "$TMP/bench.txt" >&2

# med NAME: median seconds per op of benchmark NAME; lo/hi: fastest/slowest.
ns_to_s() { awk '{ printf "%.17g\n", $1 / 1e9 }'; }
med() { bench_vals "$1" ns/op "$TMP/bench.txt" | median | ns_to_s; }
lo() { bench_vals "$1" ns/op "$TMP/bench.txt" | minimum | ns_to_s; }
hi() { bench_vals "$1" ns/op "$TMP/bench.txt" | maximum | ns_to_s; }

BENCHES=(LoadParquet LoadCSV Profile Fingerprint Validate Split)
for b in "${BENCHES[@]}"; do
	# A missing benchmark (or a skipped LoadCSV) would make the report lie.
	[ -n "$(bench_vals "$b" ns/op "$TMP/bench.txt")" ] || { echo "benchmark $b produced no result" >&2; exit 1; }
done
N_MEAS=$(bench_vals LoadParquet ns/op "$TMP/bench.txt" | wc -l)
PARQUET_S=$(med LoadParquet)
CSV_S=$(med LoadCSV)
PROFILE_S=$(med Profile)
TABLE_MB=$(bench_vals LoadParquet table-MB "$TMP/bench.txt" | median)

# --- 3. Peak RSS of loading the Parquet file alone ------------------------------

# A test binary running only BenchmarkLoadParquet once, from ingest/ (the
# benchmark reads ../data/flights-3m.parquet), under GNU time. Three runs,
# median reported.
RSS_RUNS=3
RSS_CMD="(cd ingest && /usr/bin/time -v ingest.test -test.run '^\$' -test.bench 'BenchmarkLoadParquet\$' -test.benchtime 1x)"
if [ "$HAVE_TIME" -eq 1 ]; then
	log "building the ingest test binary"
	"$GO" test -c -o "$TMP/ingest.test" ./ingest
	for i in $(seq 1 "$RSS_RUNS"); do
		log "peak RSS of the Parquet load, run $i/$RSS_RUNS"
		(cd ingest && "$TIME_BIN" -v -o "$TMP/rss-time-$i.txt" "$TMP/ingest.test" \
			-test.run '^$' -test.bench 'BenchmarkLoadParquet$' -test.benchtime 1x >"$TMP/rss-bench-$i.txt" 2>&1)
		time_field "$TMP/rss-time-$i.txt" rss >>"$TMP/rss-kib.txt"
		bench_vals LoadParquet table-MB "$TMP/rss-bench-$i.txt" >>"$TMP/rss-table-mb.txt"
	done
	PQ_RSS_MB=$(kib_to_mb "$(median <"$TMP/rss-kib.txt")")
	PQ_RSS_LO=$(kib_to_mb "$(minimum <"$TMP/rss-kib.txt")")
	PQ_RSS_HI=$(kib_to_mb "$(maximum <"$TMP/rss-kib.txt")")
	RSS_TABLE_MB=$(median <"$TMP/rss-table-mb.txt")
	PQ_RSS_X=$(calc "$PQ_RSS_MB / $RSS_TABLE_MB")
fi

# --- 4. The whole `mlpipe ingest` command --------------------------------------

INGEST_RUNS=3
INGEST_CMD="bin/mlpipe ingest --config configs/flights.yaml --out \$TMP/out --log-level warn"
for i in $(seq 1 "$INGEST_RUNS"); do
	log "bin/mlpipe ingest, run $i/$INGEST_RUNS"
	if [ "$HAVE_TIME" -eq 1 ]; then
		"$TIME_BIN" -v -o "$TMP/ingest-time-$i.txt" \
			bin/mlpipe ingest --config configs/flights.yaml --out "$TMP/out" --log-level warn >"$TMP/ingest-$i.log" 2>&1
		time_field "$TMP/ingest-time-$i.txt" wall >>"$TMP/ingest-wall.txt"
		time_field "$TMP/ingest-time-$i.txt" rss >>"$TMP/ingest-kib.txt"
	else
		# No GNU time: wall time from the shell clock, no RSS.
		t0=$(date +%s%N)
		bin/mlpipe ingest --config configs/flights.yaml --out "$TMP/out" --log-level warn >"$TMP/ingest-$i.log" 2>&1
		t1=$(date +%s%N)
		awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }' >>"$TMP/ingest-wall.txt"
	fi
done
INGEST_WALL_S=$(median <"$TMP/ingest-wall.txt")
INGEST_WALL_LO=$(minimum <"$TMP/ingest-wall.txt")
INGEST_WALL_HI=$(maximum <"$TMP/ingest-wall.txt")
if [ "$HAVE_TIME" -eq 1 ]; then
	INGEST_RSS_MB=$(kib_to_mb "$(median <"$TMP/ingest-kib.txt")")
fi

# --- 5. The peer: pandas read_csv of the same CSV ------------------------------

# One python process; each variant read 3 times, timed with perf_counter.
# Default options (what most users write) and parse_dates=['date'] (our
# loader parses the timestamps too, so that one is the fair peer).
PANDAS_RUNS=3
if [ "$HAVE_PANDAS" -eq 1 ]; then
	log "pandas $PANDAS_VERSION read_csv, $PANDAS_RUNS runs per variant"
	if ! "$PANDAS_PYTHON" - "$CSV" "$PANDAS_RUNS" "$ROWS" >"$TMP/pandas.txt" 2>"$TMP/pandas.err" <<'PY'
import gc
import sys
import time

import pandas as pd

path, runs, rows = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
for variant, kwargs in (("default", {}), ("parse_dates", {"parse_dates": ["date"]})):
    times = []
    for _ in range(runs):
        gc.collect()
        t0 = time.perf_counter()
        df = pd.read_csv(path, **kwargs)
        times.append(time.perf_counter() - t0)
        assert len(df) == rows, (variant, len(df))
        if kwargs:
            assert str(df["date"].dtype).startswith("datetime64"), df["date"].dtype
        del df
    print(variant, *("%.9f" % t for t in times))
PY
	then
		log "pandas run failed:"; cat "$TMP/pandas.err" >&2
		HAVE_PANDAS=0
		PANDAS_VERSION="not available (read_csv failed: $(tail -n 1 "$TMP/pandas.err"))"
	fi
fi
if [ "$HAVE_PANDAS" -eq 1 ]; then
	# pandas_stat VARIANT median|min: statistic of one variant's times.
	pandas_stat() {
		awk -v v="$1" '$1 == v { for (i = 2; i <= NF; i++) print $i }' "$TMP/pandas.txt" |
			if [ "$2" = median ]; then median; else minimum; fi
	}
	PD_DEF_MED=$(pandas_stat default median)
	PD_DEF_BEST=$(pandas_stat default min)
	PD_PD_MED=$(pandas_stat parse_dates median)
	PD_PD_BEST=$(pandas_stat parse_dates min)
	CSV_VS_PD=$(calc "$CSV_S / $PD_PD_MED")     # the target: < 1
	CSV_VS_DEF=$(calc "$CSV_S / $PD_DEF_MED")   # shown for reference
fi

# --- 6. Models, their peers and `mlpipe run` (scripts/bench/models.sh) --------

# models.sh writes its Markdown sections and a small env file into
# $TMP/models; a step of it that fails is listed in MODELS_FAILED (and makes
# this script exit non-zero once BENCHMARKS.md is written), it does not stop
# the run.
MODELS_MET=0; MODELS_JUDGED=0; MODELS_TOTAL=9; MODELS_FAILED=""
PEER_VERSIONS="not measured (BENCH_QUICK=1)"
MODELS_RAN=0
if [ "$BENCH_QUICK" = 1 ]; then
	log "BENCH_QUICK=1: skipping the models"
elif PANDAS_PYTHON="$PANDAS_PYTHON" GO="$GO" TIME_BIN="$TIME_BIN" \
	"$ROOT/scripts/bench/models.sh" "$CSV" "$TMP/models"; then
	# shellcheck source=/dev/null
	source "$TMP/models/models.env"
	MODELS_RAN=1
else
	MODELS_FAILED="models.sh (exit status $?)"
	PEER_VERSIONS="not measured (models.sh failed)"
fi

# --- 6b. The regression (scripts/bench/regression.sh) -----------------------------

REGRESSION_MET=0; REGRESSION_JUDGED=0; REGRESSION_TOTAL=3; REGRESSION_FAILED=""
REGRESSION_RAN=0
if [ "$BENCH_QUICK" = 1 ]; then
	log "BENCH_QUICK=1: skipping the regression"
elif PANDAS_PYTHON="$PANDAS_PYTHON" GO="$GO" TIME_BIN="$TIME_BIN" \
	"$ROOT/scripts/bench/regression.sh" "$CSV" "$TMP/regression"; then
	# shellcheck source=/dev/null
	source "$TMP/regression/regression.env"
	REGRESSION_RAN=1
else
	REGRESSION_FAILED="regression.sh (exit status $?)"
fi

# --- 6c. The example datasets (scripts/bench/suite.sh) ---------------------------

# One target (issue 17: gbdt's defaults at least as good as XGBoost-ES on
# >= 5 of the 6 judged datasets, within 2% on all), judged by suite.sh.
# SUITE_SEEDS (default 1,2,3) are the random splits' seeds.
SUITE_MET=0; SUITE_JUDGED=0; SUITE_TOTAL=1; SUITE_FAILED=""
SUITE_RAN=0
if [ "$BENCH_QUICK" = 1 ]; then
	log "BENCH_QUICK=1: skipping the example datasets"
elif PANDAS_PYTHON="$PANDAS_PYTHON" GO="$GO" \
	"$ROOT/scripts/bench/suite.sh" --seeds "${SUITE_SEEDS:-1,2,3}" "$TMP/suite"; then
	# shellcheck source=/dev/null
	source "$TMP/suite/suite.env"
	SUITE_RAN=1
else
	SUITE_FAILED="suite.sh (exit status $?)"
fi

# --- 6d. The gradient boosting frontier (scripts/bench/gbdt.sh) ---------------

# gbdt.sh: the gradient boosting frontier (flights quality, fit time, time
# per round, memory), each against XGBoost.
GBDT_MET=0; GBDT_JUDGED=0; GBDT_TOTAL=4; GBDT_FAILED=""
GBDT_RAN=0
if [ "$BENCH_QUICK" != 1 ]; then
	if GO="$GO" PEERS_PYTHON="$PANDAS_PYTHON" TIME_BIN="$TIME_BIN" "$ROOT/scripts/bench/gbdt.sh" "$TMP/gbdt"; then
		# shellcheck source=/dev/null
		source "$TMP/gbdt/gbdt.env"
		GBDT_RAN=1
	else
		GBDT_FAILED="gbdt.sh (exit status $?)"
	fi
fi

# --- 6e. Scaling: 3M to 30M rows (scripts/bench/scale.sh) ---------------------

# scale.sh: the default config (gbdt only) at SCALE_SIZES millions of rows
# (default "3 6 12 30"), the larger sizes built by scripts/scale and kept
# in SCALE_CACHE (default ~/.cache/mlpipe/scale) for later runs.
SCALE_MET=0; SCALE_JUDGED=0; SCALE_TOTAL=3; SCALE_FAILED=""
SCALE_RAN=0
if [ "$BENCH_QUICK" = 1 ]; then
	log "BENCH_QUICK=1: skipping the scaling runs"
elif GO="$GO" TIME_BIN="$TIME_BIN" "$ROOT/scripts/bench/scale.sh" "$TMP/scale"; then
	# shellcheck source=/dev/null
	source "$TMP/scale/scale.env"
	SCALE_RAN=1
else
	SCALE_FAILED="scale.sh (exit status $?)"
	# shellcheck source=/dev/null
	[ ! -s "$TMP/scale/scale.env" ] || { source "$TMP/scale/scale.env"; SCALE_RAN=1; }
fi

# --- 7. Serving (scripts/bench/serve.sh) and the backtest ----------------------

# serve.sh serves the model the models step registered (or trains one) and
# writes its section into $TMP/serve.
SERVE_MET=0; SERVE_JUDGED=0; SERVE_TOTAL=3; SERVE_FAILED=""
SERVE_RAN=0
if [ "$BENCH_QUICK" = 1 ]; then
	log "BENCH_QUICK=1: skipping serving"
elif GO="$GO" "$ROOT/scripts/bench/serve.sh" "$TMP/models/registry" "$TMP/serve"; then
	# shellcheck source=/dev/null
	source "$TMP/serve/serve.env"
	SERVE_RAN=1
else
	SERVE_FAILED="serve.sh (exit status $?)"
fi

# predict.sh measures `mlpipe predict` and explanations against XGBoost on
# the model the models step registered, and writes its section into
# $TMP/predict.
PREDICT_MET=0; PREDICT_JUDGED=0; PREDICT_TOTAL=1; PREDICT_FAILED=""
PREDICT_RAN=0
if [ "$BENCH_QUICK" = 1 ]; then
	log "BENCH_QUICK=1: skipping batch scoring"
elif GO="$GO" PANDAS_PYTHON="$PANDAS_PYTHON" "$ROOT/scripts/bench/predict.sh" "$TMP/models/registry" "$TMP/predict" "$CSV"; then
	# shellcheck source=/dev/null
	source "$TMP/predict/predict.env"
	PREDICT_RAN=1
else
	PREDICT_FAILED="predict.sh (exit status $?)"
fi

# ui.sh measures the dashboard (runs list of 1,000 generated runs) and the
# size of a real run's report, on the registry of the models step.
UI_MET=0; UI_JUDGED=0; UI_TOTAL=0; UI_FAILED=""
UI_RAN=0
if [ "$BENCH_QUICK" != 1 ]; then
	if GO="$GO" "$ROOT/scripts/bench/ui.sh" "$TMP/models/registry" "$TMP/ui"; then
		# shellcheck source=/dev/null
		source "$TMP/ui/ui.env"
		UI_RAN=1
	else
		UI_FAILED="ui.sh (exit status $?)"
	fi
fi

# build.sh times a cold build of each binary (empty build cache, modules
# downloaded) and says where the compile time goes.
BUILD_RAN=0; BUILD_FAILED=""
if GO="$GO" "$ROOT/scripts/bench/build.sh" "$TMP/build" >/dev/null; then
	BUILD_RAN=1
else
	BUILD_FAILED="build.sh (exit status $?)"
fi

# s3.sh: object storage (a SeaweedFS server on loopback) against the
# local disk: the 3M-row Parquet read, registration, a replica's start.
S3_RAN=0; S3_FAILED=""
if GO="$GO" "$ROOT/scripts/bench/s3.sh" "$TMP/s3" >/dev/null; then
	S3_RAN=1
else
	S3_FAILED="s3.sh (exit status $?)"
fi

# xlsx.sh: loading an Excel workbook, against pandas' read_excel.
XLSX_RAN=0
if XLSX_CSV="$CSV" GO="$GO" "$ROOT/scripts/bench/xlsx.sh" "$TMP/xlsx" >/dev/null; then
	XLSX_RAN=1
fi

# backtest.sh: the default backtest (`mlpipe simulate`) and issue 22's
# targets, judged there.
BACKTEST_MET=0 BACKTEST_JUDGED=0 BACKTEST_TOTAL=0 BACKTEST_RAN=0 BACKTEST_FAILED=""
if [ "$BENCH_QUICK" = 1 ]; then
	log "backtest.sh skipped (BENCH_QUICK=1)"
elif "$ROOT/scripts/bench/backtest.sh" "$TMP/backtest"; then
	# shellcheck disable=SC1091
	source "$TMP/backtest/backtest.env"
	BACKTEST_RAN=1
	[ -z "$BACKTEST_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$BACKTEST_FAILED"
else
	BACKTEST_FAILED="backtest.sh (exit status $?)"
	MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$BACKTEST_FAILED"
fi

# --- 8. BENCHMARKS.md ----------------------------------------------------------

# Other work on the machine slows every figure down; record how busy it was
# (load average vs CPUs) so a reader can tell a noisy run.
LOADAVG_END=$(cut -d' ' -f1-3 /proc/loadavg)
BUSY_NOTE=""
if awk -v a="${LOADAVG_START%% *}" -v b="${LOADAVG_END%% *}" -v n="$NPROC" 'BEGIN { exit !(a > n / 2 || b > n / 2) }'; then
	BUSY_NOTE="The 1-minute load average exceeded half the CPU count at the start or end of the run: other work was competing for the CPUs, so times may be inflated."
fi

# Targets are judged here from the measured numbers: verdict PASSED prints
# the status cell ("met" when PASSED is 1) and count tallies it.
MET=0; JUDGED=0; TOTAL_TARGETS=$((8 + MODELS_TOTAL + REGRESSION_TOTAL + SUITE_TOTAL + GBDT_TOTAL + SCALE_TOTAL + SERVE_TOTAL + PREDICT_TOTAL + UI_TOTAL + BACKTEST_TOTAL))
verdict() { if [ "$1" -eq 1 ]; then echo "**met**"; else echo "**not met**"; fi; }
count() { JUDGED=$((JUDGED + 1)); [ "$1" -eq 1 ] && MET=$((MET + 1)); return 0; }
# passes CMD...: 1 when CMD succeeds, else 0.
passes() { if "$@"; then echo 1; else echo 0; fi; }

P=$(passes le "$PARQUET_S" "$TARGET_PARQUET_S"); ST_PARQUET=$(verdict "$P"); count "$P"
P=$(passes le "$PROFILE_S" "$TARGET_PROFILE_S"); ST_PROFILE=$(verdict "$P"); count "$P"
if [ "$HAVE_TIME" -eq 1 ]; then
	P=$(passes le "$PQ_RSS_X" "$TARGET_RSS_X"); ST_RSS=$(verdict "$P"); count "$P"
else
	ST_RSS="not measured (GNU time not available)"
fi
if [ "$HAVE_PANDAS" -eq 1 ]; then
	# "Faster than pandas": strictly below 1x the parse_dates median.
	P=$(passes awk -v r="$CSV_VS_PD" 'BEGIN { exit !(r < 1) }'); ST_CSV=$(verdict "$P"); count "$P"
else
	ST_CSV="not measured (pandas: not available)"
fi

# The model targets were judged by models.sh, the serving ones by serve.sh.
MET=$((MET + MODELS_MET + REGRESSION_MET + SUITE_MET + GBDT_MET + SCALE_MET + SERVE_MET + PREDICT_MET + UI_MET + BACKTEST_MET))
JUDGED=$((JUDGED + MODELS_JUDGED + REGRESSION_JUDGED + SUITE_JUDGED + GBDT_JUDGED + SCALE_JUDGED + SERVE_JUDGED + PREDICT_JUDGED + UI_JUDGED + BACKTEST_JUDGED))
# The issue names pandas 1.5 as the peer; say so if another version ran.
PEER_VERSION=1.5
PEER_NOTE=""
if [ "$HAVE_PANDAS" -eq 1 ] && [ "${PANDAS_VERSION#1.5.}" = "$PANDAS_VERSION" ]; then
	PEER_NOTE="Note: the target names pandas $PEER_VERSION; this run used pandas $PANDAS_VERSION."
fi

# range LO HI: "range a – b" of two durations.
range() { echo "$(secs "$1") – $(secs "$2")"; }

{
	echo "# mlpipe benchmarks"
	echo
	echo "Generated by \`make bench\` (scripts/bench/run.sh) on $RUN_DATE, at revision $REVISION."
	echo "Every figure below was measured in that run; do not edit this file by hand."
	echo
	echo "**Issue targets met: $MET of $TOTAL_TARGETS$([ "$JUDGED" -eq "$TOTAL_TARGETS" ] || echo " ($((TOTAL_TARGETS - JUDGED)) not measured)").**"
	echo
	echo "## Machine"
	echo
	echo "| | |"
	echo "|---|---|"
	echo "| CPUs (nproc) | $NPROC |"
	echo "| CPU model (/proc/cpuinfo) | $CPU_MODEL |"
	echo "| Memory | $MEM_GIB GiB |"
	echo "| OS | ${OS_NAME:-unknown}, $KERNEL |"
	echo "| Go | $GO_VERSION |"
	echo "| pandas | $PANDAS_VERSION$([ "$HAVE_PANDAS" -eq 1 ] && echo " (python $("$PANDAS_PYTHON" -c 'import platform; print(platform.python_version())'), $PANDAS_PYTHON)") |"
	echo "| Model peers | $PEER_VERSIONS |"
	echo "| Load average (1, 5, 15 min) | $LOADAVG_START at start, $LOADAVG_END at end |"
	echo
	if [ -n "$BUSY_NOTE" ]; then echo "$BUSY_NOTE"; echo; fi
	echo "Data: \`data/flights-3m.parquet\` ($(num "$(calc "$(wc -c <data/flights-3m.parquet) / 1e6")") MB, $(thousands "$ROWS") rows) and the same rows as CSV"
	echo "($(num "$(calc "$CSV_BYTES / 1e6")") MB, written by \`go run ./scripts/fixtures -full-csv\`)."
	echo
	echo "## Ingest speed (Go benchmarks)"
	echo
	echo "\`$BENCH_CMD\` with \`MLPIPE_BENCH_CSV\` set to the CSV."
	echo "Measured = median of the $N_MEAS measurements (each the mean of $BENCH_TIME); the range is fastest – slowest."
	echo
	echo "| what | measured | target | ratio / status |"
	echo "|---|---|---|---|"
	echo "| Load Parquet, 3M rows (BenchmarkLoadParquet) | $(secs "$PARQUET_S") (range $(range "$(lo LoadParquet)" "$(hi LoadParquet)")) | ≤ $(secs "$TARGET_PARQUET_S") | $(num "$(calc "$PARQUET_S / $TARGET_PARQUET_S")" 2)× target — $ST_PARQUET |"
	echo "| Load CSV, 3M rows (BenchmarkLoadCSV) | $(secs "$CSV_S") (range $(range "$(lo LoadCSV)" "$(hi LoadCSV)")) | faster than pandas $PEER_VERSION read_csv | see [CSV load vs pandas](#csv-load-vs-pandas) — $ST_CSV |"
	echo "| Profile, 3M rows (BenchmarkProfile) | $(secs "$PROFILE_S") (range $(range "$(lo Profile)" "$(hi Profile)")) | ≤ $(secs "$TARGET_PROFILE_S") | $(num "$(calc "$PROFILE_S / $TARGET_PROFILE_S")" 2)× target — $ST_PROFILE |"
	for b in Fingerprint Validate Split; do
		echo "| $b, 3M rows (Benchmark$b) | $(secs "$(med "$b")") (range $(range "$(lo "$b")" "$(hi "$b")")) | — | no target |"
	done
	echo
	echo "## Memory"
	echo
	echo "Peak RSS is GNU time's maximum resident set size, converted from KiB to MB (10^6 bytes) to match"
	echo "\`table-MB\`, the size of the loaded table's Arrow buffers reported by BenchmarkLoadParquet."
	echo
	echo "| what | measured | target | ratio / status |"
	echo "|---|---|---|---|"
	echo "| In-memory Arrow table, 3M rows (table-MB) | $(num "$TABLE_MB") MB | — | — |"
	if [ "$HAVE_TIME" -eq 1 ]; then
		echo "| Peak RSS, Parquet load alone (median of $RSS_RUNS; range $(num "$PQ_RSS_LO") – $(num "$PQ_RSS_HI") MB) | $(num "$PQ_RSS_MB") MB | ≤ ${TARGET_RSS_X}× table = $(num "$(calc "$TARGET_RSS_X * $RSS_TABLE_MB")") MB | $(num "$PQ_RSS_X" 2)× table — $ST_RSS |"
		echo "| Peak RSS, whole \`mlpipe ingest\` (median of $INGEST_RUNS) | $(num "$INGEST_RSS_MB") MB | — | $(num "$(calc "$INGEST_RSS_MB / $TABLE_MB")" 2)× table (no target) |"
	else
		echo "| Peak RSS, Parquet load alone | not available (GNU time missing) | ≤ ${TARGET_RSS_X}× table | $ST_RSS |"
		echo "| Peak RSS, whole \`mlpipe ingest\` | not available (GNU time missing) | — | no target |"
	fi
	echo
	if [ "$HAVE_TIME" -eq 1 ]; then
		echo "Parquet-load RSS command: \`$RSS_CMD\` (ingest.test built by \`go test -c ./ingest\`)."
		echo
	fi
	echo "## End to end: \`mlpipe ingest\`"
	echo
	echo "\`$INGEST_CMD\`: load → validate → profile → split → write JSON, on the full Parquet file;"
	echo "median of $INGEST_RUNS runs$([ "$HAVE_TIME" -eq 1 ] && echo " under \`/usr/bin/time -v\`" || echo " (shell clock; GNU time missing)")."
	echo
	echo "| what | measured | target | ratio / status |"
	echo "|---|---|---|---|"
	echo "| Wall time (range $(range "$INGEST_WALL_LO" "$INGEST_WALL_HI")) | $(secs "$INGEST_WALL_S") | — | no target |"
	if [ "$HAVE_TIME" -eq 1 ]; then
		echo "| Peak RSS | $(num "$INGEST_RSS_MB") MB | — | no target |"
	else
		echo "| Peak RSS | not available | — | no target |"
	fi
	echo
	echo "## CSV load vs pandas"
	echo
	if [ "$HAVE_PANDAS" -eq 1 ]; then
		echo "pandas $PANDAS_VERSION \`pd.read_csv(path)\` of the same CSV file in the same run, $PANDAS_RUNS reads per variant in one"
		echo "python process, timed with \`time.perf_counter\`. Our CSV loader parses \`date\` into timestamp[us], so the fair peer is"
		echo "\`read_csv(path, parse_dates=['date'])\`; the target is judged against its median. The default call"
		echo "(dates left as strings, what most users write) is shown for reference."
		echo
		if [ -n "$PEER_NOTE" ]; then echo "$PEER_NOTE"; echo; fi
		echo "| what | measured | target | ratio / status |"
		echo "|---|---|---|---|"
		echo "| pandas \`read_csv(path)\` (default) | median $(secs "$PD_DEF_MED"), best $(secs "$PD_DEF_BEST") | — | peer |"
		echo "| pandas \`read_csv(path, parse_dates=['date'])\` | median $(secs "$PD_PD_MED"), best $(secs "$PD_PD_BEST") | — | fair peer |"
		echo "| mlpipe CSV load (BenchmarkLoadCSV median) vs pandas \`parse_dates\` | $(secs "$CSV_S") vs $(secs "$PD_PD_MED") | < 1× pandas $PEER_VERSION | $(num "$CSV_VS_PD" 2)× pandas — $ST_CSV |"
		echo "| mlpipe CSV load vs pandas default | $(secs "$CSV_S") vs $(secs "$PD_DEF_MED") | — | $(num "$CSV_VS_DEF" 2)× pandas (reference) |"
	else
		echo "pandas: not available (python3-pandas could not be imported or installed), so the CSV target was not judged."
		echo
		echo "| what | measured | target | ratio / status |"
		echo "|---|---|---|---|"
		echo "| mlpipe CSV load (BenchmarkLoadCSV median) | $(secs "$CSV_S") | faster than pandas $PEER_VERSION read_csv | $ST_CSV |"
	fi
	echo
	if [ "$MODELS_RAN" -eq 1 ]; then
		cat "$TMP/models/models.md"
	else
		echo "## Models"
		echo
		if [ "$BENCH_QUICK" = 1 ]; then
			echo "Not measured: the run was made with BENCH_QUICK=1."
		else
			echo "Not measured: scripts/bench/models.sh failed (see the log of \`make bench\`)."
		fi
		echo
	fi
	if [ "$REGRESSION_RAN" -eq 1 ]; then
		cat "$TMP/regression/regression.md"
	else
		echo "## Regression: flights delay minutes"
		echo
		echo "Not measured: $([ "$BENCH_QUICK" = 1 ] && echo "the run was made with BENCH_QUICK=1" || echo "scripts/bench/regression.sh failed (see the log of \`make bench\`)")."
		echo
	fi
	if [ "$SUITE_RAN" -eq 1 ]; then
		cat "$TMP/suite/suite.md"
	else
		echo "## Example datasets: mlpipe against XGBoost and scikit-learn"
		echo
		echo "Not measured: $([ "$BENCH_QUICK" = 1 ] && echo "the run was made with BENCH_QUICK=1" || echo "scripts/bench/suite.sh failed (see the log of \`make bench\`)")."
		echo
	fi
	if [ "$GBDT_RAN" -eq 1 ]; then
		cat "$TMP/gbdt/gbdt.md"
	elif [ "$BENCH_QUICK" != 1 ]; then
		echo "## Gradient boosting: flights frontier"
		echo
		echo "Not measured: scripts/bench/gbdt.sh failed (see the log of \`make bench\`)."
		echo
	fi
	if [ "$SCALE_RAN" -eq 1 ]; then
		cat "$TMP/scale/scale.md"
	elif [ "$BENCH_QUICK" != 1 ]; then
		echo "## Scaling: 3M to 30M rows"
		echo
		echo "Not measured: scripts/bench/scale.sh failed (see the log of \`make bench\`)."
		echo
	fi
	if [ "$SERVE_RAN" -eq 1 ]; then
		cat "$TMP/serve/serve.md"
	else
		echo "## Serving"
		echo
		echo "Not measured: $([ "$BENCH_QUICK" = 1 ] && echo "the run was made with BENCH_QUICK=1" || echo "scripts/bench/serve.sh failed (see the log of \`make bench\`)")."
		echo
	fi
	if [ "$PREDICT_RAN" -eq 1 ]; then
		cat "$TMP/predict/predict.md"
	else
		echo "## Batch scoring and explanations"
		echo
		echo "Not measured: $([ "$BENCH_QUICK" = 1 ] && echo "the run was made with BENCH_QUICK=1" || echo "scripts/bench/predict.sh failed (see the log of \`make bench\`)")."
		echo
	fi
	[ "$UI_RAN" -eq 0 ] || cat "$TMP/ui/ui.md"
	if [ "$BACKTEST_RAN" -eq 1 ]; then
		cat "$TMP/backtest/backtest.md"
	else
		echo "## Backtest: \`mlpipe simulate\`"
		echo
		echo "Not measured: $([ "$BENCH_QUICK" = 1 ] && echo "the run was made with BENCH_QUICK=1" || echo "scripts/bench/$BACKTEST_FAILED (see the log of \`make bench\`)")."
		echo
	fi
	if [ "$S3_RAN" -eq 1 ]; then
		cat "$TMP/s3/s3.md"
	else
		echo "## Object storage (S3) against the local disk"
		echo
		echo "Not measured: scripts/bench/$S3_FAILED (see $TMP/s3/s3.txt)."
	fi
	echo
	if [ "$XLSX_RAN" -eq 1 ]; then
		cat "$TMP/xlsx/xlsx.md"
	else
		echo "## Excel workbooks: mlpipe against pandas"
		echo
		echo "Not measured: scripts/bench/xlsx.sh failed (see the log of \`make bench\`)."
		echo
	fi
	if [ "$BUILD_RAN" -eq 1 ]; then
		cat "$TMP/build/build.md"
	else
		echo "## Build time"
		echo
		echo "Not measured: scripts/bench/$BUILD_FAILED (see the log of \`make bench\`)."
		echo
	fi
	echo "## Raw output"
	echo
	echo "<details><summary><code>$BENCH_CMD</code></summary>"
	echo
	echo '```text'
	cat "$TMP/bench.txt"
	echo '```'
	echo
	echo "</details>"
	if [ "$HAVE_PANDAS" -eq 1 ]; then
		echo
		echo "<details><summary>pandas read_csv times, seconds (variant, then each run)</summary>"
		echo
		echo '```text'
		cat "$TMP/pandas.txt"
		echo '```'
		echo
		echo "</details>"
	fi
	if [ "$HAVE_TIME" -eq 1 ]; then
		echo
		echo "<details><summary>Peak RSS of each run, KiB</summary>"
		echo
		echo '```text'
		echo "parquet load alone: $(tr '\n' ' ' <"$TMP/rss-kib.txt")"
		echo "mlpipe ingest: $(tr '\n' ' ' <"$TMP/ingest-kib.txt")"
		echo '```'
		echo
		echo "</details>"
	fi
	echo
	echo "<details><summary>mlpipe ingest wall time of each run, seconds</summary>"
	echo
	echo '```text'
	tr '\n' ' ' <"$TMP/ingest-wall.txt"; echo
	echo '```'
	echo
	echo "</details>"
	[ "$MODELS_RAN" -eq 0 ] || cat "$TMP/models/models-raw.md"
	[ "$REGRESSION_RAN" -eq 0 ] || cat "$TMP/regression/regression-raw.md"
	[ "$SUITE_RAN" -eq 0 ] || cat "$TMP/suite/suite-raw.md"
	[ "$GBDT_RAN" -eq 0 ] || cat "$TMP/gbdt/gbdt-raw.md"
	[ "$SCALE_RAN" -eq 0 ] || cat "$TMP/scale/scale-raw.md"
	[ "$SERVE_RAN" -eq 0 ] || cat "$TMP/serve/serve-raw.md"
	[ "$PREDICT_RAN" -eq 0 ] || cat "$TMP/predict/predict-raw.md"
} >"$TMP/BENCHMARKS.md"

# Replace the old report only once the new one is complete.
mv "$TMP/BENCHMARKS.md" "$OUT_DOC"
log "wrote $OUT_DOC (targets met: $MET of $JUDGED)"
[ "${#APT_INSTALLED[@]}" -eq 0 ] || log "installed with apt-get: ${APT_INSTALLED[*]}"
[ -z "$UI_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$UI_FAILED"
[ -z "$REGRESSION_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$REGRESSION_FAILED"
[ -z "$SUITE_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$SUITE_FAILED"
[ -z "$GBDT_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$GBDT_FAILED"
[ -z "$SCALE_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$SCALE_FAILED"
[ -z "$SERVE_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$SERVE_FAILED"
[ -z "$PREDICT_FAILED" ] || MODELS_FAILED="${MODELS_FAILED:+$MODELS_FAILED, }$PREDICT_FAILED"
if [ -n "$MODELS_FAILED" ]; then
	echo "BENCHMARKS.md was written, but these steps failed: $MODELS_FAILED (their output is in BENCHMARKS.md)" >&2
	exit 1
fi
