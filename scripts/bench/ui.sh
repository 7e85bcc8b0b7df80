#!/usr/bin/env bash
# scripts/bench/ui.sh REGISTRY OUTDIR: measure the dashboard and the run
# report, and write the "Dashboard and run report" part of BENCHMARKS.md.
# run.sh calls it; it also runs alone.
#
# REGISTRY is a registry with at least one run of the default task (run.sh
# passes the one models.sh's `mlpipe run` filled); OUTDIR receives:
#   ui.md      the Markdown section
#   ui.env     UI_MET / UI_JUDGED / UI_TOTAL and UI_FAILED, in shell syntax
#              for run.sh to source
#   ui.txt     the raw benchmark output; report.html, the measured report
#
# What it measures:
#   1. BenchmarkRunsList and BenchmarkRunsListCold of ./ui: the runs list of
#      a generated registry of 1,000 runs (copies of a real fixture run with
#      varied ids and metrics, ui/uitest.Generate), served from a warm cache
#      and by a new dashboard (every summary.json read once); median of
#      UI_COUNT runs of UI_BENCHTIME each
#   2. the size of the run report of REGISTRY's latest run, written with
#      `bin/mlpipe report RUN_ID --registry REGISTRY --out OUTDIR/report.html`
#
# Knobs: UI_COUNT (default 3), UI_BENCHTIME (default 20x). Needs go and awk.

set -euo pipefail

[ $# -eq 2 ] || { echo "usage: $0 REGISTRY OUTDIR" >&2; exit 2; }
mkdir -p "$2"
REG=$(realpath -m "$1")
OUT=$(realpath "$2")

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
GO=${GO:-go}
UI_COUNT=${UI_COUNT:-3}
UI_BENCHTIME=${UI_BENCHTIME:-20x}
# shellcheck disable=SC2034 # lib.sh keeps apt logs in $TMP
TMP=$OUT
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"

# Targets from the issue (the only numbers typed into this file).
TARGET_LIST_MS=100           # runs list of 1,000 runs, server-side, ms
TARGET_REPORT_BYTES=1000000  # run report of the default run: under 1 MB
UI_TOTAL=2
FAILED=()

# --- 1. The runs list of 1,000 runs ---------------------------------------------------

BENCH_CMD="go test -run '^\$' -bench '^BenchmarkRunsList(Cold)?\$' -benchtime $UI_BENCHTIME -count $UI_COUNT ./ui"
log "$BENCH_CMD"
if ! "$GO" test -run '^$' -bench '^BenchmarkRunsList(Cold)?$' -benchtime "$UI_BENCHTIME" -count "$UI_COUNT" ./ui \
	>"$OUT/ui.txt" 2>&1; then
	FAILED+=("ui benchmarks")
fi
cat "$OUT/ui.txt" >&2
med() { bench_vals "$1" "$2" "$OUT/ui.txt" | median 2>/dev/null || true; }
LIST_MS=$(med RunsList ms/page)
LIST_KB=$(med RunsList page-KB)
COLD_MS=$(med RunsListCold ms/page)

# --- 2. The report of the latest run ------------------------------------------------------

RUN_ID=''
REPORT_BYTES=''
REPORT_CMD="bin/mlpipe report RUN_ID --registry REGISTRY --out OUTDIR/report.html"
if [ -d "$REG/runs" ]; then
	RUN_ID=$(find "$REG/runs" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%f\n' | sort | tail -n 1)
fi
if [ -z "$RUN_ID" ]; then
	FAILED+=("report (no run in $REG)")
elif [ ! -x bin/mlpipe ]; then
	FAILED+=("report (bin/mlpipe missing)")
elif bin/mlpipe report "$RUN_ID" --registry "$REG" --out "$OUT/report.html" >"$OUT/report.out" 2>&1; then
	REPORT_BYTES=$(wc -c <"$OUT/report.html" | tr -d ' ')
else
	FAILED+=("mlpipe report")
	cat "$OUT/report.out" >&2
fi

# --- 3. Targets and the report -------------------------------------------------------------

judge() { # WHY OK
	if [ -z "$2" ]; then echo "not measured ($1)"
	elif [ "$2" -eq 1 ]; then echo "**met**"
	else echo "**not met**"; fi
}
cond() { # AWK-EXPR VALUE LIMIT: 1, 0, or "" when VALUE is empty
	[ -n "$2" ] || { echo ""; return 0; }
	awk -v v="$2" -v t="$3" "BEGIN { print (($1) ? 1 : 0) }"
}
OK_LIST=$(cond 'v < t' "$LIST_MS" "$TARGET_LIST_MS")
OK_REPORT=$(cond 'v < t' "$REPORT_BYTES" "$TARGET_REPORT_BYTES")
MET=0 JUDGED=0
for ok in "$OK_LIST" "$OK_REPORT"; do
	[ -n "$ok" ] || continue
	JUDGED=$((JUDGED + 1))
	MET=$((MET + ok))
done

{
	echo "## Dashboard and run report"
	echo
	echo "\`$BENCH_CMD\` serves the runs list (sorted by test ROC AUC) of a generated registry of 1,000 runs,"
	echo "copies of a real fixture run with varied ids and metrics; median of $UI_COUNT. The run report is the one of"
	echo "the registry's latest run${RUN_ID:+ (\`$RUN_ID\`)}, written with \`$REPORT_CMD\`."
	echo
	echo "| what | measured | target | status |"
	echo "|---|---|---|---|"
	echo "| Runs list, 1,000 runs, warm cache (BenchmarkRunsList) | $(or_na "$LIST_MS" num 1) ms per page$([ -n "$LIST_KB" ] && echo ", $(num "$LIST_KB" 0) KB of HTML") | < $TARGET_LIST_MS ms | $(judge "benchmark failed" "$OK_LIST") |"
	echo "| Runs list, 1,000 runs, first request (BenchmarkRunsListCold) | $(or_na "$COLD_MS" num 0) ms | — | — |"
	echo "| Run report of the latest run | $([ -n "$REPORT_BYTES" ] && echo "$(thousands "$REPORT_BYTES") bytes" || echo "not available") | < 1 MB | $(judge "${FAILED[*]:-no report}" "$OK_REPORT") |"
	echo
} >"$OUT/ui.md"

{
	printf 'UI_MET=%d\nUI_JUDGED=%d\nUI_TOTAL=%d\n' "$MET" "$JUDGED" "$UI_TOTAL"
	printf 'UI_FAILED=%q\n' "$(IFS=,; echo "${FAILED[*]}")"
} >"$OUT/ui.env"
log "ui: targets met $MET of $JUDGED judged ($UI_TOTAL in all)${FAILED[*]:+; failed: ${FAILED[*]}}"
