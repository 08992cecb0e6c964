#pragma once

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/result.h"
#include "scheduler/time_zone.h"

namespace millrace {

/// A 5-field cron schedule, `minute hour day-of-month month day-of-week`, evaluated in a time
/// zone. Fields take `*`, numbers, ranges `a-b`, steps `*/n` and `a-b/n`, lists `a,b`, and
/// names for months (`jan`) and weekdays (`mon`; 0 and 7 are Sunday). Shortcuts: `@yearly`,
/// `@monthly`, `@weekly`, `@daily` (`@midnight`), `@hourly`. As in Vixie cron, when both
/// day-of-month and day-of-week are restricted a day matches either.
///
/// Wall times that fall in a DST gap do not fire; times in a fall-back overlap fire once, at the
/// first occurrence. Immutable; safe to share.
class CronExpression {
public:
    /// Errors are kParse and name the field; the location's column is the 1-based position of
    /// the offending character inside `text`.
    static Result<CronExpression> parse(std::string_view text);

    const std::string& text() const { return text_; }
    /// The first fire time strictly after `after_micros` (UTC), or nullopt when none comes
    /// within five years (e.g. `0 0 30 2 *`).
    std::optional<int64_t> next_after(int64_t after_micros, const TimeZone& zone) const;
    /// The last fire time at or before `at_micros`, searching back up to `horizon_micros`.
    std::optional<int64_t> last_at_or_before(int64_t at_micros, const TimeZone& zone,
                                             int64_t horizon_micros) const;

private:
    std::string text_;
    std::bitset<60> minutes_;
    std::bitset<24> hours_;
    std::bitset<32> days_of_month_;  // 1..31
    std::bitset<13> months_;         // 1..12
    std::bitset<7> days_of_week_;    // 0 = Sunday
    bool day_of_month_star_ = true;
    bool day_of_week_star_ = true;
};

/// Days since 1970-01-01 of a civil date, and back (proleptic Gregorian).
int64_t days_from_civil(int64_t year, unsigned month, unsigned day);
void civil_from_days(int64_t days, int64_t& year, unsigned& month, unsigned& day);

}  // namespace millrace
