#include "project/duration.h"

#include <array>
#include <cstdint>
#include <limits>

namespace millrace {

namespace {

struct Unit {
    std::string_view name;
    int64_t micros;
};

// Smallest first; format_duration walks them from the largest.
constexpr std::array<Unit, 6> kUnits = {{
    {"us", 1},
    {"ms", 1'000},
    {"s", 1'000'000},
    {"m", 60'000'000},
    {"h", 3'600'000'000},
    {"d", 86'400'000'000},
}};

Error duration_error(ErrorCode code, std::string message, std::size_t position) {
    return Error(code, std::move(message), SourceLocation{"", 0, static_cast<int>(position) + 1});
}

bool is_digit(char c) { return c >= '0' && c <= '9'; }

}  // namespace

Result<std::chrono::microseconds> parse_duration(std::string_view text) {
    if (text.empty()) return duration_error(ErrorCode::kParse, "empty duration", 0);
    if (text == "0") return std::chrono::microseconds(0);
    constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
    int64_t total = 0;
    std::size_t i = 0;
    while (i < text.size()) {
        const std::size_t number_start = i;
        int64_t number = 0;
        bool too_large = false;
        while (i < text.size() && is_digit(text[i])) {
            const int digit = text[i] - '0';
            if (number > (kMax - digit) / 10) too_large = true;
            if (!too_large) number = number * 10 + digit;
            ++i;
        }
        if (i == number_start) {
            return duration_error(ErrorCode::kParse,
                                  "invalid duration `" + std::string(text) +
                                      "`: expected a number, as in 5s, 100ms, 1m30s or 2h",
                                  i);
        }
        const std::size_t unit_start = i;
        while (i < text.size() && !is_digit(text[i])) ++i;
        const std::string_view unit_text = text.substr(unit_start, i - unit_start);
        const Unit* unit = nullptr;
        for (const Unit& candidate : kUnits) {
            if (candidate.name == unit_text) unit = &candidate;
        }
        if (unit == nullptr) {
            std::string message = "invalid duration `" + std::string(text) + "`: ";
            message += unit_text.empty() ? std::string("missing unit")
                                         : "unknown unit `" + std::string(unit_text) + "`";
            message += " (use us, ms, s, m, h or d, as in 5s)";
            return duration_error(ErrorCode::kParse, std::move(message), unit_start);
        }
        if (too_large || number > (kMax - total) / unit->micros) {
            return duration_error(ErrorCode::kOutOfRange,
                                  "duration `" + std::string(text) + "` is too large",
                                  number_start);
        }
        total += number * unit->micros;
    }
    return std::chrono::microseconds(total);
}

std::string format_duration(std::chrono::microseconds duration) {
    int64_t micros = duration.count();
    if (micros == 0) return "0s";
    std::string out;
    uint64_t rest = 0;
    if (micros < 0) {
        out += '-';
        rest = static_cast<uint64_t>(-(micros + 1)) + 1;  // no overflow for INT64_MIN
    } else {
        rest = static_cast<uint64_t>(micros);
    }
    for (auto it = kUnits.rbegin(); it != kUnits.rend(); ++it) {
        const auto unit = static_cast<uint64_t>(it->micros);
        if (rest >= unit) {
            out += std::to_string(rest / unit);
            out += it->name;
            rest %= unit;
        }
    }
    return out;
}

}  // namespace millrace
