#!/usr/bin/env bash
# scripts/test-deps.sh: install the Debian packages that `make test` needs
# beyond Go and gcc, when they are missing and apt-get can be used (as
# root, or with passwordless sudo):
#   prometheus  a real Prometheus server scrapes mlserve (cmd/mlserve)
#   chromium    the dashboard is checked in headless Chromium (cmd/mlpipe)
# Without them those two tests fail and say what to install.
set -euo pipefail
missing=()
for p in prometheus chromium; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ "${#missing[@]}" -gt 0 ] || exit 0
if ! command -v apt-get >/dev/null 2>&1; then
	echo "test-deps: apt-get not found; install ${missing[*]} yourself" >&2
	exit 0
fi
sudo=()
if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo=(sudo -n); else
		echo "test-deps: not root and no passwordless sudo; install ${missing[*]} yourself" >&2
		exit 0
	fi
fi
echo "test-deps: apt-get install ${missing[*]}"
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
