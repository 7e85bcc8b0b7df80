#!/usr/bin/env bash
# scripts/bench/build.sh OUTDIR: the cold build time of bin/mlpipe and
# bin/mlserve, where it goes, and each binary's size as built and
# stripped (-ldflags '-s -w'); writes the "Build time" part of
# BENCHMARKS.md. run.sh calls it; it also runs alone.
#
# Cold means an empty build cache (GOCACHE, a fresh directory per binary)
# with the modules already downloaded (GOMODCACHE as it is): what a fresh
# clone pays on its first `make run` after `go mod download`. Each binary
# is built on its own, with the Makefile's flags, under GNU time (wall
# time, user + system CPU, peak RSS), with -debug-actiongraph, from which
# scripts/bench/buildtime.py sums the compile time per module and names
# the project's packages that bring each heavy module in.
#
# OUTDIR receives build.md (the section) and build.env (BUILD_FAILED).
# BUILD_REUSE=1 keeps the measurements of a binary already in OUTDIR
# (time-NAME.txt, actions-NAME.json, deps-NAME.json) and builds only the
# others. Needs go, python3 and GNU time (/usr/bin/time).

set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(realpath "$1")

cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
GO=${GO:-go}
TIME_BIN=${TIME_BIN:-/usr/bin/time}
# shellcheck disable=SC2034 # lib.sh keeps apt logs in $TMP
TMP=$OUT
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"

REVISION=$(git rev-parse --short=12 HEAD 2>/dev/null || echo devel)
LDFLAGS="-X github.com/mlpipe/mlpipe/internal/version.Revision=$REVISION"
FAILED=()
"$GO" mod download

for b in mlpipe mlserve; do
	if [ "${BUILD_REUSE:-0}" = 1 ] && [ -s "$OUT/time-$b.txt" ] && [ -s "$OUT/deps-$b.json" ]; then
		log "reusing the cold build of $b in $OUT"
		continue
	fi
	cache=$(mktemp -d "$OUT/gocache-$b.XXXXXX")
	cut -d' ' -f1-3 /proc/loadavg >"$OUT/load-$b.txt" # the machine's load as the build starts
	log "cold build of $b (GOCACHE=$cache)"
	if GOCACHE=$cache "$TIME_BIN" -f '%e %U %S %M' -o "$OUT/time-$b.txt" \
		"$GO" build -ldflags "$LDFLAGS" -debug-actiongraph="$OUT/actions-$b.json" -o "$OUT/$b" "./cmd/$b" 2>"$OUT/build-$b.err"; then
		"$GO" list -deps -json "./cmd/$b" >"$OUT/deps-$b.json"
	else
		FAILED+=("go build ./cmd/$b")
		cat "$OUT/build-$b.err" >&2
	fi
	rm -rf "$cache"
done

# The stripped size (no symbol table or DWARF), what a container image
# ships; built in the ordinary cache, after the timed builds.
for b in mlpipe mlserve; do
	"$GO" build -ldflags "$LDFLAGS -s -w" -o "$OUT/$b-stripped" "./cmd/$b" || FAILED+=("go build -ldflags '-s -w' ./cmd/$b")
done

{
	echo "## Build time"
	echo
	echo "The cold build: an empty build cache (a fresh \`GOCACHE\` for each binary), the modules already downloaded, each binary built alone with the Makefile's flags (\`GOCACHE=\$(mktemp -d) go build -ldflags ... -o bin/NAME ./cmd/NAME\`, under GNU time; \`scripts/bench/build.sh\`). \`make build\` builds both in one cache, so the second reuses what they share."
	echo
	echo "| binary | wall | CPU (user + system) | peak RSS | packages | size | stripped | load average as it started |"
	echo "|---|---|---|---|---|---|---|---|"
	for b in mlpipe mlserve; do
		[ -s "$OUT/time-$b.txt" ] && [ -s "$OUT/deps-$b.json" ] || { echo "| bin/$b | failed | | | | | | |"; continue; }
		read -r wall user sys rss <"$OUT/time-$b.txt"
		n=$(grep -c '"ImportPath"' "$OUT/deps-$b.json")
		stripped=failed
		[ -s "$OUT/$b-stripped" ] && stripped="$(num "$(calc "$(stat -c %s "$OUT/$b-stripped") / 1e6")") MB"
		echo "| bin/$b | $(num "$wall") s | $(num "$(calc "$user + $sys")") s | $(num "$(calc "$rss / 1024")" 0) MB | $n | $(num "$(calc "$(stat -c %s "$OUT/$b") / 1e6")") MB | $stripped | $(cat "$OUT/load-$b.txt" 2>/dev/null) |"
	done
	echo
	echo "Size is the binary as \`make build\` builds it; stripped is \`go build -ldflags '-s -w'\` (no symbol table, no DWARF), what a container image ships. An exported server (\`mlpipe export\`) is a copy of bin/mlserve with its bundle appended, so it is mlserve's size plus the bundle's. mlserve's goal is 20 MB stripped (issue 20); \`TestDependencies\` (cmd/mlserve/deps_test.go) keeps training code, plotting and Parquet out of it."
	echo
	echo "The wall time depends on what else the machine runs (the load average, of $(nproc) CPUs, is beside it); the CPU time much less so."
	echo
	for b in mlpipe mlserve; do
		[ -s "$OUT/deps-$b.json" ] || continue
		echo "Where the compile time of bin/$b goes: \`go build -debug-actiongraph\` times each package's compile action; summed per module (actions run side by side and wait for a CPU on a busy machine, so the sum exceeds both the wall and the CPU time, and the share is the figure to read):"
		echo
		python3 "$ROOT/scripts/bench/buildtime.py" "$OUT/actions-$b.json" "$OUT/deps-$b.json"
		echo
	done
	echo "Arrow and the modules it brings (goccy/go-json, protobuf, gRPC) take the largest share of bin/mlpipe's build. mlserve links inference code only (docs/architecture.md, \"Inference and fitting\"): the fitted models from model/..., the feature pipeline, the profile format and the live drift gauges; no trainer but the small gbdt of the monitor's domain classifier (package monitor holds the gauges too), no golearn, no gonum/optimize or gonum/plot, no Parquet, Flight or gRPC. Its remaining Arrow packages come with the feature pipeline's batch path (package features) and the monitor's reference sample."
	echo
} >"$OUT/build.md"

{
	echo "BUILD_FAILED=\"${FAILED[*]:-}\""
} >"$OUT/build.env"
cat "$OUT/build.md"
[ ${#FAILED[@]} -eq 0 ]
