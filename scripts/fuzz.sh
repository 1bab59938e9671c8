#!/usr/bin/env bash
# fuzz.sh: build the libFuzzer harnesses (fuzz/) with clang and run each one in
# turn for FUZZ_SECONDS, then print one summary line per harness.
#
#   scripts/fuzz.sh                  all harnesses, 600 s each
#   FUZZ_SECONDS=30 scripts/fuzz.sh  a smoke run (make fuzz-smoke)
#   scripts/fuzz.sh csv config       only these (names: alphavantage csv config web_path universe)
#
# Environment: FUZZ_SECONDS (600), FUZZ_BUILD_DIR (build-fuzz), FUZZ_JOBS (2,
# for the build only: harnesses never run concurrently), QUANT_SHARED_DATA
# (../shared/data), QUANT_DEPS_DIR, FUZZ_CC (clang-14, else clang).
#
# Inputs: the regression inputs in fuzz/regressions/<name>/ are replayed first
# (a quick check that fixed bugs stay fixed); the fuzzer then starts from its
# working corpus build-fuzz/corpus/<name> (kept between runs) plus seeds made
# afresh in build-fuzz/seeds/<name>: recorded responses and price histories
# from the shared data folder, and inputs written below.
# Exit status: 0 when no harness produced a crash, leak, timeout or OOM
# artifact (or failed a regression input); 1 otherwise, naming each artifact
# and the command that reproduces it.
set -uo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
SECONDS_EACH=${FUZZ_SECONDS:-600}
SHARED=${QUANT_SHARED_DATA:-$ROOT/../shared/data}
DEPS=${QUANT_DEPS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/quant-deps}
ALL=(alphavantage csv config web_path universe)

die() { echo "fuzz: $*" >&2; exit 2; }

# ---- which harnesses, and their limits ------------------------------------
# max_len per harness: big enough for the recorded responses that matter,
# small enough to keep executions fast.
max_len_of() {
    case $1 in
        alphavantage) echo 65536 ;;
        csv) echo 16384 ;;
        config) echo 4096 ;;
        web_path) echo 1024 ;; # past api.c's 512-byte path buffer, for the 414
        universe) echo 4096 ;;
    esac
}
dict_of() {
    case $1 in web_path) echo "$ROOT/fuzz/dict/web.dict" ;; *) echo "$ROOT/fuzz/dict/$1.dict" ;; esac
}

NAMES=("$@")
[ ${#NAMES[@]} -eq 0 ] && NAMES=("${ALL[@]}")
for n in "${NAMES[@]}"; do
    [ -n "$(max_len_of "$n")" ] || die "unknown harness '$n' (known: ${ALL[*]})"
done
[[ $SECONDS_EACH =~ ^[0-9]+$ ]] && [ "$SECONDS_EACH" -gt 0 ] \
    || die "FUZZ_SECONDS must be a positive number of seconds, not '$SECONDS_EACH'"

# ---- build ------------------------------------------------------------------
CC=${FUZZ_CC:-}
if [ -z "$CC" ]; then
    if command -v clang-14 >/dev/null 2>&1; then CC=clang-14
    elif command -v clang >/dev/null 2>&1; then CC=clang
    else die "clang not found: run scripts/setup-deps.sh --fuzz (installs clang-14 and libclang-rt-14-dev)"
    fi
fi
echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { (void)d; (void)n; return 0; }' \
    | "$CC" -x c -fsanitize=fuzzer,address,undefined -o /dev/null - >/dev/null 2>&1 \
    || die "$CC cannot link a libFuzzer target: run scripts/setup-deps.sh --fuzz (libclang-rt-14-dev)"

echo "fuzz: building harnesses with $CC in $BUILD"
cmake -S "$ROOT" -B "$BUILD" -DCMAKE_C_COMPILER="$CC" -DQUANT_FUZZ=ON \
      -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_C_FLAGS_DEBUG=-O1 -g" -DQUANT_DEPS_DIR="$DEPS" \
      -Wno-dev --log-level=WARNING >/dev/null || die "cmake configure failed"
cmake --build "$BUILD" --target fuzzers -j "${FUZZ_JOBS:-2}" >"$BUILD/fuzz-build.log" 2>&1 \
    || { tail -n 40 "$BUILD/fuzz-build.log" >&2; die "build failed (log: $BUILD/fuzz-build.log)"; }

# ---- seeds ------------------------------------------------------------------
# seed NAME FILE: stdin becomes seed FILE of harness NAME.
seed() { cat >"$BUILD/seeds/$1/$2"; }

# copy_head NAME SRC LINES: the first LINES lines of SRC (a CSV stays valid).
copy_head() { head -n "$3" "$2" >"$BUILD/seeds/$1/$(basename "$2").head$3"; }

seed_alphavantage() {
    local f max; max=$(max_len_of alphavantage)
    for f in "$SHARED"/alphavantage/*.json "$SHARED"/alphavantage/*.csv \
             "$SHARED"/alphavantage/transcribed/*; do
        [ -f "$f" ] || continue
        if [ "$(stat -c %s "$f")" -le "$max" ]; then cp "$f" "$BUILD/seeds/alphavantage/"
        elif [[ $f == *.csv ]]; then copy_head alphavantage "$f" 60
        fi # a cut JSON body is just malformed; the small ones below cover those shapes
    done
    seed alphavantage daily.json <<'EOF'
{"Meta Data": {"1. Information": "Daily Prices", "2. Symbol": "ibm"},
 "Time Series (Daily)": {
  "2024-01-03": {"1. open": "10.5", "2. high": "11", "3. low": "10", "4. close": "10.9", "5. volume": "1200"},
  "2024-01-02": {"1. open": "10", "2. high": "10.6", "3. low": "9.9", "4. close": "10.5", "5. volume": "1000"}}}
EOF
    seed alphavantage daily_adjusted.json <<'EOF'
{"Meta Data": {"2. Symbol": "BRK.B"}, "Time Series (Daily)": {"2024-02-29": {"1. open": "217.89",
 "2. high": "219.59", "3. low": "214.75", "4. close": "217.4", "5. adjusted close": "217.4",
 "6. volume": "3654799", "7. dividend amount": "1.6700", "8. split coefficient": "2.0"}}}
EOF
    seed alphavantage weekly.json <<'EOF'
{"Meta Data": {"2. Symbol": "IBM"}, "Weekly Time Series": {"2020-07-10": {"1. open": "1"}}}
EOF
    seed alphavantage info_daily.json <<'EOF'
{"Information": "We have detected your API key as ABCDEF123 and our standard API rate limit is 25 requests per day."}
EOF
    seed alphavantage info_burst.json <<'EOF'
{"Information": "Please consider spreading out your free API requests more sparingly (1 request per second)."}
EOF
    seed alphavantage info_premium.json <<'EOF'
{"Information": "Thank you for using Alpha Vantage! This is a premium endpoint."}
EOF
    seed alphavantage note.json <<'EOF'
{"Note": "Our standard API call frequency is 5 calls per minute and 500 calls per day."}
EOF
    seed alphavantage error.json <<'EOF'
{"Error Message": "Invalid API call. Please retry or visit the documentation for TIME_SERIES_DAILY."}
EOF
    seed alphavantage search.json <<'EOF'
{"bestMatches": [{"1. symbol": "TSCO.LON", "2. name": "Tesco PLC", "3. type": "Equity",
 "4. region": "United Kingdom", "8. currency": "GBX", "9. matchScore": "0.7273"},
 {"1. symbol": "bad symbol!", "2. name": "None"}]}
EOF
    seed alphavantage search.csv <<'EOF'
symbol,name,type,region,marketOpen,marketClose,timezone,currency,matchScore
TSCO.LON,"Tesco, PLC",Equity,United Kingdom,08:00,16:30,UTC+01,GBX,0.7273
EOF
    seed alphavantage overview.json <<'EOF'
{"Symbol": "IBM", "Name": "International Business Machines", "AssetType": "Common Stock",
 "Country": "USA", "Exchange": "NYSE", "Currency": "USD", "Sector": "None", "Industry": "IT"}
EOF
    printf '{}' | seed alphavantage overview_empty.json
    printf 'timestamp,open,high,low,close,volume\r\n2024-01-03,10.5,11,10,10.9,1200\r\n2024-01-02,10,10.6,9.9,10.5,1000\r\n' \
        | seed alphavantage daily_crlf.csv
    printf 'timestamp,open,high,low,close,volume\n2024-01-02 09:30:00,10,10.6,9.9,10.5,1000\n' \
        | seed alphavantage intraday.csv
    printf '<html><body>502 Bad Gateway</body></html>' | seed alphavantage proxy.html
    printf '\xef\xbb\xbf  \n' | seed alphavantage blank
}

seed_csv() {
    local f
    for f in "$SHARED"/ohlcv/*.csv "$SHARED"/alphavantage/*.csv; do
        [ -f "$f" ] || continue
        copy_head csv "$f" 40
        { head -n 1 "$f"; tail -n 20 "$f"; } >"$BUILD/seeds/csv/$(basename "$f").tail20"
    done
    seed csv stooq_bulk.txt <<'EOF'
<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>
AAPL.US,D,20240102,000000,187.15,188.44,183.885,185.64,82488700,0
AAPL.US,D,20240103,000000,184.22,185.88,183.43,184.25,58414500,0
MSFT.US,5,20240103,093000,370,371,369,370.5,1000,0
EOF
    printf 'Date,Open,High,Low,Close,Volume,OpenInt\r\n2024-01-02,10,11,9,10.5,1000,0\r\n2024-01-03,10.5,11,10,10.9,1200,0\r\n' \
        | seed csv stooq_crlf.csv
    seed csv long.csv <<'EOF'
symbol,date,open,high,low,close,volume
aapl,2024-01-03,10.5,11,10,10.9,1200
AAPL,2024-01-02,10,11,9,10.5,1000
AAPL,2024-01-02,10,11,9,10.6,1000
MSFT,2024-01-02 00:00:00,300,310,299,305,5000
bad sym,2024-01-02,1,1,1,1,1
MSFT,2024-01-03,null,null,null,null,null
EOF
    seed csv pandas.csv <<'EOF'
,date,open,high,low,close,volume
0,1999-11-01,136.5,137,135.56,135.56,4006500.0
1,1999-11-02,135.97,137.25,134.59,134.59,6516900.0
EOF
    seed csv yfinance.csv <<'EOF'
Date,Open,High,Low,Close,Volume,Dividends,Stock Splits,Capital Gains
1993-01-29 00:00:00-05:00,24.7,24.7,24.58,24.68,1003200,0.0,0.0,0.0
1993-02-01 00:00:00-05:00,24.7,24.86,24.7,24.86,480500,0.0,2.0,0.0
EOF
    printf '\xef\xbb\xbfDate,Open,High,Low,Close,Adj Close,Volume\n1981-08-10,null,null,null,null,null,null\n2024-02-29,"1.5","2",1,1.75,1.75,"100"\n2024-02-30,1,1,1,1,1,1\n' \
        | seed csv yahoo_bom.csv
    seed csv time_first.csv <<'EOF'
time,date,open,high,low,close,volume
093000,2024-01-02,1,2,0.5,1.5,10
EOF
    seed csv numbers.csv <<'EOF'
Date,Open,High,Low,Close,Volume
2024-01-02,1234567890123456789,9007199254740993,0.0000000000000000000001,1e-400,1e308
2024-01-03,+.5,-0.0,00000000000000000001.5,  7.25  ,"12"
EOF
}

seed_config() {
    seed config full.conf <<'EOF'
# quant.conf: one `key = value` per line
duckdb_path = /data/quant.duckdb
sqlite_path = "/data/meta with spaces.sqlite"
alphavantage_api_key = ABCDEFGHIJKLMNOP
alphavantage_url = http://127.0.0.1:8080/query
requests_per_minute = 75
daily_budget = 500
http_timeout_ms = 5000
http_retries = 0
threads = 4
memory_limit = 1GB
EOF
    printf 'QUANT_THREADS=8\r\n\r\n  # comment\r\nALPHAVANTAGE_API_KEY = "short"\r\nthreads = 2\r\n' \
        | seed config env_names_crlf.conf
    printf 'threads = x\nhttp_backoff_ms = -1\nlock_timeout_ms = 99999999999999999999\n' \
        | seed config bad_numbers.conf
    printf 'home = /elsewhere\n' | seed config home.conf
    printf 'no equals sign here\n' | seed config malformed.conf
    printf 'thread = 2\n' | seed config unknown_key.conf
    printf 'models_dir = ""\nalphavantage_api_key = "\n' | seed config quotes.conf
    printf '' | seed config empty.conf
}

seed_web_path() {
    local p i=0
    for p in / /index.html /symbol.html /models.html /evaluation.html /app.js /evaluation.js /style.css \
             /vendor/lightweight-charts.standalone.production.js \
             /api/status /api/models /api/symbols/AAPL/bars /api/symbols/brk.b/predictions \
             /api/evaluations /api/evaluations/ev_20260101_000000 /api/evaluations/a/b \
             '/api/symbols/AAPL/bars?from=2020-01-01&to=2020-12-31' '/index.html#top' \
             /api/symbols//bars /api/symbols/AAPL /api/symbols/%41APL/bars \
             /api/symbols/TOO_LONG_SYMBOL_NAME_THAT_GOES_PAST_32/bars \
             /../etc/passwd /%2e%2e/etc/passwd /%2E%2e%2Fetc/passwd /a/..%2f/b /./index.html \
             '/api/symbols/..%5c../bars' /%00 /%zz /% '/a\b' 'index.html' /api /api/ \
             '/%2e' '/x/%2E%2E' '/%252e%252e/'; do
        printf '%s' "$p" >"$BUILD/seeds/web_path/path$((i++))"
    done
    printf '/%0600d' 0 >"$BUILD/seeds/web_path/long"
}

seed_universe() {
    printf '# SYMBOL<TAB>START<TAB>END\nAAPL\t1990-01-02\t2020-12-11\nMSFT\t1990-01-02\t1999-12-31\nMSFT\t2000-01-01\t2010-06-30\n' \
        | seed universe qlib.txt
    printf '\xef\xbb\xbfaapl  2001-01-01  2001-12-31\r\nAAPL\t2001-06-01\t2002-01-31\r\n\r\nbrk.b\t2005-02-28\t2005-02-28\r\n' \
        | seed universe merged_crlf.txt
    printf 'SYMBOL\tSTART\tEND\nAAPL,1990-01-02,2020-12-11\nX\t2020-01-02\t2019-01-01\n' \
        | seed universe bad.txt
}

make_seeds() {
    rm -rf "$BUILD/seeds/$1"
    mkdir -p "$BUILD/seeds/$1"
    "seed_$1"
}

# ---- run ----------------------------------------------------------------------
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1}
[ -d "$SHARED" ] || echo "fuzz: no shared data at $SHARED (set QUANT_SHARED_DATA); using project seeds only"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
FAILED=0
SUMMARY=()

# Replay fuzz/regressions/<name>/*: every input once; any crash fails the run.
replay_regressions() {
    local name=$1 exe=$2 dir="$ROOT/fuzz/regressions/$1" files
    files=("$dir"/*)
    [ -f "${files[0]}" ] || return 0
    if "$exe" "${files[@]}" >"$BUILD/logs/$name.regressions.log" 2>&1; then
        echo "fuzz: $name: ${#files[@]} regression input(s) pass"
    else
        FAILED=1
        echo "fuzz: $name: a regression input in $dir fails again:" >&2
        grep -E 'Running:|ERROR|invariant|runtime error' "$BUILD/logs/$name.regressions.log" | head -n 10 >&2
        echo "  log: $BUILD/logs/$name.regressions.log; reproduce: $exe $dir/<file>" >&2
    fi
}

# Keep build-fuzz/corpus/<name> minimal: a merge into a fresh folder keeps one
# input per new coverage feature, seeds that still matter included, so the
# next run starts where this one stopped without replaying redundant inputs.
minimise_corpus() {
    local name=$1 exe=$2 corpus="$BUILD/corpus/$1"
    rm -rf "$corpus.merge"
    mkdir -p "$corpus.merge"
    if "$exe" -merge=1 -max_len="$(max_len_of "$name")" -timeout=25 -rss_limit_mb=2048 \
           "$corpus.merge" "$corpus" "$BUILD/seeds/$name" >"$BUILD/logs/$name.merge.log" 2>&1; then
        rm -rf "$corpus"
        mv "$corpus.merge" "$corpus"
    else
        rm -rf "$corpus.merge"
        echo "fuzz: $name: corpus merge failed (log: $BUILD/logs/$name.merge.log); corpus kept as is" >&2
    fi
}

run_one() {
    local name=$1 exe="$BUILD/fuzz/fuzz_$1" corpus="$BUILD/corpus/$1"
    local artifacts="$BUILD/artifacts/$STAMP/$1/" log="$BUILD/logs/$1.log"
    mkdir -p "$corpus" "$artifacts" "$BUILD/logs"
    make_seeds "$name"
    replay_regressions "$name" "$exe"
    echo "fuzz: $name: ${SECONDS_EACH} s (log: $log)"
    local t0=$SECONDS
    # -timeout: an input taking 25 s is a hang, not a slow parse.
    "$exe" -max_total_time="$SECONDS_EACH" -print_final_stats=1 -max_len="$(max_len_of "$name")" \
           -dict="$(dict_of "$name")" -timeout=25 -rss_limit_mb=2048 \
           -artifact_prefix="$artifacts" "$corpus" "$BUILD/seeds/$name" >"$log" 2>&1
    local rc=$? secs=$((SECONDS - t0))
    [ "$rc" -eq 0 ] && minimise_corpus "$name" "$exe"
    local execs rate cov ncorpus found
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    execs=${execs:-0}
    rate=$((secs > 0 ? execs / secs : execs))
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    ncorpus=$(find "$corpus" -type f | wc -l)
    found=$(find "$artifacts" -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
                 -o -name 'oom-*' \) | sort)
    SUMMARY+=("$(printf '%-13s %5d s  %12d execs  %8d exec/s  corpus %6d  cov %6s  crashes %d' \
        "$name" "$secs" "$execs" "$rate" "$ncorpus" "${cov:-?}" "$(echo -n "$found" | grep -c .)")")
    if [ -n "$found" ] || [ "$rc" -ne 0 ]; then
        FAILED=1
        echo "fuzz: $name stopped with status $rc; the end of its log:" >&2
        grep -E 'ERROR|invariant|runtime error|SUMMARY|#[0-9]+ *in ' "$log" | head -n 25 >&2
        local a
        for a in $found; do
            echo "  artifact: $a" >&2
            echo "  reproduce: $exe $a" >&2
        done
    fi
}

for n in "${NAMES[@]}"; do
    run_one "$n"
done

echo
echo "fuzz summary (${SECONDS_EACH} s per harness; corpora in $BUILD/corpus):"
printf '  %s\n' "${SUMMARY[@]}"
if [ "$FAILED" -ne 0 ]; then
    echo "fuzz: FAILED: see the artifacts and logs above" >&2
    exit 1
fi
echo "fuzz: no crashes, leaks or timeouts"
