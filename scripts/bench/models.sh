#!/usr/bin/env bash
# scripts/bench/models.sh CSV OUTDIR: measure mlpipe's models, their peers
# (XGBoost, scikit-learn) and the whole `mlpipe run` on the flights task,
# and write the "Models" part of BENCHMARKS.md. run.sh calls it (skip it with
# BENCH_QUICK=1); it also runs alone, e.g. to test it on small data.
#
# CSV is the flights data as CSV (run.sh writes it with
# `go run ./scripts/fixtures -full-csv`); OUTDIR receives every file,
# temporary or not:
#   models.md      the Markdown sections (Models, Features, mlpipe run)
#   models-raw.md  the raw outputs, as <details> blocks
#   models.env     MODELS_MET / MODELS_JUDGED / MODELS_TOTAL (issue targets),
#                  MODELS_FAILED (steps that failed) and PEER_VERSIONS, in
#                  shell syntax for run.sh to source
# It exits 0 when it could write them, whatever was measured; a step that
# failed is listed in MODELS_FAILED and shown in the report.
#
# What it does:
#   1. runs BenchmarkFitFlights (and BenchmarkPredict) of ./train/gbdt and
#      BenchmarkFitFlights of ./train/logreg once each (-test.benchtime 1x:
#      a fit is long), from compiled test binaries under GNU time for the
#      peak RSS; they read data/flights-3m.parquet
#   2. runs the Go benchmarks of ./features
#   3. runs scripts/bench/peers.py on CSV: XGBoost, sklearn
#      LogisticRegression and HistGradientBoosting on the same task
#   4. runs `bin/mlpipe run` once under GNU time, and reads its JSON summary
#   5. judges the issue's targets and writes the files above
#
# Knobs (environment): MODELS_CONFIG (default configs/flights.yaml): the
# config for `mlpipe run` and for the split dates and label threshold given
# to peers.py. PEERS_PYTHON (default $PANDAS_PYTHON or /usr/bin/python3).
# FEATURES_COUNT (default 3) and FEATURES_TIME (default 1s) for the features
# benchmarks. For testing this script only: BENCH_ROWS (peers.py keeps about
# that many rows), GBDT_BENCH / LOGREG_BENCH / FEATURES_BENCH (benchmark
# regexps; defaults below).
#
# Needs: go, awk, jq (installed with apt-get when missing); optionally GNU
# time and Debian's python3-pandas, python3-sklearn, python3-xgboost
# (installed when missing and possible; a missing peer is reported as
# "not available").

set -euo pipefail

# --- Setup -------------------------------------------------------------------

[ $# -eq 2 ] || { echo "usage: $0 CSV OUTDIR" >&2; exit 2; }
CSV=$(realpath "$1")
mkdir -p "$2"
OUT=$(realpath "$2")
[ -f "$CSV" ] || { echo "models.sh: no such CSV: $CSV" >&2; exit 2; }

# Work from the repository root whatever the caller's directory.
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)

GO=${GO:-go}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
PEERS_PYTHON=${PEERS_PYTHON:-${PANDAS_PYTHON:-/usr/bin/python3}}
MODELS_CONFIG=${MODELS_CONFIG:-configs/flights.yaml}
FEATURES_COUNT=${FEATURES_COUNT:-3}
FEATURES_TIME=${FEATURES_TIME:-1s}
GBDT_BENCH=${GBDT_BENCH:-'^(BenchmarkFitFlights|BenchmarkPredict)$'}
LOGREG_BENCH=${LOGREG_BENCH:-'^BenchmarkFitFlights$'}
FEATURES_BENCH=${FEATURES_BENCH:-.}
NPROC=$(nproc)

# Targets from the project issue (the only numbers typed into this file).
TARGET_GBDT_AUC=0.719       # gbdt test ROC AUC (XGBoost 1.7.4 hist's on this task)
TARGET_LOGREG_AUC=0.658     # logreg test ROC AUC
TARGET_LOGREG_GAP=0.002     # |logreg AUC - sklearn LogisticRegression AUC|
TARGET_RUN_S=60             # first `mlpipe run` (empty registry and cache), wall seconds
TARGET_RUN_AUC=0.775        # its test ROC AUC (issue 17)
TARGET_RUN_RSS_KIB=2097152  # its peak RSS: 2 GiB in KiB (GNU time's unit)
TARGET_RUN2_S=5             # second run, nothing changed (step cache), wall seconds
# ... and, measured in this run: gbdt fit time <= XGBoost's; logreg fit time
# < sklearn LogisticRegression(max_iter=100)'s.

# apt_install (lib.sh) keeps its logs in $TMP.
TMP=$OUT
APT_UPDATED=0
APT_INSTALLED=()
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"

FAILED=()   # steps that failed, for models.env and the report

# The Markdown helpers of the report.
# auc X: a ROC AUC, 4 decimals. diff X: a signed difference, 4 decimals.
auc() { num "$1" 4; }
diff4() { awk -v x="$1" 'BEGIN { printf "%+.4f", x }'; }
# ratio_x A B: "A/B×" with 2 decimals.
ratio_x() { echo "$(num "$(calc "$1 / $2")" 2)×"; }
# rate R: rows per second, e.g. "1.23 M rows/s".
rate() { awk -v x="$1" 'BEGIN { if (x >= 1e6) printf "%.2f M rows/s", x / 1e6; else printf "%.0f k rows/s", x / 1e3 }'; }
# mb KIB: KiB (GNU time, ru_maxrss) as "123 MB" (10^6 bytes).
mb() { echo "$(num "$(kib_to_mb "$1")" 0) MB"; }
# judge WHY OK: the status cell of a target; OK is 1, 0 or "" (not
# measured, because of WHY).
TOTAL=9   # model and pipeline targets
judge() {
	if [ -z "$2" ]; then echo "not measured ($1)"
	elif [ "$2" -eq 1 ]; then echo "**met**"
	else echo "**not met**"; fi
}
# test_awk EXPR VARS...: 1 when the awk condition EXPR holds, else 0, or ""
# when one of the values it needs (given as name=value) is empty.
test_awk() {
	local expr=$1; shift
	local args=() kv
	for kv in "$@"; do
		[ -n "${kv#*=}" ] || { echo ""; return 0; }
		args+=(-v "$kv")
	done
	awk "${args[@]}" "BEGIN { print (($expr) ? 1 : 0) }"
}

# jq for the JSON of peers.py and `mlpipe run`; without it nothing below
# can be read, so the section says so and stops.
command -v jq >/dev/null 2>&1 || apt_install jq || true
HAVE_JQ=0; command -v jq >/dev/null 2>&1 && HAVE_JQ=1
HAVE_TIME=0; [ -x "$TIME_BIN" ] && HAVE_TIME=1

if [ "$HAVE_JQ" -eq 0 ]; then
	log "jq is not available: the model section is not measured"
	{
		echo "## Models"
		echo
		echo "Not measured: jq (Debian package \`jq\`) is missing and could not be installed."
		echo
	} >"$OUT/models.md"
	: >"$OUT/models-raw.md"
	{ printf 'MODELS_MET=0\nMODELS_JUDGED=0\nMODELS_TOTAL=%d\n' "$TOTAL"; printf 'MODELS_FAILED=%q\n' "jq missing"; printf 'PEER_VERSIONS=%q\n' "not measured"; } >"$OUT/models.env"
	exit 0
fi

# --- 1. Go model benchmarks: gbdt and logreg on the full data -----------------

# go_model_bench NAME PKG REGEX: build PKG's test binary and run the
# benchmarks matching REGEX once each, from the package directory (they read
# ../../data/flights-3m.parquet), under GNU time when present. Output in
# $OUT/NAME.txt, GNU time's report in $OUT/NAME-time.txt. Each step checks
# its own status: `set -e` does not apply inside a function called by `if`.
go_model_bench() {
	local name=$1 pkg=$2 re=$3 timer=()
	log "building the ./$pkg test binary"
	"$GO" test -c -o "$OUT/$name.test" "./$pkg" >"$OUT/$name.txt" 2>&1 || return 1
	[ "$HAVE_TIME" -eq 1 ] && timer=("$TIME_BIN" -v -o "$OUT/$name-time.txt")
	log "./$pkg: -test.bench '$re' -test.benchtime 1x"
	(cd "$pkg" && "${timer[@]}" "$OUT/$name.test" -test.run '^$' -test.bench "$re" \
		-test.benchtime 1x -test.count 1 -test.timeout 60m) 2>&1 | tee "$OUT/$name.txt" >&2 || return 1
	# A skipped benchmark (no data) prints no result line: that is a failure here.
	[ -n "$(bench_vals FitFlights ns/op "$OUT/$name.txt")" ] || { log "./$pkg: BenchmarkFitFlights gave no result"; return 1; }
}
GBDT_CMD="(cd train/gbdt && gbdt.test -test.run '^\$' -test.bench '$GBDT_BENCH' -test.benchtime 1x)"
LOGREG_CMD="(cd train/logreg && logreg.test -test.run '^\$' -test.bench '$LOGREG_BENCH' -test.benchtime 1x)"

# fit_seconds FILE: the fit time of BenchmarkFitFlights in FILE: its fit-s
# metric if it reports one, else ns/op (one iteration: the fit alone, as
# loading and encoding happen before b.Loop).
fit_seconds() {
	local v
	v=$(bench_metric FitFlights '^fit[-_]?(s|secs?|seconds)$' "$1")
	[ -n "$v" ] && { echo "$v"; return 0; }
	bench_vals FitFlights ns/op "$1" | head -n 1 | awk '{ printf "%.17g\n", $1 / 1e9 }'
}
AUC_RE='^test[-_]?(roc[-_]?)?auc$'

GBDT_AUC='' GBDT_FIT_S='' GBDT_ROUNDS='' GBDT_PRED_RPS='' GBDT_RSS_KIB=''
if go_model_bench gbdt train/gbdt "$GBDT_BENCH"; then
	GBDT_AUC=$(bench_metric FitFlights "$AUC_RE" "$OUT/gbdt.txt")
	GBDT_FIT_S=$(fit_seconds "$OUT/gbdt.txt")
	GBDT_ROUNDS=$(bench_metric FitFlights '^rounds$' "$OUT/gbdt.txt")
	GBDT_PRED_RPS=$(bench_metric Predict '^rows/s$' "$OUT/gbdt.txt")
	[ "$HAVE_TIME" -eq 1 ] && GBDT_RSS_KIB=$(time_field "$OUT/gbdt-time.txt" rss)
else
	FAILED+=("gbdt benchmark")
fi

LOGREG_AUC='' LOGREG_FIT_S='' LOGREG_ITERS='' LOGREG_RSS_KIB=''
if go_model_bench logreg train/logreg "$LOGREG_BENCH"; then
	LOGREG_AUC=$(bench_metric FitFlights "$AUC_RE" "$OUT/logreg.txt")
	LOGREG_FIT_S=$(fit_seconds "$OUT/logreg.txt")
	LOGREG_ITERS=$(bench_metric FitFlights '^iter(ation)?s$' "$OUT/logreg.txt")
	[ "$HAVE_TIME" -eq 1 ] && LOGREG_RSS_KIB=$(time_field "$OUT/logreg-time.txt" rss)
else
	FAILED+=("logreg benchmark")
fi
# The binaries are large and no longer needed.
rm -f "$OUT/gbdt.test" "$OUT/logreg.test"

# --- 2. Go benchmarks of ./features ---------------------------------------------

FEATURES_CMD="go test -run '^\$' -bench '$FEATURES_BENCH' -benchtime $FEATURES_TIME -count $FEATURES_COUNT -benchmem ./features"
log "$FEATURES_CMD"
FEAT_OK=1
"$GO" test -run '^$' -bench "$FEATURES_BENCH" -benchtime "$FEATURES_TIME" -count "$FEATURES_COUNT" -benchmem ./features \
	2>&1 | tee "$OUT/features.txt" >&2 || { FEAT_OK=0; FAILED+=("features benchmarks"); }
# fmed NAME UNIT: median of the values of UNIT reported by benchmark NAME.
fmed() { bench_vals "$1" "$2" "$OUT/features.txt" | median 2>/dev/null || true; }

# --- 3. The peers: XGBoost and scikit-learn (scripts/bench/peers.py) -------------

# Split dates and label threshold from the config, so the peers solve the
# same task as the Go side. Only a "> N" label is understood.
cfg_value() { awk -v k="$1:" '$1 == k { v = $2; gsub(/["\047]/, "", v); print v; exit }' "$MODELS_CONFIG"; }
VALID_FROM=$(cfg_value validation_from)
TEST_FROM=$(cfg_value test_from)
THRESHOLD=$(awk '/^[[:space:]]*positive:/ { if (match($0, /> *-?[0-9.]+/)) { s = substr($0, RSTART, RLENGTH); sub(/^> */, "", s); print s } exit }' "$MODELS_CONFIG")

PEERS_OK=0
PEERS_NOTE=""
# pandas is required; sklearn and xgboost are each optional.
py_has() { "$PEERS_PYTHON" -c "import $1" >/dev/null 2>&1; }
if [ -x "$PEERS_PYTHON" ]; then
	missing=()
	py_has pandas || missing+=(python3-pandas)
	py_has sklearn || missing+=(python3-sklearn)
	py_has xgboost || missing+=(python3-xgboost)
	# One apt-get call for all; if it fails, try each (one may be absent).
	if [ "${#missing[@]}" -gt 0 ] && ! apt_install "${missing[@]}"; then
		for p in "${missing[@]}"; do apt_install "$p" || true; done
	fi
fi
PEERS_CMD="$PEERS_PYTHON scripts/bench/peers.py CSV --valid-from $VALID_FROM --test-from $TEST_FROM --threshold $THRESHOLD --threads $NPROC"
if [ -z "$VALID_FROM" ] || [ -z "$TEST_FROM" ] || [ -z "$THRESHOLD" ]; then
	PEERS_NOTE="not measured: could not read split.validation_from, split.test_from and a \"> N\" label.positive from $MODELS_CONFIG"
elif ! [ -x "$PEERS_PYTHON" ] || ! py_has pandas; then
	PEERS_NOTE="not available: $PEERS_PYTHON with pandas is missing"
else
	log "peers: $PEERS_CMD${BENCH_ROWS:+ (BENCH_ROWS=$BENCH_ROWS)}"
	if "$PEERS_PYTHON" scripts/bench/peers.py "$CSV" --valid-from "$VALID_FROM" --test-from "$TEST_FROM" \
		--threshold "$THRESHOLD" --threads "$NPROC" >"$OUT/peers.json" 2>"$OUT/peers.err" &&
		jq -e . "$OUT/peers.json" >/dev/null 2>&1; then
		PEERS_OK=1
	else
		PEERS_NOTE="failed: $(tail -n 1 "$OUT/peers.err" 2>/dev/null)"
		FAILED+=("peers.py")
	fi
	cat "$OUT/peers.err" >&2
fi
# peer MODEL FIELD: a field of one peer's result, empty when absent.
peer() {
	[ "$PEERS_OK" -eq 1 ] || return 0
	jq -r --arg m "$1" --arg f "$2" '.[$m][$f] // empty' "$OUT/peers.json" 2>/dev/null || true
}
# peer_status MODEL: "" when the peer ran, else why not.
peer_status() {
	if [ "$PEERS_OK" -ne 1 ]; then echo "${PEERS_NOTE:-not measured}"; return 0; fi
	jq -r --arg m "$1" 'if .[$m] == null then "not run" else (.[$m].error // "") end' "$OUT/peers.json"
}
# The peer figures the targets need (the table reads the rest itself).
XGB_FIT_S=$(peer xgboost fit_s)
LR_AUC=$(peer sklearn_logreg test_auc); LR_FIT_S=$(peer sklearn_logreg fit_s)
XGB_VERSION=$(peer xgboost version); SK_VERSION=$(peer sklearn_logreg version)
[ -n "$SK_VERSION" ] || SK_VERSION=$(peer sklearn_hgb version)
PEER_VERSIONS="scikit-learn ${SK_VERSION:-not available}, XGBoost ${XGB_VERSION:-not available}"
if [ "$PEERS_OK" -eq 1 ]; then
	PEER_VERSIONS="$PEER_VERSIONS (python $(jq -r .python "$OUT/peers.json"), pandas $(jq -r .pandas "$OUT/peers.json"), numpy $(jq -r .numpy "$OUT/peers.json"); $PEERS_PYTHON)"
fi

# --- 4. The whole pipeline: `mlpipe run` ------------------------------------------

# Twice, against a registry and a step cache of its own (empty at first):
# the first run does everything and registers version 1; the second has
# nothing to do but restore the cached stages.
RUN_CMD="bin/mlpipe run --config $MODELS_CONFIG --registry \$TMP/registry --cache \$TMP/cache --out \$TMP/run --json --log-level warn"
RUN_OK=0 RUN_WALL_S='' RUN_RSS_KIB='' RUN2_OK=0 RUN2_WALL_S='' RUN2_RSS_KIB=''
# pipeline_run N: run number N; sets RUN{,2}_OK, _WALL_S and _RSS_KIB.
pipeline_run() {
	local n=$1 sfx='' ok=0 wall='' rss='' t0 t1 timer=()
	[ "$n" -eq 1 ] || sfx=$n
	log "$RUN_CMD (run $n)"
	t0=$(date +%s%N)
	[ "$HAVE_TIME" -eq 1 ] && timer=("$TIME_BIN" -v -o "$OUT/run$sfx-time.txt")
	if "${timer[@]}" bin/mlpipe run --config "$MODELS_CONFIG" --registry "$OUT/registry" --cache "$OUT/cache" \
		--out "$OUT/run$sfx" --json --log-level warn >"$OUT/run$sfx.json" 2>"$OUT/run$sfx.err" &&
		jq -e '.status == "ok"' "$OUT/run$sfx.json" >/dev/null 2>&1; then
		ok=1
	else
		FAILED+=("mlpipe run $n")
	fi
	cat "$OUT/run$sfx.err" >&2
	t1=$(date +%s%N)
	if [ "$HAVE_TIME" -eq 1 ] && [ -s "$OUT/run$sfx-time.txt" ]; then
		wall=$(time_field "$OUT/run$sfx-time.txt" wall)
		rss=$(time_field "$OUT/run$sfx-time.txt" rss)
	else
		wall=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f\n", (b - a) / 1e9 }')
	fi
	printf -v "RUN${sfx}_OK" '%s' "$ok"
	printf -v "RUN${sfx}_WALL_S" '%s' "$wall"
	printf -v "RUN${sfx}_RSS_KIB" '%s' "$rss"
}
if [ -x bin/mlpipe ]; then
	rm -rf "$OUT/registry" "$OUT/cache"
	pipeline_run 1
	pipeline_run 2
else
	FAILED+=("mlpipe run (bin/mlpipe missing)")
fi
# run_json FILTER [N]: a jq filter over run N's summary (default the
# first), empty on failure.
run_json() {
	local sfx=""
	[ "${2:-1}" = 1 ] || sfx=$2
	jq -r "$1" "$OUT/run$sfx.json" 2>/dev/null || true
}

# --- 5. Targets -------------------------------------------------------------------

ST_GBDT_AUC=$(judge "gbdt benchmark failed" "$(test_awk 'a >= t' a="$GBDT_AUC" t="$TARGET_GBDT_AUC")")
ST_GBDT_FIT=$(judge "needs the gbdt benchmark and XGBoost" "$(test_awk 'a <= b' a="$GBDT_FIT_S" b="$XGB_FIT_S")")
ST_LR_AUC=$(judge "logreg benchmark failed" "$(test_awk 'a >= t' a="$LOGREG_AUC" t="$TARGET_LOGREG_AUC")")
ST_LR_GAP=$(judge "needs the logreg benchmark and sklearn" "$(test_awk '(a - b <= t) && (b - a <= t)' a="$LOGREG_AUC" b="$LR_AUC" t="$TARGET_LOGREG_GAP")")
ST_LR_FIT=$(judge "needs the logreg benchmark and sklearn" "$(test_awk 'a < b' a="$LOGREG_FIT_S" b="$LR_FIT_S")")
ok_or_empty() { [ "$1" -eq 1 ] && echo "$2"; }
ST_RUN_WALL=$(judge "mlpipe run failed" "$(test_awk 'a <= t' a="$(ok_or_empty "$RUN_OK" "$RUN_WALL_S")" t="$TARGET_RUN_S")")
ST_RUN_AUC=$(judge "mlpipe run failed" "$(test_awk 'a >= t' a="$(ok_or_empty "$RUN_OK" "$(run_json '.evaluation.roc_auc // empty')")" t="$TARGET_RUN_AUC")")
ST_RUN_RSS=$(judge "mlpipe run failed or no GNU time" "$(test_awk 'a <= t' a="$(ok_or_empty "$RUN_OK" "$RUN_RSS_KIB")" t="$TARGET_RUN_RSS_KIB")")
ST_RUN2_WALL=$(judge "second mlpipe run failed" "$(test_awk 'a <= t' a="$(ok_or_empty "$RUN2_OK" "$RUN2_WALL_S")" t="$TARGET_RUN2_S")")
# Tally the verdicts.
MET=0; JUDGED=0
for st in "$ST_GBDT_AUC" "$ST_GBDT_FIT" "$ST_LR_AUC" "$ST_LR_GAP" "$ST_LR_FIT" "$ST_RUN_WALL" "$ST_RUN_AUC" "$ST_RUN_RSS" "$ST_RUN2_WALL"; do
	case $st in
	"**met**") MET=$((MET + 1)); JUDGED=$((JUDGED + 1)) ;;
	"**not met**") JUDGED=$((JUDGED + 1)) ;;
	esac
done

# --- 6. The report ---------------------------------------------------------------

# cmp_cells OURS_AUC OURS_FIT PEER_AUC PEER_FIT OURS_NAME PEER_NAME: the two
# comparison cells of a peer's row: fit time ratio and AUC difference.
cmp_cells() {
	local r="—" d="—"
	[ -n "$2" ] && [ -n "$4" ] && r="$5 ÷ $6: $(ratio_x "$2" "$4")"
	[ -n "$1" ] && [ -n "$3" ] && d="$5 − $6: $(diff4 "$(calc "$1 - $3")")"
	echo "$r | $d"
}
# peer_row LABEL MODEL HOW OURS_AUC OURS_FIT OURS_NAME PEER_NAME: one table row.
peer_row() {
	local st auc_v fit_v ll
	st=$(peer_status "$2")
	if [ -n "$st" ]; then
		echo "| $1 | $3 | $st | | | | | |"
		return 0
	fi
	auc_v=$(peer "$2" test_auc); fit_v=$(peer "$2" fit_s); ll=$(peer "$2" test_log_loss)
	echo "| $1 | $3 | $(auc "$auc_v") | $(or_na "$ll" num 4) | $(secs "$fit_v") | $(cmp_cells "$4" "$5" "$auc_v" "$fit_v" "$6" "$7") | python process: see above |"
}
go_row() { # LABEL HOW AUC FIT RSS_KIB STATUS
	if [ -n "$6" ]; then echo "| $1 | $2 | $6 | | | | | |"; return 0; fi
	echo "| $1 | $2 | $(or_na "$3" auc) | — | $(or_na "$4" secs) | ours | ours | $(or_na "$5" mb) |"
}
failed_step() { local f; for f in "${FAILED[@]}"; do [ "$f" = "$1" ] && { echo "failed (see the raw output)"; return 0; }; done; echo ""; }

XGB_HOW="hist, depth 8, 200 trees, native categoricals, n_jobs=$(or_na "$(peer xgboost threads)")"
LR_ITERS=$(peer sklearn_logreg iterations)
LR_HOW="lbfgs, C=1, max_iter=100, one-hot; $(or_na "$LR_ITERS") iterations$([ "$(peer sklearn_logreg converged)" = true ] && echo ", converged" || echo ", stopped at max_iter")"
HGB_ITERS=$(peer sklearn_hgb iterations)
HGB_HOW="max_iter=200, 31 leaves, categorical airports; $(or_na "$HGB_ITERS") iterations, early stopping $([ "$(peer sklearn_hgb early_stopping)" = true ] && echo on || echo off) (early_stopping='auto', the default)"

{
	echo "## Models"
	echo
	echo "The default task (delayed = delay > $THRESHOLD min; train before $VALID_FROM, test from $TEST_FROM), fitted on the"
	echo "training split and scored on the test split; one fit each (a fit is long), so a busy machine moves the times."
	echo
	echo "- mlpipe gbdt / logreg: \`BenchmarkFitFlights\` of ./train/gbdt and ./train/logreg, run once each from their test"
	echo "  binaries under \`/usr/bin/time -v\`: \`$GBDT_CMD\`, \`$LOGREG_CMD\`."
	echo "  Fit time is the benchmark's fit-s metric or else its ns/op (one iteration; loading and encoding are not timed)."
	echo "  Peak RSS is the whole benchmark process: loading, encoding, fitting$([ -n "$GBDT_PRED_RPS" ] && echo " (and, for gbdt, BenchmarkPredict)")."
	echo "  gbdt's training split is binned as it is encoded, a range of rows at a time (the pipeline's streamed path: the"
	echo "  float training matrix is never held whole); its fit time counts that binning, which a fit on floats does itself."
	echo "  gbdt reads the 8 raw features below (the benchmark's stand-in encoder) and stops early on the validation split;"
	echo "  logreg reads the one-hot / standardised inputs described for sklearn LogisticRegression."
	echo "- Peers: \`$PEERS_CMD\` (scripts/bench/peers.py) on the same rows as CSV, read with pandas. Fit time is"
	echo "  \`time.perf_counter\` around \`fit()\` alone. XGBoost and HGB get dep_hour, dep_minute_of_day, day_of_week, day_of_month,"
	echo "  month, distance and origin / destination as categories of the training split; LogisticRegression gets one-hot"
	echo "  dep_hour, day_of_week, origin, destination and standardised distance, log(distance), day_of_month — the inputs of"
	echo "  train/logreg's BenchmarkFitFlights."
	if [ "$PEERS_OK" -eq 1 ]; then
		echo "  Split sizes in peers.py: $(jq -r '.splits | "train \(.train), validation \(.valid), test \(.test)"' "$OUT/peers.json")$([ "$(jq -r '.bench_rows // empty' "$OUT/peers.json")" ] && echo " — **BENCH_ROWS=$(jq -r .bench_rows "$OUT/peers.json"): a subsample, not comparable**")."
		echo "  Peak RSS of the python process (data and all three peers): $(mb "$(jq -r .peak_rss_kib "$OUT/peers.json")")."
		omp=$(jq -r '.omp_env // {} | to_entries | map("\(.key)=\(.value)") | join(" ")' "$OUT/peers.json")
		[ -z "$omp" ] || echo "  OpenMP environment of the peers: \`$omp\`."
	fi
	echo
	echo "| model | how | test ROC AUC | test log loss | fit time | fit time, ours ÷ peer | ROC AUC, ours − peer | peak RSS |"
	echo "|---|---|---|---|---|---|---|---|"
	go_row "mlpipe gbdt" "BenchmarkFitFlights$([ -n "$GBDT_ROUNDS" ] && echo "; $(num "$GBDT_ROUNDS" 0) rounds kept (early stopping)")" "$GBDT_AUC" "$GBDT_FIT_S" "$GBDT_RSS_KIB" "$(failed_step "gbdt benchmark")"
	go_row "mlpipe logreg" "BenchmarkFitFlights$([ -n "$LOGREG_ITERS" ] && echo "; $(num "$LOGREG_ITERS" 0) L-BFGS iterations")" "$LOGREG_AUC" "$LOGREG_FIT_S" "$LOGREG_RSS_KIB" "$(failed_step "logreg benchmark")"
	peer_row "XGBoost ${XGB_VERSION}" xgboost "$XGB_HOW" "$GBDT_AUC" "$GBDT_FIT_S" gbdt XGBoost
	peer_row "sklearn ${SK_VERSION} LogisticRegression" sklearn_logreg "$LR_HOW" "$LOGREG_AUC" "$LOGREG_FIT_S" logreg sklearn
	peer_row "sklearn ${SK_VERSION} HistGradientBoosting" sklearn_hgb "$HGB_HOW" "$GBDT_AUC" "$GBDT_FIT_S" gbdt HGB
	echo
	echo "### Model targets"
	echo
	echo "| what | measured | target | status |"
	echo "|---|---|---|---|"
	echo "| gbdt test ROC AUC | $(or_na "$GBDT_AUC" auc) | ≥ $TARGET_GBDT_AUC | $ST_GBDT_AUC |"
	echo "| gbdt fit time vs XGBoost's in this run | $(or_na "$GBDT_FIT_S" secs) vs $(or_na "$XGB_FIT_S" secs)$([ -n "$GBDT_FIT_S" ] && [ -n "$XGB_FIT_S" ] && echo " ($(ratio_x "$GBDT_FIT_S" "$XGB_FIT_S"))") | ≤ XGBoost's | $ST_GBDT_FIT |"
	echo "| logreg test ROC AUC | $(or_na "$LOGREG_AUC" auc) | ≥ $TARGET_LOGREG_AUC | $ST_LR_AUC |"
	echo "| logreg ROC AUC vs sklearn LogisticRegression's | $(or_na "$LOGREG_AUC" auc) vs $(or_na "$LR_AUC" auc)$([ -n "$LOGREG_AUC" ] && [ -n "$LR_AUC" ] && echo " ($(diff4 "$(calc "$LOGREG_AUC - $LR_AUC")"))") | within ± $TARGET_LOGREG_GAP | $ST_LR_GAP |"
	echo "| logreg fit time vs sklearn LogisticRegression(max_iter=100)'s in this run | $(or_na "$LOGREG_FIT_S" secs) vs $(or_na "$LR_FIT_S" secs)$([ -n "$LOGREG_FIT_S" ] && [ -n "$LR_FIT_S" ] && echo " ($(ratio_x "$LOGREG_FIT_S" "$LR_FIT_S"))") | < sklearn's | $ST_LR_FIT |"
	echo
	echo "### Prediction"
	echo
	echo "| what | measured | note |"
	echo "|---|---|---|"
	echo "| mlpipe gbdt, BenchmarkPredict | $(or_na "$GBDT_PRED_RPS" rate) | test split, one pass (-test.benchtime 1x) |"
	for m in "xgboost XGBoost" "sklearn_hgb sklearn HistGradientBoosting" "sklearn_logreg sklearn LogisticRegression"; do
		r=$(peer "${m%% *}" predict_rows_per_s)
		[ -z "$r" ] || echo "| ${m#* } \`predict_proba\` | $(rate "$r") | test split, one call, for reference |"
	done
	echo
	echo "## Features (Go benchmarks)"
	echo
	echo "\`$FEATURES_CMD\`, on the default config's features; median of $FEATURES_COUNT."
	echo
	echo "| what | measured |"
	echo "|---|---|"
	if [ "$FEAT_OK" -eq 1 ]; then
		for b in Fit Transform TransformRow; do
			t=$(fmed "$b" ns/op)
			if [ -z "$t" ]; then echo "| Benchmark$b | no result |"; continue; fi
			cell="$(secs "$(calc "$t / 1e9")") per op"
			[ "$b" = TransformRow ] && cell="$(num "$t" 0) ns per row, $(or_na "$(fmed "$b" allocs/op)" num 0) allocs, $(or_na "$(fmed "$b" B/op)" num 0) B"
			r=$(fmed "$b" rows/s)
			[ -n "$r" ] && cell="$cell, $(rate "$r")"
			case $b in
			Fit) what="Fit on the training split (BenchmarkFit)" ;;
			Transform) what="Transform the test split (BenchmarkTransform)" ;;
			TransformRow) what="Transform one request row (BenchmarkTransformRow)" ;;
			esac
			echo "| $what | $cell |"
		done
	else
		echo "| features benchmarks | failed (see the raw output) |"
	fi
	echo
	echo "## End to end: \`mlpipe run\`"
	echo
	echo "\`$RUN_CMD\`, twice$([ "$HAVE_TIME" -eq 1 ] && echo ", each under \`/usr/bin/time -v\`"): the first run, on an empty registry and step cache, does every stage (ingest → features → train every candidate → evaluate → gate → register); the second, with nothing changed, restores the cached stages."
	echo
	echo "| what | measured | target | status |"
	echo "|---|---|---|---|"
	echo "| First run, wall time | $(or_na "$RUN_WALL_S" secs) | ≤ $TARGET_RUN_S s | $ST_RUN_WALL |"
	echo "| First run, test ROC AUC | $(or_na "$(run_json '.evaluation.roc_auc // empty')" auc) | ≥ $TARGET_RUN_AUC | $ST_RUN_AUC |"
	echo "| First run, peak RSS | $(or_na "$RUN_RSS_KIB" mb) | ≤ 2 GiB | $ST_RUN_RSS |"
	echo "| Second run (nothing changed), wall time | $(or_na "$RUN2_WALL_S" secs) | ≤ $TARGET_RUN2_S s | $ST_RUN2_WALL |"
	echo "| Second run, peak RSS | $(or_na "$RUN2_RSS_KIB" mb) | — | — |"
	echo
	if [ -s "$OUT/run2.json" ] && jq -e . "$OUT/run2.json" >/dev/null 2>&1; then
		echo "Second run: gate \"$(run_json '.gate.reason // "none"' 2)\"; stages: $(run_json '[.stages[] | "\(.name) \(.duration_ns / 1e9 * 100 | round / 100) s\(if .cache == "hit" then " (cached)" else "" end)"] | join(", ")' 2)."
		echo
	fi
	if [ -s "$OUT/run.json" ] && jq -e . "$OUT/run.json" >/dev/null 2>&1; then
		echo "The first run:"
		echo
		echo "| what | measured |"
		echo "|---|---|"
		echo "| Status | $(run_json .status)$(run_json '.error // empty | " — " + .') |"
		echo "| Gate | $(run_json '.gate.reason // "none"') |"
		echo "| Selected model | $(or_na "$(run_json '.model.kind // empty')") |"
		echo "| Test ROC AUC (evaluation.roc_auc) | $(or_na "$(run_json '.evaluation.roc_auc // empty')" auc) |"
		echo "| Test log loss (evaluation.log_loss) | $(or_na "$(run_json '.evaluation.log_loss // empty')" num 4) |"
		echo "| Splits | $(run_json '[.splits[]? | "\(.name) \(.rows)"] | join(", ")') |"
		echo
		echo "| stage | seconds | share of the stages |"
		echo "|---|---|---|"
		run_json '(([.stages[].duration_ns] | add) // 1) as $t | .stages[] | [.name, (.duration_ns / 1e9), (100 * .duration_ns / $t), (.error // "")] | map(tostring) | join("\u001f")' |
			while IFS=$'\x1f' read -r name s pct err; do
				echo "| $name$([ -n "$err" ] && echo " (error: $err)") | $(secs "$s") | $(num "$pct" 1) % |"
			done
		echo
		echo "Leaderboard (validation split):"
		echo
		echo "| model | params | validation score | fit time | peak Go heap |"
		echo "|---|---|---|---|---|"
		run_json '.leaderboard[]? | [.model, (.params | tojson), (.metric // ""), (.valid // ""), (.error // ""), (.fit_seconds // ""), (.peak_heap_mb // ""), (if .best then "best" else "" end)] | map(tostring) | join("\u001f")' |
			while IFS=$'\x1f' read -r model params metric valid err fit heap best; do
				score="$metric $(or_na "$valid" num 4)"
				[ -z "$err" ] || score="error: $err"
				echo "| $model$([ -n "$best" ] && echo " (selected)") | \`$params\` | $score | $(or_na "$fit" secs) | $(or_na "$heap" num 0) MB |"
			done
	else
		echo "Not measured: \`mlpipe run\` printed no JSON summary$([ -s "$OUT/run.err" ] && echo " ($(tail -n 1 "$OUT/run.err"))")."
	fi
	echo
} >"$OUT/models.md"

# Raw outputs, for the end of BENCHMARKS.md.
{
	details() { # SUMMARY FILE [LANG]
		[ -s "$2" ] || return 0
		echo
		echo "<details><summary>$1</summary>"
		echo
		echo "\`\`\`${3:-text}"
		cat "$2"
		echo '```'
		echo
		echo "</details>"
	}
	details "gbdt: <code>$GBDT_CMD</code>" "$OUT/gbdt.txt"
	details "logreg: <code>$LOGREG_CMD</code>" "$OUT/logreg.txt"
	details "<code>$FEATURES_CMD</code>" "$OUT/features.txt"
	details "peers.py JSON" "$OUT/peers.json" json
	[ "$PEERS_OK" -eq 1 ] || details "peers.py stderr" "$OUT/peers.err"
	if [ -s "$OUT/run.json" ]; then
		# The summary without the data profile and validation report.
		jq 'del(.profile, .validation) | .evaluation |= (if . == null then null else with_entries(select(.value | type == "number" or type == "string")) end)' \
			"$OUT/run.json" >"$OUT/run-short.json" 2>/dev/null || cp "$OUT/run.json" "$OUT/run-short.json"
		details "mlpipe run --json (profile, validation and curves left out)" "$OUT/run-short.json" json
	fi
	[ "$RUN_OK" -eq 1 ] || details "mlpipe run stderr" "$OUT/run.err"
} >"$OUT/models-raw.md"

{
	printf 'MODELS_MET=%d\nMODELS_JUDGED=%d\nMODELS_TOTAL=%d\n' "$MET" "$JUDGED" "$TOTAL"
	printf 'MODELS_FAILED=%q\n' "$(IFS=,; echo "${FAILED[*]}")"
	printf 'PEER_VERSIONS=%q\n' "$PEER_VERSIONS"
} >"$OUT/models.env"
log "models: targets met $MET of $JUDGED judged ($TOTAL in all)${FAILED[*]:+; failed: ${FAILED[*]}}"
[ "${#APT_INSTALLED[@]}" -eq 0 ] || log "installed with apt-get: ${APT_INSTALLED[*]}"
