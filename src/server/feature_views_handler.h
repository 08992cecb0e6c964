#pragma once

#include <vector>

#include "server/router.h"

namespace millrace {

struct FeatureView;

/// The feature views the server holds, in the "admin" group (the dashboard's catalog of them):
///
///   GET /v1/features   {"feature_views": [{"name", "description", "owner", "entities":
///                      [{"name", "type"}], "features": [{"name", "type"}], "source":
///                      "lake"|"pipeline", "lake_table", "pipeline", "ttl_seconds"}]}
///
/// Threads: reads the views, which do not change while the server runs.
class FeatureViewsHandler {
public:
    /// `views` (the online store's) must outlive the handler.
    explicit FeatureViewsHandler(const std::vector<FeatureView>& views);
    void add_routes(Router& router);

    HttpResponse list() const;

private:
    const std::vector<FeatureView>& views_;
};

}  // namespace millrace
