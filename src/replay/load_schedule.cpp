#include "replay/load_schedule.h"

#include <cmath>

#include "common/check.h"

namespace millrace {

LoadSchedule LoadSchedule::fixed_rate(double rate_per_second) {
    MILLRACE_CHECK(rate_per_second > 0, "a fixed rate must be positive");
    return LoadSchedule(Kind::kFixedRate, rate_per_second, 1);
}

LoadSchedule LoadSchedule::as_fast_as_possible() {
    return LoadSchedule(Kind::kAsFastAsPossible, 0, 1);
}

LoadSchedule LoadSchedule::recorded_offsets(double speedup) {
    MILLRACE_CHECK(speedup > 0, "a speedup must be positive");
    return LoadSchedule(Kind::kRecordedOffsets, 0, speedup);
}

int64_t LoadSchedule::due_ns(uint64_t index, int64_t recorded_offset_ns) const {
    switch (kind_) {
        case Kind::kFixedRate:
            // long double keeps i * 1e9 exact far beyond any run length (64-bit mantissa).
            return static_cast<int64_t>(std::floor(static_cast<long double>(index) * 1e9L /
                                                   static_cast<long double>(rate_)));
        case Kind::kAsFastAsPossible:
            return 0;
        case Kind::kRecordedOffsets:
            if (recorded_offset_ns <= 0) return 0;
            return static_cast<int64_t>(static_cast<long double>(recorded_offset_ns) /
                                        static_cast<long double>(speedup_));
    }
    return 0;
}

uint64_t LoadSchedule::due_count(int64_t elapsed_ns) const {
    if (kind_ != Kind::kFixedRate || elapsed_ns < 0) return 0;
    auto count = static_cast<uint64_t>(std::floor(static_cast<long double>(elapsed_ns) *
                                                  static_cast<long double>(rate_) / 1e9L)) +
                 1;
    // Floating point at the boundary: make due(count - 1) <= elapsed < due(count) exact.
    while (count > 0 && due_ns(count - 1) > elapsed_ns) --count;
    while (due_ns(count) <= elapsed_ns) ++count;
    return count;
}

}  // namespace millrace
