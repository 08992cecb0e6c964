#!/usr/bin/env bash
# Runs every test suite and prints one closing line "tests: N passed, M failed".
# Usage: run-tests.sh <release-build-dir> <asan-build-dir> <fuzz-build-dir>
set -uo pipefail
release=$1 asan=$2 fuzz=$3
jobs=$(nproc)
passed=0 failed=0
summary=()

run_ctest() {  # <label> <dir> [ctest args...]
  local label=$1 dir=$2; shift 2
  local log; log=$(mktemp)
  echo "== $label"
  ctest --test-dir "$dir" --output-on-failure -j "$jobs" "$@" 2>&1 | tee "$log" | grep -vE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .* Passed' || true
  local line; line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$log" | tail -1)
  if [ -z "$line" ]; then
    echo "$label: ctest did not report a result"; failed=$((failed + 1)); summary+=("$label: no result")
  else
    local total fail
    total=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line")
    fail=$(sed -E 's/.*, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    passed=$((passed + total - fail)); failed=$((failed + fail))
    summary+=("$label: $((total - fail)) passed, $fail failed")
  fi
  rm -f "$log"
}

run_ctest "unit + integration (release)" "$release"
run_ctest "unit (asan+ubsan)" "$asan" -L unit
if [ -d "$fuzz/fuzz" ]; then
  run_ctest "fuzz smoke (libFuzzer, ${FUZZ_SECONDS:-10}s each)" "$fuzz" -j 1
fi

echo
printf '%s\n' "${summary[@]}"
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
