#include "common/clock.h"

#include <fmt/format.h>

#include <chrono>
#include <iterator>

namespace millrace {

int64_t SystemClock::now_micros() const {
    using std::chrono::duration_cast;
    using std::chrono::microseconds;
    return duration_cast<microseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

namespace {

struct CivilDate {
    int64_t year;
    unsigned month;  // 1..12
    unsigned day;    // 1..31
};

// Howard Hinnant's civil_from_days (proleptic Gregorian calendar), on int64 so that every
// int64 microsecond count maps to a date.
CivilDate civil_from_days(int64_t days) {
    days += 719468;  // shift the epoch to 0000-03-01
    const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    const auto day_of_era = static_cast<uint64_t>(days - era * 146097);  // [0, 146096]
    const uint64_t year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const uint64_t day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);  // [0, 365]
    const uint64_t month_index = (5 * day_of_year + 2) / 153;                    // March = 0
    const auto day = static_cast<unsigned>(day_of_year - (153 * month_index + 2) / 5 + 1);
    const auto month = static_cast<unsigned>(month_index < 10 ? month_index + 3 : month_index - 9);
    const int64_t year = static_cast<int64_t>(year_of_era) + era * 400 + (month <= 2 ? 1 : 0);
    return {year, month, day};
}

}  // namespace

void append_utc_timestamp(std::string& out, int64_t micros) {
    constexpr int64_t kMicrosPerSecond = 1'000'000;
    constexpr int64_t kSecondsPerDay = 86'400;
    // Floor division, so that instants before 1970 keep a positive fraction.
    int64_t seconds = micros / kMicrosPerSecond;
    int64_t fraction = micros % kMicrosPerSecond;
    if (fraction < 0) {
        fraction += kMicrosPerSecond;
        --seconds;
    }
    int64_t days = seconds / kSecondsPerDay;
    int64_t second_of_day = seconds % kSecondsPerDay;
    if (second_of_day < 0) {
        second_of_day += kSecondsPerDay;
        --days;
    }
    const CivilDate date = civil_from_days(days);
    fmt::format_to(std::back_inserter(out), "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z", date.year,
                   date.month, date.day, second_of_day / 3600, second_of_day / 60 % 60,
                   second_of_day % 60, fraction);
}

std::string format_utc_timestamp(int64_t micros) {
    std::string out;
    append_utc_timestamp(out, micros);
    return out;
}

}  // namespace millrace
