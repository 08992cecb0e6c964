#include "formats/base64.h"

#include <array>
#include <cstdint>

namespace millrace {

namespace {

constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr uint8_t kInvalid = 0xff;

constexpr std::array<uint8_t, 256> make_decode_table() {
    std::array<uint8_t, 256> table{};
    for (auto& entry : table) entry = kInvalid;
    for (uint8_t i = 0; i < 64; ++i) table[static_cast<unsigned char>(kAlphabet[i])] = i;
    return table;
}

constexpr std::array<uint8_t, 256> kDecode = make_decode_table();

}  // namespace

void append_base64(std::string& out, std::string_view bytes) {
    const std::size_t old_size = out.size();
    out.resize(old_size + (bytes.size() + 2) / 3 * 4);
    char* dst = out.data() + old_size;
    const auto* src = reinterpret_cast<const unsigned char*>(bytes.data());
    std::size_t remaining = bytes.size();
    while (remaining >= 3) {
        const uint32_t group = (uint32_t{src[0]} << 16) | (uint32_t{src[1]} << 8) | src[2];
        dst[0] = kAlphabet[(group >> 18) & 63];
        dst[1] = kAlphabet[(group >> 12) & 63];
        dst[2] = kAlphabet[(group >> 6) & 63];
        dst[3] = kAlphabet[group & 63];
        src += 3;
        dst += 4;
        remaining -= 3;
    }
    if (remaining > 0) {
        uint32_t group = uint32_t{src[0]} << 16;
        if (remaining == 2) group |= uint32_t{src[1]} << 8;
        dst[0] = kAlphabet[(group >> 18) & 63];
        dst[1] = kAlphabet[(group >> 12) & 63];
        dst[2] = remaining == 2 ? kAlphabet[(group >> 6) & 63] : '=';
        dst[3] = '=';
    }
}

bool decode_base64(std::string_view text, std::string* out) {
    out->clear();
    if (text.size() % 4 != 0) return false;
    if (text.empty()) return true;
    std::size_t padding = 0;
    if (text.back() == '=') padding = text[text.size() - 2] == '=' ? 2 : 1;
    out->resize(text.size() / 4 * 3 - padding);
    auto* dst = reinterpret_cast<unsigned char*>(out->data());
    const auto* src = reinterpret_cast<const unsigned char*>(text.data());
    const std::size_t full_groups = text.size() / 4 - (padding > 0 ? 1 : 0);
    for (std::size_t g = 0; g < full_groups; ++g, src += 4, dst += 3) {
        const uint8_t a = kDecode[src[0]], b = kDecode[src[1]], c = kDecode[src[2]],
                      d = kDecode[src[3]];
        if (((a | b | c | d) & 0xc0) != 0) return false;  // kInvalid has the top bits set
        const uint32_t group = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6) | d;
        dst[0] = static_cast<unsigned char>(group >> 16);
        dst[1] = static_cast<unsigned char>(group >> 8);
        dst[2] = static_cast<unsigned char>(group);
    }
    if (padding > 0) {
        const uint8_t a = kDecode[src[0]], b = kDecode[src[1]];
        const uint8_t c = padding == 1 ? kDecode[src[2]] : 0;
        if (((a | b | c) & 0xc0) != 0) return false;
        const uint32_t group = (uint32_t{a} << 18) | (uint32_t{b} << 12) | (uint32_t{c} << 6);
        // Canonical form only: the bits below the last whole byte must be zero.
        if ((group & (padding == 1 ? 0xffu : 0xffffu)) != 0) return false;
        dst[0] = static_cast<unsigned char>(group >> 16);
        if (padding == 1) dst[1] = static_cast<unsigned char>(group >> 8);
    }
    return true;
}

}  // namespace millrace
