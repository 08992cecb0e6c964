#!/usr/bin/env bash
# The SQL correctness oracle: every query of tests/sql/oracle/queries.sql runs through
# `millrace run` (a generated batch project per query) and through DuckDB over the same CSV
# files; results must be equal (approximate aggregates within their documented error).
#
#   bash tests/integration/sql_oracle_test.sh build/release/src/cli/millrace
#   ORACLE_ONLY=q07_filter_bool,q58_inner_join bash tests/integration/sql_oracle_test.sh <millrace>
#   ORACLE_SELF_TEST=1 bash tests/integration/sql_oracle_test.sh <millrace>   # DuckDB vs DuckDB
#   ORACLE_KEEP=1 ...   keeps the work directory (data, projects, outputs) and prints its path
source "$(dirname "$0")/lib/common.sh"

oracle() {
  node "$ROOT/tests/integration/lib/sql_oracle.mjs" --millrace "$MILLRACE" \
    --queries "$ROOT/tests/sql/oracle/queries.sql" --work "$WORK/oracle" \
    ${ORACLE_ONLY:+--only "$ORACLE_ONLY"} "$@"
}
if [ -n "${ORACLE_KEEP:-}" ]; then
  trap 'echo "work directory kept: $WORK"' EXIT
fi

if [ -n "${ORACLE_SELF_TEST:-}" ]; then
  oracle --self-test
  exit $?
fi

oracle
