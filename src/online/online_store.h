#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "online/feature_view.h"
#include "types/value.h"

namespace millrace {

class Batch;
class MetricsRegistry;

/// What an online read found for one key (Feast's FieldStatus names).
enum class FeatureStatus {
    kPresent,        // a row younger than the TTL (or max age)
    kNotFound,       // no row for this key
    kOutsideMaxAge,  // a row older than the TTL or the request's max age; served as defaults
};
std::string_view enum_name(FeatureStatus status);  // "PRESENT", "NOT_FOUND", "OUTSIDE_MAX_AGE"

/// A stored feature row: values in the view's feature order (null where the writer had none).
struct FeatureRow {
    int64_t event_time_us = 0;  // when the features were true (the source's event time)
    int64_t write_time_us = 0;  // when the row reached the store
    std::vector<Value> values;
};

struct FeatureLookup {
    FeatureStatus status = FeatureStatus::kNotFound;
    /// The stored row for kPresent and kOutsideMaxAge (shared with the cache; never modified).
    std::shared_ptr<const FeatureRow> row;
    /// Non-empty when the store could not read this key (I/O error, corruption, a key of the
    /// wrong shape): status is then kNotFound, and a server should answer 500 with this text.
    std::string error;
};

/// Which columns of an upserted Batch feed the view. Every entity key must be present; features
/// missing from the batch are stored as null; event_time_column "" means the write time.
struct UpsertColumns {
    std::vector<int> key_columns;      // per entity, the batch column
    std::vector<int> feature_columns;  // per feature, the batch column or -1
    int event_time_column = -1;        // a timestamp column, or -1
};

/// Maps a batch's columns to a view by name (the `online` sink and materialize use this);
/// kInvalidArgument naming the missing key column or a type that cannot convert.
Result<UpsertColumns> match_upsert_columns(const FeatureView& view, const class Schema& schema,
                                           std::string_view event_time_column);

/// What an upsert of one row did (the store keeps the newest row per key).
enum class UpsertOutcome {
    kStored,     // the row is now the key's row: no row yet, an older event time, or a tie
                 // on event time with an earlier write
    kUnchanged,  // the key keeps a row with a newer event time; nothing was written
};
std::string_view enum_name(UpsertOutcome outcome);  // "upserted", "unchanged"

struct UpsertCounts {
    int64_t rows = 0;      // rows written to the store
    int64_t rejected = 0;  // rows with a null key, a value that does not convert, or an event
                           // time too far ahead of the clock (max_event_time_skew)
    struct Reject {
        uint32_t row;        // in the upserted batch
        std::string reason;  // "key `user_id` is null"
    };
    std::vector<Reject> rejects;  // every rejected row, in row order
};

struct OnlineStoreOptions {
    /// Rows kept decoded in the in-process cache in front of RocksDB (0 = no cache).
    std::size_t cache_rows = std::size_t{1} << 20;
    std::size_t block_cache_bytes = std::size_t{256} << 20;
    bool create_if_missing = true;
    /// Opens without the lock a writer needs (RocksDB read-only mode); upserts then fail.
    bool read_only = false;
    /// Views whose rows are dropped at open and whose layout is recorded anew (a rebuild;
    /// `millrace materialize --rebuild`), also when their layout changed.
    std::vector<std::string> rebuild_views;
};

/// The online feature store (docs/architecture.md §6): RocksDB under `<data_dir>/online/`, one
/// column family per feature view, key = the encoded entity key, value = the encoded feature
/// row with its event and write times; a cache of decoded rows in front (row_cache.h).
///
/// Upserts are idempotent: a RocksDB merge operator keeps, per key, the row with the greatest
/// event time (a tie goes to the later write), so replaying or re-materializing never moves a
/// key back in time and needs no read before the write. TTL is enforced on every read: a row
/// whose event time is older than now - ttl (or - max_age, when a request narrows it) is
/// reported kOutsideMaxAge and served as defaults.
///
/// A view whose layout (entities, features, types) changed since its rows were written is
/// refused at open with a message saying to rebuild it (`millrace materialize --rebuild`);
/// a corrupt store is refused with RocksDB's reason. Only one process may open the store for
/// writing (RocksDB's LOCK file); a second gets kUnavailable naming the lock.
/// A missing store opened with create_if_missing false is kNotFound.
///
/// Threads: lookup() from any number of threads; upsert() from any thread (serialized per view
/// by RocksDB, cache entries invalidated).
///
/// Metrics (when a registry is given):
/// millrace_online_cache_requests_total{view,result="hit"|"miss"},
/// millrace_online_rows_written_total{view}, millrace_online_lookups_total{view,status}.
class OnlineStore {
public:
    /// Opens (creating when allowed) the store in `dir` with a column family per view.
    static Result<std::unique_ptr<OnlineStore>> open(const std::string& dir,
                                                     std::vector<FeatureView> views,
                                                     const OnlineStoreOptions& options,
                                                     MetricsRegistry* metrics);
    /// `<data_dir>/online`.
    static std::string directory(std::string_view data_dir);

    ~OnlineStore();
    OnlineStore(const OnlineStore&) = delete;
    OnlineStore& operator=(const OnlineStore&) = delete;

    const std::vector<FeatureView>& views() const;
    const FeatureView* find_view(std::string_view name) const;

    /// Reads one row per key. `keys[i]` holds one Value per entity key, already of the entity's
    /// type (see parse_entity_key). `now_us` is the reader's clock; `max_age` narrows the TTL.
    /// `out` is resized to keys.size().
    void lookup(const FeatureView& view, std::span<const std::vector<Value>> keys, int64_t now_us,
                std::optional<std::chrono::microseconds> max_age,
                std::vector<FeatureLookup>& out) const;

    /// Upserts every row of `batch`; rows with a null key, unconvertible values or an event
    /// time more than the view's max_event_time_skew after `write_time_us` (the writer's
    /// clock) are counted as rejected with their reason, the rest written in one atomic write
    /// batch. Blind writes: the merge operator keeps the newest row per key.
    Result<UpsertCounts> upsert(const FeatureView& view, const Batch& batch,
                                const UpsertColumns& columns, int64_t write_time_us);

    /// Upserts one row given as Values (the HTTP push path and tests) and says whether it
    /// became the key's row. The key's current row is read first (the cache, else one
    /// RocksDB read) under a lock striped by key that every writer of this store takes, so
    /// the answer is exact and a row that would lose is not written at all. kInvalidArgument
    /// for a key or values that do not fit the view and for an event time more than the
    /// view's max_event_time_skew after row.write_time_us (the writer's clock).
    Result<UpsertOutcome> upsert_row(const FeatureView& view, const std::vector<Value>& key,
                                     const FeatureRow& row);

    /// A real write into the store (a small key of its own, synced), for readiness probes.
    /// Its success clears the last write failure.
    Status probe_write();

    /// The last failed write (RocksDB's reason) until a later write succeeds, for `/readyz`.
    std::optional<std::string> last_write_failure() const;

    /// Flushes memtables to disk (materialize calls it before it reports success).
    Status flush();

    /// Makes every write so far durable by syncing the write-ahead log: one fsync, where
    /// flush() writes a table file per column family. A streaming online sink calls it at
    /// every checkpoint (every 50 ms at the shortest): flushing that often piles up level-0
    /// files that slow every read and, past RocksDB's limits, stall the writes.
    Status sync();

    /// Approximate number of keys of a view (RocksDB's estimate).
    uint64_t approximate_keys(const FeatureView& view) const;

private:
    class Impl;
    explicit OnlineStore(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> impl_;
};

/// Parses an entity key given as text (a query parameter) into a Value of `type`;
/// kInvalidArgument "key `user_id` must be an int64, got `abc`" otherwise.
Result<Value> parse_entity_key(const EntityKey& entity, std::string_view text);

/// Converts a JSON-ish Value (int64, double, string, bool) to the entity's type, as
/// parse_entity_key does for text; kInvalidArgument naming the key and both types.
Result<Value> convert_entity_key(const EntityKey& entity, const Value& value);

}  // namespace millrace
