#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "kafka/message.h"

namespace millrace::kafka {

/// The Kafka APIs this broker answers (request header api_key).
enum class ApiKey : int16_t {
    kProduce = 0,
    kFetch = 1,
    kListOffsets = 2,
    kMetadata = 3,
    kOffsetCommit = 8,
    kOffsetFetch = 9,
    kFindCoordinator = 10,
    kJoinGroup = 11,
    kHeartbeat = 12,
    kLeaveGroup = 13,
    kSyncGroup = 14,
    kDescribeGroups = 15,
    kListGroups = 16,
    kApiVersions = 18,
    kCreateTopics = 19,
    kDeleteTopics = 20,
    kInitProducerId = 22,
    kAddPartitionsToTxn = 24,
    kAddOffsetsToTxn = 25,
    kEndTxn = 26,
    kTxnOffsetCommit = 28,
    kDescribeConfigs = 32,
};

/// Kafka error codes (org.apache.kafka.common.protocol.Errors) that this broker returns.
enum class KafkaError : int16_t {
    kNone = 0,
    kOffsetOutOfRange = 1,
    kCorruptMessage = 2,
    kUnknownTopicOrPartition = 3,
    kLeaderNotAvailable = 5,
    kMessageTooLarge = 10,
    kCoordinatorNotAvailable = 15,
    kNotCoordinator = 16,
    kInvalidTopicException = 17,
    kInvalidRequiredAcks = 21,
    kIllegalGeneration = 22,
    kInconsistentGroupProtocol = 23,
    kInvalidGroupId = 24,
    kUnknownMemberId = 25,
    kInvalidSessionTimeout = 26,
    kRebalanceInProgress = 27,
    kTopicAuthorizationFailed = 29,
    kUnsupportedVersion = 35,
    kTopicAlreadyExists = 36,
    kInvalidPartitions = 37,
    kInvalidReplicationFactor = 38,
    kInvalidRequest = 42,
    kOutOfOrderSequenceNumber = 45,
    kDuplicateSequenceNumber = 46,
    kInvalidProducerEpoch = 47,
    kInvalidTxnState = 48,
    kInvalidProducerIdMapping = 49,
    kInvalidTransactionTimeout = 50,
    kConcurrentTransactions = 51,
    kOperationNotAttempted = 55,
    kUnsupportedForMessageFormat = 43,
    kInvalidConfig = 40,
    kUnknownServerError = -1,
    kUnknownProducerId = 59,
    kGroupIdNotFound = 69,
    kNonEmptyGroup = 68,
    kMemberIdRequired = 79,
    kInvalidRecord = 87,
};

/// One supported API: the versions we advertise in ApiVersions, the first flexible version
/// (KIP-482; kAnyVersion when none of ours is), and the request and response schemas, transcribed
/// from Kafka's message definitions for exactly those versions. This table is the one source
/// of truth for dispatch, version checks and the ApiVersions answer.
struct ApiSpec {
    ApiKey key;
    std::string_view name;
    int16_t min_version;
    int16_t max_version;
    int16_t flexible_from;
    const Schema& request;
    const Schema& response;

    bool flexible(int16_t version) const { return version >= flexible_from; }
};

/// Every supported API, by key.
const std::vector<ApiSpec>& supported_apis();
/// nullptr when the key is not supported.
const ApiSpec* find_api(int16_t key);

}  // namespace millrace::kafka
