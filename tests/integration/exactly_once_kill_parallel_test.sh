#!/usr/bin/env bash
# exactly_once_kill_test.sh with `parallelism: 2` and 3 kills: sinks committed once per
# checkpoint by the run's thread stay exactly-once when the keyed operators run on two
# subtasks. Usage: $0 <millrace> [kills] [seed]
PARALLELISM=2 exec bash "$(dirname "$0")/exactly_once_kill_test.sh" "$1" "${2:-3}" "${3:-$RANDOM}"
