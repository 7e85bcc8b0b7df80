#!/usr/bin/env bash
# scripts/weed.sh: make sure the SeaweedFS server binary (`weed`) that the
# S3 tests start is in the cache, building it from the Go module proxy if
# it is missing (about 6 CPU-minutes, a 233 MB binary kept outside the
# repository). Prints its path.
#
#   scripts/weed.sh            build if missing, print the path
#   scripts/weed.sh --path     print the path only (built or not)
#
# SeaweedFS's go.mod has a replace directive, so `go install` refuses it;
# a small wrapper module with the same replace builds it. The version is
# pinned here and in internal/s3test (Version); change both together.
set -euo pipefail
WEED_VERSION=v0.0.0-20261109003541-7506e5f91cd6
cache="${XDG_CACHE_HOME:-$HOME/.cache}/mlpipe/weed/$WEED_VERSION"
bin="$cache/weed"
if [ "${1:-}" = "--path" ]; then echo "$bin"; exit 0; fi
if [ -x "$bin" ]; then echo "$bin"; exit 0; fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/.build-XXXXXX")
trap 'rm -rf "$work"' EXIT
cat >"$work/go.mod" <<MOD
module weedbuild

go 1.26.8

require github.com/seaweedfs/seaweedfs $WEED_VERSION

replace github.com/tyler-smith/go-bip39 => github.com/cosmos/go-bip39 v1.0.0
MOD
cat >"$work/tools.go" <<'GO'
//go:build tools

package weedbuild

import _ "github.com/seaweedfs/seaweedfs/weed"
GO
echo "weed.sh: building SeaweedFS $WEED_VERSION into $bin (about 6 CPU-minutes)" >&2
(cd "$work" && GOFLAGS=-mod=mod go mod tidy >&2 && CGO_ENABLED=0 go build -trimpath -o weed.new github.com/seaweedfs/seaweedfs/weed >&2)
mv "$work/weed.new" "$bin"
echo "$bin"
