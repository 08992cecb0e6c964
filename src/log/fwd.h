#pragma once

#include <cstdint>

namespace millrace {

/// A record's position in a partition: 0, 1, 2... without gaps, never reused. Kafka's offsets.
using Offset = int64_t;
/// A partition's number within its topic, 0-based.
using PartitionId = int32_t;

class Log;
class Topic;
class Partition;
class PartitionReader;
class Segment;
class ConsumerOffsets;
class DurabilityFlusher;
struct TopicConfig;
struct RecordView;
struct RecordInput;

}  // namespace millrace
