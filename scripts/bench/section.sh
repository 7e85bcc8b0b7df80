#!/usr/bin/env bash
# scripts/bench/section.sh NAME...: measure sections of BENCHMARKS.md
# alone, each with the script `make bench` runs for it, and put each new
# section in place of the old one (scripts/bench/splice.py), headed by the
# date, the revision, the command and the load average. `make bench`
# measures everything in one run (one to two hours on 2 CPUs); this is for
# re-measuring what a change touched. A section's peers are measured in its
# own run, as in `make bench`; its targets are not added to the total at
# the top of the file, and its header says so.
#
#   make build && scripts/bench/section.sh serve predict
#
# NAME is one of: models regression suite gbdt scale serve predict ui
# backtest s3 build xlsx. serve, predict and ui measure a registry that this
# script fills first with `mlpipe run` of the default config (about a
# minute). Outputs stay in $SECTION_OUT (default /tmp/mlpipe-section),
# one directory per NAME. Knobs: those of each script, and SUITE_SEEDS.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,/^set /p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
export GO=${GO:-go} TIME_BIN=${TIME_BIN:-/usr/bin/time} PANDAS_PYTHON=${PANDAS_PYTHON:-/usr/bin/python3}
export PEERS_PYTHON=${PEERS_PYTHON:-$PANDAS_PYTHON}
OUT=${SECTION_OUT:-/tmp/mlpipe-section}
mkdir -p "$OUT"
OUT=$(realpath "$OUT")
# shellcheck source=scripts/bench/lib.sh
source scripts/bench/lib.sh
REVISION=$(git rev-parse --short=12 HEAD)$(git diff --quiet HEAD || echo +dirty)

csv() {
	[ -f "$OUT/flights-3m.csv" ] || "$GO" run ./scripts/fixtures -full-csv "$OUT/flights-3m.csv" >&2
	echo "$OUT/flights-3m.csv"
}
registry() {
	if [ ! -d "$OUT/registry" ]; then
		log "bin/mlpipe run --config configs/flights.yaml --registry $OUT/registry (the model serve, predict and ui measure)"
		bin/mlpipe run --config configs/flights.yaml --registry "$OUT/registry" --out "$OUT/run" --log-level warn >"$OUT/run.txt"
	fi
	echo "$OUT/registry"
}

for name in "$@"; do
	dir="$OUT/$name"
	rm -rf "$dir"
	case $name in
	models | regression) args=("$(csv)" "$dir") ;;
	suite) args=(--seeds "${SUITE_SEEDS:-1,2,3}" "$dir") ;;
	gbdt | scale | backtest | s3 | build | xlsx) args=("$dir") ;;
	serve | ui) args=("$(registry)" "$dir") ;;
	predict) args=("$(registry)" "$dir" "$(csv)") ;;
	*) echo "section.sh: unknown section $name (see $0 --help)" >&2; exit 2 ;;
	esac
	cmd="scripts/bench/$name.sh ${args[*]}"
	log "$cmd"
	load_start=$(cut -d' ' -f1-3 /proc/loadavg)
	"$ROOT/scripts/bench/$name.sh" "${args[@]}" || { log "$name.sh failed (exit $?); BENCHMARKS.md unchanged for it"; continue; }
	load_end=$(cut -d' ' -f1-3 /proc/loadavg)
	note="This section alone was measured on $(date -u +%Y-%m-%d) at revision $REVISION by \`${cmd//$OUT/\$OUT}\` (scripts/bench/section.sh), not in the run above; its targets are not counted in the total above. Load average (1, 5, 15 min): $load_start at its start, $load_end at its end ($(nproc) CPUs)."
	raw=()
	[ ! -f "$dir/$name-raw.md" ] || raw=("$dir/$name-raw.md")
	python3 scripts/bench/splice.py BENCHMARKS.md "$dir/$name.md" "${raw[@]}" --note "$note"
	log "BENCHMARKS.md: section $name replaced"
done
