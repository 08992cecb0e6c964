#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace millrace::sql {

/// The microseconds of INTERVAL text: '1 minute', '5 seconds', '2 hours 30 minutes', '1 day',
/// '00:01:00'; nullopt when the text is not an interval or its size is beyond 1e18 us.
std::optional<int64_t> parse_interval(std::string_view text);

}  // namespace millrace::sql
