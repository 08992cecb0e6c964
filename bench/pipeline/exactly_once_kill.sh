#!/usr/bin/env bash
# The long form of tests/integration/exactly_once_kill_test.sh: 25 kills (crash points inside
# checkpoints and sink commits, and kill -9 at random moments) of one streaming pipeline, then
# every sink compared with a run that was never killed. Prints the seed, so a failure can be
# replayed: bench/pipeline/exactly_once_kill.sh <millrace> [kills] [seed]
set -euo pipefail
millrace=${1:-build/release/src/cli/millrace}
kills=${2:-25}
seed=${3:-$RANDOM}
started=$(date +%s)
bash "$(dirname "$0")/../../tests/integration/exactly_once_kill_test.sh" "$millrace" "$kills" "$seed"
echo "exactly-once kill harness: $kills kills, seed $seed, $(( $(date +%s) - started )) s"
