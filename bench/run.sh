#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: run every benchmark built in BUILD_DIR with its
# default (issue-sized) parameters.  Figures go to stdout; nothing is kept.
set -euo pipefail
build=${1:-build}
for b in "$build"/bench_*; do
    [ -x "$b" ] || continue
    echo "== $(basename "$b")"
    "$b"
done
