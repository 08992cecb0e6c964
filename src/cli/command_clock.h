#pragma once

#include <memory>

#include "common/clock.h"
#include "common/result.h"

namespace millrace {

/// The environment variable that fixes the clock of SQL-running commands (`run`, `query`,
/// `validate`, and the `millrace run` processes the scheduler starts, which inherit it): an
/// RFC 3339 / ISO 8601 UTC timestamp such as `2026-03-01T12:00:00Z`.
inline constexpr const char* kFixedNowVariable = "MILLRACE_NOW";

/// The one clock `run_cli` owns and passes to the commands that evaluate SQL: the system clock,
/// or, with MILLRACE_NOW set, a clock that stays at that instant, so now() and current_date
/// give reproducible results (tests, a re-run that must see the original day). A malformed
/// value is an error naming the variable.
Result<std::unique_ptr<Clock>> make_command_clock();

}  // namespace millrace
