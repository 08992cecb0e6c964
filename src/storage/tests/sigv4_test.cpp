#include "storage/sigv4.h"

#include <gtest/gtest.h>

namespace millrace {
namespace {

// AWS's Signature Version 4 test suite ("get-vanilla" and friends): the example credentials,
// date and scope of the suite, and its published signatures.
const SigV4Credentials kSuiteCredentials{"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
                                         ""};
constexpr const char* kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

SigV4Request suite_request() {
    SigV4Request request;
    request.method = "GET";
    request.path = "/";
    request.headers = {{"Host", "example.amazonaws.com"}, {"X-Amz-Date", "20150830T123600Z"}};
    request.payload_sha256 = kEmptySha256;
    return request;
}

TEST(SigV4Signer, GetVanillaMatchesTheAwsTestSuite) {
    SigV4Signer signer(kSuiteCredentials, "us-east-1", "service");
    const SigV4Request request = suite_request();
    EXPECT_EQ(signer.canonical_request(request),
              "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\n"
              "host;x-amz-date\n" +
                  std::string(kEmptySha256));
    EXPECT_EQ(signer.authorization(request, "20150830T123600Z"),
              "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
              "SignedHeaders=host;x-amz-date, "
              "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
}

TEST(SigV4Signer, QueryParametersAreSortedBeforeSigning) {
    // get-vanilla-query-order-key-case: sent as ?Param2=value2&Param1=value1.
    SigV4Signer signer(kSuiteCredentials, "us-east-1", "service");
    SigV4Request request = suite_request();
    request.query = {{"Param2", "value2"}, {"Param1", "value1"}};
    EXPECT_EQ(signer.signature(request, "20150830T123600Z"),
              "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500");
}

TEST(SigV4Signer, S3GetObjectExampleOfTheS3Documentation) {
    // "Example: GET Object" of the S3 API reference (signature calculation with the payload hash
    // in a header): the first 10 bytes of examplebucket/test.txt.
    SigV4Signer signer({"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""},
                       "us-east-1", "s3");
    SigV4Request request;
    request.method = "GET";
    request.path = "/test.txt";
    request.headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                       {"Range", "bytes=0-9"},
                       {"x-amz-content-sha256", kEmptySha256},
                       {"x-amz-date", "20130524T000000Z"}};
    request.payload_sha256 = kEmptySha256;
    EXPECT_EQ(signer.string_to_sign(request, "20130524T000000Z"),
              "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
              "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
    EXPECT_EQ(signer.authorization(request, "20130524T000000Z"),
              "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/"
              "aws4_request, SignedHeaders=host;range;x-amz-content-sha256;x-amz-date, "
              "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Signer, HeaderValuesAreTrimmedAndNamesLowercased) {
    SigV4Signer signer(kSuiteCredentials, "us-east-1", "service");
    SigV4Request a = suite_request();
    SigV4Request b = suite_request();
    b.headers = {{"X-AMZ-DATE", "  20150830T123600Z "}, {"HOST", "example.amazonaws.com"}};
    EXPECT_EQ(signer.signature(a, "20150830T123600Z"), signer.signature(b, "20150830T123600Z"));
}

TEST(SigV4Signer, UriEncodingKeepsUnreservedCharactersOnly) {
    EXPECT_EQ(uri_encode("a b/c~d-e_f.g+h=", true), "a%20b/c~d-e_f.g%2Bh%3D");
    EXPECT_EQ(uri_encode("a/b", false), "a%2Fb");
    EXPECT_EQ(uri_encode("\xE1\x88\xB4", true), "%E1%88%B4");
    EXPECT_EQ(canonical_query({{"uploads", ""}, {"b", "x y"}, {"a", "1"}}), "a=1&b=x%20y&uploads=");
}

TEST(SigV4Signer, HashesAndDates) {
    EXPECT_EQ(sha256_hex(""), kEmptySha256);
    EXPECT_EQ(hex_encode(hmac_sha256("key", "The quick brown fox jumps over the lazy dog")),
              "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
    EXPECT_EQ(amz_date(std::chrono::system_clock::time_point(std::chrono::seconds(1440938160))),
              "20150830T123600Z");
}

}  // namespace
}  // namespace millrace
