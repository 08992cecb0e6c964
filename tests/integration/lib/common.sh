# Shared helpers for integration tests: sourced, not run.
set -euo pipefail
MILLRACE=${1:?usage: $0 <path-to-millrace>}
MILLRACE=$(cd "$(dirname "$MILLRACE")" && pwd)/$(basename "$MILLRACE")
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)
WORK=$(mktemp -d /tmp/millrace-it.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
failures=0

duckdb() { node "$ROOT/tests/integration/lib/duckdb_query.mjs" "$@"; }
pass() { echo "ok - $*"; }
fail() { echo "not ok - $*"; failures=$((failures + 1)); }
expect_eq() {  # <actual> <expected> <what>
  if [ "$1" == "$2" ]; then pass "$3"; else fail "$3: expected [$2], got [$1]"; fi
}
expect_contains() {  # <haystack> <needle> <what>
  if grep -qF -- "$2" <<<"$1"; then pass "$3"; else fail "$3: [$2] not in: $1"; fi
}
finish() {
  if [ "$failures" -ne 0 ]; then echo "$failures check(s) failed"; exit 1; fi
  echo "all checks passed"
}
# kill9_after <min ms> <spread ms> <log> <command...>: runs the command in the background with
# its output in <log> and kill -9s it after min + RANDOM % spread ms; sets `rc` (its exit
# status: 137 when the kill came first) and `how`.
kill9_after() {
  local min=$1 spread=$2 log=$3
  shift 3
  "$@" >"$log" 2>&1 &
  local pid=$!
  local delay=$((min + RANDOM % spread))
  sleep "$(printf "%d.%03d" $((delay / 1000)) $((delay % 1000)))"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" && rc=0 || rc=$?
  how="kill -9 after ${delay} ms"
}
# crash_or_kill <attempt> <point> <min ms> <spread ms> <log> <command...>: the kill harnesses'
# attempt. An odd attempt runs the command with MILLRACE_TEST_CRASH_AT=<point> (it exits as
# kill -9 would when it reaches that point of the checkpoint protocol), an even one is
# kill9_after <min> <spread>. Sets `rc` (137: it died) and `how`.
crash_or_kill() {
  local attempt=$1 point=$2 min=$3 spread=$4 log=$5
  shift 5
  if [ $((attempt % 2)) -eq 1 ]; then
    MILLRACE_TEST_CRASH_AT=$point "$@" >"$log" 2>&1 && rc=0 || rc=$?
    how="at $point"
  else
    kill9_after "$min" "$spread" "$log" "$@"
  fi
}
