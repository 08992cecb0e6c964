#include "storage/s3_object_store.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

TEST(S3ObjectStore, MultipartRangesCoverTheFileInPartSizedPieces) {
    using Ranges = std::vector<std::pair<uint64_t, uint64_t>>;
    EXPECT_EQ(multipart_ranges(10, 4), (Ranges{{0, 4}, {4, 4}, {8, 2}}));
    EXPECT_EQ(multipart_ranges(8, 4), (Ranges{{0, 4}, {4, 4}}));
    EXPECT_EQ(multipart_ranges(3, 4), (Ranges{{0, 3}}));
    // An empty file is one empty part (S3 refuses to complete an upload of no parts).
    EXPECT_EQ(multipart_ranges(0, 4), (Ranges{{0, 0}}));
}

TEST(S3ObjectStore, CompleteMultipartBodyNumbersPartsFromOne) {
    EXPECT_EQ(complete_multipart_body({"\"a1\"", "\"b2\""}),
              "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>\"a1\"</ETag></Part>"
              "<Part><PartNumber>2</PartNumber><ETag>\"b2\"</ETag></Part>"
              "</CompleteMultipartUpload>");
}

TEST(S3ObjectStore, XmlValuesDecodeEntities) {
    const std::string xml =
        "<ListBucketResult><Contents><Key>a&amp;b/c&lt;1&gt;</Key><Size>3</Size></Contents>"
        "<Contents><Key>d&#47;e</Key><Size>10</Size></Contents></ListBucketResult>";
    auto contents = xml_values(xml, "Contents");
    ASSERT_EQ(contents.size(), 2u);
    EXPECT_EQ(xml_values(contents[0], "Key"), std::vector<std::string>{"a&b/c<1>"});
    EXPECT_EQ(xml_values(contents[1], "Key"), std::vector<std::string>{"d/e"});
    EXPECT_TRUE(xml_values(xml, "Missing").empty());
    EXPECT_TRUE(xml_values("<Key>unterminated", "Key").empty());
}

TEST(S3ObjectStore, XmlErrorBodiesBecomeClearErrors) {
    const std::string body =
        "<?xml version=\"1.0\"?><Error><Code>SignatureDoesNotMatch</Code><Message>The request "
        "signature we calculated does not match</Message></Error>";
    Error denied = s3_error("S3 PUT s3://b/k", 403, body);
    EXPECT_EQ(denied.code(), ErrorCode::kConfig);
    EXPECT_NE(denied.message().find("SignatureDoesNotMatch"), std::string::npos);
    EXPECT_NE(denied.message().find("does not match"), std::string::npos);
    EXPECT_EQ(s3_error("x", 404, "<Error><Code>NoSuchKey</Code></Error>").code(),
              ErrorCode::kNotFound);
    EXPECT_EQ(s3_error("x", 503, "").code(), ErrorCode::kUnavailable);
    EXPECT_EQ(s3_error("x", 400, "not xml").code(), ErrorCode::kIo);
}

TEST(S3ObjectStore, UnreachableEndpointFailsAfterBoundedRetries) {
    S3Options options;
    auto endpoint = HttpUrl::parse("http://127.0.0.1:1");
    ASSERT_TRUE(endpoint.ok());
    options.endpoint = *endpoint;
    options.bucket = "b";
    options.credentials = {"id", "secret", ""};
    options.max_attempts = 3;
    options.first_backoff = std::chrono::milliseconds(1);
    options.max_backoff = std::chrono::milliseconds(2);
    S3ObjectStore store(options);
    auto got = store.get("k");
    ASSERT_FALSE(got.ok());
    EXPECT_EQ(got.error().code(), ErrorCode::kUnavailable);
    EXPECT_EQ(store.requests_sent(), 3u);
    EXPECT_EQ(store.url("a/b"), "s3://b/a/b");
}

}  // namespace
}  // namespace millrace
