#include "exec/utf8_text.h"

#include <cctype>
#include <string>

namespace millrace {

namespace {

char fold(char c, bool ci) {
    return ci ? static_cast<char>(std::tolower(static_cast<unsigned char>(c))) : c;
}

bool like_impl(std::string_view t, std::string_view p, bool ci) {
    std::size_t ti = 0, pi = 0;
    std::size_t star_p = std::string_view::npos, star_t = 0;
    while (ti < t.size()) {
        if (pi < p.size()) {
            char pc = p[pi];
            if (pc == '%') {
                star_p = ++pi;
                star_t = ti;
                continue;
            }
            if (pc == '_') {
                // one UTF-8 character
                ++ti;
                while (ti < t.size() && (static_cast<unsigned char>(t[ti]) & 0xC0) == 0x80) ++ti;
                ++pi;
                continue;
            }
            if (pc == '\\' && pi + 1 < p.size()) pc = p[++pi];
            if (fold(pc, ci) == fold(t[ti], ci)) {
                ++ti;
                ++pi;
                continue;
            }
        }
        if (star_p == std::string_view::npos) return false;
        pi = star_p;
        ti = ++star_t;
    }
    while (pi < p.size() && p[pi] == '%') ++pi;
    return pi == p.size();
}

uint32_t map_case(uint32_t c, bool upper) {
    if (upper) {
        if (c >= 'a' && c <= 'z') return c - 32;
        if ((c >= 0xE0 && c <= 0xFE && c != 0xF7)) return c - 32;
        if (c == 0xFF) return 0x178;
        if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
            c != 0x17F) {
            bool odd_is_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
            if (odd_is_lower ? (c % 2 == 0) : (c % 2 == 1)) return c - 1;
            return c;
        }
        if (c >= 0x3B1 && c <= 0x3C9 && c != 0x3C2) return c - 32;
        if (c == 0x3C2) return 0x3A3;
        if (c >= 0x430 && c <= 0x44F) return c - 32;
        if (c >= 0x450 && c <= 0x45F) return c - 80;
        return c;
    }
    if (c >= 'A' && c <= 'Z') return c + 32;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7) return c + 32;
    if (c == 0x178) return 0xFF;
    if (c >= 0x100 && c <= 0x17F && c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 &&
        c != 0x17F) {
        bool odd_is_lower = (c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E);
        if (odd_is_lower ? (c % 2 == 1) : (c % 2 == 0)) return c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2) return c + 32;
    if (c >= 0x410 && c <= 0x42F) return c + 32;
    if (c >= 0x400 && c <= 0x40F) return c + 80;
    return c;
}

void append_utf8(std::string& out, uint32_t c) {
    if (c < 0x80) {
        out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (c >> 6)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (c >> 12)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (c >> 18)));
        out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
}

}  // namespace

std::size_t utf8_length(std::string_view s) {
    std::size_t n = 0;
    for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
    return n;
}

std::size_t utf8_offset(std::string_view s, int64_t index) {
    if (index <= 0) return 0;
    std::size_t i = 0;
    int64_t seen = 0;
    while (i < s.size()) {
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) {
            if (seen == index) return i;
            ++seen;
        }
        ++i;
    }
    return s.size();
}

std::string trim_chars(std::string_view s, std::string_view chars, bool left, bool right) {
    std::size_t b = 0, e = s.size();
    if (left) {
        while (b < e && chars.find(s[b]) != std::string_view::npos) ++b;
    }
    if (right) {
        while (e > b && chars.find(s[e - 1]) != std::string_view::npos) --e;
    }
    return std::string(s.substr(b, e - b));
}

void append_case_mapped(std::string& out, std::string_view s, bool upper) {
    std::size_t i = 0;
    while (i < s.size()) {
        unsigned char b = static_cast<unsigned char>(s[i]);
        if (b < 0x80) {
            out.push_back(static_cast<char>(map_case(b, upper)));
            ++i;
            continue;
        }
        int length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
        if (length == 1 || i + static_cast<std::size_t>(length) > s.size()) {
            out.push_back(static_cast<char>(b));  // not UTF-8: keep the byte
            ++i;
            continue;
        }
        uint32_t c = b & (0xFF >> (length + 1));
        for (int k = 1; k < length; ++k)
            c = (c << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3F);
        append_utf8(out, map_case(c, upper));
        i += static_cast<std::size_t>(length);
    }
}

bool like_match(std::string_view text, std::string_view pattern, bool case_insensitive) {
    return like_impl(text, pattern, case_insensitive);
}

}  // namespace millrace
