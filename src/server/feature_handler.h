#pragma once

#include <memory>
#include <vector>

#include "common/clock.h"
#include "common/metrics_registry.h"
#include "server/feature_route.h"
#include "server/router.h"
#include "server/serving_config.h"

namespace millrace {

class OnlineStore;
class TrafficCapture;

/// Online feature serving over the OnlineStore (docs/architecture.md §7; the Go serving
/// layer). Routes, all answering JSON, errors as {"error": "..."}:
///
///   GET  /v1/features/{view}?user_id=1[&item_id=2][&features=a,b][&max_age=10s]
///        (`key=` for a single-entity view)                                        group features
///        200 {"view":"v","key":{"user_id":1},"status":"PRESENT",
///             "event_timestamp":"2024-01-01T00:00:00Z","features":{"clicks_30d":5,...}}
///        A missing or expired row is still 200: status NOT_FOUND / OUTSIDE_MAX_AGE, the
///        features' defaults and "event_timestamp": null (expired: the row's time).
///   POST /v1/features/{view}/batch  {"keys":[{"user_id":1},...] | [1,2], "features":[..]?,
///        "max_age":"10s"?}  →  {"view":"v","results":[<the GET object without "view">...]}
///        in key order; more than serving.max_batch_keys keys is 413.             group features
///   POST /v1/features/{view}/upsert  NDJSON or a JSON array of rows {"user_id":1,
///        "clicks_30d":5, "event_timestamp":"2024-01-01T00:00:00Z" | <epoch number>}
///        → {"upserted":n,"unchanged":u,"rejected":m,"unchanged_rows":[i,...],
///           "errors":[{"index":i,"error":"..."}]}: per row, stored (upserted), kept the
///        store's newer row (unchanged; OnlineStore::upsert_row) or rejected with the reason
///        (including an event time beyond the view's max_event_time_skew). 200 when a row was
///        taken, 400 when every row was rejected, 500 when the store could not write; 415 for
///        another Content-Type. Epoch numbers (event_timestamp, timestamp features) are
///        seconds, milliseconds or microseconds by magnitude (epoch_number_to_micros).
///                                                                                 group ingest
///   GET  <route path>?<param>=...   a YAML route (server/feature_route.h): the GET object with
///        the route's names, conversions and defaults; its rate limit (429 + Retry-After) and
///        timeout; metrics route label `route:<name>`.                            route's group
///   POST /get-online-features   Feast's feature-server request and response (below).
///
/// Feast: request {"features": ["view:feature", ...] | "feature_service": "<route or view>",
/// "entities": {"user_id": [1, 2]}, "full_feature_names": false, "max_age": "10s"} (max_age is
/// ours: it narrows the views' TTL). Features may come from views with different entities:
/// row i is the i-th value of every entity array, and each view reads its own entities'
/// columns (a view whose entity is missing is a 400 naming it). Response, column-major with the
/// entity columns first:
///
///   {"metadata": {"feature_names": ["user_id", "clicks_30d"]},
///    "results": [{"values": [1, 2], "statuses": ["PRESENT", "PRESENT"],
///                 "event_timestamps": ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]},
///                {"values": [5, 0], "statuses": ["PRESENT", "NOT_FOUND"],
///                 "event_timestamps": ["2024-01-01T00:00:00Z", "1970-01-01T00:00:00Z"]}]}
///
/// with "view__feature" names under full_feature_names.
///
/// Every lookup response carries Cache-Control (the route's; "no-cache" elsewhere); GET
/// answers also an ETag (hash of the body) and 304 to a matching If-None-Match. A lookup that
/// took longer than the timeout (route's, else serving.request_timeout) answers 503
/// {"error":"timed out after 50ms"} (RocksDB reads cannot be cancelled; the answer is late data
/// withheld, not a cancelled read). Sampled lookups are recorded by TrafficCapture when given.
///
/// Metrics: millrace_feature_keys_total{view,status}, plus the Router's per-route ones.
/// Threads: handlers run on any server thread; no lock on the read path (per-thread buffers,
/// an atomic per rate limiter).
class FeatureHandler {
public:
    /// `store`, `clock`, `metrics` and `capture` (may be null) must outlive the handler.
    FeatureHandler(OnlineStore& store, ServingConfig config, std::vector<FeatureRoute> routes,
                   const Clock& clock, MetricsRegistry& metrics, TrafficCapture* capture);
    ~FeatureHandler();
    FeatureHandler(const FeatureHandler&) = delete;
    FeatureHandler& operator=(const FeatureHandler&) = delete;

    void add_routes(Router& router);

private:
    class Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace millrace
