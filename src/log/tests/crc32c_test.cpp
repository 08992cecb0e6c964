#include "log/crc32c.h"

#include <gtest/gtest.h>

#include <string>

namespace millrace {

TEST(Crc32c, KnownVectors) {
    EXPECT_EQ(crc32c("123456789", 9), 0xE3069283u);
    EXPECT_EQ(crc32c("", 0), 0u);
    std::string zeros(32, '\0');
    EXPECT_EQ(crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);  // RFC 3720 B.4
}

TEST(Crc32c, ContinuesAcrossCalls) {
    const std::string text = "The quick brown fox jumps over the lazy dog";
    const uint32_t whole = crc32c(text.data(), text.size());
    const uint32_t split = crc32c(text.data() + 13, text.size() - 13, crc32c(text.data(), 13));
    EXPECT_EQ(whole, split);
}

}  // namespace millrace
