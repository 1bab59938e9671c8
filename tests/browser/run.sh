#!/usr/bin/env bash
# run.sh QUANT_BIN LOCK_HOLDER: the dashboard browser test, as ctest runs it.
#
# Needs Debian's chromium and playwright-core (npm ci in this folder); both
# come from `scripts/setup-deps.sh --browser`, which `make test` runs.  On a
# machine without them the test is reported as skipped (exit 77) with the
# reason, never as passed; under CI a missing part is a failure instead.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
chromium=${CHROMIUM:-/usr/bin/chromium}

missing=
command -v node >/dev/null 2>&1 || missing="node is not installed"
[ -n "$missing" ] || [ -x "$chromium" ] || missing="$chromium is not installed (apt-get install chromium)"
[ -n "$missing" ] || [ -d "$here/node_modules/playwright-core" ] \
    || missing="playwright-core is not installed (cd tests/browser && npm ci)"
if [ -n "$missing" ]; then
    echo "browser test: $missing; run scripts/setup-deps.sh --browser"
    case ${CI:-} in  # a true value, as tests/support/test_util.c's tu_under_ci() reads it
        [Tt][Rr][Uu][Ee] | 1 | [Yy][Ee][Ss]) echo "under CI=$CI: CI must have it, so this fails"; exit 1 ;;
    esac
    exit 77
fi

export QUANT_BIN=$1 LOCK_HOLDER=$2 CHROMIUM=$chromium
cd "$here"
exec node --test --test-reporter=spec dashboard.test.mjs
