#include "formats/base64.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

std::string encode(std::string_view bytes) {
    std::string out;
    append_base64(out, bytes);
    return out;
}

TEST(Base64Test, EncodesRfc4648Vectors) {
    EXPECT_EQ(encode(""), "");
    EXPECT_EQ(encode("f"), "Zg==");
    EXPECT_EQ(encode("fo"), "Zm8=");
    EXPECT_EQ(encode("foo"), "Zm9v");
    EXPECT_EQ(encode("foob"), "Zm9vYg==");
    EXPECT_EQ(encode("fooba"), "Zm9vYmE=");
    EXPECT_EQ(encode("foobar"), "Zm9vYmFy");
    EXPECT_EQ(encode(std::string("\xfb\xff\xbf", 3)), "+/+/");
}

TEST(Base64Test, AppendsToExistingText) {
    std::string out = "x=";
    append_base64(out, "foo");
    EXPECT_EQ(out, "x=Zm9v");
}

TEST(Base64Test, DecodesRfc4648Vectors) {
    const std::pair<std::string_view, std::string_view> vectors[] = {
        {"", ""},
        {"Zg==", "f"},
        {"Zm8=", "fo"},
        {"Zm9v", "foo"},
        {"Zm9vYg==", "foob"},
        {"Zm9vYmE=", "fooba"},
        {"Zm9vYmFy", "foobar"},
    };
    for (const auto& [text, bytes] : vectors) {
        std::string out = "previous";
        ASSERT_TRUE(decode_base64(text, &out)) << text;
        EXPECT_EQ(out, bytes);
    }
}

TEST(Base64Test, RoundTripsEveryByteAndLength) {
    std::string bytes;
    for (int i = 0; i < 256; ++i) bytes.push_back(static_cast<char>(i));
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
        const std::string_view input(bytes.data() + (256 - length), length);
        std::string decoded;
        ASSERT_TRUE(decode_base64(encode(input), &decoded)) << length;
        EXPECT_EQ(decoded, input);
    }
}

TEST(Base64Test, RejectsMalformedText) {
    for (std::string_view text :
         {"Z", "Zg", "Zg=", "Zm9vY", "Zg===", "====", "=Zg=", "Z=g=", "Zm=v", "Zm9v=Zg=", "Zm9v\n",
          "Zm 9", "Zm-_", "Zm9vYg=A", "Zh==", "Zm9=", "Zm\xc3\xa9"}) {
        std::string out;
        EXPECT_FALSE(decode_base64(text, &out)) << text;
    }
}

}  // namespace
}  // namespace millrace
