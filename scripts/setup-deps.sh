#!/usr/bin/env bash
# setup-deps.sh: install everything quant needs to build and test, idempotently.
#
# Debian packages come from apt (XGBoost included); DuckDB's C library and header
# come from the npm registry (the only other registry this project may use), pinned
# by version and checked against sha256 sums before anything is unpacked.  LightGBM
# is not packaged by Debian: the npm package lightgbm@1.0.27 ships its full source,
# which is built once (a few minutes on 2 cores) into the same cache.  Unpacked artefacts live
# in a cache outside the clone (QUANT_DEPS_DIR, default ~/.cache/quant-deps) so a
# second run, a fresh clone, or CI on the same machine takes seconds.
#
# Prints nothing on a warm run except the final "deps ready" line.
#
#   scripts/setup-deps.sh            what building and the C test suite need
#   scripts/setup-deps.sh --browser  also Debian's chromium and playwright-core
#                                    (tests/browser), for the dashboard test
#   scripts/setup-deps.sh --fuzz     also clang 14 and its libFuzzer/sanitizer
#                                    runtimes, for scripts/fuzz.sh (make fuzz)
set -euo pipefail

WANT_BROWSER=0
WANT_FUZZ=0
for arg in "$@"; do
    case $arg in
        --browser) WANT_BROWSER=1 ;;
        --fuzz) WANT_FUZZ=1 ;;
        *) echo "setup-deps: unknown option $arg (known: --browser, --fuzz)" >&2; exit 2 ;;
    esac
done

DEPS_DIR="${QUANT_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quant-deps}"

DUCKDB_VERSION=1.4.4
DUCKDB_BINDINGS_PKG="@duckdb/node-bindings-linux-x64@1.4.4-r.4"
DUCKDB_BINDINGS_SHA256=732fac4dc6b8f198870b9c4bb6ddf13544466daca00ad28ba2f1d80de5d7aa4b
DUCKDB_HEADER_PKG="duckdb@1.4.4"
DUCKDB_HEADER_SHA256=5bb967dcbcd517670ba5f169f238fb9d6787e53752c60ebe24386169d76941ed

# LightGBM's C API as built from the source inside an npm package (VERSION.txt of
# that source says 4.1.0.99: the 4.1 release plus a few upstream commits).
LIGHTGBM_VERSION=4.1.0.99
LIGHTGBM_SRC_PKG="lightgbm@1.0.27"
LIGHTGBM_SRC_SHA256=ff79edc14ccd3528c6be2e63600693fb09f20ff561908b448cb4ada282830954

# The dashboard's chart library (one standalone JS file, embedded into quant at build time).
LWCHARTS_VERSION=5.2.1
LWCHARTS_PKG="lightweight-charts@5.2.1"
LWCHARTS_SHA256=64310292298df4dd527494865e5d91d447f8bb397b68de3912c2a6465025ee5e

# python3-pandas, -xgboost, -sklearn: the pandas peer (../shared/peer) that
# bench/pipeline.py measures quant against; its smoke test runs in the suite.
# libpq-dev: the PostgreSQL metadata store (meta_url = postgresql://...);
# postgresql-15: initdb/pg_ctl for the throwaway clusters its tests start
# (tests/support/pg_cluster.h), and the postgres user they run as under root.
APT_PACKAGES=(build-essential cmake pkg-config ca-certificates
              libcurl4-openssl-dev libsqlite3-dev libcjson-dev libcmocka-dev
              libxgboost-dev libcivetweb-dev libpq-dev postgresql-15 valgrind faketime
              python3-pandas python3-xgboost python3-sklearn)
[ "$WANT_BROWSER" -eq 1 ] && APT_PACKAGES+=(chromium)
[ "$WANT_FUZZ" -eq 1 ] && APT_PACKAGES+=(clang-14 libclang-rt-14-dev)

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

install_apt() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
            || missing+=("$p")
    done
    command -v npm >/dev/null 2>&1 || missing+=(npm)
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "setup-deps: installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
}

# fetch_npm PKG SHA256 OUTDIR: npm pack PKG into OUTDIR and verify its sha256.
fetch_npm() {
    local pkg=$1 sum=$2 out=$3 tgz
    mkdir -p "$out"
    tgz=$(cd "$out" && npm pack --silent "$pkg" 2>/dev/null | tail -n 1)
    if ! echo "$sum  $out/$tgz" | sha256sum -c --status; then
        echo "setup-deps: sha256 mismatch for $pkg ($out/$tgz); refusing to use it" >&2
        exit 1
    fi
    echo "$out/$tgz"
}

install_duckdb() {
    local dir="$DEPS_DIR/duckdb-$DUCKDB_VERSION"
    if [ -f "$dir/lib/libduckdb.so" ] && [ -f "$dir/include/duckdb.h" ]; then
        return 0
    fi
    echo "setup-deps: fetching DuckDB $DUCKDB_VERSION from the npm registry"
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "${tmp:-}"; trap - RETURN' RETURN
    local bindings header
    bindings=$(fetch_npm "$DUCKDB_BINDINGS_PKG" "$DUCKDB_BINDINGS_SHA256" "$tmp")
    header=$(fetch_npm "$DUCKDB_HEADER_PKG" "$DUCKDB_HEADER_SHA256" "$tmp")
    mkdir -p "$tmp/x" "$dir.part/lib" "$dir.part/include"
    # The tarball entries are dated 1985: -m stamps them now so make is not confused.
    tar -xzmf "$bindings" -C "$tmp/x" package/libduckdb.so
    tar -xzmf "$header" -C "$tmp/x" package/src/duckdb/src/include/duckdb.h
    mv "$tmp/x/package/libduckdb.so" "$dir.part/lib/"
    mv "$tmp/x/package/src/duckdb/src/include/duckdb.h" "$dir.part/include/"
    rm -rf "$dir"
    mv "$dir.part" "$dir"   # atomic: a half-finished run never looks complete
}

build_lightgbm() {
    local dir=$1 tmp
    echo "setup-deps: building LightGBM $LIGHTGBM_VERSION from $LIGHTGBM_SRC_PKG (2-3 minutes on 2 cores, once)"
    tmp=$(mktemp -d)
    trap 'rm -rf "${tmp:-}"; trap - RETURN' RETURN
    local tgz src="$tmp/package/dependencies/LightGBM" t0=$SECONDS
    tgz=$(fetch_npm "$LIGHTGBM_SRC_PKG" "$LIGHTGBM_SRC_SHA256" "$tmp")
    tar -xzmf "$tgz" -C "$tmp" package/dependencies/LightGBM
    cmake -S "$src" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Release -DBUILD_CLI=OFF \
          -DINSTALL_HEADERS=OFF -Wno-dev --log-level=WARNING >/dev/null
    cmake --build "$tmp/build" --target _lightgbm -j "$(nproc 2>/dev/null || echo 2)" >"$tmp/build.log" 2>&1 \
        || { tail -n 40 "$tmp/build.log" >&2; echo "setup-deps: LightGBM build failed" >&2; exit 1; }
    rm -rf "$dir.part"
    mkdir -p "$dir.part/lib" "$dir.part/include/LightGBM"
    # LightGBM's CMake writes the library into its source directory.
    cp "$src/lib_lightgbm.so" "$dir.part/lib/"
    cp "$src/include/LightGBM/c_api.h" "$src/include/LightGBM/export.h" "$dir.part/include/LightGBM/"
    rm -rf "$dir"
    mv "$dir.part" "$dir"   # atomic: a half-finished build never looks complete
    echo "setup-deps: LightGBM built in $((SECONDS - t0)) s"
}

install_lightgbm() {
    local dir="$DEPS_DIR/lightgbm-$LIGHTGBM_VERSION"
    if [ -f "$dir/lib/lib_lightgbm.so" ] && [ -f "$dir/include/LightGBM/c_api.h" ]; then
        return 0
    fi
    # Several builds (make, make test, other clones) may start at once: one builds,
    # the others wait for it and then find the library in place.
    mkdir -p "$DEPS_DIR"
    exec 9>"$DEPS_DIR/.lightgbm-$LIGHTGBM_VERSION.lock"
    flock 9
    if [ ! -f "$dir/lib/lib_lightgbm.so" ] || [ ! -f "$dir/include/LightGBM/c_api.h" ]; then
        build_lightgbm "$dir"
    fi
    flock -u 9
    exec 9>&-
}

install_lwcharts() {
    local dir="$DEPS_DIR/lightweight-charts-$LWCHARTS_VERSION"
    local js=lightweight-charts.standalone.production.js
    [ -f "$dir/$js" ] && return 0
    echo "setup-deps: fetching $LWCHARTS_PKG from the npm registry"
    local tmp; tmp=$(mktemp -d)
    trap 'rm -rf "${tmp:-}"; trap - RETURN' RETURN
    local tgz
    tgz=$(fetch_npm "$LWCHARTS_PKG" "$LWCHARTS_SHA256" "$tmp")
    rm -rf "$dir.part"
    mkdir -p "$tmp/x" "$dir.part"
    tar -xzmf "$tgz" -C "$tmp/x" "package/dist/$js"
    mv "$tmp/x/package/dist/$js" "$dir.part/"
    rm -rf "$dir"
    mv "$dir.part" "$dir"   # atomic: a half-finished run never looks complete
}

# playwright-core for tests/browser, exactly as package-lock.json pins it; a
# stamp of the lock file's hash makes the warm run a no-op.  It never
# downloads a browser: the test drives Debian's /usr/bin/chromium.
install_browser_test_deps() {
    local dir; dir="$(cd "$(dirname "$0")/.." && pwd)/tests/browser"
    local want; want=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
    [ "$(cat "$dir/node_modules/.quant-lock-sha256" 2>/dev/null)" = "$want" ] && return 0
    echo "setup-deps: installing tests/browser's npm packages (playwright-core)"
    (cd "$dir" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --silent --no-audit --no-fund >/dev/null)
    echo "$want" >"$dir/node_modules/.quant-lock-sha256"
}

install_apt
[ "$WANT_BROWSER" -eq 1 ] && install_browser_test_deps
install_duckdb
install_lightgbm
install_lwcharts
echo "setup-deps: deps ready in $DEPS_DIR"
