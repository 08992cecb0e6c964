#pragma once

#include <chrono>
#include <cstdint>
#include <string_view>

#include "scheduler/job_definition.h"

namespace millrace {

/// The wait before retry attempt `next_attempt` (2 = the first retry): capped exponential
/// backoff, min(max_delay, delay * 2^(next_attempt - 2)), times a jitter factor in [0.5, 1.0)
/// that is a hash of (job, task, interval start, attempt) — the same inputs always give the
/// same delay, so replays and restarts behave alike, while different tasks failing together
/// do not retry in lockstep.
std::chrono::microseconds retry_delay(const RetryPolicy& policy, std::string_view job,
                                      std::string_view task, int64_t interval_start_micros,
                                      int next_attempt);

}  // namespace millrace
