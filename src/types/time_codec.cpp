#include "types/time_codec.h"

#include <cmath>
#include <cstring>

namespace millrace {

namespace {

constexpr int64_t kMicrosPerSecond = 1'000'000;
constexpr int64_t kMicrosPerDay = 86'400 * kMicrosPerSecond;

bool is_digit(char c) { return c >= '0' && c <= '9'; }

// Reads exactly `count` digits at text[*pos].
bool read_digits(std::string_view text, std::size_t* pos, int count, int* out) {
    if (*pos + static_cast<std::size_t>(count) > text.size()) return false;
    int value = 0;
    for (int i = 0; i < count; ++i) {
        char c = text[*pos + static_cast<std::size_t>(i)];
        if (!is_digit(c)) return false;
        value = value * 10 + (c - '0');
    }
    *pos += static_cast<std::size_t>(count);
    *out = value;
    return true;
}

bool is_leap(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

unsigned days_in_month(int year, unsigned month) {
    static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return month == 2 && is_leap(year) ? 29 : kDays[month - 1];
}

// Parses YYYY-MM-DD at the start of text; *pos is left after it.
bool parse_date_part(std::string_view text, std::size_t* pos, int32_t* days) {
    int year = 0, month = 0, day = 0;
    if (!read_digits(text, pos, 4, &year)) return false;
    if (*pos >= text.size() || text[*pos] != '-') return false;
    ++*pos;
    if (!read_digits(text, pos, 2, &month)) return false;
    if (*pos >= text.size() || text[*pos] != '-') return false;
    ++*pos;
    if (!read_digits(text, pos, 2, &day)) return false;
    if (year < 1 || month < 1 || month > 12 || day < 1 ||
        static_cast<unsigned>(day) > days_in_month(year, static_cast<unsigned>(month))) {
        return false;
    }
    *days = days_from_civil(year, static_cast<unsigned>(month), static_cast<unsigned>(day));
    return true;
}

// Writes `value` as at least `width` digits at `out`, returns the end.
char* write_digits(char* out, int64_t value, int width) {
    char buffer[24];
    int n = 0;
    do {
        buffer[n++] = static_cast<char>('0' + value % 10);
        value /= 10;
    } while (value > 0 || n < width);
    while (n > 0) *out++ = buffer[--n];
    return out;
}

char* write_date(char* out, int32_t days) {
    int year = 0;
    unsigned month = 0, day = 0;
    civil_from_days(days, &year, &month, &day);
    if (year < 0) {
        *out++ = '-';
        year = -year;
    }
    out = write_digits(out, year, 4);
    *out++ = '-';
    out = write_digits(out, month, 2);
    *out++ = '-';
    return write_digits(out, day, 2);
}

}  // namespace

int32_t days_from_civil(int year, unsigned month, unsigned day) {
    // Shift the year to start in March so the leap day is the last day of the "year"; then count
    // 400-year eras of 146097 days. (H. Hinnant's well-known derivation.)
    year -= month <= 2 ? 1 : 0;
    const int era = (year >= 0 ? year : year - 399) / 400;
    const unsigned year_of_era = static_cast<unsigned>(year - era * 400);
    const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
    const unsigned day_of_era =
        year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    return static_cast<int32_t>(era * 146097 + static_cast<int>(day_of_era) - 719468);
}

void civil_from_days(int32_t days, int* year, unsigned* month, unsigned* day) {
    const int z = days + 719468;
    const int era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned day_of_era = static_cast<unsigned>(z - era * 146097);
    const unsigned year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    const int y = static_cast<int>(year_of_era) + era * 400;
    const unsigned day_of_year =
        day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    const unsigned mp = (5 * day_of_year + 2) / 153;
    *day = day_of_year - (153 * mp + 2) / 5 + 1;
    *month = mp < 10 ? mp + 3 : mp - 9;
    *year = y + (*month <= 2 ? 1 : 0);
}

std::optional<int32_t> parse_date(std::string_view text) {
    std::size_t pos = 0;
    int32_t days = 0;
    if (!parse_date_part(text, &pos, &days) || pos != text.size()) return std::nullopt;
    return days;
}

namespace {

inline unsigned digit(char c) { return static_cast<unsigned>(c - '0'); }

// The form nearly every machine writes, "YYYY-MM-DDTHH:MM:SS[.ffffff]Z", read with fixed
// offsets; anything else goes the general way.
bool parse_canonical_timestamp(std::string_view text, int64_t* out) {
    const std::size_t size = text.size();
    if ((size != 20 && size != 27 && size != 24) || text[size - 1] != 'Z') return false;
    const char* p = text.data();
    if (p[4] != '-' || p[7] != '-' || (p[10] != 'T' && p[10] != ' ') || p[13] != ':' ||
        p[16] != ':') {
        return false;
    }
    for (int i : {0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18}) {
        if (digit(p[i]) > 9) return false;
    }
    const int year =
        static_cast<int>(digit(p[0]) * 1000 + digit(p[1]) * 100 + digit(p[2]) * 10 + digit(p[3]));
    const unsigned month = digit(p[5]) * 10 + digit(p[6]);
    const unsigned day = digit(p[8]) * 10 + digit(p[9]);
    const unsigned hour = digit(p[11]) * 10 + digit(p[12]);
    const unsigned minute = digit(p[14]) * 10 + digit(p[15]);
    const unsigned second = digit(p[17]) * 10 + digit(p[18]);
    if (year < 1 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month) ||
        hour > 23 || minute > 59 || second > 59) {
        return false;
    }
    int64_t fraction = 0;
    if (size != 20) {
        if (p[19] != '.') return false;
        const std::size_t digits = size - 21;  // 3 or 6
        for (std::size_t i = 0; i < digits; ++i) {
            if (digit(p[20 + i]) > 9) return false;
            fraction = fraction * 10 + digit(p[20 + i]);
        }
        if (digits == 3) fraction *= 1000;
    }
    *out = static_cast<int64_t>(days_from_civil(year, month, day)) * kMicrosPerDay +
           static_cast<int64_t>((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
    return true;
}

}  // namespace

std::optional<int64_t> CachedTimestampParser::parse(std::string_view text) {
    const std::size_t size = text.size();
    const char* p = text.data();
    if (valid_ && (size == 20 || size == 24 || size == 27) && std::memcmp(p, date_, 10) == 0 &&
        p[size - 1] == 'Z' && (p[10] == 'T' || p[10] == ' ') && p[13] == ':' && p[16] == ':' &&
        (size == 20 || p[19] == '.')) {
        const unsigned h1 = digit(p[11]), h2 = digit(p[12]), m1 = digit(p[14]), m2 = digit(p[15]),
                       s1 = digit(p[17]), s2 = digit(p[18]);
        // Each digit on its own: an OR of valid digits can exceed 9 (2 | 8 = 10).
        if (h1 <= 9 && h2 <= 9 && m1 <= 9 && m2 <= 9 && s1 <= 9 && s2 <= 9) {
            const unsigned hour = h1 * 10 + h2, minute = m1 * 10 + m2, second = s1 * 10 + s2;
            if (hour <= 23 && minute <= 59 && second <= 59) {
                int64_t fraction = 0;
                bool digits_ok = true;
                for (std::size_t i = 20; i + 1 < size; ++i) {
                    const unsigned d = digit(p[i]);
                    digits_ok &= d <= 9;
                    fraction = fraction * 10 + d;
                }
                if (digits_ok) {
                    if (size == 24) fraction *= 1000;
                    return date_micros_ +
                           static_cast<int64_t>((hour * 60 + minute) * 60 + second) *
                               kMicrosPerSecond +
                           fraction;
                }
            }
        }
    }
    std::optional<int64_t> parsed = parse_timestamp(text);
    if (parsed && size >= 10) {
        auto days = parse_date(text.substr(0, 10));
        if (days) {
            std::memcpy(date_, p, 10);
            date_micros_ = static_cast<int64_t>(*days) * kMicrosPerDay;
            valid_ = true;
        }
    }
    return parsed;
}

std::optional<int64_t> parse_timestamp(std::string_view text) {
    int64_t canonical = 0;
    if (parse_canonical_timestamp(text, &canonical)) return canonical;
    std::size_t pos = 0;
    int32_t days = 0;
    if (!parse_date_part(text, &pos, &days)) return std::nullopt;
    int64_t micros = static_cast<int64_t>(days) * kMicrosPerDay;
    if (pos == text.size()) return micros;
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') return std::nullopt;
    ++pos;
    int hour = 0, minute = 0, second = 0;
    if (!read_digits(text, &pos, 2, &hour)) return std::nullopt;
    if (pos >= text.size() || text[pos] != ':') return std::nullopt;
    ++pos;
    if (!read_digits(text, &pos, 2, &minute)) return std::nullopt;
    int64_t fraction = 0;
    if (pos < text.size() && text[pos] == ':') {
        ++pos;
        if (!read_digits(text, &pos, 2, &second)) return std::nullopt;
        if (pos < text.size() && (text[pos] == '.' || text[pos] == ',')) {
            ++pos;
            int digits = 0;
            while (pos < text.size() && is_digit(text[pos])) {
                if (digits < 6) fraction = fraction * 10 + (text[pos] - '0');
                ++digits;
                ++pos;
            }
            if (digits == 0) return std::nullopt;
            for (int i = digits; i < 6; ++i) fraction *= 10;
        }
    }
    if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
    micros += ((hour * 60 + minute) * 60 + second) * kMicrosPerSecond + fraction;
    if (pos == text.size()) return micros;
    if (text[pos] == 'Z' || text[pos] == 'z') {
        return pos + 1 == text.size() ? std::optional<int64_t>(micros) : std::nullopt;
    }
    if (text[pos] == ' ' && text.substr(pos) == " UTC") return micros;
    if (text[pos] != '+' && text[pos] != '-') return std::nullopt;
    const int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int offset_hours = 0, offset_minutes = 0;
    if (!read_digits(text, &pos, 2, &offset_hours)) return std::nullopt;
    if (pos < text.size() && text[pos] == ':') ++pos;
    if (pos < text.size() && !read_digits(text, &pos, 2, &offset_minutes)) return std::nullopt;
    if (pos != text.size() || offset_hours > 18 || offset_minutes > 59) return std::nullopt;
    // Local time minus the offset is UTC.
    micros -= sign * (offset_hours * 60 + offset_minutes) * 60 * kMicrosPerSecond;
    return micros;
}

void append_date(std::string& out, int32_t days) {
    char buffer[16];
    out.append(buffer, write_date(buffer, days));
}

void append_timestamp(std::string& out, int64_t micros) {
    int64_t days = micros / kMicrosPerDay;
    int64_t rest = micros % kMicrosPerDay;
    if (rest < 0) {
        rest += kMicrosPerDay;
        --days;
    }
    char buffer[40];
    char* end = write_date(buffer, static_cast<int32_t>(days));
    const int64_t seconds = rest / kMicrosPerSecond;
    const int64_t fraction = rest % kMicrosPerSecond;
    *end++ = 'T';
    end = write_digits(end, seconds / 3600, 2);
    *end++ = ':';
    end = write_digits(end, seconds / 60 % 60, 2);
    *end++ = ':';
    end = write_digits(end, seconds % 60, 2);
    if (fraction != 0) {
        *end++ = '.';
        end = write_digits(end, fraction, 6);
    }
    *end++ = 'Z';
    out.append(buffer, end);
}

std::string format_timestamp(int64_t micros) {
    std::string out;
    append_timestamp(out, micros);
    return out;
}

std::string format_date(int32_t days) {
    std::string out;
    append_date(out, days);
    return out;
}

namespace {

constexpr int64_t kMinEpochMicros = -62'135'596'800'000'000LL;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxEpochMicros = 253'402'300'799'999'999LL;  // 9999-12-31T23:59:59.999999Z

}  // namespace

std::optional<int64_t> epoch_number_to_micros(int64_t value) {
    const int64_t magnitude = value < 0 ? -(value + 1) : value;
    const int64_t scale = magnitude < 100'000'000'000LL       ? 1'000'000
                          : magnitude < 100'000'000'000'000LL ? 1'000
                                                              : 1;
    int64_t micros = 0;
    if (__builtin_mul_overflow(value, scale, &micros)) return std::nullopt;
    if (micros < kMinEpochMicros || micros > kMaxEpochMicros) return std::nullopt;
    return micros;
}

std::optional<int64_t> epoch_number_to_micros(double value) {
    if (!std::isfinite(value)) return std::nullopt;
    const double magnitude = std::fabs(value);
    const double scale = magnitude < 1e11 ? 1e6 : magnitude < 1e14 ? 1e3 : 1.0;
    const double scaled = std::floor(value * scale);
    if (!(scaled >= static_cast<double>(kMinEpochMicros) &&
          scaled <= static_cast<double>(kMaxEpochMicros))) {
        return std::nullopt;
    }
    return static_cast<int64_t>(scaled);
}

}  // namespace millrace
