#!/usr/bin/env bash
# savepoint_test.sh with `parallelism: 2`: stop with a savepoint and start from it, with the
# windows' state in key groups spread over two subtasks.
PARALLELISM=2 exec bash "$(dirname "$0")/savepoint_test.sh" "$@"
