# Millrace: `make demo` and `make test` are the quick start; both install what is missing first.
SHELL := /bin/bash
BUILD_DIR ?= build/release
ASAN_DIR ?= build/asan
FUZZ_DIR ?= build/fuzz
FUZZ_SECONDS ?= 10
CMAKE_COMMON := -G Ninja -DCMAKE_CXX_COMPILER_LAUNCHER=ccache
# Let ccache hit across clones (CI builds a fresh clone): paths relative to the project root, and
# debug builds not keyed on the build directory.
export CCACHE_BASEDIR := $(CURDIR)
export CCACHE_NOHASHDIR := 1

.PHONY: all build deps test unit-test demo bench fuzz asan fuzz-build format lint clean

all: build

deps:
	@bash scripts/install-deps.sh

$(BUILD_DIR)/build.ninja:
	cmake -S . -B $(BUILD_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Release

build: $(BUILD_DIR)/build.ninja
	cmake --build $(BUILD_DIR)

$(ASAN_DIR)/build.ninja:
	cmake -S . -B $(ASAN_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=Debug \
	  -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g" -DMILLRACE_SANITIZE=ON -DMILLRACE_BENCH=OFF

asan: $(ASAN_DIR)/build.ninja
	cmake --build $(ASAN_DIR)

$(FUZZ_DIR)/build.ninja:
	CXX=clang++ cmake -S . -B $(FUZZ_DIR) $(CMAKE_COMMON) -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DMILLRACE_FUZZ=ON -DMILLRACE_TESTS=OFF -DMILLRACE_BENCH=OFF

fuzz-build: $(FUZZ_DIR)/build.ninja
	cmake --build $(FUZZ_DIR)

# Unit + integration tests on the release build, unit tests again under ASan+UBSan, and a short
# bounded run of every fuzz target. Prints one closing line "N passed, M failed".
test: deps
	@$(MAKE) --no-print-directory lint
	@$(MAKE) --no-print-directory build asan fuzz-build
	@cmake --build $(BUILD_DIR) --target header_check
	@FUZZ_SECONDS=$(FUZZ_SECONDS) bash scripts/run-tests.sh $(BUILD_DIR) $(ASAN_DIR) $(FUZZ_DIR)

# Long fuzz runs (not part of make test): make fuzz FUZZ_SECONDS=600
fuzz: deps fuzz-build
	@for f in $(FUZZ_DIR)/fuzz/fuzz_*; do \
	  name=$$(basename $$f); mkdir -p $(FUZZ_DIR)/corpus/$$name; \
	  echo "== $$name ($(FUZZ_SECONDS) s)"; \
	  $$f -max_total_time=$(FUZZ_SECONDS) -timeout=10 -rss_limit_mb=4096 \
	    $(FUZZ_DIR)/corpus/$$name fuzz/corpus/$$name || exit 1; \
	done

demo: deps build
	@bash examples/demo/run.sh $(BUILD_DIR)/src/cli/millrace

bench: deps build
	@bash bench/run.sh $(BUILD_DIR)

format:
	@find src bench fuzz -name '*.h' -o -name '*.cpp' | xargs clang-format -i

# clang-format only; clang-tidy is not wired in yet (see docs/dev/decisions.md).
lint:
	@find src bench fuzz -name '*.h' -o -name '*.cpp' | xargs clang-format --dry-run --Werror \
	  && echo 'lint: clang-format clean'

clean:
	rm -rf build
