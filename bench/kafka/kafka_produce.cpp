// Kafka produce figures through librdkafka's C API, against any broker (bench/kafka/produce.sh
// points it at `millrace serve`'s Kafka listener). Prints one JSON line.
//   kafka_produce throughput <bootstrap> <topic> <records> <record-bytes>
//     acks=all, linger.ms 5, batch.size 1 MB, no compression; records/s counted from the first
//     produce call to the last delivery report (so only acknowledged records count).
//   kafka_produce latency <bootstrap> <topic> <rate> <seconds> <record-bytes>
//     open loop at `rate` records/s (acks=all, linger.ms 0), each value stamped with its send
//     time on the steady clock; a consumer thread in this process reading the topic's partition 0
//     from the start records receive - send; prints p50/p99/p99.9 in microseconds.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
        .count();
}

std::atomic<int64_t> g_delivered{0};
std::atomic<int64_t> g_failed{0};

void on_delivery(rd_kafka_t*, const rd_kafka_message_t* message, void*) {
    if (message->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (g_failed.fetch_add(1) == 0) {
            std::fprintf(stderr, "delivery failed: %s\n", rd_kafka_err2str(message->err));
        }
    } else {
        g_delivered.fetch_add(1, std::memory_order_relaxed);
    }
}

void set(rd_kafka_conf_t* conf, const char* key, const std::string& value) {
    char error[512];
    if (rd_kafka_conf_set(conf, key, value.c_str(), error, sizeof error) != RD_KAFKA_CONF_OK) {
        std::fprintf(stderr, "%s: %s\n", key, error);
        std::exit(2);
    }
}

rd_kafka_t* make_producer(const std::string& bootstrap, const std::string& linger_ms) {
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    set(conf, "bootstrap.servers", bootstrap);
    set(conf, "acks", "all");
    set(conf, "linger.ms", linger_ms);
    set(conf, "batch.size", "1000000");
    set(conf, "compression.type", "none");
    set(conf, "queue.buffering.max.messages", "1000000");
    set(conf, "queue.buffering.max.kbytes", "1048576");
    rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
    char error[512];
    rd_kafka_t* producer = rd_kafka_new(RD_KAFKA_PRODUCER, conf, error, sizeof error);
    if (producer == nullptr) {
        std::fprintf(stderr, "producer: %s\n", error);
        std::exit(1);
    }
    return producer;
}

// Produces one copy of `value`, waiting (serving delivery reports) while the local queue is full.
void produce(rd_kafka_t* producer, const std::string& topic, std::string& value) {
    for (;;) {
        const rd_kafka_resp_err_t err = rd_kafka_producev(
            producer, RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_VALUE(value.data(), value.size()),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
            std::fprintf(stderr, "produce: %s\n", rd_kafka_err2str(err));
            std::exit(1);
        }
        rd_kafka_poll(producer, 10);
    }
}

int throughput(const std::string& bootstrap, const std::string& topic, int64_t records,
               std::size_t bytes) {
    rd_kafka_t* producer = make_producer(bootstrap, "5");
    std::string value(bytes, 'x');
    // Metadata first, so the connection set-up is not timed.
    const rd_kafka_metadata_t* metadata = nullptr;
    rd_kafka_topic_t* handle = rd_kafka_topic_new(producer, topic.c_str(), nullptr);
    const rd_kafka_resp_err_t err = rd_kafka_metadata(producer, 0, handle, &metadata, 10000);
    rd_kafka_topic_destroy(handle);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        std::fprintf(stderr, "no metadata for %s: %s\n", topic.c_str(), rd_kafka_err2str(err));
        return 1;
    }
    rd_kafka_metadata_destroy(metadata);
    const int64_t start = now_ns();
    for (int64_t i = 0; i < records; ++i) {
        std::memcpy(value.data(), &i, sizeof i);
        produce(producer, topic, value);
        if ((i & 1023) == 0) rd_kafka_poll(producer, 0);
    }
    while (rd_kafka_outq_len(producer) > 0 && now_ns() - start < 300'000'000'000)
        rd_kafka_poll(producer, 50);
    const double seconds = static_cast<double>(now_ns() - start) / 1e9;
    const auto delivered = static_cast<double>(g_delivered.load());
    std::printf(
        "{\"records_per_s\":%.0f,\"mb_per_s\":%.1f,\"delivered\":%.0f,\"failed\":%lld,\"seconds\":%"
        ".3f}\n",
        delivered / seconds, delivered * static_cast<double>(bytes) / seconds / 1e6, delivered,
        static_cast<long long>(g_failed.load()), seconds);
    rd_kafka_destroy(producer);
    return g_failed.load() == 0 ? 0 : 1;
}

int latency(const std::string& bootstrap, const std::string& topic, int64_t rate, int64_t seconds,
            std::size_t bytes) {
    const int64_t total = rate * seconds;
    std::vector<int64_t> latencies;
    latencies.reserve(static_cast<std::size_t>(total));
    std::atomic<bool> consumer_ready{false};
    std::atomic<bool> give_up{false};
    std::atomic<std::size_t> received{0};

    std::thread consumer_thread([&] {
        rd_kafka_conf_t* conf = rd_kafka_conf_new();
        set(conf, "bootstrap.servers", bootstrap);
        set(conf, "group.id", "kafka-produce-bench");
        set(conf, "enable.auto.commit", "false");
        set(conf, "fetch.wait.max.ms", "100");
        set(conf, "fetch.min.bytes", "1");
        char error[512];
        rd_kafka_t* consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, error, sizeof error);
        if (consumer == nullptr) {
            std::fprintf(stderr, "consumer: %s\n", error);
            std::exit(1);
        }
        rd_kafka_topic_partition_list_t* partitions = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(partitions, topic.c_str(), 0)->offset =
            RD_KAFKA_OFFSET_BEGINNING;
        rd_kafka_assign(consumer, partitions);
        rd_kafka_topic_partition_list_destroy(partitions);
        consumer_ready = true;
        while (static_cast<int64_t>(latencies.size()) < total && !give_up) {
            rd_kafka_message_t* message = rd_kafka_consumer_poll(consumer, 100);
            if (message == nullptr) continue;
            const int64_t received_at = now_ns();
            if (message->err == RD_KAFKA_RESP_ERR_NO_ERROR && message->len >= sizeof(int64_t)) {
                int64_t sent = 0;
                std::memcpy(&sent, message->payload, sizeof sent);
                latencies.push_back(received_at - sent);
                received = latencies.size();
            }
            rd_kafka_message_destroy(message);
        }
        rd_kafka_consumer_close(consumer);
        rd_kafka_destroy(consumer);
    });
    while (!consumer_ready) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    // Let the consumer's first Fetch reach the broker before the clock starts.
    std::this_thread::sleep_for(std::chrono::seconds(1));

    rd_kafka_t* producer = make_producer(bootstrap, "0");
    std::string value(bytes, 'x');
    const int64_t start = now_ns();
    const int64_t interval = 1'000'000'000 / rate;
    for (int64_t i = 0; i < total; ++i) {
        const int64_t due = start + i * interval;
        while (now_ns() < due) rd_kafka_poll(producer, 0);
        const int64_t sent = now_ns();
        std::memcpy(value.data(), &sent, sizeof sent);
        produce(producer, topic, value);
    }
    rd_kafka_flush(producer, 60000);
    // The consumer stops once it has every record, or 60 s after the last was acknowledged.
    const int64_t deadline = now_ns() + 60'000'000'000;
    while (static_cast<int64_t>(received.load()) < total && now_ns() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    give_up = true;
    consumer_thread.join();
    rd_kafka_destroy(producer);

    std::sort(latencies.begin(), latencies.end());
    auto at = [&](double q) {
        if (latencies.empty()) return 0.0;
        const auto index = static_cast<std::size_t>(q * static_cast<double>(latencies.size() - 1));
        return static_cast<double>(latencies[index]) / 1000.0;
    };
    std::printf(
        "{\"rate\":%lld,\"sent\":%lld,\"received\":%zu,\"failed\":%lld,\"latency_us\":{\"p50\":%."
        "0f,"
        "\"p99\":%.0f,\"p99_9\":%.0f,\"max\":%.0f}}\n",
        static_cast<long long>(rate), static_cast<long long>(total), latencies.size(),
        static_cast<long long>(g_failed.load()), at(0.5), at(0.99), at(0.999), at(1.0));
    return static_cast<int64_t>(latencies.size()) == total ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
    const std::string mode = argc > 1 ? argv[1] : "";
    if (mode == "throughput" && argc == 6) {
        return throughput(argv[2], argv[3], std::atoll(argv[4]),
                          static_cast<std::size_t>(std::atoll(argv[5])));
    }
    if (mode == "latency" && argc == 7) {
        return latency(argv[2], argv[3], std::atoll(argv[4]), std::atoll(argv[5]),
                       static_cast<std::size_t>(std::atoll(argv[6])));
    }
    std::fprintf(
        stderr,
        "usage: kafka_produce throughput <bootstrap> <topic> <records> <record-bytes>\n"
        "       kafka_produce latency <bootstrap> <topic> <rate> <seconds> <record-bytes>\n");
    return 2;
}
