#pragma once

#include "common/clock.h"
#include "common/metrics_registry.h"
#include "common/write_health.h"
#include "log/fwd.h"
#include "server/router.h"

namespace millrace {

/// POST /v1/ingest/{topic}: JSON records into a topic, checked at the door.
///
/// Body: NDJSON or one JSON array (record_splitter.h), Content-Type application/json,
/// application/x-ndjson (or ndjson, jsonl, x-jsonlines); anything else is 415. Each record must
/// be a JSON object (well-formed, valid UTF-8) and, when the topic has a schema, conform to it
/// (JsonDecoder rules). Before checks, the topic's `capture` fields (client IP, request headers)
/// are added to the object. A string or number field `key` becomes the record's key
/// (partitioning). Records are stored as their JSON text.
///
/// Bad records are reported by index and, per the topic's on_error, dropped (`reject`) or
/// stored in `<topic>_dlq` as {"topic", "index", "reason", "raw"} (`dead_letter`); the good
/// records of the same request are kept. The response is sent once every stored record is
/// durable under the topic's fsync policy:
///
///   200 {"accepted": 98, "rejected": 2, "dead_lettered": 0,
///        "partitions": [{"partition": 0, "first": 100, "last": 197}],
///        "errors": [{"index": 3, "error": "..."}, ...]}
///
/// 400 (same body plus "error") when no record could be stored and none was dead-lettered, or
/// the body is empty or an unclosed array; 404 for an unknown topic; 413 for more than 100,000
/// records in one request.
/// A failed append or fsync answers 500 with the log's message and is reported to `health`
/// (when given) for `/readyz`; a durable append clears it.
/// Threads: handle() runs on any server thread; per-thread parser state.
class IngestHandler {
public:
    /// `log`, `clock`, `metrics` and `health` (may be null) must outlive the handler.
    IngestHandler(Log& log, const Clock& clock, MetricsRegistry& metrics,
                  WriteHealth* health = nullptr);

    void add_routes(Router& router);
    void handle(HttpRequest& request, HttpResponder responder);

private:
    Log& log_;
    const Clock& clock_;
    WriteHealth* health_;
    Counter& accepted_;
    Counter& rejected_;
    Counter& dead_lettered_;
    Counter& bytes_;
};

}  // namespace millrace
