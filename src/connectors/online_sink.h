#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "connectors/sink.h"
#include "online/feature_view.h"
#include "online/online_store.h"

namespace millrace {

class FeatureWriter;

/// A pipeline sink into a feature view (`online: { feature_view, key, event_time }`): every
/// row is an idempotent upsert (the newest event time per key wins), so batch re-runs and,
/// later, streaming replays after a checkpoint restore leave the store as one clean run would.
///
/// The plan's columns map onto the view by name: `key` names the columns feeding the entity
/// keys in order (default: the entity names), features are the columns named like them (a
/// feature the plan lacks is stored as null and served as its default), `event_time` is a
/// timestamp column (default: the write time). Rows that cannot be stored (a null key, a value
/// that does not convert) go to `on_reject` with their reason, so counts add up:
/// rows in = rows_written + rows_rejected.
///
/// An idempotent Sink: write() upserts at once (readers may see the rows before commit), and
/// pre_commit() flushes the store's writer; abort() cannot take upserts back, but a re-run
/// writes the same values again.
class OnlineSink final : public Sink {
public:
    using RejectHandler =
        std::function<void(const std::string& reason, const Batch& batch, std::size_t row)>;

    /// kNotFound for a key or event-time column the plan lacks; kInvalidArgument when `key`
    /// does not list one column per entity.
    static Result<std::unique_ptr<OnlineSink>> create(FeatureWriter& writer,
                                                      const FeatureView& view, const Schema& schema,
                                                      const std::vector<std::string>& key,
                                                      const std::string& event_time,
                                                      RejectHandler on_reject);
    Status write(Batch batch) override;
    Status pre_commit(uint64_t commit_id) override;
    Status commit(uint64_t commit_id) override;
    void abort() override { ids_.aborted(); }
    uint64_t rows_written() const override { return rows_; }
    /// Rows written after pre_commit(id) are visible at once, like every row here, and made
    /// durable by the next pre_commit.
    bool overlaps_commits() const override { return true; }
    DeliveryGuarantee guarantee() const override { return DeliveryGuarantee::kIdempotent; }
    uint64_t rows_rejected() const { return rejected_; }

    /// The mapping create() uses, for `millrace validate` (no writer needed).
    static Result<UpsertColumns> map_columns(const FeatureView& view, const Schema& schema,
                                             const std::vector<std::string>& key,
                                             const std::string& event_time);

private:
    OnlineSink(FeatureWriter& writer, const FeatureView& view, UpsertColumns columns,
               RejectHandler on_reject);

    FeatureWriter& writer_;
    bool unflushed_ = false;  // rows written since the last pre_commit
    const FeatureView& view_;
    UpsertColumns columns_;
    RejectHandler on_reject_;
    uint64_t rows_ = 0;
    uint64_t rejected_ = 0;
    CommitIds ids_;
};

}  // namespace millrace
