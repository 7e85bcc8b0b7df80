#!/usr/bin/env bash
# scripts/bench/lightgbm.sh: make sure LightGBM's Python package, with its
# library built from source, is in the cache, and print the directory to
# put on PYTHONPATH. gbdt.sh measures it beside XGBoost as a reference.
#
#   scripts/bench/lightgbm.sh          build if missing, print the path
#   scripts/bench/lightgbm.sh --path   print the path only (built or not)
#
# Debian has no LightGBM, and this machine reaches no Git host; the npm
# package "lightgbm" (a Node binding, pinned below) carries LightGBM's
# whole source tree with its submodules (Eigen, fmt, fast_double_parser)
# in dependencies/LightGBM, so npm is where the sources come from. The
# library is built with CMake (Debian's cmake, installed when missing) and
# g++, about 6 CPU-minutes, and copied next to the Python package, where
# lightgbm/libpath.py looks for it. Its Python dependencies are Debian's
# python3-numpy and python3-scipy.
set -euo pipefail
NPM_PACKAGE=lightgbm@1.0.27 # LightGBM 4.1.0.99 (its VERSION.txt)
cache="${XDG_CACHE_HOME:-$HOME/.cache}/mlpipe/lightgbm/$NPM_PACKAGE"
pkg="$cache/python-package"
if [ "${1:-}" = "--path" ]; then echo "$pkg"; exit 0; fi
if [ -f "$pkg/lightgbm/lib/lib_lightgbm.so" ]; then echo "$pkg"; exit 0; fi

for tool in npm cmake g++; do
	command -v "$tool" >/dev/null 2>&1 && continue
	case $tool in
	cmake) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends cmake >&2 ;;
	*) echo "lightgbm.sh: $tool is missing" >&2; exit 1 ;;
	esac
done
mkdir -p "$cache"
work=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "lightgbm.sh: building LightGBM from npm's $NPM_PACKAGE into $pkg (about 6 CPU-minutes)" >&2
(cd "$work" && npm pack --silent "$NPM_PACKAGE" >&2 && tar xzf lightgbm-*.tgz)
src="$work/package/dependencies/LightGBM"
cmake -S "$src" -B "$src/build" -DCMAKE_BUILD_TYPE=Release >&2
cmake --build "$src/build" --target _lightgbm -j "$(nproc)" >&2
cp "$src/lib_lightgbm.so" "$src/python-package/lightgbm/"
cp "$src/VERSION.txt" "$src/python-package/"
rm -rf "$pkg.new" && cp -r "$src/python-package" "$pkg.new" && mkdir -p "$pkg.new/lightgbm/lib"
mv "$pkg.new/lightgbm/lib_lightgbm.so" "$pkg.new/lightgbm/lib/"
mv "$pkg.new" "$pkg"
echo "$pkg"
