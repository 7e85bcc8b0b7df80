#!/usr/bin/env bash
# scripts/bench/xlsx.sh OUTDIR: loading an Excel workbook, mlpipe against
# pandas in the same run. Writes OUTDIR/xlsx.md. run.sh calls it; it also
# runs alone (scripts/bench/section.sh xlsx).
#
# The workbook: the first XLSX_ROWS (default 500,000) rows of
# data/flights-3m.parquet (through the CSV that `go run ./scripts/fixtures
# -full-csv` writes, or $XLSX_CSV), written by openpyxl with the dates as
# Excel dates (scripts/bench/xlsx_peers.py make); kept in OUTDIR.
# mlpipe: ingest.BenchmarkLoadXLSX, the load that `mlpipe ingest` makes
# (the flights contract: every value parsed, the dates found from their
# formats), -count XLSX_TURNS; pandas: read_excel of the same file,
# XLSX_TURNS reads in one process. The medians are compared; both sides
# read the whole file into memory.
#
# Needs: go, jq, and Debian's python3 with python3-pandas and
# python3-openpyxl (installed with apt-get when missing and possible).
set -euo pipefail
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(realpath "$1")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)
GO=${GO:-go}
PY=${PEERS_PYTHON:-/usr/bin/python3}
ROWS=${XLSX_ROWS:-500000}
TURNS=${XLSX_TURNS:-3}
# shellcheck disable=SC2034 # lib.sh keeps apt logs in $TMP
TMP=$OUT
APT_UPDATED=0
APT_INSTALLED=()
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"
command -v jq >/dev/null 2>&1 || apt_install jq
"$PY" -c "import pandas" 2>/dev/null || apt_install python3-pandas
"$PY" -c "import openpyxl" 2>/dev/null || apt_install python3-openpyxl

CSV=${XLSX_CSV:-$OUT/flights-3m.csv}
if [ ! -s "$CSV" ]; then
	log "writing $CSV (go run ./scripts/fixtures -full-csv)"
	"$GO" run ./scripts/fixtures -full-csv "$CSV" >&2
fi
BOOK=$OUT/flights-$ROWS.xlsx
if [ ! -s "$BOOK" ]; then
	log "writing $BOOK with openpyxl"
	"$PY" scripts/bench/xlsx_peers.py make "$CSV" "$BOOK" "$ROWS"
fi

GO_CMD="MLPIPE_BENCH_XLSX=\$BOOK go test -run '^\$' -bench '^BenchmarkLoadXLSX\$' -benchtime 1x -count $TURNS ./ingest/"
PY_CMD="$PY scripts/bench/xlsx_peers.py read \$BOOK $TURNS"
log "$GO_CMD"
MLPIPE_BENCH_XLSX=$BOOK "$GO" test -run '^$' -bench '^BenchmarkLoadXLSX$' -benchtime 1x -count "$TURNS" ./ingest/ >"$OUT/xlsx-go.txt"
log "$PY_CMD"
"$PY" scripts/bench/xlsx_peers.py read "$BOOK" "$TURNS" >"$OUT/xlsx-pandas.json"

GO_S=$(grep -E '^BenchmarkLoadXLSX-[0-9]+ ' "$OUT/xlsx-go.txt" | awk '{print $3/1e9}' | median)
GO_ROWS=$(grep -E '^BenchmarkLoadXLSX-[0-9]+ ' "$OUT/xlsx-go.txt" | awk '{print $5; exit}')
PD_S=$(jq -r .median_s "$OUT/xlsx-pandas.json")
PD_ROWS=$(jq -r .rows "$OUT/xlsx-pandas.json")
PD_VERSION=$(jq -r .pandas "$OUT/xlsx-pandas.json")
PD_DATE=$(jq -r .date_dtype "$OUT/xlsx-pandas.json")
{
	echo "## Excel workbooks: mlpipe against pandas"
	echo
	echo "Loading a $(num "$ROWS" 0)-row, 5-column workbook (the first rows of data/flights-3m.parquet, written by openpyxl"
	echo "with the dates as Excel dates; $(num "$(($(stat -c %s "$BOOK") / 1000000))" 0) MB): mlpipe's load with the flights contract (every value"
	echo "parsed, the dates found from their formats) against pandas $PD_VERSION \`read_excel\` (openpyxl), which reads the dates"
	echo "as \`$PD_DATE\`; $TURNS turns each, median. Commands: \`$GO_CMD\`; \`$PY_CMD\`."
	echo
	echo "| what | mlpipe | pandas | mlpipe / pandas |"
	echo "|---|---|---|---|"
	echo "| seconds to load (median of $TURNS; rows read: $(num "$GO_ROWS" 0) / $(num "$PD_ROWS" 0)) | $(secs "$GO_S") | $(secs "$PD_S") | $(num "$(calc "$GO_S / $PD_S")" 2)× |"
	echo
} >"$OUT/xlsx.md"
{
	printf '\n<details><summary>xlsx: BenchmarkLoadXLSX</summary>\n\n```text\n'
	cat "$OUT/xlsx-go.txt"
	printf '```\n\n</details>\n\n<details><summary>xlsx: xlsx_peers.py read</summary>\n\n```json\n'
	cat "$OUT/xlsx-pandas.json"
	printf '```\n\n</details>\n'
} >"$OUT/xlsx-raw.md"
cat "$OUT/xlsx.md"
