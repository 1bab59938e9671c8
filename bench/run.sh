#!/usr/bin/env bash
# bench/run.sh BUILD_DIR: run every benchmark built in BUILD_DIR with its
# default (issue-sized) parameters.  Figures go to stdout; nothing is kept.
# bench_duckdb_bulk is a helper of bench/pipeline.py (make bench-pipeline), and
# bench_test_* are the test suite's own programs (tests/bench/): neither runs here.
set -euo pipefail
build=${1:-build}
for b in "$build"/bench_*; do
    [ -x "$b" ] || continue
    case $(basename "$b") in bench_duckdb_bulk | bench_test_*) continue ;; esac
    echo "== $(basename "$b")"
    "$b"
done
