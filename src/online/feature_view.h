#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/error.h"
#include "common/result.h"
#include "types/data_type.h"
#include "types/value.h"

namespace millrace {

struct FeatureViewSpec;
struct Project;

/// One feature of a view: a typed value with a default served when the row is missing,
/// expired, or the value is null.
struct FeatureSpec {
    std::string name;
    DataType type = DataType::kInt64;
    Value default_value;  // null when the YAML gives no default
    std::string description;
};

/// One entity key column ("user_id: int64").
struct EntityKey {
    std::string name;
    DataType type = DataType::kInt64;
};

/// Where a view's rows come from.
enum class FeatureSourceKind {
    kLake,      // `millrace materialize` loads the latest row per key (by event time)
    kPipeline,  // a pipeline's `online` sink upserts into it
};

/// A feature view (features/*.yaml, docs/architecture.md §6):
///
///   name: user_features
///   description: Per-user activity features for recommendations
///   owner: ml-platform
///   entities: { user_id: int64 }            # key columns, in order; or [user_id] (int64)
///   features:
///     clicks_30d: { type: int64, default: 0, description: Clicks in the last 30 days }
///     avg_viewed_price: { type: double, default: 0.0 }
///     segment: string                       # short form: type only, null default
///   ttl: 2d                                 # optional; rows older than this are expired
///   max_event_time_skew: 1h                 # optional (default 1d): rows whose event time is
///                                           # further ahead of the writer's clock are rejected
///   source:
///     lake: { table: user_features, event_time: computed_at }
///     # or: pipeline: user_activity          (its sink `online: {feature_view: ...}`)
///
/// Feature and key names are SQL names; types are the schema type names.
struct FeatureView {
    std::string name;
    std::string file;
    SourceLocation location;
    std::string description;
    std::string owner;
    std::vector<std::string> tags;  // for the catalog (`GET /v1/datasets?q=`)
    std::vector<EntityKey> entities;
    std::vector<FeatureSpec> features;
    std::optional<std::chrono::microseconds> ttl;
    /// How far a row's event time may be ahead of the writer's clock. Keep-newest would let a
    /// row from the future (a unit mix-up, 9999-12-31) pin its key until then, so such rows are
    /// rejected at every write (upsert API, materialize, online sinks) with a reason.
    std::chrono::microseconds max_event_time_skew = kDefaultMaxEventTimeSkew;
    static constexpr std::chrono::microseconds kDefaultMaxEventTimeSkew = std::chrono::hours(24);
    FeatureSourceKind source = FeatureSourceKind::kLake;
    std::string lake_table;  // kLake
    std::string event_time;  // kLake: a timestamp column of the table; "" = write time
    std::string pipeline;    // kPipeline

    /// Index of a feature by name, or -1.
    int feature_index(std::string_view feature) const;
    /// A fingerprint of the stored layout (entity and feature names and types, in order): the
    /// online store refuses rows written under another layout.
    std::string layout_fingerprint() const;
};

/// Reads one feature view document; kConfig/kParse errors with file:line:column are appended to
/// `errors` (all of them, not just the first). Returns nullopt when there were errors.
std::optional<FeatureView> parse_feature_view(const FeatureViewSpec& spec,
                                              std::vector<Error>& errors);

/// Every feature view of a project, or the first error (all errors in `all_errors`).
Result<std::vector<FeatureView>> load_feature_views(const Project& project,
                                                    std::vector<Error>* all_errors);

}  // namespace millrace
