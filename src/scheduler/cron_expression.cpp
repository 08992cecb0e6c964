#include "scheduler/cron_expression.h"

#include <array>
#include <cctype>
#include <vector>

namespace millrace {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;

struct FieldSpec {
    const char* name;
    int min;
    int max;
    const char* const* names;  // lowercase three-letter names for min.., or nullptr
};

constexpr const char* kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                       "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr const char* kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

constexpr std::array<FieldSpec, 5> kFields = {{{"minute", 0, 59, nullptr},
                                               {"hour", 0, 23, nullptr},
                                               {"day-of-month", 1, 31, nullptr},
                                               {"month", 1, 12, kMonthNames},
                                               {"day-of-week", 0, 7, kDayNames}}};

Error field_error(const FieldSpec& field, std::size_t position, const std::string& message) {
    return Error(ErrorCode::kParse, std::string("cron ") + field.name + " field: " + message,
                 SourceLocation{"", 1, static_cast<int>(position) + 1});
}

// Parses a number or name at text[pos...]; advances pos.
Result<int> parse_value(std::string_view text, std::size_t& pos, std::size_t base,
                        const FieldSpec& field) {
    const std::size_t start = pos;
    if (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
        int value = 0;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
            value = value * 10 + (text[pos] - '0');
            if (value > 1000) break;
            ++pos;
        }
        if (value < field.min || value > field.max) {
            return field_error(field, base + start,
                               std::to_string(value) + " is out of range " +
                                   std::to_string(field.min) + "-" + std::to_string(field.max));
        }
        return value;
    }
    if (field.names != nullptr && pos + 3 <= text.size()) {
        std::string word(text.substr(pos, 3));
        for (char& c : word) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        const int count = field.max - field.min + (field.names == kDayNames ? 0 : 1);
        for (int i = 0; i < count; ++i) {
            if (word == field.names[i]) {
                pos += 3;
                return field.min + i;
            }
        }
    }
    std::string found = pos < text.size() ? "`" + std::string(1, text[pos]) + "`" : "end";
    return field_error(
        field, base + start,
        "expected a number" + std::string(field.names ? " or a name" : "") + ", found " + found);
}

// Parses one field (text starts at 0-based `base` in the whole expression) into bits.
Status parse_field(std::string_view text, std::size_t base, const FieldSpec& field,
                   std::vector<bool>& bits, bool& star) {
    star = text == "*" || text == "?";
    std::size_t pos = 0;
    while (true) {
        int low = field.min, high = field.max, step = 1;
        const std::size_t item_start = pos;
        if (pos < text.size() && (text[pos] == '*' || text[pos] == '?')) {
            ++pos;
        } else {
            MILLRACE_ASSIGN_OR_RETURN(low, parse_value(text, pos, base, field));
            high = low;
            if (pos < text.size() && text[pos] == '-') {
                ++pos;
                MILLRACE_ASSIGN_OR_RETURN(high, parse_value(text, pos, base, field));
                if (high < low) {
                    return field_error(field, base + item_start,
                                       "range " + std::to_string(low) + "-" + std::to_string(high) +
                                           " runs backwards");
                }
            }
        }
        if (pos < text.size() && text[pos] == '/') {
            const std::size_t step_pos = ++pos;
            int value = 0;
            while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos])) &&
                   value <= 1000) {
                value = value * 10 + (text[pos++] - '0');
            }
            if (pos == step_pos || value == 0 || value > field.max) {
                return field_error(field, base + step_pos,
                                   "expected a step between 1 and " + std::to_string(field.max));
            }
            step = value;
            if (item_start < text.size() && text[item_start] != '*' && high == low) {
                high = field.max;  // `5/15` means `5-max/15`
            }
        }
        for (int v = low; v <= high; v += step) bits[static_cast<std::size_t>(v)] = true;
        if (pos == text.size()) return {};
        if (text[pos] != ',') {
            return field_error(field, base + pos, "unexpected `" + std::string(1, text[pos]) + "`");
        }
        ++pos;
    }
}

}  // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

void civil_from_days(int64_t z, int64_t& year, unsigned& month, unsigned& day) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    day = doy - (153 * mp + 2) / 5 + 1;
    month = mp < 10 ? mp + 3 : mp - 9;
    year = static_cast<int64_t>(yoe) + era * 400 + (month <= 2);
}

Result<CronExpression> CronExpression::parse(std::string_view text) {
    std::string expanded(text);
    if (!text.empty() && text.front() == '@') {
        static const std::pair<std::string_view, std::string_view> kShortcuts[] = {
            {"@yearly", "0 0 1 1 *"}, {"@annually", "0 0 1 1 *"}, {"@monthly", "0 0 1 * *"},
            {"@weekly", "0 0 * * 0"}, {"@daily", "0 0 * * *"},    {"@midnight", "0 0 * * *"},
            {"@hourly", "0 * * * *"}};
        bool found = false;
        for (const auto& [name, value] : kShortcuts) {
            if (text == name) {
                expanded = value;
                found = true;
            }
        }
        if (!found) {
            return Error(ErrorCode::kParse,
                         "unknown cron shortcut `" + std::string(text) +
                             "` (expected @yearly, @monthly, @weekly, @daily or @hourly)",
                         SourceLocation{"", 1, 1});
        }
    }
    const bool shortcut = expanded != text;
    // Split into fields, remembering where each starts.
    std::vector<std::pair<std::size_t, std::string_view>> fields;
    std::string_view view = expanded;
    std::size_t pos = 0;
    while (pos < view.size()) {
        while (pos < view.size() && (view[pos] == ' ' || view[pos] == '\t')) ++pos;
        if (pos == view.size()) break;
        std::size_t end = pos;
        while (end < view.size() && view[end] != ' ' && view[end] != '\t') ++end;
        fields.emplace_back(pos, view.substr(pos, end - pos));
        pos = end;
    }
    if (fields.size() != 5) {
        return Error(ErrorCode::kParse,
                     "a cron expression has 5 fields (minute hour day-of-month month "
                     "day-of-week), found " +
                         std::to_string(fields.size()),
                     SourceLocation{"", 1,
                                    fields.size() > 5 ? static_cast<int>(fields[5].first) + 1
                                                      : static_cast<int>(text.size()) + 1});
    }
    CronExpression cron;
    cron.text_ = std::string(text);
    for (std::size_t i = 0; i < 5; ++i) {
        std::vector<bool> bits(64, false);
        bool star = false;
        Status status =
            parse_field(fields[i].second, shortcut ? 0 : fields[i].first, kFields[i], bits, star);
        if (!status.ok()) return std::move(status).error();
        for (std::size_t v = 0; v < 64; ++v) {
            if (!bits[v]) continue;
            switch (i) {
                case 0:
                    cron.minutes_.set(v);
                    break;
                case 1:
                    cron.hours_.set(v);
                    break;
                case 2:
                    cron.days_of_month_.set(v);
                    break;
                case 3:
                    cron.months_.set(v);
                    break;
                default:
                    cron.days_of_week_.set(v % 7);
                    break;
            }
        }
        if (i == 2) cron.day_of_month_star_ = star;
        if (i == 4) cron.day_of_week_star_ = star;
    }
    return cron;
}

std::optional<int64_t> CronExpression::next_after(int64_t after_micros,
                                                  const TimeZone& zone) const {
    int64_t after_seconds = after_micros / kMicrosPerSecond;
    if (after_micros < 0 && after_micros % kMicrosPerSecond != 0) --after_seconds;
    // Search local wall-clock minutes from a little before the UTC instant (a fall-back
    // overlap can map a later local time to an earlier instant) and keep the first match
    // whose UTC instant is after `after_micros`.
    const int64_t local = after_seconds + zone.offset_at(after_seconds) - 3 * 3600;
    int64_t day = local >= 0 ? local / 86400 : (local - 86399) / 86400;
    int start_minute = static_cast<int>((local - day * 86400) / 60);
    for (int d = 0; d < 366 * 5; ++d, ++day, start_minute = 0) {
        int64_t year = 0;
        unsigned month = 0, dom = 0;
        civil_from_days(day, year, month, dom);
        if (!months_.test(month)) {
            start_minute = 0;
            continue;
        }
        const unsigned dow = static_cast<unsigned>(((day % 7) + 11) % 7);  // 1970-01-01: Thu
        const bool dom_ok = days_of_month_.test(dom), dow_ok = days_of_week_.test(dow);
        bool day_ok = dom_ok && dow_ok;
        if (!day_of_month_star_ && !day_of_week_star_) day_ok = dom_ok || dow_ok;
        if (!day_ok) continue;
        for (int minute_of_day = start_minute; minute_of_day < 24 * 60; ++minute_of_day) {
            if (!hours_.test(static_cast<std::size_t>(minute_of_day / 60))) {
                minute_of_day = (minute_of_day / 60) * 60 + 59;
                continue;
            }
            if (!minutes_.test(static_cast<std::size_t>(minute_of_day % 60))) continue;
            const int64_t local_seconds = day * 86400 + minute_of_day * 60;
            for (int64_t utc : zone.to_utc(local_seconds)) {
                if (utc * kMicrosPerSecond > after_micros) {
                    // In an overlap fire once: skip the second occurrence.
                    std::vector<int64_t> all = zone.to_utc(local_seconds);
                    if (utc != all.front() && all.front() * kMicrosPerSecond <= after_micros &&
                        all.front() * kMicrosPerSecond > after_micros - 7200 * kMicrosPerSecond) {
                        continue;
                    }
                    return utc * kMicrosPerSecond;
                }
            }
        }
    }
    return std::nullopt;
}

std::optional<int64_t> CronExpression::last_at_or_before(int64_t at_micros, const TimeZone& zone,
                                                         int64_t horizon_micros) const {
    // Step back in growing windows and take the last fire time in the window.
    for (int64_t window = 3600 * kMicrosPerSecond; window <= horizon_micros * 2; window *= 4) {
        std::optional<int64_t> last;
        std::optional<int64_t> t = next_after(at_micros - window - 1, zone);
        while (t && *t <= at_micros) {
            last = t;
            t = next_after(*t, zone);
        }
        if (last) return last;
    }
    return std::nullopt;
}

}  // namespace millrace
