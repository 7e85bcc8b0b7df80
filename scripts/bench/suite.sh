#!/usr/bin/env bash
# scripts/bench/suite.sh [--gbdt JSON] [--configs a,b] [--repeats N] OUTDIR:
# the example-dataset suite. For each example config of configs/ but the
# flights ones (12 datasets: 4 binary, 4 multiclass, 4 regressions), the
# config's main test metric (its selection.metric) for
#   mlpipe   `mlpipe run` on the config as shipped (its models and selection)
#   gbdt     `mlpipe run` with the models replaced by gbdt alone: its
#            defaults, or the parameters given with --gbdt
#   XGBoost  1.7.4, hist, early stopping (20 rounds) on the validation split
#   HGB      scikit-learn 1.2.1's HistGradientBoosting, its defaults
# on the same rows, split and raw inputs, in the same run
# (scripts/bench/suite.py does the work and checks that its split is
# mlpipe's, row for row and label for label). run.sh calls it for
# BENCHMARKS.md; it also runs alone:
#
#   make build && scripts/bench/suite.sh /tmp/suite
#   scripts/bench/suite.sh --gbdt '{"learning_rate": 0.1, "min_samples_leaf": 5}' --repeats 5 /tmp/suite
#   make suite GBDT='{"learning_rate": 0.1}' REPEATS=5      # the same, into out/suite
#
# --gbdt is how to try a gbdt parameter set on every dataset at once (issue
# 17: gbdt defaults that beat XGBoost on most datasets and come within 2%
# on all); the last line of the table counts both. --repeats N runs each
# random-split dataset with N split seeds (the config's and the next ones)
# and averages: the test splits have 25 to 640 rows, so one split's
# comparison is noisy. --configs picks datasets by name.
#
# OUTDIR receives:
#   suite.md      the Markdown section
#   suite.json    every score, fit time and split size (suite.py's output)
#   suite-raw.md  suite.py's log, as a <details> block
#   suite.env     SUITE_FAILED (steps that failed), for run.sh to source
# It exits 0 when it could write them, whatever was measured.
#
# Knobs (environment): PEERS_PYTHON (default $PANDAS_PYTHON or
# /usr/bin/python3), needing pandas, PyYAML, scikit-learn and XGBoost
# (Debian's python3-pandas, python3-yaml, python3-sklearn, python3-xgboost,
# installed when missing and possible). PEERS_OMP_WAIT_POLICY (default
# PASSIVE): OpenMP threads sleep rather than spin while they wait, as in
# regression.sh, which on a busy shared machine keeps the peers' fit times
# honest; it does not change their scores.

set -euo pipefail

GBDT='{}'
CONFIGS=''
REPEATS=1
while [ $# -gt 1 ]; do
	case $1 in
	--gbdt) GBDT=$2; shift 2 ;;
	--configs) CONFIGS=$2; shift 2 ;;
	--repeats) REPEATS=$2; shift 2 ;;
	*) echo "usage: $0 [--gbdt JSON] [--configs a,b] [--repeats N] OUTDIR" >&2; exit 2 ;;
	esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--gbdt JSON] [--configs a,b] [--repeats N] OUTDIR" >&2; exit 2; }
mkdir -p "$1"
OUT=$(realpath "$1")
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
ROOT=$(pwd)

GO=${GO:-go}
PEERS_PYTHON=${PEERS_PYTHON:-${PANDAS_PYTHON:-/usr/bin/python3}}
PEERS_OMP_WAIT_POLICY=${PEERS_OMP_WAIT_POLICY:-PASSIVE}
LOAD_START=$(cut -d' ' -f1 /proc/loadavg)

# apt_install (lib.sh) keeps its logs in $TMP.
TMP=$OUT
APT_UPDATED=0
APT_INSTALLED=()
# shellcheck source=scripts/bench/lib.sh
source "$ROOT/scripts/bench/lib.sh"

FAILED=()
MLPIPE=bin/mlpipe
if [ ! -x "$MLPIPE" ]; then
	log "bin/mlpipe is missing: building it into $OUT"
	"$GO" build -o "$OUT/mlpipe" ./cmd/mlpipe
	MLPIPE=$OUT/mlpipe
fi

py_has() { "$PEERS_PYTHON" -c "import $1" >/dev/null 2>&1; }
missing=()
py_has pandas || missing+=(python3-pandas)
py_has yaml || missing+=(python3-yaml)
py_has sklearn || missing+=(python3-sklearn)
py_has xgboost || missing+=(python3-xgboost)
if [ "${#missing[@]}" -gt 0 ] && ! apt_install "${missing[@]}"; then
	for p in "${missing[@]}"; do apt_install "$p" || true; done
fi

ARGS=(--mlpipe "$MLPIPE" --gbdt "$GBDT" --repeats "$REPEATS" --markdown "$OUT/table.md")
[ -z "$CONFIGS" ] || ARGS+=(--configs "$CONFIGS")
SUITE_CMD="$PEERS_PYTHON scripts/bench/suite.py ${ARGS[*]}"
SUITE_OK=0
if ! py_has pandas || ! py_has yaml; then
	NOTE="not measured: $PEERS_PYTHON lacks pandas or PyYAML"
	FAILED+=("suite (python)")
else
	log "$SUITE_CMD"
	t0=$(date +%s)
	if OMP_WAIT_POLICY=$PEERS_OMP_WAIT_POLICY "$PEERS_PYTHON" scripts/bench/suite.py "${ARGS[@]}" \
		>"$OUT/suite.json" 2>"$OUT/suite.log"; then
		SUITE_OK=1
	else
		NOTE="failed: $(tail -n 1 "$OUT/suite.log")"
		FAILED+=("suite.py")
	fi
	t1=$(date +%s)
fi
LOAD_END=$(cut -d' ' -f1 /proc/loadavg)

# peer_version xgboost|hgb: the version suite.py measured.
peer_version() {
	"$PEERS_PYTHON" -c 'import json, sys
print(next((d[sys.argv[2]]["version"] for d in json.load(open(sys.argv[1]))["datasets"] if "version" in d.get(sys.argv[2], {})), "not available"))' "$OUT/suite.json" "$1"
}

{
	echo "## Example datasets: mlpipe against XGBoost and scikit-learn"
	echo
	if [ "$SUITE_OK" -eq 1 ]; then
		shown=""
		[ "$GBDT" = '{}' ] || shown=" --gbdt '$GBDT'"
		[ -z "$CONFIGS" ] || shown="$shown --configs $CONFIGS"
		echo "\`scripts/bench/suite.sh$shown --repeats $REPEATS\` ($((t1 - t0)) s, load average $LOAD_START → $LOAD_END on $(nproc) CPUs):"
		echo "each example config's main test metric (its \`selection.metric\`; ↑ higher is better, ↓ lower) for"
		echo "**mlpipe** as the config sets it up (the selected model in brackets), **gbdt** alone with"
		echo "$([ "$GBDT" = '{}' ] && echo "its defaults" || echo "\`$GBDT\`"), XGBoost $(peer_version xgboost)"
		echo "(\`tree_method=\"hist\"\`, 1,000 rounds with early stopping after 20 on the validation split) and scikit-learn"
		echo "$(peer_version hgb)'s HistGradientBoosting (defaults), fitted on the same training rows,"
		echo "split and raw inputs (numeric columns, the configured time parts, the categories as categories) in"
		echo "the same run. suite.py reads each file with pandas as the config says and applies the same split"
		echo "(the random ones with Go's PCG reimplemented); it checks every split's rows and label balance"
		echo "against mlpipe's summary, and a dataset that differs is shown as not comparable."
		[ "$REPEATS" -gt 1 ] && echo "Random-split datasets are the mean over $REPEATS split seeds (the config's and the next ones)."
		echo "The test splits are small (25 to 640 rows): a difference of a few percent on one split is within noise."
		echo
		cat "$OUT/table.md"
	else
		echo "${NOTE:-not measured}."
	fi
	echo
} >"$OUT/suite.md"
{
	echo "<details><summary>scripts/bench/suite.py log</summary>"
	echo
	echo '```text'
	cat "$OUT/suite.log" 2>/dev/null || true
	echo '```'
	echo
	echo "</details>"
} >"$OUT/suite-raw.md"
printf 'SUITE_FAILED=%q\n' "${FAILED[*]}" >"$OUT/suite.env"
cat "$OUT/suite.md" >&2
