#!/usr/bin/env bash
# Runs every fuzz target briefly (FUZZTIME, default 20000 inputs each). The
# committed corpora under testdata/fuzz already run as ordinary tests in
# `go test`; this looks for new failures. The default is a count, not a
# duration: a -fuzztime deadline can expire while a worker runs and be
# reported as a failure with no failing input. For a longer hunt:
#   FUZZTIME=10m .ci/fuzz.sh ./internal/oauth/...
set -euo pipefail
cd "$(dirname "$0")/.."
fuzztime=${FUZZTIME:-20000x}
pkgs=("$@")
((${#pkgs[@]})) || pkgs=(./...)
for pkg in $(go list "${pkgs[@]}"); do
	for target in $(go test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		printf 'fuzz: %s %s (%s)\n' "$pkg" "$target" "$fuzztime"
		go test "$pkg" -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" >/tmp/fuzz-$$.log 2>&1 || {
			cat /tmp/fuzz-$$.log
			echo "fuzz: $target failed; the failing input is under $pkg's testdata/fuzz/$target" >&2
			rm -f /tmp/fuzz-$$.log
			exit 1
		}
	done
done
rm -f /tmp/fuzz-$$.log
