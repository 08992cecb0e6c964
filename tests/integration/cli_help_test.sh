#!/usr/bin/env bash
# `millrace help`, `millrace`, `millrace --help` list every command with a one-line description;
# `millrace help <command>` and `millrace <command> --help` describe one command.
source "$(dirname "$0")/lib/common.sh"

commands="validate convert generate run explain check alert-rules materialize lineage serve topic jobs lake query replay"
help=$("$MILLRACE" help) && rc=0 || rc=$?
expect_eq "$rc" "0" "millrace help exits 0"
for command in $commands; do
  line=$(grep -E "^  $command +[A-Z]" <<<"$help" || true)
  [ -n "$line" ] && pass "help lists $command with a description" || fail "help does not list $command: $help"
done
expect_eq "$("$MILLRACE")" "$help" "millrace alone prints the same list"
expect_eq "$("$MILLRACE" --help)" "$help" "millrace --help prints the same list"
long=$(awk 'length > 100' <<<"$help")
expect_eq "$long" "" "every command's description fits on one line"
run_help=$("$MILLRACE" help run)
expect_contains "$run_help" "Usage: millrace run" "help run shows run's usage"
expect_contains "$run_help" "--var" "help run lists its options"
expect_eq "$("$MILLRACE" run --help)" "$run_help" "millrace run --help says the same"
expect_eq "$("$MILLRACE" help jobs run)" "$("$MILLRACE" jobs run --help)" "help jobs run equals jobs run --help"
expect_contains "$("$MILLRACE" help jobs)" "backfill" "help jobs lists the jobs subcommands"
err=$("$MILLRACE" help nonsense 2>&1) && rc=0 || rc=$?
expect_eq "$rc" "1" "help of an unknown command exits 1"
expect_contains "$err" "unknown command \`nonsense\`" "and names it"
finish
