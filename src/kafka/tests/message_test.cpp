#include "kafka/message.h"

#include <gtest/gtest.h>

#include <random>

#include "kafka/apis.h"
#include "kafka/frame.h"

namespace millrace::kafka {

namespace {

const ApiSpec& api(ApiKey key) { return *find_api(static_cast<int16_t>(key)); }

std::string encode(const Struct& message, int16_t version, bool flexible) {
    WireWriter writer;
    MessageCodec::encode(message, version, flexible, writer);
    return writer.take();
}

TEST(MessageCodec, ProduceRequestRoundTripsAcrossVersions) {
    for (int16_t version = 3; version <= 7; ++version) {
        Struct request(api(ApiKey::kProduce).request);
        request.set("Acks", -1).set("TimeoutMs", 30000);
        Struct& topic = request.add("TopicData");
        topic.set("Name", std::string("orders"));
        topic.add("PartitionData").set("Index", 2).set("Records", std::string("batch"));
        const std::string bytes = encode(request, version, false);
        WireReader reader(bytes);
        auto decoded = MessageCodec::decode(api(ApiKey::kProduce).request, version, false, reader);
        ASSERT_TRUE(decoded.ok()) << decoded.error().to_string();
        EXPECT_EQ(reader.remaining(), 0u);
        EXPECT_TRUE(decoded->is_null("TransactionalId"));
        EXPECT_EQ(decoded->integer("Acks"), -1);
        const Struct& partition = decoded->array("TopicData")[0].array("PartitionData")[0];
        EXPECT_EQ(partition.integer("Index"), 2);
        EXPECT_EQ(partition.string("Records"), "batch");
    }
}

TEST(MessageCodec, FieldsOutsideTheVersionAreNeitherWrittenNorRead) {
    Struct response(api(ApiKey::kMetadata).response);
    response.set("ThrottleTimeMs", 5).set("ControllerId", 0);
    // v0 has neither ThrottleTimeMs nor ControllerId nor ClusterId: an empty broker array and an
    // empty topic array are all there is.
    EXPECT_EQ(encode(response, 0, false), std::string("\0\0\0\0\0\0\0\0", 8));
    const std::string v3 = encode(response, 3, false);
    EXPECT_EQ(v3.size(), 4u + 4 + 2 + 4 + 4);  // throttle, brokers, null cluster id, controller
}

TEST(MessageCodec, NullableArraysAndStrings) {
    // Metadata v1+: a null topic array means "all topics"; v0 cannot say null.
    const std::string null_topics("\xff\xff\xff\xff", 4);
    WireReader v1(null_topics);
    auto decoded = MessageCodec::decode(api(ApiKey::kMetadata).request, 1, false, v1);
    ASSERT_TRUE(decoded.ok());
    EXPECT_TRUE(decoded->is_null("Topics"));
    WireReader v0(null_topics);
    EXPECT_FALSE(MessageCodec::decode(api(ApiKey::kMetadata).request, 0, false, v0).ok());
}

TEST(MessageCodec, FlexibleApiVersionsUsesCompactEncodingAndTags) {
    Struct request(api(ApiKey::kApiVersions).request);
    request.set("ClientSoftwareName", std::string("librdkafka"));
    request.set("ClientSoftwareVersion", std::string("2.0.2"));
    const std::string bytes = encode(request, 3, true);
    EXPECT_EQ(bytes, std::string("\x0b"
                                 "librdkafka"
                                 "\x06"
                                 "2.0.2"
                                 "\x00",
                                 18));
    // Unknown tagged fields are skipped.
    std::string tagged = bytes;
    tagged.back() = '\x01';
    tagged += std::string("\x07\x02zz", 4);
    WireReader reader(tagged);
    auto decoded = MessageCodec::decode(api(ApiKey::kApiVersions).request, 3, true, reader);
    ASSERT_TRUE(decoded.ok());
    EXPECT_EQ(decoded->string("ClientSoftwareName"), "librdkafka");
    EXPECT_EQ(reader.remaining(), 0u);
}

TEST(MessageCodec, EveryApiRoundTripsItsDefaultsAtEveryVersion) {
    for (const ApiSpec& spec : supported_apis()) {
        for (int16_t version = spec.min_version; version <= spec.max_version; ++version) {
            for (const Schema* schema : {&spec.request, &spec.response}) {
                const bool flexible = spec.flexible(version);
                const std::string bytes = encode(Struct(*schema), version, flexible);
                WireReader reader(bytes);
                auto decoded = MessageCodec::decode(*schema, version, flexible, reader);
                ASSERT_TRUE(decoded.ok()) << spec.name << " v" << version;
                EXPECT_EQ(encode(*decoded, version, flexible), bytes) << spec.name;
            }
        }
    }
}

TEST(MessageCodec, TruncatedOrRandomBodiesNeverCrash) {
    std::mt19937 random(42);
    for (const ApiSpec& spec : supported_apis()) {
        Struct request(spec.request);
        const std::string full = encode(request, spec.max_version, spec.flexible(spec.max_version));
        for (std::size_t cut = 0; cut < full.size(); ++cut) {
            WireReader reader(std::string_view(full).substr(0, cut));
            (void)MessageCodec::decode(spec.request, spec.max_version,
                                       spec.flexible(spec.max_version), reader);
        }
        for (int round = 0; round < 200; ++round) {
            std::string noise(random() % 64, '\0');
            for (char& c : noise) c = static_cast<char>(random());
            WireReader reader(noise);
            (void)MessageCodec::decode(spec.request, spec.max_version,
                                       spec.flexible(spec.max_version), reader);
        }
    }
}

TEST(Frame, RequestHeaderV2KeepsAClassicClientId) {
    RequestHeader header{18, 3, 77, std::string("rdkafka")};
    const std::string frame = frame_request(header, true, "");
    // size, key, version, correlation, int16 client id length, id, empty tags.
    EXPECT_EQ(frame.size(), 4u + 8 + 2 + 7 + 1);
    WireReader reader(std::string_view(frame).substr(kSizePrefix));
    auto parsed = read_request_header(reader, true);
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(parsed->correlation_id, 77);
    EXPECT_EQ(parsed->client_id, "rdkafka");
    EXPECT_EQ(frame_response(77, true, "body").size(), 4u + 4 + 1 + 4);
}

}  // namespace

}  // namespace millrace::kafka
