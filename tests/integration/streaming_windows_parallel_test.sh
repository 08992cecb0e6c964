#!/usr/bin/env bash
# streaming_windows_test.sh with `parallelism: 2`: tumble, hop and session windows computed by
# two subtasks (rows interleave, so the comparison with the batch GROUP BY is sorted) equal the
# batch engine over the on-time records, as they do at parallelism 1.
PARALLELISM=2 exec bash "$(dirname "$0")/streaming_windows_test.sh" "$@"
