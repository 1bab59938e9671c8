# Thin wrapper over CMake.  Every target first runs scripts/setup-deps.sh,
# which installs what is missing and returns in well under a second when
# everything is already there.
#
#   make          build build/quant (warnings are errors)
#   make test     build, then run the whole test suite under ASan + UBSan
#   make test-faketime  the same suite with the clock moved by SHIFT (+150d)
#   make demo     build, then run the demo pipeline into ./.quant
#   make bench    build, then run the benchmarks in bench/
#   make bench-pipeline  build, then bench/pipeline.py: every stage through the
#                 binary beside the pandas peer and DuckDB (PIPELINE_ARGS="--reps 1")
#   make bench-evaluation  build, then bench/evaluation.py: walk-forward and evaluate
#                 beside a pandas signal analysis (issue 13)
#   make valgrind the demo pipeline under valgrind (memory errors, leaks)
MAKEFLAGS  += --no-print-directory
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
BUILD_DIR  ?= build
ASAN_DIR   ?= build-asan
export QUANT_DEPS_DIR ?= $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/quant-deps

CMAKE_CONFIGURE = cmake -S . -DQUANT_DEPS_DIR=$(QUANT_DEPS_DIR) -Wno-dev --log-level=WARNING

.PHONY: all deps deps-browser build build-asan test test-fast test-faketime valgrind demo bench bench-pipeline bench-evaluation clean fuzz fuzz-smoke

all: build

deps:
	@scripts/setup-deps.sh

# The browser test's parts (chromium, playwright-core): only the tests need them.
deps-browser:
	@scripts/setup-deps.sh --browser

build: deps
	@$(CMAKE_CONFIGURE) -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD_DIR) -j $(JOBS)

build-asan: deps
	@$(CMAKE_CONFIGURE) -B $(ASAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DQUANT_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_DIR) -j $(JOBS)

# The suite runs under the sanitizers; the plain build is compiled too so that
# -Werror covers the optimised build (some warnings only appear with -O2).
test: deps-browser build build-asan
	@cd $(ASAN_DIR) && ctest --no-tests=error --output-on-failure -j $(JOBS)

# Same suite on the optimised build, for quick iteration.
test-fast: deps-browser build
	@cd $(BUILD_DIR) && ctest --no-tests=error --output-on-failure -j $(JOBS)

# The whole suite with the clock moved (Debian's faketime): make test-faketime
# SHIFT=-150d.  ctest's time/* tests run the date-sensitive part this way always.
# The browser test is left out: preloaded into chromium, libfaketime wraps its
# every clock call and pages take tens of seconds to draw (measured), which
# tests chromium's patience, not quant's dates.
SHIFT ?= +150d
test-faketime: deps-browser build build-asan
	@cd $(ASAN_DIR) && FAKETIME=$(SHIFT) FAKETIME_DONT_FAKE_MONOTONIC=1 \
	  LD_PRELOAD=$$(ls /usr/lib/*/faketime/libfaketime.so.1 | head -n 1) \
	  ctest --no-tests=error --output-on-failure -j $(JOBS) -E '^(time|browser)/'

# The demo pipeline under valgrind's memcheck: no errors, no definite leaks.
valgrind: build
	@scripts/valgrind-demo.sh $(BUILD_DIR)/quant

demo: build
	@$(BUILD_DIR)/quant demo

bench: build
	@bench/run.sh $(BUILD_DIR)

# The issue-11 yardstick (bench/README.md): about an hour on 2 cores with the defaults.
PIPELINE_ARGS ?=
bench-pipeline: build
	@python3 bench/pipeline.py --quant $(BUILD_DIR)/quant $(PIPELINE_ARGS)

bench-evaluation: build
	@python3 bench/evaluation.py --quant $(BUILD_DIR)/quant $(EVALUATION_ARGS)

# libFuzzer harnesses (fuzz/README.md), built with clang into build-fuzz and run
# one at a time for FUZZ_SECONDS each; fuzz-smoke is the 30-second version.
FUZZ_SECONDS ?= 600
fuzz:
	@scripts/setup-deps.sh --fuzz
	@FUZZ_SECONDS=$(FUZZ_SECONDS) scripts/fuzz.sh

fuzz-smoke:
	@scripts/setup-deps.sh --fuzz
	@FUZZ_SECONDS=30 scripts/fuzz.sh

clean:
	rm -rf $(BUILD_DIR) $(ASAN_DIR)
