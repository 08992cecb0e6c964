#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "connectors/sink.h"
#include "lake/lake_table.h"

namespace millrace {

class LakeWriter;
struct ObjectStoreConfig;

/// What a lake sink's commits do to the partitions they write.
enum class LakeSinkMode {
    kOverwrite,  // a batch run: its first commit into a partition replaces it
    kAppend,     // a streaming run: every commit adds files (windows arrive over time)
    kUpsert,     // `mode: upsert`: a commit's rows replace the table's rows of the same keys
                 // (equality deletes of the keys plus the new rows: one row per key)
};

/// A pipeline sink into a lake table (`<data_dir>/lake/<table>/`): the table is opened (its
/// schema must match), or created by the sink's first commit with the plan's schema and the
/// sink's `partition_by` (in the same metadata version as its first snapshot, so a run that
/// fails leaves no table; a streaming sink, kAppend, creates its table empty when it opens). A
/// transactional Sink: rows are staged as Parquet files, pre_commit() closes and fsyncs them,
/// commit() makes them one snapshot, so readers see all of a run or none of it. Batch runs
/// overwrite the partitions they write (a re-run of a day replaces that day: the promise that
/// "re-runs produce the same outcome"). A batch run's staging is private to the sink
/// (LakeStaging::kPrivate): runs of one pipeline may write one table at once (a backfill), and a
/// killed run's files are dropped, never committed. A streaming run's (kAppend) is named after
/// the sink (LakeStaging::kNamed): a checkpoint pre-committed by a killed run is committed by
/// the restarted one (recover()), and the table records each sink's last commit id, so a
/// replayed commit is a no-op.
///
/// An existing table's columns are matched by name: a table column the output lacks is written
/// as nulls (nullable columns only), an int32 output column widens into an int64 one, and an
/// output column the table lacks is added to the table (schema evolution) with `add_columns`
/// (`schema_evolution: add_columns` on the sink), or refused naming the column: never dropped.
/// With `storage`, a table the sink creates keeps its files in that object store (an existing
/// table stays where it is).
class LakeSink final : public Sink {
public:
    static Result<std::unique_ptr<LakeSink>> create(
        const std::string& data_dir, const std::string& table,
        const std::vector<std::string>& partition_by, std::shared_ptr<const Schema> schema,
        const std::string& writer_id, LakeSinkMode mode = LakeSinkMode::kOverwrite,
        const std::vector<std::string>& key = {}, const ObjectStoreConfig* storage = nullptr,
        bool add_columns = false);
    ~LakeSink() override;
    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    /// The table's snapshot counter numbers the snapshot; `commit_id` only names the staged
    /// checkpoint.
    Status commit(uint64_t commit_id) override;
    void abort() override;
    /// A streaming (kAppend) sink: commits checkpoint `committed` if it is still staged, then
    /// drops every other staged checkpoint.
    Status recover(uint64_t committed) override;
    uint64_t rows_written() const override { return rows_; }
    /// Rows written after pre_commit(id) go to new files, staged by the next pre_commit.
    bool overlaps_commits() const override { return true; }
    DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kTransactional; }
    /// The snapshot of the last commit (0 before one).
    uint64_t snapshot_id() const { return snapshot_id_; }

private:
    /// Where each table column comes from: an output column, or nullopt (nulls).
    struct ColumnSource {
        std::optional<std::size_t> output;
    };
    static Result<LakeTable> evolve_table(const std::string& data_dir, const LakeTable& table,
                                          const Schema& output, bool add_columns);
    /// Empty when the output is the table's schema as it is.
    static Result<std::vector<ColumnSource>> column_sources(const LakeTable& table,
                                                            const Schema& output);

    std::vector<ColumnSource> adapt_;
    /// The table handle (prepared, when the table did not exist: created by the first commit).
    std::optional<LakeTable> table_;
    std::unique_ptr<LakeWriter> writer_;
    uint64_t rows_ = 0;
    uint64_t snapshot_id_ = 0;
    bool named_ = false;  // LakeStaging::kNamed (streaming)
    CommitIds ids_;
};

}  // namespace millrace
