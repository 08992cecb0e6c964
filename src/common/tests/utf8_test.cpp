#include "common/utf8.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(Utf8, SequenceLengths) {
    EXPECT_EQ(utf8_sequence_length("a", 0), 1u);
    EXPECT_EQ(utf8_sequence_length("\xc3\xa9", 0), 2u);
    EXPECT_EQ(utf8_sequence_length("\xe4\xb8\xad", 0), 3u);
    EXPECT_EQ(utf8_sequence_length("\xf0\x9f\x98\x80", 0), 4u);
    EXPECT_EQ(utf8_sequence_length("\xf4\x8f\xbf\xbf", 0), 4u);  // U+10FFFF
}

TEST(Utf8, RejectsMalformedSequences) {
    EXPECT_EQ(utf8_sequence_length("\x80", 0), 0u);              // lone continuation
    EXPECT_EQ(utf8_sequence_length("\xc1\xbf", 0), 0u);          // overlong 2-byte
    EXPECT_EQ(utf8_sequence_length("\xe0\x9f\xbf", 0), 0u);      // overlong 3-byte
    EXPECT_EQ(utf8_sequence_length("\xed\xa0\x80", 0), 0u);      // surrogate
    EXPECT_EQ(utf8_sequence_length("\xf0\x8f\xbf\xbf", 0), 0u);  // overlong 4-byte
    EXPECT_EQ(utf8_sequence_length("\xf4\x90\x80\x80", 0), 0u);  // above U+10FFFF
    EXPECT_EQ(utf8_sequence_length("\xf5\x80\x80\x80", 0), 0u);
    EXPECT_EQ(utf8_sequence_length("\xe4\xb8", 0), 0u);  // truncated
    EXPECT_EQ(utf8_sequence_length("\xe4"
                                   "a"
                                   "\xad",
                                   0),
              0u);  // not a continuation
}

TEST(Utf8, FindsFirstInvalidByte) {
    EXPECT_TRUE(is_valid_utf8("plain \xc3\xa9"));
    EXPECT_EQ(find_invalid_utf8("ok\xc3\xa9\xff!"), 4u);
    EXPECT_EQ(find_invalid_utf8("\xe4\xb8"), 0u);
}

}  // namespace
}  // namespace millrace
