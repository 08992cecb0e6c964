#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/result.h"

namespace millrace {

/// When a partition's appended bytes are forced to disk.
enum class FsyncPolicy {
    kAlways,    // before an append is acknowledged (group commit: concurrent appends share one)
    kInterval,  // every `fsync_interval`, and when a segment is rolled
    kNever,     // left to the operating system (segments are still synced when rolled)
};

/// What the ingestion server does with a record that is not JSON or breaks the topic's schema.
enum class OnIngestError {
    kReject,      // reported in the response, not stored
    kDeadLetter,  // reported, and stored with the reason in the topic `<topic>_dlq`
};

std::string_view enum_name(FsyncPolicy policy);
std::string_view enum_name(OnIngestError action);

/// A topic's settings, persisted in `<data_dir>/log/<topic>/topic.json` when it is created.
/// The log uses partitions, fsync, segment and retention settings; the ingestion server uses
/// schema, on_error and capture (kept here so a topic created over HTTP keeps them).
struct TopicConfig {
    int32_t partitions = 1;
    FsyncPolicy fsync = FsyncPolicy::kInterval;
    std::chrono::milliseconds fsync_interval{50};
    int64_t segment_bytes = int64_t{256} << 20;  // roll when the active segment reaches this
    int64_t retention_bytes = -1;                // per partition; -1 = unlimited
    int64_t retention_ms = -1;                   // by largest record timestamp; -1 = unlimited
    std::string schema;  // column spec ("id: int64 not null, ..."); "" = any JSON
    OnIngestError on_error = OnIngestError::kReject;
    /// Request data the server adds to each record as a field: {field, source}, where source is
    /// `remote_addr` (the client's IP address) or `header:<Name>` (e.g. header:User-Agent).
    std::vector<std::pair<std::string, std::string>> capture;
    /// Every record produced must be in the schema registry's wire format (magic byte 0, the
    /// 4-byte id of a registered schema): Kafka Produce refuses a partition's batches
    /// otherwise, HTTP ingest (unframed JSON) is refused.
    bool require_schema = false;

    /// Checks ranges: 1..1024 partitions, 1 ms..1 h interval, 4 KiB..1 GiB segments, captures.
    Status validate() const;
};

/// The JSON text of topic.json.
std::string topic_config_to_json(const TopicConfig& config);
/// Parses topic.json (or a POST /v1/topics body: the same keys, all optional).
Result<TopicConfig> topic_config_from_json(std::string_view json);

/// Topic and consumer names: 1..200 of [A-Za-z0-9._-], not starting with '.' or '_' (names
/// under data_dir/log starting with '_' are the log's own).
bool is_valid_topic_name(std::string_view name);

}  // namespace millrace
