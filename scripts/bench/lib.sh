# shellcheck shell=bash
# scripts/bench/lib.sh: helpers shared by run.sh and models.sh (sourced,
# not run). They need awk and, for apt_install, a $TMP directory for logs.

log() { printf '==> %s\n' "$*" >&2; }

# --- Small numeric helpers (awk, so the Go figures need no python) ----------

# median: the median of the numbers on stdin, one a line; fails on no input.
median() {
	sort -g | awk '{ v[NR] = $1 }
		END {
			if (NR == 0) exit 1
			if (NR % 2) printf "%.17g\n", v[(NR + 1) / 2]
			else printf "%.17g\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}
# minimum / maximum of the numbers on stdin.
minimum() { sort -g | head -n 1; }
maximum() { sort -g | tail -n 1; }

# calc EXPR: evaluate an awk arithmetic expression, e.g. calc "$a / $b".
calc() { awk "BEGIN { printf \"%.17g\n\", ($1) }"; }

# le A B: exit status 0 when A <= B (numerically).
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a <= b) }'; }

# secs S: format a duration in seconds for the report (ms below 0.1 s).
secs() { awk -v x="$1" 'BEGIN { if (x < 0.1) printf "%.1f ms", x * 1000; else printf "%.3f s", x }'; }

# num X [DECIMALS]: format a number with a fixed number of decimals.
num() { awk -v x="$1" -v d="${2:-1}" 'BEGIN { printf "%.*f", d, x }'; }

# thousands N: an integer with thousands separators (3000000 -> 3,000,000).
thousands() { awk -v x="$1" 'BEGIN { s = sprintf("%d", x); while (s ~ /[0-9][0-9][0-9][0-9]/) sub(/[0-9][0-9][0-9]($|,)/, ",&", s); print s }'; }

# bench_vals NAME UNIT FILE: every value reported with UNIT (ns/op, table-MB,
# ...) by benchmark NAME in a `go test -bench` output FILE, one a line.
bench_vals() {
	awk -v name="Benchmark$1" -v unit="$2" '
		$1 ~ ("^" name "(-[0-9]+)?$") {
			for (i = 3; i <= NF; i++) if ($i == unit) print $(i - 1)
		}' "$3"
}

# time_field FILE FIELD: from a `/usr/bin/time -v` output, "rss" gives the
# maximum resident set size in KiB, "wall" the elapsed time in seconds.
time_field() {
	awk -v want="$2" '
		want == "rss" && /Maximum resident set size/ { print $NF }
		want == "wall" && /Elapsed \(wall clock\) time/ {
			n = split($NF, p, ":"); s = 0
			for (i = 1; i <= n; i++) s = s * 60 + p[i]
			printf "%.2f\n", s
		}' "$1"
}

# kib_to_mb KIB: KiB (what GNU time reports) to MB of 10^6 bytes, the unit
# of the table-MB benchmark metric, so the two can be divided.
kib_to_mb() { calc "$1 * 1024 / 1e6"; }

# --- Optional tools via apt ----------------------------------------------------

# apt_install PKG...: install Debian packages if apt-get is usable; never
# fails the script (returns non-zero instead).
APT_UPDATED=0
APT_INSTALLED=()
apt_install() {
	# Only the packages that dpkg does not already have.
	local pkgs=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || pkgs+=("$p")
	done
	[ "${#pkgs[@]}" -gt 0 ] || return 0
	set -- "${pkgs[@]}"
	command -v apt-get >/dev/null 2>&1 || { log "apt-get not found; cannot install $*"; return 1; }
	local sudo=()
	if [ "$(id -u)" -ne 0 ]; then
		if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
			log "not root and no passwordless sudo; cannot install $*"; return 1
		fi
	fi
	if [ "$APT_UPDATED" -eq 0 ]; then
		log "apt-get update"
		timeout 600 "${sudo[@]}" apt-get update -qq >"$TMP/apt-update.log" 2>&1 || { log "apt-get update failed (see below)"; tail -n 5 "$TMP/apt-update.log" >&2; return 1; }
		APT_UPDATED=1
	fi
	log "apt-get install $*"
	if timeout 1200 "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq --no-install-recommends "$@" >"$TMP/apt-install.log" 2>&1; then
		APT_INSTALLED+=("$@")
		return 0
	fi
	log "apt-get install $* failed:"; tail -n 5 "$TMP/apt-install.log" >&2
	return 1
}

# bench_metric NAME REGEX FILE: the first value whose unit matches the
# extended regular expression REGEX (compared in lower case), on the first
# result line of benchmark NAME in FILE. Custom metrics are spelt
# differently by different packages (test-AUC, test_auc), hence a regex.
bench_metric() {
	awk -v name="Benchmark$1" -v re="$2" '
		$1 ~ ("^" name "(-[0-9]+)?$") {
			for (i = 4; i <= NF; i += 2) if (tolower($i) ~ re) { print $(i - 1); exit }
		}' "$3"
}

# or_na VALUE [FORMATTER [ARGS...]]: "FORMATTER VALUE ARGS..." (e.g.
# or_na "$x" num 3) when VALUE is not empty, else "not available". For
# report cells whose figure may be missing.
or_na() {
	local v=$1
	if [ -z "$v" ]; then echo "not available"; return 0; fi
	if [ $# -lt 2 ]; then echo "$v"; return 0; fi
	local f=$2; shift 2
	"$f" "$v" "$@"
}
