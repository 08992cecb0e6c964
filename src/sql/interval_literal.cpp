#include "sql/interval_literal.h"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace millrace::sql {

namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

}  // namespace

std::optional<int64_t> parse_interval(std::string_view text) {
    int64_t total = 0;
    std::size_t i = 0;
    bool any = false;
    auto skip_space = [&] {
        while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
    };
    skip_space();
    if (text.find(':') != std::string_view::npos) {
        int h = 0, m = 0;
        double s = 0;
        if (std::sscanf(std::string(text).c_str(), "%d:%d:%lf", &h, &m, &s) >= 2 && h >= -1000000 &&
            h <= 1000000 && m >= -1000000 && m <= 1000000 && std::fabs(s) < 1e9) {
            return (int64_t{h} * 3600 + int64_t{m} * 60) * 1000000 + static_cast<int64_t>(s * 1e6);
        }
        return std::nullopt;
    }
    while (i < text.size()) {
        std::size_t start = i;
        if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
        while (i < text.size() &&
               (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
            ++i;
        if (start == i) return std::nullopt;
        double amount = std::strtod(std::string(text.substr(start, i - start)).c_str(), nullptr);
        skip_space();
        std::size_t unit_start = i;
        while (i < text.size() && std::isalpha(static_cast<unsigned char>(text[i]))) ++i;
        std::string unit = lower(text.substr(unit_start, i - unit_start));
        if (unit.size() > 3 && unit.back() == 's') unit.pop_back();
        double micros = 0;
        if (unit == "microsecond" || unit == "u" || unit == "us")
            micros = 1;
        else if (unit == "millisecond" || unit == "ms")
            micros = 1e3;
        else if (unit == "second" || unit == "sec" || unit == "")
            micros = 1e6;
        else if (unit == "minute" || unit == "min")
            micros = 60e6;
        else if (unit == "hour" || unit == "h")
            micros = 3600e6;
        else if (unit == "day" || unit == "d")
            micros = 86400e6;
        else if (unit == "week" || unit == "w")
            micros = 7 * 86400e6;
        else
            return std::nullopt;
        double part = amount * micros;
        if (!(std::fabs(part) < 1e18) || std::fabs(static_cast<double>(total) + part) >= 1e18)
            return std::nullopt;
        total += static_cast<int64_t>(part);
        any = true;
        skip_space();
        if (i < text.size() && text[i] == ',') ++i;
        skip_space();
    }
    if (!any) return std::nullopt;
    return total;
}

}  // namespace millrace::sql
