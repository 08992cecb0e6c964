#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace millrace {

/// One served request as the serving side captures it into a log topic (one JSON object per
/// record):
///
///   {"ts_us": 1732406400000000,          when it arrived (µs since the epoch; optional)
///    "method": "GET",                    required, letters only
///    "target": "/feature/user?uid=12",   required, origin form (starts with /)
///    "body": "",                         request body (optional, default "")
///    "status": 200,                      required, the status served
///    "response": "{\"uid\":12,...}",     the response body served (optional, default "")
///    "latency_us": 180}                  server-side latency (optional)
struct CapturedRequest {
    int64_t ts_us = 0;
    std::string method;
    std::string target;
    std::string body;
    int status = 0;
    std::string response;
    int64_t latency_us = 0;
};

/// Parses one captured record; kParse naming the field when it does not follow the format.
Result<CapturedRequest> parse_captured_request(std::string_view json);

/// A record of a topic page: its offset and either the request or why it is malformed.
struct CapturedRecord {
    int partition = 0;
    int64_t offset = 0;
    std::optional<CapturedRequest> request;
    std::string error;  // set when request is empty
};

/// One page of `GET /v1/topics/{t}/records?partition=&offset=&max=` (server/topic_handler.cpp):
///
///   {"topic":"t","partition":0,"start_offset":0,"end_offset":12,"next_offset":12,
///    "records":[{"offset":0,"timestamp":<ms>,"key":null|"k","value":<JSON or a JSON string>},...]}
///
/// A value that is not a JSON object following the captured format is kept as a record with an
/// error, so malformed records are counted rather than fatal.
struct TopicRecordsPage {
    int partition = 0;
    int64_t start_offset = 0;
    int64_t end_offset = 0;
    int64_t next_offset = 0;
    std::vector<CapturedRecord> records;
};

/// kParse when the page itself is not in the format above.
Result<TopicRecordsPage> parse_topic_records_page(std::string_view json);

/// The partitions of `GET /v1/topics/{t}` ({"name":..,"partitions":[{"partition":0,
/// "start_offset":..,"end_offset":..},...]}): (start, end) offsets by partition.
struct TopicPartitionRange {
    int partition = 0;
    int64_t start_offset = 0;
    int64_t end_offset = 0;
};
Result<std::vector<TopicPartitionRange>> parse_topic_description(std::string_view json);

}  // namespace millrace
