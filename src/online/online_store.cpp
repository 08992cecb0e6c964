#include "online/online_store.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/merge_operator.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <mutex>

#include "common/metrics_registry.h"
#include "common/suggest.h"
#include "common/write_health.h"
#include "online/feature_row_codec.h"
#include "online/row_cache.h"
#include "project/duration.h"
#include "types/batch.h"
#include "types/schema.h"
#include "types/time_codec.h"
#include "types/value_cast.h"

namespace millrace {

std::string_view enum_name(FeatureStatus status) {
    switch (status) {
        case FeatureStatus::kPresent:
            return "PRESENT";
        case FeatureStatus::kNotFound:
            return "NOT_FOUND";
        case FeatureStatus::kOutsideMaxAge:
            return "OUTSIDE_MAX_AGE";
    }
    return "NOT_FOUND";
}

std::string_view enum_name(UpsertOutcome outcome) {
    return outcome == UpsertOutcome::kStored ? "upserted" : "unchanged";
}

namespace {

constexpr std::string_view kColumnFamilyPrefix = "view.";
constexpr std::string_view kProbeKey = "probe/readyz";
constexpr std::size_t kKeyLockStripes = 64;
constexpr std::string_view kLayoutKeyPrefix = "layout/";

/// Per key, keeps the row with the greatest event time; a tie goes to the later write, and a
/// full tie to the newer operand. Bytes that are not a row lose to bytes that are.
class KeepNewestRow : public rocksdb::AssociativeMergeOperator {
public:
    bool Merge(const rocksdb::Slice&, const rocksdb::Slice* existing_value,
               const rocksdb::Slice& value, std::string* new_value,
               rocksdb::Logger*) const override {
        if (existing_value == nullptr) {
            new_value->assign(value.data(), value.size());
            return true;
        }
        const std::optional<RowTimes> old_times =
            peek_row_times({existing_value->data(), existing_value->size()});
        const std::optional<RowTimes> new_times = peek_row_times({value.data(), value.size()});
        bool keep_old = false;
        if (!new_times) {
            keep_old = old_times.has_value();
        } else if (old_times) {
            keep_old = new_times->event_time_us < old_times->event_time_us ||
                       (new_times->event_time_us == old_times->event_time_us &&
                        new_times->write_time_us < old_times->write_time_us);
        }
        const rocksdb::Slice& kept = keep_old ? *existing_value : value;
        new_value->assign(kept.data(), kept.size());
        return true;
    }
    const char* Name() const override { return "millrace.keep_newest_row"; }
};

/// "process 1234 (millrace serve)" for the process holding RocksDB's LOCK file (an fcntl lock,
/// which F_GETLK reports with its owner's pid), or "another process".
std::string lock_holder(const std::string& dir) {
    const int fd = ::open((dir + "/LOCK").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return "another process";
    struct flock probe {};
    probe.l_type = F_WRLCK;
    probe.l_whence = SEEK_SET;
    const bool known = ::fcntl(fd, F_GETLK, &probe) == 0 && probe.l_type != F_UNLCK;
    ::close(fd);
    if (!known || probe.l_pid <= 0) return "another process";
    std::string command;
    std::ifstream cmdline("/proc/" + std::to_string(probe.l_pid) + "/cmdline");
    std::string argument;
    for (int i = 0; i < 2 && std::getline(cmdline, argument, '\0'); ++i) {
        if (i == 0) argument = std::filesystem::path(argument).filename().string();
        command += (command.empty() ? "" : " ") + argument;
    }
    return fmt::format("process {}{}", probe.l_pid, command.empty() ? "" : " (" + command + ")");
}

Error store_error(const std::string& dir, const rocksdb::Status& status) {
    const std::string reason = status.ToString();
    if (status.IsCorruption()) {
        return Error(ErrorCode::kCorruption,
                     fmt::format("online store {} is corrupt ({}); move it aside and rebuild "
                                 "it from the lake with `millrace materialize <project> "
                                 "--rebuild`",
                                 dir, reason));
    }
    if (status.IsIOError() && reason.find("lock") != std::string::npos) {
        return Error(ErrorCode::kUnavailable,
                     fmt::format("online store {} is in use by {} (is `millrace serve` "
                                 "running?): {}",
                                 dir, lock_holder(dir), reason));
    }
    if (status.IsInvalidArgument() && reason.find("does not exist") != std::string::npos) {
        return Error(ErrorCode::kNotFound, fmt::format("online store {} does not exist", dir));
    }
    return Error(ErrorCode::kIo, fmt::format("online store {}: {}", dir, reason));
}

/// The reason a row's event time is refused: further ahead of the writer's clock than the
/// view allows (a row from the future would win every later upsert until its time comes).
std::optional<std::string> future_event_time(const FeatureView& view, int64_t event_time_us,
                                             int64_t write_time_us) {
    int64_t ahead = 0;
    const bool overflow = __builtin_sub_overflow(event_time_us, write_time_us, &ahead);
    if (!overflow && ahead <= view.max_event_time_skew.count()) return std::nullopt;
    return fmt::format(
        "event time {} is more than {} ahead of the clock ({}); feature view {} allows "
        "`max_event_time_skew: {}`",
        format_timestamp(event_time_us), format_duration(view.max_event_time_skew),
        format_timestamp(write_time_us), backticks(view.name),
        format_duration(view.max_event_time_skew));
}

struct ViewMetrics {
    Counter* cache_hits = nullptr;
    Counter* cache_misses = nullptr;
    Counter* present = nullptr;
    Counter* not_found = nullptr;
    Counter* outside_max_age = nullptr;
    Counter* rows_written = nullptr;
};

}  // namespace

class OnlineStore::Impl {
public:
    std::string dir;
    std::vector<FeatureView> views;
    std::unique_ptr<rocksdb::DB> db;
    std::vector<rocksdb::ColumnFamilyHandle*> view_handles;  // per view; null = no rows yet
    std::vector<rocksdb::ColumnFamilyHandle*> all_handles;   // to destroy at close
    rocksdb::ColumnFamilyOptions cf_options;
    std::unique_ptr<RowCache> cache;
    std::vector<ViewMetrics> metrics;
    bool read_only = false;
    /// Taken by every write: one stripe (by key hash) for a single-row upsert's read and
    /// write, all of them (in order) for a batch, so a single-row upsert's answer is exact.
    std::array<std::mutex, kKeyLockStripes> key_locks;
    WriteHealth write_health;

    std::mutex& key_lock(std::string_view encoded_key) {
        return key_locks[std::hash<std::string_view>{}(encoded_key) % kKeyLockStripes];
    }

    Error write_failed(const rocksdb::Status& status) {
        Error error = store_error(dir, status);
        write_health.failed(error.message());
        return error;
    }

    ~Impl() {
        if (db) {
            for (rocksdb::ColumnFamilyHandle* handle : all_handles) {
                db->DestroyColumnFamilyHandle(handle);
            }
            db->Close();
        }
    }

    /// The index of a view upserts may write to: kUnsupported when read-only, kNotFound for a
    /// view the store was not opened with.
    Result<int> writable_view(const FeatureView& view) const {
        if (read_only)
            return Error(ErrorCode::kUnsupported, "the online store was opened read-only");
        const int index = view_index(view);
        if (index < 0 || view_handles[index] == nullptr) {
            return Error(ErrorCode::kNotFound,
                         fmt::format("unknown feature view {}", backticks(view.name)));
        }
        return index;
    }

    int view_index(const FeatureView& view) const {
        for (std::size_t i = 0; i < views.size(); ++i) {
            if (&views[i] == &view || views[i].name == view.name) return static_cast<int>(i);
        }
        return -1;
    }
};

OnlineStore::OnlineStore(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OnlineStore::~OnlineStore() = default;

std::string OnlineStore::directory(std::string_view data_dir) {
    return (std::filesystem::path(data_dir) / "online").string();
}

Result<std::unique_ptr<OnlineStore>> OnlineStore::open(const std::string& dir,
                                                       std::vector<FeatureView> views,
                                                       const OnlineStoreOptions& options,
                                                       MetricsRegistry* metrics) {
    auto impl = std::make_unique<Impl>();
    impl->dir = dir;
    impl->views = std::move(views);
    impl->read_only = options.read_only;
    impl->cache = std::make_unique<RowCache>(options.cache_rows);

    rocksdb::BlockBasedTableOptions table;
    table.block_cache = rocksdb::NewLRUCache(options.block_cache_bytes);
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.cache_index_and_filter_blocks = true;
    table.pin_l0_filter_and_index_blocks_in_cache = true;
    table.block_size = 4096;
    impl->cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    impl->cf_options.merge_operator = std::make_shared<KeepNewestRow>();
    impl->cf_options.memtable_whole_key_filtering = true;
    impl->cf_options.memtable_prefix_bloom_size_ratio = 0.02;
    impl->cf_options.compression = rocksdb::kLZ4Compression;
    impl->cf_options.bottommost_compression = rocksdb::kZSTD;

    rocksdb::DBOptions db_options;
    db_options.create_if_missing = options.create_if_missing;
    db_options.create_missing_column_families = true;
    db_options.paranoid_checks = true;
    db_options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    db_options.keep_log_file_num = 3;
    db_options.max_background_jobs = 2;

    if (!options.read_only && options.create_if_missing) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        if (ec) {
            return Error(ErrorCode::kIo,
                         fmt::format("cannot create online store {}: {}", dir, ec.message()));
        }
    }

    std::vector<std::string> existing;
    rocksdb::Status listed = rocksdb::DB::ListColumnFamilies(db_options, dir, &existing);
    if (!listed.ok()) {
        if (!std::filesystem::exists(std::filesystem::path(dir) / "CURRENT")) {
            if (!options.create_if_missing || options.read_only) {
                return Error(ErrorCode::kNotFound,
                             fmt::format("online store {} does not exist; fill it with "
                                         "`millrace materialize` or a pipeline's online sink",
                                         dir));
            }
            existing = {rocksdb::kDefaultColumnFamilyName};
        } else {
            return store_error(dir, listed);
        }
    }
    auto wanted = [&](std::string_view name) {
        return std::find(existing.begin(), existing.end(), name) != existing.end();
    };
    auto is_rebuilt = [&](const std::string& view) {
        return std::find(options.rebuild_views.begin(), options.rebuild_views.end(), view) !=
               options.rebuild_views.end();
    };

    // Every existing family must be opened; views without one get theirs created (unless
    // read-only, where they simply have no rows).
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, impl->cf_options);
    for (const std::string& name : existing) {
        if (name != rocksdb::kDefaultColumnFamilyName) {
            descriptors.emplace_back(name, impl->cf_options);
        }
    }
    if (!options.read_only) {
        for (const FeatureView& view : impl->views) {
            std::string name = std::string(kColumnFamilyPrefix) + view.name;
            if (!wanted(name)) descriptors.emplace_back(name, impl->cf_options);
        }
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* raw = nullptr;
    rocksdb::Status opened =
        options.read_only
            ? rocksdb::DB::OpenForReadOnly(db_options, dir, descriptors, &handles, &raw)
            : rocksdb::DB::Open(db_options, dir, descriptors, &handles, &raw);
    if (!opened.ok()) return store_error(dir, opened);
    impl->db.reset(raw);
    impl->all_handles = handles;
    impl->view_handles.assign(impl->views.size(), nullptr);
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
        const std::string& name = handle->GetName();
        if (name.rfind(kColumnFamilyPrefix, 0) != 0) continue;
        const std::string view = name.substr(kColumnFamilyPrefix.size());
        for (std::size_t i = 0; i < impl->views.size(); ++i) {
            if (impl->views[i].name == view) impl->view_handles[i] = handle;
        }
    }

    // Rebuilds drop a view's rows; then each view's layout must match what its rows were
    // written under.
    for (std::size_t i = 0; i < impl->views.size(); ++i) {
        const FeatureView& view = impl->views[i];
        const std::string layout_key = std::string(kLayoutKeyPrefix) + view.name;
        const std::string layout = view.layout_fingerprint();
        if (!options.read_only && is_rebuilt(view.name)) {
            rocksdb::ColumnFamilyHandle*& handle = impl->view_handles[i];
            rocksdb::Status dropped = impl->db->DropColumnFamily(handle);
            if (!dropped.ok()) return store_error(dir, dropped);
            impl->db->DestroyColumnFamilyHandle(handle);
            std::erase(impl->all_handles, handle);
            rocksdb::Status created = impl->db->CreateColumnFamily(
                impl->cf_options, std::string(kColumnFamilyPrefix) + view.name, &handle);
            if (!created.ok()) return store_error(dir, created);
            impl->all_handles.push_back(handle);
            rocksdb::Status put = impl->db->Put(rocksdb::WriteOptions(), layout_key, layout);
            if (!put.ok()) return store_error(dir, put);
            continue;
        }
        std::string stored;
        rocksdb::Status got = impl->db->Get(rocksdb::ReadOptions(), layout_key, &stored);
        if (got.IsNotFound()) {
            if (!options.read_only) {
                rocksdb::Status put = impl->db->Put(rocksdb::WriteOptions(), layout_key, layout);
                if (!put.ok()) return store_error(dir, put);
            }
        } else if (!got.ok()) {
            return store_error(dir, got);
        } else if (stored != layout) {
            return Error(ErrorCode::kConfig,
                         fmt::format("feature view {} changed (its entities or features) since "
                                     "its rows were written to the online store; rebuild it "
                                     "with `millrace materialize <project> {} --rebuild`",
                                     backticks(view.name), view.name),
                         view.location);
        }
    }

    impl->metrics.resize(impl->views.size());
    if (metrics != nullptr) {
        for (std::size_t i = 0; i < impl->views.size(); ++i) {
            const std::string& name = impl->views[i].name;
            ViewMetrics& m = impl->metrics[i];
            const char* cache_help = "Online store cache lookups, by result.";
            m.cache_hits = &metrics->counter("millrace_online_cache_requests_total", cache_help,
                                             {{"view", name}, {"result", "hit"}});
            m.cache_misses = &metrics->counter("millrace_online_cache_requests_total", cache_help,
                                               {{"view", name}, {"result", "miss"}});
            const char* lookup_help = "Online feature lookups, by the status of the key.";
            m.present = &metrics->counter("millrace_online_lookups_total", lookup_help,
                                          {{"view", name}, {"status", "PRESENT"}});
            m.not_found = &metrics->counter("millrace_online_lookups_total", lookup_help,
                                            {{"view", name}, {"status", "NOT_FOUND"}});
            m.outside_max_age = &metrics->counter("millrace_online_lookups_total", lookup_help,
                                                  {{"view", name}, {"status", "OUTSIDE_MAX_AGE"}});
            m.rows_written =
                &metrics->counter("millrace_online_rows_written_total",
                                  "Rows upserted into the online store.", {{"view", name}});
        }
    }
    return std::unique_ptr<OnlineStore>(new OnlineStore(std::move(impl)));
}

const std::vector<FeatureView>& OnlineStore::views() const { return impl_->views; }

const FeatureView* OnlineStore::find_view(std::string_view name) const {
    for (const FeatureView& view : impl_->views) {
        if (view.name == name) return &view;
    }
    return nullptr;
}

void OnlineStore::lookup(const FeatureView& view, std::span<const std::vector<Value>> keys,
                         int64_t now_us, std::optional<std::chrono::microseconds> max_age,
                         std::vector<FeatureLookup>& out) const {
    out.assign(keys.size(), FeatureLookup{});
    const int index = impl_->view_index(view);
    if (index < 0) {
        for (FeatureLookup& result : out) {
            result.error = fmt::format("unknown feature view {}", backticks(view.name));
        }
        return;
    }
    const FeatureView& stored_view = impl_->views[index];
    ViewMetrics& metrics = impl_->metrics[index];
    rocksdb::ColumnFamilyHandle* handle = impl_->view_handles[index];

    // The misses of one call: their keys ("<view byte><encoded key>") packed into one buffer,
    // read with one MultiGet. The buffers are the calling thread's and keep their capacity, so
    // a lookup allocates nothing per key but the rows it decodes (and caches).
    struct Miss {
        std::size_t position;   // in keys
        std::size_t key_begin;  // in miss_keys
        std::size_t key_size;
        uint64_t generation;
    };
    thread_local std::vector<Miss> misses;
    thread_local std::string miss_keys;
    // Every valid key's cache key first (packed into `cache_keys`), then one get_many() over
    // them, so the cache's memory reads for neighbouring keys overlap.
    thread_local std::string cache_keys;
    thread_local std::vector<std::size_t> cache_ends;  // per valid key: its end in cache_keys
    thread_local std::vector<std::string_view> cache_views;
    thread_local std::vector<std::size_t> cache_positions;  // per cache view: its key's index
    thread_local std::vector<RowCache::Hit> cache_hits;
    misses.clear();
    misses.reserve(keys.size());
    miss_keys.clear();
    cache_keys.clear();
    cache_ends.clear();
    cache_positions.clear();
    uint64_t hits = 0;
    for (std::size_t i = 0; i < keys.size(); ++i) {
        const std::vector<Value>& key = keys[i];
        bool valid = key.size() == stored_view.entities.size();
        for (std::size_t k = 0; valid && k < key.size(); ++k) {
            valid = !key[k].is_null() && key[k].type() == stored_view.entities[k].type;
        }
        if (!valid) {
            out[i].error = fmt::format(
                "a key of feature view {} needs {} value(s) of the "
                "entity types",
                backticks(stored_view.name), stored_view.entities.size());
            continue;
        }
        cache_keys.push_back(static_cast<char>(index));
        for (std::size_t k = 0; k < key.size(); ++k) {
            append_key_value(cache_keys, stored_view.entities[k].type, key[k]);
        }
        cache_ends.push_back(cache_keys.size());
        cache_positions.push_back(i);
    }
    cache_views.clear();
    for (std::size_t c = 0, begin = 0; c < cache_positions.size(); ++c) {
        cache_views.emplace_back(cache_keys.data() + begin, cache_ends[c] - begin);
        begin = cache_ends[c];
    }
    cache_hits.resize(cache_views.size());
    impl_->cache->get_many(cache_views, cache_hits);
    for (std::size_t c = 0; c < cache_views.size(); ++c) {
        const std::size_t i = cache_positions[c];
        RowCache::Hit& hit = cache_hits[c];
        if (hit.found) {
            out[i].row = std::move(hit.row);
            ++hits;
            continue;
        }
        misses.push_back(Miss{i, miss_keys.size(), cache_views[c].size(), hit.generation});
        miss_keys += cache_views[c];
    }
    if (metrics.cache_hits != nullptr && impl_->cache->enabled()) {
        metrics.cache_hits->increment(hits);
        metrics.cache_misses->increment(misses.size());
    }
    const auto miss_key = [&](const Miss& miss) {
        return std::string_view(miss_keys).substr(miss.key_begin, miss.key_size);
    };

    if (!misses.empty() && handle != nullptr) {
        thread_local std::vector<rocksdb::Slice> slices;
        thread_local std::vector<rocksdb::PinnableSlice> values;
        thread_local std::vector<rocksdb::Status> statuses;
        slices.clear();
        for (const Miss& miss : misses) {
            slices.emplace_back(miss_keys.data() + miss.key_begin + 1, miss.key_size - 1);
        }
        if (values.size() < misses.size()) values.resize(misses.size());
        statuses.resize(misses.size());
        impl_->db->MultiGet(rocksdb::ReadOptions(), handle, misses.size(), slices.data(),
                            values.data(), statuses.data());
        for (std::size_t m = 0; m < misses.size(); ++m) {
            FeatureLookup& result = out[misses[m].position];
            if (statuses[m].IsNotFound()) {
                impl_->cache->insert(miss_key(misses[m]), nullptr, misses[m].generation);
                continue;
            }
            if (!statuses[m].ok()) {
                result.error = store_error(impl_->dir, statuses[m]).message();
                continue;
            }
            std::optional<FeatureRow> row =
                decode_row(stored_view, {values[m].data(), values[m].size()});
            if (!row) {
                result.error = fmt::format(
                    "online store {}: a row of view {} does not decode; "
                    "rebuild the view with `millrace materialize "
                    "--rebuild`",
                    impl_->dir, backticks(stored_view.name));
                continue;
            }
            auto shared = std::make_shared<const FeatureRow>(std::move(*row));
            impl_->cache->insert(miss_key(misses[m]), shared, misses[m].generation);
            result.row = std::move(shared);
        }
        // Unpin: a pinned value holds a RocksDB block (or memtable) until reset.
        for (std::size_t m = 0; m < misses.size(); ++m) values[m].Reset();
    } else {
        for (const Miss& miss : misses) {
            impl_->cache->insert(miss_key(miss), nullptr, miss.generation);
        }
    }

    std::optional<std::chrono::microseconds> ttl = stored_view.ttl;
    if (max_age && (!ttl || *max_age < *ttl)) ttl = max_age;
    const int64_t oldest = ttl ? now_us - ttl->count() : std::numeric_limits<int64_t>::min();
    uint64_t present = 0;
    uint64_t not_found = 0;
    uint64_t outside = 0;
    for (FeatureLookup& result : out) {
        if (!result.row) {
            result.status = FeatureStatus::kNotFound;
            ++not_found;
        } else if (result.row->event_time_us < oldest) {
            result.status = FeatureStatus::kOutsideMaxAge;
            ++outside;
        } else {
            result.status = FeatureStatus::kPresent;
            ++present;
        }
    }
    if (metrics.present != nullptr) {
        if (present) metrics.present->increment(present);
        if (not_found) metrics.not_found->increment(not_found);
        if (outside) metrics.outside_max_age->increment(outside);
    }
}

Result<UpsertColumns> match_upsert_columns(const FeatureView& view, const Schema& schema,
                                           std::string_view event_time_column) {
    UpsertColumns columns;
    for (const EntityKey& key : view.entities) {
        std::optional<std::size_t> index = schema.index_of(key.name);
        if (!index) {
            return Error(
                ErrorCode::kInvalidArgument,
                fmt::format("feature view {} needs the key column {}, which the rows "
                            "do not have (they have {})",
                            backticks(view.name), backticks(key.name), schema.to_string()));
        }
        columns.key_columns.push_back(static_cast<int>(*index));
    }
    for (const FeatureSpec& feature : view.features) {
        std::optional<std::size_t> index = schema.index_of(feature.name);
        columns.feature_columns.push_back(index ? static_cast<int>(*index) : -1);
    }
    if (!event_time_column.empty()) {
        std::optional<std::size_t> index = schema.index_of(event_time_column);
        if (!index) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("event time column {} of feature view {} is not in the "
                                     "rows ({})",
                                     backticks(event_time_column), backticks(view.name),
                                     schema.to_string()));
        }
        const DataType type = schema.field(*index).type;
        if (type != DataType::kTimestamp && type != DataType::kDate) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("event time column {} must be a timestamp or date, not {}",
                                     backticks(event_time_column), type_name(type)));
        }
        columns.event_time_column = static_cast<int>(*index);
    }
    return columns;
}

Result<UpsertCounts> OnlineStore::upsert(const FeatureView& view, const Batch& batch,
                                         const UpsertColumns& columns, int64_t write_time_us) {
    MILLRACE_ASSIGN_OR_RETURN(const int index, impl_->writable_view(view));
    const FeatureView& stored_view = impl_->views[index];
    rocksdb::ColumnFamilyHandle* handle = impl_->view_handles[index];
    UpsertCounts counts;
    auto reject = [&](std::size_t row, std::string reason) {
        ++counts.rejected;
        counts.rejects.push_back({static_cast<uint32_t>(row), std::move(reason)});
    };

    rocksdb::WriteBatch write_batch;
    std::vector<std::string> written_keys;
    written_keys.reserve(batch.num_rows());
    RowEncoder encoder;
    std::string key;
    const std::size_t rows = batch.num_rows();
    for (std::size_t row = 0; row < rows; ++row) {
        key.clear();
        key.push_back(static_cast<char>(index));
        bool ok = true;
        for (std::size_t k = 0; ok && k < stored_view.entities.size(); ++k) {
            const EntityKey& entity = stored_view.entities[k];
            const Column& column = batch.column(columns.key_columns[k]);
            if (column.is_null(row)) {
                reject(row, fmt::format("key {} is null", backticks(entity.name)));
                ok = false;
                break;
            }
            const DataType type = batch.schema().field(columns.key_columns[k]).type;
            if (type == entity.type) {
                append_key_cell(key, entity.type, column, row);
                continue;
            }
            Result<Value> cast =
                cast_value(batch.value_at(row, columns.key_columns[k]), entity.type);
            if (!cast.ok()) {
                reject(row,
                       fmt::format("key {}: {}", backticks(entity.name), cast.error().message()));
                ok = false;
                break;
            }
            append_key_value(key, entity.type, *cast);
        }
        if (!ok) continue;

        int64_t event_time = write_time_us;
        if (columns.event_time_column >= 0) {
            const Column& column = batch.column(columns.event_time_column);
            if (!column.is_null(row)) {
                event_time = batch.schema().field(columns.event_time_column).type == DataType::kDate
                                 ? int64_t{column.values<int32_t>()[row]} * 86'400'000'000
                                 : column.values<int64_t>()[row];
            }
        }
        if (auto reason = future_event_time(stored_view, event_time, write_time_us)) {
            reject(row, std::move(*reason));
            continue;
        }
        encoder.begin(event_time, write_time_us, stored_view.features.size());
        for (std::size_t f = 0; ok && f < stored_view.features.size(); ++f) {
            const int source = columns.feature_columns[f];
            if (source < 0) continue;
            const Column& column = batch.column(source);
            if (column.is_null(row)) continue;
            const FeatureSpec& feature = stored_view.features[f];
            const DataType type = batch.schema().field(source).type;
            if (type == feature.type) {
                encoder.append_cell(f, feature.type, column, row);
                continue;
            }
            Result<Value> cast = cast_value(batch.value_at(row, source), feature.type);
            if (!cast.ok()) {
                reject(row, fmt::format("feature {}: {}", backticks(feature.name),
                                        cast.error().message()));
                ok = false;
                break;
            }
            if (!cast->is_null()) encoder.append_value(f, feature.type, *cast);
        }
        if (!ok) continue;
        write_batch.Merge(handle, rocksdb::Slice(key.data() + 1, key.size() - 1), encoder.bytes());
        written_keys.push_back(key);
        ++counts.rows;
    }
    if (counts.rows > 0) {
        rocksdb::Status status;
        {
            std::array<std::unique_lock<std::mutex>, kKeyLockStripes> locks;
            for (std::size_t i = 0; i < kKeyLockStripes; ++i) {
                locks[i] = std::unique_lock(impl_->key_locks[i]);
            }
            status = impl_->db->Write(rocksdb::WriteOptions(), &write_batch);
            // Under the locks, so a single-row upsert never reads a cached row this replaced.
            if (status.ok()) {
                for (const std::string& written : written_keys) impl_->cache->erase(written);
            }
        }
        if (!status.ok()) return impl_->write_failed(status);
        impl_->write_health.succeeded();
        if (impl_->metrics[index].rows_written != nullptr) {
            impl_->metrics[index].rows_written->increment(counts.rows);
        }
    }
    return counts;
}

Result<UpsertOutcome> OnlineStore::upsert_row(const FeatureView& view,
                                              const std::vector<Value>& key,
                                              const FeatureRow& row) {
    MILLRACE_ASSIGN_OR_RETURN(const int index, impl_->writable_view(view));
    const FeatureView& stored_view = impl_->views[index];
    if (key.size() != stored_view.entities.size()) {
        return Error(
            ErrorCode::kInvalidArgument,
            fmt::format("feature view {} has {} key column(s), got {}", backticks(stored_view.name),
                        stored_view.entities.size(), key.size()));
    }
    if (row.values.size() != stored_view.features.size()) {
        return Error(
            ErrorCode::kInvalidArgument,
            fmt::format("feature view {} has {} feature(s), got {}", backticks(stored_view.name),
                        stored_view.features.size(), row.values.size()));
    }
    if (auto reason = future_event_time(stored_view, row.event_time_us, row.write_time_us)) {
        return Error(ErrorCode::kInvalidArgument, std::move(*reason));
    }
    std::string encoded_key(1, static_cast<char>(index));
    for (std::size_t k = 0; k < key.size(); ++k) {
        const EntityKey& entity = stored_view.entities[k];
        Result<Value> value = convert_entity_key(entity, key[k]);
        if (!value.ok()) return value.error();
        append_key_value(encoded_key, entity.type, *value);
    }
    RowEncoder encoder;
    encoder.begin(row.event_time_us, row.write_time_us, stored_view.features.size());
    for (std::size_t f = 0; f < row.values.size(); ++f) {
        const Value& value = row.values[f];
        if (value.is_null()) continue;
        const FeatureSpec& feature = stored_view.features[f];
        if (value.type() == feature.type) {
            encoder.append_value(f, feature.type, value);
            continue;
        }
        Result<Value> cast = cast_value(value, feature.type);
        if (!cast.ok()) {
            return Error(
                ErrorCode::kInvalidArgument,
                fmt::format("feature {}: {}", backticks(feature.name), cast.error().message()));
        }
        if (!cast->is_null()) encoder.append_value(f, feature.type, *cast);
    }
    const rocksdb::Slice store_key(encoded_key.data() + 1, encoded_key.size() - 1);
    std::lock_guard lock(impl_->key_lock(encoded_key));
    // The key's current times: from the cache, else from RocksDB (the merge resolved).
    std::optional<RowTimes> current;
    RowCache::Hit hit = impl_->cache->get(encoded_key);
    if (hit.found) {
        if (hit.row) current = RowTimes{hit.row->event_time_us, hit.row->write_time_us};
    } else {
        rocksdb::PinnableSlice stored;
        rocksdb::Status got =
            impl_->db->Get(rocksdb::ReadOptions(), impl_->view_handles[index], store_key, &stored);
        if (got.ok()) {
            current = peek_row_times({stored.data(), stored.size()});
        } else if (!got.IsNotFound()) {
            return store_error(impl_->dir, got);
        }
    }
    // KeepNewestRow's rule: the older event time loses; on a tie, the earlier write.
    if (current && (row.event_time_us < current->event_time_us ||
                    (row.event_time_us == current->event_time_us &&
                     row.write_time_us < current->write_time_us))) {
        return UpsertOutcome::kUnchanged;
    }
    rocksdb::Status status = impl_->db->Merge(rocksdb::WriteOptions(), impl_->view_handles[index],
                                              store_key, encoder.bytes());
    if (!status.ok()) return impl_->write_failed(status);
    impl_->write_health.succeeded();
    impl_->cache->erase(encoded_key);
    if (impl_->metrics[index].rows_written != nullptr) {
        impl_->metrics[index].rows_written->increment();
    }
    return UpsertOutcome::kStored;
}

Status OnlineStore::probe_write() {
    if (impl_->read_only) return {};
    rocksdb::WriteOptions options;
    options.sync = true;  // the WAL reaches the disk, as a full disk would refuse
    rocksdb::Status status = impl_->db->Put(options, kProbeKey, "1");
    if (!status.ok()) return impl_->write_failed(status);
    impl_->write_health.succeeded();
    return {};
}

std::optional<std::string> OnlineStore::last_write_failure() const {
    return impl_->write_health.last_failure();
}

Status OnlineStore::flush() {
    if (impl_->read_only) return {};
    rocksdb::FlushOptions options;
    options.wait = true;
    std::vector<rocksdb::ColumnFamilyHandle*> handles = impl_->all_handles;
    rocksdb::Status status = impl_->db->Flush(options, handles);
    if (!status.ok()) return store_error(impl_->dir, status);
    return {};
}

Status OnlineStore::sync() {
    if (impl_->read_only) return {};
    rocksdb::Status status = impl_->db->SyncWAL();
    if (!status.ok()) return store_error(impl_->dir, status);
    return {};
}

uint64_t OnlineStore::approximate_keys(const FeatureView& view) const {
    const int index = impl_->view_index(view);
    if (index < 0 || impl_->view_handles[index] == nullptr) return 0;
    uint64_t keys = 0;
    impl_->db->GetIntProperty(impl_->view_handles[index], "rocksdb.estimate-num-keys", &keys);
    return keys;
}

Result<Value> parse_entity_key(const EntityKey& entity, std::string_view text) {
    if (entity.type == DataType::kString || entity.type == DataType::kBytes) {
        return entity.type == DataType::kString ? Value::string(std::string(text))
                                                : Value::bytes(std::string(text));
    }
    if (entity.type == DataType::kInt64) {  // the common case, without a cast
        if (std::optional<int64_t> value = parse_int_text(text)) return Value::int64(*value);
    } else if (!text.empty()) {
        Result<Value> cast = cast_value(Value::string(std::string(text)), entity.type);
        if (cast.ok() && !cast->is_null()) return std::move(*cast);
    }
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("key {} must be a{} {}, got {}", backticks(entity.name),
                    entity.type == DataType::kInt32 || entity.type == DataType::kInt64 ? "n" : "",
                    type_name(entity.type), backticks(text)));
}

Result<Value> convert_entity_key(const EntityKey& entity, const Value& value) {
    if (value.is_null()) {
        return Error(ErrorCode::kInvalidArgument,
                     fmt::format("key {} must not be null", backticks(entity.name)));
    }
    if (value.type() == entity.type) return value;
    if (value.type() == DataType::kString) return parse_entity_key(entity, value.as_string());
    const bool both_integers = is_integer(value.type()) && is_integer(entity.type);
    if (both_integers || (is_integer(value.type()) && entity.type == DataType::kTimestamp)) {
        Result<Value> cast = cast_value(value, entity.type);
        if (cast.ok()) return std::move(*cast);
    }
    return Error(
        ErrorCode::kInvalidArgument,
        fmt::format("key {} must be a{} {}, got {} ({})", backticks(entity.name),
                    entity.type == DataType::kInt32 || entity.type == DataType::kInt64 ? "n" : "",
                    type_name(entity.type), value.to_string(), type_name(value.type())));
}

}  // namespace millrace
