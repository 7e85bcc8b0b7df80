#!/usr/bin/env bash
# scripts/bench/regression.sh CSV OUTDIR: measure mlpipe's regression on
# flights delay minutes against its peers and write the "Regression" part of
# BENCHMARKS.md. run.sh calls it (skip it with BENCH_QUICK=1); it also runs
# alone:
#
#   go run ./scripts/fixtures -full-csv /tmp/flights-3m.csv
#   make build && scripts/bench/regression.sh /tmp/flights-3m.csv /tmp/regression
#
# OUTDIR receives every file:
#   regression.md      the Markdown section
#   regression-raw.md  the raw outputs, as <details> blocks
#   regression.env     REGRESSION_MET / _JUDGED / _TOTAL (the issue's targets)
#                      and REGRESSION_FAILED, in shell syntax for run.sh
# It exits 0 when it could write them, whatever was measured.
#
# What it does, all on the default task's rows and time split (train before
# May, early stopping on May, test from June), the target being the
# departure delay in minutes:
#   1. runs BenchmarkFitFlightsRegression of ./train/gbdt once (the
#      squared_error and huber objectives with the config's parameters, and
#      squared_error with trees of XGBoost's size, on the stand-in encoder's
#      eight raw features) from its test binary, under GNU time
#   2. runs scripts/bench/regression_peers.py on CSV: the training mean,
#      XGBoost (reg:squarederror, hist, early stopping on May),
#      sklearn HistGradientBoostingRegressor and Ridge, on the same rows and
#      raw features (Ridge on the one-hot inputs of logreg's benchmark)
#   3. runs `bin/mlpipe run --config configs/flights-delay-minutes.yaml`
#      once (the project's features, gbdt, gbdt huber and ridge)
#   4. judges the issue's targets
#
# Knobs (environment): PEERS_PYTHON (default $PANDAS_PYTHON or
# /usr/bin/python3). PEERS_OMP_WAIT_POLICY (default PASSIVE): the peers'
# OpenMP threads sleep rather than spin while they wait, which on a busy,
# shared machine is what keeps XGBoost and HGB from losing most of their
# time to spinning (on 10,000 rows at a load average of 25 on 2 CPUs:
# XGBoost 15.3 s active against 0.67 s passive, HGB 181.5 s against 6.7 s);
# set it to ACTIVE for OpenMP's default on an idle machine. For testing this
# script only: BENCH_ROWS (the peers keep about that many rows).

set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 CSV OUTDIR" >&2; exit 2; }
CSV=$(realpath "$1")
mkdir -p "$2"
OUT=$(realpath "$2")
[ -f "$CSV" ] || { echo "regression.sh: no such CSV: $CSV" >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)

GO=${GO:-go}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
PEERS_PYTHON=${PEERS_PYTHON:-${PANDAS_PYTHON:-/usr/bin/python3}}
PEERS_OMP_WAIT_POLICY=${PEERS_OMP_WAIT_POLICY:-PASSIVE}
CONFIG=configs/flights-delay-minutes.yaml
NPROC=$(nproc)
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

# The issue's targets (the only numbers typed into this file): gbdt's test
# RMSE no worse than XGBoost's, the huber objective's MAE no worse than
# XGBoost's, and gbdt's fit at most half of XGBoost's fit time. The fit
# time is judged against XGBoost stopping early with the config's patience
# (both then run as many rounds past their best). The config grows trees
# of XGBoost's size (depth 8 holds at most 256 leaves; gbdt 255, the
# pairing of LightGBM's published comparison, docs/Experiments.rst);
# XGBoost with its patience of 20, and gbdt with configs/flights.yaml's
# trees of 4,095 leaves, are shown beside it.
TARGET_FIT_RATIO=0.5
TOTAL=3

TMP=$OUT
APT_UPDATED=0
APT_INSTALLED=()
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"
FAILED=()

command -v jq >/dev/null 2>&1 || apt_install jq || true
HAVE_TIME=0; [ -x "$TIME_BIN" ] && HAVE_TIME=1
test_awk() {
	local expr=$1; shift
	local args=() kv
	for kv in "$@"; do
		[ -n "${kv#*=}" ] || { echo ""; return 0; }
		args+=(-v "$kv")
	done
	awk "${args[@]}" "BEGIN { print (($expr) ? 1 : 0) }"
}
judge() {
	if [ -z "$2" ]; then echo "not measured ($1)"
	elif [ "$2" -eq 1 ]; then echo "**met**"
	else echo "**not met**"; fi
}
n2() { or_na "$1" num 2; }
mb() { num "$(kib_to_mb "$1")" 0; }
n3() { or_na "$1" num 3; }
n4() { or_na "$1" num 4; }

# --- 1. gbdt: BenchmarkFitFlightsRegression --------------------------------------

GBDT_RE='^BenchmarkFitFlightsRegression$'
GBDT_CMD="(cd train/gbdt && gbdt.test -test.run '^\$' -test.bench '$GBDT_RE' -test.benchtime 1x)"
GBDT_OK=0
log "building the ./train/gbdt test binary"
if "$GO" test -c -o "$OUT/gbdt.test" ./train/gbdt >"$OUT/gbdt.txt" 2>&1; then
	timer=()
	[ "$HAVE_TIME" -eq 1 ] && timer=("$TIME_BIN" -v -o "$OUT/gbdt-time.txt")
	log "./train/gbdt: -test.bench '$GBDT_RE' -test.benchtime 1x"
	if (cd train/gbdt && "${timer[@]}" "$OUT/gbdt.test" -test.run '^$' -test.bench "$GBDT_RE" \
		-test.benchtime 1x -test.count 1 -test.timeout 60m) 2>&1 | tee "$OUT/gbdt.txt" >&2 &&
		[ -n "$(bench_vals 'FitFlightsRegression/objective=squared_error' ns/op "$OUT/gbdt.txt")" ]; then
		GBDT_OK=1
	fi
	rm -f "$OUT/gbdt.test"
fi
[ "$GBDT_OK" -eq 1 ] || FAILED+=("gbdt regression benchmark")
# gm OBJECTIVE METRIC: a metric of one objective's sub-benchmark.
# (bench_metric compares units in lower case.)
gm() { [ "$GBDT_OK" -eq 1 ] && bench_metric "FitFlightsRegression/objective=$1" "^$2\$" "$OUT/gbdt.txt" || true; }
SQ_RMSE=$(gm squared_error test-rmse); SQ_MAE=$(gm squared_error test-mae); SQ_R2=$(gm squared_error test-r2)
SQ_FIT=$(gm squared_error fit-s); SQ_ROUNDS=$(gm squared_error rounds)
HU_RMSE=$(gm huber test-rmse); HU_MAE=$(gm huber test-mae); HU_R2=$(gm huber test-r2)
HU_FIT=$(gm huber fit-s); HU_ROUNDS=$(gm huber rounds)
SM_RMSE=$(gm squared_error,max_leaves=4095 test-rmse); SM_MAE=$(gm squared_error,max_leaves=4095 test-mae)
SM_R2=$(gm squared_error,max_leaves=4095 test-r2); SM_FIT=$(gm squared_error,max_leaves=4095 fit-s)
SM_ROUNDS=$(gm squared_error,max_leaves=4095 rounds)
GBDT_RSS_KIB=""
[ "$HAVE_TIME" -eq 1 ] && [ -s "$OUT/gbdt-time.txt" ] && GBDT_RSS_KIB=$(time_field "$OUT/gbdt-time.txt" rss)

# --- 2. The peers --------------------------------------------------------------------

cfg_value() { awk -v k="$1:" '$1 == k { v = $2; gsub(/["\047]/, "", v); print v; exit }' "$CONFIG"; }
VALID_FROM=$(cfg_value validation_from)
# The config's gbdt patience (its first early_stopping_rounds), for the
# peer that stops early as gbdt does.
PATIENCE=$(grep -o 'early_stopping_rounds: *[0-9]*' "$CONFIG" | head -n 1 | grep -o '[0-9]*$')
PATIENCE=${PATIENCE:-50}
TEST_FROM=$(cfg_value test_from)
py_has() { "$PEERS_PYTHON" -c "import $1" >/dev/null 2>&1; }
if [ -x "$PEERS_PYTHON" ]; then
	missing=()
	py_has pandas || missing+=(python3-pandas)
	py_has sklearn || missing+=(python3-sklearn)
	py_has xgboost || missing+=(python3-xgboost)
	if [ "${#missing[@]}" -gt 0 ] && ! apt_install "${missing[@]}"; then
		for p in "${missing[@]}"; do apt_install "$p" || true; done
	fi
fi
PEERS_CMD="OMP_WAIT_POLICY=$PEERS_OMP_WAIT_POLICY $PEERS_PYTHON scripts/bench/regression_peers.py CSV --valid-from $VALID_FROM --test-from $TEST_FROM --threads $NPROC --patience $PATIENCE"
PEERS_OK=0
if py_has pandas; then
	log "peers: $PEERS_CMD${BENCH_ROWS:+ (BENCH_ROWS=$BENCH_ROWS)}"
	if OMP_WAIT_POLICY=$PEERS_OMP_WAIT_POLICY "$PEERS_PYTHON" scripts/bench/regression_peers.py "$CSV" \
		--valid-from "$VALID_FROM" --test-from "$TEST_FROM" --threads "$NPROC" --patience "$PATIENCE" >"$OUT/peers.json" 2>"$OUT/peers.err" &&
		jq -e . "$OUT/peers.json" >/dev/null 2>&1; then
		PEERS_OK=1
	else
		FAILED+=("regression_peers.py")
	fi
	cat "$OUT/peers.err" >&2
else
	FAILED+=("regression peers (no pandas)")
fi
peer() { [ "$PEERS_OK" -eq 1 ] || return 0; jq -r --arg m "$1" --arg f "$2" '.[$m][$f] // empty' "$OUT/peers.json" 2>/dev/null || true; }
peer_err() { [ "$PEERS_OK" -eq 1 ] || { echo "not measured"; return 0; }; jq -r --arg m "$1" '.[$m].error // empty' "$OUT/peers.json"; }
XGB_RMSE=$(peer xgboost test_rmse); XGB_MAE=$(peer xgboost test_mae); XGB_FIT=$(peer xgboost fit_s)
XGS_FIT=$(peer xgboost_same_patience fit_s)

# --- 3. mlpipe run on the regression config ----------------------------------------------

RUN_CMD="bin/mlpipe run --config $CONFIG --registry \$TMP/registry --no-cache --out \$TMP/run --json --log-level warn"
RUN_OK=0 RUN_WALL='' RUN_RSS=''
if [ -x bin/mlpipe ]; then
	log "$RUN_CMD"
	timer=()
	[ "$HAVE_TIME" -eq 1 ] && timer=("$TIME_BIN" -v -o "$OUT/run-time.txt")
	if "${timer[@]}" bin/mlpipe run --config "$CONFIG" --registry "$OUT/registry" --no-cache --out "$OUT/run" \
		--json --log-level warn >"$OUT/run.json" 2>"$OUT/run.err" && jq -e '.status == "ok"' "$OUT/run.json" >/dev/null 2>&1; then
		RUN_OK=1
	else
		FAILED+=("mlpipe run $CONFIG")
	fi
	if [ "$HAVE_TIME" -eq 1 ] && [ -s "$OUT/run-time.txt" ]; then
		RUN_WALL=$(time_field "$OUT/run-time.txt" wall); RUN_RSS=$(time_field "$OUT/run-time.txt" rss)
	fi
else
	FAILED+=("mlpipe run (bin/mlpipe missing)")
fi
rj() { [ "$RUN_OK" -eq 1 ] && jq -r "$1" "$OUT/run.json" 2>/dev/null || true; }

# --- 4. Targets --------------------------------------------------------------------------

ST_RMSE=$(judge "needs the gbdt benchmark and XGBoost" "$(test_awk 'a <= b' a="$SQ_RMSE" b="$XGB_RMSE")")
ST_MAE=$(judge "needs the gbdt benchmark and XGBoost" "$(test_awk 'a <= b' a="$HU_MAE" b="$XGB_MAE")")
ST_FIT=$(judge "needs the gbdt benchmark and XGBoost" "$(test_awk 'a <= r * b' a="$SQ_FIT" b="$XGS_FIT" r="$TARGET_FIT_RATIO")")
MET=0 JUDGED=0
for s in "$ST_RMSE" "$ST_MAE" "$ST_FIT"; do
	case $s in "**met**") MET=$((MET + 1)); JUDGED=$((JUDGED + 1)) ;; "**not met**") JUDGED=$((JUDGED + 1)) ;; esac
done
ratio() { [ -n "$1" ] && [ -n "$2" ] && echo " ($(num "$(calc "$1 / $2")" 2)×)" || true; }

# row LABEL HOW RMSE MAE R2 FIT [ERR]; FIT "-" for a model that is not fitted.
row() {
	if [ -n "${7:-}" ]; then echo "| $1 | $2 | $7 | | | |"; return 0; fi
	local fit="—"
	[ "$6" = "-" ] || fit=$(or_na "$6" secs)
	echo "| $1 | $2 | $(n3 "$3") | $(n3 "$4") | $(n4 "$5") | $fit |"
}

{
	echo "## Regression: flights delay minutes"
	echo
	echo "The target is the departure delay in minutes (\`$CONFIG\`): the default task's 3,000,000 rows and time split"
	echo "(train before $VALID_FROM, early stopping on the validation month, test from $TEST_FROM)."
	echo "Delay is heavy-tailed and mostly not predictable from the schedule: the training mean is in the table so that"
	echo "what each model learns is plain to see."
	echo
	echo "- mlpipe gbdt: \`BenchmarkFitFlightsRegression\` of ./train/gbdt, run once from its test binary$([ "$HAVE_TIME" -eq 1 ] && echo " under \`/usr/bin/time -v\`"): \`$GBDT_CMD\`."
	echo "  The gbdt parameters of \`$CONFIG\` (rounds, trees of at most 255 leaves, the size of XGBoost's, patience), each objective, and the squared error with trees of"
	echo "  4,095 leaves, those of configs/flights.yaml (depth 8: at most 256 leaves; LightGBM's published comparison pairs them the same way); the stand-in encoder's eight raw features (those the peers get); early stopping"
	echo "  on the validation split. Fit time is the benchmark's fit-s metric (loading and encoding are not timed)."
	echo "- Peers: \`$PEERS_CMD\` (scripts/bench/regression_peers.py), fit time \`time.perf_counter\` around \`fit()\` alone."
	if [ "$PEERS_OK" -eq 1 ]; then
		echo "  Split sizes: $(jq -r '.splits | "train \(.train), validation \(.valid), test \(.test)"' "$OUT/peers.json")$([ "$(jq -r '.bench_rows // empty' "$OUT/peers.json")" ] && echo " — **BENCH_ROWS=$(jq -r .bench_rows "$OUT/peers.json"): a subsample, not comparable**"); python $(jq -r .python "$OUT/peers.json"), pandas $(jq -r .pandas "$OUT/peers.json"), numpy $(jq -r .numpy "$OUT/peers.json")."
	fi
	echo
	echo "| model | how | test RMSE | test MAE | test R² | fit time |"
	echo "|---|---|---|---|---|---|"
	row "training mean" "predicts $(n2 "$(peer mean value)") minutes" "$(peer mean test_rmse)" "$(peer mean test_mae)" "$(peer mean test_r2)" - "$(peer_err mean)"
	row "mlpipe gbdt, squared_error" "the config's 255-leaf trees; $(or_na "$SQ_ROUNDS" num 0) rounds kept" "$SQ_RMSE" "$SQ_MAE" "$SQ_R2" "$SQ_FIT" "$([ "$GBDT_OK" -eq 1 ] || echo "failed (see the raw output)")"
	row "mlpipe gbdt, huber" "the config's 255-leaf trees; $(or_na "$HU_ROUNDS" num 0) rounds kept; delta: the 0.9-quantile of \|y − median\|" "$HU_RMSE" "$HU_MAE" "$HU_R2" "$HU_FIT" "$([ "$GBDT_OK" -eq 1 ] || echo "failed (see the raw output)")"
	row "mlpipe gbdt, squared_error, 4,095 leaves" "configs/flights.yaml's tree size; $(or_na "$SM_ROUNDS" num 0) rounds kept" "$SM_RMSE" "$SM_MAE" "$SM_R2" "$SM_FIT" "$([ "$GBDT_OK" -eq 1 ] || echo "failed (see the raw output)")"
	row "XGBoost $(peer xgboost version)" "reg:squarederror, hist, depth 8, lr 0.3, early stopping (20) on May: $(or_na "$(peer xgboost trees)" num 0) trees kept of $(or_na "$(peer xgboost rounds_run)" num 0), n_jobs=$(or_na "$(peer xgboost threads)")" "$XGB_RMSE" "$XGB_MAE" "$(peer xgboost test_r2)" "$XGB_FIT" "$(peer_err xgboost)"
	row "XGBoost $(peer xgboost version), gbdt's patience" "the same, early stopping ($PATIENCE) on May: $(or_na "$(peer xgboost_same_patience trees)" num 0) trees kept of $(or_na "$(peer xgboost_same_patience rounds_run)" num 0)" "$(peer xgboost_same_patience test_rmse)" "$(peer xgboost_same_patience test_mae)" "$(peer xgboost_same_patience test_r2)" "$XGS_FIT" "$(peer_err xgboost_same_patience)"
	row "sklearn $(peer sklearn_hgb version) HistGradientBoostingRegressor" "max_iter=200, 31 leaves, categorical airports; $(or_na "$(peer sklearn_hgb iterations)" num 0) iterations" "$(peer sklearn_hgb test_rmse)" "$(peer sklearn_hgb test_mae)" "$(peer sklearn_hgb test_r2)" "$(peer sklearn_hgb fit_s)" "$(peer_err sklearn_hgb)"
	row "sklearn $(peer sklearn_ridge version) Ridge" "alpha=1, one-hot inputs ($(or_na "$(peer sklearn_ridge weights)" num 0) weights)" "$(peer sklearn_ridge test_rmse)" "$(peer sklearn_ridge test_mae)" "$(peer sklearn_ridge test_r2)" "$(peer sklearn_ridge fit_s)" "$(peer_err sklearn_ridge)"
	echo
	echo "Peak RSS of the gbdt benchmark process (loading, encoding, the three fits): $(or_na "$GBDT_RSS_KIB" mb) MB$([ "$PEERS_OK" -eq 1 ] && echo "; of the peers' python process: $(mb "$(jq -r .peak_rss_kib "$OUT/peers.json")") MB")."
	echo "The 1-minute load average was $LOAD_START at the start of this section and $(cut -d' ' -f1 /proc/loadavg) at its end ($NPROC CPUs):"
	echo "other work on the machine slows every figure; the ratios are of runs made one after the other."
	echo
	echo "### Regression targets"
	echo
	echo "| what | measured | target | status |"
	echo "|---|---|---|---|"
	echo "| gbdt (squared_error) test RMSE vs XGBoost's | $(n3 "$SQ_RMSE") vs $(n3 "$XGB_RMSE") | no worse | $ST_RMSE |"
	echo "| gbdt (huber) test MAE vs XGBoost's | $(n3 "$HU_MAE") vs $(n3 "$XGB_MAE") | no worse | $ST_MAE |"
	echo "| gbdt (squared_error) fit time vs XGBoost's in this run, both stopping after $PATIENCE rounds without improvement | $(or_na "$SQ_FIT" secs) vs $(or_na "$XGS_FIT" secs)$(ratio "$SQ_FIT" "$XGS_FIT") | ≤ $TARGET_FIT_RATIO× XGBoost's | $ST_FIT |"
	echo "| shown, not judged: against XGBoost with its patience of 20 | $(or_na "$SQ_FIT" secs) vs $(or_na "$XGB_FIT" secs)$(ratio "$SQ_FIT" "$XGB_FIT") | | |"
	echo "| shown, not judged: gbdt with trees of 4,095 leaves (configs/flights.yaml's), same patience | $(or_na "$SM_FIT" secs) vs $(or_na "$XGS_FIT" secs)$(ratio "$SM_FIT" "$XGS_FIT"); RMSE $(n3 "$SM_RMSE") vs $(n3 "$(peer xgboost_same_patience test_rmse)") | | |"
	echo
	echo "### \`mlpipe run\` on the regression config"
	echo
	echo "\`$RUN_CMD\`: the project's features (time parts, log distance, airport codes and target encodings of the mean delay,"
	echo "the route's), every candidate of the config, evaluation on June."
	echo
	if [ "$RUN_OK" -eq 1 ]; then
		echo "| what | measured |"
		echo "|---|---|"
		echo "| Wall time, peak RSS | $(or_na "$RUN_WALL" secs), $(or_na "$RUN_RSS" mb) MB |"
		echo "| Selected model | $(rj '.model.kind') ($(rj '.leaderboard[] | select(.best) | .params | tojson')) |"
		echo "| Test RMSE, MAE, R², median absolute error | $(n3 "$(rj .evaluation.rmse)"), $(n3 "$(rj .evaluation.mae)"), $(n4 "$(rj .evaluation.r2)"), $(n3 "$(rj .evaluation.median_ae)") |"
		echo "| The training mean on the same rows | RMSE $(n3 "$(rj '.evaluation.baselines[0].rmse')"), MAE $(n3 "$(rj '.evaluation.baselines[0].mae')"), R² $(n4 "$(rj '.evaluation.baselines[0].r2')") |"
		echo "| The training median | RMSE $(n3 "$(rj '.evaluation.baselines[1].rmse')"), MAE $(n3 "$(rj '.evaluation.baselines[1].mae')") |"
		echo
		echo "| candidate | params | validation RMSE | fit time |"
		echo "|---|---|---|---|"
		rj '.leaderboard[] | [.model, (.params | tojson), (.valid // .error | tostring), (.fit_seconds | tostring), (if .best then " (selected)" else "" end)] | join("\u001f")' |
			while IFS=$'\x1f' read -r model params valid fit best; do
				echo "| $model$best | \`$params\` | $(n3 "$valid") | $(secs "$fit") |"
			done
	else
		echo "Not measured: the run failed$([ -s "$OUT/run.err" ] && echo " ($(tail -n 1 "$OUT/run.err"))")."
	fi
	echo
} >"$OUT/regression.md"

{
	details() {
		[ -s "$2" ] || return 0
		printf '\n<details><summary>%s</summary>\n\n```%s\n' "$1" "${3:-text}"
		cat "$2"
		printf '```\n\n</details>\n'
	}
	details "regression gbdt: <code>$GBDT_CMD</code>" "$OUT/gbdt.txt"
	details "regression_peers.py JSON" "$OUT/peers.json" json
	[ "$PEERS_OK" -eq 1 ] || details "regression_peers.py stderr" "$OUT/peers.err"
	[ "$RUN_OK" -eq 1 ] || details "mlpipe run stderr" "$OUT/run.err"
} >"$OUT/regression-raw.md"

{
	printf 'REGRESSION_MET=%d\nREGRESSION_JUDGED=%d\nREGRESSION_TOTAL=%d\n' "$MET" "$JUDGED" "$TOTAL"
	printf 'REGRESSION_FAILED=%q\n' "$(IFS=,; echo "${FAILED[*]}")"
} >"$OUT/regression.env"
log "regression: targets met $MET of $JUDGED judged ($TOTAL in all)${FAILED[*]:+; failed: ${FAILED[*]}}"
