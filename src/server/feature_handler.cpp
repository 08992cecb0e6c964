#include "server/feature_handler.h"

#include "server/feature_serving.h"

namespace millrace {

/// The handler's state and routes (server/feature_serving.h).
class FeatureHandler::Impl : public serving::FeatureServing {
public:
    using FeatureServing::FeatureServing;
};

FeatureHandler::FeatureHandler(OnlineStore& store, ServingConfig config,
                               std::vector<FeatureRoute> routes, const Clock& clock,
                               MetricsRegistry& metrics, TrafficCapture* capture)
    : impl_(std::make_unique<Impl>(store, std::move(config), std::move(routes), clock, metrics,
                                   capture)) {}

FeatureHandler::~FeatureHandler() = default;

void FeatureHandler::add_routes(Router& router) { impl_->add_routes(router); }

}  // namespace millrace
