// libFuzzer target: arbitrary bytes as one Kafka request frame (without its size prefix),
// handled by a Broker over a real log with a topic. It must never crash, and every frame with
// a request header gets exactly one well-formed answer (size prefix matching, the request's
// correlation id first), except a Produce with acks=0, which gets none. Fetch, JoinGroup and
// SyncGroup may wait (long poll, other members) and are decoded only. Every body is also
// decoded with every supported version, and re-encoding what decodes must decode again.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <future>
#include <string>

#include "common/check.h"
#include "common/clock.h"
#include "common/logger.h"
#include "kafka/apis.h"
#include "kafka/broker.h"
#include "kafka/frame.h"
#include "kafka/message.h"
#include "log/log.h"

namespace {

using namespace millrace;
using namespace millrace::kafka;

struct Fixture {
    Fixture() {
        std::string pattern =
            std::filesystem::temp_directory_path().string() + "/fuzz-kafka-XXXXXX";
        dir = ::mkdtemp(pattern.data());
        log = std::move(Log::open(dir, clock)).value();
        TopicConfig config;
        config.partitions = 2;
        (void)log->create_topic("orders", config);
        BrokerOptions options;
        options.auto_create_topics = false;
        broker = std::make_unique<Broker>(*log, clock, logger, options);
        MILLRACE_CHECK(broker->start().ok(), "broker start");
    }
    std::string dir;
    SystemClock clock;
    Logger logger{[](std::string_view) {}};
    std::unique_ptr<Log> log;
    std::unique_ptr<Broker> broker;
};

Fixture& fixture() {
    static Fixture* instance = new Fixture();
    return *instance;
}

bool waits(int16_t api_key) {
    return api_key == static_cast<int16_t>(ApiKey::kFetch) ||
           api_key == static_cast<int16_t>(ApiKey::kJoinGroup) ||
           api_key == static_cast<int16_t>(ApiKey::kSyncGroup) ||
           api_key == static_cast<int16_t>(ApiKey::kDeleteTopics) ||
           api_key == static_cast<int16_t>(ApiKey::kCreateTopics);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view frame(reinterpret_cast<const char*>(data), size);
    const auto header = peek_request_header(frame);
    if (header) {
        if (const ApiSpec* api = find_api(header->api_key)) {
            for (int16_t version = api->min_version; version <= api->max_version; ++version) {
                WireReader reader(frame.substr(8));
                auto decoded =
                    MessageCodec::decode(api->request, version, api->flexible(version), reader);
                if (!decoded.ok()) continue;
                WireWriter writer;
                MessageCodec::encode(*decoded, version, api->flexible(version), writer);
                WireReader again(writer.buffer());
                MILLRACE_CHECK(
                    MessageCodec::decode(api->request, version, api->flexible(version), again).ok(),
                    "re-encoded body does not decode");
            }
        }
    }
    if (!header || waits(header->api_key)) return 0;
    std::promise<std::optional<std::string>> promise;
    auto answer = promise.get_future();
    fixture().broker->handle(frame, "127.0.0.1", [&](std::optional<std::string> response) {
        promise.set_value(std::move(response));
    });
    const std::optional<std::string> response = answer.get();
    if (response) {
        MILLRACE_CHECK(response->size() >= 8, "short response");
        WireReader reader(*response);
        MILLRACE_CHECK(static_cast<std::size_t>(reader.int32()) == response->size() - 4,
                       "size prefix");
        MILLRACE_CHECK(reader.int32() == header->correlation_id, "correlation id");
    } else {
        MILLRACE_CHECK(header->api_key == static_cast<int16_t>(ApiKey::kProduce),
                       "only acks=0 produces go unanswered");
    }
    return 0;
}
