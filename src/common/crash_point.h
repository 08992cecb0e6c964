#pragma once

#include <string_view>

namespace millrace {

/// Test-only: a named point of the streaming runtime where the kill harness
/// (tests/integration/exactly_once_kill_test.sh) makes the process die as `kill -9` would.
/// With `MILLRACE_TEST_CRASH_AT=<point>` in the environment, the first time the run reaches
/// `<point>` it exits at once with status 137 (`_exit`: no destructor, no flush, no commit);
/// `<point>:<n>` dies the n-th time instead. Without the variable this does nothing. The
/// points are listed in docs/streaming.md ("Checkpoints and exactly-once").
void crash_point(std::string_view point);

}  // namespace millrace
