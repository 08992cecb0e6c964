#pragma once

#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "online/online_store.h"

namespace millrace {

class Batch;
class Clock;
struct Project;

/// Where feature rows go (the `online` sink, materialization): the online store opened in this
/// process, or, while a `millrace serve` holds the store (RocksDB admits one writing process),
/// that server's `POST /v1/features/{view}/upsert`. Either way the upsert is idempotent (the
/// newest event time per key wins), so a retried or replayed write changes nothing.
class FeatureWriter {
public:
    virtual ~FeatureWriter() = default;
    /// Upserts the rows of `batch` as `columns` maps them onto `view`; rows that cannot be
    /// stored come back in UpsertCounts::rejects with their reason.
    virtual Result<UpsertCounts> upsert(const FeatureView& view, const Batch& batch,
                                        const UpsertColumns& columns) = 0;
    /// Makes what was upserted durable.
    virtual Status flush() = 0;
    /// "online store <dir>" or "millrace serve at http://host:port", for reports.
    virtual std::string describe() const = 0;
};

/// Writes into a store this process opened, stamping rows with `clock`'s time (the write time,
/// and the "now" event times are checked against); the system clock when null. `clock` must
/// outlive the writer.
std::unique_ptr<FeatureWriter> make_store_feature_writer(OnlineStore& store,
                                                         const Clock* clock = nullptr);

/// Writes through a running server (base URL `http://host:port`).
Result<std::unique_ptr<FeatureWriter>> make_http_feature_writer(const std::string& url);

/// The project's writer: its online store (`<data_dir>/online`, opened with `views`), or when a
/// server holds it, the server at the project's `listen` address. Errors say which was tried.
struct OpenedFeatureWriter {
    std::unique_ptr<OnlineStore> store;  // null when writing through the server
    std::unique_ptr<FeatureWriter> writer;
};
Result<OpenedFeatureWriter> open_feature_writer(const Project& project,
                                                std::vector<FeatureView> views);

}  // namespace millrace
