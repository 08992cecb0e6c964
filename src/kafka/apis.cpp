#include "kafka/apis.h"

#include <limits>

namespace millrace::kafka {

namespace {

using enum FieldType;

// Each schema lists the fields of Kafka's message definition (same names, same order) for the
// versions we support; fields of later versions are left out.

constexpr int64_t kNoAuthorizedOperations = std::numeric_limits<int32_t>::min();

const Schema kApiVersionsRequest = {
    {"ClientSoftwareName", kString, from(3)},
    {"ClientSoftwareVersion", kString, from(3)},
};
const Schema kApiVersionsResponse = {
    {"ErrorCode", kInt16, from(0)},
    {"ApiKeys",
     kStructArray,
     from(0),
     kNone,
     {{"ApiKey", kInt16, from(0)},
      {"MinVersion", kInt16, from(0)},
      {"MaxVersion", kInt16, from(0)}}},
    {"ThrottleTimeMs", kInt32, from(1)},
};

const Schema kMetadataRequest = {
    {"Topics", kStructArray, from(0), from(1), {{"Name", kString, from(0)}}},
    {"AllowAutoTopicCreation", kBool, from(4), kNone, {}, 1},
    {"IncludeClusterAuthorizedOperations", kBool, range(8, 10)},
    {"IncludeTopicAuthorizedOperations", kBool, from(8)},
};
const Schema kMetadataResponse = {
    {"ThrottleTimeMs", kInt32, from(3)},
    {"Brokers",
     kStructArray,
     from(0),
     kNone,
     {{"NodeId", kInt32, from(0)},
      {"Host", kString, from(0)},
      {"Port", kInt32, from(0)},
      {"Rack", kString, from(1), from(1)}}},
    {"ClusterId", kString, from(2), from(2)},
    {"ControllerId", kInt32, from(1), kNone, {}, -1},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"ErrorCode", kInt16, from(0)},
      {"Name", kString, from(0)},
      {"IsInternal", kBool, from(1)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"ErrorCode", kInt16, from(0)},
        {"PartitionIndex", kInt32, from(0)},
        {"LeaderId", kInt32, from(0)},
        {"LeaderEpoch", kInt32, from(7), kNone, {}, -1},
        {"ReplicaNodes", kInt32Array, from(0)},
        {"IsrNodes", kInt32Array, from(0)},
        {"OfflineReplicas", kInt32Array, from(5)}}},
      {"TopicAuthorizedOperations", kInt32, from(8), kNone, {}, kNoAuthorizedOperations}}},
    {"ClusterAuthorizedOperations", kInt32, range(8, 10), kNone, {}, kNoAuthorizedOperations},
};

const Schema kProduceRequest = {
    {"TransactionalId", kString, from(3), from(3)},
    {"Acks", kInt16, from(0)},
    {"TimeoutMs", kInt32, from(0)},
    {"TopicData",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"PartitionData",
       kStructArray,
       from(0),
       kNone,
       {{"Index", kInt32, from(0)}, {"Records", kRecords, from(0), from(0)}}}}},
};
const Schema kProduceResponse = {
    {"Responses",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"PartitionResponses",
       kStructArray,
       from(0),
       kNone,
       {{"Index", kInt32, from(0)},
        {"ErrorCode", kInt16, from(0)},
        {"BaseOffset", kInt64, from(0)},
        {"LogAppendTimeMs", kInt64, from(2), kNone, {}, -1},
        {"LogStartOffset", kInt64, from(5), kNone, {}, -1}}}}},
    {"ThrottleTimeMs", kInt32, from(1)},
};

const Schema kFetchRequest = {
    {"ReplicaId", kInt32, range(0, 14), kNone, {}, -1},
    {"MaxWaitMs", kInt32, from(0)},
    {"MinBytes", kInt32, from(0)},
    {"MaxBytes", kInt32, from(3), kNone, {}, 0x7fffffff},
    {"IsolationLevel", kInt8, from(4)},
    {"SessionId", kInt32, from(7)},
    {"SessionEpoch", kInt32, from(7), kNone, {}, -1},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Topic", kString, range(0, 12)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"Partition", kInt32, from(0)},
        {"CurrentLeaderEpoch", kInt32, from(9), kNone, {}, -1},
        {"FetchOffset", kInt64, from(0)},
        {"LogStartOffset", kInt64, from(5), kNone, {}, -1},
        {"PartitionMaxBytes", kInt32, from(0)}}}}},
    {"ForgottenTopicsData",
     kStructArray,
     from(7),
     kNone,
     {{"Topic", kString, range(7, 12)}, {"Partitions", kInt32Array, from(7)}}},
    {"RackId", kString, from(11)},
};
const Schema kFetchResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"ErrorCode", kInt16, from(7)},
    {"SessionId", kInt32, from(7)},
    {"Responses",
     kStructArray,
     from(0),
     kNone,
     {{"Topic", kString, range(0, 12)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)},
        {"ErrorCode", kInt16, from(0)},
        {"HighWatermark", kInt64, from(0)},
        {"LastStableOffset", kInt64, from(4), kNone, {}, -1},
        {"LogStartOffset", kInt64, from(5), kNone, {}, -1},
        {"AbortedTransactions",
         kStructArray,
         from(4),
         from(4),
         {{"ProducerId", kInt64, from(4)}, {"FirstOffset", kInt64, from(4)}}},
        {"PreferredReadReplica", kInt32, from(11), kNone, {}, -1},
        {"Records", kRecords, from(0), from(0)}}}}},
};

const Schema kListOffsetsRequest = {
    {"ReplicaId", kInt32, from(0)},
    {"IsolationLevel", kInt8, from(2)},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)},
        {"CurrentLeaderEpoch", kInt32, from(4), kNone, {}, -1},
        {"Timestamp", kInt64, from(0)}}}}},
};
const Schema kListOffsetsResponse = {
    {"ThrottleTimeMs", kInt32, from(2)},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)},
        {"ErrorCode", kInt16, from(0)},
        {"Timestamp", kInt64, from(1), kNone, {}, -1},
        {"Offset", kInt64, from(1), kNone, {}, -1},
        {"LeaderEpoch", kInt32, from(4), kNone, {}, -1}}}}},
};

const Schema kOffsetCommitRequest = {
    {"GroupId", kString, from(0)},
    {"GenerationIdOrMemberEpoch", kInt32, from(1), kNone, {}, -1},
    {"MemberId", kString, from(1)},
    {"GroupInstanceId", kString, from(7), from(7)},
    {"RetentionTimeMs", kInt64, range(2, 4), kNone, {}, -1},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)},
        {"CommittedOffset", kInt64, from(0)},
        {"CommittedLeaderEpoch", kInt32, from(6), kNone, {}, -1},
        {"CommitTimestamp", kInt64, range(1, 1), kNone, {}, -1},
        {"CommittedMetadata", kString, from(0), from(0)}}}}},
};
const Schema kOffsetCommitResponse = {
    {"ThrottleTimeMs", kInt32, from(3)},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)}, {"ErrorCode", kInt16, from(0)}}}}},
};

const Schema kOffsetFetchRequest = {
    {"GroupId", kString, range(0, 7)},
    {"Topics",
     kStructArray,
     range(0, 7),
     range(2, 7),
     {{"Name", kString, range(0, 7)}, {"PartitionIndexes", kInt32Array, range(0, 7)}}},
    {"RequireStable", kBool, range(7, 7)},
};
const Schema kOffsetFetchResponse = {
    {"ThrottleTimeMs", kInt32, from(3)},
    {"Topics",
     kStructArray,
     range(0, 7),
     kNone,
     {{"Name", kString, range(0, 7)},
      {"Partitions",
       kStructArray,
       range(0, 7),
       kNone,
       {{"PartitionIndex", kInt32, range(0, 7)},
        {"CommittedOffset", kInt64, range(0, 7)},
        {"CommittedLeaderEpoch", kInt32, range(5, 7), kNone, {}, -1},
        {"Metadata", kString, range(0, 7), range(0, 7)},
        {"ErrorCode", kInt16, range(0, 7)}}}}},
    {"ErrorCode", kInt16, range(2, 7)},
};

const Schema kFindCoordinatorRequest = {
    {"Key", kString, range(0, 3)},
    {"KeyType", kInt8, from(1)},
};
const Schema kFindCoordinatorResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"ErrorCode", kInt16, range(0, 3)},
    {"ErrorMessage", kString, range(1, 3), range(1, 3)},
    {"NodeId", kInt32, range(0, 3)},
    {"Host", kString, range(0, 3)},
    {"Port", kInt32, range(0, 3)},
};

const Schema kJoinGroupRequest = {
    {"GroupId", kString, from(0)},
    {"SessionTimeoutMs", kInt32, from(0)},
    {"RebalanceTimeoutMs", kInt32, from(1), kNone, {}, -1},
    {"MemberId", kString, from(0)},
    {"GroupInstanceId", kString, from(5), from(5)},
    {"ProtocolType", kString, from(0)},
    {"Protocols",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)}, {"Metadata", kBytes, from(0)}}},
};
const Schema kJoinGroupResponse = {
    {"ThrottleTimeMs", kInt32, from(2)},
    {"ErrorCode", kInt16, from(0)},
    {"GenerationId", kInt32, from(0), kNone, {}, -1},
    {"ProtocolName", kString, from(0)},
    {"Leader", kString, from(0)},
    {"MemberId", kString, from(0)},
    {"Members",
     kStructArray,
     from(0),
     kNone,
     {{"MemberId", kString, from(0)},
      {"GroupInstanceId", kString, from(5), from(5)},
      {"Metadata", kBytes, from(0)}}},
};

const Schema kHeartbeatRequest = {
    {"GroupId", kString, from(0)},
    {"GenerationId", kInt32, from(0)},
    {"MemberId", kString, from(0)},
    {"GroupInstanceId", kString, from(3), from(3)},
};
const Schema kHeartbeatResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"ErrorCode", kInt16, from(0)},
};

const Schema kLeaveGroupRequest = {
    {"GroupId", kString, from(0)},
    {"MemberId", kString, range(0, 2)},
    {"Members",
     kStructArray,
     from(3),
     kNone,
     {{"MemberId", kString, from(3)}, {"GroupInstanceId", kString, from(3), from(3)}}},
};
const Schema kLeaveGroupResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"ErrorCode", kInt16, from(0)},
    {"Members",
     kStructArray,
     from(3),
     kNone,
     {{"MemberId", kString, from(3)},
      {"GroupInstanceId", kString, from(3), from(3)},
      {"ErrorCode", kInt16, from(3)}}},
};

const Schema kSyncGroupRequest = {
    {"GroupId", kString, from(0)},
    {"GenerationId", kInt32, from(0)},
    {"MemberId", kString, from(0)},
    {"GroupInstanceId", kString, from(3), from(3)},
    {"Assignments",
     kStructArray,
     from(0),
     kNone,
     {{"MemberId", kString, from(0)}, {"Assignment", kBytes, from(0)}}},
};
const Schema kSyncGroupResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"ErrorCode", kInt16, from(0)},
    {"Assignment", kBytes, from(0)},
};

const Schema kDescribeGroupsRequest = {
    {"Groups", kStringArray, from(0)},
    {"IncludeAuthorizedOperations", kBool, from(3)},
};
const Schema kDescribeGroupsResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"Groups",
     kStructArray,
     from(0),
     kNone,
     {{"ErrorCode", kInt16, from(0)},
      {"GroupId", kString, from(0)},
      {"GroupState", kString, from(0)},
      {"ProtocolType", kString, from(0)},
      {"ProtocolData", kString, from(0)},
      {"Members",
       kStructArray,
       from(0),
       kNone,
       {{"MemberId", kString, from(0)},
        {"GroupInstanceId", kString, from(4), from(4)},
        {"ClientId", kString, from(0)},
        {"ClientHost", kString, from(0)},
        {"MemberMetadata", kBytes, from(0)},
        {"MemberAssignment", kBytes, from(0)}}},
      {"AuthorizedOperations", kInt32, from(3), kNone, {}, kNoAuthorizedOperations}}},
};

const Schema kListGroupsRequest = {};
const Schema kListGroupsResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"ErrorCode", kInt16, from(0)},
    {"Groups",
     kStructArray,
     from(0),
     kNone,
     {{"GroupId", kString, from(0)}, {"ProtocolType", kString, from(0)}}},
};

const Schema kCreateTopicsRequest = {
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"NumPartitions", kInt32, from(0)},
      {"ReplicationFactor", kInt16, from(0)},
      {"Assignments",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)}, {"BrokerIds", kInt32Array, from(0)}}},
      {"Configs",
       kStructArray,
       from(0),
       kNone,
       {{"Name", kString, from(0)}, {"Value", kString, from(0), from(0)}}}}},
    {"TimeoutMs", kInt32, from(0)},
    {"ValidateOnly", kBool, from(1)},
};
const Schema kCreateTopicsResponse = {
    {"ThrottleTimeMs", kInt32, from(2)},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"ErrorCode", kInt16, from(0)},
      {"ErrorMessage", kString, from(1), from(0)}}},
};

const Schema kDeleteTopicsRequest = {
    {"TopicNames", kStringArray, range(0, 5)},
    {"TimeoutMs", kInt32, from(0)},
};
const Schema kDeleteTopicsResponse = {
    {"ThrottleTimeMs", kInt32, from(1)},
    {"Responses",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)}, {"ErrorCode", kInt16, from(0)}}},
};

const Schema kInitProducerIdRequest = {
    {"TransactionalId", kString, from(0), from(0)},
    {"TransactionTimeoutMs", kInt32, from(0)},
    {"ProducerId", kInt64, from(3), kNone, {}, -1},
    {"ProducerEpoch", kInt16, from(3), kNone, {}, -1},
};
const Schema kInitProducerIdResponse = {
    {"ThrottleTimeMs", kInt32, from(0)},
    {"ErrorCode", kInt16, from(0)},
    {"ProducerId", kInt64, from(0), kNone, {}, -1},
    {"ProducerEpoch", kInt16, from(0)},
};

const Schema kAddPartitionsToTxnRequest = {
    {"TransactionalId", kString, from(0)},
    {"ProducerId", kInt64, from(0)},
    {"ProducerEpoch", kInt16, from(0)},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)}, {"Partitions", kInt32Array, from(0)}}},
};
const Schema kAddPartitionsToTxnResponse = {
    {"ThrottleTimeMs", kInt32, from(0)},
    {"Results",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"Results",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)}, {"ErrorCode", kInt16, from(0)}}}}},
};

const Schema kAddOffsetsToTxnRequest = {
    {"TransactionalId", kString, from(0)},
    {"ProducerId", kInt64, from(0)},
    {"ProducerEpoch", kInt16, from(0)},
    {"GroupId", kString, from(0)},
};
const Schema kAddOffsetsToTxnResponse = {
    {"ThrottleTimeMs", kInt32, from(0)},
    {"ErrorCode", kInt16, from(0)},
};

const Schema kEndTxnRequest = {
    {"TransactionalId", kString, from(0)},
    {"ProducerId", kInt64, from(0)},
    {"ProducerEpoch", kInt16, from(0)},
    {"Committed", kBool, from(0)},
};
const Schema kEndTxnResponse = {
    {"ThrottleTimeMs", kInt32, from(0)},
    {"ErrorCode", kInt16, from(0)},
};

const Schema kTxnOffsetCommitRequest = {
    {"TransactionalId", kString, from(0)},
    {"GroupId", kString, from(0)},
    {"ProducerId", kInt64, from(0)},
    {"ProducerEpoch", kInt16, from(0)},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)},
        {"CommittedOffset", kInt64, from(0)},
        {"CommittedLeaderEpoch", kInt32, from(2), kNone, {}, -1},
        {"CommittedMetadata", kString, from(0), from(0)}}}}},
};
const Schema kTxnOffsetCommitResponse = {
    {"ThrottleTimeMs", kInt32, from(0)},
    {"Topics",
     kStructArray,
     from(0),
     kNone,
     {{"Name", kString, from(0)},
      {"Partitions",
       kStructArray,
       from(0),
       kNone,
       {{"PartitionIndex", kInt32, from(0)}, {"ErrorCode", kInt16, from(0)}}}}},
};

const Schema kDescribeConfigsRequest = {
    {"Resources",
     kStructArray,
     from(0),
     kNone,
     {{"ResourceType", kInt8, from(0)},
      {"ResourceName", kString, from(0)},
      {"ConfigurationKeys", kStringArray, from(0), from(0)}}},
    {"IncludeSynonyms", kBool, from(1)},
    {"IncludeDocumentation", kBool, from(3)},
};
const Schema kDescribeConfigsResponse = {
    {"ThrottleTimeMs", kInt32, from(0)},
    {"Results",
     kStructArray,
     from(0),
     kNone,
     {{"ErrorCode", kInt16, from(0)},
      {"ErrorMessage", kString, from(0), from(0)},
      {"ResourceType", kInt8, from(0)},
      {"ResourceName", kString, from(0)},
      {"Configs",
       kStructArray,
       from(0),
       kNone,
       {{"Name", kString, from(0)},
        {"Value", kString, from(0), from(0)},
        {"ReadOnly", kBool, from(0)},
        {"IsDefault", kBool, range(0, 0)},
        {"ConfigSource", kInt8, from(1), kNone, {}, -1},
        {"IsSensitive", kBool, from(0)},
        {"Synonyms",
         kStructArray,
         from(1),
         kNone,
         {{"Name", kString, from(1)},
          {"Value", kString, from(1), from(1)},
          {"Source", kInt8, from(1)}}}}}}},
};

constexpr int16_t kNotFlexible = kAnyVersion;

}  // namespace

const std::vector<ApiSpec>& supported_apis() {
    // Versions: what librdkafka 2.0, kafka-python 2.0 and kafkajs 2.2 need, kept coherent with
    // one Kafka release (kafka-python infers the release from these ranges). Produce keeps
    // v0 advertised because librdkafka enables compression only when v0 is in range; v0-2
    // requests are refused per partition (no legacy message sets).
    static const std::vector<ApiSpec> apis = {
        {ApiKey::kProduce, "Produce", 0, 7, kNotFlexible, kProduceRequest, kProduceResponse},
        {ApiKey::kFetch, "Fetch", 4, 11, kNotFlexible, kFetchRequest, kFetchResponse},
        {ApiKey::kListOffsets, "ListOffsets", 1, 5, kNotFlexible, kListOffsetsRequest,
         kListOffsetsResponse},
        {ApiKey::kMetadata, "Metadata", 0, 8, kNotFlexible, kMetadataRequest, kMetadataResponse},
        {ApiKey::kOffsetCommit, "OffsetCommit", 0, 7, kNotFlexible, kOffsetCommitRequest,
         kOffsetCommitResponse},
        {ApiKey::kOffsetFetch, "OffsetFetch", 0, 7, 6, kOffsetFetchRequest, kOffsetFetchResponse},
        {ApiKey::kFindCoordinator, "FindCoordinator", 0, 2, kNotFlexible, kFindCoordinatorRequest,
         kFindCoordinatorResponse},
        {ApiKey::kJoinGroup, "JoinGroup", 0, 5, kNotFlexible, kJoinGroupRequest,
         kJoinGroupResponse},
        {ApiKey::kHeartbeat, "Heartbeat", 0, 3, kNotFlexible, kHeartbeatRequest,
         kHeartbeatResponse},
        {ApiKey::kLeaveGroup, "LeaveGroup", 0, 3, kNotFlexible, kLeaveGroupRequest,
         kLeaveGroupResponse},
        {ApiKey::kSyncGroup, "SyncGroup", 0, 3, kNotFlexible, kSyncGroupRequest,
         kSyncGroupResponse},
        {ApiKey::kDescribeGroups, "DescribeGroups", 0, 4, kNotFlexible, kDescribeGroupsRequest,
         kDescribeGroupsResponse},
        {ApiKey::kListGroups, "ListGroups", 0, 2, kNotFlexible, kListGroupsRequest,
         kListGroupsResponse},
        {ApiKey::kApiVersions, "ApiVersions", 0, 3, 3, kApiVersionsRequest, kApiVersionsResponse},
        {ApiKey::kCreateTopics, "CreateTopics", 0, 4, kNotFlexible, kCreateTopicsRequest,
         kCreateTopicsResponse},
        {ApiKey::kDeleteTopics, "DeleteTopics", 0, 3, kNotFlexible, kDeleteTopicsRequest,
         kDeleteTopicsResponse},
        {ApiKey::kInitProducerId, "InitProducerId", 0, 4, 2, kInitProducerIdRequest,
         kInitProducerIdResponse},
        {ApiKey::kAddPartitionsToTxn, "AddPartitionsToTxn", 0, 1, kNotFlexible,
         kAddPartitionsToTxnRequest, kAddPartitionsToTxnResponse},
        {ApiKey::kAddOffsetsToTxn, "AddOffsetsToTxn", 0, 1, kNotFlexible, kAddOffsetsToTxnRequest,
         kAddOffsetsToTxnResponse},
        {ApiKey::kEndTxn, "EndTxn", 0, 1, kNotFlexible, kEndTxnRequest, kEndTxnResponse},
        {ApiKey::kTxnOffsetCommit, "TxnOffsetCommit", 0, 2, kNotFlexible, kTxnOffsetCommitRequest,
         kTxnOffsetCommitResponse},
        {ApiKey::kDescribeConfigs, "DescribeConfigs", 0, 2, kNotFlexible, kDescribeConfigsRequest,
         kDescribeConfigsResponse},
    };
    return apis;
}

const ApiSpec* find_api(int16_t key) {
    for (const ApiSpec& api : supported_apis()) {
        if (static_cast<int16_t>(api.key) == key) return &api;
    }
    return nullptr;
}

}  // namespace millrace::kafka
