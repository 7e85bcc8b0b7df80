#!/usr/bin/env bash
# scripts/bench/s3.sh OUTDIR: object storage against the local disk, in
# the same run, alternately (go test -count): reading
# data/flights-3m.parquet (ingest.BenchmarkLoadS3; target: S3 at most 2x
# local), and registering a 1 MB bundle and opening a version as a fresh
# mlserve replica does (registry.BenchmarkRegisterS3), and starting a new
# mlserve process until /readyz answers (cmd/mlserve BenchmarkStartS3).
# The S3 server is
# SeaweedFS on loopback (scripts/weed.sh builds it). Writes OUTDIR/s3.md
# and OUTDIR/s3.env (S3_FAILED). run.sh calls it; it also runs alone.
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(realpath "$1")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
GO=${GO:-go}
COUNT=${BENCH_COUNT:-5}
MLPIPE_WEED=${MLPIPE_WEED:-$(scripts/weed.sh)}
export MLPIPE_WEED MLPIPE_REQUIRE_S3=1

CMD1="go test -run '^\$' -bench '^BenchmarkLoadS3\$' -benchtime 3x -count $COUNT ./ingest/"
CMD2="go test -run '^\$' -bench '^BenchmarkRegisterS3\$' -benchtime 5x -count $COUNT ./registry/"
CMD3="go test -run '^\$' -bench '^BenchmarkStartS3\$' -benchtime 10x -count $COUNT ./cmd/mlserve/"
{
	"$GO" test -run '^$' -bench '^BenchmarkLoadS3$' -benchtime 3x -count "$COUNT" ./ingest/
	"$GO" test -run '^$' -bench '^BenchmarkRegisterS3$' -benchtime 5x -count "$COUNT" ./registry/
	"$GO" test -run '^$' -bench '^BenchmarkStartS3$' -benchtime 10x -count "$COUNT" ./cmd/mlserve/
} >"$OUT/s3.txt" 2>&1 || { echo "S3_FAILED='go test -bench (see s3.txt)'" >"$OUT/s3.env"; exit 1; }

# median ns/op of a sub-benchmark
med() {
	grep -E "^Benchmark$1-[0-9]+ " "$OUT/s3.txt" | awk '{print $3}' | sort -n |
		awk '{a[NR]=$1} END {if (NR==0) {print ""; exit}; if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.2f", a/b}'; }
ms() { awk -v a="$1" 'BEGIN {printf "%.2f", a/1e6}'; }
LL=$(med LoadS3/local); LS=$(med LoadS3/s3)
RD=$(med RegisterS3/disk/register); RS=$(med RegisterS3/s3/register)
OD=$(med RegisterS3/disk/open); OS=$(med RegisterS3/s3/open)
SD=$(med StartS3/disk); SS=$(med StartS3/s3)
LOAD_RATIO=$(ratio "$LS" "$LL")
MET=$(awk -v r="$LOAD_RATIO" 'BEGIN {print (r <= 2) ? "met" : "NOT met"}')
cat >"$OUT/s3.md" <<MD
## Object storage (S3) against the local disk

SeaweedFS (\`weed mini\`) on loopback, alternated with the local disk in
one run (medians of $COUNT):

| operation | local disk | S3 | S3 / local |
|---|---:|---:|---:|
| load data/flights-3m.parquet (5 columns, ranged GETs) | $(ms "$LL") ms | $(ms "$LS") ms | $LOAD_RATIO (target ≤ 2: $MET) |
| register a 1 MB bundle and move production (under the writer lock) | $(ms "$RD") ms | $(ms "$RS") ms | $(ratio "$RS" "$RD") |
| open a version as a new mlserve replica (resolve the alias, download, verify) | $(ms "$OD") ms | $(ms "$OS") ms | $(ratio "$OS" "$OD") |
| start mlserve, a new replica with an empty cache, until \`/readyz\` answers (the fixture's production logreg) | $(ms "$SD") ms | $(ms "$SS") ms | $(ratio "$SS" "$SD") |

Commands: \`$CMD1\`; \`$CMD2\`; \`$CMD3\`.
MD
echo "S3_FAILED=''" >"$OUT/s3.env"
cat "$OUT/s3.md"
