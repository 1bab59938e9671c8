#!/usr/bin/env bash
# run.sh OFFSET TEST_BIN...: run test binaries with the clock moved by OFFSET
# (faketime's relative form: +150d, -150d), as ctest's time/* tests do.
#
# Why: the synthetic market ends on today's UTC date, ingest runs and the
# request ledger are stamped with the clock, and staleness is judged against
# it.  A test that bakes in a date the calendar moves passes today and fails
# next month; running these binaries months ahead and months back catches it
# the day it is written, not the day it breaks.
#
# Needs Debian's faketime (scripts/setup-deps.sh installs it).  Where it is
# missing the test reports SKIPPED (77) with the reason; under CI it fails.
set -euo pipefail
offset=$1
shift
lib=
for cand in /usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1 \
            /usr/lib/*/faketime/libfaketime.so.1; do
    [ -e "$cand" ] && { lib=$cand; break; }
done
if [ -z "$lib" ]; then
    echo "time test: libfaketime is not installed (apt-get install faketime); run scripts/setup-deps.sh"
    case ${CI:-} in  # a true value, as tests/support/test_util.c's tu_under_ci() reads it
        [Tt][Rr][Uu][Ee] | 1 | [Yy][Ee][Ss]) echo "under CI=$CI: CI must have it, so this fails"; exit 1 ;;
    esac
    exit 77
fi
# The preload reaches every child too (the tests fork the real quant binary).
# The sanitizer runtime must otherwise be first in the library list: the
# check is relaxed here because libfaketime only wraps clock calls.
export LD_PRELOAD=$lib FAKETIME=$offset FAKETIME_DONT_FAKE_MONOTONIC=1
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0
echo "clock moved by $offset: now $(date -u +%F)"
status=0
for bin in "$@"; do
    echo "== $(basename "$bin") (clock $offset)"
    "$bin" || { echo "FAILED under faketime $offset: $(basename "$bin")"; status=1; }
done
exit $status
