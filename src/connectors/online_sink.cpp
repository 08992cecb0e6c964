#include "connectors/online_sink.h"

#include <fmt/format.h>

#include "connectors/feature_writer.h"
#include "types/batch.h"

namespace millrace {

Result<UpsertColumns> OnlineSink::map_columns(const FeatureView& view, const Schema& schema,
                                              const std::vector<std::string>& key,
                                              const std::string& event_time) {
    if (!key.empty() && key.size() != view.entities.size()) {
        std::vector<std::string> names;
        for (const EntityKey& entity : view.entities) names.push_back(entity.name);
        return Error(
            ErrorCode::kInvalidArgument,
            fmt::format("`key` lists {} column(s) but feature view `{}` has {} entity "
                        "key(s): [{}]",
                        key.size(), view.name, view.entities.size(), fmt::join(names, ", ")));
    }
    UpsertColumns out;
    for (std::size_t k = 0; k < view.entities.size(); ++k) {
        const std::string& name = key.empty() ? view.entities[k].name : key[k];
        std::optional<std::size_t> index = schema.index_of(name);
        if (!index) {
            return Error(ErrorCode::kNotFound,
                         fmt::format("the key column `{}` of feature view `{}` is not among the "
                                     "columns {}",
                                     name, view.name, schema.to_string()));
        }
        out.key_columns.push_back(static_cast<int>(*index));
    }
    bool any_feature = false;
    for (const FeatureSpec& feature : view.features) {
        std::optional<std::size_t> index = schema.index_of(feature.name);
        out.feature_columns.push_back(index ? static_cast<int>(*index) : -1);
        any_feature = any_feature || index.has_value();
    }
    if (!any_feature) {
        return Error(ErrorCode::kNotFound,
                     fmt::format("none of the features of feature view `{}` is among the "
                                 "columns {}; name the columns like the features",
                                 view.name, schema.to_string()));
    }
    if (!event_time.empty()) {
        std::optional<std::size_t> index = schema.index_of(event_time);
        if (!index) {
            return Error(ErrorCode::kNotFound,
                         fmt::format("the event_time column `{}` is not among the columns {}",
                                     event_time, schema.to_string()));
        }
        const DataType type = schema.field(*index).type;
        if (type != DataType::kTimestamp && type != DataType::kDate) {
            return Error(ErrorCode::kInvalidArgument,
                         fmt::format("the event_time column `{}` must be a timestamp or date, "
                                     "not {}",
                                     event_time, type_name(type)));
        }
        out.event_time_column = static_cast<int>(*index);
    }
    return out;
}

Result<std::unique_ptr<OnlineSink>> OnlineSink::create(
    FeatureWriter& writer, const FeatureView& view, const Schema& schema,
    const std::vector<std::string>& key, const std::string& event_time, RejectHandler on_reject) {
    MILLRACE_ASSIGN_OR_RETURN(UpsertColumns columns, map_columns(view, schema, key, event_time));
    return std::unique_ptr<OnlineSink>(
        new OnlineSink(writer, view, std::move(columns), std::move(on_reject)));
}

OnlineSink::OnlineSink(FeatureWriter& writer, const FeatureView& view, UpsertColumns columns,
                       RejectHandler on_reject)
    : writer_(writer),
      view_(view),
      columns_(std::move(columns)),
      on_reject_(std::move(on_reject)) {}

Status OnlineSink::write(Batch batch) {
    if (batch.num_rows() == 0) return {};
    unflushed_ = true;
    MILLRACE_ASSIGN_OR_RETURN(UpsertCounts counts, writer_.upsert(view_, batch, columns_));
    rows_ += static_cast<uint64_t>(counts.rows);
    rejected_ += static_cast<uint64_t>(counts.rejected);
    if (on_reject_) {
        for (const UpsertCounts::Reject& reject : counts.rejects) {
            on_reject_(reject.reason, batch, reject.row);
        }
    }
    return {};
}

Status OnlineSink::pre_commit(uint64_t commit_id) {
    MILLRACE_TRY(ids_.check_pre_commit(commit_id));
    // A checkpoint with no rows for this sink has nothing of it to make durable.
    if (unflushed_) MILLRACE_TRY(writer_.flush());
    unflushed_ = false;
    ids_.pre_committed(commit_id);
    return {};
}

Status OnlineSink::commit(uint64_t commit_id) {
    MILLRACE_ASSIGN_OR_RETURN(bool replay, ids_.check_commit(commit_id));
    if (!replay) ids_.committed(commit_id);
    return {};
}

}  // namespace millrace
