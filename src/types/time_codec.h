#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace millrace {

/// Text ⇄ timestamp/date conversions shared by every codec. Timestamps are microseconds since
/// the Unix epoch in UTC; dates are days since 1970-01-01. The proleptic Gregorian calendar is
/// used for all years 0001..9999.
///
/// Accepted timestamp text (ISO 8601 / RFC 3339 and the SQL form):
///   2024-03-05T14:07:09Z   2024-03-05 14:07:09   2024-03-05T14:07:09.123456+08:00
///   2024-03-05T14:07       2024-03-05 (midnight UTC)
/// Fractions longer than 6 digits are truncated to microseconds. No offset means UTC.
std::optional<int64_t> parse_timestamp(std::string_view text);

/// parse_timestamp with a one-entry cache of the last date: a stream of events shares its date
/// for hours, so the calendar arithmetic is done once per day instead of once per value. Same
/// results as parse_timestamp. One per thread (decoders own one).
class CachedTimestampParser {
public:
    std::optional<int64_t> parse(std::string_view text);

private:
    char date_[10] = {};
    int64_t date_micros_ = 0;
    bool valid_ = false;
};

/// An epoch number whose unit is told by its magnitude, as JSON readers take numbers for
/// timestamps (JsonDecoder's EpochUnit::kAuto, the rule ClickHouse's best-effort parsing uses):
/// |n| < 1e11 seconds, < 1e14 milliseconds, otherwise microseconds. Doubles keep their fraction
/// (floored to the microsecond). nullopt outside years 0001..9999.
std::optional<int64_t> epoch_number_to_micros(int64_t value);
std::optional<int64_t> epoch_number_to_micros(double value);

/// Accepts YYYY-MM-DD.
std::optional<int32_t> parse_date(std::string_view text);

/// Appends "2024-03-05T14:07:09Z", or "2024-03-05T14:07:09.123456Z" when there is a fraction.
void append_timestamp(std::string& out, int64_t micros);
/// Appends "2024-03-05".
void append_date(std::string& out, int32_t days);

std::string format_timestamp(int64_t micros);
std::string format_date(int32_t days);

/// Days since 1970-01-01 of a civil date, and back (valid for years 0001..9999).
int32_t days_from_civil(int year, unsigned month, unsigned day);
void civil_from_days(int32_t days, int* year, unsigned* month, unsigned* day);

}  // namespace millrace
