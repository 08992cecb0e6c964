#include "log/crc32c.h"

#include <nmmintrin.h>

#include <cstring>

namespace millrace {

uint32_t crc32c(const void* data, std::size_t size, uint32_t crc) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    uint64_t state = ~crc;
    while (size >= 8) {
        uint64_t word;
        std::memcpy(&word, bytes, 8);
        state = _mm_crc32_u64(state, word);
        bytes += 8;
        size -= 8;
    }
    auto narrow = static_cast<uint32_t>(state);
    while (size > 0) {
        narrow = _mm_crc32_u8(narrow, *bytes);
        ++bytes;
        --size;
    }
    return ~narrow;
}

}  // namespace millrace
