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
